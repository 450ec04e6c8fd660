"""Lesson 06's statistic and bootstrap: realized variance, resampling within days, intervals,
identical results however the work is split, every worker kept busy, the lecture's own versions,
and a statistical check of the intervals."""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from helpers import data, panel

DAYS = data.trading_days_2007()[:6]


@pytest.fixture(scope="module")
def returns():
    prices = data.simulate_panel(1, tickers=("CSCO", "BA", "GE"), days=DAYS).prices
    returns = data.intraday_log_returns(prices)
    # a shorter day, as users' own files may have
    return returns.drop(returns.loc["2007-01-05 12:00":"2007-01-05 16:00"].index)


def test_compute_rv_is_the_sum_of_squares_per_day(returns):
    rv = panel.compute_rv(returns)
    day = returns.loc["2007-01-04", "BA"]
    assert rv.loc["2007-01-04", "BA"] == pytest.approx(float((day.to_numpy() ** 2).sum()))
    assert list(rv.index) == list(DAYS) and rv.index.name == "date"


def test_bootstrap_resamples_within_each_day(returns):
    sample = panel.bootstrap_returns(returns, np.random.default_rng(0))
    assert sample.groupby(sample.index.normalize()).size().equals(returns.groupby(returns.index.normalize()).size())
    for day, rows in sample.groupby(sample.index.normalize()):
        originals = returns.loc[returns.index.normalize() == day]
        assert rows.index.isin(originals.index).all()
        assert rows.equals(originals.loc[rows.index])  # whole rows, all stocks together
    assert sample.index.duplicated().any()  # with replacement


def test_get_ci_format_and_values():
    like = pd.DataFrame(np.zeros((2, 1)), index=pd.Index(DAYS[:2], name="date"), columns=pd.Index(["X"], name="ticker"))
    stats = np.arange(1001, dtype=float)[:, None, None] * np.ones((1, 2, 1))
    ci = panel.get_ci(stats, like)
    assert list(ci.columns) == [("X", "lower"), ("X", "upper")]
    assert ci.columns.names == ["ticker", "bound"] and ci.index.equals(like.index)
    assert ci.iloc[0].tolist() == pytest.approx([5.0, 995.0])
    with pytest.raises(ValueError, match="shape"):
        panel.get_ci(stats[:, :1], like)


def test_same_seed_same_intervals_however_the_work_is_split(returns):
    serial = panel.compute_ci(returns, 30, seed=11)
    assert panel.compute_ci(returns, 30, seed=11, max_workers=2).equals(serial)
    assert panel.compute_ci(returns, 30, seed=11, max_workers=2, batch_size=1).equals(serial)
    with ThreadPoolExecutor(3) as executor:
        assert panel.compute_ci(returns, 30, seed=11, executor=executor, batch_size=4).equals(serial)
    assert not panel.compute_ci(returns, 30, seed=12).equals(serial)


def test_chunked_by_ticker_equals_the_whole(returns):
    assert panel.compute_ci_chunked(returns, 20, seed=5).equals(panel.compute_ci(returns, 20, seed=5))


def test_statistics_nbytes(returns):
    assert panel.statistics_nbytes(returns, 10) == 10 * 6 * 3 * 8


