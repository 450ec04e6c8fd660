"""Checkers for lesson 08's exercises, each watching how the answer ran, not only what it returned.

* 8.1, a word count on threads: the checker counts chunks of its own whose words hand the
  interpreter to another counting thread in the middle of every update of a dict
  (:class:`~helpers.concurrency_types.Turnstile`), and it hands the interpreter over, too, just
  before every write and every call in the answer's own code (a lookup, then ``+=`` on a list or
  an attribute, is a read-modify-write as well). So an unprotected read-modify-write loses updates
  on every Python, GIL or not; the checker also sees which threads did the counting and whether
  they overlapped.
* 8.2, an asyncio client with at most ten requests in flight: the checker's server holds every
  request until the checker answers it, one at a time and newest first, and notes at each answer
  how many requests were out and how many pages had not been asked for yet. Its records stay
  with the checker, out of the answer's reach.
* 8.3, a pool that runs pure-Python jobs in parallel on whatever Python runs it: the checker runs
  probes on the pool that report the process, the interpreter and the thread they ran in, whether
  the GIL was on there, and which other worker they saw running at the same time. On Python 3.13
  and newer it also has the answer choose a pool on a Python that reports itself free-threaded,
  with the GIL off and with the GIL switched back on.
"""

import asyncio
import dis
import inspect
import numbers
import os
import random
import sys
import sysconfig
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager

import psutil

import helpers
from helpers import free_threading as ft
from helpers.checks import CheckFailed, passed, require
from helpers.checks.evidence import call_answer, describe
from helpers.concurrency_types import Turnstile, handing_over, word_chunks

# --- Exercise 8.1 ---------------------------------------------------------------------------------

WORD_CHUNKS, WORDS_PER_CHUNK, WORD_SEED = 4, 40, 81  # the checker's own text, not the notebook's
WORD_RUNS = 2


def _folder(path):
    return os.path.normcase(os.path.realpath(path)) + os.sep


_LIBRARY_DIRS = tuple({_folder(sysconfig.get_paths()[kind]) for kind in ("stdlib", "platstdlib", "purelib", "platlib")}
                      | {_folder(os.path.dirname(helpers.__file__))})


def _answers_file(filename):
    """Whether code from ``filename`` is the answer's own (a notebook cell, a script, a test),
    not Python's, an installed library's or the course's."""
    return not filename.startswith("<frozen") and not _folder(filename).startswith(_LIBRARY_DIRS)


def _writes_or_calls(code):
    """The offsets of ``code``'s instructions that write somewhere other than a local variable,
    or call something: where a thread switch falls between the read and the write of an update."""
    return {ins.offset for ins in dis.get_instructions(code)
            if ins.opname.startswith(("STORE_", "DELETE_", "CALL"))
            and not ins.opname.startswith(("STORE_FAST", "DELETE_FAST"))}


@contextmanager
def _handing_over_at_writes(turnstile):
    """Inside the block, the answer's own code hands the interpreter to another counting thread
    (``turnstile.hand_over()``) just before each of its writes and calls, in every thread but the
    main one. Python 3.12+ watches the instructions with ``sys.monitoring``; 3.11 with a trace
    function on the threads started inside the block."""
    offsets, ours = {}, {}

    def handing_over_at(code):
        if code not in offsets:
            offsets[code] = _writes_or_calls(code) if ours.setdefault(code.co_filename, _answers_file(code.co_filename)) \
                else set()
        return offsets[code]

    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:  # Python 3.11
        def step(frame, event, arg):
            if event == "opcode" and frame.f_lasti in handing_over_at(frame.f_code):
                turnstile.hand_over()
            return step

        def on_call(frame, event, arg):
            if not handing_over_at(frame.f_code):
                return None
            frame.f_trace = step  # before f_trace_opcodes, or no opcode event comes
            frame.f_trace_opcodes = True
            return step

        before = threading.gettrace()
        threading.settrace(on_call)
        try:
            yield
        finally:
            threading.settrace(before)
        return
    tool = next((t for t in (3, 4) if monitoring.get_tool(t) is None), None)
    if tool is None:  # both free tool ids taken (a debugger, a profiler): the dict hand-overs remain
        yield
        return
    events, watched = monitoring.events, []

    def on_start(code, _offset):
        if handing_over_at(code):
            watched.append(code)
            monitoring.set_local_events(tool, code, events.INSTRUCTION)
        return monitoring.DISABLE

    def on_instruction(code, offset):
        if offset not in handing_over_at(code):
            return monitoring.DISABLE
        turnstile.hand_over()
        return None

    monitoring.use_tool_id(tool, "lesson 08 checker")
    try:
        monitoring.register_callback(tool, events.PY_START, on_start)
        monitoring.register_callback(tool, events.INSTRUCTION, on_instruction)
        monitoring.set_events(tool, events.PY_START)
        yield
    finally:
        monitoring.set_events(tool, events.NO_EVENTS)
        for code in watched:
            monitoring.set_local_events(tool, code, events.NO_EVENTS)
        monitoring.register_callback(tool, events.PY_START, None)
        monitoring.register_callback(tool, events.INSTRUCTION, None)
        monitoring.free_tool_id(tool)


