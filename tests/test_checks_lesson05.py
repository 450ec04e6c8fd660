"""Lesson 05's checkers: the worked solutions pass, typical wrong answers get the matching hint."""
from concurrent.futures import ProcessPoolExecutor, as_completed

import pytest

from helpers.checks import CheckFailed
from helpers.checks.lesson05 import check_collected, check_retry
from helpers.workers import parse_price, unreliable_square

TEXTS = ["12.50", "7", "n/a", "-3", "1e3", "", "4,20", "0.99"]
INPUTS = range(1, 13)


def collected():
    successes, failures = {}, {}
    with ProcessPoolExecutor(max_workers=2) as executor:
        index_of = {executor.submit(parse_price, text): i for i, text in enumerate(TEXTS)}
        for future in as_completed(index_of):
            try:
                successes[index_of[future]] = future.result()
            except ValueError as error:
                failures[index_of[future]] = error
    return successes, failures


def test_collect_solution_passes(capsys):
    check_collected(*collected(), TEXTS)
    assert capsys.readouterr().out.startswith("Correct:")


def dropped_failure(successes, failures):
    return successes, {i: e for i, e in failures.items() if i != min(failures)}


def messages_not_exceptions(successes, failures):
    return successes, {i: str(e) for i, e in failures.items()}


def keyed_by_text(successes, failures):
    return {TEXTS[i]: v for i, v in successes.items()}, {TEXTS[i]: e for i, e in failures.items()}


def failure_filed_as_success(successes, failures):
    return {**successes, min(failures): None}, {i: e for i, e in failures.items() if i != min(failures)}


def wrong_value(successes, failures):
    return {i: v + 1 for i, v in successes.items()}, failures


@pytest.mark.parametrize("mistake, hint", [
    (dropped_failure, "in neither dict"),
    (messages_not_exceptions, "not an exception"),
    (keyed_by_text, "by the job's index"),
    (failure_filed_as_success, "filed under `successes`"),
    (wrong_value, "wrong value"),
])
def test_collect_mistakes_get_their_hint(mistake, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_collected(*mistake(*collected()), TEXTS)


def run_each(executor, xs, attempts_dir):
    """One attempt for every input of ``xs``: (results, failures), both keyed by input."""
    results, failures = {}, {}
    input_of = {executor.submit(unreliable_square, x, attempts_dir): x for x in xs}
    for future in as_completed(input_of):
        try:
            results[input_of[future]] = future.result()
        except Exception as error:
            failures[input_of[future]] = error
    return results, failures


def retry_answer(attempts_dir, rounds):
    """Submit every input, then retry what failed ``rounds - 1`` times (``rounds=2`` is right)."""
    with ProcessPoolExecutor(max_workers=2) as executor:
        results, failed = run_each(executor, INPUTS, attempts_dir)
        for _ in range(rounds - 1):
            retried, failed = run_each(executor, failed, attempts_dir)
            results.update(retried)
    return results, failed


def test_retry_solution_passes(tmp_path, capsys):
    check_retry(INPUTS, *retry_answer(str(tmp_path), rounds=2), str(tmp_path))
    assert capsys.readouterr().out.startswith("Correct:")


def test_no_retry_gets_the_not_retried_hint(tmp_path):
    with pytest.raises(CheckFailed, match="not retried"):
        check_retry(INPUTS, *retry_answer(str(tmp_path), rounds=1), str(tmp_path))


def test_retrying_twice_gets_the_more_than_twice_hint(tmp_path):
    with pytest.raises(CheckFailed, match="more than twice"):
        check_retry(INPUTS, *retry_answer(str(tmp_path), rounds=3), str(tmp_path))


def test_rerunning_every_job_gets_the_only_failures_hint(tmp_path):
    with ProcessPoolExecutor(max_workers=2) as executor:
        run_each(executor, INPUTS, str(tmp_path))
        results, failed = run_each(executor, INPUTS, str(tmp_path))
    with pytest.raises(CheckFailed, match="retry only the failures"):
        check_retry(INPUTS, results, failed, str(tmp_path))


def test_dropping_what_failed_twice_gets_the_dropped_hint(tmp_path):
    results, _ = retry_answer(str(tmp_path), rounds=2)
    with pytest.raises(CheckFailed, match="a failure was dropped"):
        check_retry(INPUTS, results, {}, str(tmp_path))


def test_reporting_first_failures_gets_the_both_attempts_hint(tmp_path):
    with ProcessPoolExecutor(max_workers=2) as executor:
        results, first_failures = run_each(executor, INPUTS, str(tmp_path))
        retried, _ = run_each(executor, first_failures, str(tmp_path))
    results.update(retried)
    failed_twice = {x: e for x, e in first_failures.items() if x not in retried or x % 3 == 0}
    results = {x: v for x, v in results.items() if x not in failed_twice}
    with pytest.raises(CheckFailed, match="failed on both attempts"):
        check_retry(INPUTS, results, failed_twice, str(tmp_path))


def test_failures_stored_as_text_get_the_exception_hint(tmp_path):
    results, failed = retry_answer(str(tmp_path), rounds=2)
    with pytest.raises(CheckFailed, match="not an exception"):
        check_retry(INPUTS, results, {x: str(e) for x, e in failed.items()}, str(tmp_path))


def test_a_list_instead_of_a_dict_is_named(tmp_path):
    results, failed = retry_answer(str(tmp_path), rounds=2)
    with pytest.raises(CheckFailed, match="make it a dict"):
        check_retry(INPUTS, results, sorted(failed), str(tmp_path))
