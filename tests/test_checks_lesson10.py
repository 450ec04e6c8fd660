"""Lesson 10's checkers: the worked solutions pass, on the fresh cluster each check starts, with the
cluster's workers started by ``spawn`` (Dask's default, whatever the notebook's start method) and by
``forkserver``; and every class of wrong answer gets the hint that names its mistake: serial,
hard-coded (even with the right values: the tests pin the seed each check otherwise draws anew),
computed in the notebook, decoy tasks beside a result made elsewhere, empty or wrongly shaped, and
the lesson's pitfalls (tasks left pure, whatever submitted them; batches counted without asking the
cluster or by its workers; data sent with every task or not to every worker; batches collected in
an order fixed in advance or stored in arrival order; array tasks that reseed, repeat the whole run
or return rows computed before they ran).

The checkers start a cluster per check; so that the many wrong answers stay quick to test, most
tests hand the checker a cluster shared by the module (a new recording client on it per check),
which changes nothing the checker looks at."""
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

import dask
import numpy as np
import pytest
from distributed import as_completed, wait

from helpers import panel
from helpers.checks import CheckFailed, lesson10
from helpers.distributed import local_cluster

# Dask's Nanny starts each worker with distributed.worker.multiprocessing-method. Not "fork": this
# process runs Dask's threads (the client's event loop, the cluster's), and a worker forked while one
# of them holds a lock can hang as it starts (seen here, under load, as a cluster that never came up).
METHODS = ["spawn", "forkserver"]


@contextmanager
def cluster_started_by(method, n_workers, threads_per_worker):
    """A local cluster whose workers are started with the multiprocessing ``method``."""
    with dask.config.set({"distributed.worker.multiprocessing-method": method}):
        with local_cluster(n_workers, threads_per_worker) as cluster:
            yield cluster


@pytest.fixture(scope="module", params=METHODS)
def shared_clusters(request):
    """One cluster per shape the checkers use, kept for the module: {(workers, threads): cluster}."""
    shapes = (lesson10.QUARTICITY_CLUSTER, lesson10.SCATTER_CLUSTER)
    with cluster_started_by(request.param, *shapes[0]) as first, \
            cluster_started_by(request.param, *shapes[1]) as second:
        yield dict(zip(shapes, (first, second)))


@pytest.fixture
def check_on_shared(shared_clusters, monkeypatch):
    """Make the checkers use the module's clusters, with a new recording client per check."""
    @contextmanager
    def fresh_client(n_workers, threads_per_worker):
        with lesson10.RecordingClient(shared_clusters[n_workers, threads_per_worker]) as client:
            yield client
    monkeypatch.setattr(lesson10, "fresh_cluster", fresh_client)


