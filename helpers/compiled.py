"""Lesson 07: Numba, and lesson 06's bootstrap compiled.

Numba compiles a Python function working on NumPy arrays and numbers into machine code the
first time it is called (or loads that code from its on-disk cache with ``cache=True``). It does
not compile pandas objects or most of Python's library: NumPy arrays and loops go in, and
DataFrames are built around the compiled core.

The compiled bootstrap reproduces exactly from a seed whatever the number of threads: sample
``s`` draws from its own SplitMix64 stream, seeded with the ``s``-th word of
``SeedSequence(seed).generate_state(n_samples)``, not from per-thread generator state, and each
of its numbers is computed within one iteration of the parallel loop, so nothing is summed across
threads (a ``prange`` reduction such as :func:`sum_of_squares_parallel` is: its last bits depend
on the number of threads). Its quantiles are taken by compiled selection
(:func:`quantiles_by_cell`), equal to NumPy's.
"""

from contextlib import contextmanager

import numba
import numpy as np
import pandas as pd
from numba import njit, prange
from scipy import stats as scipy_stats

from helpers.panel import DEFAULT_SEED, LEVELS, check_returns, check_samples, compute_rv, day_labels, get_ci

# --------------------------------------------------------------------------------------------
# The lecture's example and a loop-heavy one


def comp_with_np(n):
    """Mean of an n x n matrix of uniform random numbers, in plain NumPy."""
    return np.random.random((n, n)).mean()


comp_with_numba = njit(cache=True)(comp_with_np)


def max_drawdown_python(prices):
    """Largest fall from a running peak, as a fraction of the peak, with a plain Python loop.

    Fastest in plain Python on a list of floats: iterating a NumPy array hands out NumPy scalars,
    whose arithmetic is slower than Python's own floats."""
    peak, worst = prices[0], 0.0
    for price in prices:
        peak = max(peak, price)
        worst = max(worst, 1.0 - price / peak)
    return worst


max_drawdown_numba = njit(cache=True)(max_drawdown_python)


def rv_with_pandas(returns):
    """Realized variance with pandas inside: Numba cannot compile this (see lesson 07)."""
    return (returns**2).groupby(returns.index.normalize()).sum()


def bipower_variation(returns):
    """Bipower variation per day and stock, with pandas: ``pi / 2`` times the sum of
    ``|r[i]| * |r[i - 1]|`` over consecutive returns of the same day (a pair never spans two days).
    Like realized variance it measures a day's variance, but a single jump inflates only two of
    its terms a little instead of one term a lot. Lesson 07's exercises compile it."""
    days = day_labels(returns)
    size = returns.abs()
    return np.pi / 2 * (size * size.groupby(days).shift(1)).groupby(days).sum(min_count=1)


@njit(parallel=True, cache=True)
def sum_of_squares_parallel(values):
    """Sum of squares with the loop split over Numba's threads (``prange``): a reduction. Each
    thread sums its share of the loop and the shares are added at the end, so the order of the
    additions, and with it the last bits of the float result, depends on the number of threads."""
    total = 0.0
    for i in prange(values.shape[0]):
        total += values[i] * values[i]
    return total


@contextmanager
def numba_threads(n):
    """Run the ``with`` block on ``n`` of Numba's threads, then return to the previous number.

    ``numba.set_num_threads`` only masks threads out: Numba launches ``NUMBA_NUM_THREADS`` of
    them (the number of cores unless that environment variable says otherwise when Numba is
    imported), and ``n`` is capped at that."""
    previous = numba.get_num_threads()
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


# --------------------------------------------------------------------------------------------
# The panel bootstrap, compiled


def returns_to_arrays(returns):
    """NumPy form of a returns DataFrame for compiled code.

    Returns ``values`` (rows x stocks, float64, NaN kept), ``offsets`` (the first row of each
    day, plus the number of rows at the end: day ``d`` is rows ``offsets[d]:offsets[d+1]``, so
    days may differ in length), and the realized variance of the data, whose index and columns
    label the results. Anything but a panel of returns is refused as lesson 06's bootstrap
    refuses it (:func:`helpers.panel.check_returns`)."""
    check_returns(returns)
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


_LOW_32_BITS = np.uint64(0xFFFFFFFF)


@njit(inline="always")
def _bounded(state, word32, length, threshold):
    """Lemire's multiply-shift: a uniform index in ``[0, length)`` from a 32-bit random word.

    ``word32 * length`` spreads the word over ``length`` buckets of 2**32 values; the high 32 bits
    name the bucket. ``threshold`` is ``2**32 % length``: the few products whose low 32 bits fall
    below it would make some buckets one value larger, so they are rejected and a fresh word is
    drawn (this happens with probability below ``length / 2**32``). Returns the new state and the
    index."""
    product = word32 * length
    while (product & _LOW_32_BITS) < threshold:
        state, word = _splitmix64(state)
        product = (word >> np.uint64(32)) * length
    return state, np.int64(product >> np.uint64(32))


