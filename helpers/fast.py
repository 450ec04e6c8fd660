"""Lesson 07: Numba, and lesson 06's bootstrap compiled.

Numba compiles a Python function working on NumPy arrays and numbers into machine code the
first time it is called (or loads that code from its on-disk cache with ``cache=True``). It does
not compile pandas objects or most of Python's library: NumPy arrays and loops go in, and
DataFrames are built around the compiled core.

The compiled bootstrap reproduces exactly from a seed whatever the number of threads: sample
``s`` draws from its own SplitMix64 stream, seeded with the ``s``-th word of
``SeedSequence(seed).generate_state(n_samples)``, not from per-thread generator state.
"""

import numpy as np
import pandas as pd
from numba import njit, prange
from scipy import stats as scipy_stats

from helpers.panel import DEFAULT_SEED, LEVELS, compute_rv, day_labels, get_ci

# --------------------------------------------------------------------------------------------
# The lecture's example and a loop-heavy one


def comp_with_np(n):
    """Mean of an n x n matrix of uniform random numbers, in plain NumPy."""
    return np.random.random((n, n)).mean()


comp_with_numba = njit(cache=True)(comp_with_np)


def max_drawdown_python(prices):
    """Largest fall from a running peak, as a fraction of the peak, with a plain Python loop."""
    peak, worst = prices[0], 0.0
    for price in prices:
        peak = max(peak, price)
        worst = max(worst, 1.0 - price / peak)
    return worst


max_drawdown_numba = njit(cache=True)(max_drawdown_python)


def rv_with_pandas(returns):
    """Realized variance with pandas inside: Numba cannot compile this (see lesson 07)."""
    return (returns**2).groupby(returns.index.normalize()).sum()


@njit(parallel=True, cache=True)
def sum_of_squares_parallel(values):
    """Sum of squares with the loop split over Numba's threads (``prange``)."""
    total = 0.0
    for i in prange(values.shape[0]):
        total += values[i] * values[i]
    return total


# --------------------------------------------------------------------------------------------
# The panel bootstrap, compiled


def returns_to_arrays(returns):
    """NumPy form of a returns DataFrame for compiled code.

    Returns ``values`` (rows x stocks, float64, NaN kept), ``offsets`` (the first row of each
    day, plus the number of rows at the end: day ``d`` is rows ``offsets[d]:offsets[d+1]``, so
    days may differ in length), and the realized variance of the data, whose index and columns
    label the results."""
    days = day_labels(returns)
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    offsets = np.append(starts, len(returns)).astype(np.int64)
    return np.ascontiguousarray(returns.to_numpy(dtype=np.float64)), offsets, compute_rv(returns)


@njit(inline="always")
def _splitmix64(state):
    """One step of SplitMix64: the new state and a well-mixed 64-bit output."""
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@njit(parallel=True, cache=True, fastmath=True)
def bootstrap_rv_compiled(values, offsets, sample_seeds):
    """Realized variance of one within-day bootstrap sample per seed (samples x days x stocks).

    Parallel over samples. Each day's rows are drawn with replacement from that day; a stock's
    missing returns (NaN) are skipped, and a day on which all its drawn returns are missing gets
    NaN, as in pandas. The draws of a day are made once and then summed stock by stock, each sum
    kept in a register."""
    n_samples, n_days, n_stocks = len(sample_seeds), len(offsets) - 1, values.shape[1]
    missing = np.isnan(values).T.copy()
    squares = np.where(missing, 0.0, values.T * values.T)
    day_has_gaps = np.zeros((n_days, n_stocks), dtype=np.bool_)
    for d in range(n_days):
        for k in range(n_stocks):
            day_has_gaps[d, k] = missing[k, offsets[d]:offsets[d + 1]].any()
    longest_day = np.max(offsets[1:] - offsets[:-1])
    out = np.empty((n_samples, n_days, n_stocks))
    for s in prange(n_samples):
        state = sample_seeds[s]
        rows = np.empty(longest_day, dtype=np.int64)
        for d in range(n_days):
            start, length = offsets[d], offsets[d + 1] - offsets[d]
            for j in range(length):
                state, draw = _splitmix64(state)
                rows[j] = start + np.int64(((draw >> np.uint64(11)) * np.uint64(length)) >> np.uint64(53))
            for k in range(n_stocks):
                total = 0.0
                for j in range(length):
                    total += squares[k, rows[j]]
                out[s, d, k] = total
                if day_has_gaps[d, k]:
                    drawn_present = 0
                    for j in range(length):
                        drawn_present += not missing[k, rows[j]]
                    if drawn_present == 0:
                        out[s, d, k] = np.nan
    return out


