"""Is this machine ready for the course? Run ``make check`` or ``python -m helpers.setup_check``.

In a few seconds it reports, one line each, marked OK or WARN (a WARN says how to fix it): the
Python version, the course packages at their pinned versions, JupyterLab's widget extension
(progress bars), the cores this process may use, the default start method, the thread pools of
Numba and the BLAS library, and a short measurement of a two-worker process pool that ends in
what to expect from processes on this machine: Amdahl's law (:mod:`helpers.amdahl`, lesson 12)
applied to the serial share that the measured speed-up implies.

Every check is a small function that takes what it inspects as arguments (a version, the pins,
the text of a cgroup file, core counts), so the tests can fake a one-core machine, a container's
CPU quota or a missing package; ``main`` feeds them this machine's facts. The module itself needs
only the standard library (and :mod:`helpers.amdahl`, which needs no more), so it still reports
(rather than crashes) when packages are missing, and ``--python-only`` runs under any Python 3
(``make lab`` checks the version with it first).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import math
import multiprocessing
import os
import platform
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from helpers.amdahl import amdahl_speedup, share_from_speedup

LOWEST_PYTHON = (3, 11, 2)  # Debian 12's python3: a release students really have
NEWEST_PYTHON = (3, 14)
NEWEST_PYTHON_INTEL_MAC = (3, 13)  # numba 0.62.1, the last with Intel-Mac wheels, stops at 3.13
# Why the next Python is not supported yet, by (Intel Mac?, version): pinned packages that publish
# no wheels for it (tests/test_environment.py tells the day Python 3.15 resolves).
WITHOUT_WHEELS = {(False, (3, 15)): "numpy 2.4.6, scipy 1.17.1 and contourpy 1.3.3 publish",
                  (True, (3, 14)): "numba 0.62.1 and llvmlite 0.45.1 publish"}
REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"
# Checked (for presence only) when the package is installed without requirements.txt beside it.
COURSE_PACKAGES = ("jupyterlab", "ipykernel", "ipywidgets", "numpy", "pandas", "scipy", "tqdm",
                   "matplotlib", "numba", "dask", "distributed", "psutil", "joblib",
                   "threadpoolctl", "line_profiler", "pyinstrument", "mpi4py", "mpich")
WIDGET_EXTENSION = Path("@jupyter-widgets", "jupyterlab-manager", "package.json")
INSTALL_FIX = ("in the course folder run `make clean lab` (without make: "
               "`pip install -r requirements.txt -c constraints.txt -e .` in the course's venv)")


@dataclass(frozen=True)
class Line:
    """One line of the report: OK or WARN, what was checked, what was found, and the fix."""

    status: str
    topic: str
    text: str
    fix: str = ""

    def render(self):
        shown = f"{self.status:<5} {self.topic:<13} {self.text}"
        return shown + (f"\n{'':<19}fix: {self.fix}" if self.fix else "")


def ok(topic, text):
    return Line("OK", topic, text)


def warn(topic, text, fix):
    return Line("WARN", topic, text, fix)


def dotted(version):
    return ".".join(str(part) for part in version)


# --- Python -------------------------------------------------------------------------------

def newest_supported(system, machine):
    """The newest supported Python minor version on this platform (Intel Macs stop earlier)."""
    return NEWEST_PYTHON_INTEL_MAC if (system, machine) == ("Darwin", "x86_64") else NEWEST_PYTHON


def check_python(version, system, machine):
    """Is ``version`` (a tuple such as (3, 11, 2)) inside the range the pins install on?"""
    newest = newest_supported(system, machine)
    supported = f"{dotted(LOWEST_PYTHON)} to {dotted(newest)}"
    if tuple(version[:3]) < LOWEST_PYTHON:
        return warn("Python", f"{dotted(version)} is older than the course supports ({supported})",
                    f"install Python {dotted(LOWEST_PYTHON)} or newer (python.org, or your package "
                    "manager), then `make clean lab PYTHON=/path/to/that/python3`")
    if tuple(version[:2]) > newest:
        where = " on Intel Macs" if newest != NEWEST_PYTHON else ""
        missing = WITHOUT_WHEELS.get((where != "", tuple(version[:2])), "some pinned packages publish")
        return warn("Python", f"{dotted(version)} is newer than the course supports{where} "
                    f"({supported}): {missing} no wheels for it yet",
                    f"install Python {dotted(newest)} (python.org, or your package manager) and use it "
                    f"for the course: `make clean lab PYTHON=python{dotted(newest)}`")
    return ok("Python", f"{dotted(version)} (supported: {supported})")


# --- Packages -----------------------------------------------------------------------------

def read_pins(path, environment=None):
    """``{name: version}`` from a requirements file, keeping the lines whose environment marker
    holds for ``environment`` (a marker dict; ``None`` means this interpreter and platform)."""
    from packaging.requirements import Requirement

    pins = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                pins[requirement.name] = next(iter(requirement.specifier)).version
    return pins


def course_pins(path=REQUIREMENTS):
    """The pins of requirements.txt; without it (or without ``packaging``) the package names
    alone, which are then checked for presence only."""
    try:
        return read_pins(path)
    except (OSError, ImportError):
        return dict.fromkeys(COURSE_PACKAGES)


def installed_version(name):
    """The installed version of distribution ``name``, or ``None`` when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