def _count_once(count_words, plain):
    """Run the answer once on hand-over copies of ``plain``; return its result and the turnstile."""
    turnstile = Turnstile(len(plain))
    with _handing_over_at_writes(turnstile):
        result = call_answer(count_words, handing_over(plain, turnstile), expected_signature="count_words(chunks)")
    return result, turnstile


def _as_counts(result):
    """The answer's counts as a dict from plain strings to counts, or a hint on its shape."""
    shape_hint = (f"count_words returned a {describe(result)}: return a dict (or Counter) from each "
                  "word to its count")
    require(hasattr(result, "items"), shape_hint)
    try:
        return {str(word): count for word, count in result.items()}
    except Exception:  # noqa: BLE001 - something with an items attribute that is no mapping
        raise CheckFailed(shape_hint) from None


def check_word_count(count_words):
    """Exercise 8.1: ``count_words(chunks)`` counts every word on threads that run at the same
    time, and loses no update even when a thread switch falls inside every update."""
    plain = word_chunks(WORD_CHUNKS, WORDS_PER_CHUNK, seed=WORD_SEED)
    expected = Counter(word for chunk in plain for word in chunk)
    total = sum(expected.values())
    for run in range(1, WORD_RUNS + 1):
        result, turnstile = _count_once(count_words, plain)
        counts = _as_counts(result)
        require(all(isinstance(c, numbers.Integral) for c in counts.values()), "every count should be a whole number")
        require(counts == dict(expected) or not turnstile.still_running(),
                "your function returned while threads it started were still counting: wait for every "
                "thread to finish before returning the counts")
        require(set(counts) == set(expected), "the words counted are not the words of the chunks: "
                                              "count each word of every chunk it is given")
        require(sum(turnstile.hashes.values()) > 0 or counts != dict(expected),
                "the counts are right, but none of the words passed to your function was counted: count "
                "the very words of the chunks it is given (not copies made with str() or .lower(), not "
                "counts typed in), so that the checker can watch every update")
        require(sum(turnstile.hashes.values()) > 0, "your function counted none of the words it was given "
                                                    "(are the counts typed in, or taken from another text?): "
                                                    "count the chunks passed to it")
        require(turnstile.main_thread_hashes() < total and turnstile.counting_threads() > 0,
                "the words were counted in the main thread, not on the threads: each thread should "
                "count the words of its own chunk")
        require(sum(turnstile.hashes.values()) - turnstile.main_thread_hashes() >= total,
                "some words were never counted on a thread: every word of every chunk should be "
                "counted by the thread that has its chunk")
        require(turnstile.counting_threads() > 1, "one thread counted everything: start one thread per chunk")
        require(turnstile.most_at_once > 1,
                "the threads ran one after another (each finished before the next started), so nothing "
                "could go wrong, and nothing ran at the same time: start them all, then wait for them all")
        counted = sum(counts.values())
        require(counted <= total, f"{counted} words counted but the chunks hold {total}: is a chunk counted twice?")
        require(counted == total, f"run {run}: {total - counted} of {total} updates lost; some "
                                  "read-modify-write of the shared counts is not protected")
        require(counts == dict(expected), "the right number of words but wrong counts per word")
    passed(f"{total} words counted on threads running at the same time, none lost, although the checker "
           "offered the interpreter to another thread in the middle of every update of a count")


