"""Lesson 11's checkers: the worked solutions pass under fork and spawn, and every class of wrong
answer (serial, hard-coded, fabricated, empty, the lesson's pitfalls, wrong shapes) gets its hint:

* 11.1, thread limits: a limit set in this process instead of inside each worker (inherited by
  forked workers only), environment variables, a fixed count, too many threads, no limit (also on
  one core, where the libraries' default is the share), a string of code run in the workers;
* 11.2, data once per worker: the data sent with every task, the course's one-line helper, a serial
  run, samples computed in this process (instead of the pool's, or after them), the course's own
  bootstrap run after the pool's, wrong seeds, other data, returns stored in this process for forked
  workers to inherit, a wrong prediction of the megabytes sent;
* 11.3, a shared block: not removed, removed on success only, left open, the array sent with every
  task, missing rows, an error swallowed, the lesson's shared_copy doing the work, a block read with
  another dtype.
"""
import functools
import multiprocessing
import os
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import shared_memory

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from helpers import sharing
from helpers.checks import CheckFailed, lesson11
from helpers.checks.evidence import calls_in_this_process
from helpers.checks.lesson11 import (BATCHES, MONTH, TICKERS, FailingPool, PoolMaker, SimulatedFailure,
                                     check_once_per_worker, check_shared_totals, check_thread_limits,
                                     exercise_counts)
from helpers.data import intraday_log_returns, load_prices
from helpers.panel import compute_ci, compute_rv, get_ci, samples_to_statistics, usable_cpu_count
from helpers.sharing import (SharedArray, compute_ci_initializer, copied_column_sums, install_returns,
                             installed_statistics, limit_threads, report_threads, row_blocks, shared_column_sums,
                             shared_copy, threads_per_worker)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = [m for m in ("fork", "spawn") if m in multiprocessing.get_all_start_methods()]
# The start method of the tests that are not about it: the quickest there is.
QUICK = multiprocessing.get_context(METHODS[0])
TWO_CORES = pytest.mark.skipif(usable_cpu_count() < 2, reason="on one core every count of threads is the share")


@pytest.fixture(params=METHODS)
def context(request):
    return multiprocessing.get_context(request.param)


# --- 11.1 thread limits --------------------------------------------------------------------------

def start_limited_pool(workers, make_pool):
    """The worked solution."""
    return make_pool(max_workers=workers, initializer=limit_threads, initargs=(threads_per_worker(workers),))


def test_thread_limits_solution_passes_and_its_pool_works(context, capsys):
    check_thread_limits(start_limited_pool, mp_context=context)
    assert capsys.readouterr().out.startswith("Correct: what your pool runs in each worker as it starts")
    with start_limited_pool(2, ProcessPoolExecutor) as pool:  # what the student tries in the notebook
        assert all(r["numba"] <= threads_per_worker(2) for r in pool.map(report_threads, range(4)))


@pytest.fixture
def limited_here():
    """This process limited to one BLAS and one Numba thread, as a notebook cell could do it; lifted
    afterwards."""
    previous = numba.get_num_threads()
    with threadpool_limits(1):
        numba.set_num_threads(1)
        try:
            yield
        finally:
            numba.set_num_threads(previous)


@TWO_CORES
def test_a_limit_set_in_this_process_is_caught_even_when_fork_would_inherit_it(context, limited_here):
    def limited_here_only(workers, make_pool):
        return make_pool(max_workers=workers)

    with pytest.raises(CheckFailed, match=r"This notebook's process holds limits .*a worker started afresh inherits"):
        check_thread_limits(limited_here_only, mp_context=context)


@TWO_CORES
def test_a_pool_without_any_limit_is_caught():
    with pytest.raises(CheckFailed, match=r"2-worker pool, started afresh, runs BLAS on \d+ threads"):
        check_thread_limits(lambda workers, make_pool: make_pool(max_workers=workers), mp_context=QUICK)


