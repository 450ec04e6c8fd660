"""Lesson 07's checkers: the worked solutions pass, typical wrong answers get the matching hint."""
import numpy as np
import pytest
from numba import njit, prange

from helpers.checks import CheckFailed
from helpers.checks.lesson07 import check_bipower, check_bipower_parallel, sample_returns
from helpers.compiled import bipower_variation


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


bipower_loops_compiled = njit(bipower_loops)
without_constant = njit(lambda values, offsets: bipower_loops_compiled(values, offsets) * 2 / np.pi)
transposed = njit(lambda values, offsets: bipower_loops_compiled(values, offsets).T.copy())


def test_the_pandas_version_pairs_returns_within_a_day_only():
    returns = sample_returns(day_lengths=(3, 2), n_stocks=1)
    r = returns.iloc[:, 0].abs().to_numpy()
    expected = np.pi / 2 * np.array([r[1] * r[0] + r[2] * r[1], r[4] * r[3]])
    assert np.allclose(bipower_variation(returns).iloc[:, 0], expected, rtol=1e-12)


def test_worked_solutions_pass(capsys):
    check_bipower(bipower_loops_compiled)
    check_bipower_parallel(bipower_prange)
    assert capsys.readouterr().out.count("Correct:") == 2


@pytest.mark.parametrize("function, phrase", [
    (bipower_loops, "not compiled"),
    (across_days, "paired with the last return of the day before"),
    (without_constant, "off by the same factor"),
    (squares, "wrong values"),
    (transposed, "one row per day"),
    (njit(lambda values, offsets: list(bipower_loops_compiled(values, offsets)[0])), "return a NumPy array"),
])
def test_bipower_hints(function, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_bipower(function)


@pytest.mark.parametrize("function, phrase", [
    (bipower_loops, "not compiled"),
    (bipower_loops_compiled, "compile it with parallel=True"),
    (parallel_without_prange, "write the loop over days with prange"),
])
def test_bipower_parallel_hints(function, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_bipower_parallel(function)
