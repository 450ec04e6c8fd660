"""Checkers for the exercises of lesson 02 (``submit``, futures, callbacks, ``as_completed``).

Both exercises ask for a function that the checker calls with a recording pool and inputs of its
own (:mod:`helpers.checks.evidence`): the pool holds some jobs back so that they finish in an
order the checker picks, and it notes how the answer waited for them and where it took their
results.
"""

from collections.abc import Iterator
from concurrent.futures import Future
from numbers import Real

from helpers.checks import CheckFailed, passed, require
from helpers.checks.evidence import RecordingPool, call_answer, calls_in_this_process, describe
from helpers.checks.lesson01 import require_ran
from helpers.workers import collatz_steps, sleep_for, start_workers

# Exercise 2.1: arrival_order(executor, lengths) with these lengths on 3 workers, started before
# the answer runs. The pool holds the shortest job back after it is done, so the jobs finish at
# 0.2, 0.35 and 0.5 s, in an order that is neither the submission order nor that of the lengths.
ARRIVAL_LENGTHS = (0.35, 0.05, 0.2)
ARRIVAL_DELAYS = (0.0, 0.45, 0.0)
ARRIVAL_WORKERS = 3

# Exercise 2.2: pairs_by_callback(executor, numbers) with these numbers on 2 workers. Every job
# is held back a tenth of a second or more, so that every callback runs after the answer's loop.
CALLBACK_NUMBERS = (97, 871, 27, 6171, 703)
CALLBACK_DELAYS = (0.15, 0.1, 0.2, 0.12, 0.18)


class _NotedWaiters(list):
    """A future's list of waiters that remembers whether anything was ever put in it:
    ``as_completed`` and ``wait`` put a waiter there, a loop asking ``done()`` does not."""

    used = False

    def append(self, waiter):
        self.used = True
        super().append(waiter)


class PollingPool(RecordingPool):
    """A recording pool whose futures also count how often ``done()`` was asked and note whether
    ``as_completed`` or ``wait`` waited on them (evidence for exercise 2.1)."""

    def submit(self, fn, /, *args, **kwargs):
        future = super().submit(fn, *args, **kwargs)
        future.done_asked = 0
        future._waiters = _NotedWaiters()  # a fresh future has no waiter yet
        ask = future.done

        def done():
            future.done_asked += 1
            return ask()

        future.done = done
        return future


def _require_results_list(values, count):
    """``values`` is a list of ``count`` results, not futures."""
    require(isinstance(values, list), f"Your function should return a list, got {describe(values)}.")
    require(not any(isinstance(v, Future) for v in values),
            "The list holds Future objects: store each future's result(), not the future.")
    require(len(values) <= count, f"The list has {len(values)} entries for {count} jobs: was a result "
                                  f"recorded twice, or did the list start out with something in it?")
    require(len(values) == count, f"The list has {len(values)} of the {count} results: was each job's result recorded?")


def _require_each_input_once(calls, values, name):
    got = sorted(call.args[0] for call in calls if call.args)
    require(got == sorted(values), f"The pool did not run {name} exactly once on each of the inputs your "
                                   f"function was given: submit one job per input of the parameter.")


def check_arrival_order(arrival_order, mp_context=None):
    """Exercise 2.1: ``arrival_order(executor, lengths)`` submits ``sleep_for(s)`` for each length
    and returns the results in the order the jobs finished, found by asking the futures
    ``done()``, without ``as_completed`` or ``wait``."""
    lengths = list(ARRIVAL_LENGTHS)
    first = None  # the index of the answer's first submission, once the workers are started

    def delay(index):
        answer_index = index - first if first is not None else -1
        return ARRIVAL_DELAYS[answer_index] if 0 <= answer_index < len(ARRIVAL_DELAYS) else 0.0

    with PollingPool(ARRIVAL_WORKERS, delays=delay, mp_context=mp_context) as pool:
        start_workers(pool, ARRIVAL_WORKERS)  # so that only the lengths and the delays set the finishing order
        first = len(pool.submissions)
        arrived = call_answer(arrival_order, pool, lengths, expected_signature="arrival_order(executor, lengths)")
    submissions = pool.submissions[first:]
    calls = require_ran([call for submission in submissions for call in submission.calls], sleep_for, "sleep_for")
    _require_each_input_once(calls, lengths, "sleep_for")
    _require_results_list(arrived, len(lengths))
    require(all(isinstance(v, Real) for v in arrived) and sorted(arrived) == sorted(lengths),
            "Wrong values: each job returns the number of seconds it slept, and those are what the list should hold.")
    finishing = [i for i in pool.finishing_order() if i >= first]
    finished = [pool.submissions[i].calls[0].result for i in finishing]
    if arrived != finished:
        require(arrived != [submission.calls[0].result for submission in submissions],
                "The results are in submission order: take each result when its job is done, not in the order "
                "you submitted the jobs.")
        require(arrived != sorted(lengths), "The results are sorted by length, which is not the order the "
                                            "jobs finished in here (the check's pool holds a job back after it "
                                            "is done): record each result when its future says it is done.")
        raise CheckFailed("Not the order the jobs finished in: ask every unfinished future again and again, "
                          "often (every few hundredths of a second), and record a result as soon as its future is done.")
    futures = [submission.future for submission in submissions]
    require(not any(future._waiters.used for future in futures),
            "You waited with as_completed or wait: this exercise asks you to do their work yourself, by asking "
            "each future whether it is done.")
    require(all(future.done_asked for future in futures), "Ask each future whether its job is over with done().")
    require(not any(future.taken_in_callback for future in futures),
            "You took the results in done-callbacks: this exercise asks you to find the finished jobs yourself, "
            "by asking the futures done().")
    require(any(future.done_asked > 1 for future in futures),
            "No future was asked done() more than once: a job that is not over yet when you ask must be asked "
            "again, later.")
    require([i for i in pool.first_taken_order() if i >= first] == finishing,
            "The results were asked for in another order than the jobs finished in.")
    passed("the results in the order the jobs finished (on a pool that held one job back), found by "
           "asking each future done().")


