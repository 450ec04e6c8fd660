"""Lesson 01's checkers, under fork and spawn: the worked solutions pass; serial, hard-coded,
fabricated, empty and wrongly shaped answers, and the lesson's pitfalls, fail with their hint."""
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from helpers.checks import CheckFailed
from helpers.checks.lesson01 import (PREDICTION_CASES, TOLERANCE, check_chunk_size_race, check_longest,
                                     check_prediction)
from helpers.timing import stopwatch
from helpers.workers import collatz_steps, sleep_for, tiny_task


from checking import FORK, context, fails, passes  # noqa: F401 (context is a fixture)


# Exercise 1.1 -----------------------------------------------------------------------------------

def longest_collatz(executor, numbers):
    """The worked solution."""
    steps = list(executor.map(collatz_steps, numbers, chunksize=500))
    return steps, numbers[steps.index(max(steps))]


def longest_in_a_loop(executor, numbers):
    steps = [collatz_steps(n) for n in numbers]
    return steps, numbers[steps.index(max(steps))]


def longest_of_the_notebooks_range(executor, numbers):
    numbers = range(1, 10_001)
    steps = list(executor.map(collatz_steps, numbers, chunksize=500))
    return steps, 6171


def longest_computed_here(executor, numbers):
    list(executor.map(tiny_task, numbers, chunksize=500))  # something ran on the pool, but not the steps
    return longest_in_a_loop(executor, numbers)


def longest_by_submit(executor, numbers):
    steps = [future.result() for future in [executor.submit(collatz_steps, n) for n in numbers]]
    return steps, numbers[steps.index(max(steps))]


def steps_of(executor, numbers):
    return list(executor.map(collatz_steps, numbers, chunksize=500))


def with_steps(transform):
    """An answer that maps correctly, then returns ``transform(steps, numbers)``."""
    return lambda executor, numbers: transform(steps_of(executor, numbers), numbers)


def notebook_square(x):
    return x * x


notebook_square.__module__ = "__main__"  # as if defined in a notebook cell


def longest_with_a_notebook_function(executor, numbers):
    list(executor.map(notebook_square, numbers[:10]))
    return longest_collatz(executor, numbers)


def test_longest_solution_passes(context, capsys):
    assert passes(check_longest, longest_collatz, context, capsys)


@pytest.mark.parametrize("answer, phrase", [
    (longest_in_a_loop, "No job ran on the pool"),
    (longest_of_the_notebooks_range, "exactly once on each of the numbers your function was given"),
    (longest_computed_here, "did not call collatz_steps"),
    (longest_by_submit, "sent with submit"),
    (with_steps(lambda steps, numbers: (sorted(steps), 3711)), "wrong order"),
    (with_steps(lambda steps, numbers: (steps, steps.index(max(steps)))), "position of the largest result"),
    (steps_of, "should return two things"),
])
def test_longest_wrong_answers_get_their_hint(answer, phrase, context):
    fails(check_longest, answer, context, phrase)


@pytest.mark.parametrize("answer, phrase", [
    (with_steps(lambda steps, numbers: ([], None)), "0 values for 3000 numbers"),
    (lambda executor, numbers: (executor.map(collatz_steps, numbers, chunksize=500), 3711), "is a generator"),
    (with_steps(lambda steps, numbers: ([s + 1 for s in steps], 3711)), "not the step counts"),
    (with_steps(lambda steps, numbers: (steps, steps.index(max(steps)) + 1)), "position of the largest result"),
    (with_steps(lambda steps, numbers: (steps, max(steps))), "largest number of steps"),
    (with_steps(lambda steps, numbers: (steps, numbers[0])), "Not the number with the most steps"),
    (with_steps(lambda steps, numbers: (steps, "3711")), "should be a number"),
    (with_steps(lambda steps, numbers: ([None] * len(steps), 3711)), "whole numbers"),
    (([111, 118], 27), "Pass your function itself"),  # the answer's result instead of the function
    (lambda numbers: None, "calls your function as longest_collatz\\(executor, numbers\\)"),
])
def test_longest_other_wrong_answers(answer, phrase):
    fails(check_longest, answer, FORK, phrase)


def test_a_function_from_the_notebook_is_caught_even_where_fork_hides_it(context, monkeypatch):
    monkeypatch.setattr(sys.modules["__main__"], "notebook_square", notebook_square, raising=False)
    phrase = "defined in the notebook" if context.get_start_method() == "fork" else "could not receive a job"
    fails(check_longest, longest_with_a_notebook_function, context, phrase)


