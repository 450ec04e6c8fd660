"""Lesson 11's checkers: the worked solutions pass, typical wrong answers get the matching hint."""
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import shared_memory

import numpy as np
import pytest

from helpers import data
from helpers.checks import CheckFailed
from helpers.checks.lesson11 import (N_SAMPLES, SEED, TICKERS, WORKERS, check_initializer_intervals,
                                     check_shared_cleanup, check_thread_limits, exercise_counts)
from helpers.panel import compute_rv, get_ci, usable_cpu_count
from helpers.sharing import (install_returns, installed_statistics, limit_threads, report_threads,
                             row_blocks, shared_column_sums, SharedArray, threads_per_worker)


# --- 11.1 thread limits --------------------------------------------------------------------------

def test_thread_limits_solution_passes(capsys):
    with ProcessPoolExecutor(WORKERS, initializer=limit_threads, initargs=(threads_per_worker(WORKERS),)) as pool:
        reports = list(pool.map(report_threads, range(2 * WORKERS)))
    check_thread_limits(reports)
    assert capsys.readouterr().out.startswith("Correct:")


def fake_reports(blas=1, numba=1, pid=None):
    return [{"pid": pid or os.getpid() + 1, "blas": blas, "numba": numba}] * WORKERS


too_many = threads_per_worker(WORKERS) + 1


@pytest.mark.parametrize("reports, phrase", [
    (iter(fake_reports()), "should be a list"),
    ([], "should be a list"),
    ([{"pid": 1}], "keys 'pid', 'blas' and 'numba'"),
    ([report_threads()], "come from this process"),
    (fake_reports(blas=too_many), "BLAS runs"),
    (fake_reports(numba=too_many), "Numba runs"),
])
def test_thread_limits_hints(reports, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_thread_limits(reports)


@pytest.mark.skipif(usable_cpu_count() < 2, reason="one core: a BLAS without limits already uses one thread")
def test_a_pool_without_limits_is_caught():
    with ProcessPoolExecutor(WORKERS) as pool:
        reports = list(pool.map(report_threads, range(WORKERS)))
    with pytest.raises(CheckFailed, match="more than the"):
        check_thread_limits(reports)


# --- 11.2 the returns sent once per worker -------------------------------------------------------

@pytest.fixture(scope="module")
def returns():
    days = data.trading_days_2007()
    prices = data.simulate_panel(4, tickers=(*TICKERS, "BA"), days=days[(days.month == 2)][:3]).prices
    return data.intraday_log_returns(prices)


def intervals(month, seed_batches):
    """Intervals from 2 workers holding ``month``, one task per batch of seeds, in order."""
    with ProcessPoolExecutor(2, initializer=install_returns, initargs=(month,)) as pool:
        stats = np.concatenate(list(pool.map(installed_statistics, seed_batches)))
    return get_ci(stats, like=compute_rv(month))


def test_initializer_solution_passes(returns, capsys):
    seeds = np.random.SeedSequence(SEED).spawn(N_SAMPLES)
    month = returns.loc["2007-02", TICKERS]
    check_initializer_intervals(intervals(month, [seeds[i:i + 125] for i in range(0, N_SAMPLES, 125)]), returns)
    assert capsys.readouterr().out.startswith("Correct:")


def test_initializer_wrong_answers_get_their_hints(returns):
    month = returns.loc["2007-02", TICKERS]
    seeds = np.random.SeedSequence(SEED).spawn(N_SAMPLES)
    per_batch_streams = [np.random.SeedSequence(SEED).spawn(125) for _ in range(8)]  # the same 125 again and again
    off_by_one = [seeds[i:i + 124] for i in range(0, N_SAMPLES, 125)]
    for answer in (intervals(month, per_batch_streams), intervals(month, off_by_one)):
        with pytest.raises(CheckFailed, match="differ from the serial compute_ci run"):
            check_initializer_intervals(answer, returns)
    with pytest.raises(CheckFailed, match="check the month and the stocks"):
        check_initializer_intervals(intervals(returns.loc["2007-02", TICKERS[:2]], [seeds]), returns)
    with pytest.raises(CheckFailed, match="should be the DataFrame"):
        check_initializer_intervals(np.zeros((3, 6)), returns)


# --- 11.3 a shared block, cleaned up -------------------------------------------------------------

def summed_in(block, counts, blocks):
    """Column totals of ``counts`` copied into ``block``, summed by 2 workers over ``blocks``."""
    np.ndarray(counts.shape, dtype=counts.dtype, buffer=block.buf)[...] = counts
    spec = SharedArray(block.name, counts.shape, counts.dtype.str)
    with ProcessPoolExecutor(2) as pool:
        return sum(pool.map(shared_column_sums, [spec] * len(blocks), *zip(*blocks)))


def run(close=True, unlink=True, blocks=None):
    """The exercise's answer, with its clean-up steps switched on or off."""
    counts = exercise_counts()
    block = shared_memory.SharedMemory(create=True, size=counts.nbytes)
    try:
        totals = summed_in(block, counts, blocks or row_blocks(len(counts), 4))
    finally:
        if close:
            block.close()
        if unlink:
            block.unlink()
    return block, totals


def test_shared_cleanup_solution_passes(capsys):
    check_shared_cleanup(*run())
    assert capsys.readouterr().out.startswith("Correct:")


def test_a_block_left_in_the_system_is_caught_and_removed():
    block, totals = run(unlink=False)
    with pytest.raises(CheckFailed, match="still exists in the system"):
        check_shared_cleanup(block, totals)
    with pytest.raises(FileNotFoundError):
        shared_memory.SharedMemory(name=block.name)
    block.close()


def test_a_block_left_open_is_caught():
    block, totals = run(close=False)
    with pytest.raises(CheckFailed, match="still has the block open"):
        check_shared_cleanup(block, totals)
    block.close()


def test_missing_rows_and_wrong_types_are_caught():
    n = len(exercise_counts())
    block, totals = run(blocks=[(0, n // 2), (n // 2 + 1, n)])
    with pytest.raises(CheckFailed, match="totals are off"):
        check_shared_cleanup(block, totals)
    with pytest.raises(CheckFailed, match="one sum per column"):
        check_shared_cleanup(block, totals.sum())
    with pytest.raises(CheckFailed, match="the SharedMemory object"):
        check_shared_cleanup(block.name, totals)
