"""Lesson 10: a Dask cluster on this machine, and what its task records tell.

The bootstrap itself comes unchanged from :mod:`helpers.panel`; this module only holds what is
specific to Dask: how the lesson's cluster is made, how to read Dask's task stream (which task
ran where), and the one function that shows why random tasks are submitted with ``pure=False``.
"""

import logging

import numpy as np
from distributed import LocalCluster


def local_cluster(n_workers=2, threads_per_worker=1):
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
                        host="127.0.0.1", dashboard_address=":0", silence_logs=logging.CRITICAL)


def total_threads(client):
    """How many tasks the cluster behind ``client`` runs at once: its threads over all workers."""
    return sum(client.nthreads().values())


def task_counts(records, function):
    """From Dask's task stream (``get_task_stream(client).data``), the tasks that ran
    ``function``: ``(number of tasks, number of distinct workers that ran them)``.

    A task's key starts with the name of its function, e.g. ``samples_to_statistics-5825ad...``.
    """
    prefix = f"{function.__name__}-"
    workers = [record["worker"] for record in records if str(record["key"]).startswith(prefix)]
    return len(workers), len(set(workers))


def unseeded_draws(size):
    """``size`` random integers from a generator seeded by the operating system's entropy.

    A deliberately bad task: its result is not a function of its arguments. Dask assumes by
    default that it is (``pure=True``), names two calls with the same arguments by the same key,
    runs the task once and hands both callers the same numbers; lesson 10 shows it.
    """
    return np.random.default_rng().integers(0, 1_000_000, size)
