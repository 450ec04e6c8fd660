"""Lesson 12: lesson 06's bootstrap, from the CSV files to the intervals, split into its parts.

The pipeline loads lesson 06's small sample (January 2007, CSCO and BA) from the files,
bootstraps the realized variances (:func:`helpers.panel.compute_ci`) and takes the 99% quantiles.
On a process pool most of it still runs once, in the notebook's process: loading, pickling the
data for every task, combining the batches, the quantiles (and starting the workers, for a pool
started for the one run). Only the bootstrap samples are shared among the workers.
:func:`measure_parts` times each part on its own, which is what Amdahl's law
(:mod:`helpers.amdahl`) needs to predict the speed-up; whole runs (:func:`serial_pipeline`,
:func:`pooled_run`) are what the prediction is checked against, and a pooled run also times its
own parts as it runs (:class:`Run`).

Each part is timed as the fastest of a few tries (the minimum of :func:`helpers.timing.measure`),
as benchmarks do: other programs can only slow a try down, never speed it up, so the fastest is
the least disturbed, and a prediction built from such parts is the best the run can do.

Each way of running the bootstrap that lessons 06, 07 and 11 teach changes one part (:data:`WAYS`):
a new pool for every run adds the workers' start-up, one task per sample pickles the data once per
sample, a pool initializer once per worker, and the compiled kernel shrinks the bootstrap itself.
"""

import pickle
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.amdahl import ceiling, predicted_speedup, serial_share
from helpers.data import intraday_log_returns, load_prices
from helpers.panel import compute_ci, compute_rv, default_batch_size, get_ci, samples_to_statistics
from helpers.timing import measure, seconds, stopwatch

SMALL_TICKERS = ("CSCO", "BA")
SMALL_MONTH = "2007-01"
WAYS = ("lesson 06, on a running pool", "a new pool for every run", "one task per sample",
        "data once per worker (lesson 11)", "compiled kernel (lesson 07)")


def load_small_sample(folder):
    """Lesson 06's small sample, read from the files: January 2007 of CSCO and BA."""
    return intraday_log_returns(load_prices(folder, tickers=list(SMALL_TICKERS))).loc[SMALL_MONTH]


def serial_pipeline(folder, n_samples, seed=1):
    """The whole job in this process: load, bootstrap ``n_samples``, take the quantiles."""
    return compute_ci(load_small_sample(folder), n_samples, seed=seed)


def timed_statistics(returns, seeds):
    """Pool task: lesson 06's job for a batch of seeds, with the seconds it took in the worker."""
    with stopwatch() as clock:
        stats = samples_to_statistics(returns, seeds)
    return stats, clock.seconds


@dataclass
class Run:
    """One pooled run of the pipeline, timed as it ran: its whole wall time, the seconds its
    serial steps took in this process, and the seconds the workers spent on the bootstrap, all
    of them together."""

    seconds: float
    serial: float
    busy: float
    workers: int

    def least_seconds(self):
        """What Amdahl's law says the run takes at least with this run's own parts: its serial
        steps, then its workers' busy time shared among them. Always at most :attr:`seconds`: the
        workers' tasks all ran while this process waited for them."""
        return self.serial + self.busy / self.workers


def pooled_run(folder, n_samples, pool, workers, seed=1):
    """The whole job with the bootstrap on ``pool`` (of ``workers``), lesson 06's
    :func:`~helpers.panel.compute_ci` written out so that each phase is timed: load the data,
    submit the batches and wait for them (each timed in its worker), combine them and take the
    quantiles. Returns the intervals, the same as :func:`serial_pipeline`'s, and the :class:`Run`."""
    with stopwatch() as whole:
        with stopwatch() as load:
            returns = load_small_sample(folder)
        seeds = np.random.SeedSequence(seed).spawn(n_samples)
        size = default_batch_size(n_samples, workers)
        futures = [pool.submit(timed_statistics, returns, seeds[start:start + size])
                   for start in range(0, n_samples, size)]
        batches = [future.result() for future in futures]
        with stopwatch() as finish:
            intervals = get_ci(np.concatenate([stats for stats, _ in batches]), like=compute_rv(returns))
    return intervals, Run(whole.seconds, load.seconds + finish.seconds, sum(took for _, took in batches), workers)


def ready():
    """Pool initializer with nothing to do: unpickling it imports this module, and with it pandas
    and the course's code, in each worker as it starts, before any timed task reaches it."""


def started_pool(workers):
    """A process pool whose ``workers`` are all running and have imported the course's code, so
    that a run timed on it measures the work, not the start-up (timed on its own by
    :func:`measure_parts`). Under ``spawn`` and ``forkserver`` a pool starts a worker for a task
    only when none is idle: as many tasks at once as workers start them all."""
    pool = ProcessPoolExecutor(workers, initializer=ready)
    list(pool.map(abs, range(workers)))
    return pool


def start_and_stop(workers):
    """Start a pool of ``workers`` (all of them, see :func:`started_pool`) and close it."""
    started_pool(workers).shutdown()


