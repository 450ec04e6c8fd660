"""Checkers for lesson 10's exercises: lesson 06's bootstrap on a Dask cluster.

Each checker recomputes the serial answer itself and compares it exactly: every bootstrap sample
draws from its own ``SeedSequence`` stream, so a distributed run that is right is identical to the
serial one, to the last digit. Evidence that the work ran on the cluster comes from Dask's own
records (the task stream, a scattered future), which a serial loop does not produce.
"""

import numpy as np
import pandas as pd
from distributed import Future

from helpers.checks import CheckFailed, passed, require
from helpers.distributed import task_counts
from helpers.panel import bootstrap_statistics, compute_ci, realized_quarticity, samples_to_statistics


def _check_ran_on_the_cluster(tasks):
    """``tasks`` (the records of Dask's task stream) must show bootstrap batches on several workers."""
    require(not hasattr(tasks, "data"), "wrong type: `tasks` is the task stream itself; store its records, "
                                        "`stream.data`, a list with one dict per task.")
    require(isinstance(tasks, list), f"wrong type: `tasks` should be the list of the task stream's records "
                                     f"(`stream.data`), got {type(tasks).__name__}.")
    n_tasks, n_workers = task_counts(tasks, samples_to_statistics)
    require(n_tasks > 0, "not on the cluster: the task stream recorded no bootstrap task. Were the tasks submitted to "
                         "the cluster's executor, inside the `with get_task_stream(client)` block?")
    require(n_workers > 1, f"not parallel: {n_tasks} bootstrap task(s), all run by one worker. Split the samples "
                           "into a few batches per thread of the cluster, so that every worker gets some.")


def check_cluster_quarticity(ci, tasks, returns, n_samples, seed):
    """Exercise 10.1: 99% intervals of the realized quarticity of ``returns`` from ``n_samples``
    bootstrap samples with ``seed``, computed on the cluster, identical to the serial run."""
    require(isinstance(ci, pd.DataFrame),
            f"wrong type: `ci_quarticity` should be the DataFrame of intervals get_ci returns, got {type(ci).__name__}.")
    _check_ran_on_the_cluster(tasks)
    expected = compute_ci(returns, n_samples, seed=seed, statistic=realized_quarticity)
    require(ci.index.equals(expected.index) and ci.columns.equals(expected.columns),
            f"wrong shape: expected a lower and an upper bound for each of {expected.shape[1] // 2} stocks on "
            f"{len(expected)} days; were the intervals computed from the exercise's returns?")
    if not ci.equals(expected):
        require(not ci.equals(compute_ci(returns, n_samples, seed=seed)),
                "wrong statistic: these are intervals of realized variance, not of realized quarticity. "
                "Check which statistic the tasks compute.")
        raise CheckFailed("not reproducible: the intervals differ from the serial run with the same seed and "
                          "number of samples. Check both, and that sample i draws from stream i of "
                          "SeedSequence(seed).spawn(n_samples), whichever batch it is in.")
    passed(f"realized quarticity intervals from {n_samples} samples, identical to the serial run, computed "
           "in batches on several workers of the cluster.")


def _row_keys(array):
    """One hashable key per sample (the bytes of its days x stocks matrix)."""
    return [np.ascontiguousarray(row).tobytes() for row in array]


def _diagnose_samples(stats, expected):
    """Raise the hint that says how ``stats`` differs from ``expected`` (same shape, not equal)."""
    position = {key: i for i, key in enumerate(_row_keys(expected))}
    found = [position.get(key) for key in _row_keys(stats)]
    missing_rows = [i for i, row in enumerate(stats) if np.isnan(row).all() or not row.any()]
    require(not missing_rows, f"samples missing: {len(missing_rows)} of the {len(stats)} rows of `stats` were "
                              "never filled (all zero or NaN). Does every batch's result reach `stats`?")
    keys = _row_keys(stats)
    require(len(set(keys)) == len(keys), "duplicate samples: several rows of `stats` hold the same bootstrap "
                                         "sample, so some batches drew with the same random streams. Every "
                                         "sample needs a stream of its own.")
    if None not in found:
        raise CheckFailed("wrong order: `stats` holds the right samples, but not at their indices (results "
                          "placed in the order the batches finished?). Put each batch's results at the "
                          "indices of the samples it was given.")
    raise CheckFailed("not reproducible: the samples differ from the serial bootstrap with the same seed. "
                      "Sample i must draw from stream i of SeedSequence(seed).spawn(n_samples), whichever "
                      "batch or worker computes it.")


def check_scattered_bootstrap(stats, on_workers, returns, n_samples, seed):
    """Exercise 10.2: realized variances of ``n_samples`` bootstrap samples of ``returns`` from
    ``seed``, computed in batches on the cluster from data scattered once, collected as they
    finish, each sample at its index."""
    require(isinstance(on_workers, Future),
            f"data not scattered: `on_workers` is a {type(on_workers).__name__}. It should be what "
            "`client.scatter` returns for the DataFrame: a Dask future that stands for the data already "
            "on the workers, which the tasks receive instead of the data.")
    require(isinstance(stats, np.ndarray),
            f"wrong type: `stats` should be a NumPy array (samples x days x stocks), got {type(stats).__name__}.")
    expected = bootstrap_statistics(returns, n_samples, seed=seed)
    require(stats.shape == expected.shape,
            f"wrong shape: `stats` should have shape {expected.shape} (samples, days, stocks), got {stats.shape}.")
    if not np.array_equal(stats, expected):
        _diagnose_samples(stats, expected)
    passed(f"all {n_samples} samples at their indices, identical to the serial bootstrap, "
           "from data sent to the workers once.")
