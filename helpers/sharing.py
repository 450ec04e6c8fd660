"""Lesson 11: moving data to pool workers, and keeping their threads in check.

Lesson 06 sends the whole panel of returns with every batch of bootstrap samples. This module
holds the other ways a pool's workers can get their data, all running lesson 06's own job
(:func:`helpers.panel.samples_to_statistics`) with one ``SeedSequence`` stream per sample, so
that every way gives the same intervals as the serial run:

- **once per worker**: a pool ``initializer`` stores the returns in a module-level variable of
  the worker (:func:`install_returns`), and each task sends only its seeds;
- **shared memory**: the parent copies the returns into one
  ``multiprocessing.shared_memory.SharedMemory`` block, and every worker sees that block as a
  NumPy array without a copy of its own (:func:`shared_copy`, :func:`install_shared_returns`);
- **a file mapped into memory** (``numpy.memmap``), for arrays larger than memory.

It also holds the worker functions for measuring what the data costs (:func:`receive`,
:func:`pretend_work`, :class:`PeakMemory`) and for thread limits: BLAS and Numba each start
their own threads in every worker unless told otherwise (:func:`limit_threads`,
:func:`report_threads`).

All of these are functions in a module, not in a notebook cell, so that ``spawn`` and
``forkserver`` workers can import them.
"""

import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import shared_memory
from typing import NamedTuple

import numpy as np
import pandas as pd
import psutil
from threadpoolctl import threadpool_info, threadpool_limits

from helpers.panel import (DEFAULT_SEED, check_returns, check_samples, compute_rv, default_batch_size, get_ci,
                           run_batches, samples_to_statistics, usable_cpu_count)
from helpers.timing import seconds

# The returns this worker process holds, set once by a pool initializer. In the notebook's own
# process it stays None.
_returns = None
# The shared-memory block this worker has attached (kept so that the block stays mapped as long
# as the worker uses the array built on it).
_block = None


# --- What sending costs -----------------------------------------------------------------------

def receive(data=None):
    """A task with no work: all it costs is sending ``data`` to a worker and an answer back."""
    return None


def pretend_work(seconds, returns=None):
    """A stand-in for a bootstrap task that needs the returns: wait ``seconds`` instead of
    computing samples.

    The returns come with the task (``returns``, lesson 06's way) or were installed in this
    worker by the initializer (:func:`install_returns`). Waiting leaves the cores to the data's
    journey, so timing this task shows what sending the data costs, whatever else the machine
    is running."""
    if returns is None and _returns is None:
        raise RuntimeError("this task has no returns: pass them with the task or start the pool with "
                           "initializer=install_returns, initargs=(returns,)")
    time.sleep(seconds)


# --- Once per worker: an initializer ----------------------------------------------------------

def install_returns(returns):
    """Pool initializer: keep ``returns`` in this worker's module-level variable.

    ``ProcessPoolExecutor(initializer=install_returns, initargs=(returns,))`` runs it once in
    every worker as it starts, so the returns travel once per worker instead of once per task.
    """
    global _returns
    _returns = returns


def installed_statistics(seeds):
    """The pool task: lesson 06's :func:`samples_to_statistics` on the returns this worker holds.

    Only the seeds travel with the task; the returns were installed by the initializer."""
    if _returns is None:
        raise RuntimeError("this worker holds no returns: start the pool with "
                           "initializer=install_returns, initargs=(returns,) (or install_shared_returns)")
    return samples_to_statistics(_returns, seeds)


def _check_arguments(returns, n_samples, max_workers):
    check_returns(returns)
    check_samples(n_samples)
    if max_workers is not None and (not isinstance(max_workers, (int, np.integer)) or max_workers < 1):
        raise ValueError(f"max_workers must be a positive whole number of processes (or None for every usable "
                         f"core), got {max_workers!r}")


def bootstrap_statistics_initializer(returns, n_samples, *, seed=DEFAULT_SEED, max_workers=2, batch_size=None,
                                     progress=False):
    """Lesson 06's bootstrap statistics (samples x days x stocks), the returns sent once per worker.

    Sample ``i`` uses ``SeedSequence(seed).spawn(n_samples)[i]``, as in
    :func:`helpers.panel.bootstrap_statistics`, so the result is the same as the serial run's.
    ``max_workers=None`` means one worker per usable core."""
    _check_arguments(returns, n_samples, max_workers)
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    workers = max_workers or usable_cpu_count()
    with ProcessPoolExecutor(workers, initializer=install_returns, initargs=(returns,)) as pool:
        return run_batches(pool, installed_statistics, seeds, compute_rv(returns).shape,
                           batch_size or default_batch_size(n_samples, workers), progress)


