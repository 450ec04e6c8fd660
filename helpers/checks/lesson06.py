"""Checkers for lesson 06's exercises: independent random streams for a Monte Carlo estimate of
pi, and a parallel bootstrap of realized quarticity that gives exactly the serial result.

Both exercises ask for a function. The checker calls it with inputs of its own and a recording
process pool (:mod:`helpers.checks.evidence`), whose first job is held back so that it finishes
last, and judges from what reached the workers: which function ran, with which random streams,
whether the answer's values are the ones the workers computed, in which order they were put
together, and whether the same seed gives the same result.
"""

import functools
import inspect
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import data, panel, streams
from helpers.checks import CheckFailed, passed, require
from helpers.checks.evidence import (RecordingPool, RecordingThreadPool, call_answer, describe,
                                     notebook_names, same_function)

HELD_BACK = 0.3  # seconds the first job waits after computing, so that it finishes last

# Exercise 6.1
PI_SEED, PI_TASKS, PI_POINTS = 11, 5, 20_000
PI_SIGNATURE = "count_hits(executor, seed, n_tasks, n_points)"

# Exercise 6.2
QUARTICITY_SEED, QUARTICITY_SAMPLES = 4, 24
QUARTICITY_SIGNATURE = "bootstrap_quarticity(returns, n_samples, seed, executor)"
CI_SAMPLES, CI_SEED, CI_TICKERS, CI_MONTH = 1000, 6, ["CSCO", "BA"], "2007-01"


class SubmitterRecordingPool(RecordingPool):
    """A :class:`RecordingPool` that also notes, for every submission, which of the course's
    helpers were running when ``submit`` was called: the code between the answer and the pool,
    such as a helper that does the pool work for it (even through a wrapper of the executor)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.submitters = []

    def submit(self, fn, /, *args, **kwargs):
        self.submitters.append(_course_code_on_stack(sys._getframe(1)))
        return super().submit(fn, *args, **kwargs)


def _course_code_on_stack(frame):
    """``module.function`` of every frame of the course's helpers (not its checkers) from
    ``frame`` outwards, up to the checker that called the answer; the outermost last.
    Comprehensions' own frames (Python 3.11) are left out: their function is on the stack too."""
    found = []
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("helpers.checks"):
            break
        if module.startswith("helpers.") and not frame.f_code.co_name.startswith("<"):
            found.append(f"{module}.{frame.f_code.co_name}")
        frame = frame.f_back
    return found


def _course_helpers(submitters):
    """The course's helpers that the answer called to submit its jobs (the outermost of each
    submission: the one the answer called itself)."""
    return sorted({names[-1] for names in submitters if names})


def _plain(call):
    """The function a recorded call runs and all its arguments, ``(function, args, kwargs)``,
    with any ``functools.partial`` unwrapped."""
    function, args, kwargs = call.function, tuple(call.args), dict(call.kwargs)
    while isinstance(function, functools.partial):
        function, args, kwargs = function.func, function.args + args, {**function.keywords, **kwargs}
    return function, args, kwargs


def _runs(call, function):
    """Whether the recorded ``call`` runs ``function`` (directly or through a partial)."""
    return same_function(_plain(call)[0], function)


def _stream(seed):
    """What identifies the random stream a task draws from ``seed`` (a SeedSequence, an int, a
    generator, ...): the state of the generator built from it."""
    try:
        return repr(np.random.default_rng(seed).bit_generator.state)
    except Exception:  # noqa: BLE001 - something default_rng refuses: compare it as it is
        return repr(seed)


def _bound(function, call):
    """The arguments of a recorded call of ``function``, by parameter name (None if they do not
    fit its signature)."""
    _, args, kwargs = _plain(call)
    try:
        return inspect.signature(function).bind(*args, **kwargs).arguments
    except TypeError:
        return None


def _taken_all(pool, submissions):
    """Whether the answer asked for the result of every one of ``submissions`` (indices)."""
    return set(submissions) <= set(pool.taken)


def _notebook_hint(names):
    return (f"You send the workers something defined in the notebook ({', '.join(names)}): a worker started "
            "by spawn or forkserver (Windows, macOS, Python 3.14 on Linux) cannot import it, even where fork "
            "hides the problem. Send functions that live in a module, such as those of helpers.")


# --------------------------------------------------------------------------------------------
# Exercise 6.1