@njit(cache=True)
def _squares_and_gaps(values, offsets):
    """What the bootstrap kernel reads (rows x stocks, so a row's squares for all stocks lie side
    by side): squared returns with missing ones as 0, 1.0 where a return exists, and which days
    have a missing return at all."""
    present = (~np.isnan(values)).astype(np.float64)
    squares = np.where(present > 0.0, values * values, 0.0)
    n_days = len(offsets) - 1
    day_has_gaps = np.zeros(n_days, dtype=np.bool_)
    for d in range(n_days):
        day_has_gaps[d] = present[offsets[d]:offsets[d + 1]].min() == 0.0
    return squares, present, day_has_gaps


@njit(inline="always")
def _count_draws(state, counts, n_rows):
    """Draw ``n_rows`` rows with replacement from ``n_rows``, two per 64-bit random word (one
    from each 32-bit half), and store how often each row was drawn in ``counts[:n_rows]``.
    Returns the generator's new state."""
    length = np.uint64(n_rows)
    threshold = (np.uint64(1 << 32) - length) % length  # 2**32 % length
    counts[:n_rows] = 0.0
    for j in range(0, n_rows, 2):
        state, word = _splitmix64(state)
        state, row = _bounded(state, word >> np.uint64(32), length, threshold)
        counts[row] += 1.0
        if j + 1 < n_rows:
            state, row = _bounded(state, word & _LOW_32_BITS, length, threshold)
            counts[row] += 1.0
    return state


_SAMPLES_PER_CHUNK = 25


@njit(parallel=True, cache=True)
def bootstrap_rv_compiled(values, offsets, sample_seeds):
    """Realized variance of one within-day bootstrap sample per seed (samples x days x stocks).

    Each day's rows are drawn with replacement from that day; sample ``s`` draws from its own
    SplitMix64 stream started at ``sample_seeds[s]``. A sample's realized variance for a day is
    the day's squared returns weighted by how often each row was drawn, so for a chunk of samples
    it is one matrix product, (samples x rows) counts times (rows x stocks) squares, which BLAS
    computes at full speed. A stock's missing returns (NaN) count as nothing, and a day on which
    all its drawn returns are missing gets NaN, as in pandas.

    Parallel over chunks of samples; within a chunk, day by day, so a day's data is read from
    memory once for all the chunk's samples. The chunks do not depend on the number of threads,
    and every number of a sample is computed inside its chunk's iteration (nothing is summed
    across threads), so the results do not depend on the number of threads either. Stored days
    x stocks x samples (each cell's samples side by side, as the quantiles want them) and
    returned as a samples x days x stocks view."""
    squares, present, day_has_gaps = _squares_and_gaps(values, offsets)
    n_samples, n_days, n_stocks = len(sample_seeds), len(offsets) - 1, values.shape[1]
    out = np.empty((n_days, n_stocks, n_samples))
    n_chunks = (n_samples + _SAMPLES_PER_CHUNK - 1) // _SAMPLES_PER_CHUNK
    for chunk in prange(n_chunks):
        first = chunk * _SAMPLES_PER_CHUNK
        states = sample_seeds[first:first + _SAMPLES_PER_CHUNK].copy()
        for d in range(n_days):
            start, n_rows = offsets[d], offsets[d + 1] - offsets[d]
            counts = np.empty((len(states), n_rows))
            for i in range(len(states)):
                states[i] = _count_draws(states[i], counts[i], n_rows)
            sums = counts @ squares[start:start + n_rows]
            if day_has_gaps[d]:
                sums = np.where(counts @ present[start:start + n_rows] == 0.0, np.nan, sums)
            out[d, :, first:first + len(states)] = sums.T
    return out.transpose(2, 0, 1)


@njit(inline="always")
def _select(buffer, low, high, k):
    """Rearrange ``buffer[low:high]`` so that ``buffer[k]`` holds the value a sort would put
    there, smaller or equal values before it and larger or equal ones after (quickselect, with
    the median of three as pivot)."""
    high -= 1
    while low < high:
        middle = (low + high) // 2
        if buffer[middle] < buffer[low]:
            buffer[middle], buffer[low] = buffer[low], buffer[middle]
        if buffer[high] < buffer[low]:
            buffer[high], buffer[low] = buffer[low], buffer[high]
        if buffer[high] < buffer[middle]:
            buffer[high], buffer[middle] = buffer[middle], buffer[high]
        pivot = buffer[middle]
        i, j = low, high
        while i <= j:
            while buffer[i] < pivot:
                i += 1
            while pivot < buffer[j]:
                j -= 1
            if i <= j:
                buffer[i], buffer[j] = buffer[j], buffer[i]
                i += 1
                j -= 1
        if k <= j:
            high = j
        elif k >= i:
            low = i
        else:
            return


