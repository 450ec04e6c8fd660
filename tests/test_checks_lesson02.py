"""Lesson 02's checkers, under fork and spawn: the worked solutions pass; serial, hard-coded,
fabricated, empty and wrongly shaped answers, and the lesson's pitfalls (results in submission
order, as_completed where the exercise does its work by hand, a callback reading the loop
variable late), fail with their hint."""
import time
from concurrent.futures import FIRST_COMPLETED, as_completed, wait
from functools import partial

import pytest

from helpers.checks import CheckFailed
from helpers.checks.lesson02 import ARRIVAL_LENGTHS, check_arrival_order, check_callback_pairs
from helpers.workers import collatz_steps, sleep_for


from checking import FORK, context, fails, passes  # noqa: F401 (context is a fixture)


# Exercise 2.1 -----------------------------------------------------------------------------------

def arrival_order(executor, lengths):
    """The worked solution: as_completed by hand, asking done()."""
    unfinished = [executor.submit(sleep_for, s) for s in lengths]
    arrived = []
    while unfinished:
        for future in [future for future in unfinished if future.done()]:
            arrived.append(future.result())
            unfinished.remove(future)
        time.sleep(0.02)
    return arrived


def submitted(executor, lengths):
    return [executor.submit(sleep_for, s) for s in lengths]


def in_submission_order(executor, lengths):
    return [future.result() for future in submitted(executor, lengths)]


def with_as_completed(executor, lengths):
    return [future.result() for future in as_completed(submitted(executor, lengths))]


def with_wait(executor, lengths):
    pending, arrived = set(submitted(executor, lengths)), []
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        arrived += [future.result() for future in done]
    return arrived


def sorted_after_waiting(executor, lengths):
    in_submission_order(executor, lengths)
    return sorted(lengths)


def typed_in(executor, lengths):
    in_submission_order(executor, lengths)
    return [0.4, 0.9, 1.6]  # the notebook's lengths, shortest first


def futures_in_finishing_order(executor, lengths):
    unfinished, arrived = submitted(executor, lengths), []
    while unfinished:
        for future in [future for future in unfinished if future.done()]:
            arrived.append(future)
            unfinished.remove(future)
        time.sleep(0.02)
    return arrived


def recorded_by_callbacks(executor, lengths):
    """Done-callbacks record the results; each future is asked done() once, for show."""
    arrived, futures = [], submitted(executor, lengths)
    for future in futures:
        future.add_done_callback(lambda future: arrived.append(future.result()))
        future.done()
    while len(arrived) < len(futures):
        time.sleep(0.02)
    return arrived


def test_arrival_order_solution_passes(context, capsys):
    assert passes(check_arrival_order, arrival_order, context, capsys)


@pytest.mark.parametrize("answer, phrase", [
    (lambda executor, lengths: sorted(lengths), "No job ran on the pool"),  # serial: nothing submitted
    (typed_in, "Wrong values"),
    (sorted_after_waiting, "sorted by length"),
    (in_submission_order, "submission order"),
    (with_as_completed, "as_completed or wait"),
    (recorded_by_callbacks, "took the results in done-callbacks"),
    (lambda executor, lengths: submitted(executor, lengths) and [], "has 0 of the 3 results"),
])
def test_arrival_order_wrong_answers_get_their_hint(answer, phrase, context):
    fails(check_arrival_order, answer, context, phrase)


@pytest.mark.parametrize("answer, phrase", [
    (with_wait, "as_completed or wait"),
    (futures_in_finishing_order, "holds Future objects"),
    (lambda executor, lengths: arrival_order(executor, lengths) * 2, "recorded twice"),
    (lambda executor, lengths: tuple(arrival_order(executor, lengths)), "should return a list, got tuple"),
    (lambda executor, lengths: [executor.submit(sleep_for, s).result() for s in lengths[:2]] + [lengths[2]],
     "exactly once on each of the inputs"),
])
def test_arrival_order_other_wrong_answers(answer, phrase):
    fails(check_arrival_order, answer, FORK, phrase)


def test_arrival_order_signature_and_callable():
    with pytest.raises(CheckFailed, match="calls your function as arrival_order\\(executor, lengths\\)"):
        check_arrival_order(lambda lengths: lengths)
    with pytest.raises(CheckFailed, match="Pass your function itself"):
        check_arrival_order(sorted(ARRIVAL_LENGTHS))


# Exercise 2.2 -----------------------------------------------------------------------------------

def pairs_by_callback(executor, numbers):
    """The worked solution: the input bound to the callback with partial."""
    finished = []

    def record(n, future):
        finished.append((n, future.result()))

    for n in numbers:
        executor.submit(collatz_steps, n).add_done_callback(partial(record, n))
    return finished


