"""Lesson 10: lesson 06's bootstrap on a real Dask LocalCluster gives the serial result exactly,
through the executor interface and through scatter + map, and keeps every thread of the cluster
busy; plus the helpers of :mod:`helpers.distributed`."""
import numpy as np
import pytest
from distributed import Client, get_task_stream

from helpers import data, panel
from helpers.distributed import local_cluster, task_counts, total_threads, unseeded_draws

N_WORKERS, THREADS_PER_WORKER = 2, 3


@pytest.fixture(scope="module")
def returns():
    prices = data.simulate_panel(6, tickers=("GE", "DIS"), days=data.trading_days_2007()[:4]).prices
    return data.intraday_log_returns(prices)


@pytest.fixture(scope="module")
def client():
    with local_cluster(N_WORKERS, THREADS_PER_WORKER) as cluster, Client(cluster) as client:
        yield client


def test_the_cluster_has_the_threads_asked_for(client):
    assert total_threads(client) == N_WORKERS * THREADS_PER_WORKER


def test_compute_ci_on_the_cluster_equals_the_serial_result(client, returns):
    serial = panel.compute_ci(returns, 24, seed=4)
    assert panel.compute_ci(returns, 24, seed=4, executor=client.get_executor(), batch_size=5).equals(serial)


def test_compute_ci_gives_every_thread_of_the_cluster_work(client, returns):
    """Lesson 10's promise: the same call on a bigger cluster uses all of it. The default batches
    must number at least the cluster's threads, and every worker must run some of them."""
    with get_task_stream(client) as stream:
        ci = panel.compute_ci(returns, 60, seed=5, executor=client.get_executor())
    tasks, workers = task_counts(stream.data, panel.samples_to_statistics)
    assert tasks >= total_threads(client)
    assert workers == N_WORKERS
    assert ci.equals(panel.compute_ci(returns, 60, seed=5))


def test_scattered_map_equals_the_serial_statistics(client, returns):
    seeds = np.random.SeedSequence(4).spawn(12)
    batches = [seeds[i:i + 4] for i in range(0, 12, 4)]
    on_workers = client.scatter(returns, broadcast=True)
    stats = np.concatenate(client.gather(client.map(panel.samples_to_statistics, [on_workers] * 3, batches,
                                                    pure=False)))
    assert np.array_equal(stats, panel.bootstrap_statistics(returns, 12, seed=4))


def test_dask_runs_pure_calls_with_the_same_arguments_once(client):
    first, second = client.submit(unseeded_draws, 5), client.submit(unseeded_draws, 5)
    assert first.key == second.key
    assert np.array_equal(first.result(), second.result())


def test_pure_false_runs_every_call(client):
    first, second = (client.submit(unseeded_draws, 5, pure=False) for _ in range(2))
    assert first.key != second.key
    assert not np.array_equal(first.result(), second.result())


def test_task_counts_keeps_only_the_named_function():
    records = [{"key": "samples_to_statistics-1a", "worker": "tcp://a"},
               {"key": "samples_to_statistics-2b", "worker": "tcp://b"},
               {"key": "samples_to_statistics-3c", "worker": "tcp://a"},
               {"key": "compute_rv-4d", "worker": "tcp://c"}]
    assert task_counts(records, panel.samples_to_statistics) == (3, 2)


@pytest.mark.parametrize("workers, threads", [(0, 1), (2, 0)])
def test_local_cluster_refuses_an_empty_cluster(workers, threads):
    with pytest.raises(ValueError, match="at least one worker"):
        local_cluster(workers, threads)
