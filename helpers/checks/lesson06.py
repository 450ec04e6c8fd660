"""Checkers for lesson 06's exercises: independent random streams, and a parallel bootstrap of
realized quarticity that gives exactly the serial result."""

import pickle
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from helpers import data, panel, streams
from helpers.checks import passed, require

PI_SEED, PI_TASKS, PI_POINTS = 2024, 4, 100_000


def check_independent_hits(hits):
    """Exercise 6.1: ``hits`` holds, in task order, ``quarter_circle_hits(stream, 100_000)`` for
    the streams ``SeedSequence(2024).spawn(4)``."""
    require(isinstance(hits, (list, tuple, np.ndarray)) and len(hits) == PI_TASKS,
            f"Wrong type or length: hits should be a list of {PI_TASKS} counts, one per task.")
    hits = [int(h) for h in hits]
    expected = [streams.quarter_circle_hits(seed, PI_POINTS) for seed in np.random.SeedSequence(PI_SEED).spawn(PI_TASKS)]
    require(len(set(hits)) == PI_TASKS,
            "Some tasks drew exactly the same points: they shared one seed or one generator (a generator "
            "passed to a task travels with its state). Every task needs a stream of its own.")
    require(all(abs(h / PI_POINTS - np.pi / 4) < 0.01 for h in hits),
            f"Wrong value: each count should be the hits among {PI_POINTS:_} points, about pi/4 of them.")
    require(sorted(hits) != sorted(expected) or hits == expected,
            "Right counts in the wrong order: keep the results in task order, not in the order they finished.")
    require(hits == expected,
            f"Not reproducible from the seed: the streams should be the children of SeedSequence({PI_SEED}), "
            f"one per task.")
    passed(f"{PI_TASKS} independent streams, reproducible from seed {PI_SEED}; "
           f"pi is about {4 * sum(hits) / (PI_TASKS * PI_POINTS):.4f}.")


class _CheckingExecutor(ThreadPoolExecutor):
    """A pool that behaves like a process pool where it matters for the check: arguments are
    copied by pickling (a generator passed to two tasks arrives twice with the same state), and
    the first task is held back so it finishes last (arrival order differs from sample order).
    It records what was submitted."""

    def __init__(self, max_workers):
        super().__init__(max_workers)
        self.functions = []

    def submit(self, function, /, *args, **kwargs):
        self.functions.append(function)
        args, kwargs = pickle.loads(pickle.dumps((args, kwargs)))
        delay = 0.5 if len(self.functions) == 1 else 0.0
        return super().submit(_after, delay, function, *args, **kwargs)


def _after(delay, function, *args, **kwargs):
    time.sleep(delay)
    return function(*args, **kwargs)


def _tiny_returns():
    prices = data.simulate_panel(6, tickers=("CSCO", "BA"), days=data.trading_days_2007()[:3]).prices
    return data.intraday_log_returns(prices)


def _sample_bytes(stats):
    """Each sample of ``stats`` as bytes, to compare samples exactly."""
    return [bytes(sample) for sample in np.ascontiguousarray(stats).reshape(len(stats), -1)]


def _same_samples_other_order(result, expected):
    """Every sample of ``expected`` is in ``result``, but not all at their own index."""
    return (sorted(_sample_bytes(result)) == sorted(_sample_bytes(expected))
            and not np.array_equal(result, expected))


def check_quarticity_bootstrap(bootstrap_quarticity, n_samples=24, seed=6):
    """Exercise 6.2: ``bootstrap_quarticity(returns, n_samples, seed, executor)`` returns the
    realized quarticity of ``n_samples`` bootstrap samples (samples x days x stocks), computed
    in several tasks on ``executor``, equal to the serial
    ``bootstrap_statistics(returns, n_samples, seed=seed, statistic=realized_quarticity)``."""
    require(callable(bootstrap_quarticity),
            "Wrong type: pass the function bootstrap_quarticity itself (no parentheses), not its result.")
    returns = _tiny_returns()
    expected = panel.bootstrap_statistics(returns, n_samples, seed=seed, statistic=panel.realized_quarticity)
    with _CheckingExecutor(4) as executor:
        result = bootstrap_quarticity(returns, n_samples, seed, executor)
    require(executor.functions,
            "Not parallel: nothing was submitted to the executor passed in. Submit the batches of samples to it.")
    require(all(getattr(f, "__module__", "__main__") != "__main__" for f in executor.functions),
            "You submit a function defined in the notebook: under spawn and forkserver the workers cannot "
            "import it. Submit a function from helpers.panel.")
    require(len(executor.functions) > 1,
            "Only one task was submitted: one worker does everything. Split the samples into several batches.")
    result = np.asarray(result, dtype=float)
    require(result.shape == expected.shape,
            f"Wrong shape: expected (samples, days, stocks) = {expected.shape}, got {result.shape}.")
    rv = panel.bootstrap_statistics(returns, n_samples, seed=seed)
    require(not np.allclose(result, rv),
            "Wrong statistic: these are realized variances. Bootstrap realized quarticity instead.")
    distinct = len(set(_sample_bytes(result)))
    require(distinct == n_samples,
            "Some bootstrap samples are identical: tasks shared a seed or a generator. Every sample needs "
            "its own stream.")
    require(not _same_samples_other_order(result, expected),
            "Right samples in the wrong order (arrival order?): store each batch at its samples' positions.")
    require(np.array_equal(result, expected),
            "Not reproducible: sample i must come from the i-th stream of SeedSequence(seed).spawn(n_samples), "
            "whichever task computes it, so that the result equals the serial run.")
    with _CheckingExecutor(2) as other:
        require(np.array_equal(np.asarray(bootstrap_quarticity(returns, n_samples, seed, other)), expected),
                "The result depends on the executor's number of workers: not reproducible.")
    passed(f"the parallel bootstrap of realized quarticity ({len(executor.functions)} tasks) equals the "
           "serial one exactly.")
