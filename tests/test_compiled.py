"""Lesson 07: the compiled bootstrap agrees with lesson 06's pandas version, reproduces exactly
whatever the number of threads, draws rows uniformly, takes quantiles exactly as NumPy does, and
the alternative routes give the same kind of answer."""
import numba
import numpy as np
import pandas as pd
import pytest

from helpers import compiled, data, panel


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
    values, offsets, like = compiled.returns_to_arrays(returns)
    assert values.shape == returns.shape and offsets[0] == 0 and offsets[-1] == len(returns)
    assert np.diff(offsets).tolist() == returns.groupby(returns.index.normalize()).size().tolist()
    assert like.equals(panel.compute_rv(returns))


def test_compiled_kernel_with_one_draw_per_row_matches_the_statistic():
    values = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, 4.0]])
    offsets = np.array([0, 2, 3])
    stats = compiled.bootstrap_rv_compiled(values, offsets, np.arange(200, dtype=np.uint64))
    day_one = stats[:, 0, 0]
    assert set(np.round(day_one, 9)) <= {2.0, 5.0, 8.0}  # 1+1, 1+4, 4+4
    assert np.isnan(stats[:, 0, 1]).all()  # a stock with no return that day
    assert (stats[:, 1, :] == [9.0, 16.0]).all()


def test_both_halves_of_a_random_word_draw_independent_rows():
    # A two-row day is drawn from the two 32-bit halves of one word: squares 1 and 100 give 2, 101
    # or 200 with chances 1/4, 1/2, 1/4 (halves that moved together would never give 101).
    values = np.array([[1.0], [10.0]])
    stats = compiled.bootstrap_rv_compiled(values, np.array([0, 2]), np.arange(4000, dtype=np.uint64))[:, 0, 0]
    shares = [np.mean(stats == total) for total in (2.0, 101.0, 200.0)]
    assert shares == pytest.approx([0.25, 0.5, 0.25], abs=0.03)


