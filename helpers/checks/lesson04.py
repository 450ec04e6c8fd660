"""Checkers for lesson 04's exercises: progress bars over a pool's results.

Each exercise asks for a function that takes a pool and a bar maker, ``progress``, which it calls
the way it would call ``tqdm``. The checker calls it with inputs of its own, a
:class:`~helpers.checks.evidence.RecordingPool` and a bar maker of its own, whose bars are real
tqdm bars (drawn into a string, never on screen) that note, at every step, how far the step went
and which jobs had finished by then. The pool holds one job back (``delays``), so that a bar that
follows the results moves while that job is still running; one that runs over results collected
beforehand cannot. Its workers are all started before the answer runs, so that the held-back job
finishes last even where ``spawn`` starts a second worker late. So the checker sees, besides the
values, that the work ran in the pool's workers (``map``'s chunks for 4.1, one job per chunk for
4.2), that the bar knew its total, and that it moved as the results came back, by the right amount.

The inputs are handed to the answer as a NumPy array, as in the notebook's trial
(``np.linspace``), so that an answer that works there works here.
"""

import io
import math
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from numbers import Real

import numpy as np
from tqdm.std import tqdm as text_tqdm

from helpers.checks import CheckFailed, passed, require
from helpers.checks.evidence import RecordingPool, call_answer, describe
from helpers.workers import slow_computation_silent, slow_computation_silent_chunk, worker_pid

HELD_BACK = 0.6  # seconds the checker's pool holds one job back after computing it

# Exercise 4.1: the checker's inputs; its last job is held back.
MAP_INPUTS = (0.5, -1.0, 1.5, 0.0, 2.0, 1.0)

# Exercise 4.2: the checker's inputs and chunk size (chunks of 4, 4 and 2, which splitting into
# three near-equal parts, 4, 3 and 3, would not give); its first chunk is held back, so it
# finishes last although it was submitted first.
CHUNK_INPUTS = (0.0, 0.3, 0.6, 0.9, 1.2, 1.5, 1.8, 2.1, 2.4, 2.7)
CHUNK_SIZE = 4
WORKERS = 2


class RecordedBar(text_tqdm):
    """A tqdm text bar that writes into a string and notes each step: ``(amount, finished)``,
    where ``finished`` is the tuple of submission indices whose jobs had finished by then.

    It refreshes at every step (``mininterval=0, miniters=1``), so that looping over it calls
    :meth:`update` once per item, as a manual bar does once per call."""

    monitor_interval = 0  # no monitor thread

    def __init__(self, *args, pool, **kwargs):
        kwargs.pop("display", None)  # an argument of the notebook bar only
        kwargs.update(file=io.StringIO(), mininterval=0, miniters=1, delay=0, disable=False)
        self.pool, self.steps = pool, []
        super().__init__(*args, **kwargs)

    def update(self, n=1):
        self.steps.append((n, tuple(self.pool.finished)))
        return super().update(n)


class BarMaker:
    """What the checker passes as ``progress``: makes :class:`RecordedBar` bars and keeps them."""

    def __init__(self, pool):
        self.pool, self.bars = pool, []

    def __call__(self, *args, **kwargs):
        bar = RecordedBar(*args, pool=self.pool, **kwargs)
        self.bars.append(bar)
        return bar

    def __getattr__(self, name):  # what tqdm offers besides bars, such as tqdm.write
        return getattr(RecordedBar, name)


def _start_workers(pool, rounds=100):
    """Have the ``WORKERS`` workers of ``pool`` running before the answer does: a pool starts its
    workers as jobs arrive, and a worker that ``spawn`` starts late would change which job
    finishes last. The jobs go through the plain pool's ``submit``, so they are not recorded as
    the answer's."""
    answered = set()
    for _ in range(rounds):
        jobs = [ProcessPoolExecutor.submit(pool, worker_pid, 0.05) for _ in range(WORKERS)]
        answered.update(job.result() for job in jobs)
        if len(answered) >= WORKERS:
            return


def _run(answer, pool, *args, signature):
    """Call the answer with the checker's pool, arguments and bar maker; return (result, bars)."""
    progress = BarMaker(pool)
    with pool:
        _start_workers(pool)
        result = call_answer(answer, pool, *args, progress, expected_signature=signature,
                             not_here=[slow_computation_silent, slow_computation_silent_chunk])
    return result, progress.bars


def _held_back_if(pool, holds):
    """Hold back (``HELD_BACK`` seconds) each submission of ``pool`` of which ``holds(calls)``."""
    pool.delays = lambda index: HELD_BACK if holds(pool.submissions[index].calls) else 0
    return pool


