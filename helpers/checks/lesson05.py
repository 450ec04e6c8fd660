"""Checkers for lesson 05's exercises: failed jobs collected, and retried once.

Each exercise asks for a function that takes a pool. The checker calls it with inputs of its own
and an :class:`EventPool`, a :class:`~helpers.checks.evidence.RecordingPool` that also notes, in
one list, each submission and each time the answer asked a future for its outcome. So it sees
which calls ran in the workers and what each returned or raised (the exception objects
themselves: a failure filed by the answer must be the very exception its job raised), whether
every job was submitted before the answer waited for one (the submit-and-wait pitfall runs the
jobs one at a time), and, for the retry, that each retry was submitted after its first attempt
had been seen to fail.
"""

import shutil
import tempfile
import threading
from collections import Counter
from concurrent.futures import Future
from numbers import Integral

from helpers.checks import CheckFailed, passed, require
from helpers.checks.evidence import RecordingPool, call_answer, describe
from helpers.workers import fails_every_time, fails_first_time, parse_price, unreliable_square

# Exercise 5.1: prices to parse (five parse, four raise ValueError), then texts of which one is
# not text at all (parse_price raises TypeError for None: a bug, not a bad price).
TEXTS = ("3.25", "n/a", "-1", "8", "", "0.5", "1e2", "2,5", "0")
TEXTS_WITH_A_BUG = ("4.5", None, "x")

# Exercise 5.2: four succeed at once, three fail once (ConnectionError), three always (ValueError).
NUMBERS = (14, 15, 16, 18, 20, 21, 22, 24, 25, 26)


class EventPool(RecordingPool):
    """A recording pool that also notes ``("submit", index)`` for each submission and
    ``("take", index)`` each time the calling thread asks a future for its result or exception
    (asking inside a done-callback, from the pool's own thread, is not waiting), and whether
    anyone shut it down (``shut_down``) before the checker's own ``with`` block ends."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events = []
        self.caller = threading.get_ident()
        self.shut_down = False

    def shutdown(self, *args, **kwargs):
        self.shut_down = True
        super().shutdown(*args, **kwargs)

    def submit(self, fn, /, *args, **kwargs):
        future = super().submit(fn, *args, **kwargs)
        self.events.append(("submit", future.index))
        return future

    def _note_taken(self, future):
        if threading.get_ident() == self.caller:
            self.events.append(("take", future.index))
        super()._note_taken(future)

    def waited_before_submitting_all(self, submissions):
        """Whether the caller asked for an outcome before the last of ``submissions`` was submitted."""
        order = [event for event in self.events if event[0] == "take" or event[1] in submissions]
        last_submit = max(i for i, (kind, index) in enumerate(order) if kind == "submit" and index in submissions)
        return any(kind == "take" for kind, _ in order[:last_submit])

    def first_taken_at(self, index):
        """Position in :attr:`events` of the first time the caller asked for submission ``index``."""
        return next((i for i, event in enumerate(self.events) if event == ("take", index)), None)

    def submitted_at(self, index):
        """Position in :attr:`events` of submission ``index``."""
        return self.events.index(("submit", index))


def _argument(call, position, name):
    """The argument a call received at ``position``, or by keyword ``name``."""
    return call.args[position] if len(call.args) > position else call.kwargs.get(name)


def _as_two_dicts(result, names):
    """The answer's return value as two dicts, or a hint on the shape expected."""
    shape = f"({names[0]}, {names[1]})"
    require(isinstance(result, (tuple, list)) and len(result) == 2,
            f"Your function should return two dicts, {shape}; it returned {describe(result)}.")
    for name, value in zip(names, result):
        require(isinstance(value, dict), f"`{name}` is a {type(value).__name__}; make it a dict.")
    return result


def _require_keys(first, second, keys, names, key_kind):
    """Every key in exactly one of the two dicts, and nothing else."""
    for key in [*first, *second]:
        require(key in keys, f"{key!r} is not {key_kind} of the inputs the check gave: key both dicts by {key_kind}.")
    both = set(first) & set(second)
    require(not both, f"{sorted(both)} are in both `{names[0]}` and `{names[1]}`: each is in one of them.")
    lost = [key for key in keys if key not in first and key not in second]
    require(not lost, f"{len(lost)} of {len(keys)} jobs are in neither dict: an outcome was dropped instead "
                      "of filed. No job may be lost.")


def _require_the_raised_exception(stored, raised, where):
    """``stored`` must be the very exception object that the job raised and the pool handed back."""
    require(not isinstance(stored, Future), f"{where} is a future, not an exception: store the exception that "
                                            "the future raised when you asked it for its result.")
    require(isinstance(stored, BaseException),
            f"{where} is a {type(stored).__name__}, not an exception: store the exception object itself, so "
            "that its type and the worker's traceback stay available.")
    require(stored is raised, f"{where} is a {type(stored).__name__} made in this process, not the exception "
                              "the job raised: store the one that the future handed back.")


