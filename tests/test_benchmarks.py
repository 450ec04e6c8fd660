"""The benchmark suite runs end to end (quick mode, as a smoke test: no timing is judged) and its
statistics are right."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.timing import efficiency, measure, ratio

ROOT = Path(__file__).resolve().parents[1]


def test_measure_ratio_efficiency():
    calls = []
    figures = measure(lambda: calls.append(1), repeats=5)
    assert len(calls) == 5 and figures["runs"] == 5
    assert figures["min"] <= figures["median"] <= figures["max"]
    assert ratio({"median": 4.0}, {"median": 2.0}) == 2.0
    assert efficiency(1.5, 2) == 0.75


def test_quick_run_writes_every_section(tmp_path):
    result = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    report = (tmp_path / "benchmarks.md").read_text()
    for heading in ["## Targets", "## 1. Pool efficiency", "## 2. Lesson 06", "## 3. Lesson 07", "## 4. Lesson 09",
                    "## 5. The course", "## 6. Peak memory"]:
        assert heading in report
    results = json.loads((tmp_path / "benchmarks.json").read_text())
    assert results["quick"] is True and results["machine"]["cores"] >= 1
    assert len(results["targets"]) == 5
    assert all(t["verdict"] == "not judged (quick mode)" and isinstance(t["measured"], float) for t in results["targets"])
    for row in results["pool"]["scaling"]:
        assert row["median"] > 0
    assert results["lesson07"]["compiled vs scipy"] > 0
    assert results["memory"]["plain"] > 0 and results["memory"]["chunked"] > 0
    assert (tmp_path / "benchmarks.png").stat().st_size > 0
