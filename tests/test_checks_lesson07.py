"""Lesson 07's checkers: the worked solutions and other right answers pass; each kind of wrong
answer (not compiled, not parallel, wrong values or shape, a race between threads) gets its hint,
and nothing the student can pass makes the checker crash."""
import numba
import numpy as np
import pytest
from numba import njit, prange

from helpers.checks import CheckFailed
from helpers.checks.lesson07 import (check_bipower, check_bipower_parallel, idle_prange_loops, race_arrays,
                                     sample_returns, shared_cell_additions, uses_object_mode)
from helpers.compiled import bipower_variation, numba_threads, returns_to_arrays


def bipower_loops(values, offsets):
    """The worked solution of 7.1, uncompiled."""
    n_days, n_stocks = len(offsets) - 1, values.shape[1]
    out = np.zeros((n_days, n_stocks))
    for d in range(n_days):
        for i in range(offsets[d] + 1, offsets[d + 1]):
            for k in range(n_stocks):
                out[d, k] += abs(values[i, k]) * abs(values[i - 1, k])
    return np.pi / 2 * out


@njit(parallel=True)
def bipower_prange(values, offsets):
    """The worked solution of 7.2."""
    n_days, n_stocks = len(offsets) - 1, values.shape[1]
    out = np.zeros((n_days, n_stocks))
    for d in prange(n_days):
        for i in range(offsets[d] + 1, offsets[d + 1]):
            for k in range(n_stocks):
                out[d, k] += abs(values[i, k]) * abs(values[i - 1, k])
    return np.pi / 2 * out


@njit(parallel=True)
def prange_over_stocks(values, offsets):
    """Race-free too: each stock's column belongs to one thread."""
    n_days, n_stocks = len(offsets) - 1, values.shape[1]
    out = np.zeros((n_days, n_stocks))
    for k in prange(n_stocks):
        for d in range(n_days):
            for i in range(offsets[d] + 1, offsets[d + 1]):
                out[d, k] += abs(values[i, k]) * abs(values[i - 1, k])
    return np.pi / 2 * out


@njit(parallel=True)
def reduction_over_rows(values, offsets):
    """Race-free: a scalar reduction, which Numba splits over threads and adds up itself (its last
    bits depend on the number of threads)."""
    n_days, n_stocks = len(offsets) - 1, values.shape[1]
    out = np.zeros((n_days, n_stocks))
    for d in range(n_days):
        for k in range(n_stocks):
            total = 0.0
            for i in prange(offsets[d] + 1, offsets[d + 1]):
                total += abs(values[i, k]) * abs(values[i - 1, k])
            out[d, k] = np.pi / 2 * total
    return out


@njit(parallel=True)
def private_row_per_day(values, offsets):
    """Race-free: each iteration adds into an array it made itself."""
    n_days, n_stocks = len(offsets) - 1, values.shape[1]
    out = np.zeros((n_days, n_stocks))
    for d in prange(n_days):
        row = np.zeros(n_stocks)
        for i in range(offsets[d] + 1, offsets[d + 1]):
            for k in range(n_stocks):
                row[k] += abs(values[i, k]) * abs(values[i - 1, k])
        out[d] = np.pi / 2 * row
    return out


@njit(parallel=True)
def race_over_rows(values, offsets):
    """The pitfall: the rows of a day split over threads that all add into the day's cells."""
    n_days, n_stocks = len(offsets) - 1, values.shape[1]
    out = np.zeros((n_days, n_stocks))
    for d in range(n_days):
        for i in prange(offsets[d] + 1, offsets[d + 1]):
            for k in range(n_stocks):
                out[d, k] += abs(values[i, k]) * abs(values[i - 1, k])
    return np.pi / 2 * out


@njit(parallel=True)
def race_the_source_hides(values, offsets):
    """The same race, with an index that looks as if it depended on the loop's variable: only
    running it on several threads shows it."""
    n_days, n_stocks = len(offsets) - 1, values.shape[1]
    out = np.zeros((n_days, n_stocks))
    for d in range(n_days):
        for i in prange(offsets[d] + 1, offsets[d + 1]):
            day = d + 0 * i
            for k in range(n_stocks):
                out[day, k] += abs(values[i, k]) * abs(values[i - 1, k])
    return np.pi / 2 * out


@njit(parallel=True)
def race_written_out(values, offsets):
    """The same race, written as out[d, k] = out[d, k] + ... instead of +=."""
    n_days, n_stocks = len(offsets) - 1, values.shape[1]
    out = np.zeros((n_days, n_stocks))
    for d in range(n_days):
        for i in prange(offsets[d] + 1, offsets[d + 1]):
            for k in range(n_stocks):
                out[d, k] = out[d, k] + abs(values[i, k]) * abs(values[i - 1, k])
    return np.pi / 2 * out


