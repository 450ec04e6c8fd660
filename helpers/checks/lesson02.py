"""Checkers for the exercises of lesson 02 (``submit``, futures, callbacks, ``as_completed``)."""

from concurrent.futures import Future

from helpers.checks import CheckFailed, passed, require
from helpers.workers import collatz_steps

# Exercise 2.1: sleep_for(seconds) for each of these, submitted in this order to 3 workers, the
# results collected by polling done() (as_completed by hand). They finish shortest first, at least
# 0.5 s apart (and still in that order, 0.3 s apart, on 2 workers).
DURATIONS = (1.6, 0.4, 0.9)

# Exercise 2.2: collatz_steps(n) for each of these, (n, result) recorded by a done-callback.
NUMBERS = (27, 97, 871, 6171, 77031)


def _require_values(values, name, count):
    """``values`` is a list of ``count`` results, not futures."""
    require(isinstance(values, list), f"`{name}` should be a list, got {type(values).__name__}.")
    require(not any(isinstance(v, Future) for v in values),
            f"`{name}` holds Future objects: store each future's result(), not the future.")
    require(len(values) <= count, f"`{name}` has {len(values)} entries for {count} jobs: was a result "
                                  f"recorded twice, or was the list left over from an earlier run?")
    require(len(values) == count, f"`{name}` has {len(values)} of the {count} results: was it read "
                                  f"before every job had finished (that is, before the `with` block ended)?")


def check_arrival_order(arrived):
    """Exercise 2.1: ``arrived`` holds the results of ``DURATIONS`` in the order the jobs finished."""
    _require_values(arrived, "arrived", len(DURATIONS))
    require(sorted(arrived) == sorted(DURATIONS),
            "Wrong values: each job should return the number of seconds it slept.")
    require(arrived != list(DURATIONS),
            "The results are in submission order: take each result when its job is done, not in the order "
            "you submitted the jobs, and give the jobs enough workers to run side by side.")
    require(arrived == sorted(DURATIONS),
            "Not the order the jobs finished in: append each result as soon as its future is done.")
    passed("the results in the order the jobs finished: the shortest first.")


def check_callback_pairs(finished):
    """Exercise 2.2: a callback recorded ``(n, collatz_steps(n))`` for every ``n`` in ``NUMBERS``
    in ``finished`` (any order)."""
    _require_values(finished, "finished", len(NUMBERS))
    require(all(isinstance(pair, tuple) and len(pair) == 2 for pair in finished),
            "`finished` should hold (n, result) pairs: the input with the result of its job.")
    expected = {(n, collatz_steps(n)) for n in NUMBERS}
    if set(finished) == expected:
        passed("every input paired with its own result, recorded by a callback.")
        return
    require(sorted(steps for _, steps in finished) == sorted(steps for _, steps in expected),
            "Wrong results: the callback should record future.result() of the future it is given.")
    raise CheckFailed("Some results are paired with the wrong input: a lambda or function defined in the "
                      "loop reads the loop variable when the callback runs, not when you attached it.")