def compute_ci_initializer(returns, n_samples, *, seed=DEFAULT_SEED, max_workers=2, batch_size=None,
                           progress=False):
    """99% intervals as :func:`helpers.panel.compute_ci` gives them, the returns sent once per
    worker by a pool initializer. Same seed, same intervals."""
    stats = bootstrap_statistics_initializer(returns, n_samples, seed=seed, max_workers=max_workers,
                                             batch_size=batch_size, progress=progress)
    return get_ci(stats, like=compute_rv(returns))


# --- Shared memory ----------------------------------------------------------------------------

class SharedArray(NamedTuple):
    """What a worker needs to find an array in shared memory: the block's name, shape, dtype."""
    name: str
    shape: tuple
    dtype: str


@contextmanager
def shared_copy(array):
    """Copy ``array`` into a new shared-memory block; yield the :class:`SharedArray` naming it.

    The process that creates a block owns it: on leaving the ``with`` block, even after an
    error, it closes its own mapping (``close``) and removes the block from the system
    (``unlink``). Workers only attach and close. A block nobody unlinks stays in memory (on
    Linux, a file in ``/dev/shm``) while the program runs; on Linux and macOS multiprocessing's
    resource tracker removes it when the program ends, warning about "leaked shared_memory
    objects" (a block created with ``track=False``, Python 3.13+, stays until the machine
    restarts); on Windows the system frees it once no process has it open.
    """
    array = np.asarray(array)
    if array.dtype == object:
        raise ValueError("shared memory holds numbers, not Python objects: convert the data to a numeric dtype")
    block = shared_memory.SharedMemory(create=True, size=max(array.nbytes, 1))
    try:
        # A temporary view: close() refuses while a NumPy array still uses the block's buffer.
        np.ndarray(array.shape, dtype=array.dtype, buffer=block.buf)[...] = array
        yield SharedArray(block.name, array.shape, array.dtype.str)
    finally:
        block.close()
        block.unlink()


def _view(spec, block):
    """A read-only NumPy array over the shared block ``spec`` describes."""
    array = np.ndarray(spec.shape, dtype=spec.dtype, buffer=block.buf)
    array.flags.writeable = False
    return array


def install_shared_returns(spec, index, columns):
    """Pool initializer: see the parent's shared returns as this worker's DataFrame, no copy.

    The block holds one stock after another (stocks x minutes), the layout pandas keeps inside a
    DataFrame, so the DataFrame built on its transpose computes as fast as the original. The
    block stays attached for the worker's life (the process's exit unmaps it); the worker never
    unlinks it, because the parent owns it."""
    global _block, _returns
    _block = shared_memory.SharedMemory(name=spec.name)
    _returns = pd.DataFrame(_view(spec, _block).T, index=index, columns=columns, copy=False)


def bootstrap_statistics_shared(returns, n_samples, *, seed=DEFAULT_SEED, max_workers=2, batch_size=None,
                                progress=False):
    """Lesson 06's bootstrap statistics, the workers reading the returns from one shared block.

    Only the index and the tickers travel to each worker; the numbers are never copied.
    ``max_workers=None`` means one worker per usable core."""
    _check_arguments(returns, n_samples, max_workers)
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    workers = max_workers or usable_cpu_count()
    with shared_copy(returns.to_numpy(dtype=float).T) as spec:  # stocks x minutes: see install_shared_returns
        with ProcessPoolExecutor(workers, initializer=install_shared_returns,
                                 initargs=(spec, returns.index, returns.columns)) as pool:
            return run_batches(pool, installed_statistics, seeds, compute_rv(returns).shape,
                           batch_size or default_batch_size(n_samples, workers), progress)


def compute_ci_shared(returns, n_samples, *, seed=DEFAULT_SEED, max_workers=2, batch_size=None, progress=False):
    """99% intervals as :func:`helpers.panel.compute_ci` gives them, the returns in shared
    memory. Same seed, same intervals."""
    stats = bootstrap_statistics_shared(returns, n_samples, seed=seed, max_workers=max_workers,
                                        batch_size=batch_size, progress=progress)
    return get_ci(stats, like=compute_rv(returns))


def numbered_statistics(returns, start, seeds):
    """Lesson 06's job for the batch of samples starting at ``start``, returned with ``start``, so
    that results arriving in any order can be put in their place."""
    return start, samples_to_statistics(returns, seeds)


def describe_array(array):
    """What a worker received: the array's type and whether it may write to it."""
    return f"{type(array).__name__}, {'writeable' if array.flags.writeable else 'read-only'}"


def copied_column_sums(array, start, stop):
    """Column sums of rows ``start:stop`` of ``array``, which arrives pickled with the task."""
    return array[start:stop].sum(axis=0)


def shared_column_sums(spec, start, stop):
    """Column sums of rows ``start:stop`` of the shared array ``spec``: attach, read, close.

    The view is gone once the sum is computed, so ``close`` in ``finally`` always succeeds."""
    block = shared_memory.SharedMemory(name=spec.name)
    try:
        return _view(spec, block)[start:stop].sum(axis=0)
    finally:
        block.close()