def compiled_statistics(returns, n_samples, seed=DEFAULT_SEED):
    """Bootstrap realized variances of ``returns`` from the compiled kernel, and their labels."""
    values, offsets, like = returns_to_arrays(returns)
    sample_seeds = np.random.SeedSequence(seed).generate_state(n_samples, dtype=np.uint64)
    return bootstrap_rv_compiled(values, offsets, sample_seeds), like


def compiled_ci(returns, n_samples, seed=DEFAULT_SEED):
    """Lesson 06's 99% intervals (same DataFrame format as ``panel.get_ci``), compiled."""
    stats, like = compiled_statistics(returns, n_samples, seed)
    return get_ci(stats, like)


# --------------------------------------------------------------------------------------------
# The alternatives a user might reach for


def numpy_ci(returns, n_samples, seed=DEFAULT_SEED):
    """The same intervals with vectorized NumPy: per day, all samples' draws at once by fancy
    indexing. One generator for the whole run, so its draws differ from the other versions'."""
    values, offsets, like = returns_to_arrays(returns)
    missing = np.isnan(values)
    squares = np.where(missing, 0.0, values * values)
    rng = np.random.default_rng(seed)
    stats = np.empty((n_samples, *like.shape))
    for d in range(len(offsets) - 1):
        day = slice(offsets[d], offsets[d + 1])
        rows = rng.integers(0, offsets[d + 1] - offsets[d], size=(n_samples, offsets[d + 1] - offsets[d]))
        stats[:, d, :] = squares[day][rows].sum(axis=1)
        if missing[day].any():  # a stock none of whose drawn returns exist gets NaN, as in pandas
            stats[:, d, :][~(~missing[day])[rows].any(axis=1)] = np.nan
    return get_ci(stats, like)


def sum_of_squares(x, axis=-1):
    """Realized variance of one day's returns, vectorized as ``scipy.stats.bootstrap`` wants."""
    return np.sum(x * x, axis=axis)


def scipy_ci(returns, n_samples, seed=DEFAULT_SEED, cells=None):
    """The same intervals with ``scipy.stats.bootstrap``, one call per day and stock.

    ``cells`` limits the work to the first that many (day, stock) cells (the rest stay NaN), for
    timing a subset of this slow route. Missing returns are left out of each cell's data."""
    values, offsets, like = returns_to_arrays(returns)
    rng = np.random.default_rng(seed)
    lower, upper = np.full(like.shape, np.nan), np.full(like.shape, np.nan)
    todo = [(d, k) for d in range(like.shape[0]) for k in range(like.shape[1])][:cells]
    for d, k in todo:
        day = values[offsets[d]:offsets[d + 1], k]
        day = day[~np.isnan(day)]
        result = scipy_stats.bootstrap((day,), sum_of_squares, n_resamples=n_samples, vectorized=True,
                                       method="percentile", confidence_level=LEVELS[1] - LEVELS[0], rng=rng)
        lower[d, k], upper[d, k] = result.confidence_interval
    columns = pd.MultiIndex.from_product([like.columns, ["lower", "upper"]], names=["ticker", "bound"])
    return pd.DataFrame(np.stack([lower, upper], axis=-1).reshape(len(like), -1), index=like.index, columns=columns)
