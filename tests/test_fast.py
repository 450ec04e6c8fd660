"""Lesson 07: the compiled bootstrap agrees with lesson 06's pandas version, reproduces exactly
whatever the number of threads, and the alternative routes give the same kind of answer."""
import numba
import numpy as np
import pandas as pd
import pytest

from helpers import data, fast, panel


@pytest.fixture(scope="module")
def returns():
    prices = data.simulate_panel(4, tickers=("CSCO", "BA"), days=data.trading_days_2007()[:5]).prices
    prices.iloc[500:900, 1] = np.nan  # BA misses the end of one day and the start of the next
    return data.intraday_log_returns(prices)


def relative_gap(a, b):
    """Largest difference between two interval frames, relative to each interval's width."""
    width = a.xs("upper", axis=1, level="bound") - a.xs("lower", axis=1, level="bound")
    return ((a - b).abs().T.groupby(level="ticker").max().T / width).max().max()


def test_returns_to_arrays_marks_each_day(returns):
    values, offsets, like = fast.returns_to_arrays(returns)
    assert values.shape == returns.shape and offsets[0] == 0 and offsets[-1] == len(returns)
    assert np.diff(offsets).tolist() == returns.groupby(returns.index.normalize()).size().tolist()
    assert like.equals(panel.compute_rv(returns))


def test_compiled_kernel_with_one_draw_per_row_matches_the_statistic():
    values = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, 4.0]])
    offsets = np.array([0, 2, 3])
    stats = fast.bootstrap_rv_compiled(values, offsets, np.arange(200, dtype=np.uint64))
    day_one = stats[:, 0, 0]
    assert set(np.round(day_one, 9)) <= {2.0, 5.0, 8.0}  # 1+1, 1+4, 4+4
    assert np.isnan(stats[:, 0, 1]).all()  # a stock with no return that day
    assert (stats[:, 1, :] == [9.0, 16.0]).all()


def test_same_seed_same_intervals_whatever_the_threads(returns):
    reference = fast.compiled_ci(returns, 300, seed=8)
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert fast.compiled_ci(returns, 300, seed=8).equals(reference)
    finally:
        numba.set_num_threads(previous)
    assert fast.compiled_ci(returns, 300, seed=8).equals(reference)
    assert not fast.compiled_ci(returns, 300, seed=9).equals(reference)


def test_compiled_agrees_with_pandas_within_monte_carlo_error(returns):
    compiled = fast.compiled_ci(returns, 3000, seed=1)
    pandas_way = panel.compute_ci(returns, 1500, seed=2, max_workers=2)
    assert relative_gap(compiled, pandas_way) < 0.2
    assert list(compiled.columns) == list(pandas_way.columns) and compiled.index.equals(pandas_way.index)
    stats, like = fast.compiled_statistics(returns, 3000, seed=1)
    assert relative_gap(compiled, panel.get_ci(0.8 * stats, like)) > 0.2  # a statistic 20% off is caught


@pytest.mark.parametrize("route", [fast.numpy_ci, fast.scipy_ci])
def test_other_routes_agree_with_the_compiled_one(returns, route):
    compiled = fast.compiled_ci(returns, 3000, seed=1)
    other = route(returns, 3000, seed=3)
    assert list(other.columns) == list(compiled.columns)
    assert relative_gap(compiled, other) < 0.2


def test_scipy_route_can_time_a_subset(returns):
    part = fast.scipy_ci(returns, 50, cells=3)
    assert part.notna().sum().sum() == 6  # three cells, two bounds each


def test_lecture_functions():
    np.random.seed(0)
    assert 0.45 < fast.comp_with_np(200) < 0.55
    assert 0.45 < fast.comp_with_numba(200) < 0.55
    prices = np.array([10.0, 12.0, 9.0, 11.0, 6.0, 13.0])
    assert fast.max_drawdown_python(prices) == pytest.approx(0.5)
    assert fast.max_drawdown_numba(prices) == pytest.approx(0.5)
    assert fast.sum_of_squares_parallel(np.arange(4.0)) == 14.0
    with pytest.raises(numba.core.errors.TypingError):
        numba.njit(fast.rv_with_pandas)(pd.DataFrame({"x": [1.0]}))