def memmap_column_sums(path, start, stop):
    """Column sums of rows ``start:stop`` of the ``.npy`` file at ``path``, mapped, not read whole.

    Only the pages of those rows are read from disk, so the file may be larger than memory. The
    map is dropped before returning (on Windows an open map keeps the file from being deleted)."""
    array = np.load(path, mmap_mode="r")
    try:
        return np.asarray(array[start:stop].sum(axis=0))
    finally:
        del array


def row_blocks(n_rows, n_blocks):
    """``n_blocks`` consecutive ``(start, stop)`` row ranges covering ``range(n_rows)`` once."""
    edges = np.linspace(0, n_rows, n_blocks + 1).round().astype(int)
    return [(int(start), int(stop)) for start, stop in zip(edges[:-1], edges[1:])]


# --- Measuring memory -------------------------------------------------------------------------

def _helper_process(proc, me):
    """multiprocessing's resource tracker or fork server, started by ``me``: not a worker.

    (The fork server's own children, the workers, carry its command line too: hence the parent.)"""
    cmdline = " ".join(proc.cmdline())
    return proc.ppid() == me.pid and ("multiprocessing.resource_tracker" in cmdline
                                      or "multiprocessing.forkserver" in cmdline)


def _memory(proc):
    """Memory that ``proc`` accounts for: PSS on Linux (shared pages divided among the processes
    that map them, so the figures of several processes add up), else USS (pages of its own)."""
    info = proc.memory_full_info()
    return getattr(info, "pss", info.uss)


class PeakMemory:
    """Peak memory of this process and, separately, of all its worker processes together.

    ``with PeakMemory() as peak:`` samples every ``interval`` seconds in a background thread;
    afterwards ``peak.parent`` holds the most memory this process used beyond what it used on
    entering, and ``peak.workers`` the most its child processes used together, in bytes.
    A sampler can miss a peak shorter than ``interval``.
    """

    def __init__(self, interval=0.01):
        self.interval = interval
        self.parent = self.workers = 0
        self._parent_at_start = _memory(psutil.Process())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def _sample_once(self):
        me = psutil.Process()
        workers = 0
        for child in me.children(recursive=True):
            try:
                if not _helper_process(child, me):
                    workers += _memory(child)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue  # a worker that ended between listing and reading
        self.parent = max(self.parent, _memory(me) - self._parent_at_start)
        self.workers = max(self.workers, workers)

    def _sample_until_stopped(self):
        while not self._stop.is_set():
            self._sample_once()
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample_once()


# --- Threads inside workers -------------------------------------------------------------------

def threads_per_worker(workers, cores=None):
    """The most threads each of ``workers`` processes may start so that threads x processes
    stays within the cores (at least one)."""
    if not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be a positive whole number, got {workers!r}")
    return max(1, (cores or usable_cpu_count()) // workers)


def _blas_threads():
    """Threads of the BLAS library NumPy uses in this process (the most, if there are several)."""
    return max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=1)


def limit_threads(n):
    """Pool initializer: at most ``n`` threads for BLAS, OpenMP and Numba in this worker.

    Called inside the worker, it works under every start method; environment variables such
    as ``OPENBLAS_NUM_THREADS`` only act if set before NumPy is imported, which a forked worker
    has long done. The limit stays for the worker's life."""
    import numba  # imported here: only workers that limit Numba pay for importing it

    threadpool_limits(n)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def _blas_library():
    """The BLAS library threadpoolctl controls in this process (e.g. ``"openblas"``), or None
    where it controls none (macOS's Accelerate, for one, cannot be limited this way)."""
    return next((pool["internal_api"] for pool in threadpool_info() if pool["user_api"] == "blas"), None)


def report_threads(_=None):
    """From inside a worker: its pid, how many threads its BLAS and Numba would use, which BLAS
    that is (None: one threadpoolctl cannot control) and the most threads Numba may start
    (``NUMBA_NUM_THREADS``, fixed when Numba is imported)."""
    import numba

    return {"pid": os.getpid(), "blas": _blas_threads(), "numba": numba.get_num_threads(),
            "blas_library": _blas_library(), "numba_most": numba.config.NUMBA_NUM_THREADS}


def matrix_product_job(size, seed, blas_threads=None):
    """Multiply two random ``size`` x ``size`` matrices drawn from ``seed``; return the seconds
    the product took in this worker and the BLAS threads it ran on.

    ``blas_threads`` limits the BLAS inside this worker for the product only
    (``threadpoolctl.threadpool_limits``); None leaves the library's default, one thread per core.
    """
    a, b = np.random.default_rng(seed).standard_normal((2, size, size))
    with threadpool_limits(blas_threads, user_api="blas"):
        threads = _blas_threads()
        return {"seconds": seconds(np.matmul, a, b), "blas": threads}