@pytest.mark.parametrize("n_samples", [0, -3, 2.5])
def test_bad_sample_counts_are_refused(returns, n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        panel.compute_ci(returns, n_samples)


def test_empty_returns_are_refused(returns):
    with pytest.raises(ValueError, match="empty"):
        panel.compute_ci(returns.iloc[:0], 5)


class CountingExecutor(ThreadPoolExecutor):
    """A thread pool that counts the tasks submitted to it (threads share this process, so the
    bootstrap's results are the same as in worker processes, and quick to get)."""

    created = []

    def __init__(self, max_workers=None, **kwargs):
        super().__init__(max_workers, **kwargs)
        self.tasks = 0
        CountingExecutor.created.append(self)

    def submit(self, *args, **kwargs):
        self.tasks += 1
        return super().submit(*args, **kwargs)


@pytest.fixture
def pools(monkeypatch):
    """Make ``max_workers=n`` start a CountingExecutor instead of a process pool; the list of
    pools it started."""
    CountingExecutor.created = []
    monkeypatch.setattr(panel, "ProcessPoolExecutor", CountingExecutor)
    return CountingExecutor.created


def test_max_workers_8_gives_every_one_of_8_workers_work(returns, pools):
    serial = panel.compute_ci(returns, 40, seed=3)
    assert panel.compute_ci(returns, 40, seed=3, max_workers=8).equals(serial)
    assert [pool._max_workers for pool in pools] == [8]
    assert pools[0].tasks >= 8


def test_an_executor_of_8_workers_gets_at_least_8_tasks(returns):
    serial = panel.compute_ci(returns, 40, seed=3)
    with CountingExecutor(8) as executor:
        assert panel.compute_ci(returns, 40, seed=3, executor=executor).equals(serial)
    assert executor.tasks >= 8


def test_a_few_batches_per_worker_by_default(returns):
    with CountingExecutor(3) as executor:
        panel.bootstrap_statistics(returns, 1000, seed=3, executor=executor, batch_size=None)
    assert 3 * 2 <= executor.tasks <= 3 * panel.BATCHES_PER_WORKER
    assert panel.default_batch_size(1000, 80) == 4  # 250 tasks for 80 workers: none idle
    assert panel.default_batch_size(5, 8) == 1


def test_max_workers_none_means_every_usable_core(returns, pools, monkeypatch):
    monkeypatch.setattr(panel, "usable_cpu_count", lambda: 3)
    panel.bootstrap_statistics(returns, 30, seed=3, max_workers=None)
    assert [pool._max_workers for pool in pools] == [3]
    assert pools[0].tasks >= 3


def test_one_usable_core_and_none_runs_in_this_process(returns, pools, monkeypatch):
    monkeypatch.setattr(panel, "usable_cpu_count", lambda: 1)
    panel.bootstrap_statistics(returns, 5, seed=3, max_workers=None)
    assert pools == []


def test_usable_cpu_count_follows_the_affinity_mask(monkeypatch):
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert panel.usable_cpu_count() == 1
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert panel.usable_cpu_count() == 6


def test_executor_worker_count():
    class FakeClient:
        def nthreads(self):
            return {"tcp://a": 4, "tcp://b": 4, "tcp://c": 2}

    class FakeDaskExecutor:
        _client = FakeClient()

    with ThreadPoolExecutor(5) as threads:
        assert panel.executor_worker_count(threads) == 5
    assert panel.executor_worker_count(FakeDaskExecutor()) == 10
    assert panel.executor_worker_count(object()) == panel.usable_cpu_count()


@pytest.mark.parametrize("max_workers", [0, -1, 2.5, "2"])
def test_bad_worker_counts_are_refused(returns, max_workers):
    with pytest.raises(ValueError, match="max_workers"):
        panel.compute_ci(returns, 5, max_workers=max_workers)


def test_executor_and_max_workers_together_are_refused(returns):
    with ThreadPoolExecutor(2) as executor, pytest.raises(ValueError, match="not both"):
        panel.compute_ci(returns, 5, executor=executor, max_workers=4)


def test_a_statistic_pool_workers_cannot_import_is_refused(returns):
    with pytest.raises(ValueError, match="module"):
        panel.compute_ci(returns, 5, max_workers=2, statistic=lambda r: (r**2).groupby(panel.day_labels(r)).sum())


def test_realized_quarticity(returns):
    rq = panel.realized_quarticity(returns)
    day = returns.loc["2007-01-05", "GE"].dropna().to_numpy()  # the shortened day
    assert rq.loc["2007-01-05", "GE"] == pytest.approx(len(day) / 3 * (day**4).sum())
    assert rq.index.equals(panel.compute_rv(returns).index)


def test_another_statistic_serial_equals_parallel(returns):
    serial = panel.compute_ci(returns, 20, seed=8, statistic=panel.realized_quarticity)
    assert serial.index.equals(panel.compute_rv(returns).index)
    with CountingExecutor(3) as executor:
        parallel = panel.compute_ci(returns, 20, seed=8, executor=executor, statistic=panel.realized_quarticity)
    assert parallel.equals(serial)
    assert not serial.equals(panel.compute_ci(returns, 20, seed=8))


def test_the_lecture_realized_variance_gives_the_same_numbers(returns):
    lecture = panel.compute_rv_lecture(returns)
    course = panel.compute_rv(returns)
    assert [pd.Timestamp(day) for day in lecture.index] == list(course.index)
    # the same sums, added in a different order: equal up to the last digit
    np.testing.assert_allclose(lecture.to_numpy(), course.to_numpy(), rtol=1e-13, atol=0)


def test_the_lecture_bootstrap_draws_the_same_rows(returns):
    lecture = panel.bootstrap_returns_lecture(returns, np.random.default_rng(4))
    assert lecture.equals(panel.bootstrap_returns(returns, np.random.default_rng(4)))
    seeds = np.random.SeedSequence(4).spawn(5)
    np.testing.assert_allclose(panel.samples_to_statistics_lecture(returns, seeds),
                               panel.samples_to_statistics(returns, seeds), rtol=1e-13, atol=0)


def test_coverage_counts_the_cells_whose_interval_holds_the_truth():
    like = pd.DataFrame(np.zeros((2, 2)), index=pd.Index(DAYS[:2], name="date"),
                        columns=pd.Index(["X", "Y"], name="ticker"))
    stats = np.arange(1001, dtype=float)[:, None, None] * np.ones((1, 2, 2))  # intervals [5, 995]
    ci = panel.get_ci(stats, like)
    truth = pd.DataFrame([[5.0, 995.5], [4.0, 500.0]], index=like.index, columns=like.columns)
    assert panel.coverage(ci, truth) == 0.5
    with pytest.raises(ValueError, match="truth"):
        panel.coverage(ci, truth.iloc[:1])


def test_coverage_by_samples_uses_the_first_n_samples():
    simulated = data.simulate_known_variance(1, n_days=3)
    returns = data.intraday_log_returns(simulated.prices)
    table = panel.coverage_by_samples(returns, simulated.integrated_variance, [10, 40], seed=2)
    stats = panel.bootstrap_statistics(returns, 10, seed=2)
    assert list(table.index) == [10, 40]
    assert table[10] == panel.coverage(panel.get_ci(stats, panel.compute_rv(returns)), simulated.integrated_variance)


def test_99_percent_intervals_from_a_thousand_samples_cover_the_truth_at_least_97_5_percent():
    """Constant volatility, Gaussian returns: the true daily variance is known. Over 36 stocks x
    60 days = 2160 cells, correct 99% intervals from 1000 samples cover it in about 99% of the
    cells (99.1% measured; the standard error is about 0.2 points). The same intervals from 50
    samples cover about 95%, 90% intervals about 90%, and intervals that miss the truth's
    scale (no resampling, a wrong statistic) far less: all fail."""
    simulated = data.simulate_known_variance(99, n_days=60, n_copies=3)
    returns = data.intraday_log_returns(simulated.prices)
    truth = simulated.integrated_variance
    stats = panel.bootstrap_statistics(returns, 1000, seed=1, max_workers=2)
    assert stats.shape == (1000, 60, 36)
    covered = panel.coverage(panel.get_ci(stats, panel.compute_rv(returns)), truth)
    assert 0.975 <= covered <= 0.997, covered
    lower, upper = np.quantile(stats, [0.05, 0.95], axis=0)  # a 90% interval
    assert ((lower <= truth.to_numpy()) & (truth.to_numpy() <= upper)).mean() < 0.975
