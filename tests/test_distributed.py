"""Lesson 10's Dask part: lesson 06's bootstrap on a real LocalCluster gives the serial result
exactly, through the executor interface (submitted with pure=False) and through scatter + map, and
gives every thread of the cluster work; a cluster without workers is refused; plus the helpers of
:mod:`helpers.distributed` (the cluster, the task-stream readers, the deliberately impure task)."""
import sys

import numpy as np
import pytest
from distributed import Client, LocalCluster, get_task_stream

from helpers import data, panel
from helpers.distributed import (all_busy_share, busy_shares, local_cluster, records_of, task_counts, total_threads,
                                 unseeded_draws)

N_WORKERS, THREADS_PER_WORKER = 2, 3


@pytest.fixture(scope="module")
def returns():
    prices = data.simulate_panel(6, tickers=("GE", "DIS"), days=data.trading_days_2007()[:4]).prices
    return data.intraday_log_returns(prices)


@pytest.fixture(scope="module")
def client():
    with local_cluster(N_WORKERS, THREADS_PER_WORKER, preload=["helpers.panel"]) as cluster, Client(cluster) as client:
        yield client


def test_the_cluster_has_the_threads_asked_for(client):
    assert total_threads(client) == N_WORKERS * THREADS_PER_WORKER


def test_preloaded_workers_have_imported_the_bootstrap_before_any_task(client):
    assert set(client.run(lambda: "helpers.panel" in sys.modules).values()) == {True}


def test_compute_ci_on_the_cluster_equals_the_serial_result(client, returns):
    serial = panel.compute_ci(returns, 24, seed=4)
    assert panel.compute_ci(returns, 24, seed=4, executor=client.get_executor(pure=False), batch_size=5).equals(serial)


def test_the_executor_passes_pure_false_to_every_task(client, returns):
    """Lesson 10's main path keeps its own rule: impure keys are a name and a random uuid
    (pure ones a name and a hash of the arguments, the same for the same arguments)."""
    with get_task_stream(client) as stream:
        panel.compute_ci(returns, 12, seed=4, executor=client.get_executor(pure=False))
    keys = [record["key"] for record in records_of(stream.data, panel.samples_to_statistics)]
    assert keys and all(key.count("-") == 5 for key in keys)  # samples_to_statistics-8-4-4-4-12


def test_compute_ci_gives_every_thread_of_the_cluster_work(client, returns):
    """Lesson 10's promise: the same call on a bigger cluster uses all of it. The default batches
    must number at least the cluster's threads, and every worker must run some of them."""
    with get_task_stream(client) as stream:
        ci = panel.compute_ci(returns, 60, seed=5, executor=client.get_executor(pure=False))
    tasks, workers = task_counts(stream.data, panel.samples_to_statistics)
    assert tasks >= total_threads(client)
    assert workers == N_WORKERS
    assert ci.equals(panel.compute_ci(returns, 60, seed=5))
    shares = busy_shares(stream.data, panel.samples_to_statistics)
    assert 1 < len(shares) <= total_threads(client) and all(0 < share <= 1 for share in shares.values())
    assert 0 <= all_busy_share(stream.data, panel.samples_to_statistics) <= min(shares.values())


def test_a_cluster_without_workers_is_refused_with_a_clear_error(returns):
    import logging
    with LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address=":0",
                      silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
        with pytest.raises(ValueError, match="wait_for_workers"):
            panel.compute_ci(returns, 12, seed=4, executor=client.get_executor(pure=False))


def test_scattered_map_equals_the_serial_statistics(client, returns):
    seeds = np.random.SeedSequence(4).spawn(12)
    batches = [seeds[i:i + 4] for i in range(0, 12, 4)]
    on_workers = client.scatter(returns, broadcast=True)
    assert len(client.who_has(on_workers)[on_workers.key]) == N_WORKERS
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


RECORDS = [{"key": "samples_to_statistics-1a", "worker": "tcp://a", "thread": 1,
            "startstops": ({"action": "compute", "start": 0.0, "stop": 3.0},)},
           {"key": "samples_to_statistics-2b", "worker": "tcp://b", "thread": 7,
            "startstops": ({"action": "transfer", "start": 0.0, "stop": 1.0},
                           {"action": "compute", "start": 1.0, "stop": 2.0})},
           {"key": "samples_to_statistics-3c", "worker": "tcp://a", "thread": 1,
            "startstops": ({"action": "compute", "start": 3.0, "stop": 4.0},)},
           {"key": "compute_rv-4d", "worker": "tcp://c", "thread": 2,
            "startstops": ({"action": "compute", "start": 0.0, "stop": 9.0},)}]


def test_task_counts_keeps_only_the_named_function():
    assert task_counts(RECORDS, panel.samples_to_statistics) == (3, 2)
    assert [r["key"] for r in records_of(RECORDS, panel.compute_rv)] == ["compute_rv-4d"]


def test_busy_shares_count_compute_time_over_the_whole_run_per_thread():
    # The run lasts from 0 to 4: thread a computed 4 of it, thread b 1 (its transfer is not computing).
    assert busy_shares(RECORDS, panel.samples_to_statistics) == {("tcp://a", 1): 1.0, ("tcp://b", 7): 0.25}
    assert busy_shares([], panel.samples_to_statistics) == {}


def test_all_busy_share_counts_only_the_time_every_thread_computed():
    # Both threads computed together from 1 to 2 only, of a run from 0 to 4.
    assert all_busy_share(RECORDS, panel.samples_to_statistics) == 0.25
    taking_turns = [dict(RECORDS[0], startstops=({"action": "compute", "start": 0.0, "stop": 1.0},)),
                    dict(RECORDS[1], startstops=({"action": "compute", "start": 1.0, "stop": 2.0},))]
    assert all_busy_share(taking_turns, panel.samples_to_statistics) == 0.0
    assert all_busy_share([], panel.samples_to_statistics) == 0.0


@pytest.mark.parametrize("workers, threads", [(0, 1), (2, 0)])
def test_local_cluster_refuses_an_empty_cluster(workers, threads):
    with pytest.raises(ValueError, match="at least one worker"):
        local_cluster(workers, threads)