def _as_list(result, what):
    """The answer's return value as a list, or a hint on the shape expected."""
    require(not isinstance(result, Iterator),
            f"Your function returned a {type(result).__name__}, which the caller still has to run through: "
            f"return {what} as a list.")
    require(isinstance(result, (list, tuple)), f"Your function should return {what} as a list; it returned "
                                               f"{describe(result)}.")
    return list(result)


def _require_values(results, expected, name):
    """``results`` must equal ``expected`` (what the workers returned), in the same order."""
    require(len(results) == len(expected),
            f"{name} holds {len(results)} results for {len(expected)} inputs: one result per input.")
    for value in results:
        require(isinstance(value, Real),
                f"{name} should hold the results themselves (numbers), not {type(value).__name__} objects.")
    if all(math.isclose(value, want) for value, want in zip(results, expected)):
        return
    same_values = sorted(results) == sorted(expected)
    require(not same_values, f"{name} holds the right values in the wrong order: put each result in the place "
                             "of its input.")
    raise CheckFailed(f"{name} differs from what the pool's workers returned: return the results that came "
                      "back from the pool, not values typed in or computed another way.")


def _one_bar(bars):
    """The answer must have made exactly one bar, with ``progress``."""
    require(bars, "No bar was made with `progress`: make the bar by calling `progress(...)` as you would "
                  "call tqdm(...); the check passes a bar maker of its own and reads what the bar did.")
    require(len(bars) == 1, f"{len(bars)} bars were made: one bar for the whole job.")
    return bars[0]


def _nothing_sent_hint(pool):
    """The hint for an answer whose work never reached the pool it was given."""
    require(pool.submissions, "Nothing reached the pool your function was given (`executor`): the results "
                              "must come from its workers, not from a loop in this process or a pool of your own.")


def _require_follows_results(bar, done_inputs, total_inputs, stood_still_hint):
    """The bar never ran ahead of the results, and it moved before the held-back job finished."""
    steps = [(amount, finished) for amount, finished in bar.steps if amount]
    require(bar.n == sum(amount for amount, _ in steps),
            f"The bar's count was set directly (it shows {bar.n}, but its update() moved it by "
            f"{sum(amount for amount, _ in steps)}): move a bar with update(), or by looping over it.")
    require(steps, f"The bar never moved: it counted 0 of {bar.total}.")
    counted = 0
    for amount, finished in steps:
        counted += amount
        require(counted <= done_inputs(finished),
                "The bar moved ahead of the results: it counted inputs as they were handed to the pool, "
                "not results as they came back.")
    require(done_inputs(steps[0][1]) < total_inputs, stood_still_hint)
    return steps


def check_map_bar(map_with_bar, mp_context=None):
    """Exercise 4.1: ``map_with_bar(executor, xs, progress)`` runs ``slow_computation_silent``
    through ``executor.map`` and returns the results, under one bar that knows its total and moves
    once per result as it comes back. ``mp_context`` (tests) picks the pool's start method."""
    xs = list(MAP_INPUTS)
    pool = _held_back_if(RecordingPool(WORKERS, mp_context=mp_context),
                         lambda calls: any(call.args and isinstance(call.args[0], Real) and call.args[0] == xs[-1]
                                           for call in calls))
    result, bars = _run(map_with_bar, pool, np.array(xs), signature="map_with_bar(executor, xs, progress)")
    results = _as_list(result, "the results")
    _nothing_sent_hint(pool)
    calls = pool.calls_of(slow_computation_silent)
    require(calls, "The pool never ran slow_computation_silent: map it over the inputs.")
    require(all(call.in_chunk for call in calls),
            "The jobs were submitted one by one: this exercise is about the generator that executor.map "
            "returns, so let map send the jobs.")
    require([call.args[0] for call in calls] == xs,
            f"The pool computed {len(calls)} input(s), not the {len(xs)} your function was given: map over `xs`.")
    _require_values(results, [call.result for call in calls], "The list your function returned")
    bar = _one_bar(bars)
    require(bar.total is not None,
            "The bar was not told how many results to expect, so it can count but cannot show a percentage: "
            "what map returns has no length.")
    require(bar.total == len(xs), f"The bar expects {bar.total:g} results, but there are {len(xs)} inputs.")

    def done(finished):  # inputs whose results had come back: one per finished chunk's input
        return sum(len(pool.submissions[i].calls) for i in finished)

    require(len(pool.submissions) > 1,
            f"map sent all {len(xs)} inputs as one chunk, so their results came back together and no bar "
            "could move before the last: keep the chunks small enough that results come back one by one.")
    steps = _require_follows_results(
        bar, done, len(xs),
        "The bar moved only after every result was in: it went over results collected beforehand, so it "
        "stood still while the jobs ran.")
    require(bar.n == len(xs), f"The bar counted {bar.n} of {len(xs)}: let it run to the last result.")
    require(all(amount == 1 for amount, _ in steps),
            f"The bar moved by {', '.join(str(a) for a, _ in steps)}: one step per result, as each comes back.")
    passed(f"executor.map ran {len(xs)} jobs in the pool's workers, and one bar with total={len(xs)} "
           "moved one step as each result came back, in input order.")


