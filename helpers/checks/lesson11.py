"""Checkers for the exercises of lesson 11 (moving data to workers, and thread limits)."""

import os
from multiprocessing import shared_memory

import numpy as np
import pandas as pd

from helpers.checks import CheckFailed, passed, require
from helpers.panel import compute_ci
from helpers.panel import usable_cpu_count
from helpers.sharing import threads_per_worker

# Exercise 11.1: report_threads from a pool of this many workers.
WORKERS = 3

# Exercise 11.2: intervals of these stocks in this month, as compute_ci gives them serially.
MONTH = "2007-02"
TICKERS = ["AAPL", "GE", "C"]
N_SAMPLES = 1000
SEED = 2024

# Exercise 11.3: column totals of this array, summed in a shared block.
ROWS, COLUMNS = 300_000, 4


def exercise_counts():
    """The array of exercise 11.3: whole numbers, so that sums in any order are exact."""
    return np.random.default_rng(11).integers(0, 1000, size=(ROWS, COLUMNS))


def check_thread_limits(reports):
    """Exercise 11.1: ``reports`` come from the pool's workers, whose BLAS and Numba each use
    at most as many threads as keeps threads x workers within the cores."""
    require(isinstance(reports, list) and reports and all(isinstance(r, dict) for r in reports),
            "`reports` should be a list of the dicts report_threads returns, one per task "
            "(collect pool.map's results with list(...) inside the with block).")
    require(all({"pid", "blas", "numba"} <= r.keys() for r in reports),
            "each report should be a dict with the keys 'pid', 'blas' and 'numba', as report_threads returns.")
    require(all(r["pid"] != os.getpid() for r in reports),
            "these reports come from this process, not from the pool's workers: run report_threads "
            "on the pool (pool.map or pool.submit).")
    cores, allowed = usable_cpu_count(), threads_per_worker(WORKERS)
    for library in ("blas", "numba"):
        most = max(r[library] for r in reports)
        require(most <= allowed,
                f"a worker's {'BLAS' if library == 'blas' else 'Numba'} runs {most} threads: {WORKERS} workers "
                f"x {most} threads is more than the {cores} cores. Set the limit inside each worker, as it "
                f"starts (an initializer), for both libraries.")
    passed("every worker's BLAS and Numba keep threads x workers within the cores.")


def check_initializer_intervals(ci, returns):
    """Exercise 11.2: ``ci`` equals the serial ``compute_ci`` of February's AAPL, GE and C
    (``returns`` is the full panel of the lesson)."""
    require(isinstance(ci, pd.DataFrame),
            f"`ci_february` should be the DataFrame get_ci returns, got {type(ci).__name__}.")
    month = returns.loc[MONTH, TICKERS]
    expected = compute_ci(month, N_SAMPLES, seed=SEED)
    require(ci.index.equals(expected.index) and ci.columns.equals(expected.columns),
            f"`ci_february` should have one row per trading day of February 2007 and columns (ticker, bound) "
            f"for {', '.join(TICKERS)}: check the month and the stocks you selected, and pass the "
            f"statistic of that data to get_ci as `like`.")
    require(ci.equals(expected),
            f"the intervals differ from the serial compute_ci run with seed {SEED}: sample i must draw from "
            f"SeedSequence({SEED}).spawn({N_SAMPLES})[i], and every sample must be computed exactly once "
            f"(check where your batches start and stop).")
    passed("the same intervals as the serial run, from returns sent once per worker.")


def _still_exists(name):
    """Whether a shared-memory block of that name is still in the system; if so, remove it."""
    try:
        leftover = shared_memory.SharedMemory(name=name)
    except FileNotFoundError:
        return False
    leftover.close()
    leftover.unlink()
    return True


def check_shared_cleanup(block, totals):
    """Exercise 11.3: ``totals`` are the column sums of :func:`exercise_counts`, and ``block``,
    the ``SharedMemory`` that held the array, is closed here and unlinked from the system."""
    require(isinstance(block, shared_memory.SharedMemory),
            f"`block` should be the SharedMemory object you created, got {type(block).__name__}.")
    if _still_exists(block.name):
        raise CheckFailed("the block still exists in the system after your cell ran: the process that "
                          "creates a block must unlink() it, in a finally block once the pool is done "
                          "(the checker removed it for you this time).")
    require(block.buf is None,
            "this process still has the block open: call block.close() in the finally block too "
            "(after deleting the NumPy arrays that use block.buf).")
    expected = exercise_counts().sum(axis=0)
    totals = np.asarray(totals)
    require(totals.shape == expected.shape,
            f"`totals` should hold one sum per column, shape {expected.shape}, got shape {totals.shape}.")
    require(np.array_equal(totals, expected),
            "the totals are off: do your row blocks cover every row exactly once, and did the array "
            "reach the block whole (same dtype and shape)?")
    passed("the right totals, and the block is closed and unlinked.")
