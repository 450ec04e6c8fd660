"""Lesson 06's statistic and bootstrap: realized variance, resampling within days, intervals,
identical results however the work is split, every worker kept busy, the lecture's own versions,
and a statistical check of the intervals."""
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from helpers import compiled, data, job_array, panel, sharing

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


def test_a_dask_cluster_without_workers_is_refused(returns):
    class NoWorkersYet:
        def nthreads(self):
            return {}

    class Executor:
        _client = NoWorkersYet()

    with pytest.raises(ValueError, match="wait_for_workers"):
        panel.compute_ci(returns, 5, executor=Executor())


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
    60 days = 2160 cells, correct 99% intervals from 1000 samples cover it about as often as 1000
    samples allow (98.8%, coverage_from_samples_alone; 99.1% measured, the standard error is about
    0.2 points). The same intervals from 50 samples cover about 95%, 90% intervals about 90%, and
    intervals that miss the truth's scale (no resampling, a wrong statistic) far less: all fail."""
    simulated = data.simulate_known_variance(99, n_days=60, n_copies=3)
    returns = data.intraday_log_returns(simulated.prices)
    truth = simulated.integrated_variance
    stats = panel.bootstrap_statistics(returns, 1000, seed=1, max_workers=2)
    assert stats.shape == (1000, 60, 36)
    covered = panel.coverage(panel.get_ci(stats, panel.compute_rv(returns)), truth)
    assert 0.975 <= covered <= 0.997, covered
    lower, upper = np.quantile(stats, [0.05, 0.95], axis=0)  # a 90% interval
    assert ((lower <= truth.to_numpy()) & (truth.to_numpy() <= upper)).mean() < 0.975


@pytest.mark.parametrize("n_samples, expected", [(50, 0.951), (200, 0.980), (1000, 0.988)])
def test_coverage_from_samples_alone(n_samples, expected):
    """The truth as one more draw from the bootstrap distribution: how often the interpolated
    0.5% and 99.5% quantiles of n draws hold it, checked by simulation (exact for uniform draws,
    a few tenths of a point off for Gaussian ones)."""
    exact = panel.coverage_from_samples_alone(n_samples)
    assert exact == pytest.approx(expected, abs=5e-4)
    rng = np.random.default_rng(n_samples)
    runs = 2_000_000 // n_samples
    chance = 4 * np.sqrt(exact * (1 - exact) / runs)  # four standard errors of the simulated share
    for draw, off in [(rng.random, 0), (rng.standard_normal, 0.004)]:
        samples, truth = draw((runs, n_samples)), draw(runs)
        lower, upper = np.quantile(samples, panel.LEVELS, axis=1)
        assert ((lower <= truth) & (truth <= upper)).mean() == pytest.approx(exact, abs=chance + off)


def test_panels_side_by_side_give_each_panel_its_own_bootstrap():
    """Bootstrapping two panels in one run gives each the coverage it has alone: a sample's draws
    depend only on its seed and the days' lengths."""
    first, second = (data.simulate_known_variance(seed, n_days=3) for seed in (1, 5))
    panels = {name: (data.intraday_log_returns(sim.prices), sim.integrated_variance)
              for name, sim in [("first", first), ("second", second)]}
    table, intervals = panel.coverage_of_panels(panels, [10, 40], seed=2)
    assert list(table.columns) == ["samples alone", "first", "second"] and list(table.index) == [10, 40]
    assert table["samples alone"].tolist() == [panel.coverage_from_samples_alone(n) for n in (10, 40)]
    for name, (returns, truth) in panels.items():
        assert table[name].equals(panel.coverage_by_samples(returns, truth, [10, 40], seed=2).rename(name))
        assert intervals[name].equals(panel.compute_ci(returns, 40, seed=2))
    with pytest.raises(ValueError, match="same minutes"):
        shorter = (panels["second"][0].iloc[1:], second.integrated_variance)
        panel.coverage_of_panels({"a": panels["first"], "b": shorter}, [10])


def test_misses_by_stock_says_on_which_side_the_truth_fell():
    like = pd.DataFrame(np.zeros((2, 2)), index=pd.Index(DAYS[:2], name="date"),
                        columns=pd.Index(["X", "Y"], name="ticker"))
    ci = panel.get_ci(np.arange(1001, dtype=float)[:, None, None] * np.ones((1, 2, 2)), like)  # [5, 995]
    truth = pd.DataFrame([[1.0, 500.0], [4.0, 999.0]], index=like.index, columns=like.columns)
    misses = panel.misses_by_stock(ci, truth)
    assert misses.to_dict() == {"coverage": {"X": 0.0, "Y": 0.5}, "truth below": {"X": 2, "Y": 0},
                                "truth above": {"X": 0, "Y": 1}}


