"""Lesson 06's checkers: the worked solutions pass, and typical wrong answers (a shared
generator, arrival order, a serial loop, one task, a notebook function, the wrong statistic, the
wrong seeds) each get their matching hint."""
import copy
from concurrent.futures import as_completed

import numpy as np
import pytest

from helpers.checks import CheckFailed
from helpers.checks.lesson06 import check_independent_hits, check_quarticity_bootstrap
from helpers.panel import default_batch_size, executor_worker_count, realized_quarticity, samples_to_statistics
from helpers.streams import quarter_circle_hits

N_POINTS = 100_000


def hits_from(seeds, n_points=N_POINTS):
    return [quarter_circle_hits(seed, n_points) for seed in seeds]


def test_independent_hits_solution_passes(capsys):
    check_independent_hits(hits_from(np.random.SeedSequence(2024).spawn(4)))
    assert capsys.readouterr().out.startswith("Correct:")


@pytest.mark.parametrize("answer, hint", [
    (lambda: hits_from(np.random.SeedSequence(2024).spawn(4))[:3], "length"),
    (lambda: 12345, "type"),
    # one generator passed to every task: each task receives a copy with the same state
    (lambda: [quarter_circle_hits(copy.deepcopy(np.random.default_rng(2024)), N_POINTS) for _ in range(4)],
     "same points"),
    (lambda: hits_from([np.random.SeedSequence(2024)] * 4), "same points"),
    (lambda: hits_from(np.random.SeedSequence(2024).spawn(4))[::-1], "wrong order"),
    (lambda: hits_from(np.random.SeedSequence(2025).spawn(4)), "Not reproducible"),
    (lambda: hits_from(range(4)), "Not reproducible"),
    (lambda: hits_from(np.random.SeedSequence(2024).spawn(4), n_points=10_000), "Wrong value"),
])
def test_independent_hits_wrong_answers_get_their_hint(answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_independent_hits(answer())


def batches_of(seeds, size=10):
    return [seeds[start:start + size] for start in range(0, len(seeds), size)]


def solution(returns, n_samples, seed, executor):
    """The worked solution of exercise 6.2, as in the notebook."""
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    size = default_batch_size(n_samples, executor_worker_count(executor))
    futures = [executor.submit(samples_to_statistics, returns, batch, realized_quarticity)
               for batch in batches_of(seeds, size)]
    return np.concatenate([future.result() for future in futures])


def fixed_batches(returns, n_samples, seed, executor):
    """Another right answer: batches of 10 samples, whatever the executor."""
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    futures = [executor.submit(samples_to_statistics, returns, batch, realized_quarticity)
               for batch in batches_of(seeds)]
    return np.concatenate([future.result() for future in futures])


def serial_loop(returns, n_samples, seed, executor):
    return samples_to_statistics(returns, np.random.SeedSequence(seed).spawn(n_samples), realized_quarticity)


def one_task(returns, n_samples, seed, executor):
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    return executor.submit(samples_to_statistics, returns, seeds, realized_quarticity).result()


def notebook_function(returns, batch):
    return samples_to_statistics(returns, batch, realized_quarticity)


notebook_function.__module__ = "__main__"  # as if defined in a notebook cell


def submits_a_notebook_function(returns, n_samples, seed, executor):
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    return np.concatenate([f.result() for f in [executor.submit(notebook_function, returns, batch)
                                                for batch in batches_of(seeds)]])


def realized_variance_instead(returns, n_samples, seed, executor):
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    return np.concatenate([f.result() for f in [executor.submit(samples_to_statistics, returns, batch)
                                                for batch in batches_of(seeds)]])


def shared_generator(returns, n_samples, seed, executor):
    rng = np.random.default_rng(seed)  # default_rng(rng) hands back rng itself, state and all
    futures = [executor.submit(samples_to_statistics, returns, [rng] * len(batch), realized_quarticity)
               for batch in batches_of(range(n_samples))]
    return np.concatenate([future.result() for future in futures])


def same_streams_in_every_batch(returns, n_samples, seed, executor):
    futures = [executor.submit(samples_to_statistics, returns, np.random.SeedSequence(seed).spawn(len(batch)),
                               realized_quarticity) for batch in batches_of(range(n_samples))]
    return np.concatenate([future.result() for future in futures])


def arrival_order(returns, n_samples, seed, executor):
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    futures = [executor.submit(samples_to_statistics, returns, batch, realized_quarticity)
               for batch in batches_of(seeds)]
    return np.concatenate([future.result() for future in as_completed(futures)])


def integer_seeds(returns, n_samples, seed, executor):
    futures = [executor.submit(samples_to_statistics, returns, batch, realized_quarticity)
               for batch in batches_of([seed + i for i in range(n_samples)])]
    return np.concatenate([future.result() for future in futures])


def averaged(returns, n_samples, seed, executor):
    return solution(returns, n_samples, seed, executor).mean(axis=0)


@pytest.mark.parametrize("answer", [solution, fixed_batches])
def test_quarticity_solutions_pass(answer, capsys):
    check_quarticity_bootstrap(answer)
    assert "equals the serial one exactly" in capsys.readouterr().out


@pytest.mark.parametrize("answer, hint", [
    (None, "Wrong type"),
    (serial_loop, "Not parallel"),
    (one_task, "Only one task"),
    (submits_a_notebook_function, "defined in the notebook"),
    (realized_variance_instead, "Wrong statistic"),
    (shared_generator, "identical"),
    (same_streams_in_every_batch, "identical"),
    (arrival_order, "wrong order"),
    (integer_seeds, "Not reproducible"),
    (averaged, "Wrong shape"),
])
def test_quarticity_wrong_answers_get_their_hint(answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_quarticity_bootstrap(answer)
