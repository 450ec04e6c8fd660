"""Checkers for the exercises of lesson 03 (putting results back in input order).

Exercises 3.1 and 3.3 ask for a function that the checker calls with a recording pool and inputs
of its own (:mod:`helpers.checks.evidence`), on which the jobs finish out of order: the answer
must take each result from ``as_completed`` as its job finishes and still put it in its input's
place. Exercise 3.2 asks for a prediction of the finishing order, which the checker compares
with the order it sees on a real pool.
"""

import inspect
import math
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, wait
from numbers import Integral, Real

from helpers.checks import CheckFailed, passed, require
from helpers.checks.evidence import RecordingPool, call_answer, describe, same_function
from helpers.checks.lesson01 import require_ran, started_pool, worked_out
from helpers.workers import collatz_steps, sleep_for, slow_computation_silent, tiny_task

# Exercise 3.1: in_input_order(executor, xs, lengths) with these inputs on 2 workers: the first
# job is the longest, so the others finish first, 0.1 s apart, and it comes last.
ORDER_XS = (0.5, -1.0, 2.0, 1.5, 0.0)
ORDER_LENGTHS = (0.5, 0.1, 0.1, 0.1, 0.1)

# Exercise 3.2: predict_finishing_order(lengths, workers) for these cases. Each worker takes the
# next job when it is free, so they finish 0.2 s apart in an order that is neither the
# submission order nor the order of the lengths, nor what workers taking turns would give.
PREDICT_CASES = (((0.3, 0.1, 0.9, 0.2, 0.3), 2), ((0.9, 0.1, 0.3, 0.4, 0.8, 0.2), 3))

# Exercise 3.3: steps_and_squares(executor, numbers) with these numbers on 4 workers; the pool
# holds every job back longer the earlier its number comes, so the rows finish out of order.
TABLE_NUMBERS = (703, 649, 9257, 327)
TABLE_WORKERS = 4


def _as_list(values, count, what):
    """The answer as a list of ``count`` entries, or a hint if it is no such sequence."""
    require(not isinstance(values, Iterator), f"Your function returned a generator: make it a list of {what}.")
    require(not isinstance(values, (Mapping, str, bytes)) and hasattr(values, "__len__"),
            f"Your function should return a list of {what}, one per input in input order; got {describe(values)}.")
    values = list(values)
    require(len(values) == count, f"Your function returned {len(values)} {what} for {count} inputs: one per input.")
    require(not any(isinstance(v, Future) for v in values),
            "The list holds Future objects: store each future's result(), not the future.")
    return values


def _same(values, expected):
    return all(math.isclose(v, e) for v, e in zip(values, expected))


def _require_as_completed(pool):
    """The answer asked for the results in the order the jobs finished, as ``as_completed`` does."""
    require(not any(call.in_chunk for call in pool.calls),
            "The jobs were sent with map, which hands results back in input order by itself: submit each job "
            "and collect the results with as_completed.")
    taken, finished = pool.first_taken_order(), pool.finishing_order()
    require(finished != sorted(finished),
            "The check's pool happened to finish the jobs in the order they were submitted (a busy machine can do "
            "that), so it could not tell how your function collected the results: run the check again.")
    require(taken, "Your function never took a result from a future: the results it returns should be the "
                   "futures' results, taken with result().")
    if taken != finished:
        require(taken != sorted(taken), "The results were asked for in submission order, each waiting for the one "
                                        "before: collect them with as_completed, which hands back each future as "
                                        "soon as it is done.")
        raise CheckFailed("The results were not asked for in the order the jobs finished: take them from as_completed.")


# Exercise 3.1 ---------------------------------------------------------------------------------

