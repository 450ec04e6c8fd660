"""Checkers for lesson 12's exercises: the hot spot of a slow report found from a profile, and a
speed-up predicted with Amdahl's law from measured parts, then measured.

Exercise 12.1 takes the profile the student made and the step named as the hot spot. The profile
is the evidence that a profiler ran the report (a guess made without one has none to show), and
it must itself show the named step taking most of the report's time (a profile of a few rows, or
of none, cannot tell; a cProfile profile whose counts the notebook's own threads disturbed, on
Python 3.12+, is not read for times); the hot spot is compared with the checker's own profile of
the report on its own data.

Exercise 12.2 takes the student's function, ``predict_and_measure(executor, workers, sizes)``,
and calls it with a recording pool (:class:`TimedPool`) and sizes of its own. The job only waits,
so the durations of its parts are known in advance (they do not depend on what else the machine
does): the measured parts must be close to them, the function must have run long enough to have
measured them, the prediction must be Amdahl's law applied to those parts, ``nightly_job`` must
have run its downloads in the pool's workers, and the measured speed-up must be the one-process
time over the time such a run took, which the checker knows from when the pool received the
downloads and returned them.
"""

import cProfile
import linecache
import math
import pstats
import sys
import time

import numpy as np
from line_profiler import LineProfiler
from pyinstrument import Profiler
from pyinstrument.session import Session

from helpers import amdahl, data
from helpers import slow_report as report
from helpers.checks import CheckFailed, passed, require
from helpers.checks.evidence import RecordingPool, call_answer, describe, same_function
from helpers.profiling import disturbed, entries, profile_call
from helpers.workers import sleep_for


def _file_name(module_name):
    """``helpers.slow_report`` -> ``slow_report.py``: how a profile names the module's file, with or
    without its folders (``strip_dirs()``)."""
    return module_name.rsplit(".", 1)[-1] + ".py"


# A profile of the report on real data holds far more than this in its hot spot (about a second
# for the lesson's small sample); one of an empty or one-row frame holds a few milliseconds.
MIN_STEP_SECONDS = 0.02
STEP_FILES = {step.__name__: _file_name(step.__module__) for step in report.STEPS}
STEP_NAMES = list(STEP_FILES)
REPORT_FILE = _file_name(report.__name__)


# --- Exercise 12.1: the hot spot --------------------------------------------------------------

def _tiny_returns():
    """A few days of two simulated stocks: the checker's own data for the report."""
    prices = data.simulate_panel(6, tickers=("CSCO", "BA"), days=data.trading_days_2007()[:4]).prices
    return data.intraday_log_returns(prices)


def _frame_functions(session):
    """``{(function, file)}`` of every frame a pyinstrument session saw."""
    seen = set()
    for stack, _ in session.frame_records:
        for frame in stack:
            parts = frame.partition("\x01")[0].split("\x00")
            if len(parts) == 3:
                seen.add((parts[0], parts[1].replace("\\", "/")))
    return seen


def _functions_in(profile):
    """``{(function name, file)}`` that ``profile`` saw run: from cProfile's statistics (a
    ``pstats.Stats`` or a ``cProfile.Profile``), a pyinstrument ``Profiler`` or session, or a
    ``LineProfiler``. ``None`` for anything else."""
    if isinstance(profile, cProfile.Profile):
        try:
            profile = pstats.Stats(profile)
        except TypeError:  # a profiler that never ran anything
            return set()
    if isinstance(profile, pstats.Stats):
        return {(name, file.replace("\\", "/")) for (file, _, name), row in profile.stats.items() if row[1] > 0}
    if isinstance(profile, Profiler):
        profile = profile.last_session
        if profile is None:
            return set()
    if isinstance(profile, Session):
        return _frame_functions(profile)
    if isinstance(profile, LineProfiler):
        timings = profile.get_stats().timings
        return {(name, file.replace("\\", "/")) for (file, _, name), lines in timings.items() if lines}
    return None


