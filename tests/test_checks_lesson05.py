"""Lesson 05's checkers: the worked solutions pass under fork and spawn; serial, hard-coded,
fabricated and empty answers, submit-and-wait, catching too much, retrying too often, too little
or too early, and wrongly shaped answers each get their hint."""
import multiprocessing
from concurrent.futures import as_completed, wait

import numpy as np
import pytest

from helpers.checks import CheckFailed
from helpers.checks.lesson05 import check_collected, check_retry
from helpers.workers import parse_price, unreliable_square


from checking import context  # noqa: F401 (a fixture: under fork and spawn)


# Exercise 5.1 -------------------------------------------------------------------------------

def collect_outcomes(executor, texts):
    successes, failures = {}, {}
    index_of = {executor.submit(parse_price, text): i for i, text in enumerate(texts)}
    for future in as_completed(index_of):
        i = index_of[future]
        try:
            successes[i] = future.result()
        except ValueError as error:
            failures[i] = error
    return successes, failures


def test_the_collect_solution_passes(context, capsys):
    check_collected(collect_outcomes, mp_context=context)
    assert capsys.readouterr().out == (
        "Correct: 9 parse_price jobs were submitted before any was waited for and ran in the pool's workers; "
        "5 prices and 4 ValueErrors, the very exceptions the jobs raised, are filed under their job index, and "
        "a TypeError, which is no bad price, stopped the function.\n")


def serial(executor, texts):
    successes, failures = {}, {}
    for i, text in enumerate(texts):
        try:
            successes[i] = parse_price(text)
        except ValueError as error:
            failures[i] = error
    return successes, failures


def hard_coded(executor, texts):
    collect_outcomes(executor, texts)
    return {0: 12.5, 1: 7.0, 4: 1000.0, 7: 0.99}, {2: ValueError(), 3: ValueError(), 5: ValueError(), 6: ValueError()}


def fabricated_failures(executor, texts):
    successes, failures = collect_outcomes(executor, texts)
    return successes, {i: ValueError(str(error)) for i, error in failures.items()}


def messages_not_exceptions(executor, texts):
    successes, failures = collect_outcomes(executor, texts)
    return successes, {i: str(error) for i, error in failures.items()}


def empty(executor, texts):
    collect_outcomes(executor, texts)
    return {}, {}


def dropped_failure(executor, texts):
    successes, failures = collect_outcomes(executor, texts)
    return successes, {i: e for i, e in failures.items() if i != min(failures)}


def keyed_by_text(executor, texts):
    successes, failures = collect_outcomes(executor, texts)
    return {texts[i]: v for i, v in successes.items()}, {texts[i]: e for i, e in failures.items()}


def failure_filed_as_success(executor, texts):
    successes, failures = collect_outcomes(executor, texts)
    return {**successes, min(failures): None}, {i: e for i, e in failures.items() if i != min(failures)}


def wrong_value(executor, texts):
    successes, failures = collect_outcomes(executor, texts)
    return {i: v + 1 for i, v in successes.items()}, failures


def submit_and_wait(executor, texts):
    successes, failures = {}, {}
    for i, text in enumerate(texts):
        try:
            successes[i] = executor.submit(parse_price, text).result()
        except ValueError as error:
            failures[i] = error
    return successes, failures


def catches_everything(executor, texts):
    successes, failures = {}, {}
    index_of = {executor.submit(parse_price, text): i for i, text in enumerate(texts)}
    for future in as_completed(index_of):
        try:
            successes[index_of[future]] = future.result()
        except Exception as error:
            failures[index_of[future]] = error
    return successes, failures


def swallows_other_errors(executor, texts):
    successes, failures = {}, {}
    index_of = {executor.submit(parse_price, text): i for i, text in enumerate(texts)}
    for future in as_completed(index_of):
        try:
            successes[index_of[future]] = future.result()
        except ValueError as error:
            failures[index_of[future]] = error
        except TypeError:
            pass
    return successes, failures


def raises_its_own_type_error(executor, texts):
    if None in texts:
        raise TypeError("None is no text")
    return collect_outcomes(executor, texts)


def one_job_too_many(executor, texts):
    executor.submit(parse_price, texts[0]).result()
    return collect_outcomes(executor, texts)


def returns_one_dict(executor, texts):
    successes, failures = collect_outcomes(executor, texts)
    return {**successes, **failures}


def returns_lists(executor, texts):
    successes, failures = collect_outcomes(executor, texts)
    return sorted(successes), sorted(failures)


def one_parameter(executor):
    return {}, {}