def _not_shut_down_hint(pool):
    require(not pool.shut_down, "Your function shut down the pool it was given (a `with executor:` block, or "
                                "executor.shutdown()): the caller made the pool and may give it more work, so "
                                "leave it open.")


def _is_job_index(key):
    return isinstance(key, Integral) and not isinstance(key, bool)


def _nothing_sent_hint(pool, function):
    require(pool.calls_of(function), f"Nothing reached the pool your function was given (`executor`): every "
                                     f"job must run {function.__name__} in its workers, not in this process.")


def _submit_and_wait_hint(pool, submissions):
    require(not pool.waited_before_submitting_all(submissions),
            "Your function waited for a job's outcome before it had submitted the others, so the pool ran "
            "them one at a time: submit every job first, then collect.")


def check_collected(collect_outcomes, mp_context=None):
    """Exercise 5.1: ``collect_outcomes(executor, texts)`` submits one ``parse_price`` job per text
    and returns ``(successes, failures)`` keyed by job index: each price as the worker returned it,
    each ``ValueError`` as the job raised it; any other exception stops the function.
    ``mp_context`` (tests) picks the pool's start method."""
    texts = list(TEXTS)
    with EventPool(2, mp_context=mp_context) as pool:
        result = call_answer(collect_outcomes, pool, texts, expected_signature="collect_outcomes(executor, texts)",
                             not_here=[parse_price])
        successes, failures = _as_two_dicts(result, ("successes", "failures"))
        _nothing_sent_hint(pool, parse_price)
        calls = pool.calls_of(parse_price)
        require(all(isinstance(_argument(call, 0, "text"), str) for call in calls),
                "Each parse_price job should be given one of the texts, as it is.")
        require(Counter(_argument(call, 0, "text") for call in calls) == Counter(texts),
                f"The pool ran {len(calls)} parse_price job(s) for {len(texts)} texts: one job per text, "
                "each text once.")
        _submit_and_wait_hint(pool, {call.submission for call in calls})
        keys = [*successes, *failures]
        require(not any(isinstance(key, str) for key in keys),
                "Key both dicts by the job's index (0, 1, 2, ...), not by its text: two jobs may share a text.")
        odd = next((key for key in keys if not _is_job_index(key)), None)
        require(odd is None, f"Key both dicts by the job's index (0, 1, 2, ...), a whole number; one key is "
                             f"{type(odd).__name__} {odd!r}.")
        _require_keys(successes, failures, range(len(texts)), ("successes", "failures"), "a job index")
        call_of = {_argument(call, 0, "text"): call for call in calls}
        for i, text in enumerate(texts):
            call = call_of[text]
            if call.error is None:
                require(i in successes, f"Job {i} succeeded, but it is filed under `failures`.")
                require(successes[i] == call.result,
                        f"`successes[{i}]` is not what the job returned: store the value that came back.")
                require(successes[i] is call.result,
                        f"`successes[{i}]` has the right value, but it was made in this process, not taken from "
                        "the job: store the value that the future handed back.")
            else:
                require(i in failures, f"Job {i} raised an exception, but it is filed under `successes`.")
                _require_the_raised_exception(failures[i], call.error, f"`failures[{i}]`")
        _not_shut_down_hint(pool)
        _require_lets_other_errors_through(collect_outcomes, pool)
    passed(f"{len(texts)} parse_price jobs were submitted before any was waited for and ran in the pool's "
           f"workers; {len(successes)} prices and {len(failures)} ValueErrors, the very exceptions the jobs "
           "raised, are filed under their job index, and a TypeError, which is no bad price, stopped the function.")


def _require_lets_other_errors_through(collect_outcomes, pool):
    """Called with a text that is not text at all, the answer must let the job's TypeError out."""
    texts = list(TEXTS_WITH_A_BUG)
    bug = texts.index(None)
    try:
        result = collect_outcomes(pool, texts)
    except TypeError as error:
        bug_calls = [call for call in pool.calls_of(parse_price) if _argument(call, 0, "text") is None]
        require(any(error is call.error for call in bug_calls),
                f"With texts {texts}, your function raised a TypeError of its own ({error}), not the one the "
                "job for None raised.")
        return
    except CheckFailed:
        raise
    except Exception as error:  # noqa: BLE001 - any other failure of the answer is reported
        raise CheckFailed(f"With texts {texts}, your function raised {type(error).__name__}: {error}") from None
    failures = result[1] if isinstance(result, (tuple, list)) and len(result) == 2 else {}
    caught = isinstance(failures, dict) and bug in failures
    require(not caught, f"With texts {texts}, the TypeError of job {bug} (None is no text at all: a bug in the "
                        "caller, not a bad price) was filed under `failures`: your function catches too much. "
                        "Catch only the error a bad price raises, and let any other stop the function.")
    raise CheckFailed(f"With texts {texts}, job {bug} failed with a TypeError, and your function neither filed "
                      "nor raised it: it was lost. Let errors other than a bad price stop the function.")


