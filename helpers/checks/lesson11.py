"""Checkers for the exercises of lesson 11: thread limits set inside the workers, data sent once
per worker (and a prediction of what sending it costs), a shared block cleaned up.

Each exercise asks for a function that takes ``make_pool``, called like ``ProcessPoolExecutor``
(in the notebook the student passes ``ProcessPoolExecutor`` itself). The checkers call it with
inputs of their own and a :class:`PoolMaker`, which hands out recording pools
(:class:`helpers.checks.evidence.RecordingPool`) and keeps them, so the checker sees how the
answer ran: which initializer and arguments the pool was given (11.1 runs them in fresh workers
of its own and reads the limits from inside), how many bytes the initializer's arguments and every
task carried, what the workers computed, which shared block the tasks named, and whether that
block is gone afterwards, also when a task fails.
"""

import gc
import itertools
import multiprocessing
import os
import sys
import threading
from concurrent.futures import Executor, InvalidStateError, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import shared_memory

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from helpers import data
from helpers.checks import CheckFailed, passed, require
from helpers.checks.evidence import (RecordingPool, _pickled_size, call_answer, calls_in_this_process, describe,
                                     notebook_names, same_function)
from helpers.panel import bootstrap_statistics, compute_rv, get_ci, samples_to_statistics, usable_cpu_count
from helpers.sharing import (bootstrap_statistics_initializer, bootstrap_statistics_shared, install_returns,
                             installed_statistics, report_threads, shared_column_sums, shared_copy,
                             threads_per_worker)

# Environment variables that set thread counts when a library is imported (joblib's list): a
# worker started afresh would inherit them from this process, so the checker of 11.1 starts its
# pools without them.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS", "NUMEXPR_NUM_THREADS")

# Exercise 11.1
LIMITS_SIGNATURE = "start_limited_pool(workers, make_pool)"

# Exercise 11.2: the notebook's run (February, 1000 samples, 8 batches, 2 workers) and the checker's own.
MONTH, TICKERS, N_SAMPLES, SEED, BATCHES, WORKERS = "2007-02", ["AAPL", "GE", "C"], 1000, 2024, 8, 2
ONCE_SIGNATURE = "intervals_once_per_worker(month, n_samples, seed, make_pool)"
CHECK_DAYS, CHECK_SAMPLES, CHECK_SEED = 4, 96, 7
REFERENCE_SAMPLES = 3  # samples the checker computes itself, to compare with the workers' ones
PREDICTION_KEYS = ("with every task", "once per worker")
TOLERANCE = 0.25  # a prediction within 25% of the measured megabytes is right
# The course's bootstraps, each of which runs a whole bootstrap (with a pool of its own, or serially): an
# answer that calls one has not returned what its own pool computed.
COURSE_BOOTSTRAPS = (bootstrap_statistics, bootstrap_statistics_initializer, bootstrap_statistics_shared)

# Exercise 11.3: column totals of an array of whole numbers, summed in a shared block.
ROWS, COLUMNS = 300_000, 4
TOTALS_SIGNATURE = "shared_column_totals(counts, make_pool)"
CHECK_ROWS = 40_000


def _drop_inherited_watch():
    """In a worker forked while a checker watched this process's calls (evidence's
    ``calls_in_this_process``): stop watching. The worker's calls are not this process's, and
    profiling every one of them slows the worker's work (by a second in 11.2's check)."""
    watching = lambda hook: getattr(hook, "__qualname__", "").startswith("calls_in_this_process.")  # noqa: E731
    if watching(sys.getprofile()):
        sys.setprofile(None)
    if watching(threading.getprofile()):
        threading.setprofile(None)


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_drop_inherited_watch)


def exercise_counts():
    """The array of exercise 11.3: whole numbers, so that sums in any order are exact."""
    return np.random.default_rng(11).integers(0, 1000, size=(ROWS, COLUMNS))