def prices_parsed_here(executor, texts):
    """Failures from the pool, but the prices parsed again in this process: equal values, not the jobs'."""
    successes, failures = collect_outcomes(executor, texts)
    return {i: float(texts[i]) for i in successes}, failures


def pool_closed_inside(executor, texts):
    with executor:
        return collect_outcomes(executor, texts)


def keyed_by_float(executor, texts):
    successes, failures = collect_outcomes(executor, texts)
    return {float(i): v for i, v in successes.items()}, failures


@pytest.mark.parametrize("answer, hint", [
    (serial, "Nothing reached the pool"),
    (hard_coded, "1 of 9 jobs are in neither dict"),
    (fabricated_failures, "made in this process, not the exception the job raised"),
    (messages_not_exceptions, "not an exception"),
    (empty, "9 of 9 jobs are in neither dict"),
    (dropped_failure, "1 of 9 jobs are in neither dict"),
    (keyed_by_text, "by the job's index"),
    (failure_filed_as_success, "filed under `successes`"),
    (wrong_value, "not what the job returned"),
    (submit_and_wait, "one at a time"),
    (catches_everything, "catches too much"),
    (swallows_other_errors, "it was lost"),
    (raises_its_own_type_error, "a TypeError of its own"),
    (one_job_too_many, "10 parse_price job"),
    (returns_one_dict, "return two dicts"),
    (returns_lists, "`successes` is a list"),
    (one_parameter, "collect_outcomes\\(executor, texts\\)"),
    (prices_parsed_here, "made in this process, not taken from the job"),
    (pool_closed_inside, "shut down the pool it was given"),
    (keyed_by_float, "a whole number; one key is float 0.0"),
])
def test_collect_answers_that_miss_the_point_get_their_hint(answer, hint, context):
    with pytest.raises(CheckFailed, match=hint):
        check_collected(answer, mp_context=context)


# Exercise 5.2 -------------------------------------------------------------------------------

def attempt(executor, xs, attempts_dir):
    results, failures = {}, {}
    input_of = {executor.submit(unreliable_square, x, attempts_dir): x for x in xs}
    for future in as_completed(input_of):
        try:
            results[input_of[future]] = future.result()
        except Exception as error:
            failures[input_of[future]] = error
    return results, failures


def retry_rounds(rounds):
    """An answer that submits every input, then retries what failed ``rounds - 1`` times."""
    def answer(executor, numbers, attempts_dir):
        results, failed = attempt(executor, numbers, attempts_dir)
        for _ in range(rounds - 1):
            retried, failed = attempt(executor, failed, attempts_dir)
            results.update(retried)
        return results, failed
    return answer


retry_once = retry_rounds(2)


def test_the_retry_solution_passes(context, capsys):
    check_retry(retry_once, mp_context=context)
    assert capsys.readouterr().out == (
        "Correct: 10 first attempts were submitted before any was waited for and ran in the pool's workers; only "
        "the 6 that failed were tried again, once each and after their first attempt had failed; 7 results and "
        "3 second failures are filed under their input.\n")


def serial_retry(executor, numbers, attempts_dir):
    results, failed_twice = {}, {}
    for x in numbers:
        for tries in (1, 2):
            try:
                results[x] = unreliable_square(x, attempts_dir)
                break
            except Exception as error:
                if tries == 2:
                    failed_twice[x] = error
    return results, failed_twice


def rerun_everything(executor, numbers, attempts_dir):
    attempt(executor, numbers, attempts_dir)
    return attempt(executor, numbers, attempts_dir)


def retry_decided_in_advance(executor, numbers, attempts_dir):
    suspects = [x for x in numbers if x % 3 == 0 or x % 5 == 0]
    first = {executor.submit(unreliable_square, x, attempts_dir): x for x in numbers}
    wait(first)  # every first attempt has ended, and none was looked at
    second = {executor.submit(unreliable_square, x, attempts_dir): x for x in suspects}
    results, failed_twice = {}, {}
    for future, x in [*first.items(), *second.items()]:
        try:
            results[x] = future.result()
            failed_twice.pop(x, None)
        except Exception as error:
            if future in second:
                failed_twice[x] = error
    return {x: v for x, v in results.items() if x not in failed_twice}, failed_twice


def reports_first_failures(executor, numbers, attempts_dir):
    results, failed_once = attempt(executor, numbers, attempts_dir)
    retried, failed_twice = attempt(executor, failed_once, attempts_dir)
    results.update(retried)
    return results, {x: failed_once[x] for x in failed_twice}