@njit(inline="always")
def _extremes(values, m, largest):
    """The ``m`` smallest of ``values`` in ascending order (or, with ``largest``, the ``m``
    largest in descending order), in one pass: a value enters the short sorted list only if it
    beats the list's last entry, which after the first few values is rare."""
    sign = -1.0 if largest else 1.0
    kept = np.empty(m)
    count = 0
    for value in values:
        key = sign * value
        if count == m:
            if key >= kept[m - 1]:
                continue
            count -= 1
        j = count - 1
        while j >= 0 and kept[j] > key:
            kept[j + 1] = kept[j]
            j -= 1
        kept[j + 1] = key
        count += 1
    return sign * kept


_TAIL = 32  # ranks this close to either end are found by _extremes, others by _select


@njit(inline="always")
def _lerp(a, b, t):
    """NumPy's linear interpolation in ``np.quantile``, operation for operation (it is exact at
    both ends: from ``a`` below the middle, back from ``b`` above it)."""
    difference = b - a
    if t >= 0.5:
        return b - difference * (1 - t)
    return a + difference * t


@njit(parallel=True, cache=True)
def quantiles_by_cell(cells, levels):
    """``np.quantile(cells, levels, axis=1)``, NumPy's default 'linear' method to the last bit,
    for a (cells x samples) array, one cell per iteration of a ``prange`` loop: shape (levels,
    cells). NumPy partitions a copy of the whole array (``np.partition``) around every rank it
    needs; here each cell costs one pass near the ends and a quickselect elsewhere.

    For each level ``q``, position ``(n - 1) * q`` of the sorted samples lies between the values
    of rank ``floor`` and ``floor + 1``, interpolated as NumPy does. Near either end (a 99%
    interval's 0.5% and 99.5% quantiles) one pass keeping the few smallest or largest values finds
    them; elsewhere quickselect does. A cell with a NaN sample gets NaN."""
    n_cells, n = cells.shape
    out = np.empty((len(levels), n_cells))
    positions = (n - 1) * levels
    below = np.minimum(np.floor(positions), n - 1).astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    for c in prange(n_cells):
        samples = cells[c]
        if np.isnan(samples).any():
            out[:, c] = np.nan
            continue
        for q in range(len(levels)):
            if above[q] < _TAIL:
                smallest = _extremes(samples, above[q] + 1, False)
                low, high = smallest[below[q]], smallest[above[q]]
            elif n - below[q] <= _TAIL:
                largest = _extremes(samples, n - below[q], True)
                low, high = largest[n - 1 - below[q]], largest[n - 1 - above[q]]
            else:
                ordered = samples.copy()
                _select(ordered, 0, n, below[q])
                _select(ordered, below[q] + 1, n, above[q])
                low, high = ordered[below[q]], ordered[above[q]]
            out[q, c] = _lerp(low, high, positions[q] - below[q])
    return out


def _interval_frame(lower, upper, like):
    """Lower and upper bounds (days x stocks arrays) as lesson 06's interval DataFrame."""
    columns = pd.MultiIndex.from_product([like.columns, ["lower", "upper"]], names=["ticker", "bound"])
    return pd.DataFrame(np.stack([lower, upper], axis=-1).reshape(len(like), -1), index=like.index, columns=columns)


def compiled_statistics(returns, n_samples, seed=DEFAULT_SEED):
    """Bootstrap realized variances of ``returns`` from the compiled kernel, and their labels."""
    check_samples(n_samples)
    values, offsets, like = returns_to_arrays(returns)
    sample_seeds = np.random.SeedSequence(seed).generate_state(n_samples, dtype=np.uint64)
    return bootstrap_rv_compiled(values, offsets, sample_seeds), like


def compiled_ci(returns, n_samples, seed=DEFAULT_SEED):
    """Lesson 06's 99% intervals (same DataFrame format as ``panel.get_ci``), compiled from the
    draws to the quantiles."""
    stats, like = compiled_statistics(returns, n_samples, seed)
    cells = stats.transpose(1, 2, 0).reshape(-1, n_samples)  # the kernel's own layout: no copy
    lower, upper = quantiles_by_cell(cells, np.array(LEVELS))
    return _interval_frame(lower.reshape(like.shape), upper.reshape(like.shape), like)


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
    return _interval_frame(lower, upper, like)