# --------------------------------------------------------------------------------------------
# Pools handed to the answers


class QuietRecordingPool(RecordingPool):
    """A :class:`RecordingPool` that notes when it is shut down, and stays quiet when the answer
    cancels a future whose job is already running (``map`` does so when one of its results
    raises): the job's record is kept, and no "exception calling callback" is logged for the
    result nobody can receive any more."""

    was_shut_down = False  # whether shutdown() was called (by the answer, if read before the checker's own)

    def _arrived(self, submission, inner):
        try:
            super()._arrived(submission, inner)
        except InvalidStateError:
            if not submission.future.cancelled():
                raise

    def shutdown(self, *args, **kwargs):
        self.was_shut_down = True
        super().shutdown(*args, **kwargs)


class SimulatedFailure(RuntimeError):
    """The error a :class:`FailingPool` raises in a worker."""


def simulated_failure(*args, **kwargs):
    """Run in a worker in place of a task's function: fail, as a real task may."""
    raise SimulatedFailure("a task failed in its worker (the check's test of your clean-up)")


class _FailingSecondTask(ProcessPoolExecutor):
    """A process pool whose second submission runs :func:`simulated_failure` instead."""

    def submit(self, fn, /, *args, **kwargs):
        if next(self.__dict__.setdefault("_counter", itertools.count())) == 1:
            # fn is the recording pool's traced_call(function, args, kwargs, delay)
            return super().submit(fn, simulated_failure, (), {}, 0)
        return super().submit(fn, *args, **kwargs)


class FailingPool(QuietRecordingPool, _FailingSecondTask):
    """A :class:`RecordingPool` whose second task fails in its worker: what happens to a shared
    block when the work breaks halfway."""


class PoolMaker:
    """Stands in for ``ProcessPoolExecutor`` in an answer: every call makes a ``pool_class``
    (a :class:`RecordingPool`) with the options the answer asked for, started with the checker's
    ``mp_context`` whatever the answer asked, and keeps it with those options."""

    def __init__(self, mp_context=None, pool_class=QuietRecordingPool, **recording):
        self.mp_context, self.pool_class, self.recording = mp_context, pool_class, recording
        self.pools, self.asked = [], []

    def __call__(self, max_workers=None, mp_context=None, initializer=None, initargs=(), **options):
        pool = self.pool_class(max_workers, mp_context=self.mp_context, initializer=initializer, initargs=initargs,
                               **self.recording, **options)
        self.pools.append(pool)
        self.asked.append({"max_workers": max_workers, "initializer": initializer, "initargs": initargs})
        return pool

    def shut_down(self):
        """End every pool made, without waiting for jobs the answer left queued."""
        for pool in self.pools:
            pool.shutdown(wait=True, cancel_futures=True)


def _kind(value):
    """A short description of ``value`` for a hint (its type, and its length where it has one)."""
    try:
        return describe(value)
    except Exception:  # noqa: BLE001 - something with __len__ and no length, such as a 0-d array
        return type(value).__name__


def _notebook_hint(names):
    return (f"Your pool would send its workers something defined in the notebook ({', '.join(names)}): a worker "
            "started by spawn or forkserver (Windows, macOS, Python 3.14 on Linux) cannot import it, even where "
            "fork hides the problem. Use the functions of helpers.")


def _one_pool(maker, returned=None):
    """The one pool the answer made with ``make_pool`` (and returned, when ``returned`` is given)."""
    if not maker.pools:
        if isinstance(returned, Executor):
            returned.shutdown(wait=False, cancel_futures=True)
        raise CheckFailed("Your function never called make_pool: start the pool with the make_pool it is given "
                          "(you pass ProcessPoolExecutor itself when you try it; the check passes a pool of its "
                          "own that records what the workers do). A helper that starts a pool of its own, or a "
                          "ProcessPoolExecutor called directly, escapes that.")
    require(len(maker.pools) == 1,
            f"Your function started {len(maker.pools)} pools; one is enough, started once, for all the tasks.")
    return maker.pools[0]