def _pairs(finished):
    """The answer's entries as (n, steps) tuples, or a hint if they are not such pairs."""
    require(not any(isinstance(entry, Future) or
                    (isinstance(entry, (tuple, list)) and any(isinstance(v, Future) for v in entry))
                    for entry in finished),
            "The list holds Future objects: pair each input with future.result(), the job's result.")
    require(all(isinstance(entry, (tuple, list)) and len(entry) == 2 for entry in finished),
            "The list should hold (n, steps) pairs: the input with the result of its job.")
    require(all(isinstance(v, Real) for entry in finished for v in entry),
            "Each pair should hold two numbers: the input n and its job's result.")
    return [tuple(entry) for entry in finished]


def check_callback_pairs(pairs_by_callback, mp_context=None):
    """Exercise 2.2: ``pairs_by_callback(executor, numbers)`` submits ``collatz_steps(n)`` for each
    number, and a done-callback on each future appends ``(n, steps)`` to the list it returns."""
    numbers = list(CALLBACK_NUMBERS)
    # The callbacks run after the function returns: the watch on this process lasts until they have.
    with calls_in_this_process([collatz_steps]) as here:
        with RecordingPool(2, delays=CALLBACK_DELAYS, mp_context=mp_context) as pool:
            finished = call_answer(pairs_by_callback, pool, numbers,
                                   expected_signature="pairs_by_callback(executor, numbers)")
            # Every job is held back a tenth of a second or more, and the five take three tenths
            # or more on two workers: a list already full when the function returns was not
            # filled in by the callbacks.
            at_return = len(finished) if isinstance(finished, list) else 0
    # The with block has waited for every job, and so for every callback.
    require(not isinstance(finished, Iterator) and isinstance(finished, list),
            f"Your function should return the list its callbacks append to, got {describe(finished)}.")
    pairs = _pairs(finished)
    calls = require_ran(pool.calls, collatz_steps, "collatz_steps")
    require(not here, "Your callbacks (or your function) ran collatz_steps in the notebook's own process: take "
                      "each result from the future the callback receives; do not compute it again.")
    _require_each_input_once(calls, numbers, "collatz_steps")
    futures = [submission.future for submission in pool.submissions]
    require(all(future.callbacks for future in futures),
            "Attach a callback to every future, with add_done_callback.")
    require(all(future.taken_in_callback for future in futures),
            "Some results were not taken inside a callback: the callback should call result() on the future it receives.")
    require(at_return < len(numbers),
            "Your function returned a list that already held every pair: return the list at once, while the jobs "
            "are still running, and let the callbacks fill it in as they finish.")
    _require_results_list(pairs, len(numbers))
    expected = {(n, collatz_steps(n)) for n in numbers}
    if set(pairs) == expected:
        passed("every input paired with its own result, each result taken inside a done-callback.")
        return
    require({(steps, n) for n, steps in pairs} != expected, "The pairs are (steps, n): put the input first, (n, steps).")
    require(sorted(steps for _, steps in pairs) == sorted(steps for _, steps in expected),
            "Wrong results: the callback should record future.result() of the future it receives.")
    require(len({n for n, _ in pairs}) > 1,
            "Every pair has the same input. The callbacks ran after your loop had ended: which n does a "
            "callback see at that moment?")
    raise CheckFailed("Some results are paired with the wrong input: make sure each callback knows the input "
                      "of its own job.")
