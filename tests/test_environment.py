"""The pinned package lists stay in step and install on every supported Python and platform.

requirements.txt (pip, what the lessons use), requirements-test.txt (the test tools, which
`make lab` never installs), constraints.txt (pip's full pin set) and environment.yml (conda, the
lessons' packages) name the same versions. Environment markers choose another pin where one
version cannot serve every supported Python and platform; every (Python, platform) pair must see
exactly one pin per package. The supported range is declared once, in ``helpers.setup_check``,
and pyproject.toml and the README must agree with it.

The last test resolves the whole pinned set for each supported (Python, platform) pair with
``uv pip compile`` against the package index, from wheels only: it fails on a missing wheel or
an unmet ``Requires-Python`` (pip cannot do this: it evaluates markers against the running
interpreter). Without the index it skips saying why, except in CI (``CI=true``), where it fails.
"""
import os
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from helpers import setup_check

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"
TEST_REQUIREMENTS = ROOT / "requirements-test.txt"
CONSTRAINTS = ROOT / "constraints.txt"
# Packages that a platform does not get, and why (every other package has a pin everywhere).
NOT_ON = {"mpi4py": "win32", "mpich": "win32"}  # MPICH publishes no Windows wheels
# What only the tests use: never in the students' requirements.txt.
TEST_TOOLS = {"pytest", "nbval", "pytest-timeout", "playwright", "uv", "zizmor", "check-jsonschema"}

# uv's --python-platform for each platform, and the marker values pip sees there.
PLATFORMS = {
    "x86_64-manylinux_2_28": {"sys_platform": "linux", "platform_system": "Linux",
                              "platform_machine": "x86_64", "os_name": "posix"},
    "aarch64-apple-darwin": {"sys_platform": "darwin", "platform_system": "Darwin",
                             "platform_machine": "arm64", "os_name": "posix"},
    "x86_64-apple-darwin": {"sys_platform": "darwin", "platform_system": "Darwin",
                            "platform_machine": "x86_64", "os_name": "posix"},
    "x86_64-pc-windows-msvc": {"sys_platform": "win32", "platform_system": "Windows",
                               "platform_machine": "AMD64", "os_name": "nt"},
}
# The lowest release of each supported minor version, and both sides of the soupsieve marker.
PYTHONS = ["3.11.2", "3.11.5", "3.12.0", "3.13.0", "3.14.0"]
PAIRS = [(python, platform) for python in PYTHONS for platform in PLATFORMS]


def supported(python, platform):
    """The README's promise: 3.11.2 to 3.14, except Intel Macs, which stop at 3.13."""
    system, machine = PLATFORMS[platform]["platform_system"], PLATFORMS[platform]["platform_machine"]
    version = tuple(int(part) for part in python.split("."))
    return setup_check.check_python(version, system, machine).status == "OK"


def environment(python, platform):
    """The environment markers of CPython ``python`` on ``platform``."""
    return {**PLATFORMS[platform], "python_full_version": python,
            "python_version": ".".join(python.split(".")[:2]),
            "implementation_name": "cpython", "platform_python_implementation": "CPython"}


def requirement_lines(path):
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [Requirement(line) for line in lines if line]


def pins(path, env):
    """``{name: version}`` of the lines of ``path`` whose marker holds in ``env``; a package with
    two applicable pins is an error (overlapping markers)."""
    chosen = {}
    for requirement in requirement_lines(path):
        if requirement.marker is None or requirement.marker.evaluate(env):
            name = canonicalize_name(requirement.name)
            assert name not in chosen, f"{path.name}: two pins of {name} apply to {env}"
            chosen[name] = next(iter(requirement.specifier)).version
    return chosen


def conda_packages():
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    entries = [d for d in spec["dependencies"] if isinstance(d, str) and "=" in d]
    return {canonicalize_name(d.split("=", 1)[0]): d.split("=", 1)[1]
            for d in entries if not d.startswith("python")}


def test_every_pin_is_exact():
    for path in (REQUIREMENTS, TEST_REQUIREMENTS, CONSTRAINTS):
        for requirement in requirement_lines(path):
            specifiers = list(requirement.specifier)
            assert len(specifiers) == 1 and specifiers[0].operator == "==", \
                f"{path.name}: not an exact pin: {requirement}"


@pytest.mark.parametrize("python, platform", PAIRS)
def test_markers_pick_one_pin_of_every_package(python, platform):
    env = environment(python, platform)
    for path in (REQUIREMENTS, TEST_REQUIREMENTS):
        named = {canonicalize_name(r.name) for r in requirement_lines(path)}
        expected = {name for name in named if NOT_ON.get(name) != env["sys_platform"]}
        assert set(pins(path, env)) == expected, f"{path.name} on {platform}"
    pins(CONSTRAINTS, env)  # fails on overlapping markers


@pytest.mark.parametrize("python, platform", PAIRS)
def test_constraints_agree_with_requirements(python, platform):
    env = environment(python, platform)
    constraints = pins(CONSTRAINTS, env)
    for name, version in {**pins(REQUIREMENTS, env), **pins(TEST_REQUIREMENTS, env)}.items():
        assert constraints.get(name) == version, f"{name}: constraints.txt has {constraints.get(name)}"