# --------------------------------------------------------------------------------------------
# Exercise 11.1


def _clear_thread_variables():
    """Remove the thread variables from this process's environment; return those removed."""
    return {name: os.environ.pop(name) for name in THREAD_VARIABLES if name in os.environ}


@contextmanager
def _no_thread_variables():
    """None of the thread variables in the environment while the checker's workers start (they
    would set the libraries' threads as the workers import them); afterwards, as it was."""
    saved = _clear_thread_variables()
    try:
        yield
    finally:
        _clear_thread_variables()
        os.environ.update(saved)


def limits_after(initializer, initargs, start_at):
    """Run in a worker of the checker's pool: set BLAS and Numba to ``start_at`` threads, more than
    any share of the cores (whatever the worker inherited), run an answer's pool initializer as its
    pool would in each of its workers, and report the threads the libraries would use.

    Starting above every share means an initializer that limits nothing is seen on any machine,
    also on one core, where the libraries' own default (one thread per core) is the share."""
    import numba

    threadpool_limits(start_at)
    numba.set_num_threads(min(start_at, numba.config.NUMBA_NUM_THREADS))
    if initializer is not None:
        initializer(*initargs)
    return report_threads()


def _limits_of_this_process():
    """The thread limits this notebook's process holds, that forked workers would inherit."""
    found = [f"{name}={os.environ[name]}" for name in THREAD_VARIABLES if name in os.environ]
    here = report_threads()
    if here["blas_library"] and here["blas"] < usable_cpu_count():
        found.append(f"BLAS at {here['blas']} thread(s)")
    if here["numba"] < here["numba_most"]:
        found.append(f"Numba at {here['numba']} thread(s)")
    return found


def _cores(cores):
    return f"{cores} core{'s' * (cores != 1)}"


def _thread_hint(library, seen, allowed, workers, cores, inherited, start_at):
    """What to say when a worker of a ``workers``-process pool runs ``seen`` threads of
    ``library`` where the rule allows ``allowed`` (the checker's workers start at ``start_at``)."""
    if seen > allowed:
        where = (f" This notebook's process holds limits ({', '.join(inherited)}), but a worker started afresh "
                 "inherits none of them, and a forked one only by accident." if inherited else "")
        started = (" (the check starts its workers on more threads than there are cores, as a library may, so that "
                   "only a limit your pool sets counts)" if seen == start_at else "")
        return (f"A worker of your {workers}-worker pool, started afresh, runs {library} on {seen} threads{started}: "
                f"{workers} x {seen} is more than the {_cores(cores)}.{where} The limit must be set inside every "
                "worker, as it starts, for BLAS and for Numba.")
    return (f"A worker of your {workers}-worker pool runs {library} on {seen} thread(s) where the rule allows "
            f"{allowed} on {_cores(cores)}: the share depends on the number of workers, so compute it from them "
            "rather than fixing it.")


def _asked_for(start_limited_pool, workers):
    """What the answer's pool for ``workers`` workers runs in each worker as it starts: its
    initializer and initargs, with the rest of what it asked for checked. The pool itself is
    never started."""
    maker = PoolMaker()
    try:
        with _no_thread_variables():
            pool = call_answer(start_limited_pool, workers, maker, expected_signature=LIMITS_SIGNATURE)
            set_here = sorted(_clear_thread_variables())
        made = _one_pool(maker, pool)
        shut = made.was_shut_down
    finally:
        maker.shut_down()
    require(not set_here,
            f"Your function sets {', '.join(set_here)} in this process's environment: a forked worker imported "
            "NumPy and Numba long before and ignores it, and a fork server started earlier never sees it. Set the "
            "limit inside every worker, as it starts.")
    require(pool is made,
            f"start_limited_pool should return the pool it made with make_pool; it returned {_kind(pool)}.")
    require(not shut,
            "The pool your function returned was already shut down: return it unused, not from inside a with block "
            "(the caller's with block starts and ends it).")
    require(not made.submissions,
            "Your function used the pool before returning it: return it unused (the caller's with block starts and "
            "ends it).")
    asked = maker.asked[0]
    require(asked["max_workers"] == workers,
            f"Asked for a pool of {workers} worker(s), your function started one of {asked['max_workers']}: pass "
            "the number of workers on to make_pool.")
    names = notebook_names((asked["initializer"], asked["initargs"]))
    require(not names, _notebook_hint(names))
    require(asked["initializer"] not in (exec, eval),
            "Your pool's initializer runs a string of code: give it a function that sets the limits, as the lesson "
            "does.")
    return asked["initializer"], asked["initargs"]