def _named(hot_spot):
    """The function name that ``hot_spot`` names: a function's own name, or a string such as
    ``"longest_calm_spell"``, ``"report.longest_calm_spell"`` or ``"longest_calm_spell()"``."""
    if callable(hot_spot):
        return getattr(hot_spot, "__name__", None)
    if isinstance(hot_spot, str):
        return hot_spot.strip().removesuffix("()").rsplit(".", 1)[-1]
    return None


def _in_file(file, file_name):
    return file == file_name or file.endswith("/" + file_name)


def _ran(functions, name, file_name):
    """Whether the profile saw the function ``name`` of the file ``file_name`` run."""
    return any(function == name and _in_file(file, file_name) for function, file in functions)


def _line_profiled_steps(profiler):
    """``{step: time}`` from a ``LineProfiler`` that timed ``daily_report``'s lines: each step's
    time is that of the lines of ``daily_report`` that call it (``%lprun -f daily_report`` shows
    them beside the code). The steps the profiler timed themselves count with their own totals
    where ``daily_report``'s lines were not timed."""
    steps, stats = {}, profiler.get_stats()
    for (file, _, name), lines in stats.timings.items():
        file = file.replace("\\", "/")
        if name == "daily_report" and _in_file(file, REPORT_FILE):
            for line, _, took in lines:
                text = linecache.getline(file, line)
                for step in STEP_NAMES:
                    if f"{step}(" in text:
                        steps[step] = steps.get(step, 0) + took * stats.unit
        elif name in STEP_FILES and _in_file(file, STEP_FILES[name]) and lines:
            steps.setdefault(name, sum(took for _, _, took in lines) * stats.unit)
    return steps


def _as_stats(profile):
    """A ``cProfile.Profile`` that ran as its ``pstats.Stats``; anything else as it is."""
    return pstats.Stats(profile) if isinstance(profile, cProfile.Profile) else profile


def _shaken(profile):
    """Whether ``profile`` is cProfile's, and another thread disturbed its counts (Python 3.12+;
    see :func:`helpers.profiling.disturbed`)."""
    if not isinstance(profile, (cProfile.Profile, pstats.Stats)):
        return False
    try:
        return disturbed(_as_stats(profile), report.daily_report)
    except TypeError:  # a cProfile.Profile that never ran anything
        return False


def _step_times(profile):
    """``{step: seconds}`` for the steps of ``daily_report`` that ``profile`` saw: cumulative time
    (cProfile), time on the stack (pyinstrument), or time of the lines that call each step
    (line_profiler)."""
    profile = _as_stats(profile)
    if isinstance(profile, Profiler):
        profile = profile.last_session
    if isinstance(profile, pstats.Stats):
        return {name: max(row[2] for row in entries(profile, name, file))
                for name, file in STEP_FILES.items() if entries(profile, name, file)}
    if isinstance(profile, Session):
        steps = {}
        for stack, took in profile.frame_records:
            on_stack = {frame.partition("\x01")[0].split("\x00")[0] for frame in stack}
            for name in on_stack & set(STEP_NAMES):
                steps[name] = steps.get(name, 0) + took
        return steps
    return _line_profiled_steps(profile)


def _the_checkers_hot_spot():
    """The step of ``daily_report`` with the largest cumulative time, in the checker's own profile."""
    stats = profile_call(report.daily_report, _tiny_returns())
    cumulative = {name: max((row[2] for row in entries(stats, name, file)), default=0.0)
                  for name, file in STEP_FILES.items()}
    return max(cumulative, key=cumulative.get)


