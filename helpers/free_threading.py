"""Threads, interpreters and processes on the same pure-Python job, and what this Python's GIL is doing.

Run it on any Python, with or without the GIL, to see what threads can do there::

    python -m helpers.free_threading            # 4 jobs of 2,000,000 steps on 2 workers of each kind
    python -m helpers.free_threading --jobs 8 --steps 5000000 --workers 4

It times one CPU-bound job (:func:`cpu_work`, plain Python arithmetic) as a loop, on a
``ThreadPoolExecutor``, on an ``InterpreterPoolExecutor`` (Python 3.14 and newer) and on a
``ProcessPoolExecutor``, and for each pool what it costs to start and to send it data. It says which
build this is (``sysconfig.get_config_var("Py_GIL_DISABLED")``) and whether the GIL was on while it
measured (``sys._is_gil_enabled()``). On a free-threaded build (3.13t, 3.14t) with the GIL off, the
thread pool is the one that changes: its threads then run Python code at the same time.

Lesson 08 calls the same functions. The module imports nothing beyond the standard library (and
:mod:`helpers.timing`, which does the same): each worker of an interpreter pool is a fresh
interpreter that imports the module of the function it runs, and extension modules such as
NumPy's refuse to load in such an interpreter (see :func:`numpy_version`).
"""

import argparse
import os
import sys
import sysconfig
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass

from helpers.timing import seconds, stopwatch

SEND_BYTES = 20_000_000  # the payload whose sending is timed


# --- Jobs a pool runs (module level, standard library only) ------------------------------------

def cpu_work(n):
    """Pure-Python arithmetic, about ``n`` steps, that never lets go of the GIL for long."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def byte_count(data):
    """The length of ``data``: a job whose whole cost is getting ``data`` to the worker."""
    return len(data)


def pause(seconds_to_wait):
    """Hold a worker for a while, so that jobs submitted together need a worker each."""
    time.sleep(seconds_to_wait)
    return seconds_to_wait


def worker_identity(hold=0.0):
    """Where this call runs, after holding its worker ``hold`` seconds: ``(process id, interpreter
    id, thread id, GIL on)``. The interpreter id is 0 in a process's main interpreter; each worker
    of an ``InterpreterPoolExecutor`` has one of its own."""
    if hold:
        time.sleep(hold)
    return os.getpid(), interpreter_id(), threading.get_ident(), gil_enabled()


def meet(directory, deadline, caller):
    """A probe that shows two workers running at the same time: ``worker_identity()`` plus the
    worker this call saw running alongside it (``"pid-interpreter-thread"``), or None.

    The call leaves a mark in ``directory`` while it runs and looks for the mark of a call on
    another worker; the first to find one notes the meeting there, and every call then stops
    looking. A call that finds nobody gives up at ``deadline`` (a ``time.time()``), and a call
    made in the ``caller``'s own thread (``(pid, interpreter, thread)``) does not look at all."""
    identity = worker_identity()
    here = "-".join(map(str, identity[:3]))
    if tuple(identity[:3]) == tuple(caller):
        return identity + (None,)
    mark = os.path.join(directory, f"{here}.{time.perf_counter_ns()}.running")
    met = os.path.join(directory, "met")
    open(mark, "w").close()
    partner = None
    try:
        while partner is None and not os.path.exists(met) and time.time() < deadline:
            others = [name.split(".")[0] for name in os.listdir(directory) if name.endswith(".running")]
            partner = next((other for other in others if other != here), None)
            if partner is None:
                time.sleep(0.005)
        if partner is not None:
            open(met, "a").close()
    finally:
        os.remove(mark)
    return identity + (partner,)


def numpy_version():
    """Import NumPy where this runs and give its version. In a subinterpreter (a worker of an
    ``InterpreterPoolExecutor``) the import fails with ``ImportError``: NumPy's compiled core
    does not declare support for several interpreters in one process."""
    import numpy
    return numpy.__version__


# --- What this Python is ------------------------------------------------------------------------