def test_serial_and_pool_seconds_keeps_the_fastest_of_runs_taken_in_turn(returns, pools, monkeypatch):
    calls = []

    def fake_seconds(function, *args, **kwargs):
        calls.append(kwargs.get("max_workers", 1))
        return {1: [3.0, 2.0], 2: [1.0, 4.0]}[calls[-1]][sum(c == calls[-1] for c in calls) % 2 - 1]

    cpu = iter([0.0, 1.5, 10.0, 11.0])  # process_time before and after each serial run: 1.5 s, then 1 s
    monkeypatch.setattr(panel, "seconds", fake_seconds)
    monkeypatch.setattr(panel.time, "process_time", lambda: next(cpu))
    table = panel.serial_and_pool_seconds(returns, [5], max_workers=2, repeats=2)
    assert calls == [1, 2, 1, 2]  # serial and pool in turn
    assert table.loc[5].tolist() == [2.0, 1.0, 1.0, 2.0]
    assert list(table.columns) == ["serial (s)", "serial CPU (s)", "2 workers (s)", "speed-up"]


def test_serial_and_pool_seconds_times_both_ways(returns, pools):
    table = panel.serial_and_pool_seconds(returns, [1, 3], max_workers=2, repeats=1)
    assert list(table.index) == [1, 3] and (table.iloc[:, :3] > 0).all(axis=None)
    assert table["speed-up"].tolist() == (table["serial (s)"] / table["2 workers (s)"]).tolist()
    assert (table["serial CPU (s)"] <= table["serial (s)"] * 1.05).all()  # the CPU time leaves out waiting
    assert [pool._max_workers for pool in pools] == [2, 2]


def test_a_finished_progress_bar_leaves_a_finished_text_behind(tmp_path):
    """A notebook saved with the progress widget keeps a text version for readers without widgets:
    it shows the bar at 100%, not the 0% of the moment the bar appeared."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from helpers import data, panel\n"
        "prices = data.simulate_panel(1, tickers=('BA',), days=data.trading_days_2007()[:2]).prices\n"
        "returns = data.intraday_log_returns(prices)\n"
        "panel.compute_ci(returns, 6, max_workers=2, progress=True)\n"
        "panel.compute_ci(returns, 4, progress=True);")])
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    texts = [output["data"]["text/plain"] for output in notebook.cells[0].outputs
             if "application/vnd.jupyter.widget-view+json" in output.get("data", {})]
    assert len(texts) == 2, notebook.cells[0].outputs
    assert "100%" in texts[0] and "6/6" in texts[0] and "100%" in texts[1] and "4/4" in texts[1]


def test_the_u_shape_makes_the_bootstrap_overstate_the_variance_of_realized_variance():
    """Resampling a day's minutes as if interchangeable: with constant variance the bootstrap's
    variance of realized variance matches the true one, 2 * sum of the squared minute variances;
    under the simulator's U-shape it is about a fifth too large (lesson 06 says so)."""
    days = data.trading_days_2007()[:30]
    weights = data._intraday_weights(data.MINUTES_PER_DAY - 1, True)
    ratios = {}
    for u_shape in (False, True):
        simulated = data.simulate_panel(5, days=days, u_shape=u_shape, stochastic_volatility=False, jumps=False,
                                        tick_size=None)
        stats = panel.bootstrap_statistics(data.intraday_log_returns(simulated.prices), 300, seed=1, max_workers=2)
        shares = weights if u_shape else np.ones_like(weights)
        true_variance = 2 * simulated.integrated_variance.to_numpy() ** 2 * (shares**2).sum() / shares.sum() ** 2
        ratios[u_shape] = float((stats.var(axis=0, ddof=1) / true_variance).mean())
    assert 0.93 < ratios[False] < 1.07, ratios
    assert 1.12 < ratios[True] < 1.28, ratios


def test_prices_in_cents_make_realized_variance_too_high_for_the_cheapest_stocks():
    """Rounding to the cent adds noise to every one-minute return of a stock priced at a few
    dollars, and realized variance adds the noise's variance to the day's (lesson 06's coverage
    table misses most on GNTX and AAPL, the cheapest). The minutes without a trade, which the
    simulator adds with the rounding, are not the cause: with them and a negligible tick,
    realized variance is right on average."""
    def excess(**options):
        simulated = data.simulate_panel(2007, jumps=False, **options)
        rv = panel.compute_rv(data.intraday_log_returns(simulated.prices))
        return (rv / simulated.integrated_variance).mean() - 1

    cents = excess()
    assert cents[["GNTX", "AAPL"]].min() > 0.05
    assert cents[["BLK", "C"]].abs().max() < 0.03
    assert set(cents.nlargest(2).index) == {"GNTX", "AAPL"}
    assert excess(tick_size=1e-6).abs().max() < 0.02  # stale minutes kept, rounding negligible


