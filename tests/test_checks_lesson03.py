"""Lesson 03's checkers: the worked solutions pass, typical wrong answers get the matching hint."""
import math
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
import pytest

from helpers.checks import CheckFailed
from helpers.checks.lesson03 import ARRIVAL_ORDERS, NUMBERS, XS, check_reordered, check_table
from helpers.workers import collatz_steps, tiny_task

EXPECTED = [math.exp(x) + 3 for x in XS]
TABLE = [[collatz_steps(n), tiny_task(n)] for n in NUMBERS]


@pytest.mark.parametrize("container", [list, np.array])
def test_reordered_solution_passes(container, capsys):
    check_reordered(container(EXPECTED), container(EXPECTED))
    assert capsys.readouterr().out.startswith("Correct:")


@pytest.mark.parametrize("order", ARRIVAL_ORDERS)
def test_results_in_arrival_order_get_that_hint(order):
    with pytest.raises(CheckFailed, match="results are in arrival order"):
        check_reordered([EXPECTED[i] for i in order], EXPECTED)


@pytest.mark.parametrize("ordered, mapped, phrase", [
    (EXPECTED[::-1], EXPECTED, "wrong places"),
    ([v + 1 for v in EXPECTED], EXPECTED, "Wrong values"),
    (EXPECTED, iter(EXPECTED), "is a generator"),
    (EXPECTED, EXPECTED[::-1], "`mapped` should hold"),
    (EXPECTED[:4], EXPECTED, "one per input"),
])
def test_reordered_hints(ordered, mapped, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_reordered(ordered, mapped)


def test_table_solution_passes(capsys):
    table = [[None, None] for _ in NUMBERS]
    with ProcessPoolExecutor(max_workers=2) as executor:
        place_of = {}
        for row, n in enumerate(NUMBERS):
            for column, function in enumerate([collatz_steps, tiny_task]):
                place_of[executor.submit(function, n)] = (row, column)
        for future in as_completed(place_of):
            row, column = place_of[future]
            table[row][column] = future.result()
    check_table(table)
    check_table(np.array(table))
    assert capsys.readouterr().out.count("Correct:") == 2


@pytest.mark.parametrize("answer, phrase", [
    ([row[::-1] for row in TABLE], "columns are swapped"),
    (TABLE[::-1], "Whole rows are in the wrong order"),
    ([[TABLE[0][0], TABLE[1][1]], [TABLE[1][0], TABLE[0][1]]] + TABLE[2:], "rows mix results"),
    (TABLE[:3], "one per number"),
    ([row + [0] for row in TABLE], "two results"),
    ([[s + 1, q] for s, q in TABLE], "Wrong values"),
])
def test_table_hints(answer, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_table(answer)
