"""Test-session set-up shared by the unit tests and the nbval notebook runs.

* Every notebook kernel starts with ``tests/ipython_startup`` (see the file there), so the
  start method can be forced to ``spawn`` without touching the notebooks.
* The lessons' simulated panel is written into ``data/`` first when it holds none, once, before
  any test runs: tests in parallel processes (pytest-xdist) then all read the same files, and none
  finds them half written.
* Every process the session starts (kernels, pool workers, Dask workers, the JupyterLab server)
  inherits a marker in its environment. When the session ends, a process still carrying the
  marker was left behind: the run fails and the process is named and ended. Under pytest-xdist
  each worker marks and checks the processes it starts itself; the controlling process starts
  none but the workers, which carry its marker until they end, so it does not check.
"""
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent
MARKER = "COURSE_TEST_SESSION"


def pytest_configure(config):
    ipython_dir = Path(tempfile.mkdtemp(prefix="course-ipython-"))
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    for script in (ROOT / "tests" / "ipython_startup").glob("*.py"):
        shutil.copy(script, startup / script.name)
    os.environ["IPYTHONDIR"] = str(ipython_dir)
    os.environ[MARKER] = uuid.uuid4().hex
    # The debugger's "frozen modules" warning on kernel start is noise for the tests.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    config._course_ipython_dir = ipython_dir
    if not hasattr(config, "workerinput"):  # the one process that starts the others, or the only one
        from helpers.data import ensure_data
        ensure_data(ROOT / "data")


def _own_multiprocessing_helper(proc, me):
    """This process's own resource tracker or fork server: multiprocessing starts one on first
    use and it ends together with this process, so it is not left behind."""
    cmdline = " ".join(proc.info["cmdline"] or [])
    return proc.info["ppid"] == me and ("multiprocessing.resource_tracker" in cmdline
                                        or "multiprocessing.forkserver" in cmdline)


def _processes_left_behind():
    """Processes other than this one that inherited this session's marker."""
    me = os.getpid()
    token = os.environ.get(MARKER)
    left = []
    for proc in psutil.process_iter(["pid", "ppid", "cmdline"]):
        if proc.pid == me or _own_multiprocessing_helper(proc, me):
            continue
        try:
            if proc.environ().get(MARKER) == token:
                left.append(proc)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return left


def _is_xdist_controller(config):
    return not hasattr(config, "workerinput") and getattr(config.option, "dist", "no") != "no"


def pytest_sessionfinish(session, exitstatus):
    if _is_xdist_controller(session.config):
        shutil.rmtree(session.config._course_ipython_dir, ignore_errors=True)
        return
    deadline = time.monotonic() + 15  # kernels and pools get a moment to shut down
    left = _processes_left_behind()
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = _processes_left_behind()
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = [f"  pid {p.pid}: {' '.join(p.info['cmdline'] or [])[:200]}" for p in left]
        message = "Processes left behind after the test run:\n" + "\n".join(lines)
        if reporter:
            reporter.write_line(message, red=True)
        for proc in left:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        session.exitstatus = 1
    shutil.rmtree(session.config._course_ipython_dir, ignore_errors=True)