# Distributions that install a library and programs but no Python module (lesson 10's MPI).
WITHOUT_MODULE = {"mpich"}


def importable(name):
    """Can Python find the module of distribution ``name`` (``line_profiler`` -> ``line_profiler``)?
    A distribution without a module counts as importable once installed."""
    return name in WITHOUT_MODULE or importlib.util.find_spec(name.lower().replace("-", "_")) is not None


def check_packages(pins, version_of=installed_version, can_import=importable):
    """Every pinned package installed, importable, and at its pinned version (``None``: any)."""
    problems = []
    for name, pinned in pins.items():
        found = version_of(name)
        if found is None or not can_import(name):
            problems.append(f"{name} is missing")
        elif pinned is not None and found != pinned:
            problems.append(f"{name} is {found}, the course pins {pinned}")
    if problems:
        return warn("Packages", "; ".join(problems), INSTALL_FIX)
    return ok("Packages", f"all {len(pins)} course packages installed at their pinned versions")


def labextension_dirs():
    """Where JupyterLab looks for prebuilt extensions, this environment's folder first."""
    try:
        from jupyter_core.paths import jupyter_path
    except ImportError:
        return [Path(sys.prefix, "share", "jupyter", "labextensions")]
    return [Path(p) for p in jupyter_path("labextensions")]


def check_widgets(version_of, folders):
    """Progress bars render as widgets only with jupyterlab_widgets and its lab extension."""
    topic = "Widgets"
    if version_of("jupyterlab_widgets") is None:
        return warn(topic, "jupyterlab_widgets is not installed: progress bars show as plain text",
                    INSTALL_FIX)
    if not any((Path(folder) / WIDGET_EXTENSION).is_file() for folder in folders):
        return warn(topic, "jupyterlab_widgets is installed but JupyterLab's widget extension is "
                    "not where JupyterLab looks", "reinstall it in the course's environment: "
                    "`pip install --force-reinstall --no-deps jupyterlab_widgets`, and start "
                    "JupyterLab from that environment (`make lab`)")
    return ok(topic, "JupyterLab's widget extension is installed: progress bars render")


# --- Cores --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cores:
    """What the machine has and what this process may use of it (``None``: unknown)."""

    logical: int | None
    physical: int | None
    affinity: int | None  # cores this process may run on (CPU affinity)
    quota: float | None  # CPUs a container's cgroup allows, e.g. 1.5

    @property
    def usable(self):
        limits = [n for n in (self.logical, self.affinity, self.quota) if n]
        return min(limits) if limits else 1


def parse_cpu_max(text):
    """CPUs allowed by a cgroup v2 ``cpu.max`` ("quota period"; "max period" is no limit)."""
    quota, period = text.split()[:2]
    return None if quota == "max" else int(quota) / int(period)


