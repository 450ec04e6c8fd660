"""Lesson 10's checkers: the worked solutions pass on a real cluster, and each typical wrong answer
gets the hint that names its mistake."""
import numpy as np
import pytest
from distributed import Client, as_completed, get_task_stream

from helpers import data, panel
from helpers.checks import CheckFailed
from helpers.checks import lesson10
from helpers.distributed import local_cluster

N_SAMPLES, SEED, BATCH_SIZE = 12, 10, 4
N_QUARTICITY = 40


@pytest.fixture(scope="module")
def returns():
    prices = data.simulate_panel(3, tickers=("AAPL", "GE"), days=data.trading_days_2007()[:3]).prices
    return data.intraday_log_returns(prices)


@pytest.fixture(scope="module")
def client():
    with local_cluster() as cluster, Client(cluster) as client:
        yield client


def bootstrap_quarticity(returns, n_samples, seed, executor):
    """Exercise 6.2's function, which exercise 10.1 runs on the cluster."""
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    size = panel.default_batch_size(n_samples, panel.executor_worker_count(executor))
    batches = [seeds[start:start + size] for start in range(0, n_samples, size)]
    futures = [executor.submit(panel.samples_to_statistics, returns, batch, panel.realized_quarticity)
               for batch in batches]
    return np.concatenate([future.result() for future in futures])


@pytest.fixture(scope="module")
def quarticity_solution(client, returns):
    """Exercise 10.1's worked solution: (ci_quarticity, tasks)."""
    with get_task_stream(client) as stream:
        stats = bootstrap_quarticity(returns, N_QUARTICITY, SEED, client.get_executor())
    return panel.get_ci(stats, like=panel.realized_quarticity(returns)), stream.data


def test_compute_ci_with_the_statistic_passes_too(client, returns, capsys):
    with get_task_stream(client) as stream:
        ci = panel.compute_ci(returns, N_QUARTICITY, seed=SEED, executor=client.get_executor(),
                              statistic=panel.realized_quarticity)
    check_quarticity(ci, stream.data, returns)
    assert capsys.readouterr().out.startswith("Correct:")


def test_one_stream_per_batch_gets_the_reproducibility_hint(quarticity_solution, returns):
    """The typical slip: each batch spawns its streams from the seed again, so batches repeat."""
    _, tasks = quarticity_solution
    size = N_QUARTICITY // 4
    batch = panel.samples_to_statistics(returns, np.random.SeedSequence(SEED).spawn(size), panel.realized_quarticity)
    repeated = panel.get_ci(np.concatenate([batch] * 4), like=panel.realized_quarticity(returns))
    with pytest.raises(CheckFailed, match="not reproducible"):
        check_quarticity(repeated, tasks, returns)


def check_quarticity(ci, tasks, returns):
    lesson10.check_cluster_quarticity(ci, tasks, returns, N_QUARTICITY, SEED)


def test_quarticity_solution_passes(quarticity_solution, returns, capsys):
    check_quarticity(*quarticity_solution, returns)
    assert capsys.readouterr().out.startswith("Correct:")


def test_a_serial_run_gets_the_not_on_the_cluster_hint(returns):
    serial = panel.compute_ci(returns, N_QUARTICITY, seed=SEED, statistic=panel.realized_quarticity)
    with pytest.raises(CheckFailed, match="not on the cluster"):
        check_quarticity(serial, [], returns)


def test_one_batch_on_one_worker_gets_the_not_parallel_hint(client, returns):
    with get_task_stream(client) as stream:
        ci = panel.compute_ci(returns, N_QUARTICITY, seed=SEED, executor=client.get_executor(),
                              statistic=panel.realized_quarticity, batch_size=N_QUARTICITY)
    with pytest.raises(CheckFailed, match="not parallel"):
        check_quarticity(ci, stream.data, returns)


def test_realized_variance_gets_the_wrong_statistic_hint(quarticity_solution, returns):
    _, tasks = quarticity_solution
    with pytest.raises(CheckFailed, match="wrong statistic"):
        check_quarticity(panel.compute_ci(returns, N_QUARTICITY, seed=SEED), tasks, returns)


