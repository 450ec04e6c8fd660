"""Lesson 01's checkers: the worked solutions pass, typical wrong answers get the matching hint."""
from concurrent.futures import ProcessPoolExecutor

import pytest

from helpers.checks import CheckFailed
from helpers.checks.lesson01 import CHUNK_SIZES, NUMBERS, STEP_NUMBERS, check_chunk_size, check_longest
from helpers.workers import collatz_steps

LOOP_RESULTS = [collatz_steps(n) for n in NUMBERS]
STEPS = [collatz_steps(n) for n in STEP_NUMBERS]
LONGEST = 6171  # 261 steps, the most below 10,001


def test_longest_solution_passes(capsys):
    with ProcessPoolExecutor(max_workers=2) as executor:
        steps = list(executor.map(collatz_steps, STEP_NUMBERS, chunksize=500))
    check_longest(steps, STEP_NUMBERS[steps.index(max(steps))])
    assert capsys.readouterr().out.startswith("Correct:")


@pytest.mark.parametrize("steps, longest, phrase", [
    (iter(STEPS), LONGEST, "is a generator"),
    ([], LONGEST, "is empty"),
    (STEPS[:-1], LONGEST, "one per number"),
    (sorted(STEPS), LONGEST, "wrong order"),
    ([s + 1 for s in STEPS], LONGEST, "Wrong step counts"),
    (STEPS, LONGEST - 1, "Off by one"),
    (STEPS, max(STEPS), "largest number of steps"),
    (STEPS, 27, "Not the number with the most steps"),
])
def test_longest_hints(steps, longest, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_longest(steps, longest)


def timings_with(loop, **sizes):
    """Timings of the loop and of every chunk size; ``sizes`` overrides some (c10=..., c100=...)."""
    timings = {"loop": loop, **{size: 1.0 for size in CHUNK_SIZES}}
    timings.update({int(key[1:]): seconds for key, seconds in sizes.items()})
    return timings


@pytest.mark.parametrize("timings, smallest", [
    (timings_with(0.5, c100=0.4, c1000=0.3), 100),
    (timings_with(0.5), None),
    (timings_with(2.0), 10),
])
def test_chunk_size_answers_consistent_with_the_timings_pass(timings, smallest, capsys):
    check_chunk_size(timings, smallest, list(LOOP_RESULTS))
    assert capsys.readouterr().out.startswith("Correct:")


@pytest.mark.parametrize("timings, smallest, phrase", [
    (timings_with(0.5, c100=0.4, c1000=0.3), 1_000, "smaller chunk size already beats"),
    (timings_with(0.5, c100=0.4), 10, "10 is not faster than the loop"),
    (timings_with(0.5, c100=0.4), None, "at least one chunk size beats"),
    (timings_with(0.5, c100=0.4), 50, "should be one of"),
    ({"loop": 0.5, 10: 1.0}, 10, "lacks"),
    (timings_with(0.5, c100=-1.0), 100, "positive number"),
])
def test_chunk_size_hints(timings, smallest, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_chunk_size(timings, smallest, list(LOOP_RESULTS))


@pytest.mark.parametrize("results, phrase", [
    (iter(LOOP_RESULTS), "is a generator"),
    (LOOP_RESULTS[:-1], "one per number"),
    (sorted(LOOP_RESULTS), "differ from the loop's"),
])
def test_chunk_size_results_must_be_the_loops(results, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_chunk_size(timings_with(0.5), None, results)
