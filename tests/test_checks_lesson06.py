"""Lesson 06's checkers, under fork and spawn: the worked solutions pass, and each kind of wrong
answer gets its own hint (serial, hard-coded, fabricated, empty, wrongly shaped, a shared seed or
generator, streams shared between seeds, arrival order, a function or statistic defined in the
notebook, the course's helper doing the pool work, the wrong statistic, wrong intervals)."""
import multiprocessing
import sys
from concurrent.futures import as_completed
from functools import partial

import numpy as np
import pytest

from helpers import data
from helpers.checks import CheckFailed
from helpers.checks.lesson06 import check_independent_hits, check_quarticity_bootstrap
from helpers.panel import (bootstrap_statistics, compute_ci, compute_rv, default_batch_size, executor_worker_count,
                           get_ci, realized_quarticity, run_batches, samples_to_statistics)
from helpers.streams import quarter_circle_hits


from checking import context  # noqa: F401 (a fixture: under fork and spawn)


def under_fork_and_spawn(cases, also_under_spawn):
    """Every (answer, hint) case under fork; under spawn too the answers named in
    ``also_under_spawn``, those whose fate the start method could change (what travels to a
    worker, and how), so that the tests stay quick."""
    params = [pytest.param("fork", answer, hint, id=f"fork-{getattr(answer, '__name__', answer)}")
              for answer, hint in cases]
    return params + [pytest.param("spawn", answer, hint, id=f"spawn-{answer.__name__}")
                     for answer, hint in cases if getattr(answer, "__name__", None) in also_under_spawn]


def in_main(function):
    """``function`` as if defined in a notebook: it lives in ``__main__``, where a fork worker
    finds it and a spawn worker does not."""
    function.__module__ = "__main__"
    function.__qualname__ = function.__name__
    setattr(sys.modules["__main__"], function.__name__, function)
    return function


# --------------------------------------------------------------------------------------------
# Exercise 6.1: count_hits(executor, seed, n_tasks, n_points)


def count_hits(executor, seed, n_tasks, n_points):
    """The worked solution, as in the notebook."""
    task_seeds = np.random.SeedSequence(seed).spawn(n_tasks)
    return list(executor.map(quarter_circle_hits, task_seeds, [n_points] * n_tasks))


def submit_in_order(executor, seed, n_tasks, n_points):
    futures = [executor.submit(quarter_circle_hits, child, n_points)
               for child in np.random.SeedSequence(seed).spawn(n_tasks)]
    return [future.result() for future in futures]


def spawned_generators(executor, seed, n_tasks, n_points):
    generators = np.random.default_rng(seed).spawn(n_tasks)  # children of a generator: streams of their own
    return list(executor.map(quarter_circle_hits, generators, [n_points] * n_tasks))


def serial_hits(executor, seed, n_tasks, n_points):
    return [quarter_circle_hits(child, n_points) for child in np.random.SeedSequence(seed).spawn(n_tasks)]


def typed_in(executor, seed, n_tasks, n_points):
    return [78470, 78578, 78447, 78539]


def typed_in_five(executor, seed, n_tasks, n_points):
    return [15700, 15690, 15710, 15720, 15680]


def not_taken(executor, seed, n_tasks, n_points):
    children = np.random.SeedSequence(seed).spawn(n_tasks)
    for child in children:
        executor.submit(quarter_circle_hits, child, n_points)
    return [quarter_circle_hits(child, n_points) for child in children]  # computed here, not by the tasks


def other_values(executor, seed, n_tasks, n_points):
    children = np.random.SeedSequence(seed).spawn(n_tasks)
    list(executor.map(quarter_circle_hits, children, [n_points] * n_tasks))
    return [quarter_circle_hits(child, n_points) for child in np.random.SeedSequence(seed + 99).spawn(n_tasks)]


def nothing(executor, seed, n_tasks, n_points):
    return []


def futures_returned(executor, seed, n_tasks, n_points):
    return [executor.submit(quarter_circle_hits, child, n_points)
            for child in np.random.SeedSequence(seed).spawn(n_tasks)]


def one_generator(executor, seed, n_tasks, n_points):
    rng = np.random.default_rng(seed)
    return list(executor.map(quarter_circle_hits, [rng] * n_tasks, [n_points] * n_tasks))


def one_seed(executor, seed, n_tasks, n_points):
    return list(executor.map(quarter_circle_hits, [seed] * n_tasks, [n_points] * n_tasks))


def as_they_finish(executor, seed, n_tasks, n_points):
    futures = [executor.submit(quarter_circle_hits, child, n_points)
               for child in np.random.SeedSequence(seed).spawn(n_tasks)]
    return [future.result() for future in as_completed(futures)]


def fixed_seed(executor, seed, n_tasks, n_points):
    return count_hits(executor, 2024, n_tasks, n_points)