def drops_what_failed_twice(executor, numbers, attempts_dir):
    return retry_once(executor, numbers, attempts_dir)[0], {}


def fabricated_squares(executor, numbers, attempts_dir):
    results, failed_twice = retry_once(executor, numbers, attempts_dir)
    return {x: x * x + 1 for x in results}, failed_twice


def messages_of_failures(executor, numbers, attempts_dir):
    results, failed_twice = retry_once(executor, numbers, attempts_dir)
    return results, {x: str(error) for x, error in failed_twice.items()}


def wrong_directory(executor, numbers, attempts_dir):
    import tempfile
    return retry_once(executor, numbers, tempfile.mkdtemp())


def first_round_submit_and_wait(executor, numbers, attempts_dir):
    results, failed = {}, {}
    for x in numbers:
        try:
            results[x] = executor.submit(unreliable_square, x, attempts_dir).result()
        except Exception as error:
            failed[x] = error
    retried, failed_twice = attempt(executor, failed, attempts_dir)
    results.update(retried)
    return results, failed_twice


def returns_a_list(executor, numbers, attempts_dir):
    results, failed_twice = retry_once(executor, numbers, attempts_dir)
    return results, sorted(failed_twice)


@pytest.mark.parametrize("answer, hint", [
    (serial_retry, "Nothing reached the pool"),
    (retry_rounds(1), "were not retried"),
    (retry_rounds(3), "more than twice"),
    (rerun_everything, "retry only the failures"),
    (retry_decided_in_advance, "before its first attempt's outcome was looked at"),
    (reports_first_failures, "the exception of the first attempt"),
    (drops_what_failed_twice, "3 of 10 jobs are in neither dict"),
    (fabricated_squares, "not what the successful attempt returned"),
    (messages_of_failures, "not an exception"),
    (wrong_directory, "another attempts directory"),
    (first_round_submit_and_wait, "one at a time"),
    (returns_a_list, "`failed_twice` is a list"),
    (retry_rounds, "retry_once\\(executor, numbers, attempts_dir\\)"),
])
def test_retry_answers_that_miss_the_point_get_their_hint(answer, hint, context):
    with pytest.raises(CheckFailed, match=hint):
        check_retry(answer, mp_context=context)


def futures_not_exceptions(executor, texts):
    successes, failures = {}, {}
    index_of = {executor.submit(parse_price, text): i for i, text in enumerate(texts)}
    for future in as_completed(index_of):
        if future.exception() is None:
            successes[index_of[future]] = future.result()
        elif isinstance(future.exception(), ValueError):
            failures[index_of[future]] = future
        else:
            raise future.exception()
    return successes, failures


def test_futures_filed_as_failures_get_the_exception_hint():
    with pytest.raises(CheckFailed, match="is a future, not an exception"):
        check_collected(futures_not_exceptions, mp_context=multiprocessing.get_context("fork"))


def keyword_arguments(executor, texts):
    successes, failures = {}, {}
    index_of = {executor.submit(parse_price, text=text): i for i, text in enumerate(texts)}
    for future in as_completed(index_of):
        try:
            successes[index_of[future]] = future.result()
        except ValueError as error:
            failures[index_of[future]] = error
    return successes, failures


def texts_wrapped_in_lists(executor, texts):
    futures = [executor.submit(parse_price, [text]) for text in texts]
    return {}, {i: future.exception() for i, future in enumerate(futures)}


def keyed_by_numpy_integers(executor, texts):
    successes, failures = collect_outcomes(executor, texts)
    return {np.int64(i): v for i, v in successes.items()}, {np.int64(i): e for i, e in failures.items()}


def test_job_indices_that_are_numpy_integers_pass():
    check_collected(keyed_by_numpy_integers, mp_context=multiprocessing.get_context("fork"))


def retry_in_a_with_block(executor, numbers, attempts_dir):
    with executor:
        return retry_once(executor, numbers, attempts_dir)


def test_a_retry_that_shuts_down_the_callers_pool_gets_its_hint():
    with pytest.raises(CheckFailed, match="shut down the pool it was given"):
        check_retry(retry_in_a_with_block, mp_context=multiprocessing.get_context("fork"))


def test_jobs_given_their_text_by_keyword_pass():
    check_collected(keyword_arguments, mp_context=multiprocessing.get_context("fork"))


def test_jobs_given_something_else_than_a_text_get_their_hint():
    with pytest.raises(CheckFailed, match="given one of the texts"):
        check_collected(texts_wrapped_in_lists, mp_context=multiprocessing.get_context("fork"))