@njit(parallel=True)
def idle_prange(values, offsets):
    """A prange loop that does nothing next to the serial work: parallel in name only."""
    out = bipower_loops_compiled(values, offsets)
    for _ in prange(2):
        pass
    return out


@njit(parallel=True)
def prange_beside_serial_work(values, offsets):
    """A prange loop that reads the returns, next to serial loops that do all the work."""
    n_days, n_stocks = len(offsets) - 1, values.shape[1]
    out = np.zeros((n_days, n_stocks))
    first = np.zeros(1)
    for j in prange(1):
        first[j] = values[0, 0]
    for d in range(n_days):
        for i in range(offsets[d] + 1, offsets[d + 1]):
            for k in range(n_stocks):
                out[d, k] += abs(values[i, k]) * abs(values[i - 1, k])
    return np.pi / 2 * out


@njit(parallel=True)
def scaled_in_a_serial_loop(values, offsets):
    """Race-free, and the serial loop after the prange only scales the results (no returns read)."""
    n_days, n_stocks = len(offsets) - 1, values.shape[1]
    out = np.zeros((n_days, n_stocks))
    for d in prange(n_days):
        for i in range(offsets[d] + 1, offsets[d + 1]):
            for k in range(n_stocks):
                out[d, k] += abs(values[i, k]) * abs(values[i - 1, k])
    for d in range(n_days):
        for k in range(n_stocks):
            out[d, k] = out[d, k] * (np.pi / 2)
    return out


@njit
def in_object_mode(values, offsets):
    """The loops left to the interpreter inside a compiled function."""
    with numba.objmode(out="float64[:, :]"):
        out = bipower_loops(values, offsets)
    return out


@njit
def calls_object_mode(values, offsets):
    return in_object_mode(values, offsets)


@njit(parallel=True)
def parallel_around_object_mode(values, offsets):
    out = np.zeros((len(offsets) - 1, values.shape[1]))
    for d in prange(len(offsets) - 1):
        out[d] = in_object_mode(values, offsets)[d]
    return out


@njit
def across_days(values, offsets):
    n_days, n_stocks = len(offsets) - 1, values.shape[1]
    out = np.zeros((n_days, n_stocks))
    for d in range(n_days):
        for i in range(max(offsets[d], 1), offsets[d + 1]):  # the day's first row paired with the day before
            for k in range(n_stocks):
                out[d, k] += abs(values[i, k]) * abs(values[i - 1, k])
    return np.pi / 2 * out


@njit
def squares(values, offsets):
    out = np.zeros((len(offsets) - 1, values.shape[1]))
    for d in range(len(offsets) - 1):
        for i in range(offsets[d], offsets[d + 1]):
            out[d] += values[i] ** 2
    return out


@njit(parallel=True)
def parallel_without_prange(values, offsets):
    n_days, n_stocks = len(offsets) - 1, values.shape[1]
    out = np.zeros((n_days, n_stocks))
    for d in range(n_days):
        for i in range(offsets[d] + 1, offsets[d + 1]):
            for k in range(n_stocks):
                out[d, k] += abs(values[i, k]) * abs(values[i - 1, k])
    return np.pi / 2 * out


def with_pandas_inside(values, offsets):
    return bipower_variation(values)


bipower_loops_compiled = njit(bipower_loops)
without_constant = njit(lambda values, offsets: bipower_loops_compiled(values, offsets) * 2 / np.pi)
transposed = njit(lambda values, offsets: bipower_loops_compiled(values, offsets).T.copy())
as_list = njit(lambda values, offsets: list(bipower_loops_compiled(values, offsets)[0]))
zeros = njit(lambda values, offsets: np.zeros((len(offsets) - 1, values.shape[1])))
# Hard-coded: the notebook's answer typed in (here: computed once on other data) and returned.
_typed_in = bipower_variation(sample_returns(day_lengths=(5, 9, 4, 6), seed=1)).to_numpy()
hard_coded = njit(lambda values, offsets: _typed_in.copy())
three_parameters = njit(lambda values, offsets, scale: bipower_loops_compiled(values, offsets) * scale)
# Computed ahead from the checker's own sample data: the checker draws fresh returns on every call.
_ahead = bipower_variation(sample_returns(seed=7)).to_numpy()
computed_ahead = njit(lambda values, offsets: _ahead.copy())


def test_the_pandas_version_pairs_returns_within_a_day_only():
    returns = sample_returns(day_lengths=(3, 2), n_stocks=1)
    r = returns.iloc[:, 0].abs().to_numpy()
    expected = np.pi / 2 * np.array([r[1] * r[0] + r[2] * r[1], r[4] * r[3]])
    assert np.allclose(bipower_variation(returns).iloc[:, 0], expected, rtol=1e-12)