@TWO_CORES
def test_environment_variables_are_caught_and_the_environment_is_left_as_it_was(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)

    def through_the_environment(workers, make_pool):
        os.environ["OPENBLAS_NUM_THREADS"] = str(threads_per_worker(workers))
        return make_pool(max_workers=workers)

    with pytest.raises(CheckFailed, match="sets OPENBLAS_NUM_THREADS in this process's environment"):
        check_thread_limits(through_the_environment, mp_context=QUICK)
    assert "OPENBLAS_NUM_THREADS" not in os.environ
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # set before the check: kept from the workers, then restored
    check_thread_limits(start_limited_pool, mp_context=QUICK)
    assert os.environ["OMP_NUM_THREADS"] == "1"


@TWO_CORES
@pytest.mark.parametrize("threads, phrase", [
    (lambda workers: 1, r"1-worker pool runs (BLAS|Numba) on 1 thread\(s\) where the rule allows"),  # a fixed count
    (lambda workers: usable_cpu_count(), "is more than the"),  # every core in every worker
])
def test_a_count_that_ignores_the_workers_is_caught(threads, phrase):
    def answer(workers, make_pool):
        return make_pool(max_workers=workers, initializer=limit_threads, initargs=(threads(workers),))

    with pytest.raises(CheckFailed, match=phrase):
        check_thread_limits(answer, mp_context=QUICK)


def test_a_pool_without_any_limit_is_caught_on_one_core_too(monkeypatch, capsys):
    """On one core the libraries' own default, one thread, is the share: the checker's workers start
    above it, so that only a limit the pool sets passes."""
    for module in (lesson11, sharing):
        monkeypatch.setattr(module, "usable_cpu_count", lambda: 1)
    with pytest.raises(CheckFailed, match=r"1-worker pool, started afresh, runs BLAS on 2 threads \(the check starts"):
        check_thread_limits(lambda workers, make_pool: make_pool(max_workers=workers), mp_context=QUICK)
    check_thread_limits(start_limited_pool, mp_context=QUICK)
    assert capsys.readouterr().out.rstrip().endswith("for 1 worker.")


def test_a_string_of_code_as_the_initializer_is_refused():
    def through_exec(workers, make_pool):
        code = f"from helpers.sharing import limit_threads; limit_threads({threads_per_worker(workers)})"
        return make_pool(max_workers=workers, initializer=exec, initargs=(code,))

    with pytest.raises(CheckFailed, match="runs a string of code"):
        check_thread_limits(through_exec, mp_context=QUICK)


def test_wrong_shapes_of_the_thread_answer_get_hints():
    with pytest.raises(CheckFailed, match="Pass your function itself"):
        check_thread_limits(ProcessPoolExecutor(1), mp_context=QUICK)
    with pytest.raises(CheckFailed, match="calls your function as start_limited_pool"):
        check_thread_limits(lambda workers: None, mp_context=QUICK)
    with pytest.raises(CheckFailed, match="never called make_pool"):
        check_thread_limits(lambda workers, make_pool: ProcessPoolExecutor(workers), mp_context=QUICK)
    with pytest.raises(CheckFailed, match="should return the pool it made"):
        check_thread_limits(lambda workers, make_pool: [make_pool(max_workers=workers)], mp_context=QUICK)
    with pytest.raises(CheckFailed, match="started one of 2"):
        check_thread_limits(lambda workers, make_pool: make_pool(max_workers=2), mp_context=QUICK)
    with pytest.raises(CheckFailed, match="defined in the notebook"):
        check_thread_limits(lambda workers, make_pool: make_pool(max_workers=workers, initializer=lambda: None),
                            mp_context=QUICK)
    with pytest.raises(CheckFailed, match="initializer failed inside a worker"):
        check_thread_limits(lambda workers, make_pool: make_pool(max_workers=workers, initializer=limit_threads),
                            mp_context=QUICK)

    def shut_already(workers, make_pool):
        with make_pool(max_workers=workers) as pool:
            return pool

    def used_already(workers, make_pool):
        pool = make_pool(max_workers=workers)
        pool.submit(pow, 2, 3).result()
        return pool

    with pytest.raises(CheckFailed, match="already shut down"):
        check_thread_limits(shut_already, mp_context=QUICK)
    with pytest.raises(CheckFailed, match="used the pool before returning it"):
        check_thread_limits(used_already, mp_context=QUICK)


# --- 11.2 the returns sent once per worker, and the prediction ------------------------------------