# --- Exercise 8.2 ---------------------------------------------------------------------------------

POLITE_LIMIT = 10
PAGE_COUNT, PAGE_SEED = 60, 82
SETTLE_STEPS = 5  # event-loop passes with nothing new before the client counts as waiting
STALL_SECONDS = 3.0  # how long the client may wait on something other than the server


class ServerLedger:
    """The checker's side of the server of exercise 8.2, which answers only when the checker says so.

    ``await ledger.serve(i)`` answers ``"page i"`` once the checker releases that request. It
    records every request (``requested``), the most in flight at once (``peak``), and, at each
    release, how many requests were in flight and how many pages had not been asked for yet
    (``snapshots``). The answer never sees this object, only :func:`controlled_server`'s."""

    def __init__(self, n_pages):
        self.n_pages = n_pages
        self.requested, self.snapshots = [], []
        self.in_flight = self.peak = 0
        self._held = {}  # arrival number -> future the request waits on

    async def serve(self, i):
        number = len(self.requested)
        self.requested.append(i)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        answer = asyncio.get_running_loop().create_future()
        self._held[number] = answer
        try:
            await answer
        finally:
            self.in_flight -= 1
            self._held.pop(number, None)
        return f"page {i}"

    def state(self):
        return len(self.requested), self.in_flight

    def release_newest(self):
        """Answer the request that came last (answers then arrive in another order than asked)."""
        newest = max(self._held)
        self.snapshots.append((self.in_flight, max(0, self.n_pages - len(set(self.requested)))))
        self._held[newest].set_result(None)

    @property
    def holding(self):
        return bool(self._held)


def controlled_server(ledger):
    """The server the answer is given: ``await server.request(i)``, and ``in_flight`` and ``peak``
    to read, as on ``ct.FakeServer``. It can be neither written to nor given new attributes, so
    the records the checker reads (kept by ``ledger``) stay out of the answer's reach."""

    class ControlledServer:
        __slots__ = ()
        in_flight = property(lambda self: ledger.in_flight, doc="requests out now")
        peak = property(lambda self: ledger.peak, doc="the most requests out at once so far")

        async def request(self, i):
            return await ledger.serve(i)

    return ControlledServer()


async def _settle(ledger, client):
    """Let the event loop run until nothing changes any more (the client has done all it can)."""
    quiet, last = 0, None
    while quiet < SETTLE_STEPS and not client.done():
        await asyncio.sleep(0)
        now = ledger.state()
        quiet = quiet + 1 if now == last else 0
        last = now


async def _drive(ledger, client):
    """Release the server's requests one at a time until the client is done."""
    stalled = 0.0
    while not client.done():
        await _settle(ledger, client)
        if client.done():
            break
        if ledger.holding:
            stalled = 0.0
            ledger.release_newest()
            continue
        if stalled > STALL_SECONDS:
            client.cancel()
            raise CheckFailed(f"your function waited {STALL_SECONDS:.0f} s for something other than the "
                              "server: await the requests themselves, not a timer or a lock that nobody frees")
        await asyncio.sleep(0.01)
        stalled += 0.01


