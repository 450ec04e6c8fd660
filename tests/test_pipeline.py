"""Lesson 12's pipeline split into its parts (helpers/pipeline.py): what each way of running the
bootstrap changes in the serial and parallel parts, the prediction made from them, pools whose
workers are all started, a measurement of the real parts, and pooled runs that give the serial
intervals."""
import multiprocessing
import os
from pathlib import Path

import pytest

from helpers import pipeline
from helpers.amdahl import predicted_speedup
from helpers.data import ensure_data

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
WAYS = pipeline.WAYS


def parts(**changes):
    figures = dict(load=0.2, pickle_once=0.001, bootstrap=1.0, compiled_bootstrap=0.01, combine=0.002,
                   quantiles=0.003, start=0.5, n_samples=400, workers=2)
    return pipeline.Parts(**{**figures, **changes})


def test_each_way_changes_its_own_part():
    p = parts()
    assert [p.tasks(way) for way in WAYS] == [8, 8, 400, 2, 8]  # lesson 06: four batches per worker
    assert p.serial() == pytest.approx(0.2 + 8 * 0.001 + 0.002 + 0.003)
    assert p.serial(WAYS[1]) == pytest.approx(p.serial() + 0.5)
    assert p.serial(WAYS[2]) == pytest.approx(0.2 + 400 * 0.001 + 0.005)
    assert p.serial(WAYS[3]) == pytest.approx(0.2 + 2 * 0.001 + 0.005)
    assert p.parallel() == p.parallel(WAYS[3]) == 1.0 and p.parallel(WAYS[4]) == 0.01
    assert p.one_process() == pytest.approx(1.203) and p.one_process(WAYS[4]) == pytest.approx(0.213)


def test_the_prediction_is_amdahls_over_the_one_process_run():
    p = parts()
    assert p.predicted(2) == pytest.approx(predicted_speedup(p.serial(), 1.0, 2, p.one_process()))
    assert p.predicted(2, one_process_seconds=2.0) == pytest.approx(2.0 / (p.serial() + 0.5))
    assert p.ceiling() == pytest.approx(p.one_process() / p.serial())
    ceilings = [p.ceiling(way) for way in WAYS]
    assert ceilings[1] < ceilings[0] and ceilings[2] < ceilings[0] < ceilings[3] and ceilings[4] < 1.1


def test_the_tables_list_every_part_and_every_way():
    p = parts()
    table = p.table()
    assert list(table.columns) == ["seconds", "runs"] and len(table) == 7
    assert table.loc["bootstrap 400 samples", "runs"] == "shared by the workers"
    assert table.loc["pickle the data for 8 tasks", "seconds"] == pytest.approx(0.008)
    ways = p.ways([2, 8])
    assert list(ways.index) == list(WAYS)
    assert list(ways.columns) == ["serial (s)", "parallel (s)", "serial share", "2 workers", "8 workers", "ceiling"]
    assert ways.loc[WAYS[0], "8 workers"] == pytest.approx(p.predicted(8))


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_started_pool_has_all_its_workers_running(method):
    multiprocessing.set_start_method(method, force=True)
    try:
        with pipeline.started_pool(3) as pool:
            assert len(pool._processes) == 3
            assert all(process.is_alive() for process in pool._processes.values())
            assert os.getpid() not in pool._processes
    finally:
        multiprocessing.set_start_method(None, force=True)


def test_the_parts_of_the_real_pipeline_are_measured():
    ensure_data(DATA)
    p = pipeline.measure_parts(DATA, 20, workers=2)
    assert all(value > 0 for value in (p.load, p.pickle_once, p.bootstrap, p.compiled_bootstrap, p.quantiles, p.start))
    assert p.combine >= 0 and (p.n_samples, p.workers) == (20, 2)
    assert p.compiled_bootstrap < p.bootstrap


def test_a_pooled_run_gives_the_serial_intervals_and_times_its_own_parts():
    ensure_data(DATA)
    with pipeline.started_pool(2) as pool:
        intervals, run = pipeline.pooled_run(DATA, 12, pool, workers=2, seed=3)
    assert intervals.equals(pipeline.serial_pipeline(DATA, 12, seed=3))
    assert intervals.shape == (20, 4)  # the 20 trading days of January, a lower and an upper bound per stock
    assert 0 < run.serial < run.seconds and run.busy > 0 and run.workers == 2
    assert run.least_seconds() == pytest.approx(run.serial + run.busy / 2) and run.least_seconds() <= run.seconds


def test_the_workers_time_their_own_batches():
    stats, took = pipeline.timed_statistics(pipeline.load_small_sample(DATA), [1, 2])
    assert stats.shape == (2, 20, 2) and took > 0