def check_thread_limits(start_limited_pool, mp_context=None):
    """Exercise 11.1: ``start_limited_pool(workers, make_pool)`` returns a pool whose workers each
    limit BLAS and Numba, as they start, to the share of the cores the rule threads x workers <=
    cores allows.

    For 1 worker and (with 2 cores or more) 2, the checker takes what the answer's pool would run
    in each worker as it starts (its initializer and initargs) and runs it in workers of its own,
    started afresh (``spawn`` unless ``mp_context`` says otherwise, for the tests) without the
    thread variables of this process's environment, and with the libraries on one thread more
    than the cores (so that an initializer that limits nothing fails even on one core); it reads
    the limits from inside those workers. The larger pool is judged first: its hint is the one
    a pool without limits deserves."""
    cores = usable_cpu_count()
    inherited = _limits_of_this_process()
    sizes = [2, 1] if cores >= 2 else [1]
    starts = {workers: _asked_for(start_limited_pool, workers) for workers in sizes}
    context = mp_context or multiprocessing.get_context("spawn")
    start_at = cores + 1
    with _no_thread_variables():
        os.environ["NUMBA_NUM_THREADS"] = str(start_at)  # read as a fresh worker imports Numba; removed on leaving
        with ProcessPoolExecutor(2, mp_context=context) as pool:
            futures = {workers: pool.submit(limits_after, *start, start_at) for workers, start in starts.items()}
            reports = {}
            for workers, future in futures.items():
                try:
                    reports[workers] = future.result(timeout=120)
                except Exception as error:  # noqa: BLE001 - the answer's initializer failed in the worker
                    raise CheckFailed(f"Your pool's initializer failed inside a worker ({type(error).__name__}: "
                                      f"{error}): does it take the arguments you give it in initargs?") from None
    for workers, report in reports.items():
        require(report["pid"] != os.getpid(), "The limits were read in this process, not in a worker.")
        allowed = threads_per_worker(workers, cores)
        if report["blas_library"] is not None and report["blas"] != allowed:
            raise CheckFailed(_thread_hint("BLAS", report["blas"], allowed, workers, cores, inherited, start_at))
        expected = min(allowed, report["numba_most"])
        if report["numba"] != expected:
            raise CheckFailed(_thread_hint("Numba", report["numba"], expected, workers, cores, inherited, start_at))
    passed("what your pool runs in each worker as it starts, run in workers started afresh, limits BLAS and Numba "
           "to the share of the cores that keeps threads x workers within them, for "
           + " and for ".join(f"{workers} worker{'s' * (workers > 1)}" for workers in sorted(sizes)) + ".")


# --------------------------------------------------------------------------------------------
# Exercise 11.2


def _checker_month():
    """The checker's own month: a few simulated days of the exercise's three stocks."""
    days = data.trading_days_2007()
    prices = data.simulate_panel(29, tickers=tuple(TICKERS), days=days[days.month == 3][:CHECK_DAYS]).prices
    return data.intraday_log_returns(prices)