def batches_of(seeds):
    size = -(-len(seeds) // BATCHES)
    return [seeds[start:start + size] for start in range(0, len(seeds), size)]


def intervals_once_per_worker(month, n_samples, seed, make_pool):
    """The worked solution."""
    with make_pool(max_workers=2, initializer=install_returns, initargs=(month,)) as pool:
        batches = batches_of(np.random.SeedSequence(seed).spawn(n_samples))
        stats = np.concatenate(list(pool.map(installed_statistics, batches)))
    return get_ci(stats, like=compute_rv(month))


@pytest.fixture(scope="module")
def prediction():
    """The worked prediction, from one pickled February."""
    february = intraday_log_returns(load_prices(os.path.join(ROOT, "data"), tickers=TICKERS)).loc[MONTH]
    size = len(pickle.dumps(february)) / 1e6
    return {"with every task": BATCHES * size, "once per worker": 2 * size}


@pytest.fixture(autouse=True)
def in_the_notebooks_folder(monkeypatch):
    """The checkers run where the notebooks do (they read ../data)."""
    monkeypatch.chdir(os.path.join(ROOT, "notebooks"))


def test_once_per_worker_solution_passes(context, prediction, capsys):
    check_once_per_worker(intervals_once_per_worker, prediction, mp_context=context)
    assert capsys.readouterr().out.startswith("Correct: the serial intervals, from statistics your pool's workers")


def every_task(month, n_samples, seed, make_pool):  # lesson 06's way: the month with every batch
    with make_pool(max_workers=2) as pool:
        batches = batches_of(np.random.SeedSequence(seed).spawn(n_samples))
        stats = np.concatenate(list(pool.map(samples_to_statistics, [month] * len(batches), batches)))
    return get_ci(stats, like=compute_rv(month))


def both_ways(month, n_samples, seed, make_pool):  # installed, and sent with every task all the same
    with make_pool(max_workers=2, initializer=install_returns, initargs=(month,)) as pool:
        batches = batches_of(np.random.SeedSequence(seed).spawn(n_samples))
        stats = np.concatenate(list(pool.map(samples_to_statistics, [month] * len(batches), batches)))
    return get_ci(stats, like=compute_rv(month))


def same_streams_per_batch(month, n_samples, seed, make_pool):
    with make_pool(max_workers=2, initializer=install_returns, initargs=(month,)) as pool:
        batches = [np.random.SeedSequence(seed).spawn(n_samples // BATCHES) for _ in range(BATCHES)]
        stats = np.concatenate(list(pool.map(installed_statistics, batches)))
    return get_ci(stats, like=compute_rv(month))


def one_short_per_batch(month, n_samples, seed, make_pool):
    with make_pool(max_workers=2, initializer=install_returns, initargs=(month,)) as pool:
        stats = np.concatenate(list(pool.map(installed_statistics, [b[:-1] for b in batches_of(
            np.random.SeedSequence(seed).spawn(n_samples))])))
    return get_ci(stats, like=compute_rv(month))


def hard_coded_seed(month, n_samples, seed, make_pool):
    return intervals_once_per_worker(month, n_samples, 2024, make_pool)


def other_data(month, n_samples, seed, make_pool):
    return intervals_once_per_worker(month * 2, n_samples, seed, make_pool)


def fabricated(month, n_samples, seed, make_pool):  # the pool is started, the work done here
    with make_pool(max_workers=2, initializer=install_returns, initargs=(month,)):
        return compute_ci(month, n_samples, seed=seed)


def inherited_from_this_process(month, n_samples, seed, make_pool):  # forked workers see it, fresh ones do not
    install_returns(month)
    try:
        with make_pool(max_workers=2, initializer=None, initargs=(month,)) as pool:
            batches = batches_of(np.random.SeedSequence(seed).spawn(n_samples))
            stats = np.concatenate(list(pool.map(installed_statistics, batches)))
    finally:
        sharing._returns = None
    return get_ci(stats, like=compute_rv(month))


def installed_by_a_partial(month, n_samples, seed, make_pool):  # the month in the initializer itself: once per worker
    with make_pool(max_workers=2, initializer=functools.partial(install_returns, month)) as pool:
        batches = batches_of(np.random.SeedSequence(seed).spawn(n_samples))
        stats = np.concatenate(list(pool.map(installed_statistics, batches)))
    return get_ci(stats, like=compute_rv(month))


def test_returns_inherited_by_forked_workers_are_caught_and_a_partial_initializer_passes(prediction, capsys):
    fork = multiprocessing.get_context("fork") if "fork" in METHODS else QUICK
    with pytest.raises(CheckFailed, match="Start the pool with initializer=install_returns"):
        check_once_per_worker(inherited_from_this_process, prediction, mp_context=fork)
    check_once_per_worker(installed_by_a_partial, prediction, mp_context=QUICK)
    assert capsys.readouterr().out.startswith("Correct: ")


def pool_then_serial(month, n_samples, seed, make_pool):  # the pool's work done, then thrown away
    intervals_once_per_worker(month, n_samples, seed, make_pool)
    return compute_ci(month, n_samples, seed=seed)


def pool_then_the_courses_helper(month, n_samples, seed, make_pool):  # the pool's work, then the helper's
    intervals_once_per_worker(month, n_samples, seed, make_pool)
    return compute_ci_initializer(month, n_samples, seed=seed)


def lesson06_helper_on_the_pool(month, n_samples, seed, make_pool):  # compute_ci's executor= option
    with make_pool(max_workers=2, initializer=install_returns, initargs=(month,)) as pool:
        return compute_ci(month, n_samples, seed=seed, executor=pool, batch_size=-(-n_samples // BATCHES))


def nothing_installed(month, n_samples, seed, make_pool):
    with make_pool(max_workers=2) as pool:
        batches = batches_of(np.random.SeedSequence(seed).spawn(n_samples))
        stats = np.concatenate(list(pool.map(installed_statistics, batches)))
    return get_ci(stats, like=compute_rv(month))


@pytest.mark.parametrize("answer, phrase", [
    (every_task, r"of your 8 tasks carried the month's returns"),
    (both_ways, r"of your 8 tasks carried the month's returns"),
    (lambda month, n, seed, make_pool: compute_ci(month, n, seed=seed), "never called make_pool"),  # serial
    (lambda month, n, seed, make_pool: compute_ci_initializer(month, n, seed=seed), "never called make_pool"),
    (same_streams_per_batch, "some of them twice or from another seed"),
    (one_short_per_batch, r"received 88 seeds\."),
    (hard_coded_seed, "some of them twice or from another seed"),
    (other_data, "other returns than the month your function was given"),
    (fabricated, r"samples_to_statistics\) ran \d+ time\(s\) in this notebook's process"),
    (pool_then_serial, r"samples_to_statistics\) ran \d+ time\(s\) in this notebook's process"),
    (pool_then_the_courses_helper, "also ran the course's bootstrap_statistics_initializer"),
    (lesson06_helper_on_the_pool, r"of your 8 tasks carried the month's returns"),
    (nothing_installed, "this worker holds no returns"),
    (lambda month, n, seed, make_pool: None, "Wrong type"),
    (lambda month, n, seed, make_pool: intervals_once_per_worker(month, n, seed, make_pool).iloc[:0],
     "one row per day"),  # empty
    (lambda month, n, seed: None, "calls your function as intervals_once_per_worker"),
])
def test_once_per_worker_wrong_answers_get_their_hints(answer, phrase, prediction):
    with pytest.raises(CheckFailed, match=phrase):
        check_once_per_worker(answer, prediction, mp_context=QUICK)


def test_the_data_sent_with_every_task_is_caught_under_every_start_method(context, prediction):
    with pytest.raises(CheckFailed, match=r"of your 8 tasks carried the month's returns"):
        check_once_per_worker(every_task, prediction, mp_context=context)


def test_intervals_of_other_days_or_samples_are_caught(prediction):
    def reversed_days(month, n_samples, seed, make_pool):
        with make_pool(max_workers=2, initializer=install_returns, initargs=(month,)) as pool:
            batches = batches_of(np.random.SeedSequence(seed).spawn(n_samples))
            stats = np.concatenate(list(pool.map(installed_statistics, batches))[::-1])
        return get_ci(stats, like=compute_rv(month)).iloc[::-1]

    def half_the_samples(month, n_samples, seed, make_pool):
        with make_pool(max_workers=2, initializer=install_returns, initargs=(month,)) as pool:
            batches = batches_of(np.random.SeedSequence(seed).spawn(n_samples))
            stats = np.concatenate(list(pool.map(installed_statistics, batches)))
        return get_ci(stats[:n_samples // 2], like=compute_rv(month))

    with pytest.raises(CheckFailed, match="one row per day"):
        check_once_per_worker(reversed_days, prediction, mp_context=QUICK)
    with pytest.raises(CheckFailed, match="return get_ci of all the statistics"):
        check_once_per_worker(half_the_samples, prediction, mp_context=QUICK)


@pytest.mark.parametrize("change, phrase", [
    (lambda p: {"with every task": p["with every task"]}, "should be a dict with the keys"),
    (lambda p: {key: "many" for key in p}, "should be numbers of megabytes"),
    (lambda p: {key: value * 1e6 for key, value in p.items()}, r"give megabytes \(bytes / 1e6\)"),
    (lambda p: {**p, "with every task": p["once per worker"]},
     r"with every task, as in lesson 06 \(how many tasks\?\)"),
    (lambda p: {**p, "once per worker": p["once per worker"] / 2}, r"how many workers receive it\?"),
    (lambda p: {**p, "once per worker": -1}, "positive number"),
])
def test_a_wrong_prediction_gets_its_hint(change, phrase, prediction):
    with pytest.raises(CheckFailed, match=phrase):
        check_once_per_worker(intervals_once_per_worker, change(prediction), mp_context=QUICK)


def test_the_prediction_needs_the_lessons_data(monkeypatch, tmp_path, prediction):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckFailed, match="reads February from ../data"):
        check_once_per_worker(intervals_once_per_worker, prediction, mp_context=QUICK)


# --- 11.3 a shared block, cleaned up ---------------------------------------------------------------

def summed(block, counts, make_pool, task=shared_column_sums, blocks=4):
    np.ndarray(counts.shape, dtype=counts.dtype, buffer=block.buf)[...] = counts
    spec = SharedArray(block.name, counts.shape, counts.dtype.str)
    ranges = row_blocks(len(counts), blocks) if isinstance(blocks, int) else blocks
    with make_pool(max_workers=2) as pool:
        return sum(pool.map(task, [spec] * len(ranges), *zip(*ranges)))


def shared_column_totals(counts, make_pool):
    """The worked solution."""
    block = shared_memory.SharedMemory(create=True, size=counts.nbytes)
    try:
        return summed(block, counts, make_pool)
    finally:
        block.close()
        block.unlink()


def test_shared_totals_solution_passes(context, capsys):
    check_shared_totals(shared_column_totals, mp_context=context)
    assert capsys.readouterr().out.startswith("Correct: the right totals, summed by the pool's workers")
    assert np.array_equal(shared_column_totals(exercise_counts(), ProcessPoolExecutor), exercise_counts().sum(axis=0))


def never_unlinked(counts, make_pool):
    block = shared_memory.SharedMemory(create=True, size=counts.nbytes)
    try:
        return summed(block, counts, make_pool)
    finally:
        block.close()


def cleaned_on_success_only(counts, make_pool):
    block = shared_memory.SharedMemory(create=True, size=counts.nbytes)
    totals = summed(block, counts, make_pool)
    block.close()
    block.unlink()
    return totals


KEPT_OPEN = []


def left_open(counts, make_pool):
    block = shared_memory.SharedMemory(create=True, size=counts.nbytes)
    KEPT_OPEN.append(block)
    try:
        return summed(block, counts, make_pool)
    finally:
        block.unlink()


def swallowed(counts, make_pool):
    block = shared_memory.SharedMemory(create=True, size=counts.nbytes)
    try:
        return summed(block, counts, make_pool)
    except Exception:
        return np.zeros(counts.shape[1], dtype=counts.dtype)
    finally:
        block.close()
        block.unlink()


def copied_with_every_task(counts, make_pool):
    ranges = row_blocks(len(counts), 4)
    with make_pool(max_workers=2) as pool:
        return sum(pool.map(copied_column_sums, [counts] * 4, *zip(*ranges)))


def rows_missed(counts, make_pool):
    n = len(counts)
    block = shared_memory.SharedMemory(create=True, size=counts.nbytes)
    try:
        return summed(block, counts, make_pool, blocks=[(0, n // 2), (n // 2 + 1, n)])
    finally:
        block.close()
        block.unlink()


def in_one_task(counts, make_pool):
    block = shared_memory.SharedMemory(create=True, size=counts.nbytes)
    try:
        return summed(block, counts, make_pool, blocks=1)
    finally:
        block.close()
        block.unlink()


def with_the_lessons_helper(counts, make_pool):
    with shared_copy(counts) as spec, make_pool(max_workers=2) as pool:
        ranges = row_blocks(len(counts), 4)
        return sum(pool.map(shared_column_sums, [spec] * 4, *zip(*ranges)))


def read_as_floats(counts, make_pool):
    block = shared_memory.SharedMemory(create=True, size=counts.nbytes)
    try:
        np.ndarray(counts.shape, dtype=counts.dtype, buffer=block.buf)[...] = counts
        spec = SharedArray(block.name, counts.shape, "float64")
        with make_pool(max_workers=2) as pool:
            return sum(pool.map(shared_column_sums, [spec] * 4, *zip(*row_blocks(len(counts), 4))))
    finally:
        block.close()
        block.unlink()


def test_a_block_left_in_the_system_is_caught_and_removed():
    with pytest.raises(CheckFailed, match="still existed in the system after your function returned"):
        check_shared_totals(never_unlinked, mp_context=QUICK)


def test_a_clean_up_that_a_failure_skips_is_caught_and_the_block_removed(context):
    with pytest.raises(CheckFailed, match="When a task failed, your block stayed in the system"):
        check_shared_totals(cleaned_on_success_only, mp_context=context)


def test_a_block_left_open_is_caught():
    try:
        with pytest.raises(CheckFailed, match="still has the block open"):
            check_shared_totals(left_open, mp_context=QUICK)
    finally:
        for block in KEPT_OPEN:
            block.close()
        KEPT_OPEN.clear()


@pytest.mark.parametrize("answer, phrase", [
    (swallowed, "returned as if nothing had happened"),
    (copied_with_every_task, r"of your tasks carried the array itself"),
    (lambda counts, make_pool: counts.sum(axis=0), "never called make_pool"),  # serial
    (lambda counts, make_pool: exercise_counts().sum(axis=0)[:3], "never called make_pool"),  # hard-coded
    (rows_missed, "do not cover every row exactly once"),
    (in_one_task, "All the rows went in one task"),
    (lambda counts, make_pool: shared_column_totals(counts, make_pool).sum(), "Wrong shape"),
    (lambda counts, make_pool: shared_column_totals(counts, make_pool) + 1, "not the sums of what your tasks returned"),
    (lambda counts: None, "calls your function as shared_column_totals"),
    (with_the_lessons_helper, "lets the lesson's shared_copy create and remove the block"),
    (read_as_floats, "read something other than the array you were given"),
])
def test_shared_totals_wrong_answers_get_their_hints(answer, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_shared_totals(answer, mp_context=QUICK)


def test_the_failing_pool_fails_its_second_task_only():
    with FailingPool(2, mp_context=QUICK) as pool:
        first, second, third = (pool.submit(pow, 2, n) for n in (1, 2, 3))
        assert first.result() == 2 and third.result() == 8
        with pytest.raises(SimulatedFailure):
            second.result()


@pytest.mark.skipif("fork" not in METHODS, reason="only forked workers inherit this process's profile hook")
def test_workers_forked_while_a_check_watches_this_process_are_not_watched():
    """The watch that catches samples computed in the notebook's process would otherwise follow the
    forked workers and slow their work."""
    with calls_in_this_process([samples_to_statistics]):
        assert sys.getprofile() is not None
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            assert pool.submit(sys.getprofile).result() is None


def test_pools_made_for_an_answer_keep_what_it_asked_for():
    maker = PoolMaker(QUICK, measure_bytes=True)
    with maker(max_workers=1, initializer=install_returns, initargs=(np.ones(1000),)) as pool:
        assert pool.submit(pow, 2, 5).result() == 32
    assert maker.asked == [{"max_workers": 1, "initializer": install_returns, "initargs": maker.asked[0]["initargs"]}]
    assert pool.initargs_nbytes > 8000