def test_on_the_default_panel_the_cents_cost_the_intervals_coverage():
    """The default panel's first 60 days, and the same panel with prices left unrounded (the same
    efficient prices: rounding, and the stale minutes that come with it, are last in the
    simulation). With its U-shape, changing
    volatility and jumps, the unrounded panel's 99% intervals from 1000 samples hold the true
    variance about as often as 1000 samples allow (98.3% measured, 98.8% possible); rounded to
    cents, markedly less often (94.6%): lesson 06's coverage table."""
    days = data.trading_days_2007()[:60]
    panels = {}
    for name, options in [("cents", {}), ("unrounded", {"tick_size": None})]:
        simulated = data.simulate_panel(2007, **options)
        in_days = simulated.prices.index.normalize().isin(days)
        panels[name] = (data.intraday_log_returns(simulated.prices[in_days]), simulated.integrated_variance.loc[days])
    table, _ = panel.coverage_of_panels(panels, [1000], seed=1, max_workers=2)
    assert table.loc[1000, "unrounded"] >= 0.975
    assert table.loc[1000, "cents"] <= table.loc[1000, "unrounded"] - 0.02


# --- What the bootstrap's entry points say to a wrong input ----------------------------------


def _array_task(returns, n_samples):
    """Lesson 10's array task 0 of 1, into a directory that is never written when the input is refused."""
    return job_array.run_array_task(returns, 0, 1, n_samples, seed=1, out="/nonexistent/refused-before-writing")


# Every way the lessons start a bootstrap: pandas (06), compiled (07), data sent once (11), array task (10).
BOOTSTRAPS = {"compute_ci": panel.compute_ci, "compute_ci_chunked": panel.compute_ci_chunked,
              "compiled_ci": compiled.compiled_ci, "compute_ci_initializer": sharing.compute_ci_initializer,
              "compute_ci_shared": sharing.compute_ci_shared, "run_array_task": _array_task}


@pytest.fixture(params=list(BOOTSTRAPS))
def bootstrap(request):
    return BOOTSTRAPS[request.param]



@pytest.mark.parametrize("make_wrong, error, phrase", [
    (lambda r: r.to_numpy().tolist(), TypeError, "must be the DataFrame of intraday log returns.*got list"),
    (lambda r: r.to_numpy(), TypeError, "got ndarray"),
    (lambda r: r["BA"], TypeError, "a Series .*to_frame"),
    (lambda r: r.reset_index(drop=True), TypeError, "indexed by the minute .*RangeIndex"),
    (lambda r: r.reset_index(), TypeError, "indexed by the minute"),
    (lambda r: r.astype(str), TypeError, "must hold numbers, but column.* CSCO"),
    (lambda r: r.iloc[:0], ValueError, "returns is empty"),
])
def test_what_is_not_a_panel_of_returns_is_refused_saying_what_to_pass(returns, make_wrong, error, phrase,
                                                                      bootstrap):
    with pytest.raises(error, match=phrase):
        bootstrap(make_wrong(returns), 5)


@pytest.mark.parametrize("n_samples", [0, -3, 2.5, True, "3", None])
def test_a_bad_number_of_samples_is_refused(returns, n_samples, bootstrap):
    with pytest.raises(ValueError, match="n_samples must be a positive whole number"):
        bootstrap(returns, n_samples)


def test_prices_passed_as_returns_are_named_in_a_warning_at_the_callers_line(returns):
    prices = data.simulate_panel(1, tickers=("CSCO", "BA"), days=DAYS).prices.loc["2007-01-03"]
    for bootstrap in (panel.compute_ci, compiled.compiled_ci):
        with pytest.warns(panel.LooksLikePrices, match="look like prices, not returns.*intraday_log_returns") as seen:
            bootstrap(prices, 3)
        assert seen[0].filename == __file__, bootstrap
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel.compute_ci(returns, 3)  # real returns: no warning


def test_a_stock_without_any_return_gets_nan_intervals(returns):
    gappy = returns.assign(GE=np.nan)
    ci = panel.compute_ci(gappy, 20)
    assert ci["GE"].isna().all().all() and ci["BA"].notna().all().all()
