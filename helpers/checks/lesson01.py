"""Checkers for the exercises of lesson 01 (``ProcessPoolExecutor.map``).

Each exercise asks for a function. The checker calls it with inputs of its own and with pools
that record what ran where (:mod:`helpers.checks.evidence`), so an answer passes only if the work
really went through the pool the way the exercise asks: typed-in results, a plain loop, or
timings not measured on the pools given fail with a hint.
"""

import math
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import _base, wait
from contextlib import contextmanager
from numbers import Integral, Real

from helpers.checks import CheckFailed, passed, require
from helpers.checks.evidence import RecordingPool, call_answer, describe, notebook_names, same_function
from helpers.timing import stopwatch
from helpers.workers import collatz_steps, sleep_for, start_workers

# Exercise 1.1: longest_collatz(executor, numbers) on these numbers (not starting at 1, so that a
# position is never the number itself). 3711 takes the most steps among them, 237.
LONGEST_NUMBERS = tuple(range(3_001, 6_001))

# Exercise 1.2: predict_seconds(jobs, seconds, workers) against the time these take on pools
# whose workers are already started (0.9 s and 0.4 s). A prediction may be off the measurement by
# TOLERANCE; every wrong model that tests/test_checks_lesson01.py lists misses one case by more
# (jobs shared out evenly: 0.75 s; a loop: 1.5 s; "one round, or two when jobs outnumber workers":
# 0.6 s; "jobs // workers + 1 rounds": 0.8 s for the second case).
PREDICTION_CASES = ((5, 0.3, 2), (4, 0.4, 4))
TOLERANCE = 0.1
PREDICTION_ANSWER_SECONDS = 0.2  # a prediction is worked out, not measured: it returns at once

# Exercise 1.3: chunk_size_race(make_pool, numbers, sizes) with these inputs.
RACE_NUMBERS = range(1, 8_001)
RACE_SIZES = (25, 4_000)
RACE_WORKERS = 2


def require_ran(calls, function, name):
    """The answer's jobs (``calls``, as a recording pool saw them) reached the workers, and they
    called ``function`` (not a notebook's copy); returns the calls of ``function``."""
    require(calls, "No job ran on the pool the check gave your function: send the jobs to that pool "
                   "(the check watches what runs there).")
    sent = sorted({found for call in calls for found in notebook_names(call.function)})
    require(not sent, f"Your function sends {', '.join(sent)}, defined in the notebook, to the workers: "
                      f"that breaks under spawn and forkserver. Run {name} from helpers.workers.")
    ran = [call for call in calls if same_function(call.function, function)]
    require(ran, f"The jobs on the pool did not call {name}: run {name} from helpers.workers on each input.")
    return ran


# Exercise 1.1 ---------------------------------------------------------------------------------

def check_longest(longest_collatz, mp_context=None):
    """Exercise 1.1: ``longest_collatz(executor, numbers)`` maps ``collatz_steps`` over
    ``numbers`` on ``executor`` and returns ``(steps, longest)``: the step counts in input order
    and the number with the most steps."""
    numbers = list(LONGEST_NUMBERS)
    with RecordingPool(2, mp_context=mp_context) as pool:
        answer = call_answer(longest_collatz, pool, numbers, expected_signature="longest_collatz(executor, numbers)",
                             not_here=[collatz_steps])
    require(isinstance(answer, (tuple, list)) and len(answer) == 2,
            f"longest_collatz should return two things, (steps, longest); it returned {describe(answer)}.")
    steps, longest = answer
    calls = require_ran(pool.calls, collatz_steps, "collatz_steps")
    require(all(call.in_chunk for call in calls),
            "The jobs were sent with submit: this exercise is about executor.map, which sends them all for you.")
    require(sorted(call.args[0] for call in calls if call.args) == numbers,
            "The pool did not run collatz_steps exactly once on each of the numbers your function was given: "
            "map over the `numbers` parameter, not over a range of your own.")
    require(not isinstance(steps, Iterator),
            "`steps` is a generator: collect its results with list(...) while the pool is still open.")
    require(hasattr(steps, "__len__"), f"`steps` should be a list of step counts, got {describe(steps)}.")
    require(len(steps) == len(numbers),
            f"`steps` has {len(steps)} values for {len(numbers)} numbers: one step count per number.")
    require(all(isinstance(s, Integral) and not isinstance(s, bool) for s in steps),
            "`steps` should hold the step counts themselves, whole numbers, one per number.")
    expected = [collatz_steps(n) for n in numbers]
    if list(steps) != expected:
        require(sorted(steps) != sorted(expected), "The right step counts in the wrong order: map hands out "
                                                   "results in input order, so keep them in the order it gives them.")
        raise CheckFailed("Those are not the step counts the pool's workers computed: return map's results.")
    most = max(expected)
    position = expected.index(most)
    require(isinstance(longest, Integral), f"`longest` should be a number from `numbers`, got {describe(longest)}.")
    require(longest != most, "That is the largest number of steps; `longest` should be the number that takes them.")
    require(longest not in (position, position + 1),
            "That is the position of the largest result, not the number: the numbers given here do not start at 1.")
    require(longest == numbers[position],
            "Not the number with the most steps: the i-th result of map belongs to the i-th input.")
    passed("map ran collatz_steps on each number in the pool's workers; the step counts came back in input "
           "order, and the number with the most steps is the right one.")


