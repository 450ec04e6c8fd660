"""Lesson 08: threads, processes and asyncio side by side.

Waiting jobs (``wait_io``, ``wait_io_async``) stand in for network or disk calls; ``cpu_work``
keeps a core busy in pure Python, holding the interpreter's global lock (the GIL) the whole time
(it lives in :mod:`helpers.free_threading`, which interpreter pools can import). The counter
functions show a race condition on purpose, deterministically, and its two fixes; the word counts
show the same race where it hides under the GIL, and :class:`Turnstile` with
:class:`HandOverWord` make it show on every Python, as a free-threaded one would. ``word_chunks``
and ``FakeServer`` are the material of the lesson's exercises.
"""

import asyncio
import multiprocessing
import os
import queue
import sys
import threading
import time
import warnings
from collections import Counter as Tally
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

import numpy as np
import psutil

from helpers.free_threading import cpu_work  # noqa: F401 - the lesson's CPU-bound job, shown from here
from helpers.free_threading import pause
from helpers.timing import stopwatch

VOCABULARY = ("pool", "thread", "lock", "queue", "future", "await", "fork", "spawn")


def wait_io(seconds):
    """Wait as a network call would; the thread releases the GIL while it waits."""
    time.sleep(seconds)
    return seconds


async def wait_io_async(seconds):
    """The same wait as a coroutine: the event loop runs other coroutines meanwhile."""
    await asyncio.sleep(seconds)
    return seconds


def worker_rss_mb():
    """Resident memory (RSS) of the process this runs in, in MB. It counts every page the process
    maps, also those it shares with others (libraries, pages a forked worker still shares with its
    parent), so the RSS of several processes adds up to more than they use together."""
    return psutil.Process(os.getpid()).memory_info().rss / 1e6


def worker_memory_mb(max_workers=2, hold=0.1):
    """Memory of one worker of a ``max_workers`` process pool, in MB, two ways: ``(rss, share)``.
    ``rss`` is what a worker reports as its resident memory; ``share`` is the peak memory of all
    workers together divided by their number, as lesson 11 measures it (PSS on Linux: a page that
    n processes share counts 1/n in each; elsewhere USS, the pages a process has to itself).
    The workers start before the sampler's thread does (forking a process that runs threads is
    what Python 3.12+ warns about), then each is held ``hold`` seconds, so that the sampler sees it."""
    from helpers.sharing import PeakMemory  # pandas and friends: imported only when measuring
    with ProcessPoolExecutor(max_workers=max_workers) as executor:
        list(executor.map(wait_io, [hold] * max_workers))  # every worker started
        with PeakMemory() as peak:
            held = [executor.submit(wait_io, hold) for _ in range(max_workers)]
            rss = executor.submit(worker_rss_mb).result()
            for future in held:
                future.result()
    return rss, peak.workers / max_workers / 1e6


def pool_startup_seconds(method):
    """Wall time to start a one-worker process pool with start ``method`` ("fork", "spawn" or
    "forkserver"), get one trivial result back and shut the pool down. The job comes from a
    module of the standard library's weight (:func:`helpers.free_threading.pause`), so a spawned
    worker imports little beyond Python itself."""
    if method not in multiprocessing.get_all_start_methods():
        raise ValueError(f"start method {method!r} is not available here; "
                         f"choose one of {multiprocessing.get_all_start_methods()}")
    with stopwatch() as clock:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(method)) as executor:
            executor.submit(pause, 0).result()
    return clock.seconds