def test_another_seed_gets_the_reproducibility_hint_for_intervals(quarticity_solution, returns):
    _, tasks = quarticity_solution
    other_seed = panel.compute_ci(returns, N_QUARTICITY, seed=SEED + 1, statistic=panel.realized_quarticity)
    with pytest.raises(CheckFailed, match="not reproducible"):
        check_quarticity(other_seed, tasks, returns)


def test_other_returns_get_the_shape_hint(quarticity_solution, returns):
    ci, tasks = quarticity_solution
    with pytest.raises(CheckFailed, match="wrong shape"):
        check_quarticity(ci.iloc[1:], tasks, returns)


def test_the_stream_object_instead_of_its_records_is_named(client, quarticity_solution, returns):
    ci, _ = quarticity_solution
    with get_task_stream(client) as stream:
        pass
    with pytest.raises(CheckFailed, match="stream.data"):
        check_quarticity(ci, stream, returns)


@pytest.fixture(scope="module")
def scattered_solution(client, returns):
    """Exercise 10.2's worked solution: (stats, on_workers)."""
    seeds = np.random.SeedSequence(SEED).spawn(N_SAMPLES)
    on_workers = client.scatter(returns, broadcast=True)
    futures = {client.submit(panel.samples_to_statistics, on_workers, seeds[start:start + BATCH_SIZE], pure=False):
               start for start in range(0, N_SAMPLES, BATCH_SIZE)}
    stats = np.empty((N_SAMPLES, *panel.compute_rv(returns).shape))
    for future in as_completed(futures):
        batch = future.result()
        stats[futures[future]:futures[future] + len(batch)] = batch
    return stats, on_workers


def check_scattered(stats, on_workers, returns):
    lesson10.check_scattered_bootstrap(stats, on_workers, returns, N_SAMPLES, SEED)


def test_scattered_solution_passes(scattered_solution, returns, capsys):
    check_scattered(*scattered_solution, returns)
    assert capsys.readouterr().out.startswith("Correct:")


def test_batches_in_arrival_order_get_the_order_hint(scattered_solution, returns):
    stats, on_workers = scattered_solution
    finished_last_first = np.concatenate([stats[start:start + BATCH_SIZE]
                                          for start in reversed(range(0, N_SAMPLES, BATCH_SIZE))])
    with pytest.raises(CheckFailed, match="wrong order"):
        check_scattered(finished_last_first, on_workers, returns)


def test_the_same_seeds_in_every_batch_get_the_duplicate_hint(scattered_solution, returns):
    _, on_workers = scattered_solution
    per_batch_seeds = np.random.SeedSequence(SEED).spawn(BATCH_SIZE)
    stats = np.concatenate([panel.samples_to_statistics(returns, per_batch_seeds)] * (N_SAMPLES // BATCH_SIZE))
    with pytest.raises(CheckFailed, match="duplicate samples"):
        check_scattered(stats, on_workers, returns)


def test_another_seed_gets_the_reproducibility_hint(scattered_solution, returns):
    _, on_workers = scattered_solution
    with pytest.raises(CheckFailed, match="not reproducible"):
        check_scattered(panel.bootstrap_statistics(returns, N_SAMPLES, seed=SEED + 1), on_workers, returns)


def test_a_batch_never_stored_gets_the_missing_hint(scattered_solution, returns):
    stats, on_workers = scattered_solution
    incomplete = stats.copy()
    incomplete[-BATCH_SIZE:] = 0
    with pytest.raises(CheckFailed, match="samples missing"):
        check_scattered(incomplete, on_workers, returns)


def test_the_dataframe_itself_gets_the_not_scattered_hint(scattered_solution, returns):
    stats, _ = scattered_solution
    with pytest.raises(CheckFailed, match="data not scattered"):
        check_scattered(stats, returns, returns)


@pytest.mark.parametrize("wrong", [lambda s: list(s), lambda s: s[:-1]], ids=["list", "one-sample-short"])
def test_wrong_type_or_shape_is_named(scattered_solution, returns, wrong):
    stats, on_workers = scattered_solution
    with pytest.raises(CheckFailed, match="wrong (type|shape)"):
        check_scattered(wrong(stats), on_workers, returns)
