"""Lesson 08: threads, processes and asyncio side by side.

Waiting jobs (``wait_io``, ``wait_io_async``) stand in for network or disk calls; ``cpu_work``
keeps a core busy in pure Python, holding the interpreter's global lock (the GIL) the whole time.
The counter functions show a race condition on purpose, deterministically, and its two fixes.
``word_chunks`` and ``FakeServer`` are the material of the lesson's exercises.
"""

import asyncio
import multiprocessing
import os
import queue
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import psutil

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


def cpu_work(n):
    """Pure-Python arithmetic, about ``n`` steps, that never lets go of the GIL for long."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def worker_memory_mb():
    """Resident memory of the process this runs in, in MB: what one pool worker costs."""
    return psutil.Process(os.getpid()).memory_info().rss / 1e6


def pool_startup_seconds(method):
    """Wall time to start a one-worker process pool with start ``method`` ("fork", "spawn" or
    "forkserver"), get one trivial result back and shut the pool down."""
    if method not in multiprocessing.get_all_start_methods():
        raise ValueError(f"start method {method!r} is not available here; "
                         f"choose one of {multiprocessing.get_all_start_methods()}")
    with stopwatch() as clock:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(method)) as executor:
            executor.submit(wait_io, 0).result()
    return clock.seconds


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


def python_outlook():
    """What the running Python offers beyond the GIL: free-threading (3.13+) and interpreter
    pools (3.14+), as plain sentences."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    lines = [f"Python {version}"]
    gil_check = getattr(sys, "_is_gil_enabled", None)
    if gil_check is None:
        lines.append("no free-threaded option (it arrived in 3.13): the GIL is always on")
    else:
        lines.append("GIL enabled in this process" if gil_check() else "free-threaded: the GIL is off")
    try:
        from concurrent.futures import InterpreterPoolExecutor  # noqa: F401
        lines.append("InterpreterPoolExecutor available: one interpreter per worker, in one process")
    except ImportError:
        lines.append("no InterpreterPoolExecutor (it arrived in 3.14)")
    return lines