def fails_with(check, answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check(answer)


# The seeds the tests pin (each check otherwise draws its own), so that answers with the right
# values typed in can be written, and shown to fail on the evidence alone.
QUARTICITY_SEED, SCATTER_SEED, STRIDED_SEED = 11, 13, 17


@pytest.fixture
def pinned_seeds(monkeypatch):
    def pin(seed):
        monkeypatch.setattr(lesson10, "checker_seed", lambda: seed)
    return pin


# --------------------------------------------------------------------------------------------
# Exercise 10.1: answers


def cluster_quarticity(client, returns, n_samples, seed):
    """The worked solution."""
    return panel.compute_ci(returns, n_samples, seed=seed, statistic=panel.realized_quarticity,
                            executor=client.get_executor(pure=False))


def own_batches(client, returns, n_samples, seed):
    """Exercise 6.2's batching, written out, on the client's executor: also right."""
    executor = client.get_executor(pure=False)
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    size = panel.default_batch_size(n_samples, panel.executor_worker_count(executor))
    futures = [executor.submit(panel.samples_to_statistics, returns, seeds[start:start + size],
                               panel.realized_quarticity) for start in range(0, n_samples, size)]
    return panel.get_ci(np.concatenate([f.result() for f in futures]), like=panel.realized_quarticity(returns))


def left_pure(client, returns, n_samples, seed):
    return panel.compute_ci(returns, n_samples, seed=seed, statistic=panel.realized_quarticity,
                            executor=client.get_executor())


def serial_quarticity(client, returns, n_samples, seed):
    return panel.compute_ci(returns, n_samples, seed=seed, statistic=panel.realized_quarticity)


HARD_CODED = panel.compute_ci(lesson10.checker_returns(), lesson10.QUARTICITY_SAMPLES, seed=QUARTICITY_SEED,
                              statistic=panel.realized_quarticity)


def hard_coded_quarticity(client, returns, n_samples, seed):
    return HARD_CODED


def decoy_tasks(client, returns, n_samples, seed):
    """One task per thread on the cluster, and the intervals from elsewhere."""
    executor = client.get_executor(pure=False)
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    futures = [executor.submit(panel.samples_to_statistics, returns, seeds[i:i + 1], panel.realized_quarticity)
               for i in range(panel.executor_worker_count(executor))]
    [future.result() for future in futures]
    return HARD_CODED


def the_whole_run_in_every_task(client, returns, n_samples, seed):
    executor = client.get_executor(pure=False)
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    futures = [executor.submit(panel.samples_to_statistics, returns, seeds, panel.realized_quarticity)
               for _ in range(panel.executor_worker_count(executor))]
    return panel.get_ci([future.result() for future in futures][0], like=panel.realized_quarticity(returns))


def batches_of_ten(client, returns, n_samples, seed):
    return panel.compute_ci(returns, n_samples, seed=seed, statistic=panel.realized_quarticity,
                            executor=client.get_executor(pure=False), batch_size=10)


def batches_per_worker(client, returns, n_samples, seed):
    """Counts the cluster's workers, not its threads."""
    size = panel.default_batch_size(n_samples, len(client.nthreads()))
    return panel.compute_ci(returns, n_samples, seed=seed, statistic=panel.realized_quarticity,
                            executor=client.get_executor(pure=False), batch_size=size)


def _delayed_quarticity(returns, n_samples, seed, pure):
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    parts = [dask.delayed(panel.samples_to_statistics, pure=pure)(returns, seeds[i:i + 1], panel.realized_quarticity)
             for i in range(n_samples)]
    return panel.get_ci(np.concatenate(dask.compute(*parts)), like=panel.realized_quarticity(returns))


def delayed_pure(client, returns, n_samples, seed):
    return _delayed_quarticity(returns, n_samples, seed, pure=True)


def delayed_impure(client, returns, n_samples, seed):
    """dask.delayed(..., pure=False) on the client's cluster: also right."""
    return _delayed_quarticity(returns, n_samples, seed, pure=False)


def a_task_of_my_own(client, returns, n_samples, seed):
    """A function of the student's as the task (Dask sends it by value): also right."""
    def quarticity_batch(returns, seeds):
        return panel.samples_to_statistics(returns, seeds, panel.realized_quarticity)
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    futures = [client.submit(quarticity_batch, returns, seeds[i:i + 2], pure=False) for i in range(0, n_samples, 2)]
    return panel.get_ci(np.concatenate(client.gather(futures)), like=panel.realized_quarticity(returns))


def own_process_pool(client, returns, n_samples, seed):
    with ProcessPoolExecutor(2) as pool:
        return panel.compute_ci(returns, n_samples, seed=seed, statistic=panel.realized_quarticity, executor=pool)


def one_batch(client, returns, n_samples, seed):
    return panel.compute_ci(returns, n_samples, seed=seed, statistic=panel.realized_quarticity,
                            executor=client.get_executor(pure=False), batch_size=n_samples)


def two_batches(client, returns, n_samples, seed):
    return panel.compute_ci(returns, n_samples, seed=seed, statistic=panel.realized_quarticity,
                            executor=client.get_executor(pure=False), batch_size=n_samples // 2)


def realized_variance(client, returns, n_samples, seed):
    return panel.compute_ci(returns, n_samples, seed=seed, executor=client.get_executor(pure=False))


def another_seed(client, returns, n_samples, seed):
    return cluster_quarticity(client, returns, n_samples, seed + 1)


def statistics_not_intervals(client, returns, n_samples, seed):
    return panel.bootstrap_statistics(returns, n_samples, seed=seed, statistic=panel.realized_quarticity,
                                      executor=client.get_executor(pure=False))


def first_day_only(client, returns, n_samples, seed):
    return cluster_quarticity(client, returns, n_samples, seed).iloc[:1]


def nothing(client, returns, n_samples, seed):
    return None


def closes_the_client(client, returns, n_samples, seed):
    ci = cluster_quarticity(client, returns, n_samples, seed)
    client.close()
    return ci


def wrong_signature(client, returns, n_samples):
    return None


# Exercise 10.1: tests


@pytest.mark.parametrize("method", METHODS)
def test_the_worked_solution_passes_on_a_fresh_cluster(method, capsys):
    with dask.config.set({"distributed.worker.multiprocessing-method": method}):
        lesson10.check_cluster_quarticity(cluster_quarticity)
    assert capsys.readouterr().out.startswith("Correct: realized quarticity intervals identical to the serial run")


@pytest.mark.parametrize("answer", [own_batches, delayed_impure, a_task_of_my_own], ids=lambda f: f.__name__)
def test_other_right_answers_pass_too(check_on_shared, capsys, answer):
    lesson10.check_cluster_quarticity(answer)
    assert capsys.readouterr().out.startswith("Correct:")


@pytest.mark.parametrize("answer, hint", [
    (hard_coded_quarticity, "not on the cluster"),
    (decoy_tasks, "not all on the cluster: the cluster's tasks computed 10 of the 36 samples"),
], ids=lambda value: getattr(value, "__name__", None))
def test_the_right_values_typed_in_fail_on_the_evidence(check_on_shared, pinned_seeds, answer, hint):
    pinned_seeds(QUARTICITY_SEED)
    fails_with(lesson10.check_cluster_quarticity, answer, hint)


def computed_by_client_run(client, returns, n_samples, seed):
    """The workers compute the samples, but outside Dask's tasks (client.run runs a function in every worker)."""
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    halves = [seeds[:n_samples // 2], seeds[n_samples // 2:]]
    results = [client.run(panel.samples_to_statistics, returns, half, panel.realized_quarticity,
                          workers=[worker]) for half, worker in zip(halves, client.nthreads())]
    stats = np.concatenate([next(iter(result.values())) for result in results])
    return panel.get_ci(stats, like=panel.realized_quarticity(returns))


def test_the_right_values_of_another_check_are_not_this_ones(check_on_shared):
    def decoy_and_a_precomputed_run(client, returns, n_samples, seed):
        cluster_quarticity(client, returns, n_samples, seed)  # every sample computed on the cluster
        return HARD_CODED
    fails_with(lesson10.check_cluster_quarticity, decoy_and_a_precomputed_run, "not reproducible")


@pytest.mark.parametrize("answer, hint", [
    (left_pure, "submitted as pure"),
    (delayed_pure, "submitted as pure"),
    (serial_quarticity, "computed in the notebook"),
    (hard_coded_quarticity, "not on the cluster"),
    (own_process_pool, "not on the cluster"),
    (the_whole_run_in_every_task, "samples computed more than once"),
    (computed_by_client_run, "outside Dask's tasks"),
    (one_batch, "not every thread had work"),
    (two_batches, "not every thread had work"),
    (batches_of_ten, "not every thread had work: 4 task"),
    (batches_per_worker, "not every thread had work: 8 task"),
    (realized_variance, "wrong statistic"),
    (another_seed, "not reproducible"),
    (statistics_not_intervals, "wrong type"),
    (first_day_only, "wrong shape"),
    (nothing, "wrong type"),
    (closes_the_client, "Leave the client you are given open"),
    (wrong_signature, r"cluster_quarticity\(client, returns, n_samples, seed\)"),
    ("not a function", "Pass your function itself"),
], ids=lambda value: getattr(value, "__name__", None) if callable(value) else None)
def test_wrong_quarticity_answers_get_their_hint(check_on_shared, answer, hint):
    fails_with(lesson10.check_cluster_quarticity, answer, hint)


# --------------------------------------------------------------------------------------------
# Exercise 10.2: answers


def scattered_bootstrap(client, returns, n_samples, seed, batch_size):
    """The worked solution."""
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    stats = np.empty((n_samples, *panel.compute_rv(returns).shape))
    on_workers = client.scatter(returns, broadcast=True)
    first_sample = {client.submit(panel.samples_to_statistics, on_workers, seeds[start:start + batch_size], pure=False):
                    start for start in range(0, n_samples, batch_size)}
    for future in as_completed(first_sample):
        batch = future.result()
        stats[first_sample[future]:first_sample[future] + len(batch)] = batch
    return stats


def _batches(n_samples, seed, batch_size):
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    return [seeds[start:start + batch_size] for start in range(0, n_samples, batch_size)]


def with_results(client, returns, n_samples, seed, batch_size):
    """as_completed(..., with_results=True) and keyword arguments: also right."""
    on_workers = client.scatter(returns, broadcast=True)
    batches = _batches(n_samples, seed, batch_size)
    start = {client.submit(panel.samples_to_statistics, returns=on_workers, seeds=batch, pure=False): i * batch_size
             for i, batch in enumerate(batches)}
    stats = np.empty((n_samples, *panel.compute_rv(returns).shape))
    for future, batch in as_completed(start, with_results=True):
        stats[start[future]:start[future] + len(batch)] = batch
    return stats


def in_arrival_order(client, returns, n_samples, seed, batch_size):
    on_workers = client.scatter(returns, broadcast=True)
    futures = [client.submit(panel.samples_to_statistics, on_workers, batch, pure=False)
               for batch in _batches(n_samples, seed, batch_size)]
    return np.concatenate([future.result() for future in as_completed(futures)])


def gathered_in_submission_order(client, returns, n_samples, seed, batch_size):
    on_workers = client.scatter(returns, broadcast=True)
    batches = _batches(n_samples, seed, batch_size)
    futures = client.map(panel.samples_to_statistics, [on_workers] * len(batches), batches, pure=False)
    return np.concatenate(client.gather(futures))


def waited_in_submission_order(client, returns, n_samples, seed, batch_size):
    on_workers = client.scatter(returns, broadcast=True)
    futures = [client.submit(panel.samples_to_statistics, on_workers, batch, pure=False)
               for batch in _batches(n_samples, seed, batch_size)]
    return np.concatenate([future.result() for future in futures])


def not_broadcast(client, returns, n_samples, seed, batch_size):
    on_workers = client.scatter(returns)
    batches = _batches(n_samples, seed, batch_size)
    return np.concatenate(client.gather(client.map(panel.samples_to_statistics, [on_workers] * len(batches), batches,
                                                   pure=False)))


def sent_with_every_task(client, returns, n_samples, seed, batch_size):
    futures = [client.submit(panel.samples_to_statistics, returns, batch, pure=False)
               for batch in _batches(n_samples, seed, batch_size)]
    return np.concatenate(client.gather(futures))


def scattered_but_sent(client, returns, n_samples, seed, batch_size):
    client.scatter(returns, broadcast=True)
    return sent_with_every_task(client, returns, n_samples, seed, batch_size)


def scattered_per_batch(client, returns, n_samples, seed, batch_size):
    futures = [client.submit(panel.samples_to_statistics, client.scatter(returns, broadcast=True, hash=False), batch,
                             pure=False) for batch in _batches(n_samples, seed, batch_size)]
    return np.concatenate(client.gather(futures))


def scattered_a_list(client, returns, n_samples, seed, batch_size):
    on_workers = client.scatter([returns], broadcast=True)
    futures = [client.submit(panel.samples_to_statistics, on_workers, batch, pure=False)
               for batch in _batches(n_samples, seed, batch_size)]
    return np.concatenate(client.gather(futures))


def left_pure_scattered(client, returns, n_samples, seed, batch_size):
    on_workers = client.scatter(returns, broadcast=True)
    futures = {client.submit(panel.samples_to_statistics, on_workers, batch): i * batch_size
               for i, batch in enumerate(_batches(n_samples, seed, batch_size))}
    stats = np.empty((n_samples, *panel.compute_rv(returns).shape))
    for future in as_completed(futures):
        stats[futures[future]:futures[future] + batch_size] = future.result()
    return stats


def serial_statistics(client, returns, n_samples, seed, batch_size):
    return panel.bootstrap_statistics(returns, n_samples, seed=seed)


HARD_CODED_STATS = panel.bootstrap_statistics(lesson10.checker_returns(), lesson10.SCATTER_SAMPLES, seed=SCATTER_SEED)


def hard_coded_statistics(client, returns, n_samples, seed, batch_size):
    return HARD_CODED_STATS


def gathered_in_reverse(client, returns, n_samples, seed, batch_size):
    """An order fixed in advance that puts the first batch, held back longest, last."""
    on_workers = client.scatter(returns, broadcast=True)
    futures = [client.submit(panel.samples_to_statistics, on_workers, batch, pure=False)
               for batch in _batches(n_samples, seed, batch_size)]
    return np.concatenate(client.gather(futures[::-1])[::-1])


def waited_then_taken_in_reverse(client, returns, n_samples, seed, batch_size):
    on_workers = client.scatter(returns, broadcast=True)
    futures = [client.submit(panel.samples_to_statistics, on_workers, batch, pure=False)
               for batch in _batches(n_samples, seed, batch_size)]
    wait(futures)
    return np.concatenate([future.result() for future in futures[::-1]][::-1])


def polled_until_done(client, returns, n_samples, seed, batch_size):
    """Taking each batch once it is done, by polling: also right."""
    on_workers = client.scatter(returns, broadcast=True)
    start = {client.submit(panel.samples_to_statistics, on_workers, batch, pure=False): i * batch_size
             for i, batch in enumerate(_batches(n_samples, seed, batch_size))}
    stats, pending = np.empty((n_samples, *panel.compute_rv(returns).shape)), list(start)
    while pending:
        for future in [future for future in pending if future.done()]:
            batch = future.result()
            stats[start[future]:start[future] + len(batch)] = batch
            pending.remove(future)
        time.sleep(0.01)
    return stats


def decoy_scattered(client, returns, n_samples, seed, batch_size):
    """Everything done right on the cluster, and values from elsewhere returned."""
    scattered_bootstrap(client, returns, n_samples, seed, batch_size)
    return HARD_CODED_STATS


def one_big_batch(client, returns, n_samples, seed, batch_size):
    return scattered_bootstrap(client, returns, n_samples, seed, n_samples)


def the_same_seeds_in_every_batch(client, returns, n_samples, seed, batch_size):
    on_workers = client.scatter(returns, broadcast=True)
    seeds = np.random.SeedSequence(seed).spawn(batch_size)
    futures = [client.submit(panel.samples_to_statistics, on_workers, seeds, pure=False)
               for _ in range(n_samples // batch_size)]
    stats = np.empty((n_samples, *panel.compute_rv(returns).shape))
    for i, future in enumerate(futures):
        stats[i * batch_size:(i + 1) * batch_size] = future.result()
    return stats


def another_scatter_seed(client, returns, n_samples, seed, batch_size):
    return scattered_bootstrap(client, returns, n_samples, seed + 1, batch_size)


def last_batch_never_stored(client, returns, n_samples, seed, batch_size):
    stats = scattered_bootstrap(client, returns, n_samples, seed, batch_size)
    stats[-batch_size:] = 0
    return stats


def as_a_list(client, returns, n_samples, seed, batch_size):
    return list(scattered_bootstrap(client, returns, n_samples, seed, batch_size))


def one_sample_short(client, returns, n_samples, seed, batch_size):
    return scattered_bootstrap(client, returns, n_samples, seed, batch_size)[:-1]


def empty(client, returns, n_samples, seed, batch_size):
    return np.empty((0,))


def standard_library_as_completed(client, returns, n_samples, seed, batch_size):
    """The lesson's pitfall: concurrent.futures.as_completed cannot take Dask's futures."""
    import concurrent.futures
    on_workers = client.scatter(returns, broadcast=True)
    start = {client.submit(panel.samples_to_statistics, on_workers, batch, pure=False): i * batch_size
             for i, batch in enumerate(_batches(n_samples, seed, batch_size))}
    stats = np.empty((n_samples, *panel.compute_rv(returns).shape))
    for future in concurrent.futures.as_completed(start):
        stats[start[future]:start[future] + batch_size] = future.result()
    return stats


# Exercise 10.2: tests


@pytest.mark.parametrize("method", METHODS)
def test_the_scattered_solution_passes_on_a_fresh_cluster(method, capsys):
    with dask.config.set({"distributed.worker.multiprocessing-method": method}):
        lesson10.check_scattered_bootstrap(scattered_bootstrap)
    assert capsys.readouterr().out.startswith("Correct: all 12 samples at their indices")


@pytest.mark.parametrize("answer", [with_results, polled_until_done], ids=lambda f: f.__name__)
def test_other_ways_of_taking_batches_as_they_finish_pass_too(check_on_shared, capsys, answer):
    lesson10.check_scattered_bootstrap(answer)
    assert capsys.readouterr().out.startswith("Correct:")


def test_statistics_typed_in_fail_on_the_evidence(check_on_shared, pinned_seeds):
    pinned_seeds(SCATTER_SEED)
    fails_with(lesson10.check_scattered_bootstrap, hard_coded_statistics, "not on the cluster")


def test_the_right_statistics_of_another_check_are_not_this_ones(check_on_shared):
    fails_with(lesson10.check_scattered_bootstrap, decoy_scattered, "not reproducible")


@pytest.mark.parametrize("answer, hint", [
    (in_arrival_order, "wrong order"),
    (gathered_in_submission_order, "not collected as they finished: .* from sample 0 before"),
    (waited_in_submission_order, "not collected as they finished: .* from sample 0 before"),
    (gathered_in_reverse, "not collected as they finished: .* from sample 9 before"),
    (waited_then_taken_in_reverse, "not collected as they finished: .* from sample 9 before"),
    (not_broadcast, "reached only 1 of the 2 workers"),
    (sent_with_every_task, "data sent with every task"),
    (scattered_but_sent, "data sent with every task"),
    (scattered_per_batch, "scattered 4 times"),
    (scattered_a_list, "Your function raised AttributeError: 'list' object"),
    (left_pure_scattered, "submitted as pure"),
    (serial_statistics, "computed in the notebook"),
    (hard_coded_statistics, "not on the cluster"),
    (one_big_batch, "wrong batches"),
    (the_same_seeds_in_every_batch, "duplicate samples"),
    (another_scatter_seed, "not reproducible"),
    (last_batch_never_stored, "samples missing"),
    (as_a_list, "wrong type"),
    (one_sample_short, "wrong shape"),
    (empty, "wrong shape"),
    (standard_library_as_completed, "Dask's futures are not the standard library's"),
], ids=lambda value: getattr(value, "__name__", None))
def test_wrong_scattered_answers_get_their_hint(check_on_shared, answer, hint):
    fails_with(lesson10.check_scattered_bootstrap, answer, hint)


def test_instrumenting_twice_wraps_once_and_records_afresh(shared_clusters):
    """A shared cluster's workers are instrumented once per check: it must not pile up."""
    def wrapping_depth():  # local, so Dask sends it by value (importing this module in a worker would compute)
        function, depth = panel.samples_to_statistics, 0
        while hasattr(function, "__wrapped__"):
            function, depth = function.__wrapped__, depth + 1
        return depth

    with lesson10.RecordingClient(shared_clusters[lesson10.SCATTER_CLUSTER]) as client:
        seeds = np.random.SeedSequence(1).spawn(2)
        client.run(lesson10.instrument_workers, {0: 0.2})
        client.submit(panel.samples_to_statistics, lesson10.checker_returns(), seeds, pure=False).result()
        client.run(lesson10.instrument_workers)
        wrapped, calls = client.run(wrapping_depth), client.run(lesson10.recorded_calls)
        future = client.submit(panel.samples_to_statistics, lesson10.checker_returns(), seeds[1:], pure=False)
        future.result()
        after = [call for worker_calls in client.run(lesson10.recorded_calls).values() for call in worker_calls]
    assert set(wrapped.values()) == {1}
    assert all(worker_calls == [] for worker_calls in calls.values())
    assert [(call["key"], call["samples"]) for call in after] == [(future.key, [1])]


# --------------------------------------------------------------------------------------------
# Exercise 10.3


def strided_task(returns, index, tasks, n_samples, seed):
    """The worked solution."""
    return panel.samples_to_statistics(returns, np.random.SeedSequence(seed).spawn(n_samples)[index::tasks])


def reseeded_per_task(returns, index, tasks, n_samples, seed):
    share = len(range(index, n_samples, tasks))
    return panel.samples_to_statistics(returns, np.random.SeedSequence(seed + index).spawn(share))


def reseeded_from_the_next_seed(returns, index, tasks, n_samples, seed):
    share = len(range(index, n_samples, tasks))
    return panel.samples_to_statistics(returns, np.random.SeedSequence(seed + index + 1).spawn(share))


def first_streams_again(returns, index, tasks, n_samples, seed):
    share = len(range(index, n_samples, tasks))
    return panel.samples_to_statistics(returns, np.random.SeedSequence(seed).spawn(share))


def everything_then_slice(returns, index, tasks, n_samples, seed):
    return panel.bootstrap_statistics(returns, n_samples, seed=seed)[index::tasks]


def contiguous_block(returns, index, tasks, n_samples, seed):
    start, stop = index * n_samples // tasks, (index + 1) * n_samples // tasks
    return panel.samples_to_statistics(returns, np.random.SeedSequence(seed).spawn(n_samples)[start:stop])


def integer_seeds(returns, index, tasks, n_samples, seed):
    return panel.samples_to_statistics(returns, [seed + j for j in range(index, n_samples, tasks)])


def unseeded(returns, index, tasks, n_samples, seed):
    return panel.samples_to_statistics(returns, [None] * len(range(index, n_samples, tasks)))


def rows_reversed(returns, index, tasks, n_samples, seed):
    return strided_task(returns, index, tasks, n_samples, seed)[::-1]


STRIDED = panel.bootstrap_statistics(lesson10.checker_returns(), lesson10.STRIDED_SAMPLES, seed=STRIDED_SEED)


def hard_coded_rows(returns, index, tasks, n_samples, seed):
    return STRIDED[:len(range(index, n_samples, tasks))]


def the_right_rows_typed_in(returns, index, tasks, n_samples, seed):
    return STRIDED[index::tasks]


def on_a_pool_of_its_own(returns, index, tasks, n_samples, seed):
    """The draws happen in the pool's processes, not in the task's."""
    with ProcessPoolExecutor(1) as pool:
        seeds = np.random.SeedSequence(seed).spawn(n_samples)[index::tasks]
        return pool.submit(panel.samples_to_statistics, returns, seeds).result()


_RUNS = {}


def whole_run_on_a_pool_and_decoy_generators(returns, index, tasks, n_samples, seed):
    """The whole run computed once on a pool, and generators made from the task's own streams
    (drawing nothing) so that the task looks as if it had drawn its samples."""
    if (seed, n_samples) not in _RUNS:
        with ProcessPoolExecutor(1) as pool:
            _RUNS[seed, n_samples] = pool.submit(panel.bootstrap_statistics, returns, n_samples, seed=seed).result()
    for stream in np.random.SeedSequence(seed).spawn(n_samples)[index::tasks]:
        np.random.default_rng(stream)
    return _RUNS[seed, n_samples][index::tasks]


def no_rows(returns, index, tasks, n_samples, seed):
    return strided_task(returns, index, tasks, n_samples, seed)[:0]


def as_list(returns, index, tasks, n_samples, seed):
    return list(strided_task(returns, index, tasks, n_samples, seed))


def flattened(returns, index, tasks, n_samples, seed):
    return strided_task(returns, index, tasks, n_samples, seed).reshape(-1)


def one_row_missing(returns, index, tasks, n_samples, seed):
    return strided_task(returns, index, tasks, n_samples, seed)[1:]


def test_the_strided_solution_passes(capsys):
    lesson10.check_strided_task(strided_task)
    assert capsys.readouterr().out.startswith("Correct: each of the 4 array tasks computed exactly its own samples")


@pytest.mark.parametrize("answer, hint", [
    (reseeded_per_task, "which are not its own"),
    (reseeded_from_the_next_seed, "a stream of another seed"),
    (first_streams_again, r"drew from the streams of samples \[0, 1, 2\]"),
    (everything_then_slice, "every task repeats the whole run"),
    (contiguous_block, "which are not its own"),
    (integer_seeds, r"made from the integer \d+"),
    (unseeded, "no seed at all"),
    (rows_reversed, r"not its own \[0, 4, 8\] in that order"),
    (hard_coded_rows, "task 0 returned rows, but no sample was drawn from the run's streams"),
    (on_a_pool_of_its_own, "task 0 returned rows, but no sample was drawn from the run's streams"),
    (as_list, "wrong type"),
    (flattened, "wrong shape"),
    (one_row_missing, "task 0 returned 2 sample"),
    (whole_run_on_a_pool_and_decoy_generators, r"streams of samples \[0, 4, 8\] but did not draw one"),
    (no_rows, "no samples: task 0 returned an empty array"),
], ids=lambda value: getattr(value, "__name__", None))
def test_wrong_strided_answers_get_their_hint(answer, hint):
    fails_with(lesson10.check_strided_task, answer, hint)


def test_the_right_rows_typed_in_fail_on_the_evidence(pinned_seeds):
    pinned_seeds(STRIDED_SEED)
    fails_with(lesson10.check_strided_task, the_right_rows_typed_in, "no sample was drawn from the run's streams")


def test_every_check_draws_its_own_seed():
    assert len({lesson10.checker_seed() for _ in range(5)}) > 1


def test_the_streams_recorder_restores_numpy():
    original = np.random.default_rng
    with lesson10.streams_drawn_here() as drawn:
        np.random.default_rng(np.random.SeedSequence(5).spawn(2)[1])
    assert np.random.default_rng is original
    assert lesson10._run_streams(drawn, 5) == [1]


def test_a_stream_counts_as_drawn_only_after_one_bootstrap_sample():
    returns, streams = lesson10.checker_returns(), np.random.SeedSequence(5).spawn(3)
    with lesson10.streams_drawn_here() as drawn:
        panel.sample_to_statistic(returns, streams[0])              # one sample: drawn
        np.random.default_rng(streams[1])                           # nothing drawn
        twice = np.random.default_rng(streams[2])                   # two samples from one stream
        panel.bootstrap_returns(returns, twice), panel.bootstrap_returns(returns, twice)
    assert lesson10._undrawn_streams(drawn, 5, returns) == [1, 2]