def test_worked_solutions_pass(capsys):
    check_bipower(bipower_loops_compiled)
    check_bipower_parallel(bipower_prange)
    assert capsys.readouterr().out.count("Correct:") == 2


@pytest.mark.parametrize("function", [prange_over_stocks, reduction_over_rows, scaled_in_a_serial_loop])
def test_other_race_free_answers_pass(function, capsys):
    check_bipower_parallel(function)
    assert capsys.readouterr().out.startswith("Correct:")


@pytest.mark.parametrize("function, phrase", [
    (bipower_loops, "not compiled"),
    (numba.jit(forceobj=True)(bipower_loops), "object mode"),
    (across_days, "paired with the last return of the day before"),
    (without_constant, "off by the same factor"),
    (squares, "wrong values"),
    (transposed, "one row per day"),
    (as_list, "return a NumPy array"),
    (zeros, "all zeros"),
    (hard_coded, "wrong values"),
    (computed_ahead, "wrong values"),
    (in_object_mode, "object mode"),
    (calls_object_mode, "object mode"),
    (njit(with_pandas_inside), "Numba could not compile"),
    (three_parameters, r"calls your function as function\(values, offsets\)"),
    (bipower_loops_compiled(*returns_to_arrays(sample_returns())[:2]), "Pass your function itself"),
])
def test_bipower_hints(function, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_bipower(function)


@pytest.mark.parametrize("function, phrase", [
    (bipower_loops, "not compiled"),
    (bipower_loops_compiled, "compile it with parallel=True"),
    (parallel_without_prange, "write one of the loops with prange"),
    (race_over_rows, r"adds into out\[d, k\].*a race"),
    (njit(parallel=True)(bipower_loops), "write one of the loops with prange"),
    (idle_prange, "does none of the work"),
    (prange_beside_serial_work, r"adds into out\[d, k\] outside its prange loop"),
    (parallel_around_object_mode, "object mode"),
    (race_written_out, r"adds into out\[d, k\].*a race"),
])
def test_bipower_parallel_hints(function, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_bipower_parallel(function)


def test_a_solution_loaded_from_numbas_disk_cache_passes(capsys):
    arrays = returns_to_arrays(sample_returns())[:2]
    njit(parallel=True, cache=True)(bipower_prange.py_func)(*arrays)  # compiled and saved (or loaded)
    loaded = njit(parallel=True, cache=True)(bipower_prange.py_func)
    loaded(*arrays)
    assert all(result.metadata is None for result in loaded.overloads.values())  # no parallel diagnostics kept
    check_bipower_parallel(loaded)
    assert capsys.readouterr().out.startswith("Correct:")


def test_the_race_gets_the_race_hint_even_on_one_thread():
    with numba_threads(1), pytest.raises(CheckFailed, match="a race"):
        check_bipower_parallel(race_over_rows)


def test_the_checkers_data_is_drawn_afresh():
    assert not sample_returns().equals(sample_returns())


def test_object_mode_is_found_through_calls():
    arrays = returns_to_arrays(sample_returns())[:2]
    calls_object_mode(*arrays)
    bipower_loops_compiled(*arrays)
    assert uses_object_mode(calls_object_mode) and not uses_object_mode(bipower_loops_compiled)


def test_a_prange_loop_that_reads_the_returns_is_not_idle():
    assert idle_prange_loops(idle_prange)
    for working in (bipower_prange, prange_over_stocks, reduction_over_rows, private_row_per_day):
        assert not idle_prange_loops(working), working.__name__


def test_the_source_tells_a_shared_cell_from_an_own_one():
    assert shared_cell_additions(race_over_rows) == ["out[d, k]"]
    assert shared_cell_additions(race_written_out) == ["out[d, k]"]
    for race_free in (bipower_prange, prange_over_stocks, reduction_over_rows, private_row_per_day,
                      race_the_source_hides):
        assert shared_cell_additions(race_free) == [], race_free.__name__


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="a race needs two of Numba's threads")
def test_a_race_the_source_hides_shows_when_it_runs():
    values, offsets = race_arrays()
    with numba_threads(1):
        one_thread = race_the_source_hides(values, offsets)
    assert np.allclose(one_thread, bipower_loops_compiled(values, offsets), rtol=1e-9)
    with pytest.raises(CheckFailed, match="differ from the one-thread run.*a race"):
        check_bipower_parallel(race_the_source_hides)


def test_a_reduction_differs_from_one_thread_only_in_the_last_bits():
    values, offsets = race_arrays()
    with numba_threads(1):
        one_thread = reduction_over_rows(values, offsets)
    assert np.allclose(reduction_over_rows(values, offsets), one_thread, rtol=1e-12, atol=0)
