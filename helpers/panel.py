"""Lesson 06: realized variance of the intraday panel and its bootstrap confidence intervals.

Layout conventions (shared with :mod:`helpers.data` and lesson 07's :mod:`helpers.fast`):
returns are a wide DataFrame indexed by minute (``time``), one column per ticker; daily
statistics are indexed by ``date``; intervals have a column MultiIndex ``(ticker, bound)`` with
``bound`` in ``("lower", "upper")``.

Reproducibility: bootstrap sample ``i`` draws from its own stream,
``SeedSequence(seed).spawn(n_samples)[i]``. Which process computes it, in which batch and in which
order, therefore changes nothing: serial, pooled and distributed runs give identical intervals.
"""

from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

DEFAULT_SEED = 12345
LEVELS = (0.005, 0.995)  # a 99% interval


def day_labels(returns):
    """The calendar day of every row."""
    return returns.index.normalize().rename("date")


def compute_rv(returns):
    """Realized variance: the sum of squared intraday returns per day and stock.

    Missing returns count as nothing; a stock with no return at all on a day gets NaN."""
    return (returns**2).groupby(day_labels(returns)).sum(min_count=1)


def bootstrap_returns(returns, rng):
    """One bootstrap sample: each day's rows drawn with replacement from that day only.

    Whole rows are drawn, so the stocks keep their joint behaviour within a minute, and every
    day keeps its own number of rows."""
    return returns.groupby(day_labels(returns), group_keys=False).sample(frac=1, replace=True, random_state=rng)


def sample_to_statistic(returns, seed):
    """Realized variance (days x stocks array) of the bootstrap sample drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    return compute_rv(bootstrap_returns(returns, rng)).to_numpy()


def samples_to_statistics(returns, seeds):
    """Realized variances of one bootstrap sample per seed, stacked (samples x days x stocks).

    This is the job a pool runs: one batch of samples per task keeps the number of round trips,
    each of which pickles ``returns``, small."""
    return np.stack([sample_to_statistic(returns, seed) for seed in seeds])


def get_ci(stats, like):
    """99% percentile intervals from bootstrap statistics.

    ``stats`` is an array (samples x days x stocks); ``like`` is the statistic of the original
    data (days x stocks), which supplies the index and the tickers. Returns a DataFrame indexed
    by date with columns ``(ticker, "lower" | "upper")``.
    """
    stats = np.asarray(stats)
    if stats.ndim != 3 or stats.shape[1:] != like.shape:
        raise ValueError(f"stats must have shape (samples, {like.shape[0]}, {like.shape[1]}), got {stats.shape}")
    lower, upper = np.quantile(stats, LEVELS, axis=0)
    columns = pd.MultiIndex.from_product([like.columns, ["lower", "upper"]], names=["ticker", "bound"])
    values = np.stack([lower, upper], axis=-1).reshape(len(like), -1)
    return pd.DataFrame(values, index=like.index, columns=columns)


def _batches(seeds, batch_size):
    """Consecutive (start, seeds) batches of at most ``batch_size`` seeds."""
    return [(start, seeds[start:start + batch_size]) for start in range(0, len(seeds), batch_size)]


def _check_arguments(returns, n_samples):
    if returns.empty:
        raise ValueError("returns is empty: load a panel and compute intraday_log_returns first")
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive whole number, got {n_samples!r}")


def bootstrap_statistics(returns, n_samples, *, seed=DEFAULT_SEED, max_workers=1, executor=None,
                         batch_size=None, progress=False):
    """Realized variance of ``n_samples`` bootstrap samples (samples x days x stocks).

    Where the work runs:
    - ``executor`` given (any ``concurrent.futures.Executor``: a process pool, Dask's
      ``client.get_executor()``, ...): there; it is left open for the caller.
    - else ``max_workers`` > 1: a new ``ProcessPoolExecutor`` of that size, closed at the end.
    - else: in this process, one sample after another.
    Samples travel in batches of ``batch_size`` (default: four batches per worker), and each
    result is stored at its sample's index, so completion order does not matter.
    """
    _check_arguments(returns, n_samples)
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    if executor is None and max_workers in (None, 1):
        return samples_to_statistics(returns, tqdm(seeds, disable=not progress))
    if executor is None:
        with ProcessPoolExecutor(max_workers=max_workers) as pool:
            return bootstrap_statistics(returns, n_samples, seed=seed, executor=pool, batch_size=batch_size,
                                        progress=progress)
    workers = max_workers or 2
    batch_size = batch_size or max(1, -(-n_samples // (4 * workers)))
    stats = np.empty((n_samples, *compute_rv(returns).shape))
    futures = {executor.submit(samples_to_statistics, returns, batch): start
               for start, batch in _batches(seeds, batch_size)}
    with tqdm(total=n_samples, disable=not progress, desc="bootstrap samples") as bar:
        for future in as_completed(futures):
            batch = future.result()
            stats[futures[future]:futures[future] + len(batch)] = batch
            bar.update(len(batch))
    return stats


def compute_ci(returns, n_samples, *, seed=DEFAULT_SEED, max_workers=1, executor=None, batch_size=None,
               progress=False):
    """99% bootstrap intervals of daily realized variance per stock; see
    :func:`bootstrap_statistics` for where the work runs. Same seed, same intervals."""
    stats = bootstrap_statistics(returns, n_samples, seed=seed, max_workers=max_workers, executor=executor,
                                 batch_size=batch_size, progress=progress)
    return get_ci(stats, like=compute_rv(returns))


def compute_ci_chunked(returns, n_samples, **options):
    """:func:`compute_ci` one stock at a time: the same intervals with a fraction of the memory.

    All bootstrap statistics must be held until their quantiles are taken: samples x days x
    stocks numbers. One stock at a time needs only samples x days at once, however many stocks
    the panel has. The intervals are identical to :func:`compute_ci`'s, because a sample's draws
    depend only on its seed and on the days' lengths, not on the columns.
    """
    _check_arguments(returns, n_samples)
    return pd.concat([compute_ci(returns[[ticker]], n_samples, **options) for ticker in returns.columns], axis=1)


def statistics_nbytes(returns, n_samples):
    """Bytes the bootstrap statistics of ``returns`` take in memory (float64)."""
    return n_samples * compute_rv(returns).size * np.dtype(float).itemsize