async def check_polite_fetch(fetch_politely):
    """Exercise 8.2 (await it): ``await fetch_politely(server, numbers)`` returns the pages of
    ``numbers`` in that order, never with more than ten requests in flight, and with ten in flight
    as long as pages are still waiting to be asked for."""
    numbers = random.Random(PAGE_SEED).sample(range(1000), PAGE_COUNT)
    ledger = ServerLedger(len(numbers))
    started = call_answer(fetch_politely, controlled_server(ledger), list(numbers),
                          expected_signature="fetch_politely(server, numbers)")
    require(inspect.isawaitable(started), "fetch_politely should be an async function (async def ...): "
                                          f"calling it gave a {describe(started)}, not something to await")
    client = asyncio.ensure_future(started)
    try:
        await _drive(ledger, client)
        pages = client.result()
    except CheckFailed:
        raise
    except Exception as error:  # noqa: BLE001 - the answer's failure becomes a hint
        raise CheckFailed(f"your function raised {type(error).__name__}: {error}") from None
    require(isinstance(pages, list), f"fetch_politely returned a {describe(pages)}: return a list of the pages")
    require(ledger.requested, "the server was never asked: the pages must come from await server.request(i)")
    asked = Counter(ledger.requested)
    require(set(asked) == set(numbers), "some pages were never requested, or pages that were not asked for were")
    require(max(asked.values()) == 1, "a page was requested more than once: request each page once")
    require(ledger.peak > 1, "one request at a time: start them together and let a limit hold some back")
    require(ledger.peak <= POLITE_LIMIT, f"{ledger.peak} requests were in flight at once; the limit is {POLITE_LIMIT}")
    short = [(out, waiting) for out, waiting in ledger.snapshots if waiting and out < POLITE_LIMIT]
    require(not short, f"at one moment only {short[0][0] if short else 0} requests were in flight while "
                       f"{short[0][1] if short else 0} pages had not been asked for yet: as soon as an answer "
                       f"arrives, the next request may go out, so that {POLITE_LIMIT} stay in flight")
    expected = [f"page {i}" for i in numbers]
    require(len(pages) == len(expected), f"{len(pages)} pages returned for {len(expected)} asked for")
    require(pages == expected or sorted(map(str, pages)) != sorted(expected),
            "the pages are not in the order asked for: keep them in the order of numbers, not the order they arrived")
    require(pages == expected, "wrong pages: return what server.request(i) answered, for each i of numbers")
    passed(f"{len(expected)} pages in the order asked, never more than {POLITE_LIMIT} requests in flight, "
           f"and {POLITE_LIMIT} whenever pages were still waiting")


# --- Exercise 8.3 ---------------------------------------------------------------------------------

POOL_WORKERS = 2
PROBES = 4  # probes submitted at once
MEET_SECONDS = 10.0  # how long a probe waits for one on another worker (spawned workers start slowly)
CHECK_JOBS = [20_000, 30_000, 40_000, 50_000]


def _process_family():
    """The ids of this process and of every process it started (pool workers, a fork server's)."""
    return {os.getpid()} | {child.pid for child in psutil.Process().children(recursive=True)}


def _probe_reports(pool, here):
    """Run the probes and some CPU-bound jobs on ``pool``; return where the probes ran (and whom
    they met), the processes of this family while the pool was up, and whether the jobs' results
    were right."""
    with tempfile.TemporaryDirectory(prefix="lesson08-") as directory:
        deadline = time.time() + MEET_SECONDS
        probes = [pool.submit(ft.meet, directory, deadline, here[:3]) for _ in range(PROBES)]
        require(all(isinstance(f, Future) for f in probes), "the pool's submit did not return futures: "
                                                            "return an executor from concurrent.futures")
        reports = [f.result() for f in probes]
    family = _process_family()
    right = list(pool.map(ft.cpu_work, CHECK_JOBS)) == [ft.cpu_work(n) for n in CHECK_JOBS]
    return reports, family, right


def _own_lock_or_none(report, here):
    """Whether a probe's report shows a worker that runs Python alongside others: in another
    process, in another interpreter, or on a thread with the GIL off."""
    pid, interpreter, _thread, gil_on = report[:4]
    return pid != here[0] or interpreter != here[1] or not gil_on


def _runs_on_threads_here(pool):
    """Whether ``pool``'s workers are threads of this interpreter (an interpreter pool's are not)."""
    interpreters = ft.interpreter_pool_class()
    return isinstance(pool, ThreadPoolExecutor) and not (interpreters and isinstance(pool, interpreters))


@contextmanager
def _free_threaded_python(gil_on):
    """Inside the block this Python reports itself as a free-threaded build whose GIL is on or
    off (``sys._is_gil_enabled()``, ``sysconfig``'s ``Py_GIL_DISABLED``, ``sys.version``)."""
    config = sysconfig.get_config_vars()
    saved = sys._is_gil_enabled, config.get("Py_GIL_DISABLED"), sys.version
    sys._is_gil_enabled = lambda: gil_on
    config["Py_GIL_DISABLED"] = 1
    if "free-threading build" not in sys.version:
        sys.version = sys.version.replace(" (", " free-threading build (", 1)
    try:
        yield
    finally:
        sys._is_gil_enabled, config["Py_GIL_DISABLED"], sys.version = saved