def test_rows_are_drawn_uniformly_from_an_odd_sized_day():
    # Squares 1, 1e3, 1e6 make each draw's row readable from the sum (three draws per sample).
    values = np.sqrt(np.array([[1.0], [1e3], [1e6]]))
    stats = compiled.bootstrap_rv_compiled(values, np.array([0, 3]), np.arange(3000, dtype=np.uint64))[:, 0, 0]
    rounded = np.round(stats).astype(np.int64)
    counts = [(rounded // 10**p % 1000).sum() for p in (0, 3, 6)]
    assert sum(counts) == 9000
    assert counts == pytest.approx([3000] * 3, abs=5 * np.sqrt(9000 * 2 / 9))


def test_bounded_index_rejects_the_few_words_that_would_bias_it():
    state = np.uint64(7)
    # 2**32 % 3 == 1: the word 0 gives a product whose low half (0) is below it, so it is redrawn.
    new_state, index = compiled._bounded(state, np.uint64(0), np.uint64(3), np.uint64(1))
    fresh_state, word = compiled._splitmix64(state)
    assert new_state == fresh_state and index == (word >> np.uint64(32)) * np.uint64(3) >> np.uint64(32)
    # The largest word maps to the last index with no redraw.
    assert compiled._bounded(state, np.uint64(2**32 - 1), np.uint64(3), np.uint64(1)) == (state, 2)


@pytest.mark.parametrize("n", [1, 2, 7, 200, 1000])
def test_quantiles_by_cell_equal_numpys_linear_method(n):
    rng = np.random.default_rng(n)
    cells = rng.lognormal(size=(40, n))
    cells[3] = 1.5  # all equal
    cells[4, : n // 2] = cells[4, -1]  # many ties
    cells[5] = np.round(cells[5], 1)
    levels = np.array([0.0, 0.005, 0.025, 0.5, 0.5, 0.975, 0.995, 1.0])
    assert np.array_equal(compiled.quantiles_by_cell(cells, levels), np.quantile(cells, levels, axis=1))


def test_quantiles_by_cell_give_nan_where_a_sample_is_nan():
    cells = np.arange(12.0).reshape(3, 4)
    cells[1, 2] = np.nan
    got = compiled.quantiles_by_cell(cells, np.array([0.005, 0.995]))
    assert np.isnan(got[:, 1]).all() and not np.isnan(got[:, [0, 2]]).any()
    assert np.array_equal(got, np.quantile(cells, [0.005, 0.995], axis=1), equal_nan=True)


def test_compiled_intervals_are_lesson_06s_quantiles_of_its_statistics(returns):
    stats, like = compiled.compiled_statistics(returns, 500, seed=4)
    assert compiled.compiled_ci(returns, 500, seed=4).equals(panel.get_ci(stats, like))


def test_same_seed_same_intervals_whatever_the_threads(returns):
    reference = compiled.compiled_ci(returns, 300, seed=8)
    with compiled.numba_threads(1):
        assert compiled.compiled_ci(returns, 300, seed=8).equals(reference)
    assert compiled.compiled_ci(returns, 300, seed=8).equals(reference)
    assert not compiled.compiled_ci(returns, 300, seed=9).equals(reference)


def test_numba_threads_sets_the_number_for_the_block_only_and_never_above_those_launched():
    before = numba.get_num_threads()
    with compiled.numba_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with compiled.numba_threads(numba.config.NUMBA_NUM_THREADS + 5):
        assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    with pytest.raises(RuntimeError), compiled.numba_threads(1):
        raise RuntimeError("the block fails")
    assert numba.get_num_threads() == before


def test_a_parallel_float_sum_agrees_across_thread_counts_to_12_digits():
    values = np.random.default_rng(1).lognormal(size=100_001)
    with compiled.numba_threads(1):
        one_thread = compiled.sum_of_squares_parallel(values)
    assert compiled.sum_of_squares_parallel(values) == pytest.approx(one_thread, rel=1e-12, abs=0)
    assert one_thread == pytest.approx(float(np.sum(values * values)), rel=1e-12, abs=0)


def test_compiled_agrees_with_pandas_within_monte_carlo_error(returns):
    compiled_way = compiled.compiled_ci(returns, 3000, seed=1)
    pandas_way = panel.compute_ci(returns, 1500, seed=2, max_workers=2)
    assert relative_gap(compiled_way, pandas_way) < 0.2
    assert list(compiled_way.columns) == list(pandas_way.columns) and compiled_way.index.equals(pandas_way.index)
    stats, like = compiled.compiled_statistics(returns, 3000, seed=1)
    assert relative_gap(compiled_way, panel.get_ci(0.8 * stats, like)) > 0.2  # a statistic 20% off is caught


@pytest.mark.parametrize("route", [compiled.numpy_ci, compiled.scipy_ci])
def test_other_routes_agree_with_the_compiled_one(returns, route):
    compiled_way = compiled.compiled_ci(returns, 3000, seed=1)
    other = route(returns, 3000, seed=3)
    assert list(other.columns) == list(compiled_way.columns)
    assert relative_gap(compiled_way, other) < 0.2


def test_scipy_route_can_time_a_subset(returns):
    part = compiled.scipy_ci(returns, 50, cells=3)
    assert part.notna().sum().sum() == 6  # three cells, two bounds each


def test_lecture_functions():
    np.random.seed(0)
    assert 0.45 < compiled.comp_with_np(200) < 0.55
    assert 0.45 < compiled.comp_with_numba(200) < 0.55
    prices = np.array([10.0, 12.0, 9.0, 11.0, 6.0, 13.0])
    assert compiled.max_drawdown_python(prices) == pytest.approx(0.5)
    assert compiled.max_drawdown_numba(prices) == pytest.approx(0.5)
    walk = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.001, 10_000)))
    assert compiled.max_drawdown_python(walk.tolist()) == compiled.max_drawdown_numba(walk)  # to the last bit
    assert compiled.sum_of_squares_parallel(np.arange(4.0)) == 14.0


def test_numbas_typing_error_is_no_type_error():
    with pytest.raises(numba.core.errors.TypingError) as failure:
        numba.njit(compiled.rv_with_pandas)(pd.DataFrame({"x": [1.0]}))
    assert isinstance(failure.value, numba.core.errors.NumbaError) and not isinstance(failure.value, TypeError)
    assert "Cannot determine Numba type of <class 'pandas.DataFrame'>" in str(failure.value)