def check_hot_spot(profile, hot_spot):
    """Exercise 12.1: ``profile`` is a profile of ``daily_report(returns)`` the student made,
    ``hot_spot`` the step of the report (a function or its name) that takes most of its time."""
    functions = _functions_in(profile)
    require(functions is not None,
            f"Pass the profile you made as the first argument: the pstats.Stats of a cProfile run (or the "
            f"cProfile.Profile itself), or the pyinstrument Profiler or LineProfiler you ran. Got {describe(profile)}.")
    steps_seen = [name for name, file in STEP_FILES.items() if _ran(functions, name, file)]
    # From Python 3.12 on, cProfile in a Jupyter kernel records the kernel's threads too, and their
    # calls can cost the profiled call its own row and the rows of its first calls: in such a
    # disturbed profile, two steps or more seen count as the report seen (one step alone is what a
    # profile of that step shows). The times of a disturbed profile are not read either.
    shaken = _shaken(profile)
    if not _ran(functions, "daily_report", REPORT_FILE) and not (shaken and len(steps_seen) >= 2):
        require(not steps_seen,
                f"Your profile shows {steps_seen[0] if steps_seen else ''} but not daily_report itself: profile the "
                "whole report, daily_report(small), so that its steps can be compared.")
        raise CheckFailed("This profile never ran daily_report: profile the call daily_report(small) and pass "
                          "the profile you got. A hot spot named without a profile is a guess.")
    name = _named(hot_spot)
    require(name, f"Name the hot spot as the second argument: the function itself or its name as a string. "
                  f"Got {describe(hot_spot)}.")
    require(name != "daily_report",
            "daily_report is the whole report: its cumulative time includes all its steps. Which of the "
            "functions it calls takes most of that time?")
    if name not in STEP_NAMES:
        require(not any(function == name for function, _ in functions),
                f"{name} is machinery that one of the report's steps uses (pandas or Python itself), not a step "
                "of the report. Which of daily_report's own functions, in helpers/slow_report.py, calls it the most?")
        raise CheckFailed(f"{name} is not one of the functions daily_report calls: look for the functions of "
                          "helpers/slow_report.py in your profile.")
    times = _step_times(profile)
    require(shaken or name in times, f"Your profile does not show {name}: name a step you can see in your profile, one of "
                           "the report on the lesson's data, daily_report(small).")
    require(name == _the_checkers_hot_spot(),
            f"{name} is not where the report spends its time: compare the cumulative times (cumtime) of "
            "daily_report's steps in your profile, not their own times or their number of calls.")
    require(shaken or (times[name] >= MIN_STEP_SECONDS and times[name] > sum(times.values()) / 2),
            f"In the profile you passed, {name} does not take most of the report's time: it cannot be where you "
            "read it from. Profile the report on the lesson's data, daily_report(small), not on a few rows, and "
            "read the hot spot from that profile.")
    if shaken:
        passed(f"you profiled daily_report and its hot spot is {name}, as the checker's own profile of the report on "
               "other data shows (the notebook's own threads disturbed your profile's counts, so its times were not "
               "read: profile again to see them right).")
        return
    passed(f"you profiled daily_report, your profile shows {name} as its hot spot, and the checker's own profile "
           "of the report on other data agrees.")


# --- Exercise 12.2: predict, then measure ----------------------------------------------------

SIZES = (5, 3, 6, 4, 7, 5)  # megabytes: the checker's own files (not the notebook's total)
WORKERS = 2  # not the notebook's 3: an answer that ignores its workers argument is caught
PARTS_TOLERANCE = (0.9, 1.35)  # waits overshoot a little on a busy machine, never undershoot
SPEEDUP_TOLERANCE = 0.25  # how far a measured speed-up may pass Amdahl's prediction (timing noise)
# The job's time implied by the student's speed-up against the runs of nightly_job the pool saw:
# the job's two serial waits plus the time from its map call to its last download's return
# (a timing can add a little, never take away much). The student's timing also holds the serial
# waits' overshoot and this process's wake-up after the last download, which passed 15% about once
# in 30 checks on a 2-core machine with a load of 9: 25% leaves room, and still tells apart every
# wrong measurement (the serial run of the job, the serial part left out: 50% longer or more).
JOB_TIME_RANGE = (0.95, 1.25)
SERIAL_WAIT = amdahl.OPEN_SECONDS + amdahl.MERGE_SECONDS