def _run_count_hits(count_hits, pool, seed):
    """Call the answer once on ``pool``; return its counts, its calls and its submissions."""
    first_submission = len(pool.submissions)
    result = call_answer(count_hits, pool, seed, PI_TASKS, PI_POINTS, expected_signature=PI_SIGNATURE)
    submissions = pool.submissions[first_submission:]
    calls = [call for submission in submissions for call in submission.calls]
    try:
        if isinstance(result, (dict, set, frozenset, str, bytes)):
            raise TypeError
        counts = [int(value) for value in result]
    except (TypeError, ValueError):
        raise CheckFailed(f"Wrong type: count_hits should return the {PI_TASKS} counts (whole numbers), one per "
                          f"task, in a list; got {describe(result)}.") from None
    require(len(counts) == PI_TASKS,
            f"Wrong length: with n_tasks={PI_TASKS} count_hits should return {PI_TASKS} counts, one per task; "
            f"got {len(counts)}.")
    return counts, calls, [submission.index for submission in submissions]


def check_independent_hits(count_hits, mp_context=None):
    """Exercise 6.1: ``count_hits(executor, seed, n_tasks, n_points)`` runs
    ``quarter_circle_hits`` as ``n_tasks`` tasks of ``n_points`` points on ``executor``, every task
    on a random stream of its own, reproducible from ``seed``, and returns the counts in task
    order. ``mp_context`` (tests) picks the pool's start method."""
    with RecordingPool(2, mp_context=mp_context, delays={0: HELD_BACK}.get) as pool:
        counts, calls, submissions = _run_count_hits(count_hits, pool, PI_SEED)
        require(calls, "Not parallel: nothing was submitted to the executor passed in. Run the tasks on it.")
        names = notebook_names([(call.function, call.args, call.kwargs) for call in calls])
        require(not names, _notebook_hint(names))
        hits = [call for call in calls if _runs(call, streams.quarter_circle_hits)]
        require(hits, "The tasks should run quarter_circle_hits from helpers.streams; none of the jobs that reached "
                      "the workers did.")
        require(len(hits) == PI_TASKS,
                f"With n_tasks={PI_TASKS} there should be {PI_TASKS} tasks, one call of quarter_circle_hits each; "
                f"{len(hits)} reached the workers.")
        arguments = [_bound(streams.quarter_circle_hits, call) for call in hits]
        require(all(a is not None and a["n_points"] == PI_POINTS for a in arguments),
                f"Every task should draw n_points points: with n_points={PI_POINTS:_} some task drew another number.")
        seen = [_stream(a["seed"]) for a in arguments]
        require(len(set(seen)) == PI_TASKS,
                "Some tasks drew exactly the same points: they were given the same seed or the same generator (a "
                "generator sent to a task is copied with its state). Every task needs a stream of its own.")
        computed = [call.result for call in hits]
        require(_taken_all(pool, submissions) and Counter(counts) == Counter(computed),
                "The counts returned are not the ones your tasks computed in the workers: return what the "
                "tasks' futures (or map) give back.")
        require(counts == computed,
                "Right counts in the wrong order: return them in task order, not in the order the tasks finished.")
        again, _, _ = _run_count_hits(count_hits, pool, PI_SEED)
        require(again == counts,
                "Not reproducible: the same seed gave other counts. Derive every task's stream from seed (a "
                "SeedSequence() without a seed, or the clock, changes on every run).")
        other, other_calls, _ = _run_count_hits(count_hits, pool, PI_SEED + 1)
        require(other != counts,
                "The counts do not change with seed: build the streams from the seed passed in, not from a number "
                "of your own.")
        shared = set(seen) & {_stream(a["seed"]) for a in (_bound(streams.quarter_circle_hits, call)
                                                           for call in other_calls) if a is not None}
        require(not shared,
                f"Two seeds share streams: some task of seed {PI_SEED + 1} drew the points of a task of seed "
                f"{PI_SEED} (seed plus task number?). Derive the streams from the seed so that two seeds never "
                "share one.")
    passed(f"{PI_TASKS} tasks ran in the pool's worker processes, each on a stream of its own, and came back in "
           "task order; the same seed gives the same counts, another seed other streams.")


# --------------------------------------------------------------------------------------------
# Exercise 6.2


def _tiny_returns():
    """Three days of two simulated stocks: enough for a bootstrap of a few dozen samples that
    takes moments."""
    prices = data.simulate_panel(6, tickers=("CSCO", "BA"), days=data.trading_days_2007()[:3]).prices
    return data.intraday_log_returns(prices)


def _sample_bytes(stats):
    """Each sample of ``stats`` as bytes, to compare samples exactly."""
    return [bytes(sample) for sample in np.ascontiguousarray(stats, dtype=float).reshape(len(stats), -1)]


