"""The benchmark suite: how it judges the course's targets, and a quick run end to
end (a smoke test with tiny sizes: no timing is judged), lesson 12's Amdahl section included."""
import json
import math
import subprocess
import sys
from pathlib import Path

from benchmarks.report import NOT_AVAILABLE, target_rows

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ["## Targets", "## 1. Pool efficiency", "## 2. Lesson 06", "## 3. Lesson 07", "## 4. Lesson 09",
            "## 5. The course", "## 6. Peak memory", "## 7. Lesson 12"]


def fake_results(sleep_speed_up, pandas_speed_up, samples, compiled, vs_scipy, vfi, quick=False):
    """Just the figures that the targets read."""
    return {"quick": quick,
            "pool": {"scaling": [{"jobs": "sleep jobs", "workers": 2, "speed_up": sleep_speed_up}]},
            "lesson06": {"full panel": {"speed_up_initializer": pandas_speed_up, "samples": samples}},
            "lesson07": {"samples": samples, "compiled (Numba, warm)": {"median": compiled}, "compiled vs scipy": vs_scipy},
            "lesson09": {"numba_full_solution": {"grid": 1000, "median": vfi}}}


def test_targets_are_judged_against_their_thresholds():
    met = target_rows(fake_results(1.85, 1.85, 1000, 0.24, 31.0, 0.9))
    assert [row["verdict"] for row in met] == ["met"] * 5
    missed = target_rows(fake_results(1.79, 1.79, 1000, 0.26, 29.9, 1.0))
    assert [row["verdict"] for row in missed] == ["MISSED"] * 5
    assert [row["measured"] for row in missed] == [1.79, 1.79, 0.26, 29.9, 1.0]


def test_pandas_target_needs_enough_samples():
    rows = target_rows(fake_results(2.0, 1.9, 999, 0.1, 50.0, 0.1))
    assert rows[1]["verdict"] == "MISSED"


def test_quick_mode_and_missing_sections_are_not_judged():
    assert {row["verdict"] for row in target_rows(fake_results(2, 2, 1000, 0.1, 50, 0.1, quick=True))} == {
        "not judged (quick mode)"}
    results = fake_results(2, 2, 1000, 0.1, 50, 0.1)
    results["lesson07"] = {NOT_AVAILABLE: "ModuleNotFoundError: No module named 'helpers.compiled'"}
    verdicts = [row["verdict"] for row in target_rows(results)]
    assert verdicts[2].startswith(NOT_AVAILABLE) and verdicts[3].startswith(NOT_AVAILABLE)
    assert verdicts[:2] + verdicts[4:] == ["met"] * 3


def positive(figures):
    return isinstance(figures["median"], float) and 0 < figures["min"] <= figures["median"] <= figures["max"]


def test_quick_run_writes_every_section(tmp_path):
    result = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    report = (tmp_path / "benchmarks.md").read_text()
    assert all(heading in report for heading in SECTIONS)
    assert NOT_AVAILABLE not in report, result.stderr[-3000:]
    results = json.loads((tmp_path / "benchmarks.json").read_text())
    assert results["quick"] is True and results["machine"]["cores"] >= 1
    assert len(results["targets"]) == 5
    for target in results["targets"]:
        assert target["verdict"] == "not judged (quick mode)"
        assert isinstance(target["measured"], float) and math.isfinite(target["measured"])
        assert f"| {target['target']} | {target['wanted']} |" in report
    assert all(positive(row) for row in results["pool"]["scaling"])
    assert {row["workers"] for row in results["pool"]["scaling"]} >= {"serial", 1, 2}
    assert positive(results["pool"]["pool_startup"]) and positive(results["pool"]["future_round_trip"])
    assert all(positive(figures) for figures in results["pool"]["chunksize"].values())
    for data in results["lesson06"].values():
        ways = ["serial", "2 workers, data with every batch", "2 workers, data once per worker",
                "lecture's way, serial (scaled up)"]
        assert all(positive(data[way]) for way in ways)
        assert data["speed_up"] > 0 and data["speed_up_initializer"] > 0
    lesson07 = results["lesson07"]
    assert all(positive(lesson07[name]) for name in ["vectorized NumPy", "scipy.stats.bootstrap", "compiled (Numba, warm)"])
    assert lesson07["compile_seconds"] > 0 and lesson07["compiled vs scipy"] > 0
    assert all(positive(row[s]) for row in results["lesson09"]["per_grid"] for s in ["loops", "pool of 2", "Numba"])
    assert positive(results["lesson09"]["numba_full_solution"])
    assert results["notebooks"] and all(seconds > 0 for seconds in results["notebooks"].values())
    memory = results["memory"]["MB"]
    assert all(mb >= 0 for variant in memory.values() for mb in variant.values())
    assert memory["plain"]["tracemalloc"] > 0 and memory["chunked"]["tracemalloc"] > 0
    amdahl = results["amdahl"]
    assert amdahl["samples"] == 4 and positive(amdahl["one_process"]) and amdahl["one_process_from_parts"] > 0
    assert all(seconds >= 0 for seconds in amdahl["parts"].values()) and len(amdahl["parts"]) == 7
    assert [row["workers"] for row in amdahl["scaling"]][:2] == [1, 2]
    assert all(positive(row) and row["measured"] > 0 and row["predicted"] > 0 for row in amdahl["scaling"])
    assert all(way["ceiling"] >= way["predicted"]["64"] > 0 for way in amdahl["ways"].values())
    assert "| workers | time | predicted | measured | measured / predicted |" in report
    assert (tmp_path / "benchmarks.png").stat().st_size > 0
