"""The worker functions of lessons 01-05, run directly and in a real pool."""
import math
import multiprocessing
import os
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pytest

from helpers import workers


def test_slow_computation_prints_and_returns_its_input(capsys):
    assert workers.slow_computation(7, seconds=0) == 7
    assert capsys.readouterr().out == "Working on 7\n"


@pytest.mark.parametrize("worker", [workers.slow_computation, workers.slow_computation_with_exceptions])
def test_printing_workers_write_each_line_in_one_call(worker, monkeypatch):
    """Two workers' output cannot interleave mid-line: each line, newline included, is one write."""
    writes = []

    class Recorder:
        def write(self, text):
            writes.append(text)

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", Recorder())
    worker(5, seconds=0)
    assert [text for text in writes if text] == ["Working on 5\n"]  # print adds an empty `end`


@pytest.mark.parametrize("n, steps", [(1, 0), (2, 1), (6, 8), (27, 111)])
def test_collatz_steps_counts_the_steps_to_one(n, steps):
    assert workers.collatz_steps(n) == steps


@pytest.mark.parametrize("bad", [0, -4, 2.0, "3", True])
def test_collatz_steps_rejects_what_is_not_a_positive_integer(bad):
    with pytest.raises(ValueError, match="positive integer"):
        workers.collatz_steps(bad)


def test_slow_computation_with_exceptions_fails_only_for_two():
    assert workers.slow_computation_with_exceptions(3, seconds=0) == 3
    with pytest.raises(ValueError, match="x = 2"):
        workers.slow_computation_with_exceptions(2, seconds=0)


def test_silent_computation_prints_nothing(capsys):
    assert workers.slow_computation_silent(1.5, seconds=0) == pytest.approx(math.exp(1.5) + 3)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("x", [0.0, -0.5])
def test_comp_fails_for_non_positive_input(x):
    with pytest.raises(ValueError):
        workers.comp(x)


def test_comp_is_the_logarithm():
    assert workers.comp(math.e) == pytest.approx(1.0)


def test_small_helpers():
    assert workers.sleep_for(0) == 0
    assert workers.tiny_task(-3) == 9
    assert workers.load_pickled(pickle.dumps(workers.tiny_task)) is workers.tiny_task


def test_workers_run_in_a_pool_in_input_order():
    with ProcessPoolExecutor(max_workers=2) as executor:
        assert list(executor.map(workers.slow_computation_silent, [0, 1], [0, 0])) == [4.0, math.exp(1) + 3]


def test_exit_abruptly_breaks_the_pool():
    with ProcessPoolExecutor(max_workers=1) as executor:
        with pytest.raises(BrokenProcessPool):
            list(executor.map(workers.exit_abruptly, [1, 2, 3, 4]))


def test_exit_abruptly_returns_other_inputs_after_its_work():
    assert workers.exit_abruptly(4, seconds=0.01) == 4


def test_timed_sleep_returns_an_interval_as_long_as_the_sleep():
    start, end = workers.timed_sleep(0.05)
    assert end - start >= 0.04


def test_timed_sleep_intervals_of_two_workers_overlap():
    """Lesson 05 reads overlap as running side by side: two workers' intervals must be comparable."""
    with ProcessPoolExecutor(max_workers=2) as executor:
        list(executor.map(workers.sleep_for, [0.3, 0.3]))  # both workers up
        (a_start, a_end), (b_start, b_end) = executor.map(workers.timed_sleep, [1.0, 1.0])
    assert a_start < b_end and b_start < a_end


def test_silent_chunk_keeps_the_order_of_its_inputs():
    assert workers.slow_computation_silent_chunk([2, 0, 1], seconds=0) == [math.exp(x) + 3 for x in [2, 0, 1]]


@pytest.mark.parametrize("text, price", [("12.50", 12.5), ("7", 7.0), ("1e3", 1000.0), ("0", 0.0)])
def test_parse_price_reads_numbers(text, price):
    assert workers.parse_price(text) == price


@pytest.mark.parametrize("text", ["n/a", "", "4,20", "-3"])
def test_parse_price_rejects_what_is_no_price(text):
    with pytest.raises(ValueError):
        workers.parse_price(text)


def test_unreliable_square_fails_for_multiples_of_five_every_time(tmp_path):
    for attempt in (1, 2, 3):
        with pytest.raises(ValueError, match="every attempt"):
            workers.unreliable_square(10, str(tmp_path))
        assert workers.attempts_made(10, str(tmp_path)) == attempt


def test_unreliable_square_fails_for_other_multiples_of_three_only_once(tmp_path):
    assert workers.attempts_made(6, str(tmp_path)) == 0
    with pytest.raises(ConnectionError):
        workers.unreliable_square(6, str(tmp_path))
    assert workers.unreliable_square(6, str(tmp_path)) == 36
    assert workers.unreliable_square(6, str(tmp_path)) == 36
    assert workers.attempts_made(6, str(tmp_path)) == 3


def test_unreliable_square_succeeds_at_once_for_other_inputs(tmp_path):
    assert [workers.unreliable_square(x, str(tmp_path)) for x in (1, 2, 4, 7)] == [1, 4, 16, 49]
    assert workers.fails_every_time(15) and not workers.fails_first_time(15)


def test_unreliable_square_counts_attempts_across_worker_processes(tmp_path):
    """The retry exercise runs under spawn too: the first-attempt record must survive a new process."""
    with ProcessPoolExecutor(max_workers=2) as executor:
        first = executor.submit(workers.unreliable_square, 9, str(tmp_path))
        with pytest.raises(ConnectionError):
            first.result()
        assert executor.submit(workers.unreliable_square, 9, str(tmp_path)).result() == 81
    assert workers.attempts_made(9, str(tmp_path)) == 2


def test_worker_pid_names_the_process_that_ran_the_job():
    assert workers.worker_pid() == os.getpid()


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_start_workers_returns_once_every_worker_has_answered(method):
    """Under spawn a worker starts only when a job finds no idle one, and takes a while to get
    going: start_workers returns once all of them have run a job, in processes of their own."""
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=3, mp_context=context) as executor:
        assert workers.start_workers(executor, 3) == 3
        assert len(multiprocessing.active_children()) == 3
        assert os.getpid() not in set(executor.map(workers.worker_pid, [0.0] * 3))


def test_start_workers_says_so_when_the_pool_is_too_small():
    with ProcessPoolExecutor(max_workers=1) as executor:
        with pytest.raises(RuntimeError, match="only 1 of 2 workers"):
            workers.start_workers(executor, 2, seconds=0, rounds=3)
