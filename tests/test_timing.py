"""helpers.timing, the course's one wall-clock timer: what it measures and how it summarizes.
No assertion here depends on how fast the machine is."""
import math

import pytest

from helpers.timing import Stopwatch, efficiency, measure, ratio, scale, seconds, stopwatch, summarize


def test_stopwatch_fills_in_the_seconds_when_the_block_ends():
    with stopwatch() as clock:
        assert isinstance(clock, Stopwatch) and math.isnan(clock.seconds)  # not known inside the block
    assert clock.seconds >= 0


def test_stopwatch_fills_in_the_seconds_even_when_the_block_raises():
    with pytest.raises(ZeroDivisionError):
        with stopwatch() as clock:
            1 / 0
    assert clock.seconds >= 0


def test_elapsed_reads_the_running_time_inside_the_block():
    with stopwatch() as clock:
        first = clock.elapsed()
        second = clock.elapsed()
    assert 0 <= first <= second <= clock.seconds


def test_seconds_passes_the_arguments_through_and_calls_once():
    calls = []
    elapsed = seconds(lambda *args, **kwargs: calls.append((args, kwargs)), 1, 2, n_points=5)
    assert calls == [((1, 2), {"n_points": 5})]
    assert elapsed >= 0


def test_summarize_gives_median_min_max():
    assert summarize([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "runs": 3}
    assert summarize([4.0, 1.0, 2.0, 3.0])["median"] == 2.5


def test_summarize_rejects_an_empty_list():
    with pytest.raises(ValueError, match="at least one run"):
        summarize([])


def test_measure_calls_the_function_once_per_repeat():
    calls = []
    figures = measure(lambda: calls.append(1), repeats=5)
    assert len(calls) == 5 and figures["runs"] == 5
    assert 0 <= figures["min"] <= figures["median"] <= figures["max"]


def test_scale_multiplies_the_times_and_keeps_the_run_count():
    assert scale({"median": 2.0, "min": 1.0, "max": 3.0, "runs": 4}, 10) == {
        "median": 20.0, "min": 10.0, "max": 30.0, "runs": 4}


def test_ratio_and_efficiency():
    assert ratio({"median": 4.0}, {"median": 2.0}) == 2.0
    assert ratio({"median": 1.0}, {"median": 4.0}) == 0.25
    assert efficiency(1.5, 2) == 0.75
