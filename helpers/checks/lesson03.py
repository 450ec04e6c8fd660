"""Checkers for the exercises of lesson 03 (putting results back in input order)."""

import math
from collections.abc import Iterator
from numbers import Real

from helpers.checks import CheckFailed, passed, require
from helpers.workers import collatz_steps, tiny_task

# Exercise 3.1: slow_computation_silent(x, seconds) for these pairs.
XS = (1.0, 2.0, 0.0, 3.0, -1.0)
SECONDS = (0.2, 1.4, 0.6, 1.6, 0.4)
# The orders in which those jobs finish: on 2 workers (each takes the next job when free), and
# with one worker per job (shortest first).
ARRIVAL_ORDERS = ((0, 2, 1, 4, 3), (0, 4, 2, 1, 3))

# Exercise 3.2: collatz_steps(n) and tiny_task(n) for each of these, one job per call.
NUMBERS = (27, 97, 871, 6171)


def _as_floats(values, name):
    """The answer as a list of floats, or a hint if it is not a sequence of numbers."""
    require(not isinstance(values, Iterator),
            f"`{name}` is a generator: collect its results with list(...) inside the `with` block.")
    require(hasattr(values, "__len__"), f"`{name}` should be a list or array, got {type(values).__name__}.")
    require(len(values) == len(XS), f"`{name}` has {len(values)} results; expected one per input, {len(XS)}.")
    require(all(isinstance(v, Real) for v in values),
            f"`{name}` should hold numbers, the results themselves (not futures or pairs).")
    return [float(v) for v in values]


def _same(values, expected):
    return all(math.isclose(v, e) for v, e in zip(values, expected))


def check_reordered(ordered, mapped):
    """Exercise 3.1: ``ordered`` (built from ``as_completed``) and ``mapped`` (from ``map``) both
    hold ``exp(x) + 3`` for every ``x`` in ``XS``, in input order."""
    expected = [math.exp(x) + 3 for x in XS]
    mapped = _as_floats(mapped, "mapped")
    require(_same(mapped, expected), "`mapped` should hold the results of executor.map over the same "
                                     "inputs and sleep lengths, as a list.")
    ordered = _as_floats(ordered, "ordered")
    if _same(ordered, expected):
        passed("the results from as_completed, put back in input order, equal map's.")
        return
    require(_same(sorted(ordered), sorted(expected)),
            "Wrong values: each job should compute slow_computation_silent(x, seconds) for its own pair.")
    arrival_orders = [[expected[i] for i in order] for order in ARRIVAL_ORDERS]
    require(not any(_same(ordered, arrival) for arrival in arrival_orders),
            "The results are in arrival order: write each result to the position of the input it "
            "belongs to, not to the next free place.")
    raise CheckFailed("The right values in the wrong places: look up which input each future belongs "
                      "to, and write its result there.")


def check_table(table):
    """Exercise 3.2: row i of ``table`` is ``[collatz_steps(n), tiny_task(n)]`` for ``NUMBERS[i]``."""
    require(not isinstance(table, Iterator), "`table` is a generator: make it a list of rows.")
    rows = [list(row) for row in table]
    require(len(rows) == len(NUMBERS), f"`table` has {len(rows)} rows; expected one per number, {len(NUMBERS)}.")
    require(all(len(row) == 2 for row in rows), "Each row of `table` should hold two results: "
                                                "the Collatz steps, then the square.")
    expected = [[collatz_steps(n), tiny_task(n)] for n in NUMBERS]
    if rows == expected:
        passed("each result in its row and column, whatever order the jobs finished in.")
        return
    require(rows != [row[::-1] for row in expected],
            "The two columns are swapped: first the Collatz steps, then the square.")
    require(sorted(rows) != sorted(expected),
            "Whole rows are in the wrong order: remember the row of each future, not only its column.")
    results = sorted(value for row in rows for value in row)
    require(results == sorted(value for row in expected for value in row),
            "Wrong values: submit collatz_steps(n) and tiny_task(n) for every number.")
    raise CheckFailed("The right results, but rows mix results of different numbers or columns: keep, "
                      "for each future, both its row and its column.")