def seed_plus_task(executor, seed, n_tasks, n_points):
    return list(executor.map(quarter_circle_hits, [seed + i for i in range(n_tasks)], [n_points] * n_tasks))


def fresh_entropy(executor, seed, n_tasks, n_points):
    return list(executor.map(quarter_circle_hits, np.random.SeedSequence().spawn(n_tasks), [n_points] * n_tasks))


def fixed_points(executor, seed, n_tasks, n_points):
    return count_hits(executor, seed, n_tasks, 100_000)


def wrong_signature(executor, seed):
    return count_hits(executor, seed, 4, 100_000)


def partial_points(executor, seed, n_tasks, n_points):
    return list(executor.map(partial(quarter_circle_hits, n_points=n_points), np.random.SeedSequence(seed).spawn(n_tasks)))


def lazy_counts(executor, seed, n_tasks, n_points):
    return (count for count in count_hits(executor, seed, n_tasks, n_points))  # taken only as the checker reads


def counts_by_task(executor, seed, n_tasks, n_points):
    return dict(enumerate(count_hits(executor, seed, n_tasks, n_points)))


def one_big_task(executor, seed, n_tasks, n_points):
    return [executor.submit(quarter_circle_hits, np.random.SeedSequence(seed), n_tasks * n_points).result()]


@in_main
def hits_of(child):
    return quarter_circle_hits(child, 20_000)


def notebook_function(executor, seed, n_tasks, n_points):
    return list(executor.map(hits_of, np.random.SeedSequence(seed).spawn(n_tasks)))


def a_lambda(executor, seed, n_tasks, n_points):
    children = np.random.SeedSequence(seed).spawn(n_tasks)
    return list(executor.map(lambda child: quarter_circle_hits(child, n_points), children))


@pytest.mark.parametrize("answer", [count_hits, submit_in_order, spawned_generators, partial_points, lazy_counts])
def test_independent_hits_right_answers_pass(answer, context, capsys):
    check_independent_hits(answer, mp_context=context)
    assert capsys.readouterr().out.startswith("Correct: 5 tasks ran in the pool's worker processes")


WRONG_HITS = [
    (None, "Pass your function itself"),
    (wrong_signature, "parameters"),
    (serial_hits, "Not parallel"),
    (typed_in, "Wrong length"),
    (typed_in_five, "Not parallel"),
    (not_taken, "not the ones your tasks computed"),
    (other_values, "not the ones your tasks computed"),
    (nothing, "Wrong length"),
    (futures_returned, "Wrong type"),
    (counts_by_task, "Wrong type"),
    (one_big_task, "Wrong length"),
    (one_generator, "same points"),
    (one_seed, "same points"),
    (as_they_finish, "wrong order"),
    (fixed_seed, "do not change with seed"),
    (seed_plus_task, "share streams"),
    (fresh_entropy, "Not reproducible"),
    (fixed_points, "n_points"),
    (notebook_function, "defined in the notebook"),
    (a_lambda, "defined in the notebook"),
]


@pytest.mark.parametrize("method, answer, hint", under_fork_and_spawn(WRONG_HITS, {
    "serial_hits", "not_taken", "one_generator", "as_they_finish", "seed_plus_task", "notebook_function", "a_lambda"}))