def _as_statistics(result, shape):
    """The answer's result as an array of the expected shape, or a hint saying what it is."""
    try:
        array = np.asarray(result, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"Wrong type: bootstrap_quarticity should return one array of numbers, samples x days x "
                          f"stocks = {shape}; got {describe(result)}.") from None
    require(array.shape == shape,
            f"Wrong shape: expected (samples, days, stocks) = {shape}, got {array.shape}. Return every sample's "
            "statistic, stacked in sample order.")
    return array


def _sample_streams(calls):
    """The streams of the bootstrap samples that the calls computed, for the calls of the
    panel's sampling functions (None where a call is of another function)."""
    found = []
    for call in calls:
        if _runs(call, panel.samples_to_statistics):
            arguments = _bound(panel.samples_to_statistics, call)
            try:
                found += [_stream(seed) for seed in arguments["seeds"]]
            except (TypeError, KeyError):  # no seeds, or not a collection of them: the results will tell
                found.append(None)
        elif _runs(call, panel.sample_to_statistic):
            arguments = _bound(panel.sample_to_statistic, call)
            found.append(_stream(arguments["seed"]) if arguments else None)
        else:
            found.append(None)
    return found


def _worker_samples(calls):
    """Every sample statistic (as bytes) that came back from the workers."""
    samples = set()
    for call in calls:
        try:
            result = np.asarray(call.result, dtype=float)
        except (TypeError, ValueError):
            continue
        samples.update(_sample_bytes(result if result.ndim == 3 else result[None]))
    return samples


def _check_function(bootstrap_quarticity, pool):
    """Run the answer on the checker's data and ``pool`` (fresh, its first job held back); return
    how many tasks it sent."""
    returns = _tiny_returns()
    expected = panel.bootstrap_statistics(returns, QUARTICITY_SAMPLES, seed=QUARTICITY_SEED,
                                          statistic=panel.realized_quarticity)
    result = call_answer(bootstrap_quarticity, returns, QUARTICITY_SAMPLES, QUARTICITY_SEED, pool,
                         expected_signature=QUARTICITY_SIGNATURE)
    helpers_used = _course_helpers(pool.submitters)
    require(not helpers_used,
            f"Your function lets the course's {helpers_used[0] if helpers_used else ''} do the pool work. The "
            "exercise asks for your own: split the samples into batches, submit them to the executor and put the "
            "results together yourself.")
    calls = pool.calls
    require(calls, "Not parallel: nothing was submitted to the executor passed in. Submit the batches of samples "
                   "to it.")
    names = notebook_names([(call.function, call.args, call.kwargs) for call in calls])
    require(not names, _notebook_hint(names))
    tasks = len(pool.submissions)
    require(tasks > 1, "Only one task was submitted: one worker does everything. Split the samples into several "
                       "batches.")
    require(tasks < QUARTICITY_SAMPLES,
            "One task per sample sends the returns with every sample: group the samples into batches, a few per "
            "worker.")
    result = _as_statistics(result, expected.shape)
    require(np.isfinite(result).all(),
            "The array holds NaN or infinite values, where every sample of the checker's data has a realized "
            "quarticity: fill it with what the batches return.")
    variances = panel.bootstrap_statistics(returns, QUARTICITY_SAMPLES, seed=QUARTICITY_SEED)
    require(not np.allclose(result, variances),
            "Wrong statistic: these are realized variances. Bootstrap realized quarticity instead.")
    known = [stream for stream in _sample_streams(calls) if stream is not None]
    require(len(set(known)) == len(known) and len(set(_sample_bytes(result))) == QUARTICITY_SAMPLES,
            "Some bootstrap samples drew from the same stream (one seed or one generator shared by several "
            "samples, or the same streams in every batch): every sample needs a stream of its own.")
    require(_taken_all(pool, range(tasks)) and set(_sample_bytes(result)) <= _worker_samples(calls),
            "The array returned is not made of what your tasks computed in the workers: put together the "
            "results of the futures you submitted.")
    same_samples = sorted(_sample_bytes(result)) == sorted(_sample_bytes(expected))
    require(not same_samples or np.array_equal(result, expected),
            "Right samples in the wrong order (the order the batches finished?): put each batch at its samples' "
            "positions.")
    require(np.array_equal(result, expected),
            "Not the serial result: sample i must draw from the same stream as sample i of bootstrap_statistics "
            "(its source is in 6.5-6.7), whichever task computes it.")
    with RecordingThreadPool(3) as other:
        again = call_answer(bootstrap_quarticity, returns, QUARTICITY_SAMPLES, QUARTICITY_SEED, other,
                            expected_signature=QUARTICITY_SIGNATURE)
    require(np.array_equal(np.asarray(again, dtype=float), expected),
            "On an executor of another size the result changes: it must not depend on how the work is split.")
    return tasks