def _check_choice_on_free_threaded_python(parallel_pool):
    """Python 3.13+: the answer's choice on a free-threaded Python with its GIL off (threads) and
    with its GIL switched back on (not threads of this interpreter). Nothing is run on the pools."""
    for gil_on in (False, True):
        with _free_threaded_python(gil_on):
            chosen = call_answer(parallel_pool, POOL_WORKERS, expected_signature="parallel_pool(max_workers)")
        if isinstance(chosen, Executor):
            chosen.shutdown(wait=True)
        on_threads = _runs_on_threads_here(chosen)
        require(gil_on or on_threads,
                f"the checker had this Python report itself as free-threaded, with the GIL off, and your "
                f"function chose {describe(chosen)}: there threads run Python at the same time, with "
                "no copies and no pickling, so they are the pool to choose")
        require(not (gil_on and on_threads),
                "the checker had this Python report itself as a free-threaded build whose GIL was switched "
                "back on, and your function chose a thread pool, whose threads then take turns: how "
                "Python was built does not say whether its GIL is on now")


def check_parallel_pool(parallel_pool):
    """Exercise 8.3: ``parallel_pool(max_workers)`` returns an executor whose workers run
    pure-Python jobs at the same time on the Python that calls it: threads when the GIL is off,
    else workers with an interpreter lock of their own."""
    pool = call_answer(parallel_pool, POOL_WORKERS, expected_signature="parallel_pool(max_workers)")
    require(not isinstance(pool, type), f"parallel_pool returned the class {getattr(pool, '__name__', pool)}: "
                                        "return an executor made from it, with max_workers workers")
    require(isinstance(pool, Executor), f"parallel_pool returned a {describe(pool)}: return an executor "
                                        "(a pool from concurrent.futures), not yet used")
    declared = getattr(pool, "_max_workers", None)  # what the standard pools were given
    if isinstance(declared, int) and declared < POOL_WORKERS:
        pool.shutdown()
        raise CheckFailed(f"your pool has {declared} worker{'s' if declared != 1 else ''} for "
                          f"max_workers={POOL_WORKERS}: give it max_workers workers")
    here = (os.getpid(), ft.interpreter_id(), threading.get_ident(), ft.gil_enabled())
    try:
        with pool:
            reports, family, right = _probe_reports(pool, here)
    except CheckFailed:
        raise
    except Exception as error:  # noqa: BLE001 - a broken pool becomes a hint
        raise CheckFailed(f"running jobs on your pool raised {type(error).__name__}: {error}") from None
    require(right, "the pool's results are wrong: return a real executor from concurrent.futures")
    workers = {(pid, interpreter, thread) for pid, interpreter, thread, *_ in reports}
    require(here[:3] not in workers, "the jobs ran in the thread that submitted them: that is a loop, not a pool")
    require(all(pid in family for pid, *_ in reports),
            "the jobs report processes that are neither this one nor started by it: return a real "
            "executor from concurrent.futures")
    if not ft.gil_enabled():
        require(all(pid == here[0] and interpreter == here[1] for pid, interpreter, *_ in reports),
                "this Python runs threads without the GIL, and the jobs ran in other processes or "
                "interpreters: they run in parallel there, but with copies and pickling that threads "
                "of this process would not need")
    require(all(_own_lock_or_none(report, here) for report in reports),
            "the jobs ran on threads of this interpreter, and its GIL is on: they take turns running "
            "Python code instead of running at the same time. Ask the running Python, not its version, "
            "whether its GIL is on")
    partners = {report[4] for report in reports if report[4]}
    require(len(workers) + len(partners) >= POOL_WORKERS,
            f"only 1 worker ran the {PROBES} jobs: give the pool max_workers workers")
    require(partners, f"no two of the {PROBES} jobs ran at the same time, although the checker submitted them "
                      "all at once: return a pool whose workers take jobs side by side")
    if hasattr(sys, "_is_gil_enabled"):
        _check_choice_on_free_threaded_python(parallel_pool)
    passed(f"the jobs ran at the same time on {POOL_WORKERS} workers, each with an interpreter lock of its "
           "own or none, and their results were right")