def test_independent_hits_wrong_answers_get_their_hint(method, answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_independent_hits(answer, mp_context=multiprocessing.get_context(method))


# --------------------------------------------------------------------------------------------
# Exercise 6.2: bootstrap_quarticity(returns, n_samples, seed, executor), and ci_quarticity


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A data folder with CSCO and BA over the first days of January 2007 (the checker reads its
    own `small` from there)."""
    target = tmp_path_factory.mktemp("data")
    data.write_panel(data.simulate_panel(2007, tickers=("CSCO", "BA"), days=data.trading_days_2007()[:3]).prices,
                     target)
    return target


@pytest.fixture(scope="module")
def small(folder):
    return data.intraday_log_returns(data.load_prices(folder, tickers=["CSCO", "BA"])).loc["2007-01"]


@pytest.fixture(scope="module")
def right_ci(small):
    return compute_ci(small, 1000, seed=6, statistic=realized_quarticity)


def batches_of(seeds, size):
    return [seeds[start:start + size] for start in range(0, len(seeds), size)]


def bootstrap_quarticity(returns, n_samples, seed, executor):
    """The worked solution, as in the notebook."""
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    size = default_batch_size(n_samples, executor_worker_count(executor))
    futures = [executor.submit(samples_to_statistics, returns, batch, realized_quarticity)
               for batch in batches_of(seeds, size)]
    return np.concatenate([future.result() for future in futures])


def fixed_batches(returns, n_samples, seed, executor):
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    futures = [executor.submit(samples_to_statistics, returns, batch, realized_quarticity)
               for batch in batches_of(seeds, 5)]
    return np.concatenate([future.result() for future in futures])


def mapped_batches(returns, n_samples, seed, executor):
    batches = batches_of(np.random.SeedSequence(seed).spawn(n_samples), 4)
    return np.concatenate(list(executor.map(samples_to_statistics, [returns] * len(batches), batches,
                                            [realized_quarticity] * len(batches))))


def helper_one_liner(returns, n_samples, seed, executor):
    return bootstrap_statistics(returns, n_samples, seed=seed, executor=executor, statistic=realized_quarticity)


def helper_run_batches(returns, n_samples, seed, executor):
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    return run_batches(executor, samples_to_statistics, seeds, realized_quarticity(returns).shape, 4,
                       returns=returns, statistic=realized_quarticity)


class PassingOn:
    """A wrapper of an executor written in the notebook: the submissions come from its code."""

    def __init__(self, executor):
        self.executor = executor

    def submit(self, *args, **kwargs):
        return self.executor.submit(*args, **kwargs)


def helper_through_a_wrapper(returns, n_samples, seed, executor):
    return bootstrap_statistics(returns, n_samples, seed=seed, executor=PassingOn(executor), batch_size=4,
                                statistic=realized_quarticity)


def run_batches_through_a_wrapper(returns, n_samples, seed, executor):
    return helper_run_batches(returns, n_samples, seed, PassingOn(executor))


def statistic_bound_in_a_partial(returns, n_samples, seed, executor):
    task = partial(samples_to_statistics, statistic=realized_quarticity)  # a module's function: fine
    futures = [executor.submit(task, returns, batch)
               for batch in batches_of(np.random.SeedSequence(seed).spawn(n_samples), 6)]
    return np.concatenate([future.result() for future in futures])


def not_filled(returns, n_samples, seed, executor):
    bootstrap_quarticity(returns, n_samples, seed, executor)
    return np.full((n_samples, *realized_quarticity(returns).shape), np.nan)


def serial_loop(returns, n_samples, seed, executor):
    return samples_to_statistics(returns, np.random.SeedSequence(seed).spawn(n_samples), realized_quarticity)


def one_task(returns, n_samples, seed, executor):
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    return executor.submit(samples_to_statistics, returns, seeds, realized_quarticity).result()


def one_task_per_sample(returns, n_samples, seed, executor):
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    futures = [executor.submit(samples_to_statistics, returns, [one], realized_quarticity) for one in seeds]
    return np.concatenate([future.result() for future in futures])


@in_main
def quarticity_of_my_own(returns):
    return realized_quarticity(returns)


def statistic_from_the_notebook(returns, n_samples, seed, executor):
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    futures = [executor.submit(samples_to_statistics, returns, batch, quarticity_of_my_own)
               for batch in batches_of(seeds, 6)]
    return np.concatenate([future.result() for future in futures])


def statistic_in_a_partial(returns, n_samples, seed, executor):
    task = partial(samples_to_statistics, statistic=quarticity_of_my_own)
    batches = batches_of(np.random.SeedSequence(seed).spawn(n_samples), 6)
    futures = [executor.submit(task, returns, batch) for batch in batches]
    return np.concatenate([future.result() for future in futures])


def statistic_as_a_lambda(returns, n_samples, seed, executor):
    futures = [executor.submit(samples_to_statistics, returns, batch, lambda r: realized_quarticity(r))
               for batch in batches_of(np.random.SeedSequence(seed).spawn(n_samples), 6)]
    return np.concatenate([future.result() for future in futures])


def realized_variance_instead(returns, n_samples, seed, executor):
    futures = [executor.submit(samples_to_statistics, returns, batch)
               for batch in batches_of(np.random.SeedSequence(seed).spawn(n_samples), 6)]
    return np.concatenate([future.result() for future in futures])


def shared_generator(returns, n_samples, seed, executor):
    rng = np.random.default_rng(seed)  # default_rng(rng) hands back rng itself, state and all
    futures = [executor.submit(samples_to_statistics, returns, [rng] * len(batch), realized_quarticity)
               for batch in batches_of(range(n_samples), 6)]
    return np.concatenate([future.result() for future in futures])


def same_streams_in_every_batch(returns, n_samples, seed, executor):
    futures = [executor.submit(samples_to_statistics, returns, np.random.SeedSequence(seed).spawn(len(batch)),
                               realized_quarticity) for batch in batches_of(range(n_samples), 6)]
    return np.concatenate([future.result() for future in futures])


def arrival_order(returns, n_samples, seed, executor):
    futures = [executor.submit(samples_to_statistics, returns, batch, realized_quarticity)
               for batch in batches_of(np.random.SeedSequence(seed).spawn(n_samples), 6)]
    return np.concatenate([future.result() for future in as_completed(futures)])


def integer_seeds(returns, n_samples, seed, executor):
    futures = [executor.submit(samples_to_statistics, returns, batch, realized_quarticity)
               for batch in batches_of([seed + i for i in range(n_samples)], 6)]
    return np.concatenate([future.result() for future in futures])


def computed_here(returns, n_samples, seed, executor):
    """Sends the variances to the workers, then returns quarticities computed in this process."""
    realized_variance_instead(returns, n_samples, seed, executor)
    return serial_loop(returns, n_samples, seed, executor)


def averaged(returns, n_samples, seed, executor):
    return bootstrap_quarticity(returns, n_samples, seed, executor).mean(axis=0)


def empty(returns, n_samples, seed, executor):
    bootstrap_quarticity(returns, n_samples, seed, executor)
    return np.empty((0, *realized_quarticity(returns).shape))


def the_futures(returns, n_samples, seed, executor):
    return [executor.submit(samples_to_statistics, returns, batch, realized_quarticity)
            for batch in batches_of(np.random.SeedSequence(seed).spawn(n_samples), 6)]


def no_executor(returns, n_samples, seed):
    return serial_loop(returns, n_samples, seed, None)


@pytest.mark.parametrize("answer", [bootstrap_quarticity, fixed_batches, mapped_batches, statistic_bound_in_a_partial])
def test_quarticity_right_answers_pass(answer, right_ci, folder, context, capsys):
    check_quarticity_bootstrap(answer, right_ci, mp_context=context, data_folder=folder)
    out = capsys.readouterr().out
    assert out.startswith("Correct: your function sent") and "it equals the serial bootstrap exactly" in out


WRONG_BOOTSTRAPS = [
    (None, "Pass your function itself"),
    (no_executor, "parameters"),
    (helper_one_liner, "do the pool work"),
    (helper_run_batches, "do the pool work"),
    (helper_through_a_wrapper, "helpers.panel.bootstrap_statistics do the pool work"),
    (run_batches_through_a_wrapper, "helpers.panel.run_batches do the pool work"),
    (not_filled, "NaN"),
    (serial_loop, "Not parallel"),
    (one_task, "Only one task"),
    (one_task_per_sample, "One task per sample"),
    (statistic_from_the_notebook, "defined in the notebook"),
    (statistic_in_a_partial, "defined in the notebook"),
    (statistic_as_a_lambda, "defined in the notebook"),
    (realized_variance_instead, "Wrong statistic"),
    (shared_generator, "same stream"),
    (same_streams_in_every_batch, "same stream"),
    (arrival_order, "wrong order"),
    (integer_seeds, "Not the serial result"),
    (computed_here, "not made of what your tasks computed"),
    (averaged, "Wrong shape"),
    (empty, "Wrong shape"),
    (the_futures, "Wrong type"),
]


@pytest.mark.parametrize("method, answer, hint", under_fork_and_spawn(WRONG_BOOTSTRAPS, {
    "helper_one_liner", "serial_loop", "statistic_from_the_notebook", "statistic_in_a_partial", "statistic_as_a_lambda",
    "shared_generator", "arrival_order", "computed_here"}))
def test_quarticity_wrong_answers_get_their_hint(method, answer, hint, right_ci, folder):
    with pytest.raises(CheckFailed, match=hint):
        check_quarticity_bootstrap(answer, right_ci, mp_context=multiprocessing.get_context(method), data_folder=folder)


def test_wrong_intervals_get_their_hint(small, right_ci, folder):
    variance_ci = compute_ci(small, 50, seed=6)
    a_bit_off = right_ci * 1.001
    swapped = right_ci.copy()
    swapped.loc[:, (slice(None), "lower")], swapped.loc[:, (slice(None), "upper")] = (
        right_ci.xs("upper", axis=1, level="bound").to_numpy(), right_ci.xs("lower", axis=1, level="bound").to_numpy())
    for ci, hint in [(None, "Wrong type"), (right_ci[["CSCO"]], "days of small as index"),
                     (right_ci.iloc[:-1], "days of small as index"), (swapped, "lower bound"),
                     (variance_ci, "realized variance"), (a_bit_off, "is not the 99% intervals")]:
        with pytest.raises(CheckFailed, match=hint):
            check_quarticity_bootstrap(bootstrap_quarticity, ci, data_folder=folder)


def test_the_checkers_inputs_are_their_own(small):
    """The intervals the check expects are those of the data folder's January, from 1000 samples
    with seed 6, and unlike the variance's (so the scale test is sound)."""
    like = realized_quarticity(small)
    assert np.nanmedian(get_ci(bootstrap_statistics(small, 30, seed=6, statistic=realized_quarticity), like)
                        .to_numpy()) / np.nanmedian(compute_rv(small).to_numpy()) < 0.1
