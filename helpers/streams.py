"""Lesson 06: random numbers in pool workers, and how they end up duplicated.

Three ways a task can get its random numbers, run by :func:`one_task_per_worker`:

- :func:`draw_from_module_generator` uses a generator created when this module is imported.
  Under ``fork`` every worker inherits a copy of the parent's generator; under ``spawn`` and
  ``forkserver`` every worker imports the module afresh and seeds it identically. Either way all
  workers draw the same numbers.
- :func:`draw_from_generator` uses a generator passed as an argument. The argument is pickled,
  state included, so every task receives the same state and draws the same numbers, whatever the
  start method and even in the same worker.
- :func:`draw_from_seed` builds its generator from its own ``SeedSequence`` child: independent
  streams, reproducible from one seed. This is the fix.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np

MODULE_SEED = 42
HIGH = 385  # draw row numbers of a 385-return day, as the bootstrap does

_module_generator = np.random.default_rng(MODULE_SEED)
_barrier = None


def draw_from_module_generator(size):
    """``size`` row numbers from the generator this module created at import."""
    return _module_generator.integers(0, HIGH, size)


def draw_from_generator(rng, size):
    """``size`` row numbers from the generator ``rng`` passed in."""
    return rng.integers(0, HIGH, size)


def draw_from_seed(seed, size):
    """``size`` row numbers from a new generator seeded with ``seed`` (a ``SeedSequence``)."""
    return np.random.default_rng(seed).integers(0, HIGH, size)


def quarter_circle_hits(seed, n_points):
    """How many of ``n_points`` random points in the unit square fall inside the quarter circle
    of radius 1 (about ``pi / 4`` of them), drawn from a generator seeded with ``seed``."""
    points = np.random.default_rng(seed).random((n_points, 2))
    return int(((points**2).sum(axis=1) <= 1).sum())


def _keep_barrier(barrier):
    """Pool initializer: store the barrier every task waits at."""
    global _barrier
    _barrier = barrier


def _call_at_barrier(function, args):
    """Wait until every task has started (each in its own worker), then run ``function(*args)``."""
    _barrier.wait(timeout=120)
    return function(*args)


def one_task_per_worker(function, argument_tuples):
    """Run ``function(*args)`` for each tuple in its own fresh worker process; results in order.

    Every task waits at a barrier until all of them have started, so no worker can take two
    tasks: what each result shows is a separate process's first call, on every run and under
    every start method."""
    n_tasks = len(argument_tuples)
    context = multiprocessing.get_context()
    barrier = context.Barrier(n_tasks)
    with ProcessPoolExecutor(n_tasks, mp_context=context, initializer=_keep_barrier, initargs=(barrier,)) as pool:
        return list(pool.map(_call_at_barrier, [function] * n_tasks, argument_tuples))