# Exercise 1.2 ---------------------------------------------------------------------------------

def started_pool(workers, mp_context=None):
    """A recording pool of ``workers`` processes, every one of them started and idle, so that
    timing it measures the jobs, not the start-up (see :func:`helpers.workers.start_workers`)."""
    pool = RecordingPool(workers, mp_context=mp_context)
    try:
        start_workers(pool, workers)
    except RuntimeError as error:  # a broken pool is a RuntimeError too
        pool.shutdown()
        raise CheckFailed(f"The checker could not get {workers} worker processes going ({error}): run the "
                          "check again in a moment.") from None
    return pool


def measured_seconds(jobs, seconds, workers, mp_context=None):
    """Wall time of ``jobs`` calls ``sleep_for(seconds)`` on a pool of ``workers`` already started."""
    with started_pool(workers, mp_context) as pool:
        with stopwatch() as clock:
            wait([pool.submit(sleep_for, seconds) for _ in range(jobs)])
    return clock.seconds


@contextmanager
def _futures_made():
    """Count the futures made while the block runs: every ``submit`` (and so every ``map``) of a
    ``ProcessPoolExecutor`` or ``ThreadPoolExecutor`` makes one, as ``concurrent.futures._base.Future()``."""
    made = [0]
    original = _base.Future

    class CountedFuture(original):
        def __init__(self, *args, **kwargs):
            made[0] += 1
            super().__init__(*args, **kwargs)

    _base.Future = CountedFuture
    try:
        yield made
    finally:
        _base.Future = original


def worked_out(predict, *args, expected_signature, from_what):
    """Call a prediction function; a hint if it ran jobs on a pool or took long enough to time
    some (jobs made shorter in proportion would do), since a prediction runs nothing."""
    name = expected_signature.split("(")[0]
    with _futures_made() as made, stopwatch() as clock:
        value = call_answer(predict, *args, expected_signature=expected_signature)
    require(not made[0], f"{name} submitted jobs to a pool: a prediction is worked out from {from_what}, "
                         "without running anything.")
    require(clock.seconds < PREDICTION_ANSWER_SECONDS,
            f"{name} took {clock.seconds:.2f} s to answer: a prediction is worked out from {from_what}, without "
            "running anything.")
    return value


def _prediction(predict_seconds, jobs, seconds, workers):
    """The student's prediction for one case, as a number of seconds (or a hint)."""
    value = worked_out(predict_seconds, jobs, seconds, workers, expected_signature="predict_seconds(jobs, seconds, workers)",
                       from_what="the three numbers it is given")
    require(isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and value >= 0,
            f"predict_seconds should return a number of seconds, got {describe(value)}.")
    return float(value)


def check_prediction(predict_seconds, mp_context=None):
    """Exercise 1.2: ``predict_seconds(jobs, seconds, workers)`` agrees with how long the checker
    measures that many sleeping jobs to take on pools whose workers are already started."""
    predictions = [_prediction(predict_seconds, *case) for case in PREDICTION_CASES]
    for (jobs, seconds, workers), predicted in zip(PREDICTION_CASES, predictions):
        measured = measured_seconds(jobs, seconds, workers, mp_context)
        if abs(predicted - measured) > TOLERANCE:  # a busy machine can slow one run: measure once more
            measured = min(measured, measured_seconds(jobs, seconds, workers, mp_context))
        require(abs(predicted - measured) <= TOLERANCE,
                f"For {jobs} jobs of {seconds} s on {workers} workers you predicted {predicted:.2f} s, and they "
                f"took {measured:.2f} s. Draw a time line for each worker: which jobs does it run, and when?")
    cases = ", ".join(f"{jobs} jobs of {seconds} s on {workers} workers" for jobs, seconds, workers in PREDICTION_CASES)
    passed(f"your predictions agree with the checker's measurements ({cases}).")


# Exercise 1.3 ---------------------------------------------------------------------------------

class TimedPool(RecordingPool):
    """A recording pool that also notes when it was made and when its shutdown ended, so that a
    timing reported for it can be compared with how long it really lived."""

    def __init__(self, *args, **kwargs):
        self.created_at = time.perf_counter()
        self.shut_down_at = None
        self.left_running = False
        super().__init__(*args, **kwargs)

    def shutdown(self, wait=True, *, cancel_futures=False):
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        if self.shut_down_at is None:
            self.shut_down_at = time.perf_counter()

    def lifetime(self):
        """Seconds from the pool's making to the end of its shutdown."""
        return self.shut_down_at - self.created_at

    def chunk_size(self):
        """The largest number of inputs one submission carried (map's chunksize)."""
        return max(len(submission.calls) for submission in self.submissions)


