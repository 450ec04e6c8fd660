"""Amdahl's law and Gustafson's (helpers/amdahl.py): the formulas against values worked out by
hand, the law and its inverse agreeing, the ceiling, the errors on impossible inputs, and the
exercise's job, whose parts take the waits it declares."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import amdahl
from helpers.timing import seconds


def test_a_tenth_serial_gives_at_most_ten_times():
    assert amdahl.amdahl_speedup(0.1, 1) == pytest.approx(1.0)
    assert amdahl.amdahl_speedup(0.1, 2) == pytest.approx(1 / 0.55)
    assert amdahl.amdahl_speedup(0.1, 10**9) == pytest.approx(10, rel=1e-6)
    assert amdahl.amdahl_speedup(0.0, 8) == pytest.approx(8)
    assert amdahl.amdahl_speedup(1.0, 64) == pytest.approx(1)


def test_the_prediction_comes_from_the_measured_parts():
    assert amdahl.serial_share(1, 3) == pytest.approx(0.25)
    assert amdahl.predicted_speedup(1, 3, 3) == pytest.approx(2.0)  # 4 s become 1 + 3/3 s
    assert amdahl.ceiling(1, 3) == pytest.approx(4.0)
    # a pool adding its own serial parts: the one-process run takes 3.5 s, not serial + parallel
    assert amdahl.predicted_speedup(1, 3, 3, one_process_seconds=3.5) == pytest.approx(1.75)
    assert amdahl.ceiling(1, 3, one_process_seconds=3.5) == pytest.approx(3.5)
    assert amdahl.ceiling(0, 3) == float("inf")


@pytest.mark.parametrize("share", [0.0, 0.05, 0.3, 1.0])
@pytest.mark.parametrize("workers", [2, 4, 16])
def test_the_share_read_from_a_speedup_gives_that_speedup_back(share, workers):
    assert amdahl.share_from_speedup(amdahl.amdahl_speedup(share, workers), workers) == pytest.approx(share, abs=1e-12)


def test_noisy_speedups_are_kept_to_possible_shares():
    assert amdahl.share_from_speedup(2.3, 2) == 0.0  # better than ideal: noise
    assert amdahl.share_from_speedup(0.8, 2) == 1.0  # slower than one process
    with pytest.raises(ValueError, match="2 or more workers"):
        amdahl.share_from_speedup(1.0, 1)


def test_gustafson_grows_the_work_with_the_workers():
    assert amdahl.gustafson_speedup(0.0, 8) == pytest.approx(8)
    assert amdahl.gustafson_speedup(1.0, 8) == pytest.approx(1)
    assert amdahl.gustafson_speedup(0.25, 2) == pytest.approx(1.75)
    # the same run seen both ways: serial 1 s, parallel 6 s on 2 workers (12 s of work in one process)
    share_on_2 = 1 / (1 + 6)
    assert amdahl.gustafson_speedup(share_on_2, 2) == pytest.approx(amdahl.predicted_speedup(1, 12, 2))


@pytest.mark.parametrize("call", [lambda: amdahl.serial_share(-1, 2), lambda: amdahl.serial_share(0, 0),
                                  lambda: amdahl.amdahl_speedup(1.5, 2), lambda: amdahl.amdahl_speedup(0.5, 0)])
def test_impossible_inputs_are_refused(call):
    with pytest.raises(ValueError):
        call()


def test_the_nightly_job_takes_the_waits_it_declares():
    sizes = [1, 2, 3]
    with ThreadPoolExecutor(3) as pool:
        assert amdahl.nightly_job(pool, sizes) == 6
        took = seconds(amdahl.nightly_job, pool, sizes)
    serial = amdahl.OPEN_SECONDS + amdahl.MERGE_SECONDS
    assert serial + amdahl.FETCH_SECONDS_PER_MB * max(sizes) <= took < serial + amdahl.FETCH_SECONDS_PER_MB * sum(sizes)
    assert amdahl.FETCH_SECONDS_PER_MB * 3 <= seconds(amdahl.fetch, 3) < amdahl.FETCH_SECONDS_PER_MB * 3 + 0.05