def pairs_by_lookup(executor, numbers):
    """Also right: the callback looks its input up in a dictionary of futures."""
    finished, number_of = [], {}

    def record(future):
        finished.append((number_of[future], future.result()))

    for n in numbers:
        future = executor.submit(collatz_steps, n)
        number_of[future] = n
        future.add_done_callback(record)
    return finished


def late_binding(executor, numbers):
    """The pitfall: the lambda reads n when it runs, after the loop has ended."""
    finished = []
    for n in numbers:
        executor.submit(collatz_steps, n).add_done_callback(lambda future: finished.append((n, future.result())))
    return finished


def shifted(executor, numbers):
    finished = []
    for i, n in enumerate(numbers):
        neighbour = numbers[i - 1]
        executor.submit(collatz_steps, n).add_done_callback(partial(lambda m, f: finished.append((m, f.result())), neighbour))
    return finished


def taken_outside(executor, numbers):
    futures = [executor.submit(collatz_steps, n) for n in numbers]
    for future in futures:
        future.add_done_callback(lambda future: None)
    return [(n, future.result()) for n, future in zip(numbers, futures)]


def no_callback(executor, numbers):
    return [(n, executor.submit(collatz_steps, n).result()) for n in numbers]


def pairs_with_futures(executor, numbers):
    finished = []
    for n in numbers:
        executor.submit(collatz_steps, n).add_done_callback(partial(lambda m, f: finished.append((m, f)), n))
    return finished


def results_only(executor, numbers):
    finished = []
    for n in numbers:
        executor.submit(collatz_steps, n).add_done_callback(lambda f: finished.append(f.result()))
    return finished


def computed_here(executor, numbers):
    """Callbacks take the results, but the list returned is computed in this process."""
    for n in numbers:
        executor.submit(collatz_steps, n).add_done_callback(lambda future: future.result())
    return [(n, collatz_steps(n)) for n in numbers]


def waited_for(executor, numbers):
    """The right pairs, but the function waits for the jobs before it returns the list."""
    finished = pairs_by_callback(executor, numbers)
    while len(finished) < len(numbers):
        time.sleep(0.01)
    return finished


def steps_first(executor, numbers):
    finished = []
    for n in numbers:
        executor.submit(collatz_steps, n).add_done_callback(partial(lambda m, f: finished.append((f.result(), m)), n))
    return finished


def pairs_by_callback_plus_one(executor, numbers):
    finished = []
    for n in numbers:
        executor.submit(collatz_steps, n).add_done_callback(partial(lambda m, f: finished.append((m, f.result() + 1)), n))
    return finished


def typed_pairs(executor, numbers):
    pairs_by_callback(executor, numbers)
    return [(27, 111), (97, 118), (871, 178), (6171, 261), (77031, 350)]  # the notebook's numbers


@pytest.mark.parametrize("answer", [pairs_by_callback, pairs_by_lookup])
def test_callback_solutions_pass(answer, context, capsys):
    assert passes(check_callback_pairs, answer, context, capsys)


@pytest.mark.parametrize("answer, phrase", [
    (late_binding, "Every pair has the same input"),
    (lambda executor, numbers: [(n, collatz_steps(n)) for n in numbers], "No job ran on the pool"),  # serial
    (typed_pairs, "already held every pair"),  # typed in: not the list the callbacks fill in
    (taken_outside, "not taken inside a callback"),
    (computed_here, "collatz_steps in the notebook.s own process"),  # fabricated in the notebook's process
    (pairs_with_futures, "holds Future objects"),
])
def test_callback_wrong_answers_get_their_hint(answer, phrase, context):
    fails(check_callback_pairs, answer, context, phrase)


@pytest.mark.parametrize("answer, phrase", [
    (shifted, "paired with the wrong input"),
    (no_callback, "Attach a callback to every future"),
    (results_only, "should hold \\(n, steps\\) pairs"),
    (waited_for, "already held every pair"),
    (steps_first, "put the input first"),
    (pairs_by_callback_plus_one, "Wrong results"),
    (lambda executor, numbers: [pairs_by_callback(executor, numbers), None][1], "return the list its callbacks append to"),
    (lambda executor, numbers: iter(pairs_by_callback(executor, numbers)), "return the list its callbacks append to"),
    (lambda executor, numbers: pairs_by_callback(executor, numbers[:3]), "exactly once on each of the inputs"),
])
def test_callback_other_wrong_answers(answer, phrase):
    fails(check_callback_pairs, answer, FORK, phrase)
