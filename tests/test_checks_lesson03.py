"""Lesson 03's checkers, under fork and spawn: the worked solutions pass; serial, hard-coded,
fabricated, empty and wrongly shaped answers, and the lesson's pitfalls (results appended in
arrival order, results taken in submission order, a prediction that ignores the workers), fail
with their hint."""
import math
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed, wait

import numpy as np
import pytest

from helpers.checks import CheckFailed
from helpers.checks.lesson03 import (PREDICT_CASES, _model_order, _require_as_completed, check_finishing_order,
                                     check_reordered, check_table)
from helpers.workers import collatz_steps, sleep_for, slow_computation_silent, tiny_task


from checking import FORK, context, fails, passes  # noqa: F401 (context is a fixture)


# Exercise 3.1 -----------------------------------------------------------------------------------

def in_input_order(executor, xs, lengths):
    """The worked solution."""
    ordered = [None] * len(xs)
    position_of = {executor.submit(slow_computation_silent, x, s): i for i, (x, s) in enumerate(zip(xs, lengths))}
    for future in as_completed(position_of):
        ordered[position_of[future]] = future.result()
    return ordered


def submitted(executor, xs, lengths):
    return [executor.submit(slow_computation_silent, x, s) for x, s in zip(xs, lengths)]


def in_arrival_order(executor, xs, lengths):
    return [future.result() for future in as_completed(submitted(executor, xs, lengths))]


def in_submission_order(executor, xs, lengths):
    return [future.result() for future in submitted(executor, xs, lengths)]


def computed_here(executor, xs, lengths):
    wait(submitted(executor, xs, lengths))
    return [math.exp(x) + 3 for x in xs]


def typed_in(executor, xs, lengths):
    in_input_order(executor, xs, lengths)
    return [math.exp(x) + 3 for x in (1.0, 2.0, 0.0, 3.0, -1.0)]  # the notebook's inputs


def reversed_places(executor, xs, lengths):
    return in_input_order(executor, xs, lengths)[::-1]


@pytest.mark.parametrize("container", [list, np.array])
def test_reordered_solution_passes(container, context, capsys):
    assert passes(check_reordered, lambda *args: container(in_input_order(*args)), context, capsys)


@pytest.mark.parametrize("answer, phrase", [
    (in_arrival_order, "in the order they arrived"),
    (in_submission_order, "asked for in submission order"),
    (lambda executor, xs, lengths: list(executor.map(slow_computation_silent, xs, lengths)), "sent with map"),
    (lambda executor, xs, lengths: [math.exp(x) + 3 for x in xs], "No job ran on the pool"),  # serial
    (computed_here, "never took a result"),
    (typed_in, "Wrong values"),
    (lambda executor, xs, lengths: iter(in_input_order(executor, xs, lengths)), "returned a generator"),
])
def test_reordered_wrong_answers_get_their_hint(answer, phrase, context):
    fails(check_reordered, answer, context, phrase)


@pytest.mark.parametrize("answer, phrase", [
    (reversed_places, "wrong places"),
    (lambda executor, xs, lengths: in_input_order(executor, xs, [0.0] * len(xs)), "once for each pair"),
    (lambda executor, xs, lengths: dict(enumerate(in_input_order(executor, xs, lengths))), "got dict"),
    (lambda executor, xs, lengths: in_input_order(executor, xs, lengths)[:4], "returned 4 results for 5 inputs"),
    (lambda executor, xs, lengths: submitted(executor, xs, lengths), "holds Future objects"),
    (lambda executor, xs, lengths: list(enumerate(in_input_order(executor, xs, lengths))), "results themselves"),
    (lambda executor, xs: None, "calls your function as in_input_order\\(executor, xs, lengths\\)"),
])
def test_reordered_other_wrong_answers(answer, phrase):
    fails(check_reordered, answer, FORK, phrase)


# Exercise 3.2 -----------------------------------------------------------------------------------

