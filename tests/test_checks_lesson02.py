"""Lesson 02's checkers: the worked solutions pass, typical wrong answers get the matching hint."""
import time
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial

import pytest

from helpers.checks import CheckFailed
from helpers.checks.lesson02 import DURATIONS, NUMBERS, check_arrival_order, check_callback_pairs
from helpers.workers import collatz_steps, sleep_for

STEPS = [collatz_steps(n) for n in NUMBERS]
PAIRS = list(zip(NUMBERS, STEPS))


def test_arrival_order_shortest_first_passes(capsys):
    check_arrival_order(sorted(DURATIONS))
    assert capsys.readouterr().out.startswith("Correct:")


def test_arrival_order_polling_solution_passes(capsys):
    """The worked solution: as_completed by hand, polling done()."""
    with ProcessPoolExecutor(max_workers=3) as executor:
        unfinished = [executor.submit(sleep_for, s) for s in DURATIONS]
        arrived = []
        while unfinished:
            for future in [future for future in unfinished if future.done()]:
                arrived.append(future.result())
                unfinished.remove(future)
            time.sleep(0.02)
    check_arrival_order(arrived)
    assert capsys.readouterr().out.startswith("Correct:")


def finished_future(value):
    future = Future()
    future.set_result(value)
    return future


@pytest.mark.parametrize("answer, phrase", [
    (list(DURATIONS), "submission order"),
    (sorted(DURATIONS, reverse=True), "Not the order the jobs finished"),
    ([finished_future(s) for s in sorted(DURATIONS)], "holds Future objects"),
    (sorted(DURATIONS)[:2], "was it read before every job had finished"),
    (sorted(DURATIONS) * 2, "recorded twice"),
    ([0.1, 0.2, 0.3], "Wrong values"),
    (tuple(sorted(DURATIONS)), "should be a list"),
])
def test_arrival_order_hints(answer, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_arrival_order(answer)


def test_callback_solution_passes_in_any_order(capsys):
    finished = []

    def record(n, future):
        finished.append((n, future.result()))

    with ProcessPoolExecutor(max_workers=2) as executor:
        for n in NUMBERS:
            executor.submit(collatz_steps, n).add_done_callback(partial(record, n))
    check_callback_pairs(finished)
    check_callback_pairs(finished[::-1])
    assert capsys.readouterr().out.count("Correct:") == 2


@pytest.mark.parametrize("answer, phrase", [
    ([finished_future(s) for s in STEPS], "holds Future objects"),
    (PAIRS[:2], "before every job had finished"),
    (STEPS, "should hold \\(n, result\\) pairs"),
    ([(n, s + 1) for n, s in PAIRS], "Wrong results"),
    ([(NUMBERS[-1], s) for _, s in PAIRS], "paired with the wrong input"),
])
def test_callback_hints(answer, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_callback_pairs(answer)