def test_make_lab_installs_no_test_tool():
    students = {canonicalize_name(r.name) for r in requirement_lines(REQUIREMENTS)}
    tests = {canonicalize_name(r.name) for r in requirement_lines(TEST_REQUIREMENTS)}
    assert not students & TEST_TOOLS, f"test tools in requirements.txt: {students & TEST_TOOLS}"
    assert TEST_TOOLS <= tests, f"requirements-test.txt lacks {TEST_TOOLS - tests}"
    assert not conda_packages().keys() & TEST_TOOLS, "environment.yml is for the lessons, not for the tests"
    makefile = (ROOT / "Makefile").read_text()
    lab_environment = makefile.split("$(STAMP): requirements.txt", 1)[1].split("\n\n", 1)[0]
    assert "requirements-test.txt" not in lab_environment and "-r requirements.txt" in lab_environment


def test_conda_environment_lists_the_same_packages_and_versions():
    """conda-forge builds every platform itself, so environment.yml uses the main pins."""
    assert conda_packages() == pins(REQUIREMENTS, environment("3.11.5", "x86_64-manylinux_2_28"))


def test_conda_python_is_in_the_supported_range():
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in spec["dependencies"] if isinstance(d, str) and d.startswith("python="))
    minor = tuple(int(part) for part in python.split("=")[1].split(".")[:2])
    assert setup_check.LOWEST_PYTHON[:2] <= minor <= setup_check.NEWEST_PYTHON


def test_pyproject_and_readme_state_the_supported_range():
    lowest, newest = setup_check.LOWEST_PYTHON, setup_check.NEWEST_PYTHON
    text = (ROOT / "pyproject.toml").read_text()
    declared = SpecifierSet(text.split("requires-python = ", 1)[1].split("\n", 1)[0].strip('"'))
    assert declared == SpecifierSet(f">={setup_check.dotted(lowest)},<{newest[0]}.{newest[1] + 1}")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"Python {setup_check.dotted(lowest)} to {setup_check.dotted(newest)}" in readme
    assert f"Intel Macs: {setup_check.dotted(lowest)} to {setup_check.dotted(setup_check.NEWEST_PYTHON_INTEL_MAC)}" in readme


# --- Resolution from wheels, for every pair -----------------------------------------------------

def index_url():
    return os.environ.get("UV_DEFAULT_INDEX") or os.environ.get("UV_INDEX_URL") or "https://pypi.org/simple"


def why_resolution_cannot_run():
    """``None`` when uv and the package index are both available, else the reason."""
    if subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True).returncode:
        return f"uv is not installed in {sys.prefix} (pip install -r requirements.txt -c constraints.txt)"
    try:
        urllib.request.urlopen(f"{index_url().rstrip('/')}/uv/", timeout=15).close()
    except OSError as error:
        return f"the package index {index_url()} is not reachable ({error})"
    return None


def resolve(python, platform):
    """``uv pip compile`` of the course for one pair, from wheels only, without installing."""
    command = [sys.executable, "-m", "uv", "pip", "compile", str(REQUIREMENTS), str(TEST_REQUIREMENTS),
               str(ROOT / "pyproject.toml"),
               "-c", str(CONSTRAINTS), "--python-version", python, "--python-platform", platform,
               "--only-binary", ":all:", "--no-header", "--no-annotate", "--quiet",
               # Any interpreter will do for the metadata; never download the target Python.
               "--python", sys.executable, "--no-python-downloads"]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)


def require_resolution(what):
    """Skip, saying why, when the package index cannot be reached; in CI (``CI=true``) fail instead."""
    reason = why_resolution_cannot_run()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must {what}, but {reason}")
        pytest.skip(f"cannot resolve the pinned set: {reason}")


@pytest.fixture(scope="module")
def resolutions():
    require_resolution("resolve the pinned set for every supported Python")
    with ThreadPoolExecutor(4) as pool:  # uv mostly waits on the index: run pairs side by side
        return dict(zip(PAIRS, pool.map(lambda pair: resolve(*pair), PAIRS)))


@pytest.mark.parametrize("python, platform", PAIRS)
def test_pinned_set_installs_from_wheels(resolutions, python, platform):
    done = resolutions[(python, platform)]
    if not supported(python, platform):
        assert done.returncode != 0, f"{python} on {platform} resolves now: widen the supported range"
        return
    assert done.returncode == 0, f"{python} on {platform}:\n{done.stderr}"
    resolved = {canonicalize_name(line.split("==")[0]): line.split("==")[1].split(";")[0].strip()
                for line in done.stdout.splitlines() if "==" in line}
    pinned = pins(CONSTRAINTS, environment(python, platform))
    unpinned = {name: version for name, version in resolved.items() if name not in pinned}
    assert not unpinned, f"{python} on {platform} installs packages constraints.txt does not pin: {unpinned}"
    moved = {name: (pinned[name], version) for name, version in resolved.items() if pinned[name] != version}
    assert not moved, f"{python} on {platform}: resolved versions differ from the pins (pin, got): {moved}"


# The next Python: not supported while pinned packages publish no wheels for it. This test is
# expected to fail; the day the pinned set resolves for it, pytest reports it as XPASS (a notice
# in the summary, not a failure): time to widen the supported range.
NEXT_PYTHON = "3.15.0"


@pytest.mark.xfail(reason=f"Python {NEXT_PYTHON}: {setup_check.WITHOUT_WHEELS[(False, (3, 15))]} no wheels yet",
                   strict=False, raises=AssertionError)
def test_the_next_python_resolves_from_wheels():
    require_resolution(f"try the pinned set on Python {NEXT_PYTHON}")
    done = resolve(NEXT_PYTHON, "x86_64-manylinux_2_28")
    assert done.returncode == 0, done.stderr
