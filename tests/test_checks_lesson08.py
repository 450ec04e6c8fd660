"""Lesson 08's checkers: the worked solutions pass; serial, hard-coded, fabricated, empty and
wrongly shaped answers, and each exercise's pitfall, fail with their hint.

8.1 catches the unprotected ``+=`` on a dict, a defaultdict and a Counter (and Counter.update),
and a lookup followed by an unprotected ``+=`` on a list or an attribute, on every Python, GIL or
not; 8.2 tells a semaphore from batches, and keeps its records out of the answer's reach; 8.3
tells threads under the GIL from workers with a GIL of their own, jobs that ran side by side from
jobs that ran one at a time, under fork and spawn, and (3.13+) a choice made by asking the running
Python from one made in advance.
"""
import asyncio
import multiprocessing
import queue
import sys
import sysconfig
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from helpers import concurrency_types as ct
from helpers import free_threading as ft
from helpers.checks import CheckFailed
from helpers.checks import lesson08
from helpers.checks.lesson08 import check_parallel_pool, check_polite_fetch, check_word_count

# --- 8.1 ----------------------------------------------------------------------------------------


def one_thread_each(work, chunks):
    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def locked_count(chunks):  # the worked solution
    counts, lock = {}, threading.Lock()

    def count(chunk):
        for word in chunk:
            with lock:
                counts[word] = counts.get(word, 0) + 1

    one_thread_each(count, chunks)
    return counts


def own_counts_then_merge(chunks):
    parts = []

    def count(chunk):
        parts.append(Counter(chunk))  # list.append is one operation

    one_thread_each(count, chunks)
    return sum(parts, Counter())


def owner_thread_count(chunks):
    counts, words = Counter(), queue.Queue()

    def owner():
        while (word := words.get()) is not None:
            counts[word] += 1

    keeper = threading.Thread(target=owner)
    keeper.start()
    one_thread_each(lambda chunk: [words.put(word) for word in chunk], chunks)
    words.put(None)
    keeper.join()
    return counts


def whole_chunk_under_a_lock(chunks):
    counts, lock = Counter(), threading.Lock()

    def count(chunk):
        with lock:
            counts.update(chunk)

    one_thread_each(count, chunks)
    return counts