def cgroup_cpu_limit(root=Path("/sys/fs/cgroup"), own_cgroup=Path("/proc/self/cgroup")):
    """The CPU quota of this process's container (cgroup v2 or v1), or ``None`` without one.

    Linux only; elsewhere the files are absent and the answer is ``None``.
    """
    try:
        own = [line.split(":", 2)[2] for line in own_cgroup.read_text().splitlines() if line.startswith("0::")]
    except OSError:
        own = []
    for folder in [root / p.strip().lstrip("/") for p in own] + [root]:
        if (folder / "cpu.max").is_file():
            return parse_cpu_max((folder / "cpu.max").read_text())
    v1 = root / "cpu"
    try:
        quota = int((v1 / "cpu.cfs_quota_us").read_text())
        period = int((v1 / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 else None


def affinity_count():
    """Cores this process may run on: Linux and Windows know it, macOS does not (``None``)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    try:
        import psutil

        return len(psutil.Process().cpu_affinity())
    except (ImportError, AttributeError, OSError):
        return None


def physical_count():
    try:
        import psutil
    except ImportError:
        return None
    return psutil.cpu_count(logical=False)


def this_machine_cores():
    return Cores(os.cpu_count(), physical_count(), affinity_count(), cgroup_cpu_limit())


def hosted_service(environ):
    """"Colab" or "Binder" when the notebook server runs there (they give 1-2 cores), else ``None``."""
    if any(key.startswith("COLAB_") for key in environ):
        return "Colab"
    if any(key.startswith("BINDER_") for key in environ):
        return "Binder"
    return None


def shown(number):
    return f"{number:g}" if number is not None else "unknown"


def check_cores(cores, hosted=None):
    """How many cores this process may use, what limits it, and whether pools can help here."""
    usable = cores.usable
    text = (f"{shown(cores.logical)} logical, {shown(cores.physical)} physical, "
            f"{shown(usable)} usable by this process")
    limits = []
    if cores.affinity and cores.logical and cores.affinity < cores.logical:
        limits.append(f"CPU affinity allows {cores.affinity}")
    if cores.quota and cores.quota < min((n for n in (cores.logical, cores.affinity) if n), default=math.inf):
        limits.append(f"the container's CPU quota is {cores.quota:g}")
    if limits:
        text += f" ({'; '.join(limits)})"
    if hosted:
        text += (f"; on {hosted}, which gives notebooks 1-2 cores, speed-ups stay below about "
                 f"{shown(usable)}x, though every lesson still runs")
    if usable < 2:
        fix = ("give the course 2 or more cores: start Jupyter without a CPU affinity "
               "(taskset, `start /affinity`), raise the container's limit (e.g. `docker run --cpus 2`), "
               "or use a machine with more cores")
        return warn("Cores", text + ": a pool cannot beat a plain loop here", fix)
    return ok("Cores", text)


# --- Start method and threads ---------------------------------------------------------------

START_METHODS = {
    "fork": "workers start as copies of this process (Linux up to Python 3.13)",
    "spawn": "workers start a fresh Python and import what they run (Windows, macOS)",
    "forkserver": "workers are forked from a fresh server process (Linux from Python 3.14)",
}


def check_start_method(method):
    """The start method pools use by default here; the lessons run under all three."""
    return ok("Start method", f"{method}: {START_METHODS.get(method, 'a method the course does not cover')}")


def thread_pools():
    """``[(name, threads)]`` for Numba and every BLAS/OpenMP library loaded with numpy."""
    pools = []
    try:
        import numba

        pools.append(("Numba", numba.get_num_threads()))
    except ImportError:
        pass
    try:
        import numpy  # noqa: F401  (loads the BLAS library threadpoolctl inspects)
        from threadpoolctl import threadpool_info
    except ImportError:
        return pools
    for info in threadpool_info():
        name, kind = info["internal_api"], info["user_api"]
        pools.append((name if name == kind else f"{name} ({kind})", info["num_threads"]))
    return pools


def check_threads(pools, usable):
    """Thread pools larger than the usable cores make their threads compete for them."""
    listed = ", ".join(f"{name} {threads}" for name, threads in pools) or "none found"
    too_many = [name for name, threads in pools if threads > math.ceil(usable)]
    if too_many:
        cap = math.ceil(usable)
        return warn("Threads", f"{listed} threads on {shown(usable)} usable cores: they will compete",
                    f"before starting JupyterLab set NUMBA_NUM_THREADS={cap} and OMP_NUM_THREADS={cap}")
    return ok("Threads", f"{listed} threads")


# --- A measured pool ------------------------------------------------------------------------

def measure_speedups(workers=2, jobs=4, seconds=0.2):
    """Run ``jobs`` sleeping jobs and ``jobs`` CPU jobs of about ``seconds`` each on a pool of
    ``workers`` (default start method), and return their speed-ups over running them one after
    another: ``(sleep, cpu)``. The workers are started before the clock runs; the functions and
    the clock are the course's own (``helpers.workers.sleep_for``,
    ``helpers.concurrency_types.cpu_work``, ``helpers.timing.seconds``)."""
    from helpers import timing
    from helpers.concurrency_types import cpu_work
    from helpers.workers import sleep_for

    trial_steps = 50_000
    steps = max(1, int(trial_steps * seconds / timing.seconds(cpu_work, trial_steps)))
    serial_cpu = timing.seconds(lambda: [cpu_work(steps) for _ in range(jobs)])
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(sleep_for, [seconds / 2] * workers))  # every worker started and ready
        list(pool.map(cpu_work, [1] * workers))
        pooled_sleep = timing.seconds(lambda: list(pool.map(sleep_for, [seconds] * jobs)))
        pooled_cpu = timing.seconds(lambda: list(pool.map(cpu_work, [steps] * jobs)))
    return jobs * seconds / pooled_sleep, serial_cpu / pooled_cpu


def working_cores(cores):
    """The cores that can really work at once: usable by this process, and physical ones (two
    hyper-threads of one core share its arithmetic)."""
    return min(n for n in (cores.usable, cores.physical) if n) if cores.physical else cores.usable


def expected_speedup(cpu_speedup, workers, cores):
    """The most to expect from processes on CPU work using every core, by Amdahl's law (lesson
    12): the speed-up measured on ``workers`` workers implies a serial share (the pool's own
    overhead, the parent's share of the work), and that share caps the speed-up on every core
    that can work at once."""
    cores_at_work = working_cores(cores)
    if cores_at_work <= 1:
        return 1.0
    return max(1.0, amdahl_speedup(share_from_speedup(cpu_speedup, workers), cores_at_work))


def check_measurement(sleep_speedup, cpu_speedup, workers, cores):
    """Two lines: the pool on waiting jobs (its overhead), and the verdict on CPU jobs."""
    lines = []
    sleep_text = f"{workers} workers ran sleeping jobs {sleep_speedup:.1f}x faster than a loop (ideal {workers}x)"
    if sleep_speedup < 0.75 * workers:
        lines.append(warn("Pool", sleep_text, "the pool's overhead is high: close other busy "
                          "programs and run the check again"))
    else:
        lines.append(ok("Pool", sleep_text))
    expect = expected_speedup(cpu_speedup, workers, cores)
    at_work = working_cores(cores)
    verdict = (f"CPU jobs ran {cpu_speedup:.1f}x faster on {workers} workers, as if "
               f"{share_from_speedup(cpu_speedup, workers):.0%} of the work could not be shared; on this machine "
               f"expect at most about {expect:.1f}x from processes (Amdahl's law on "
               f"{shown(at_work)} core{'' if at_work == 1 else 's'}, lesson 12)")
    if expect < 1.5:
        lines.append(warn("Verdict", verdict, "other programs are busy on the cores, or there are "
                          "too few: close busy programs and run the check again; the lessons run "
                          "either way, but their speed-ups will not show"))
    else:
        lines.append(ok("Verdict", verdict))
    return lines


# --- Report -------------------------------------------------------------------------------

# A WARN on these means the course cannot run as intended; the others are about speed.
BLOCKING = {"Python", "Packages", "Widgets", "Check"}


def summary(lines):
    """The closing sentence and exit status: 1 only when a blocking check warned."""
    blocking = [line for line in lines if line.status == "WARN" and line.topic in BLOCKING]
    advisory = [line for line in lines if line.status == "WARN" and line.topic not in BLOCKING]
    if blocking:
        return "Not ready: fix the lines marked WARN above, then run the check again.", 1
    if advisory:
        return f"Ready, with {len(advisory)} warning(s) about speed: see above.", 0
    return "Ready.", 0


def main(argv=None, workers=2):
    """Print the report line by line; exit status 1 when the machine is not ready."""
    parser = argparse.ArgumentParser(prog="python -m helpers.setup_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--python-only", action="store_true", help="check only the Python version")
    python = check_python(sys.version_info[:3], platform.system(), platform.machine())
    if parser.parse_args(argv).python_only:
        print(python.render())
        return 0 if python.status == "OK" else 1
    print("Concurrency in Python: is this machine ready? (takes a few seconds)", flush=True)
    cores = this_machine_cores()
    checks = [
        lambda: [python],
        lambda: [check_packages(course_pins())],
        lambda: [check_widgets(installed_version, labextension_dirs())],
        lambda: [check_cores(cores, hosted_service(os.environ))],
        lambda: [check_start_method(multiprocessing.get_start_method())],
        lambda: [check_threads(thread_pools(), cores.usable)],
        lambda: check_measurement(*measure_speedups(workers), workers, cores),
    ]
    report = []
    for check in checks:
        try:
            lines = check()
        except Exception as error:  # a check that cannot run is itself a finding
            lines = [warn("Check", f"could not run: {type(error).__name__}: {error}", INSTALL_FIX)]
        for line in lines:
            print(line.render(), flush=True)
        report += lines
    sentence, status = summary(report)
    print(sentence)
    return status


if __name__ == "__main__":
    sys.exit(main())
