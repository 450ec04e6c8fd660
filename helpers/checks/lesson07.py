"""Checkers for lesson 07's exercises: a loop-heavy daily statistic (bipower variation) compiled
with Numba, then run on every core with ``prange``, each checked against the pandas version."""

import numba
import numpy as np
import pandas as pd

from helpers.checks import CheckFailed, passed, require
from helpers.compiled import bipower_variation, returns_to_arrays

DAY_LENGTHS = (7, 3, 12, 5)  # uneven, so a loop that assumes equal days goes wrong
ROWS_PER_DAY_LONG = 2000  # rows per day of the parallel test, where threads have enough to share


def sample_returns(day_lengths=DAY_LENGTHS, n_stocks=3, seed=7):
    """A small returns panel with days of different lengths, as the lesson's functions expect."""
    rng = np.random.default_rng(seed)
    times = [pd.Timestamp("2007-01-03 09:31") + pd.Timedelta(days=d, minutes=m)
             for d, n in enumerate(day_lengths) for m in range(n)]
    return pd.DataFrame(rng.normal(0, 1e-3, (len(times), n_stocks)), index=pd.DatetimeIndex(times, name="time"),
                        columns=[f"S{k}" for k in range(n_stocks)])


def _across_days(values):
    """The wrong answer that runs the pairs over the whole series, day boundaries included."""
    pairs = np.abs(values[1:]) * np.abs(values[:-1])
    return np.pi / 2 * np.vstack([np.zeros((1, values.shape[1])), pairs])


def _check_values(function, returns):
    """Call ``function(values, offsets)`` on ``returns`` and compare with the pandas version."""
    values, offsets, _ = returns_to_arrays(returns)
    expected = bipower_variation(returns).to_numpy()
    got = function(values, offsets)
    require(isinstance(got, np.ndarray), f"the function returned a {type(got).__name__}: return a NumPy array")
    require(got.shape == expected.shape, f"the result has shape {got.shape}; it needs one row per day and one "
                                         f"column per stock, {expected.shape}")
    if np.allclose(got, expected, rtol=1e-10, atol=0):
        return
    with_boundaries = np.add.reduceat(_across_days(values), offsets[:-1], axis=0)
    require(not np.allclose(got, with_boundaries, rtol=1e-10, atol=0),
            "the first return of a day is paired with the last return of the day before: start each day's "
            "pairs at its second row")
    ratio = got / expected
    require(not np.allclose(ratio, ratio.flat[0], rtol=1e-10),
            "every value is off by the same factor: check the constant in front of the sum")
    raise CheckFailed("wrong values: compare one day by hand with bipower_variation's definition "
                      "(absolute values of consecutive returns of the same day)")


def _require_compiled(function):
    require(isinstance(function, numba.core.dispatcher.Dispatcher),
            f"{getattr(function, '__name__', function)} is not compiled: decorate it with Numba's @njit")


def check_bipower(function):
    """Exercise 7.1: a compiled ``function(values, offsets)`` giving pandas' bipower variation."""
    _require_compiled(function)
    _check_values(function, sample_returns())
    passed("the compiled bipower variation matches the pandas version, on days of different lengths")


def prange_loop_count(function):
    """How many ``prange`` loops Numba turned into parallel loops in ``function``'s compiled
    versions (array expressions it parallelises on its own, such as ``np.zeros``, not counted)."""
    diagnostics = [result.metadata.get("parfor_diagnostics") for result in function.overloads.values()]
    return sum(1 for found in diagnostics if found is not None for parfor in found.initial_parfors
               for pattern in parfor.patterns if isinstance(pattern, tuple) and pattern[0] == "prange")


def check_bipower_parallel(function):
    """Exercise 7.2: the same, with its loop run on all of Numba's threads; same result on one
    thread as on all of them."""
    _require_compiled(function)
    require(function.targetoptions.get("parallel"), "not parallel: compile it with parallel=True")
    returns = sample_returns(day_lengths=(ROWS_PER_DAY_LONG,) * 8, n_stocks=4)
    _check_values(function, returns)
    require(prange_loop_count(function) > 0,
            "not parallel: Numba found no loop to split over threads; write the loop over days with prange")
    values, offsets, _ = returns_to_arrays(returns)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one_thread = function(values, offsets)
    finally:
        numba.set_num_threads(threads)
    require(np.array_equal(one_thread, function(values, offsets)),
            "different results on one thread and on all: threads write into the same cells; let each "
            "iteration of the prange loop own the cells it writes")
    passed("bipower variation on all of Numba's threads, equal to pandas and to a one-thread run")