def _seeds_of(call):
    """The seeds a recorded call of ``installed_statistics`` computed samples for, or None."""
    seeds = call.args[0] if call.args else call.kwargs.get("seeds")
    if isinstance(seeds, np.random.SeedSequence):
        seeds = [seeds]
    try:
        return list(seeds) if all(isinstance(seed, np.random.SeedSequence) for seed in seeds) else None
    except TypeError:
        return None


def _february_megabytes():
    """What the notebook's February run sends to its workers, pickled as spawn and forkserver
    send it, in megabytes: lesson 06's way (the returns with each of the 8 tasks) and once per
    worker (to each of the 2 workers, in the initializer's arguments; the tasks carry seeds)."""
    try:
        february = data.intraday_log_returns(data.load_prices("../data", tickers=TICKERS)).loc[MONTH]
    except (data.DataError, FileNotFoundError, OSError):
        raise CheckFailed("The check reads February from ../data, as the lesson does: run it in the lesson's "
                          "notebook, after its first cells.") from None
    seeds = np.random.SeedSequence(SEED).spawn(N_SAMPLES)
    size = N_SAMPLES // BATCHES
    batches = [seeds[start:start + size] for start in range(0, N_SAMPLES, size)]
    every_task = sum(_pickled_size((samples_to_statistics, (), {"returns": february, "seeds": batch}))
                     for batch in batches)
    once = WORKERS * _pickled_size((february,)) + sum(_pickled_size((installed_statistics, (batch,), {}))
                                                      for batch in batches)
    return {"with every task": every_task / 1e6, "once per worker": once / 1e6}


def _check_prediction(predicted_mb):
    """The prediction is a dict of megabytes with the two keys, and each value is within
    :data:`TOLERANCE` of what the checker measures."""
    require(isinstance(predicted_mb, dict) and set(PREDICTION_KEYS) <= set(predicted_mb),
            f"`predicted_mb` should be a dict with the keys {PREDICTION_KEYS[0]!r} and {PREDICTION_KEYS[1]!r}, "
            f"got {_kind(predicted_mb)}" + (f" with the keys {sorted(map(str, predicted_mb))}."
                                               if isinstance(predicted_mb, dict) else "."))
    try:
        predicted = {key: float(predicted_mb[key]) for key in PREDICTION_KEYS}
    except (TypeError, ValueError):
        raise CheckFailed("The values of `predicted_mb` should be numbers of megabytes.") from None
    measured = _february_megabytes()
    for key in PREDICTION_KEYS:
        ratio = predicted[key] / measured[key]
        require(ratio > 0, f"predicted_mb[{key!r}] should be a positive number of megabytes.")
        require(not (ratio > 100 or ratio < 0.01),
                f"predicted_mb[{key!r}] is off by a factor of about {max(ratio, 1 / ratio):.0e}: give megabytes "
                "(bytes / 1e6).")
        require(abs(ratio - 1) <= TOLERANCE,
                f"predicted_mb[{key!r}] is {ratio:.1f} times what the check measures. From the size of one "
                "pickled month, count how many times it travels: "
                + ("with every task, as in lesson 06 (how many tasks?)." if key == PREDICTION_KEYS[0]
                   else "once per worker (how many workers receive it?); the tasks' seeds add little."))