def _loop_seconds(numbers, runs=2):
    """Wall times of ``runs`` plain loops of collatz_steps over ``numbers``."""
    def loop():
        with stopwatch() as clock:
            [collatz_steps(n) for n in numbers]
        return clock.seconds
    return [loop() for _ in range(runs)]


def _require_timings(timings, sizes):
    require(isinstance(timings, Mapping), f"`timings` should be a dict, got {describe(timings)}.")
    missing = [key for key in ("loop", *sizes) if key not in timings]
    require(not missing, f"`timings` lacks {missing}: record the loop under 'loop' and each chunk size "
                         f"under the size itself (the check passes the sizes {list(sizes)}).")
    for key in ("loop", *sizes):
        value = timings[key]
        require(isinstance(value, Real) and not isinstance(value, bool) and value > 0,
                f"timings[{key!r}] should be a positive number of seconds, got {value!r}.")


def _require_pool_per_size(pools, numbers, sizes):
    """Each size ran in a pool of its own, map with that chunksize over all ``numbers``; return
    {size: pool}."""
    require(pools, "Your function made no pool with make_pool(): call it once per chunk size.")
    require(len(pools) == len(sizes),
            f"Your function made {len(pools)} pool(s) for {len(sizes)} chunk sizes: give each chunk size a pool "
            "of its own, since starting the pool is part of what a pool costs.")
    for pool in pools:
        require(not pool.left_running, "A pool was left running: shut each pool down when its run is over "
                                       "(a `with` block does it), and include that in its time.")
        require_ran(pool.calls, collatz_steps, "collatz_steps")
        require(all(call.in_chunk for call in pool.calls),
                "The jobs were sent with submit: time executor.map(collatz_steps, numbers, chunksize=size).")
        require([call.args[0] for call in pool.calls if call.args] == list(numbers),
                "A pool did not map collatz_steps over exactly the numbers your function was given, once "
                "each: map over the `numbers` parameter.")
    by_size = {pool.chunk_size(): pool for pool in pools}
    require(set(by_size) == set(sizes),
            f"The pools ran map with chunk sizes {sorted(by_size)}, but the sizes given were {list(sizes)}: "
            "pass chunksize=size to map.")
    return by_size


def check_chunk_size_race(chunk_size_race, mp_context=None):
    """Exercise 1.3: ``chunk_size_race(make_pool, numbers, sizes)`` times a plain loop and one
    pool per chunk size, and returns ``(timings, smallest)``, ``smallest`` being the smallest
    size that beat the loop (or None)."""
    pools = []

    def make_pool():
        pools.append(TimedPool(RACE_WORKERS, mp_context=mp_context))
        return pools[-1]

    # The loop is timed here before and after the answer runs: a busy machine slows some runs
    # several times over, and the answer's own loop ran in between.
    loops = _loop_seconds(RACE_NUMBERS)
    try:
        answer = call_answer(chunk_size_race, make_pool, RACE_NUMBERS, list(RACE_SIZES),
                             expected_signature="chunk_size_race(make_pool, numbers, sizes)")
    finally:
        for pool in pools:
            pool.left_running = pool.shut_down_at is None
            if pool.left_running:
                pool.shutdown(cancel_futures=True)
    require(isinstance(answer, (tuple, list)) and len(answer) == 2,
            f"chunk_size_race should return two things, (timings, smallest); it returned {describe(answer)}.")
    timings, smallest = answer
    _require_timings(timings, RACE_SIZES)
    by_size = _require_pool_per_size(pools, RACE_NUMBERS, RACE_SIZES)
    for size, pool in by_size.items():
        # A clock around the whole `with make_pool() as executor:` block starts before the pool is
        # made and stops after its shutdown: it reads the pool's lifetime, give or take a few ms.
        lived = pool.lifetime()
        require(lived - 0.02 <= timings[size] <= 1.2 * lived + 0.03,
                f"timings[{size}] is {timings[size]:.3f} s, but that pool lived {lived:.3f} s from make_pool() to the "
                "end of its shutdown: time each pool's whole `with` block, and nothing else (start the clock "
                "afresh for each pool).")
    loops += _loop_seconds(RACE_NUMBERS)
    require(min(loops) / 4 - 0.005 <= timings["loop"] <= 4 * max(loops) + 0.02,
            f"timings['loop'] is {timings['loop']:.3f} s, but a loop of collatz_steps over those numbers takes "
            f"{min(loops):.3f} to {max(loops):.3f} s here: time the loop itself.")
    winners = [size for size in RACE_SIZES if timings[size] < timings["loop"]]
    require(smallest is None or smallest in RACE_SIZES,
            f"`smallest` should be one of the sizes given, {list(RACE_SIZES)}, or None; got {smallest!r}.")
    if smallest is None:
        require(not winners, "By the timings your function returned, at least one chunk size beats the loop.")
    else:
        require(smallest in winners, f"By the timings your function returned, chunk size {smallest} is not "
                                     "faster than the loop.")
        require(smallest == min(winners), "By the timings your function returned, a smaller chunk size "
                                          "already beats the loop.")
    passed("each chunk size ran in a pool of its own with that chunksize, your timings match how long "
           "those pools took, and your answer agrees with your timings.")