# Exercise 1.2 -----------------------------------------------------------------------------------

def predict_seconds(jobs, seconds, workers):
    """The worked solution."""
    return math.ceil(jobs / workers) * seconds


def predict_by_measuring(jobs, seconds, workers):
    with ProcessPoolExecutor(workers) as executor:
        with stopwatch() as clock:
            list(executor.map(sleep_for, [seconds] * jobs))
    return clock.seconds


def predict_by_measuring_shorter_jobs(jobs, seconds, workers, scale=20):
    """Jobs made 20 times shorter on threads, timed and scaled back up: quick, but measured."""
    with ThreadPoolExecutor(workers) as executor:
        with stopwatch() as clock:
            list(executor.map(time.sleep, [seconds / scale] * jobs))
    return clock.seconds * scale


def predict_by_sleeping_it_out(jobs, seconds, workers):
    """No pool, but it takes as long as the jobs would: timed, not worked out."""
    time.sleep(math.ceil(jobs / workers) * seconds)
    return math.ceil(jobs / workers) * seconds


def test_prediction_solution_passes(context, capsys):
    assert passes(check_prediction, predict_seconds, context, capsys)


# Wrong models of how long jobs take on a pool, each with the case it misses and what it predicts.
WRONG_MODELS = {
    "shared out evenly": (lambda jobs, seconds, workers: jobs * seconds / workers, "you predicted 0.75 s"),
    "a loop": (lambda jobs, seconds, workers: jobs * seconds, "you predicted 1.50 s"),
    "whole rounds only": (lambda jobs, seconds, workers: jobs // workers * seconds, "you predicted 0.60 s"),
    "one round, two if the jobs outnumber the workers":
        (lambda jobs, seconds, workers: seconds * (1 + (jobs > workers)), "you predicted 0.60 s"),
    "the jobs beyond the workers one after another":
        (lambda jobs, seconds, workers: max(1, jobs - workers + 1) * seconds, "you predicted 1.20 s"),
    "always one round more than the whole rounds":
        (lambda jobs, seconds, workers: (jobs // workers + 1) * seconds, "4 jobs of 0.4 s on 4 workers you predicted 0.80 s"),
}


def test_the_cases_tell_the_wrong_models_apart():
    # A measurement is never below the right prediction, so a model that predicts less is off by
    # at least the difference; one that predicts more, by at least the difference minus the noise.
    for model, _ in WRONG_MODELS.values():
        assert any(abs(model(*case) - predict_seconds(*case)) > TOLERANCE + 0.04 for case in PREDICTION_CASES)


UNDER_BOTH = ["shared out evenly", "always one round more than the whole rounds"]


@pytest.mark.parametrize("model", UNDER_BOTH)
def test_wrong_predictions_are_told_what_was_measured(model, context):
    answer, phrase = WRONG_MODELS[model]
    fails(check_prediction, answer, context, phrase)


@pytest.mark.parametrize("model", [model for model in WRONG_MODELS if model not in UNDER_BOTH])
def test_other_wrong_predictions(model):
    answer, phrase = WRONG_MODELS[model]
    fails(check_prediction, answer, FORK, phrase)


@pytest.mark.parametrize("answer, phrase", [
    (lambda jobs, seconds, workers: 0.9, "4 jobs of 0.4 s on 4 workers you predicted 0.90 s"),  # typed in
])
def test_a_typed_in_prediction_fails(answer, phrase, context):
    fails(check_prediction, answer, context, phrase)


@pytest.mark.parametrize("answer, phrase", [
    (predict_by_measuring, "submitted jobs to a pool: a prediction is worked out"),
    (predict_by_measuring_shorter_jobs, "submitted jobs to a pool: a prediction is worked out"),
    (predict_by_sleeping_it_out, "to answer: a prediction is worked out"),
    (lambda jobs, seconds, workers: None, "should return a number of seconds, got NoneType"),
    (lambda jobs, seconds, workers: "0.8 s", "should return a number of seconds, got str"),
    (lambda jobs, seconds, workers: -1, "should return a number of seconds"),
    (lambda jobs, seconds: 1.0, "calls your function as predict_seconds\\(jobs, seconds, workers\\)"),
])
def test_predictions_not_worked_out_or_not_numbers_are_refused_before_measuring(answer, phrase, capsys):
    with pytest.raises(CheckFailed, match=phrase):
        check_prediction(answer)


# Exercise 1.3 -----------------------------------------------------------------------------------

def chunk_size_race(make_pool, numbers, sizes):
    """The worked solution."""
    with stopwatch() as clock:
        [collatz_steps(n) for n in numbers]
    timings = {"loop": clock.seconds}
    for size in sizes:
        with stopwatch() as clock:
            with make_pool() as executor:
                list(executor.map(collatz_steps, numbers, chunksize=size))
        timings[size] = clock.seconds
    winners = [size for size in sizes if timings[size] < timings["loop"]]
    return timings, min(winners, default=None)


def race_with(*, chunk_factor=1, one_pool=False, submit=False, shut_down=True, loop_factor=1.0, fixed=None,
              choose=None):
    """A variant of the solution with one thing wrong (kept quick: a wrong chunk size is a fifth of
    the right one, and the submitting variant submits only its first ten jobs)."""
    def answer(make_pool, numbers, sizes):
        with stopwatch() as clock:
            [collatz_steps(n) for n in numbers]
        timings = {"loop": clock.seconds * loop_factor}
        shared = make_pool() if one_pool else None
        for size in sizes:
            with stopwatch() as clock:
                executor = shared or make_pool()
                if submit:
                    [executor.submit(collatz_steps, n).result() for n in numbers[:10]]
                list(executor.map(collatz_steps, numbers[10 if submit else 0:], chunksize=size // chunk_factor))
                if shut_down and not one_pool:
                    executor.shutdown()
            timings[size] = fixed if fixed is not None else clock.seconds
        if shared:
            shared.shutdown()
        winners = [size for size in sizes if timings[size] < timings["loop"]]
        return timings, (choose(winners, sizes) if choose else min(winners, default=None))
    return answer


def race_on_one_clock(make_pool, numbers, sizes):
    """A clock started once, at the top: each pool's time includes the loop and the pools before."""
    with stopwatch() as clock:
        [collatz_steps(n) for n in numbers]
        timings = {"loop": clock.elapsed()}
        for size in sizes:
            with make_pool() as executor:
                list(executor.map(collatz_steps, numbers, chunksize=size))
            timings[size] = clock.elapsed()
    winners = [size for size in sizes if timings[size] < timings["loop"]]
    return timings, min(winners, default=None)


def race_in_a_loop(make_pool, numbers, sizes):
    timings = {"loop": 0.05, **{size: 0.1 for size in sizes}}
    return timings, None


def test_chunk_size_race_solution_passes(context, capsys):
    assert passes(check_chunk_size_race, chunk_size_race, context, capsys)


@pytest.mark.parametrize("answer, phrase", [
    (race_in_a_loop, "made no pool"),  # serial, timings typed in
    (race_with(one_pool=True), "1 pool\\(s\\) for 2 chunk sizes"),
    (race_with(chunk_factor=5), "pass chunksize=size"),
    (race_with(fixed=5.0), "but that pool lived"),  # fabricated timings
    (race_on_one_clock, "start the clock afresh for each pool"),
    (race_with(choose=lambda winners, sizes: None if winners else sizes[0]),
     "beats the loop|not faster than the loop"),
])
def test_chunk_size_race_wrong_answers_get_their_hint(answer, phrase, context):
    fails(check_chunk_size_race, answer, context, phrase)


@pytest.mark.parametrize("answer, phrase", [
    (race_with(submit=True), "sent with submit"),
    (race_with(shut_down=False), "left running"),
    (race_with(loop_factor=50.0), "time the loop itself"),
    (race_with(choose=lambda winners, sizes: 7), "should be one of the sizes given"),
])
def test_chunk_size_race_other_wrong_answers(answer, phrase):
    fails(check_chunk_size_race, answer, FORK, phrase)


@pytest.mark.parametrize("answer, phrase", [
    (lambda make_pool, numbers, sizes: {"loop": 1.0}, "should return two things"),
    (lambda make_pool, numbers, sizes: ([1.0, 2.0], None), "should be a dict"),
    (lambda make_pool, numbers, sizes: ({"loop": 1.0, 25: 1.0}, None), "lacks \\[4000\\]"),
    (lambda make_pool, numbers, sizes: ({"loop": 1.0, **{s: "fast" for s in sizes}}, None), "positive number"),
    (lambda make_pool, sizes: None, "calls your function as chunk_size_race\\(make_pool, numbers, sizes\\)"),
])
def test_chunk_size_race_shapes(answer, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check_chunk_size_race(answer)