def check_once_per_worker(intervals_once_per_worker, predicted_mb, mp_context=None):
    """Exercise 11.2: ``intervals_once_per_worker(month, n_samples, seed, make_pool)`` gives the
    serial ``compute_ci`` intervals from a 2-worker pool whose workers received ``month`` once,
    in the initializer's arguments, and whose tasks carried only seeds; ``predicted_mb`` predicts
    the megabytes the notebook's February run sends, with every task and once per worker.

    The checker runs the function on a month of its own, with other samples and seed, in
    recording pools (start method ``mp_context``, for the tests), and measures February's bytes
    itself."""
    month = _checker_month()
    maker = PoolMaker(mp_context, measure_bytes=True)
    try:
        with calls_in_this_process([samples_to_statistics, *COURSE_BOOTSTRAPS]) as watched:
            ci = call_answer(intervals_once_per_worker, month, CHECK_SAMPLES, CHECK_SEED, maker,
                             expected_signature=ONCE_SIGNATURE)
    finally:
        maker.shut_down()
    require(isinstance(ci, pd.DataFrame),
            f"Wrong type: intervals_once_per_worker should return the DataFrame get_ci gives; got {_kind(ci)}.")
    pool = _one_pool(maker)
    require(maker.asked[0]["max_workers"] == WORKERS,
            f"Start the pool with {WORKERS} workers (max_workers={WORKERS}); yours asked for "
            f"{maker.asked[0]['max_workers']}.")
    names = notebook_names([(maker.asked[0]["initializer"], maker.asked[0]["initargs"])]
                           + [(call.function, call.args, call.kwargs) for call in pool.calls])
    require(not names, _notebook_hint(names))
    computed_here = [name for name in watched if name == samples_to_statistics.__name__]
    require(not computed_here,
            f"Lesson 06's job (samples_to_statistics) ran {len(computed_here)} time(s) in this notebook's process "
            "while your function worked: the samples belong in the pool's workers. Return the intervals of the "
            "statistics your tasks returned, not of samples computed (again) here.")
    month_bytes = _pickled_size(month)
    heavy = [submission for submission in pool.submissions if submission.nbytes > month_bytes / 2]
    require(not heavy,
            f"{len(heavy)} of your {len(pool.submissions)} tasks carried the month's returns "
            f"({heavy[0].nbytes / 1e3:.0f} kB each), lesson 06's way. Send them once per worker instead, and let "
            "the tasks carry only their seeds." if heavy else "")
    initializer, initargs = maker.asked[0]["initializer"], maker.asked[0]["initargs"]
    require(same_function(getattr(initializer, "func", initializer), install_returns),
            "Start the pool with initializer=install_returns, which stores the month in each worker as it starts, "
            "where installed_statistics looks for it. Returns stored in this process reach forked workers by "
            "inheritance only, and workers started afresh not at all.")
    require(_pickled_size((initializer, initargs)) >= month_bytes / 2,
            "The workers never received the month: it should travel once to each worker, in the initializer's "
            "arguments (initargs), for installed_statistics to find it there.")
    helpers_run = sorted(set(watched))
    require(not helpers_run,
            f"Your function also ran the course's {', '.join(helpers_run)}, which does the whole bootstrap again by "
            "itself: return the intervals of the statistics your own pool's tasks returned.")
    calls = pool.calls_of(installed_statistics)
    require(calls and len(calls) == len(pool.calls),
            "The tasks should run installed_statistics on batches of seeds; "
            + (f"{len(pool.calls) - len(calls)} of them ran something else." if calls else "none of them did."))
    batches = [_seeds_of(call) for call in calls]
    require(all(batch for batch in batches),
            "Every task should run installed_statistics on a batch (a list) of SeedSequence objects.")
    require(len(calls) >= 2,
            "All the samples went in one task: cut the seeds into batches, so that both workers have work.")
    keys = sorted((seed.entropy, seed.spawn_key) for batch in batches for seed in batch)
    require(keys == [(CHECK_SEED, (i,)) for i in range(CHECK_SAMPLES)],
            f"The tasks did not compute every sample exactly once from SeedSequence(seed).spawn(n_samples): the "
            f"check asked for {CHECK_SAMPLES} samples with seed {CHECK_SEED}, and the tasks received "
            f"{len(keys)} seeds" + (", some of them twice or from another seed." if len(keys) == CHECK_SAMPLES
                                    else "."))
    like = compute_rv(month)
    computed = np.empty((CHECK_SAMPLES, *like.shape))
    for call, batch in zip(calls, batches):
        computed[[seed.spawn_key[0] for seed in batch]] = np.asarray(call.result)
    first_seeds = np.random.SeedSequence(CHECK_SEED).spawn(CHECK_SAMPLES)[:REFERENCE_SAMPLES]
    reference = samples_to_statistics(month, first_seeds)
    require(np.array_equal(computed[:REFERENCE_SAMPLES], reference, equal_nan=True),
            "Your workers bootstrapped other returns than the month your function was given: send that month (the "
            "function's argument) to the workers.")
    expected = get_ci(computed, like=like)  # the serial intervals: every sample from its own seed, as compute_ci
    require(ci.index.equals(expected.index) and ci.columns.equals(expected.columns),
            "The intervals should have one row per day of the month and columns (ticker, bound): pass the "
            "statistic of the month itself to get_ci as `like`.")
    require(ci.equals(expected),
            "The intervals differ from the serial compute_ci with the same seed, although your tasks computed the "
            "right samples: return get_ci of all the statistics the tasks returned.")
    _check_prediction(predicted_mb)
    passed("the serial intervals, from statistics your pool's workers computed on the returns each received "
           "once, in the initializer's arguments, while every task carried only its seeds; and your prediction of "
           "the megabytes sent, with every task and once per worker, is within 25% of the measured ones.")