class TimedPool(RecordingPool):
    """A :class:`~helpers.checks.evidence.RecordingPool` that also notes when each submission was
    made and when its result came back, and, for each ``map`` called by ``nightly_job``, when it
    was called and which submissions it made: how long the pool's part of each run of the job took."""

    def __init__(self, max_workers, **options):
        super().__init__(max_workers, **options)
        self.returned_at = {}
        self.job_maps = []  # (perf_counter at the map call, first submission, one past the last)

    def submit(self, fn, /, *args, **kwargs):
        future = super().submit(fn, *args, **kwargs)
        future._inner.add_done_callback(lambda _, index=future.index: self._note_return(index))
        return future

    def _note_return(self, index):
        self.returned_at[index] = time.perf_counter()

    def map(self, fn, *iterables, **options):
        caller = sys._getframe(1).f_code
        called_at, first = time.perf_counter(), len(self.submissions)
        results = super().map(fn, *iterables, **options)
        if (caller.co_name, caller.co_filename) == (amdahl.nightly_job.__name__, amdahl.nightly_job.__code__.co_filename):
            self.job_maps.append((called_at, first, len(self.submissions)))
        return results

    def job_runs(self, sizes):
        """``(seconds, pids)`` for each run of ``nightly_job`` on this pool over ``sizes`` whose
        downloads have all come back: the time the job took (its serial waits plus its map), and
        the workers that ran its downloads."""
        runs = []
        for called_at, first, end in self.job_maps:
            calls = [call for submission in self.submissions[first:end] for call in submission.calls]
            returned = [self.returned_at.get(index) for index in range(first, end)]
            if sorted(call.args[0] for call in calls if call.args) == sorted(sizes) and None not in returned:
                runs.append((SERIAL_WAIT + max(returned) - called_at, {call.pid for call in calls}))
        return runs


def _as_numbers(answer):
    """``(serial, parallel, predicted, measured)`` from the answer, or a hint about its shape."""
    shape = ("predict_and_measure should return four numbers: (serial_seconds, parallel_seconds, "
             "predicted, measured)")
    four = isinstance(answer, (tuple, list)) or (isinstance(answer, np.ndarray) and answer.ndim == 1)
    require(four and len(answer) == 4, f"{shape}. Got {describe(answer)}.")
    require(all(isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
                for value in answer),
            f"{shape}; some of yours are not numbers (text, a truth value, ...): {answer!r}.")
    numbers = [float(value) for value in answer]
    require(all(math.isfinite(value) and value > 0 for value in numbers),
            f"{shape}, each of them above zero. Got {answer!r}.")
    return numbers


def _about(value, expected, tolerance=PARTS_TOLERANCE):
    return tolerance[0] * expected <= value <= tolerance[1] * expected


def _check_parts(serial, parallel, workers, sizes):
    """The measured parts against the job's known waits."""
    parallel_wait = amdahl.FETCH_SECONDS_PER_MB * sum(sizes)
    if not _about(parallel, parallel_wait):
        require(parallel >= PARTS_TOLERANCE[0] * parallel_wait,
                "Your parallel part is shorter than the downloads of the sizes passed in take one after another in "
                "one process: did you time those sizes (not your own), in this process rather than on the pool? "
                "Amdahl's law needs their time in one process, the work the workers share.")
        require(not _about(parallel, SERIAL_WAIT + parallel_wait),
                "Your parallel part includes the serial steps (open_session and merge): time the downloads alone.")
        raise CheckFailed("Your parallel part is longer than downloading all the files takes in one process: time "
                          "fetch for every size passed in, one after another, and nothing else.")
    if not _about(serial, SERIAL_WAIT):
        require(not _about(serial, amdahl.OPEN_SECONDS),
                "Your serial part leaves out a step that runs once: the job ends with merge.")
        require(not _about(serial, SERIAL_WAIT + parallel_wait),
                "Your serial part includes the downloads: those are the part that workers share.")
        raise CheckFailed("Your serial part is not the time of the steps that run once (open_session and merge).")
    for part, value, wait in (("serial", serial, SERIAL_WAIT), ("parallel", parallel, parallel_wait)):
        require(not math.isclose(value, wait, rel_tol=1e-9),
                f"Your {part} part is exactly the job's nominal wait, to the last digit: a measurement never is. "
                "Time the steps (with helpers.timing.seconds or a stopwatch) instead of computing them.")


