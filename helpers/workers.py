"""Worker functions for lessons 01-05.

A process pool sends each task to a worker process, which must find the function by its module
and name. Defining these functions here, not in a notebook cell, is what lets the lessons run
under every start method (``fork``, ``spawn``, ``forkserver``).

The sleeps stand in for real work: long enough to see the effect of running jobs side by side,
short enough that the notebooks stay quick. Each function takes the sleep length as a parameter.
"""

import math
import os
import pickle
import time

DEFAULT_SECONDS = 0.5


def slow_computation(x, seconds=DEFAULT_SECONDS):
    """Announce the job, wait ``seconds`` as if working hard, and return ``x`` unchanged."""
    print(f"Working on {x}", flush=True)
    time.sleep(seconds)
    return x


def slow_computation_with_exceptions(x, seconds=DEFAULT_SECONDS):
    """Like :func:`slow_computation`, but the job for ``x == 2`` fails with a ``ValueError``."""
    print(f"Working on {x}", flush=True)
    time.sleep(seconds)
    if x == 2:
        raise ValueError(f"the job for x = {x} failed on purpose")
    return x


def slow_computation_silent(x, seconds=DEFAULT_SECONDS):
    """Wait ``seconds`` without printing anything, then return ``exp(x) + 3``.

    Lesson 04 uses it under a progress bar, which printed lines from workers would garble.
    """
    time.sleep(seconds)
    return math.exp(x) + 3


def comp(x):
    """The natural logarithm of ``x``; Python raises ``ValueError`` for ``x <= 0``."""
    return math.log(x)


def sleep_for(seconds):
    """Sleep ``seconds`` and return them: jobs whose finishing order follows their length."""
    time.sleep(seconds)
    return seconds


def tiny_task(x):
    """A task far cheaper than sending it to a worker: where ``chunksize`` matters."""
    return x * x


def exit_abruptly(x):
    """End the worker process at once for ``x == 3``, as a crash or the OOM killer would.

    The pool cannot tell what happened to the job; lesson 05 shows the ``BrokenProcessPool``
    this causes and how to recover.
    """
    if x == 3:
        os._exit(1)
    return x


def load_pickled(payload):
    """Unpickle ``payload`` in the worker, the step a worker takes for every task it receives.

    Lesson 01 sends it a function pickled in the notebook to show why a ``spawn`` worker cannot
    find a function that only exists in the notebook's ``__main__``.
    """
    return pickle.loads(payload)