def check_retry(retry_once, mp_context=None):
    """Exercise 5.2: ``retry_once(executor, numbers, attempts_dir)`` submits every input once, then
    each failed input once more, after its first attempt was seen to fail, and returns
    ``(results, failed_twice)`` keyed by input: each square as the successful attempt returned it,
    each second attempt's exception as it was raised. ``mp_context`` (tests) picks the start method."""
    numbers = list(NUMBERS)
    attempts_dir = tempfile.mkdtemp(prefix="retry-check-")
    try:
        with EventPool(2, mp_context=mp_context) as pool:
            result = call_answer(retry_once, pool, numbers, attempts_dir,
                                 expected_signature="retry_once(executor, numbers, attempts_dir)",
                                 not_here=[unreliable_square])
            results, failed_twice = _as_two_dicts(result, ("results", "failed_twice"))
            _not_shut_down_hint(pool)
        _require_retried_once(pool, numbers, attempts_dir)
        _require_keys(results, failed_twice, numbers, ("results", "failed_twice"), "an input")
        calls = pool.calls_of(unreliable_square)
        for x in numbers:
            attempts = [call for call in calls if _argument(call, 0, "x") == x]
            last = attempts[-1]
            if last.error is None:
                require(x in results, f"Input {x} succeeded at its last attempt, but it is not in `results`.")
                require(results[x] == last.result,
                        f"`results[{x}]` is not what the successful attempt returned: store the value that came back.")
            else:
                require(x in failed_twice, f"Input {x} failed on both attempts, but it is filed under `results`.")
                require(failed_twice[x] is not attempts[0].error,
                        f"`failed_twice[{x}]` is the exception of the first attempt: report the second's.")
                _require_the_raised_exception(failed_twice[x], last.error, f"`failed_twice[{x}]`")
    finally:
        shutil.rmtree(attempts_dir, ignore_errors=True)
    retried = sum(fails_every_time(x) or fails_first_time(x) for x in numbers)
    passed(f"{len(numbers)} first attempts were submitted before any was waited for and ran in the pool's "
           f"workers; only the {retried} that failed were tried again, once each and after their first attempt "
           f"had failed; {len(results)} results and {len(failed_twice)} second failures are filed under their input.")


def _require_retried_once(pool, numbers, attempts_dir):
    """Each input ran once, each failure once more after its failure was seen, nothing else ran."""
    _nothing_sent_hint(pool, unreliable_square)
    calls = pool.calls_of(unreliable_square)
    require(all(_argument(call, 1, "attempts_dir") == attempts_dir for call in calls),
            "Some jobs were given another attempts directory than the one your function received: pass "
            "`attempts_dir` on to unreliable_square.")
    require(all(isinstance(_argument(call, 0, "x"), Integral) for call in calls),
            "Each unreliable_square job should be given one of the numbers, as it is.")
    counts = Counter(_argument(call, 0, "x") for call in calls)
    never = [x for x in numbers if counts[x] == 0]
    require(not never, f"{len(never)} of the {len(numbers)} inputs never ran: submit every input once.")
    require(set(counts) <= set(numbers), "The pool ran inputs the check did not give: use `numbers`.")
    require(max(counts.values()) <= 2, "Some inputs were tried more than twice: retry each failure once only.")
    first = {}
    for call in calls:
        first.setdefault(_argument(call, 0, "x"), call)
    _submit_and_wait_hint(pool, {call.submission for call in first.values()})
    rerun = [x for x in numbers if counts[x] == 2 and first[x].error is None]
    require(not rerun, f"Input(s) {rerun} succeeded at the first attempt and were run again: retry only the failures.")
    not_retried = [x for x in numbers if counts[x] == 1 and first[x].error is not None]
    require(not not_retried, f"{len(not_retried)} input(s) that failed were not retried: submit each failure "
                             "a second time.")
    for call in calls:
        x = _argument(call, 0, "x")
        if call is not first[x]:
            seen = pool.first_taken_at(first[x].submission)
            require(seen is not None and seen < pool.submitted_at(call.submission),
                    f"Input {x} was tried again before its first attempt's outcome was looked at: "
                    "retry the inputs whose first attempt failed, once you know it failed.")