def predict_finishing_order(lengths, workers):
    """The worked solution: each worker takes the next job as soon as it is free."""
    free_at = [0.0] * workers
    ends = []
    for index, length in enumerate(lengths):
        worker = free_at.index(min(free_at))
        free_at[worker] += length
        ends.append((free_at[worker], index))
    return [index for _, index in sorted(ends)]


def taking_turns(lengths, workers):
    ends = [sum(lengths[j] for j in range(i % workers, i + 1, workers)) for i in range(len(lengths))]
    return sorted(range(len(lengths)), key=ends.__getitem__)


def measured(lengths, workers):
    with ProcessPoolExecutor(workers) as executor:
        futures = {executor.submit(sleep_for, length): i for i, length in enumerate(lengths)}
        return [futures[future] for future in as_completed(futures)]


def measured_shorter(lengths, workers, scale=12):
    """Jobs made 12 times shorter, on threads: measured in a tenth of a second."""
    with ThreadPoolExecutor(workers) as executor:
        futures = {executor.submit(sleep_for, length / scale): i for i, length in enumerate(lengths)}
        return [futures[future] for future in as_completed(futures)]


def test_the_cases_tell_the_wrong_models_apart():
    for lengths, workers in PREDICT_CASES:
        right = _model_order(lengths, workers)
        assert right == predict_finishing_order(lengths, workers)
        assert right not in (list(range(len(lengths))), sorted(range(len(lengths)), key=lengths.__getitem__),
                             taking_turns(lengths, workers))


def test_finishing_order_solution_passes(context, capsys):
    assert passes(check_finishing_order, predict_finishing_order, context, capsys)


def test_a_numpy_array_of_indices_is_a_prediction_too(capsys):
    def by_argsort(lengths, workers):
        free_at, ends = [0.0] * workers, []
        for length in lengths:
            worker = free_at.index(min(free_at))
            free_at[worker] += length
            ends.append(free_at[worker])
        return np.argsort(ends, kind="stable")

    assert passes(check_finishing_order, by_argsort, FORK, capsys)


@pytest.mark.parametrize("answer, phrase", [
    (lambda lengths, workers: sorted(range(len(lengths)), key=lengths.__getitem__), "the order of the lengths"),
    (lambda lengths, workers: list(range(len(lengths))), "Follow each worker"),  # submission order
])
def test_wrong_predictions_are_shown_the_order_seen(answer, phrase, context):
    fails(check_finishing_order, answer, context, phrase)


def test_workers_taking_turns_is_a_wrong_prediction_too():
    fails(check_finishing_order, taking_turns, FORK, "Follow each worker")