def _check_prediction(serial, parallel, predicted, measured, workers):
    expected = amdahl.predicted_speedup(serial, parallel, workers)
    require(not math.isclose(predicted, measured, rel_tol=1e-9),
            "Your prediction is exactly your measurement: predict from the parts, before measuring the pool.")
    require(not math.isclose(predicted, workers, rel_tol=1e-3),
            f"{workers} is the ideal speed-up, the number of workers. Amdahl's law counts the serial part too.")
    require(math.isclose(predicted, expected, rel_tol=1e-6),
            "Your prediction is not Amdahl's law applied to the parts you measured: "
            "use predicted_speedup(serial_seconds, parallel_seconds, workers).")


def _job_runs(pool, sizes):
    """The runs of ``nightly_job`` on ``pool`` over ``sizes``, or the hint saying what ran instead."""
    fetches = [call for call in pool.calls if same_function(call.function, amdahl.fetch)]
    require(fetches, "Nothing was downloaded on the executor passed in: measure the speed-up by running "
                     "nightly_job(executor, sizes) on it.")
    require(pool.job_maps, "The downloads on the executor passed in did not come from nightly_job: measure the "
                           "speed-up by timing nightly_job(executor, sizes), the whole job.")
    runs = pool.job_runs(sizes)
    require(runs, "The pool downloaded other files than the sizes passed in: run nightly_job on those sizes.")
    require(any(len(pids) >= 2 for _, pids in runs),
            "Every download ran in the same worker: the pool was not used in parallel.")
    return runs


def check_prediction(predict_and_measure, workers=WORKERS, sizes=SIZES, mp_context=None):
    """Exercise 12.2: ``predict_and_measure(executor, workers, sizes)`` measures the serial and
    parallel parts of ``nightly_job`` for ``sizes``, predicts the speed-up on ``workers`` workers
    with Amdahl's law, measures it on ``executor``, and returns the four numbers."""
    sizes = list(sizes)
    with TimedPool(workers, mp_context=mp_context) as pool:
        list(pool.map(sleep_for, [0.2] * workers))  # every worker started: start-up is not the job's
        started = time.perf_counter()
        answer = call_answer(predict_and_measure, pool, workers, sizes,
                             expected_signature="predict_and_measure(executor, workers, sizes)")
        took = time.perf_counter() - started
    serial, parallel, predicted, measured = _as_numbers(answer)
    _check_parts(serial, parallel, workers, sizes)
    _check_prediction(serial, parallel, predicted, measured, workers)
    runs = _job_runs(pool, sizes)
    job_times = [seconds for seconds, _ in runs]
    parts_wait = SERIAL_WAIT + amdahl.FETCH_SECONDS_PER_MB * sum(sizes)
    require(took >= PARTS_TOLERANCE[0] * parts_wait + JOB_TIME_RANGE[0] * min(job_times),
            "Your function returned too soon to have timed the steps that run once, the downloads one after "
            "another and the job on the pool: measure the parts while it runs, do not type them in.")
    require(measured <= (1 + SPEEDUP_TOLERANCE) * predicted,
            "Your measured speed-up beats Amdahl's law: time the whole job on the pool, serial steps included, "
            "and divide the one-process time by it.")
    job_time = (serial + parallel) / measured  # the time of nightly_job that the speed-up stands for
    require(job_time >= JOB_TIME_RANGE[0] * min(job_times),
            "Your measured speed-up is higher than any run of nightly_job on the executor gave: time the whole "
            "job, serial steps included, and divide the one-process time by it.")
    require(job_time <= JOB_TIME_RANGE[1] * max(job_times),
            "Your measured speed-up is not what the pool gives: the one-process time (serial plus parallel) "
            "divided by the time of nightly_job on the executor passed in.")
    passed(f"your parts match the job's, your prediction is Amdahl's law applied to them, and your measured speed-up "
           f"is the one-process time over the time nightly_job took on the {workers} workers, as the pool saw it run.")
