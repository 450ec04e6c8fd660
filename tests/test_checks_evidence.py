"""The recording executors the checkers pass to students' functions see how the work ran: in
which worker each call ran, map's chunks call by call, the order jobs finished and the order
their results were asked for, results taken inside callbacks; under fork and spawn."""
import multiprocessing
import os
import pickle
import sys
import threading
import time
from concurrent.futures import as_completed
from functools import partial

import pytest

from helpers.checks import CheckFailed
from helpers.checks.evidence import (RecordingPool, RecordingThreadPool, call_answer, describe,
                                     notebook_names, same_function)
from helpers.workers import collatz_steps, sleep_for, tiny_task

METHODS = ["fork", "spawn"]


@pytest.fixture(params=METHODS)
def context(request):
    return multiprocessing.get_context(request.param)


def test_calls_ran_in_workers_and_map_chunks_are_unrolled(context):
    with RecordingPool(2, mp_context=context) as pool:
        results = list(pool.map(tiny_task, range(7), chunksize=3))
    assert results == [x * x for x in range(7)]
    assert len(pool.submissions) == 3
    assert [call.args for call in pool.calls_of(tiny_task)] == [(x,) for x in range(7)]
    assert [call.result for call in pool.calls] == results
    assert pool.worker_pids() and os.getpid() not in pool.worker_pids()


def test_delays_set_the_finishing_order_and_the_taken_order_shows_how_results_were_read(context):
    delays = [0.8, 0.0, 0.4]
    with RecordingPool(3, mp_context=context, delays=delays) as pool:
        futures = [pool.submit(tiny_task, n) for n in (1, 2, 3)]
        assert [f.result() for f in as_completed(futures)] == [4, 9, 1]
    assert pool.finishing_order() == pool.first_taken_order() == [1, 2, 0]
    with RecordingPool(3, mp_context=context, delays=delays) as pool:
        futures = [pool.submit(tiny_task, n) for n in (1, 2, 3)]
        assert [f.result() for f in futures] == [1, 4, 9]
    assert pool.finishing_order() == [1, 2, 0] and pool.first_taken_order() == [0, 1, 2]


def test_results_taken_inside_callbacks_are_told_apart(context):
    seen = []
    with RecordingPool(2, mp_context=context) as pool:
        inside = pool.submit(collatz_steps, 27)
        inside.add_done_callback(lambda future: seen.append(future.result()))
        outside = pool.submit(collatz_steps, 97)
        outside.add_done_callback(lambda future: None)
        outside.result()
    assert seen == [111]
    assert inside.taken_in_callback and not outside.taken_in_callback
    assert inside.callbacks == outside.callbacks == 1


def test_a_failed_call_keeps_its_error():
    with RecordingPool(1) as pool:
        future = pool.submit(collatz_steps, 0)
        with pytest.raises(ValueError):
            future.result()
    assert isinstance(pool.calls[0].error, ValueError)


def test_a_thread_pool_records_its_threads():
    with RecordingThreadPool(2) as pool:
        assert list(pool.map(tiny_task, [1, 2, 3])) == [1, 4, 9]
    assert threading.get_ident() not in pool.worker_threads() and len(pool.calls) == 3


def test_submissions_record_what_they_pickled_to():
    payload = list(range(10_000))
    with RecordingPool(1, measure_bytes=True) as pool:
        pool.submit(len, payload).result()
        pool.submit(len, [1]).result()
    big, small = (s.nbytes for s in pool.submissions)
    assert big > len(pickle.dumps(payload)) > 100 * small > 0


def notebook_function(x):
    return x


notebook_function.__module__ = "__main__"  # as if defined in a notebook cell


def test_notebook_names_finds_functions_a_spawned_worker_could_not_import():
    assert notebook_names((notebook_function, 1)) == ["notebook_function"]
    assert notebook_names(partial(notebook_function, 2)) == ["notebook_function"]
    assert [name.rsplit(".", 1)[-1] for name in notebook_names({"key": lambda: 1})] == ["<lambda>"]
    assert notebook_names((tiny_task, [1, 2])) == []


def test_same_function_compares_module_and_name():
    assert same_function(tiny_task, tiny_task) and not same_function(tiny_task, sleep_for)
    assert same_function(pickle.loads(pickle.dumps(tiny_task)), tiny_task)


@pytest.mark.parametrize("answer, phrase", [
    (42, "Pass your function itself"),
    (lambda executor: None, "The checker calls your function as run\\(executor, numbers\\)"),
    (lambda executor, numbers: 1 / 0, "ZeroDivisionError"),
    (lambda executor, numbers: numbers.no_such_method(), "raised AttributeError: 'list' object has no attribute"),
    (lambda executor, numbers: pickle.dumps(lambda: 1), "cannot be pickled or imported"),
])
def test_call_answer_turns_failures_into_hints(answer, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        call_answer(answer, "executor", [1], expected_signature="run(executor, numbers)")


def test_describe_names_type_and_length():
    import numpy as np

    assert describe([1, 2]) == "list of length 2" and describe(3) == "int" and describe("ab") == "str"
    assert describe(np.float64(1.0)) == "float64" and describe(np.array(2.0)) == "ndarray"


def test_cancel_and_running_behave_as_in_an_unrecorded_pool(capsys):
    """A queued job cannot be cancelled, a pending one can (lesson 02); the recorded futures say
    the same as the pool's own, and a cancelled job is not counted as finished."""
    with RecordingPool(1) as pool:
        futures = [pool.submit(sleep_for, 1.5) for _ in range(4)]  # long: job 0 still runs when cancel() is called
        time.sleep(0.3)
        # One worker: job 0 runs, job 1 waits in the call queue (job 2 may have joined it there
        # once job 0 left it), job 3 is still pending.
        assert futures[0].running()
        assert not futures[1].cancel() and futures[3].cancel()
        maybe_queued = futures[2].cancel()
    assert [future.cancelled() for future in futures] == [False, False, maybe_queued, True]
    assert pool.finishing_order() == [0, 1] + ([] if maybe_queued else [2])
    assert "exception calling callback" not in capsys.readouterr().err


def test_work_done_in_the_notebooks_process_is_seen(context):
    def honest(executor, numbers):
        return list(executor.map(collatz_steps, numbers))

    def recomputes(executor, numbers):
        list(executor.map(collatz_steps, numbers))
        return [collatz_steps(n) for n in numbers]

    def in_a_thread(executor, numbers):
        futures = [executor.submit(collatz_steps, n) for n in numbers]
        done = []
        for future in futures:  # a callback runs in a thread of this process
            future.add_done_callback(lambda f, n=len(done): done.append(collatz_steps(27)))
        return [future.result() for future in futures]

    with RecordingPool(2, mp_context=context) as pool:
        assert call_answer(honest, pool, [27, 97], expected_signature="f(executor, numbers)",
                           not_here=[collatz_steps]) == [111, 118]
        for cheat in (recomputes, in_a_thread):
            with pytest.raises(CheckFailed, match="collatz_steps ran .* in the notebook's own process"):
                call_answer(cheat, pool, [27, 97], expected_signature="f(executor, numbers)", not_here=[collatz_steps])
    with RecordingPool(2, mp_context=context) as unused:  # serial code: left to the checker's own hint
        assert call_answer(lambda executor, numbers: [collatz_steps(n) for n in numbers], unused, [27],
                           expected_signature="f(executor, numbers)", not_here=[collatz_steps]) == [111]
    assert sys.getprofile() is None and threading.getprofile() is None