# --------------------------------------------------------------------------------------------
# Exercise 11.3


def _checker_counts():
    """The checker's own array of whole numbers (another size and other numbers than the
    exercise's)."""
    return np.random.default_rng(1107).integers(0, 1000, size=(CHECK_ROWS, 3))


def _spec_of(call):
    """The shared array a recorded call of ``shared_column_sums`` named (its first argument)."""
    return call.args[0] if call.args else call.kwargs.get("spec")


def _block_names(pool):
    """Names of the shared blocks the pool's tasks were told to read."""
    return {name for name in (getattr(_spec_of(call), "name", None) for call in pool.calls_of(shared_column_sums))
            if isinstance(name, str)}


def _left_in_the_system(name):
    """Whether a shared block of that name still exists; if so, remove it (which also tells the
    resource tracker, so that it warns of nothing when the notebook ends)."""
    try:
        leftover = shared_memory.SharedMemory(name=name)
    except FileNotFoundError:
        return False
    leftover.close()
    leftover.unlink()
    return True


def _open_here(names):
    """Whether a SharedMemory object of this process still has one of these blocks mapped."""
    gc.collect()
    # type(), not isinstance(): the notebook's objects include weak proxies, which isinstance would follow
    return any(issubclass(type(item), shared_memory.SharedMemory) and item.name in names and item.buf is not None
               for item in gc.get_objects())


def _rows_covered(calls, n_rows):
    """Whether the calls' (start, stop) row ranges cover every row exactly once."""
    ranges = []
    for call in calls:
        arguments = call.args[1:3] if len(call.args) >= 3 else (call.kwargs.get("start"), call.kwargs.get("stop"))
        try:
            ranges.append(range(int(arguments[0]), int(arguments[1])))
        except (TypeError, ValueError):
            return False
    return sorted(row for rows in ranges for row in rows) == list(range(n_rows))


