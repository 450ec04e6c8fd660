"""The pinned package lists stay in step: requirements.txt (pip), environment.yml (conda) and
constraints.txt (pip's full pin set) name the same versions of the course's packages."""
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines, separator):
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split(separator, 1)
            pins[re.sub(r"\[.*\]", "", name).strip().lower()] = version.strip()
    return pins


def requirements():
    return _pins((ROOT / "requirements.txt").read_text().splitlines(), "==")


def conda_packages():
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    entries = [d for d in spec["dependencies"] if isinstance(d, str)]
    return _pins([d for d in entries if "=" in d and not d.startswith("python=")], "=")


def test_every_requirement_is_pinned_exactly():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line), f"not an exact pin: {line}"


def test_conda_environment_lists_the_same_packages_and_versions():
    assert conda_packages() == requirements()


def test_constraints_agree_with_requirements():
    constraints = _pins((ROOT / "constraints.txt").read_text().splitlines(), "==")
    for name, version in requirements().items():
        assert constraints.get(name) == version, f"{name}: constraints.txt has {constraints.get(name)}"
