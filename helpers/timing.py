"""Wall-clock timing for the whole course: the notebooks, the helpers and the benchmark suite.

Every timing the course shows goes through here, so "how long did that take" means the same
thing everywhere: elapsed wall time from ``time.perf_counter`` (what the person waiting sees,
including pool start-up and data transfer), never CPU time.
"""

import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Stopwatch:
    """A running clock: ``elapsed()`` reads it inside a ``with stopwatch()`` block, and
    ``seconds`` holds the block's whole duration once the block ends."""

    start: float = field(default_factory=time.perf_counter)
    seconds: float = float("nan")

    def elapsed(self):
        """Seconds since the clock started."""
        return time.perf_counter() - self.start


@contextmanager
def stopwatch():
    """Time a block of code: ``with stopwatch() as clock: ...`` then read ``clock.seconds``
    (and ``clock.elapsed()`` for the time so far, inside the block)."""
    clock = Stopwatch()
    try:
        yield clock
    finally:
        clock.seconds = clock.elapsed()


def seconds(function, *args, **kwargs):
    """Wall time of one call ``function(*args, **kwargs)``; the result is discarded."""
    with stopwatch() as clock:
        function(*args, **kwargs)
    return clock.seconds


def summarize(runs):
    """The median, min and max of a list of wall times (seconds), and how many there are."""
    if not runs:
        raise ValueError("summarize needs at least one run; time the function at least once")
    return {"median": statistics.median(runs), "min": min(runs), "max": max(runs), "runs": len(runs)}


def measure(function, repeats=3):
    """Run ``function()`` ``repeats`` times and summarize its wall times (see :func:`summarize`)."""
    return summarize([seconds(function) for _ in range(repeats)])


def scale(figures, factor):
    """A summary with every time multiplied by ``factor``: the time of ``factor`` times the work,
    for figures measured on a part of it (an extrapolation, to be labelled as one)."""
    return {**figures, **{key: figures[key] * factor for key in ("median", "min", "max")}}


def ratio(slow, fast):
    """How many times faster ``fast`` is than ``slow`` (two summaries), by their medians."""
    return slow["median"] / fast["median"]


def efficiency(speed_up, workers):
    """Parallel efficiency: the speed-up as a share of the ideal one (the number of workers)."""
    return speed_up / workers