def check_chunk_bar(chunked_with_bar, mp_context=None):
    """Exercise 4.2: ``chunked_with_bar(executor, xs, size, progress)`` submits one
    ``slow_computation_silent_chunk`` job per chunk of ``size`` consecutive inputs and returns the
    results in input order, under one bar that counts inputs and moves by a chunk's size as soon
    as that chunk comes back. ``mp_context`` (tests) picks the pool's start method."""
    xs, size = list(CHUNK_INPUTS), CHUNK_SIZE
    chunks = [xs[i:i + size] for i in range(0, len(xs), size)]
    pool = RecordingPool(WORKERS, mp_context=mp_context, delays={0: HELD_BACK}.get)
    result, bars = _run(chunked_with_bar, pool, np.array(xs), size,
                        signature="chunked_with_bar(executor, xs, size, progress)")
    results = _as_list(result, "one flat list of results")
    _nothing_sent_hint(pool)
    calls = pool.calls_of(slow_computation_silent_chunk)
    singles = pool.calls_of(slow_computation_silent)
    require(calls or not singles, "The pool ran one job per input: send it chunks of `size` inputs, one "
                                  "slow_computation_silent_chunk job per chunk.")
    require(calls, "The pool never ran slow_computation_silent_chunk: submit one job per chunk.")
    try:
        sent = [[float(x) for x in (call.args[0] if call.args else call.kwargs["chunk"])] for call in calls]
    except (TypeError, ValueError, KeyError):
        raise CheckFailed("Each job should receive one chunk: a list of inputs.") from None
    require([len(chunk) for chunk in sent] == [len(chunk) for chunk in chunks],
            f"The jobs received chunks of {', '.join(str(len(c)) for c in sent)} inputs; with "
            f"{len(xs)} inputs and size={size}, cut consecutive chunks of `size` (the last one shorter).")
    require(sent == chunks, "The chunks are not consecutive pieces of `xs`: cut them in input order.")
    flat = [value for call in calls for value in (call.result or [])]
    require(not (results and isinstance(results[0], (list, tuple))),
            "Your function returned one list per chunk: flatten them into one list of results.")
    _require_values(results, flat, "The list your function returned")
    bar = _one_bar(bars)
    require(bar.total is not None, "The bar was not told its total, so it cannot show a percentage.")
    require(not (bar.total == len(chunks)),
            f"The bar expects {bar.total:g} steps, the number of chunks: it should count inputs, so that "
            "a reader sees how many of the inputs are done.")
    require(bar.total == len(xs), f"The bar expects {bar.total:g} steps, but there are {len(xs)} inputs.")
    sizes = {call.submission: len(chunk) for call, chunk in zip(calls, sent)}

    def done(finished):  # inputs of the chunks that had come back
        return sum(sizes.get(i, 0) for i in finished)

    steps = _require_follows_results(
        bar, done, len(xs),
        "The bar stood still while chunks were already done: it waited for the chunks in the order they "
        "were submitted (or for all of them). Let it move as each chunk comes back.")
    amounts = [amount for amount, _ in steps]
    require(not (amounts == [1] * len(chunks)),
            f"The bar moved one step per finished chunk and counted {bar.n} of {len(xs)}: a chunk finishes "
            "several inputs at once.")
    require(Counter(amounts) == Counter(len(chunk) for chunk in chunks),
            f"The bar moved by {', '.join(str(a) for a in amounts)} while chunks of "
            f"{', '.join(str(len(c)) for c in chunks)} inputs came back: move it by the size of each chunk "
            "that finished.")
    passed(f"one job per chunk ran in the pool's workers, and one bar with total={len(xs)} moved by each "
           f"chunk's size ({', '.join(str(len(c)) for c in chunks)}) as that chunk came back; the results "
           "are in input order.")