def slow_to_start(chunks):  # the worked solution on a busy machine: threads start 0.2 s apart
    counts, lock = {}, threading.Lock()

    def count(chunk):
        for word in chunk:
            with lock:
                counts[word] = counts.get(word, 0) + 1

    threads = [threading.Thread(target=count, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
        time.sleep(0.2)
    for thread in threads:
        thread.join()
    return counts


def pool_of_threads(chunks):
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        return sum(pool.map(Counter, chunks), Counter())


def unprotected(make_counts, spelling):
    """A racy answer: one shared ``make_counts()``, updated with ``spelling`` and no lock."""
    def answer(chunks):
        counts = make_counts()

        def count(chunk):
            for word in chunk:
                if spelling == "get":
                    counts[word] = counts.get(word, 0) + 1
                else:
                    counts[word] += 1

        if spelling == "update":
            one_thread_each(counts.update, chunks)
        else:
            one_thread_each(count, chunks)
        return counts
    return answer


def lookup_then_list_add(chunks):  # racy: the dict lookup hands over, the list's += does not
    index = {word: place for place, word in enumerate(ct.VOCABULARY)}
    totals = [0] * len(ct.VOCABULARY)

    def count(chunk):
        for word in chunk:
            totals[index[word]] += 1

    one_thread_each(count, chunks)
    return {word: totals[place] for word, place in index.items() if totals[place]}


class Cell:
    def __init__(self):
        self.n = 0


def lookup_then_attribute_add(chunks):  # racy: += on an attribute of a looked-up cell
    cells = defaultdict(Cell)

    def count(chunk):
        for word in chunk:
            cells[word].n += 1

    one_thread_each(count, chunks)
    return {word: cell.n for word, cell in cells.items()}


def lookup_then_setitem_call(chunks):  # racy: the write is a call
    index = {word: place for place, word in enumerate(ct.VOCABULARY)}
    totals = [0] * len(ct.VOCABULARY)

    def count(chunk):
        for word in chunk:
            place = index[word]
            totals.__setitem__(place, totals[place] + 1)

    one_thread_each(count, chunks)
    return {word: totals[place] for word, place in index.items() if totals[place]}


def lowered_copies(chunks):  # right, but counts copies of the words the checker cannot watch
    counts, lock = Counter(), threading.Lock()

    def count(chunk):
        for word in chunk:
            with lock:
                counts[word.lower()] += 1

    one_thread_each(count, chunks)
    return counts


def the_checkers_counts_typed_in(chunks):
    plain = lesson08.word_chunks(lesson08.WORD_CHUNKS, lesson08.WORDS_PER_CHUNK, seed=lesson08.WORD_SEED)
    return {word: count for word, count in Counter(str(w) for chunk in plain for w in chunk).items()}


def not_waiting_for_its_threads(chunks):
    counts, lock = Counter(), threading.Lock()

    def count(chunk):
        for word in chunk:
            with lock:
                counts[word] += 1

    for chunk in chunks:
        threading.Thread(target=count, args=(chunk,)).start()
    return counts


def numpy_counts(chunks):  # right: whole numbers of NumPy's are whole numbers too
    import numpy as np
    return {word: np.int64(n) for word, n in own_counts_then_merge(chunks).items()}


def serial_count(chunks):
    return Counter(word for chunk in chunks for word in chunk)


def counted_in_main_thread(chunks):  # fabricated: threads start, but the main thread counts
    one_thread_each(lambda chunk: len(chunk), chunks)
    return Counter(word for chunk in chunks for word in chunk)


def hard_coded(chunks):  # the notebook's own text, counted once and typed in
    return dict(Counter(word for chunk in ct.word_chunks() for word in chunk))


def one_after_another(chunks):
    counts = Counter()
    for chunk in chunks:
        thread = threading.Thread(target=counts.update, args=(chunk,))
        thread.start()
        thread.join()
    return counts


def one_thread_for_all(chunks):
    counts = Counter()
    thread = threading.Thread(target=lambda: [counts.update(chunk) for chunk in chunks])
    thread.start()
    thread.join()
    return counts


@pytest.mark.parametrize("answer", [locked_count, own_counts_then_merge, owner_thread_count,
                                    whole_chunk_under_a_lock, pool_of_threads, slow_to_start, numpy_counts])
def test_right_word_counts_pass(answer, capsys):
    check_word_count(answer)
    assert capsys.readouterr().out.startswith("Correct: 160 words counted on threads")


@pytest.mark.parametrize("answer", [
    unprotected(dict, "get"),
    unprotected(lambda: dict.fromkeys(ct.VOCABULARY, 0), "+="),
    unprotected(lambda: defaultdict(int), "+="),
    unprotected(Counter, "+="),
    unprotected(Counter, "update"),
    lookup_then_list_add,
    lookup_then_attribute_add,
    lookup_then_setitem_call,
], ids=["dict-get", "dict-+=", "defaultdict-+=", "Counter-+=", "Counter.update", "list-+=", "attribute-+=",
        "list-__setitem__"])
def test_every_unprotected_update_loses_counts_on_every_python(answer):
    with pytest.raises(CheckFailed, match="updates lost; some read-modify-write"):
        check_word_count(answer)


def test_the_race_that_hides_under_the_gil_is_caught_too():
    """Plain words, four threads, the GIL switching every microsecond: ``+=`` loses nothing on a
    GIL build, which is why the checker hands over mid-update instead of hoping for a switch."""
    answer = unprotected(lambda: defaultdict(int), "+=")
    text = ct.word_chunks()
    with ct.switching_often():
        counts = answer(text)
    if ft.gil_enabled():
        assert sum(counts.values()) == sum(len(chunk) for chunk in text)
    with pytest.raises(CheckFailed, match="updates lost"):
        check_word_count(answer)


@pytest.mark.parametrize("answer, hint", [
    (serial_count, "counted in the main thread"),
    (counted_in_main_thread, "counted in the main thread"),
    (hard_coded, "not the words of the chunks|counted none of the words"),
    (one_after_another, "one after another"),
    (one_thread_for_all, "one thread counted everything"),
    (lambda chunks: {}, "not the words of the chunks"),
    (lowered_copies, "not copies made with str\\(\\) or .lower\\(\\)"),
    (the_checkers_counts_typed_in, "the counts are right, but none of the words"),
    (not_waiting_for_its_threads, "returned while threads it started were still counting"),
    (lambda chunks: [len(chunk) for chunk in chunks], "return a dict"),
    (lambda chunks: type("Odd", (), {"items": 3})(), "return a dict"),
    (lambda chunks: {word: 1.0 for chunk in chunks for word in chunk}, "whole number"),
    (lambda chunks: locked_count(chunks + chunks[:1]), "counted twice"),
    (lambda chunks: locked_count(chunks[1:]), "updates lost"),
    (lambda: {}, "count_words\\(chunks\\)"),
    (lambda chunks: 1 / 0, "ZeroDivisionError"),
    ("count_words", "without parentheses"),
])
def test_wrong_word_counts_get_their_hint(answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_word_count(answer)


def test_the_race_through_a_list_hides_under_the_gil_without_the_checkers_hand_overs():
    """Why the checker hands over before the answer's writes too: the dict lookup alone lets no
    other thread in between the list's read and write."""
    text = ct.handing_over(ct.word_chunks(words_per_chunk=40))
    counts = lookup_then_list_add(text)
    if ft.gil_enabled():
        assert sum(counts.values()) == 4 * 40


def test_the_same_racy_answer_is_caught_every_time_it_is_checked():
    for _ in range(3):
        with pytest.raises(CheckFailed, match="updates lost"):
            check_word_count(lookup_then_list_add)


def test_the_checker_leaves_no_tracing_behind():
    monitoring = getattr(sys, "monitoring", None)
    tools = [monitoring.get_tool(t) for t in range(6)] if monitoring else None
    before = threading.gettrace()
    check_word_count(locked_count)
    assert threading.gettrace() is before
    if monitoring:
        assert [monitoring.get_tool(t) for t in range(6)] == tools


def test_the_checker_counts_a_text_of_its_own():
    assert lesson08.word_chunks(lesson08.WORD_CHUNKS, lesson08.WORDS_PER_CHUNK, seed=lesson08.WORD_SEED) != \
        ct.word_chunks()[:lesson08.WORD_CHUNKS]


# --- 8.2 ----------------------------------------------------------------------------------------


async def with_semaphore(server, numbers, limit=10):  # the worked solution, with its limit free
    slots = asyncio.Semaphore(limit)

    async def one(i):
        async with slots:
            return await server.request(i)

    return await asyncio.gather(*(one(i) for i in numbers))


async def ten_workers(server, numbers):  # another right answer: ten workers and a queue
    pages, todo = [None] * len(numbers), asyncio.Queue()
    for place, i in enumerate(numbers):
        todo.put_nowait((place, i))

    async def worker():
        while not todo.empty():
            place, i = todo.get_nowait()
            pages[place] = await server.request(i)

    await asyncio.gather(*(worker() for _ in range(10)))
    return pages


async def in_batches(server, numbers):
    pages = []
    for start in range(0, len(numbers), 10):
        pages += await asyncio.gather(*(server.request(i) for i in numbers[start:start + 10]))
    return pages


async def one_at_a_time(server, numbers):
    return [await server.request(i) for i in numbers]


async def all_at_once(server, numbers):
    return list(await asyncio.gather(*(server.request(i) for i in numbers)))


async def in_arrival_order(server, numbers):
    slots = asyncio.Semaphore(10)

    async def one(i):
        async with slots:
            return await server.request(i)

    return [await page for page in asyncio.as_completed([one(i) for i in numbers])]


async def typed_in(server, numbers):
    return [f"page {i}" for i in numbers]


async def twice(server, numbers):
    pages = await with_semaphore(server, numbers)
    await server.request(numbers[0])
    return pages


async def as_a_tuple(server, numbers):
    return tuple(await with_semaphore(server, numbers))


async def stuck(server, numbers):
    await asyncio.Event().wait()


async def failing(server, numbers):
    raise ValueError("no network")


async def all_at_once_then_fake_the_records(server, numbers):
    pages = list(await asyncio.gather(*(server.request(i) for i in numbers)))
    server.peak = 10
    return pages


async def with_records_of_its_own(server, numbers):
    server.snapshots = []
    return await with_semaphore(server, numbers)


def not_async(server, numbers):
    return [f"page {i}" for i in numbers]


@pytest.mark.parametrize("answer", [with_semaphore, ten_workers])
def test_right_fetches_pass(answer, capsys):
    asyncio.run(check_polite_fetch(answer))
    assert capsys.readouterr().out.startswith("Correct: 60 pages in the order asked, never more than 10")


@pytest.mark.parametrize("answer, hint", [
    (one_at_a_time, "one request at a time"),
    (all_at_once, "60 requests were in flight"),
    (in_batches, "only 9 requests were in flight while 50 pages had not been asked for yet"),
    (lambda server, numbers: with_semaphore(server, numbers, limit=5), "only 5 requests were in flight"),
    (lambda server, numbers: with_semaphore(server, numbers, limit=11), "11 requests were in flight"),
    (in_arrival_order, "not in the order asked for"),
    (typed_in, "the server was never asked"),
    (twice, "requested more than once"),
    (lambda server, numbers: with_semaphore(server, numbers[1:]), "never requested"),
    (as_a_tuple, "return a list"),
    (all_at_once_then_fake_the_records, "AttributeError"),
    (with_records_of_its_own, "AttributeError"),
    (failing, "ValueError: no network"),
    (not_async, "should be an async function"),
    (lambda server: None, "fetch_politely\\(server, numbers\\)"),
])
def test_wrong_fetches_get_their_hint(answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        asyncio.run(check_polite_fetch(answer))


def test_a_client_that_waits_on_something_else_is_told_so(monkeypatch):
    monkeypatch.setattr(lesson08, "STALL_SECONDS", 0.05)
    with pytest.raises(CheckFailed, match="for something other than the server"):
        asyncio.run(check_polite_fetch(stuck))


def test_the_answer_can_read_what_is_in_flight_but_not_the_checkers_records():
    ledger = lesson08.ServerLedger(3)
    server = lesson08.controlled_server(ledger)
    assert (server.in_flight, server.peak) == (0, 0)
    assert not any(hasattr(server, name) for name in ("requested", "snapshots", "serve", "release_newest"))
    with pytest.raises(AttributeError):
        server.in_flight = 0


def test_the_fake_server_of_the_notebook_counts_what_was_in_flight():
    server = ct.FakeServer(delay=0.001)
    pages = asyncio.run(with_semaphore(server, range(30)))
    assert pages == [f"page {i}" for i in range(30)] and (server.peak, server.served) == (10, 30)


# --- 8.3 ----------------------------------------------------------------------------------------

METHODS = ["fork", "spawn"]


@pytest.fixture(params=METHODS)
def context(request):
    return multiprocessing.get_context(request.param)


def worked_pool(context):
    """The worked solution, with the test's start method."""
    def parallel_pool(max_workers):
        if getattr(sys, "_is_gil_enabled", lambda: True)():
            return ProcessPoolExecutor(max_workers=max_workers, mp_context=context)
        return ThreadPoolExecutor(max_workers=max_workers)
    return parallel_pool


class InlineExecutor(Executor):
    """Runs every job at once in the caller's thread: a loop dressed as a pool."""

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


class OneJobAtATime(Executor):
    """Two worker processes, but every job is waited for before the next is sent."""

    def __init__(self, context):
        self.inner = ProcessPoolExecutor(max_workers=2, mp_context=context)

    def submit(self, fn, /, *args, **kwargs):
        future = self.inner.submit(fn, *args, **kwargs)
        future.result()
        return future

    def shutdown(self, wait=True, **kwargs):
        self.inner.shutdown(wait)


class MadeUpWorkers(ThreadPoolExecutor):
    """Answers the checker's probes with processes that do not exist."""

    def submit(self, fn, /, *args, **kwargs):
        if fn is not ft.meet:
            return super().submit(fn, *args, **kwargs)
        future, fake = Future(), 2 ** 22 + len(args)
        future.set_result((fake, 0, 1, True, f"{fake + 1}-0-1"))
        return future


class WrongResults(ThreadPoolExecutor):
    def map(self, fn, *iterables, **kwargs):
        return [0 for _ in iterables[0]]


def test_the_worked_pool_passes(context, capsys):
    check_parallel_pool(worked_pool(context))
    assert capsys.readouterr().out.startswith("Correct: the jobs ran at the same time on 2 workers")


@pytest.mark.skipif(ft.interpreter_pool_class() is None, reason="InterpreterPoolExecutor arrived in Python 3.14")
def test_an_interpreter_pool_passes_too(capsys):
    def interpreters_unless_free(n):
        return ThreadPoolExecutor(n) if not sys._is_gil_enabled() else ft.interpreter_pool_class()(max_workers=n)
    check_parallel_pool(interpreters_unless_free)
    assert capsys.readouterr().out.startswith("Correct:")
    with pytest.raises(CheckFailed, match="with the GIL off, and your function chose InterpreterPoolExecutor"):
        check_parallel_pool(lambda n: ft.interpreter_pool_class()(max_workers=n))


@pytest.mark.skipif(not ft.gil_enabled(), reason="on a free-threaded Python threads are the right answer")
def test_threads_under_the_gil_take_turns():
    with pytest.raises(CheckFailed, match="its GIL is on: they take turns"):
        check_parallel_pool(lambda n: ThreadPoolExecutor(max_workers=n))


@pytest.mark.parametrize("answer, hint", [
    (lambda n: InlineExecutor(), "in the thread that submitted them"),
    (lambda n: ProcessPoolExecutor, "returned the class"),
    (lambda n: None, "return an executor"),
    (lambda n: [ProcessPoolExecutor(n)], "return an executor"),
    (lambda n: ProcessPoolExecutor(max_workers=1), "has 1 worker for max_workers=2"),
    (lambda n: MadeUpWorkers(n), "neither this one nor started by it"),
    (lambda n: WrongResults(n), "results are wrong"),
    (lambda: ProcessPoolExecutor(2), "parallel_pool\\(max_workers\\)"),
    (lambda n: ProcessPoolExecutor(max_workers=0), "ValueError"),
    (ProcessPoolExecutor(2), "without parentheses"),
])
def test_wrong_pools_get_their_hint(answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_parallel_pool(answer)


def test_jobs_sent_one_at_a_time_are_caught(monkeypatch, context):
    monkeypatch.setattr(lesson08, "MEET_SECONDS", 0.5)
    with pytest.raises(CheckFailed, match="no two of the 4 jobs ran at the same time|only 1 worker ran"):
        check_parallel_pool(lambda n: OneJobAtATime(context))


def test_with_the_gil_off_threads_are_wanted(monkeypatch, context):
    """A free-threaded Python, as the checker, the answer and the thread probes see it: the worked
    solution passes with threads, and a process pool is told that threads would do without copies."""
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    check_parallel_pool(worked_pool(context))
    with pytest.raises(CheckFailed, match="runs threads without the GIL"):
        check_parallel_pool(lambda n: ProcessPoolExecutor(max_workers=n, mp_context=context))


needs_313 = pytest.mark.skipif(not hasattr(sys, "_is_gil_enabled"), reason="sys._is_gil_enabled arrived in 3.13")


@needs_313
@pytest.mark.parametrize("answer, hint", [
    (lambda n: ProcessPoolExecutor(max_workers=n), "free-threaded, with the GIL off, and your function chose "
                                                   "ProcessPoolExecutor"),
    (lambda n: ThreadPoolExecutor(n) if sysconfig.get_config_var("Py_GIL_DISABLED") else ProcessPoolExecutor(n),
     "whose GIL was switched back on"),
    (lambda n: ThreadPoolExecutor(n) if "free-threading" in sys.version else ProcessPoolExecutor(n),
     "whose GIL was switched back on"),
])
def test_a_choice_made_in_advance_is_caught_on_3_13_and_newer(answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_parallel_pool(answer)


@needs_313
def test_the_free_threaded_python_the_checker_plays_is_put_back():
    before = sys._is_gil_enabled, sysconfig.get_config_var("Py_GIL_DISABLED"), sys.version
    with lesson08._free_threaded_python(gil_on=False):
        assert not sys._is_gil_enabled() and ft.free_threaded_build() and "free-threading build" in sys.version
    assert (sys._is_gil_enabled, sysconfig.get_config_var("Py_GIL_DISABLED"), sys.version) == before