def gil_enabled():
    """Whether the GIL is on in this process now. Always on before Python 3.13; a free-threaded
    build runs without it unless ``PYTHON_GIL=1``, ``-X gil=1`` or an extension module that has not
    declared itself safe without it switched it back on."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def free_threaded_build():
    """Whether this Python was built without the GIL (``python3.13t``, ``python3.14t``): the build,
    not the current state, which :func:`gil_enabled` gives."""
    return sysconfig.get_config_var("Py_GIL_DISABLED") == 1


def interpreter_id():
    """The id of the interpreter this runs in (0 for the main one; always 0 before Python 3.14,
    which added ``concurrent.interpreters``)."""
    try:
        from concurrent import interpreters
    except ImportError:
        return 0
    return interpreters.get_current().id


def interpreter_pool_class():
    """``concurrent.futures.InterpreterPoolExecutor`` where it exists (Python 3.14+), else None."""
    try:
        from concurrent.futures import InterpreterPoolExecutor
    except ImportError:
        return None
    return InterpreterPoolExecutor


def describe_python():
    """What the running Python offers for parallel Python code, as plain sentences."""
    version = f"Python {sys.version_info.major}.{sys.version_info.minor}"
    if free_threaded_build():
        build = f"{version}, free-threaded build"
        state = ("the GIL is off: threads run Python code at the same time" if not gil_enabled() else
                 "the GIL is on all the same (PYTHON_GIL=1, -X gil=1, or an extension module switched it on)")
    else:
        build = f"{version}, standard build"
        state = "the GIL is on: threads take turns running Python code"
    pools = ("InterpreterPoolExecutor available: one interpreter, with its own GIL, per worker"
             if interpreter_pool_class() else "no InterpreterPoolExecutor (Python 3.14 adds it)")
    return [build, state, pools]


# --- Pools side by side -------------------------------------------------------------------------

def timed_cpu_work(n):
    """:func:`cpu_work` that also reports the CPU time its thread spent on it: ``(result, seconds)``."""
    started = time.thread_time()
    result = cpu_work(n)
    return result, time.thread_time() - started


@dataclass
class Run:
    """One run of the jobs: its wall time, the CPU time the jobs used (all workers together) and the
    idle CPU time of the whole machine meanwhile (None where psutil is missing)."""

    seconds: float
    cpu_seconds: float
    idle_seconds: float = None

    @property
    def cores(self):
        """Cores kept busy on average: CPU seconds per second of wall time."""
        return self.cpu_seconds / self.seconds

    @property
    def spare_cores(self):
        """Cores the machine left idle on average meanwhile (None where unknown)."""
        return None if self.idle_seconds is None else self.idle_seconds / self.seconds


def _machine_idle_seconds():
    """Idle CPU time of the whole machine so far, all cores added up (None without psutil)."""
    try:
        import psutil
    except ImportError:
        return None
    return psutil.cpu_times().idle


def run_jobs(jobs, pool=None):
    """Run :func:`timed_cpu_work` on every one of ``jobs``, in this thread (``pool=None``) or on
    ``pool``; measure it as a :class:`Run`."""
    idle_before = _machine_idle_seconds()
    with stopwatch() as clock:
        results = [timed_cpu_work(n) for n in jobs] if pool is None else list(pool.map(timed_cpu_work, jobs))
    idle_after = _machine_idle_seconds()
    idle = None if idle_before is None else max(0.0, idle_after - idle_before)
    return Run(clock.seconds, sum(cpu for _, cpu in results), idle)


@dataclass
class PoolFigures:
    """What one kind of pool cost on the job: seconds to start and answer a first trivial job, to
    send it ``SEND_BYTES`` and get an answer, and the :class:`Run` of all the CPU-bound jobs."""

    kind: str
    start: float
    send: float
    compute: Run


def pool_kinds():
    """The pools this Python has, by name, each a class taking ``max_workers``: threads,
    interpreters (3.14+) and processes (with this Python's default start method)."""
    kinds = {"threads": ThreadPoolExecutor}
    if interpreter_pool_class():
        kinds["interpreters"] = interpreter_pool_class()
    kinds["processes"] = ProcessPoolExecutor
    return kinds


def measure_pool(kind, make_pool, jobs, workers, payload):
    """Start a pool of ``workers`` with ``make_pool``; time its first trivial answer, sending it
    ``payload``, and the ``jobs``; shut it down."""
    with stopwatch() as started:
        pool = make_pool(max_workers=workers)
        pool.submit(worker_identity).result()
    try:
        list(pool.map(pause, [0.05] * workers))  # every worker started before the timings below
        send = seconds(lambda: pool.submit(byte_count, payload).result())
        compute = run_jobs(jobs, pool)
    finally:
        pool.shutdown()
    return PoolFigures(kind, started.seconds, send, compute)


def compare_pools(jobs, workers=2, send_bytes=SEND_BYTES):
    """The loop's :class:`Run` on ``jobs`` and every pool's :class:`PoolFigures`, measured one
    after the other in this call: ``(loop, [PoolFigures, ...])``."""
    payload = bytes(send_bytes)
    loop = run_jobs(jobs)
    return loop, [measure_pool(kind, make, jobs, workers, payload) for kind, make in pool_kinds().items()]


def figures_table(loop, figures, jobs, workers):
    """The comparison as lines of text: what each pool cost to start, to send to, to compute, and
    how many cores it kept busy."""
    lines = [f"{len(jobs)} jobs of {jobs[0]:,} steps of cpu_work, {workers} workers per pool, "
             f"{SEND_BYTES // 1_000_000} MB sent:",
             f"{'':<13}{'start':>9}{'send':>9}{'compute':>9}{'cores busy':>12}{'vs loop':>9}",
             f"{'loop':<13}{'':>9}{'':>9}{loop.seconds:>7.2f} s{loop.cores:>12.1f}{1:>8.2f}x"]
    for f in figures:
        lines.append(f"{f.kind:<13}{f.start:>7.3f} s{f.send:>7.3f} s{f.compute.seconds:>7.2f} s"
                     f"{f.compute.cores:>12.1f}{loop.seconds / f.compute.seconds:>8.2f}x")
    if "interpreters" not in {f.kind for f in figures}:
        lines.append(f"{'interpreters':<13}  not in this Python (InterpreterPoolExecutor arrived in 3.14)")
    return lines


def verdict(loop, figures):
    """One sentence on what the threads did here, with the GIL's state."""
    threads = next(f for f in figures if f.kind == "threads").compute
    if gil_enabled():
        why = ("although this is a free-threaded build (PYTHON_GIL=1, -X gil=1, or an extension module "
               "turned it back on)" if free_threaded_build() else "as on every standard build")
        return (f"The GIL was on, {why}: the threads kept {threads.cores:.1f} cores busy, taking turns "
                f"({loop.seconds / threads.seconds:.2f}x the loop). With the GIL off (python3.14t) they run "
                "at the same time.")
    return (f"The GIL was off: the threads kept {threads.cores:.1f} cores busy "
            f"({loop.seconds / threads.seconds:.2f}x the loop), in one process, with no pickling.")


def main(argv=None):
    """``python -m helpers.free_threading``: print the build, the comparison and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=4, help="how many jobs (default 4)")
    parser.add_argument("--steps", type=int, default=2_000_000, help="steps of each job (default 2,000,000)")
    parser.add_argument("--workers", type=int, default=2, help="workers per pool (default 2)")
    options = parser.parse_args(argv)
    if min(options.jobs, options.steps, options.workers) < 1:
        parser.error("--jobs, --steps and --workers must be positive")
    jobs = [options.steps] * options.jobs
    _machine_idle_seconds()  # import psutil now: should it switch the GIL back on, the first line says so
    print("; ".join(describe_python()))
    loop, figures = compare_pools(jobs, options.workers)
    print("\n".join(figures_table(loop, figures, jobs, options.workers)))
    print(verdict(loop, figures))
    return 0


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy's: pool workers (spawned processes,
    # interpreters) find the jobs by their module's name, helpers.free_threading.
    from helpers.free_threading import main as imported_main
    sys.exit(imported_main())