def fork_start_warnings():
    """Start a one-worker pool with ``fork`` and return the messages of the DeprecationWarnings it
    raised. From Python 3.12, ``os.fork()`` warns when this process runs several threads (a
    Jupyter kernel runs several): the child gets a copy of the memory but only the calling
    thread, so a lock another thread held at that moment stays locked in the child for ever.
    Python hides DeprecationWarnings raised inside libraries; this shows them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeprecationWarning)
        pool_startup_seconds("fork")
    return [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]


class Counter:
    """A shared counter, as plain as it gets: ``value`` is read and written without a lock."""

    def __init__(self):
        self.value = 0


def _run_threads(target, n_threads, *args):
    """Start ``n_threads`` threads on ``target`` and join them all."""
    threads = [threading.Thread(target=target, args=args) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def racy_increments(n_threads, rounds):
    """Every thread adds 1 per round by read, then write. A barrier makes all threads read
    before any writes back, the unlucky timing that is otherwise rare, so the lost updates
    happen every time: the result is ``rounds``, not ``n_threads * rounds``."""
    counter, barrier = Counter(), threading.Barrier(n_threads)

    def add():
        for _ in range(rounds):
            seen = counter.value
            barrier.wait()  # everybody has read the same value ...
            counter.value = seen + 1
            barrier.wait()  # ... and written it back, before the next round

    _run_threads(add, n_threads)
    return counter.value


def locked_increments(n_threads, rounds):
    """The same read-then-write, inside a lock: one thread at a time, no update lost, even with
    a forced thread switch between the read and the write."""
    counter, lock = Counter(), threading.Lock()

    def add():
        for _ in range(rounds):
            with lock:
                seen = counter.value
                time.sleep(0)  # invite a thread switch at the worst moment
                counter.value = seen + 1

    _run_threads(add, n_threads)
    return counter.value


def owner_thread_increments(n_threads, rounds):
    """No shared writes at all: threads send requests through a queue to the one thread that
    owns the counter, which applies them in order; ``None`` tells it to stop."""
    counter, requests = Counter(), queue.Queue()

    def owner():
        while (amount := requests.get()) is not None:
            counter.value += amount

    def add():
        for _ in range(rounds):
            requests.put(1)

    keeper = threading.Thread(target=owner)
    keeper.start()
    _run_threads(add, n_threads)
    requests.put(None)
    keeper.join()
    return counter.value


def _run_one_thread_each(target, items):
    """Start one thread per item, ``target(item)``, all before joining any; join them all."""
    threads = [threading.Thread(target=target, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def unprotected_count(chunks):
    """Count the words of ``chunks`` on one thread per chunk, all adding to one dict with
    ``counts[word] += 1`` and no lock: a read, an addition and a write, with nothing to keep
    another thread out between the read and the write."""
    counts = defaultdict(int)

    def count(chunk):
        for word in chunk:
            counts[word] += 1

    _run_one_thread_each(count, chunks)
    return dict(counts)


@contextmanager
def switching_often():
    """Ask the GIL to switch threads as often as CPython allows (every microsecond) inside the
    block: a race that a switch can reveal then gets every chance."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


