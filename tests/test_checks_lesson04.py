"""Lesson 04's checkers: the worked solutions pass, typical wrong answers get the matching hint."""
import io
import math
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
import pytest
from tqdm import tqdm

from helpers.checks import CheckFailed
from helpers.checks.lesson04 import check_chunk_bar, check_map_bar
from helpers.workers import slow_computation_silent, slow_computation_silent_chunk

INPUTS = list(np.linspace(0, 2, 7))
CHUNKS = [INPUTS[i:i + 3] for i in range(0, len(INPUTS), 3)]
EXPECTED = [math.exp(x) + 3 for x in INPUTS]


def quiet_bar(iterable=None, **options):
    """A real tqdm bar that draws into a string instead of the terminal."""
    return tqdm(iterable, file=io.StringIO(), **options)


def map_solution():
    with ProcessPoolExecutor(max_workers=2) as executor:
        bar = quiet_bar(executor.map(slow_computation_silent, INPUTS, [0] * len(INPUTS)), total=len(INPUTS))
        return bar, list(bar)


def chunk_solution():
    parts = [None] * len(CHUNKS)
    with ProcessPoolExecutor(max_workers=2) as executor:
        index_of = {executor.submit(slow_computation_silent_chunk, chunk, 0): i for i, chunk in enumerate(CHUNKS)}
        with quiet_bar(total=len(INPUTS)) as bar:
            for future in as_completed(index_of):
                i = index_of[future]
                parts[i] = future.result()
                bar.update(len(CHUNKS[i]))
    return bar, [value for part in parts for value in part]


def finished_bar(total, steps):
    bar = quiet_bar(total=total)
    bar.update(steps)
    bar.close()
    return bar


def test_map_solution_passes(capsys):
    check_map_bar(*map_solution(), INPUTS)
    assert capsys.readouterr().out.startswith("Correct:")


@pytest.mark.parametrize("bar, results, hint", [
    (quiet_bar(iter(EXPECTED)), EXPECTED, "no total"),
    (finished_bar(len(INPUTS) + 1, len(INPUTS)), EXPECTED, "expects 8 results, but there are 7"),
    (finished_bar(len(INPUTS), 3), EXPECTED, "counted 3 of 7"),
    (finished_bar(len(INPUTS), len(INPUTS)), EXPECTED[::-1], "wrong order"),
    (finished_bar(len(INPUTS), len(INPUTS)), EXPECTED[:-1], "6 results for 7 inputs"),
    (finished_bar(len(INPUTS), len(INPUTS)), [v + 1 for v in EXPECTED], "wrong values"),
    (EXPECTED, EXPECTED, "not a progress bar"),
])
def test_map_bar_hints(bar, results, hint):
    if hasattr(bar, "n") and bar.total is None:
        list(bar)
    with pytest.raises(CheckFailed, match=hint):
        check_map_bar(bar, results, INPUTS)


def test_chunk_solution_passes(capsys):
    check_chunk_bar(*chunk_solution(), INPUTS, CHUNKS)
    assert capsys.readouterr().out.startswith("Correct:")


def test_chunk_results_in_completion_order_get_the_order_hint():
    bar, results = chunk_solution()
    arrival = CHUNKS[2] + CHUNKS[0] + CHUNKS[1]
    with pytest.raises(CheckFailed, match="wrong order"):
        check_chunk_bar(bar, [math.exp(x) + 3 for x in arrival], INPUTS, CHUNKS)


@pytest.mark.parametrize("total, steps, hint", [
    (len(CHUNKS), len(CHUNKS), "the number of chunks"),
    (len(INPUTS), len(CHUNKS), "one step per finished chunk"),
    (len(INPUTS), 5, "counted 5 of 7"),
])
def test_chunk_bar_that_counts_the_wrong_thing_gets_its_hint(total, steps, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_chunk_bar(finished_bar(total, steps), EXPECTED, INPUTS, CHUNKS)
