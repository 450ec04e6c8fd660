"""Lesson 10: lesson 06's bootstrap on a real Dask LocalCluster gives the serial result exactly,
through the executor interface and through scatter + map."""
import logging

import numpy as np
import pytest
from distributed import Client, LocalCluster

from helpers import data, panel


@pytest.fixture(scope="module")
def returns():
    prices = data.simulate_panel(6, tickers=("GE", "DIS"), days=data.trading_days_2007()[:4]).prices
    return data.intraday_log_returns(prices)


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def test_compute_ci_on_the_cluster_equals_the_serial_result(client, returns):
    serial = panel.compute_ci(returns, 24, seed=4)
    assert panel.compute_ci(returns, 24, seed=4, executor=client.get_executor(), batch_size=5).equals(serial)


def test_scattered_map_equals_the_serial_statistics(client, returns):
    seeds = np.random.SeedSequence(4).spawn(12)
    batches = [seeds[i:i + 4] for i in range(0, 12, 4)]
    on_workers = client.scatter(returns, broadcast=True)
    stats = np.concatenate(client.gather(client.map(panel.samples_to_statistics, [on_workers] * 3, batches,
                                                    pure=False)))
    assert np.array_equal(stats, panel.bootstrap_statistics(returns, 12, seed=4))