@dataclass
class Parts:
    """What each part of the pipeline took, measured on its own (seconds, the fastest of a few tries)."""

    load: float  # read the files and compute the returns
    pickle_once: float  # pickle the data for one task
    bootstrap: float  # every sample's statistic, one after another in this process
    compiled_bootstrap: float  # the same with lesson 07's kernel, on one thread
    combine: float  # put the batches' results into one array
    quantiles: float  # the 99% intervals from the statistics
    start: float  # start a pool's workers, each importing the course's code, and close it
    n_samples: int
    workers: int  # the pool size the batches are counted for (lesson 06: four per worker)

    def tasks(self, way=WAYS[0]):
        """How many times ``way`` pickles the data: once per task, or once per worker."""
        if way == WAYS[2]:
            return self.n_samples
        if way == WAYS[3]:
            return self.workers
        return -(-self.n_samples // default_batch_size(self.n_samples, self.workers))

    def serial(self, way=WAYS[0]):
        """The seconds that stay in the notebook's process, whatever the number of workers."""
        once = self.load + self.tasks(way) * self.pickle_once + self.combine + self.quantiles
        return once + (self.start if way == WAYS[1] else 0.0)

    def parallel(self, way=WAYS[0]):
        """The seconds that the workers share."""
        return self.compiled_bootstrap if way == WAYS[4] else self.bootstrap

    def one_process(self, way=WAYS[0]):
        """The whole run without a pool: loading, the bootstrap, the quantiles."""
        return self.load + self.parallel(way) + self.quantiles

    def predicted(self, workers, way=WAYS[0], one_process_seconds=None):
        """Amdahl's prediction of the speed-up on ``workers`` workers, over ``one_process_seconds``
        (a measured run in one process; by default the sum of the parts, :meth:`one_process`)."""
        return predicted_speedup(self.serial(way), self.parallel(way), workers,
                                 one_process_seconds or self.one_process(way))

    def ceiling(self, way=WAYS[0], one_process_seconds=None):
        """The most any number of workers can give, for this way of running the bootstrap."""
        return ceiling(self.serial(way), self.parallel(way), one_process_seconds or self.one_process(way))

    def table(self):
        """The parts, their seconds and where they run: once in the notebook's process, or shared
        by the workers."""
        once, shared = "once, in this process", "shared by the workers"
        rows = {"load the data": (self.load, once),
                f"pickle the data for {self.tasks()} tasks": (self.tasks() * self.pickle_once, once),
                f"bootstrap {self.n_samples} samples": (self.bootstrap, shared),
                "combine the batches": (self.combine, once),
                "take the quantiles": (self.quantiles, once),
                f"start {self.workers} workers (for a pool started for one run)": (self.start, once),
                f"bootstrap {self.n_samples} samples, compiled (lesson 07)": (self.compiled_bootstrap, shared)}
        return pd.DataFrame(rows.values(), index=pd.Index(rows, name="part"), columns=["seconds", "runs"])

    def ways(self, worker_counts):
        """For each of :data:`WAYS`: its serial and parallel parts, its serial share, Amdahl's
        prediction on each of ``worker_counts`` and its ceiling."""
        rows = {way: {"serial (s)": self.serial(way), "parallel (s)": self.parallel(way),
                      "serial share": serial_share(self.serial(way), self.parallel(way)),
                      **{f"{n} workers": self.predicted(n, way) for n in worker_counts},
                      "ceiling": self.ceiling(way)} for way in WAYS}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("way")


def bootstrap_seconds(returns, seeds, chunk=50):
    """Seconds for the bootstrap of all ``seeds`` in this process, from the fastest chunk of
    ``chunk`` samples (the work per sample does not depend on the sample)."""
    chunks = [seeds[start:start + chunk] for start in range(0, len(seeds), chunk)]
    per_sample = min(seconds(samples_to_statistics, returns, part) / len(part) for part in chunks)
    return per_sample * len(seeds)


def compiled_seconds(returns, n_samples, repeats=3):
    """Seconds of lesson 07's compiled bootstrap of ``n_samples`` on one thread, after a warm-up
    call (which loads the kernel from Numba's cache, or compiles it)."""
    import numba

    from helpers import compiled

    values, offsets, _ = compiled.returns_to_arrays(returns)
    words = np.random.SeedSequence(1).generate_state(n_samples, dtype=np.uint64)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        compiled.bootstrap_rv_compiled(values, offsets, words[:2])
        return measure(lambda: compiled.bootstrap_rv_compiled(values, offsets, words), repeats)["min"]
    finally:
        numba.set_num_threads(threads)


def measure_parts(folder, n_samples, workers=2, seed=1):
    """Time each part of the pipeline on its own (see :class:`Parts`): the pool's start-up with
    ``workers`` workers, and the data pickled for lesson 06's batches on that many workers."""
    with stopwatch() as first_load:
        returns = load_small_sample(folder)
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    stats = samples_to_statistics(returns, seeds[:1]).repeat(n_samples, axis=0)  # the right shape
    like = compute_rv(returns)
    batches = np.array_split(stats, -(-n_samples // default_batch_size(n_samples, workers)))
    return Parts(load=min(first_load.seconds, seconds(load_small_sample, folder)),
                 pickle_once=measure(lambda: pickle.dumps((returns, seeds[:1])), 5)["min"],
                 bootstrap=bootstrap_seconds(returns, seeds),
                 compiled_bootstrap=compiled_seconds(returns, n_samples),
                 combine=measure(lambda: np.concatenate(batches), 3)["min"],
                 quantiles=measure(lambda: get_ci(stats, like), 3)["min"],
                 start=seconds(start_and_stop, workers),
                 n_samples=n_samples, workers=workers)