def _run_totals(shared_column_totals, counts, mp_context):
    """One run of the answer in a recording pool: its totals and its pool."""
    maker = PoolMaker(mp_context, measure_bytes=True)
    try:
        with calls_in_this_process([shared_copy.__wrapped__]) as helped:  # the generator under @contextmanager
            totals = call_answer(shared_column_totals, counts.copy(), maker, expected_signature=TOTALS_SIGNATURE)
    finally:
        maker.shut_down()
    leftover = {name for made in maker.pools for name in _block_names(made) if _left_in_the_system(name)}
    require(not helped,
            "Your function lets the lesson's shared_copy create and remove the block: that is the helper doing the "
            "exercise. Write that part yourself, with SharedMemory, as the exercise asks.")
    pool = _one_pool(maker)
    defined_here = notebook_names([(call.function, call.args, call.kwargs) for call in pool.calls])
    require(not defined_here, _notebook_hint(defined_here))
    require(pool.calls, "Your pool ran no task: let the workers compute the sums.")
    heavy = [submission for submission in pool.submissions if submission.nbytes > counts.nbytes / 8]
    require(not heavy,
            f"{len(heavy)} of your tasks carried the array itself ({heavy[0].nbytes / 1e6:.1f} MB each): the "
            "point of the block is that the tasks carry only its name and their rows." if heavy else "")
    calls = pool.calls_of(shared_column_sums)
    require(calls and len(calls) == len(pool.calls),
            "The tasks should run shared_column_sums on the shared block and a range of rows; "
            + (f"{len(pool.calls) - len(calls)} of them ran something else." if calls else "none of them did."))
    names = _block_names(pool)
    require(len(names) == 1,
            "Every task should name the one block you created, with SharedArray(block.name, shape, dtype).")
    require(not leftover,
            "The block still existed in the system after your function returned: the process that creates a block "
            "must remove it once the pool is done (the check removed it for you this time).")
    require(not _open_here(names),
            "This process still has the block open after your function returned: close it too (after deleting "
            "the NumPy arrays built on its buffer).")
    return totals, pool, calls


def check_shared_totals(shared_column_totals, mp_context=None):
    """Exercise 11.3: ``shared_column_totals(counts, make_pool)`` copies ``counts`` into a shared
    block, lets a pool sum its columns with ``shared_column_sums`` over row blocks, returns the
    totals, and leaves no block behind, also when a task fails.

    The checker runs it on an array of its own in a recording pool (start method ``mp_context``,
    for the tests), then once more in a pool whose second task fails."""
    counts = _checker_counts()
    totals, pool, calls = _run_totals(shared_column_totals, counts, mp_context)
    require(len(calls) >= 2, "All the rows went in one task: cut them into row blocks, so both workers have work.")
    require(_rows_covered(calls, len(counts)),
            "The tasks' row blocks do not cover every row exactly once: cut the rows with row_blocks.")
    expected = counts.sum(axis=0)
    answer = totals
    try:
        totals = np.asarray(totals)
    except Exception:  # noqa: BLE001 - an answer NumPy cannot even look at
        totals = np.asarray(None)
    require(totals.shape == expected.shape,
            f"Wrong shape: the function should return one total per column, shape {expected.shape}; got "
            f"{type(answer).__name__} of shape {totals.shape}.")
    try:
        summed = sum(np.asarray(call.result) for call in calls)
    except Exception:  # noqa: BLE001 - partial sums of different shapes cannot be added
        summed = None
    require(np.array_equal(totals, summed),
            "The totals are not the sums of what your tasks returned: add up the partial sums of all the blocks.")
    require(np.array_equal(totals, expected),
            "Your tasks' sums are not the column totals of the array: the workers read something other than the "
            "array you were given. Copy all of it into the block, and describe the block with that array's shape "
            "and dtype.")
    failing = PoolMaker(mp_context, pool_class=FailingPool, measure_bytes=True)
    raised = None
    try:
        shared_column_totals(counts.copy(), failing)
    except Exception as error:  # noqa: BLE001 - the failure the check caused, or another
        raised = error
    finally:
        failing.shut_down()
    names = {name for made in failing.pools for name in _block_names(made)}
    require(not {name for name in names if _left_in_the_system(name)},
            "When a task failed, your block stayed in the system: the clean-up must run whether the pool's work "
            "succeeds or fails (the check removed the block for you).")
    require(not _open_here(names),
            "When a task failed, this process kept the block open: its clean-up must run however the work ends.")
    require(raised is not None,
            "When a task failed, your function returned as if nothing had happened: let the error reach the caller "
            "(after the clean-up), rather than returning totals that miss a block.")
    passed("the right totals, summed by the pool's workers from one shared block while the tasks carried only its "
           "name and their rows; the block was closed and removed afterwards, also when a task failed.")
