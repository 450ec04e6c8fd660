"""Lesson 06's statistic and bootstrap: realized variance, resampling within days, intervals,
identical results however the work is split, and a statistical check of the intervals."""
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


def test_intervals_cover_the_true_variance_about_99_percent_of_the_time():
    """Constant volatility, Gaussian returns: the true daily variance is known. A correct 99%
    interval covers it in about 99% of the 2 x 60 day-stock cells; 90% intervals (~90%),
    resampling across days, or no resampling at all would fall far below 95%."""
    days = data.trading_days_2007()[:60]
    simulated = data.simulate_panel(99, tickers=("BA", "GE"), days=days, u_shape=False,
                                    stochastic_volatility=False, jumps=False, tick_size=None)
    returns = data.intraday_log_returns(simulated.prices)
    stats = panel.bootstrap_statistics(returns, 400, seed=1)
    ci = panel.get_ci(stats, panel.compute_rv(returns))
    truth = simulated.integrated_variance
    covered = (ci.xs("lower", axis=1, level="bound") <= truth) & (truth <= ci.xs("upper", axis=1, level="bound"))
    assert 0.95 <= covered.to_numpy().mean() <= 1.0
    lower, upper = np.quantile(stats, [0.05, 0.95], axis=0)  # a 90% interval must do clearly worse
    assert ((lower <= truth.to_numpy()) & (truth.to_numpy() <= upper)).mean() < 0.95
