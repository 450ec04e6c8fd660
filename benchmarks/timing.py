"""Small, dependency-free timing statistics for the benchmark suite."""

import statistics
import time


def measure(function, repeats=3):
    """Run ``function()`` ``repeats`` times; the median, min and max wall time in seconds."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        runs.append(time.perf_counter() - start)
    return {"median": statistics.median(runs), "min": min(runs), "max": max(runs), "runs": len(runs)}


def ratio(slow, fast):
    """How many times faster ``fast`` is than ``slow`` (both measurements), by their medians."""
    return slow["median"] / fast["median"]


def efficiency(speed_up, workers):
    """Parallel efficiency: the speed-up as a share of the ideal one (the number of workers)."""
    return speed_up / workers
