"""Lesson 10: a Dask cluster on this machine, and what its task records tell.

The bootstrap itself comes unchanged from :mod:`helpers.panel`; this module only holds what is
specific to Dask: how the lesson's cluster is made, how to read Dask's task stream (which task
ran where, and for how long), and the one function that shows why random tasks are submitted
with ``pure=False``.
"""

import logging

import numpy as np
from distributed import LocalCluster


def local_cluster(n_workers=2, threads_per_worker=1, preload=()):
    """A Dask cluster on this machine that behaves like one across machines.

    - ``n_workers`` worker processes with ``threads_per_worker`` threads each: the cluster runs
      ``n_workers * threads_per_worker`` tasks at once. One thread per worker suits pandas and
      NumPy code that holds Python's GIL, as the bootstrap does.
    - ``processes=True``: workers are separate processes, so they talk to the scheduler over
      network connections, exactly as workers on other machines would.
    - ``host="127.0.0.1"``: those connections stay on loopback, invisible from the network.
    - ``dashboard_address=":0"``: the scheduler's web server (which serves Dask's dashboard once
      the ``bokeh`` package is installed; the course does not need it) listens on a free port
      the system picks, so two clusters never compete for Dask's default port.
    - ``preload``: modules every worker imports as it starts, e.g. ``["helpers.panel"]``, the
      bootstrap's. A worker otherwise imports a task's module when its first task arrives, so
      the first tasks pay for importing pandas: preload before you time a cluster's first run.
    - ``silence_logs=logging.CRITICAL``: Dask's logs stay out of the notebook. Its routine
      messages would clutter it, and when a cluster closes a worker can still log an error
      about a heartbeat the closing scheduler no longer answers (a harmless race). Errors that
      matter still reach you: a task's exception is raised again by ``result()`` or ``gather``.

    Use it in a ``with`` block, so the workers and the scheduler stop when the block ends.
    """
    if n_workers < 1 or threads_per_worker < 1:
        raise ValueError(f"a cluster needs at least one worker with one thread, got n_workers={n_workers}, "
                         f"threads_per_worker={threads_per_worker}")
    return LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                        host="127.0.0.1", dashboard_address=":0", preload=list(preload),
                        silence_logs=logging.CRITICAL)


def total_threads(client):
    """How many tasks the cluster behind ``client`` runs at once: its threads over all workers."""
    return sum(client.nthreads().values())


def records_of(records, function):
    """The records of Dask's task stream (``get_task_stream(client).data``) of the tasks that
    ran ``function``. A task's key starts with its function's name and a dash, e.g.
    ``samples_to_statistics-5825ad...``."""
    prefix = f"{function.__name__}-"
    return [record for record in records if str(record["key"]).startswith(prefix)]


def task_counts(records, function):
    """From Dask's task stream, the tasks that ran ``function``: ``(number of tasks, number of
    distinct workers that ran them)``."""
    workers = [record["worker"] for record in records_of(records, function)]
    return len(workers), len(set(workers))


def _compute_spans(records, function):
    """``{(worker, thread): [(start, stop), ...]}``: when each thread computed ``function``'s tasks."""
    spans = {}
    for record in records_of(records, function):
        for part in record["startstops"]:
            if part["action"] == "compute":
                spans.setdefault((record["worker"], record["thread"]), []).append((part["start"], part["stop"]))
    return spans


def busy_shares(records, function):
    """From Dask's task stream: for every thread that ran ``function``, the share of the run it
    spent computing those tasks, keyed by ``(worker address, thread id)``.

    The run lasts from the first task's start to the last task's end, on any thread. A share of
    1.0 means a thread that computed all along; a thread that waited for work shows less. (The
    times are the workers' clocks, all one clock on a single machine.)"""
    spans = _compute_spans(records, function)
    if not spans:
        return {}
    start = min(begin for intervals in spans.values() for begin, _ in intervals)
    stop = max(end for intervals in spans.values() for _, end in intervals)
    run = max(stop - start, 1e-9)  # a run of one instantaneous task: avoid dividing by zero
    return {thread: sum(end - begin for begin, end in intervals) / run for thread, intervals in sorted(spans.items())}


def all_busy_share(records, function):
    """From Dask's task stream: the share of the run during which every thread that ran
    ``function`` was computing one of its tasks at the same moment (0.0 if the threads took
    turns, 1.0 if they all computed from the first task's start to the last one's end)."""
    spans = _compute_spans(records, function)
    if not spans:
        return 0.0
    events = sorted((time, change) for intervals in spans.values()
                    for begin, end in intervals for time, change in ((begin, 1), (end, -1)))
    together, computing, since = 0.0, 0, None
    for time, change in events:
        if computing == len(spans):
            together += time - since
        computing += change
        since = time
    run = max(events[-1][0] - events[0][0], 1e-9)
    return together / run


def unseeded_draws(size):
    """``size`` random integers from a generator seeded by the operating system's entropy.

    A deliberately bad task: its result is not a function of its arguments. Dask assumes by
    default that it is (``pure=True``), names two calls with the same arguments by the same key,
    runs the task once and hands both callers the same numbers; lesson 10 shows it.
    """
    return np.random.default_rng().integers(0, 1_000_000, size)
