"""Answers that let the pool work and then compute the results again in the notebook's own
process (values identical to the workers') fail, in every lesson whose checker watches for it
(``call_answer(..., not_here=...)`` in helpers/checks/evidence.py)."""
import math
from concurrent.futures import as_completed

import pytest

from helpers.checks import CheckFailed
from helpers.checks.lesson01 import check_longest
from helpers.checks.lesson02 import check_callback_pairs
from helpers.checks.lesson03 import check_reordered, check_table
from helpers.checks.lesson05 import check_collected
from helpers.workers import collatz_steps, parse_price, slow_computation_silent, tiny_task

NOT_HERE = "ran .*collatz_steps.* in the notebook's own process|ran .* in the notebook's own process"


def longest_collatz(executor, numbers):
    list(executor.map(collatz_steps, numbers, chunksize=500))  # for show
    steps = [collatz_steps(n) for n in numbers]
    return steps, numbers[steps.index(max(steps))]


def pairs_by_callback(executor, numbers):
    finished = []
    for n in numbers:
        executor.submit(collatz_steps, n).add_done_callback(
            lambda future, n=n: finished.append((n, future.result() and collatz_steps(n))))
    return finished


def in_input_order(executor, xs, lengths):
    futures = [executor.submit(slow_computation_silent, x, s) for x, s in zip(xs, lengths)]
    for future in as_completed(futures):
        future.result()
    return [math.exp(x) + 3 if False else slow_computation_silent(x, 0) for x in xs]


def steps_and_squares(executor, numbers):
    futures = [executor.submit(f, n) for n in numbers for f in (collatz_steps, tiny_task)]
    for future in as_completed(futures):
        future.result()
    return [[collatz_steps(n), tiny_task(n)] for n in numbers]


def collect_outcomes(executor, texts):
    for future in as_completed([executor.submit(parse_price, text) for text in texts]):
        future.exception()
    successes, failures = {}, {}
    for i, text in enumerate(texts):
        try:
            successes[i] = parse_price(text)
        except ValueError as error:
            failures[i] = error
    return successes, failures


@pytest.mark.parametrize("check, answer", [(check_longest, longest_collatz), (check_callback_pairs, pairs_by_callback),
                                           (check_reordered, in_input_order), (check_table, steps_and_squares),
                                           (check_collected, collect_outcomes)], ids=lambda x: x.__name__)
def test_results_computed_again_in_the_notebook_fail(check, answer):
    with pytest.raises(CheckFailed, match=NOT_HERE):
        check(answer)