def _small(data_folder):
    """The lesson's `small`: January 2007 of CSCO and BA, read from ``data_folder``."""
    return data.intraday_log_returns(data.load_prices(data_folder, tickers=CI_TICKERS)).loc[CI_MONTH]


def _folder_state(data_folder):
    """``data_folder`` and the size and time of change of its files: the same state, the same data."""
    files = sorted(Path(data_folder).glob("*.csv"))
    return str(Path(data_folder).resolve()), tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files)


_EXPECTED_INTERVALS = {}  # by state of the data folder


def _expected_intervals(data_folder, small, pool):
    """The intervals exercise 6.2 asks for, from ``small`` as read from ``data_folder``, computed on
    ``pool`` once per state of the folder (checking the same data again, as the tests do, need not
    redo 1000 samples)."""
    state = _folder_state(data_folder)
    if state not in _EXPECTED_INTERVALS:
        _EXPECTED_INTERVALS[state] = panel.compute_ci(small, CI_SAMPLES, seed=CI_SEED, executor=pool,
                                                      statistic=panel.realized_quarticity)
    return _EXPECTED_INTERVALS[state]


def _check_intervals(ci_quarticity, data_folder, pool):
    """``ci_quarticity`` against the intervals the checker computes itself, from the same data, on
    ``pool``."""
    require(isinstance(ci_quarticity, pd.DataFrame),
            f"Wrong type: ci_quarticity should be the DataFrame that get_ci returns; got {describe(ci_quarticity)}.")
    returns = _small(data_folder)
    like = panel.realized_quarticity(returns)
    require(ci_quarticity.shape == (len(like), 2 * like.shape[1]) and ci_quarticity.index.equals(like.index)
            and list(ci_quarticity.columns) == [(t, b) for t in like.columns for b in ("lower", "upper")],
            f"ci_quarticity should have the days of small as index and (ticker, lower|upper) columns for "
            f"{', '.join(CI_TICKERS)}, as get_ci gives them; got shape {ci_quarticity.shape}.")
    values = ci_quarticity.to_numpy(dtype=float)
    require(np.all(values[:, 0::2] <= values[:, 1::2]),
            "ci_quarticity does not hold intervals: each lower bound should be at most its upper bound.")
    scale = np.nanmedian(values) / np.nanmedian(panel.compute_rv(returns).to_numpy())
    require(not 0.1 < scale < 10,
            "ci_quarticity looks like intervals of realized variance: bootstrap realized quarticity instead.")
    expected = _expected_intervals(data_folder, returns, pool)
    require(np.array_equal(values, expected.to_numpy()),
            f"ci_quarticity is not the 99% intervals of the realized quarticity of small from {CI_SAMPLES} samples "
            f"with seed {CI_SEED}: compute them with your function on a pool, then get_ci with "
            "like=realized_quarticity(small).")


def check_quarticity_bootstrap(bootstrap_quarticity, ci_quarticity, mp_context=None, data_folder="../data"):
    """Exercise 6.2: ``bootstrap_quarticity(returns, n_samples, seed, executor)`` returns the
    realized quarticity of ``n_samples`` bootstrap samples (samples x days x stocks), computed in
    batches that the answer itself submits to ``executor`` and puts back in sample order, equal to
    the serial ``bootstrap_statistics(returns, n_samples, seed=seed, statistic=realized_quarticity)``;
    ``ci_quarticity`` holds the 99% intervals of ``small`` (the lesson's January of CSCO and BA,
    read from ``data_folder``) from 1000 samples with seed 6. ``mp_context`` (tests) picks the
    pool's start method."""
    with SubmitterRecordingPool(2, mp_context=mp_context, delays={0: HELD_BACK}.get) as pool:
        tasks = _check_function(bootstrap_quarticity, pool)
        _check_intervals(ci_quarticity, data_folder, pool)
    passed(f"your function sent {tasks} batches to the pool's workers, every sample on its own stream, and put them "
           "back in sample order though the first batch was held back; it equals the serial bootstrap exactly, and "
           f"ci_quarticity holds the 99% intervals of small from {CI_SAMPLES} samples.")
