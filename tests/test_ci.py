"""CI's choice of the second Python (.ci/newest-python): Python 3.14 from Debian's packages, and,
on a day those cannot be had, a loud warning and the newest other Python instead of a blocked
run. The failure is made certain by naming a Debian suite that does not exist."""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHOOSE = ROOT / ".ci" / "newest-python"


def choose(tmp_path, **environment):
    env = {key: value for key, value in os.environ.items() if key != "NEWEST_PYTHON"}
    return subprocess.run([str(CHOOSE), str(tmp_path / "python-3.14")], capture_output=True, text=True,
                          timeout=300, env={**env, **environment})


def test_newest_python_names_the_python_it_is_given(tmp_path):
    done = choose(tmp_path, NEWEST_PYTHON="/opt/some/python3.13")
    assert done.returncode == 0 and done.stdout.strip() == "/opt/some/python3.13"


def test_without_debians_python_it_warns_loudly_and_falls_back(tmp_path):
    done = choose(tmp_path, COURSE_DEBIAN_SUITE="no-such-suite")
    assert "could not read Debian's no-such-suite suite" in done.stderr
    assert "WARNING: Python 3.14 could not be had" in done.stderr and "NOT tested" in done.stderr
    if done.returncode == 0:
        fallback = done.stdout.strip()
        version = subprocess.run([fallback, "-c", "import sys; print(sys.version_info[:2])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        assert version in ("(3, 13)", "(3, 12)"), f"fell back to {fallback} ({version})"
    else:
        assert "none found" in done.stderr, done.stderr
