"""Checkers for lesson 05's exercises: failed jobs collected, and retried once.

The expected answers are recomputed here from the worker functions themselves. For the retry
exercise the evidence of how often each input was tried comes from the attempt records that
:func:`helpers.workers.unreliable_square` writes, one line per call, in whichever worker process
ran it: a retry loop that tries too often, or not at all, shows there.
"""

from helpers.checks import passed, require
from helpers.workers import attempts_made, fails_every_time, fails_first_time, parse_price


def _require_dicts(**named):
    """Each answer must be a dict (keyed by job index or input, as the exercise says)."""
    for name, value in named.items():
        require(isinstance(value, dict), f"`{name}` is a {type(value).__name__}; make it a dict.")


def _require_exceptions(failures, name):
    """Failures must be stored as exception objects, which keep their type and traceback."""
    for key, error in failures.items():
        require(isinstance(error, BaseException),
                f"`{name}[{key!r}]` is a {type(error).__name__}, not an exception: store the exception "
                "object itself, so its type and the worker's traceback stay available.")


def _outcome(text):
    """What ``parse_price(text)`` does: ``("ok", price)`` or ``("fails", None)``."""
    try:
        return "ok", parse_price(text)
    except ValueError:
        return "fails", None


def check_collected(successes, failures, texts):
    """Exercise 5.1: every job in exactly one of two dicts keyed by job index, with the right values."""
    _require_dicts(successes=successes, failures=failures)
    indices = set(range(len(texts)))
    require(all(isinstance(key, int) for key in [*successes, *failures]),
            "key both dicts by the job's index (0, 1, 2, ...), not by its text: two jobs may share a text.")
    both = set(successes) & set(failures)
    require(not both, f"job(s) {sorted(both)} are in both dicts: a job either succeeded or failed.")
    missing = indices - set(successes) - set(failures)
    require(not missing, f"{len(missing)} job(s) are in neither dict: a failure (or a result) was dropped "
                         "instead of filed under its index.")
    require(set(successes) | set(failures) == indices, f"some keys are not job indices 0 to {len(texts) - 1}.")
    _require_exceptions(failures, "failures")
    for i in sorted(indices):
        status, price = _outcome(texts[i])
        if status == "ok":
            require(i in successes, f"job {i} succeeds, but it is filed under `failures`.")
            require(successes[i] == price, f"job {i} has the wrong value: store what the worker returned.")
        else:
            require(i in failures, f"job {i} raises an error, but it is filed under `successes`.")
            require(isinstance(failures[i], ValueError),
                    f"`failures[{i}]` is a {type(failures[i]).__name__}; store the exception the job raised.")
    passed(f"{len(successes)} successes and {len(failures)} failures, every job filed under its index.")


def check_retry(inputs, results, failed_twice, attempts_dir):
    """Exercise 5.2: each failed job retried exactly once; what failed twice reported, nothing lost."""
    _require_dicts(results=results, failed_twice=failed_twice)
    inputs = list(inputs)
    lost = [x for x in inputs if x not in results and x not in failed_twice]
    require(not lost, f"{len(lost)} input(s) are in neither `results` nor `failed_twice`: a failure was dropped. "
                      "Every input ends up in one of them.")
    both = set(results) & set(failed_twice)
    require(not both, f"input(s) {sorted(both)} are in both dicts: an input either succeeded or failed twice.")
    attempts = {x: attempts_made(x, attempts_dir) for x in inputs}
    require(all(n >= 1 for n in attempts.values()),
            "some inputs were never run with this `attempts_dir`: submit every input once.")
    require(all(n <= 2 for n in attempts.values()),
            "some inputs were tried more than twice: retry each failed job once only (and run the whole "
            "cell again, which starts from a fresh `attempts_dir`).")
    rerun_successes = [x for x in inputs if not fails_every_time(x) and not fails_first_time(x) and attempts[x] > 1]
    require(not rerun_successes, "jobs that succeeded at the first attempt were run again: retry only the failures.")
    not_retried = [x for x in inputs if (fails_every_time(x) or fails_first_time(x)) and attempts[x] == 1]
    require(not not_retried, f"{len(not_retried)} failed job(s) were not retried: submit every failure a second time.")
    wrong_failures = [x for x in failed_twice if not fails_every_time(x)]
    require(not wrong_failures, f"`failed_twice` holds input(s) {sorted(wrong_failures)}, whose retry succeeded: "
                                "report only what failed on both attempts.")
    require(set(results) | set(failed_twice) == set(inputs), "some keys are not inputs: key both dicts by the input.")
    _require_exceptions(failed_twice, "failed_twice")
    wrong_values = [x for x, value in results.items() if value != x * x]
    require(not wrong_values, f"wrong value for input(s) {sorted(wrong_values)}: store what the successful attempt returned.")
    passed(f"{len(results)} results, {len(failed_twice)} inputs failed twice, each failure retried exactly once.")