@pytest.mark.parametrize("answer, phrase", [
    (lambda lengths, workers: [1, 2, 3, 0, 5, 4], "each of the 5 jobs once"),  # the lesson's order, typed in
    (measured, "submitted jobs to a pool: a prediction is worked out"),
    (measured_shorter, "submitted jobs to a pool: a prediction is worked out"),
    (lambda lengths, workers: sorted(lengths), "job indices"),
    (lambda lengths, workers: [i + 1 for i in predict_finishing_order(lengths, workers)], "0 to 4"),
    (lambda lengths, workers: [], "each of the 5 jobs once"),
    (lambda lengths, workers: None, "list of job indices, got NoneType"),
    (lambda lengths, workers: np.array(3), "list of job indices, got ndarray"),
    (lambda lengths, workers: np.zeros((5, 1), dtype=int), "list of job indices, got ndarray"),
    (lambda lengths, workers: "10342", "list of job indices, got str"),
    (lambda lengths, workers: iter(range(len(lengths))), "list of job indices, got range_iterator"),
    (lambda lengths: [], "calls your function as predict_finishing_order\\(lengths, workers\\)"),
])
def test_predictions_not_worked_out_or_badly_shaped_are_refused_before_running(answer, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_finishing_order(answer)


# Exercise 3.3 -----------------------------------------------------------------------------------

def steps_and_squares(executor, numbers):
    """The worked solution."""
    table = [[None, None] for _ in numbers]
    place_of = {}
    for row, n in enumerate(numbers):
        for column, function in enumerate([collatz_steps, tiny_task]):
            place_of[executor.submit(function, n)] = (row, column)
    for future in as_completed(place_of):
        row, column = place_of[future]
        table[row][column] = future.result()
    return table


def submit_all(executor, numbers):
    return {executor.submit(function, n): (row, column)
            for row, n in enumerate(numbers) for column, function in enumerate([collatz_steps, tiny_task])}


def rows_only(executor, numbers):
    """The pitfall: the row of each future remembered, not its column."""
    table = [[] for _ in numbers]
    place_of = submit_all(executor, numbers)
    for future in as_completed(place_of):
        table[place_of[future][0]].append(future.result())
    return table


def rows_in_arrival_order(executor, numbers):
    """The pitfall: each row filled in as the results arrive."""
    place_of, table, row = submit_all(executor, numbers), [], []
    for future in as_completed(place_of):
        row.append(future.result())
        if len(row) == 2:
            table.append(sorted(row, key=lambda v: v > 1000))
            row = []
    return table


def table_in_submission_order(executor, numbers):
    place_of, table = submit_all(executor, numbers), [[None, None] for _ in numbers]
    for future, (row, column) in place_of.items():
        table[row][column] = future.result()
    return table


def typed_table(executor, numbers):
    steps_and_squares(executor, numbers)
    return [[111, 729], [118, 9409], [178, 758641], [261, 38081241]]  # the notebook's numbers


@pytest.mark.parametrize("container", [list, np.array])
def test_table_solution_passes(container, context, capsys):
    assert passes(check_table, lambda *args: container(steps_and_squares(*args)), context, capsys)


@pytest.mark.parametrize("answer, phrase", [
    (rows_only, "rows mix results|columns are swapped"),
    (rows_in_arrival_order, "Whole rows are in the wrong order|rows mix results|columns are swapped"),
    (table_in_submission_order, "asked for in submission order"),
    (lambda executor, numbers: [[collatz_steps(n), tiny_task(n)] for n in numbers], "No job ran on the pool"),
    (lambda executor, numbers: [list(pair) for pair in zip(executor.map(collatz_steps, numbers),
                                                            executor.map(tiny_task, numbers))], "sent with map"),
    (typed_table, "Wrong values"),
    (lambda executor, numbers: dict(zip(numbers, steps_and_squares(executor, numbers))), "got dict"),
])
def test_table_wrong_answers_get_their_hint(answer, phrase, context):
    fails(check_table, answer, context, phrase)


@pytest.mark.parametrize("answer, phrase", [
    (lambda executor, numbers: [list(row)[::-1] for row in steps_and_squares(executor, numbers)], "columns are swapped"),
    (lambda executor, numbers: steps_and_squares(executor, numbers)[::-1], "Whole rows are in the wrong order"),
    (lambda executor, numbers: steps_and_squares(executor, numbers)[:3], "returned 3 rows for 4 inputs"),
    (lambda executor, numbers: [row + [0] for row in steps_and_squares(executor, numbers)], "two results"),
    (lambda executor, numbers: [[None, None] for _ in numbers] if submit_all(executor, numbers) else None,
     "some entries are not"),
    (lambda executor, numbers: [list(submit_all(executor, numbers))[:2]] * 4, "holds Future objects"),
    (lambda executor, numbers: steps_and_squares(executor, numbers[:3]) + [[0, 0]], "exactly once on each of the numbers"),
])
def test_table_other_wrong_answers(answer, phrase):
    fails(check_table, answer, FORK, phrase)


class _PoolThatKeptOrder:
    """What a recording pool saw when a busy machine finished the jobs in submission order."""

    calls = ()

    def finishing_order(self):
        return [0, 1, 2, 3]

    def first_taken_order(self):
        return [0, 1, 2, 3]


def test_jobs_that_finished_in_submission_order_prove_nothing():
    # Then a loop over the futures in submission order would look like as_completed: say so.
    with pytest.raises(CheckFailed, match="could not tell how your function collected the results"):
        _require_as_completed(_PoolThatKeptOrder())