class Turnstile:
    """Makes counting threads take turns at the worst moment, as if they truly ran at once.

    Every comparison of a :class:`HandOverWord` calls :meth:`hand_over`, and a dict compares the
    key it looks up with the key it finds in both halves of ``counts[word] += 1``: the read, and
    then the write. There the thread lets another counting thread run before it goes on (waiting
    at most ``wait`` seconds for one to come, a tenth of that after one failed to come), so
    another thread reads between this one's read and its write. Threads that keep the others out
    with a lock make them wait instead, and lose nothing. Threads are gathered at a gate before
    they start counting (until all have come, or no new thread has started for ``gate``
    seconds), so that they overlap however fast each one is. The main thread never waits.

    It also records what ran where: how many words each thread hashed (``hashes``), how many
    counting threads were alive at once at most (``most_at_once``) and how many hand-overs found
    another thread ready (``handoffs``)."""

    def __init__(self, n_threads, wait=0.001, gate=0.3):
        self.n_threads, self.wait, self.gate = n_threads, wait, gate
        self.hashes = Tally()
        self.most_at_once = self.handoffs = 0
        self._condition = threading.Condition()
        self._moves = 0
        self._others_came = True
        self._counting = set()  # every thread that has counted here (objects: ids get reused)
        self._gate_open = False
        self._there_before = set(threading.enumerate())

    def _alive_others(self, me):
        return [t for t in self._counting if t is not me and t.is_alive()]

    def _started_here(self):
        """The threads started since this turnstile was made that are still alive."""
        return {t for t in threading.enumerate() if t not in self._there_before and t.is_alive()}

    def enter(self):
        """A thread starts counting: note it, and hold it at the gate until ``n_threads`` have
        come, or until no new thread has started for ``gate`` seconds (then the gate stays open)."""
        me = threading.current_thread()
        if me is threading.main_thread() or me in self._counting:
            return
        with self._condition:
            self._counting.add(me)
            self._condition.notify_all()
            seen, deadline = None, None
            while len(self._counting) < self.n_threads and not self._gate_open:
                now, started = time.monotonic(), self._started_here()
                if started != seen:  # threads are still being started: wait on
                    seen, deadline = started, now + self.gate
                if now >= deadline:
                    self._gate_open = True
                    self._condition.notify_all()
                    break
                self._condition.wait(min(0.01, deadline - now))
            alive = self._started_here() | set(self._alive_others(None))
            self.most_at_once = max(self.most_at_once, len(alive - {threading.main_thread()}))

    def hashed(self):
        """A word was hashed (looked up or stored): note by which thread."""
        self.enter()
        self.hashes[threading.current_thread()] += 1

    def hand_over(self):
        """Let another counting thread run now, if one is alive (never in the main thread)."""
        me = threading.current_thread()
        if me is threading.main_thread():
            return
        self.enter()
        with self._condition:
            self._moves += 1
            seen = self._moves
            self._condition.notify_all()
            if self._alive_others(me):
                # While others keep coming, wait for them in full; once they stop coming (a lock
                # holds them back), wait a tenth as long, so that a locked count stays quick.
                waited = self.wait if self._others_came else self.wait / 10
                self._others_came = self._condition.wait_for(lambda: self._moves != seen, waited)
                self.handoffs += self._others_came

    def still_running(self):
        """The threads started since this turnstile was made that have not ended yet."""
        return [t for t in self._started_here() if t is not threading.current_thread()]

    def main_thread_hashes(self):
        """How many words the main thread hashed (merging per-thread counts takes a few)."""
        return self.hashes[threading.main_thread()]

    def counting_threads(self):
        """How many threads other than the main one counted words here."""
        return len(self._counting)


class HandOverWord(str):
    """A word (equal to, and hashing like, the plain string) that reports to a :class:`Turnstile`:
    hashing it is noted, and comparing it hands the interpreter to another counting thread."""

    def __new__(cls, word, turnstile):
        self = super().__new__(cls, word)
        self.turnstile = turnstile
        return self

    def __hash__(self):
        self.turnstile.hashed()
        return str.__hash__(self)

    def __eq__(self, other):
        self.turnstile.hand_over()
        return str.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)


class WatchedChunk(list):
    """A chunk of words whose reading tells the :class:`Turnstile` a thread started counting."""

    def __init__(self, words, turnstile):
        super().__init__(words)
        self.turnstile = turnstile

    def __iter__(self):
        self.turnstile.enter()
        return super().__iter__()

    def __getitem__(self, index):
        self.turnstile.enter()
        return super().__getitem__(index)


def handing_over(chunks, turnstile=None):
    """``chunks`` with every word a :class:`HandOverWord` of its own (a new object for each
    occurrence, so that a dict always compares it with the key it holds), all reporting to
    ``turnstile`` (a new one for ``len(chunks)`` threads if not given)."""
    turnstile = turnstile or Turnstile(len(chunks))
    return [WatchedChunk([HandOverWord(word, turnstile) for word in chunk], turnstile) for chunk in chunks]


def word_chunks(n_chunks=4, words_per_chunk=5000, seed=2017):
    """A text cut into ``n_chunks`` lists of words from a small vocabulary, so that threads
    counting them update the same few counts all the time (one random stream per chunk)."""
    streams = np.random.SeedSequence(seed).spawn(n_chunks)
    return [[VOCABULARY[i] for i in np.random.default_rng(stream).integers(len(VOCABULARY), size=words_per_chunk)]
            for stream in streams]


class FakeServer:
    """A web server stand-in for asyncio: ``await server.request(i)`` answers ``"page i"`` after
    ``delay`` seconds. It counts the requests it served and the most it had in flight at once,
    so a client can be checked for how many requests it really sent concurrently."""

    def __init__(self, delay=0.05):
        self.delay, self.in_flight, self.peak, self.served = delay, 0, 0, 0

    async def request(self, i):
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        self.served += 1
        return f"page {i}"