def _job_inputs(call):
    """The (x, seconds) a call of slow_computation_silent received, however it was passed."""
    try:
        bound = inspect.signature(slow_computation_silent).bind(*call.args, **call.kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    return bound.arguments["x"], bound.arguments["seconds"]


def check_reordered(in_input_order, mp_context=None):
    """Exercise 3.1: ``in_input_order(executor, xs, lengths)`` submits
    ``slow_computation_silent(x, s)`` for each pair, takes the results from ``as_completed`` and
    returns them in input order, the list ``map`` would give."""
    xs, lengths = list(ORDER_XS), list(ORDER_LENGTHS)
    with RecordingPool(2, mp_context=mp_context) as pool:
        answer = call_answer(in_input_order, pool, xs, lengths, expected_signature="in_input_order(executor, xs, lengths)",
                             not_here=[slow_computation_silent])
    calls = require_ran(pool.calls, slow_computation_silent, "slow_computation_silent")
    inputs = sorted(filter(None, map(_job_inputs, calls)))
    require(inputs == sorted(zip(xs, lengths)),
            "The pool did not run slow_computation_silent(x, s) once for each pair of the xs and lengths your "
            "function was given: job i gets xs[i] and lengths[i].")
    values = _as_list(answer, len(xs), "results")
    require(all(isinstance(v, Real) for v in values),
            "The list should hold the results themselves, numbers (not pairs or futures).")
    expected = [math.exp(x) + 3 for x in xs]
    if not _same(values, expected):
        require(_same(sorted(values), sorted(expected)),
                "Wrong values: each job should compute slow_computation_silent(x, s) for its own pair.")
        arrival = [math.exp(_job_inputs(call)[0]) + 3 for call in
                   (pool.submissions[i].calls[0] for i in pool.finishing_order()) if _job_inputs(call)]
        require(not _same(values, arrival),
                "The results are in the order they arrived: write each result to the position of the input it "
                "belongs to, not to the next free place.")
        raise CheckFailed("The right values in the wrong places: look up which input each future belongs to, "
                          "and write its result there.")
    _require_as_completed(pool)
    passed("the results taken from as_completed as the jobs finished (out of order), each put back in its "
           "input's place: the list map gives.")


# Exercise 3.2 ---------------------------------------------------------------------------------

def _model_order(lengths, workers):
    """The finishing order of jobs of ``lengths`` on ``workers`` started workers, each taking the
    next job as soon as it is free (the order the checker expects to see)."""
    free_at = [0.0] * workers
    ends = []
    for index, length in enumerate(lengths):
        worker = min(range(workers), key=free_at.__getitem__)
        free_at[worker] += length
        ends.append((free_at[worker], index))
    return [index for _, index in sorted(ends)]


def observed_order(lengths, workers, mp_context=None):
    """The order in which jobs ``sleep_for(length)`` finish on a pool of ``workers`` workers that
    are already started, as the pool records it."""
    with started_pool(workers, mp_context) as pool:
        first = len(pool.submissions)
        wait([pool.submit(sleep_for, length) for length in lengths])
    return [index - first for index in pool.finishing_order() if index >= first]


def _predicted(predict_finishing_order, lengths, workers):
    """The student's predicted order for one case (a list of job indices), or a hint."""
    order = worked_out(predict_finishing_order, list(lengths), workers,
                       expected_signature="predict_finishing_order(lengths, workers)",
                       from_what="the lengths and the number of workers")
    require((isinstance(order, Sequence) and not isinstance(order, (str, bytes))) or getattr(order, "ndim", None) == 1,
            f"predict_finishing_order should return a list of job indices, got {describe(order)}.")
    require(all(isinstance(i, Integral) and not isinstance(i, bool) for i in order),
            "The list should hold job indices (0 for the first job, 1 for the next, ...), not lengths or results.")
    order = [int(i) for i in order]  # NumPy's integers too (np.argsort gives them)
    require(sorted(order) == list(range(len(lengths))),
            f"The list should name each of the {len(lengths)} jobs once by its index, 0 to {len(lengths) - 1}; "
            f"got {order}.")
    return order


def check_finishing_order(predict_finishing_order, mp_context=None):
    """Exercise 3.2: ``predict_finishing_order(lengths, workers)`` gives the order in which jobs
    of those lengths, submitted in that order, finish on a pool of ``workers`` started workers:
    the checker runs each case and compares."""
    predictions = [_predicted(predict_finishing_order, lengths, workers) for lengths, workers in PREDICT_CASES]
    for (lengths, workers), predicted in zip(PREDICT_CASES, predictions):
        seen = observed_order(lengths, workers, mp_context)
        if predicted != seen and predicted == _model_order(lengths, workers):
            seen = observed_order(lengths, workers, mp_context)  # a busy machine upset the order: look again
        if predicted != seen:
            require(predicted != sorted(range(len(lengths)), key=lengths.__getitem__),
                    f"For lengths {list(lengths)} on {workers} workers you predicted the order of the lengths, "
                    f"but the jobs finished in the order {seen}: with fewer workers than jobs, a job cannot start "
                    "before a worker is free for it.")
            raise CheckFailed(f"For lengths {list(lengths)} on {workers} workers you predicted {predicted}, but the "
                              f"jobs finished in the order {seen}. Follow each worker on a time line: when is it "
                              "free, and which job does it take then?")
    passed(f"your predicted orders are the orders the jobs finished in on real pools of "
           f"{' and '.join(str(workers) for _, workers in PREDICT_CASES)} workers.")


# Exercise 3.3 ---------------------------------------------------------------------------------

def _table_delay(call):
    """How long the checker's pool holds a job of exercise 3.3 back: longer for earlier numbers,
    and in every other row a little longer for the square than for the steps (in the others the
    other way round), so that rows and columns finish out of order; at least 0.1 s, so that no job
    is over before the answer starts collecting."""
    n = call.args[0] if call.args else None
    row = TABLE_NUMBERS.index(n) if n in TABLE_NUMBERS else len(TABLE_NUMBERS) - 1
    square_later = (row % 2 == 0) == same_function(call.function, tiny_task)
    return 0.1 + 0.06 * (len(TABLE_NUMBERS) - 1 - row) + (0.03 if square_later else 0.0)


def _rows(table, count):
    rows = _as_list(table, count, "rows")
    require(all(not isinstance(row, (Mapping, str, bytes)) and hasattr(row, "__len__") and len(row) == 2 for row in rows),
            "Each row of the table should hold two results: the Collatz steps, then the square.")
    rows = [list(row) for row in rows]
    require(not any(isinstance(v, Future) for row in rows for v in row),
            "The table holds Future objects: store each future's result(), not the future.")
    require(all(isinstance(v, Real) for row in rows for v in row),
            "The table should hold the results, numbers; some entries are not (was a place left empty?).")
    return rows


def check_table(steps_and_squares, mp_context=None):
    """Exercise 3.3: ``steps_and_squares(executor, numbers)`` submits ``collatz_steps(n)`` and
    ``tiny_task(n)`` for every number, takes the results from ``as_completed``, and returns one
    row ``[steps, square]`` per number, in the order of the numbers."""
    numbers = list(TABLE_NUMBERS)

    def delay(index):
        return _table_delay(pool.submissions[index].calls[0])

    with RecordingPool(TABLE_WORKERS, delays=delay, mp_context=mp_context) as pool:
        table = call_answer(steps_and_squares, pool, numbers, expected_signature="steps_and_squares(executor, numbers)",
                            not_here=[collatz_steps, tiny_task])
    for function, name in ((collatz_steps, "collatz_steps"), (tiny_task, "tiny_task")):
        calls = require_ran(pool.calls, function, name)
        require(sorted(call.args[0] for call in calls if call.args) == sorted(numbers),
                f"The pool did not run {name} exactly once on each of the numbers your function was given.")
    rows = _rows(table, len(numbers))
    expected = [[collatz_steps(n), tiny_task(n)] for n in numbers]
    if rows != expected:
        require(rows != [row[::-1] for row in expected],
                "The two columns are swapped: first the Collatz steps, then the square.")
        require(sorted(rows) != sorted(expected),
                "Whole rows are in the wrong order: remember the row of each future, not only its column.")
        require(sorted(v for row in rows for v in row) == sorted(v for row in expected for v in row),
                "Wrong values: submit collatz_steps(n) and tiny_task(n) for every number.")
        raise CheckFailed("The right results, but rows mix results of different numbers or columns: keep, for "
                          "each future, both its row and its column.")
    _require_as_completed(pool)
    passed("each result in its row and column, taken from as_completed as the jobs finished (out of order).")
