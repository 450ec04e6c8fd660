"""helpers.free_threading: what the running Python is, where a pool's jobs run, the comparison of
thread, interpreter and process pools, and the script ``python -m helpers.free_threading``, which
must run (and say that the GIL was on) on a standard build too."""
import multiprocessing
import os
import subprocess
import sys
import sysconfig
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers import free_threading as ft

ROOT = Path(__file__).resolve().parents[1]
INTERPRETERS = ft.interpreter_pool_class()
needs_interpreters = pytest.mark.skipif(INTERPRETERS is None, reason="InterpreterPoolExecutor arrived in Python 3.14")


def test_the_build_and_the_gil_are_read_from_the_running_python():
    assert ft.free_threaded_build() == (sysconfig.get_config_var("Py_GIL_DISABLED") == 1)
    assert ft.gil_enabled() == (sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True)
    assert (INTERPRETERS is not None) == (sys.version_info >= (3, 14))
    assert ft.interpreter_id() == 0  # the main interpreter


def test_the_description_names_the_python_and_what_it_offers():
    lines = ft.describe_python()
    assert lines[0].startswith(f"Python {sys.version_info.major}.{sys.version_info.minor}, ")
    assert ("free-threaded" in lines[0]) == ft.free_threaded_build()
    assert ("GIL is on" in lines[1]) == ft.gil_enabled() and len(lines) == 3
    assert ("InterpreterPoolExecutor available" in lines[2]) == (INTERPRETERS is not None)


def test_the_jobs():
    assert ft.cpu_work(10) == sum(i * i % 7 for i in range(10))
    result, cpu = ft.timed_cpu_work(200_000)
    assert result == ft.cpu_work(200_000) and 0 < cpu < 10
    assert ft.byte_count(bytes(5)) == 5 and ft.pause(0) == 0
    assert ft.worker_identity() == (os.getpid(), 0, threading.get_ident(), ft.gil_enabled())


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_process_reports_another_process(method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method)) as pool:
        pid, interpreter, _, gil_on = pool.submit(ft.worker_identity).result()
    assert pid != os.getpid() and interpreter == 0 and gil_on == ft.gil_enabled()


@needs_interpreters
def test_an_interpreter_pool_runs_the_module_and_refuses_numpy():
    with INTERPRETERS(max_workers=1) as pool:
        pid, interpreter, _, _ = pool.submit(ft.worker_identity).result()
        assert pid == os.getpid() and interpreter != 0
        assert pool.submit(ft.cpu_work, 100).result() == ft.cpu_work(100)
        with pytest.raises(ImportError, match="does not support loading in subinterpreters"):
            pool.submit(ft.numpy_version).result()


def test_a_run_counts_cpu_seconds_and_spare_cores():
    run = ft.Run(seconds=2.0, cpu_seconds=3.0, idle_seconds=1.0)
    assert (run.cores, run.spare_cores) == (1.5, 0.5)
    assert ft.Run(1.0, 1.0).spare_cores is None
    loop = ft.run_jobs([100_000] * 2)
    assert 0 < loop.cores <= 1.05 and loop.spare_cores is not None
    with ThreadPoolExecutor(2) as pool:
        threads = ft.run_jobs([100_000] * 2, pool)
    assert threads.cpu_seconds > 0
    if ft.gil_enabled():
        assert threads.cores <= 1.1


def test_compare_pools_measures_every_pool_this_python_has():
    loop, figures = ft.compare_pools([50_000] * 2, workers=2, send_bytes=1000)
    kinds = [f.kind for f in figures]
    assert kinds == ["threads"] + (["interpreters"] if INTERPRETERS else []) + ["processes"]
    assert loop.seconds > 0 and all(f.start > 0 and f.send > 0 and f.compute.seconds > 0 for f in figures)
    table = ft.figures_table(loop, figures, [50_000] * 2, 2)
    assert table[0].startswith("2 jobs of 50,000 steps") and table[2].startswith("loop")
    assert any(line.startswith("interpreters") for line in table)
    assert ("not in this Python" in table[-1]) == (INTERPRETERS is None)
    sentence = ft.verdict(loop, figures)
    assert sentence.startswith("The GIL was on" if ft.gil_enabled() else "The GIL was off")


def test_the_script_runs_here_and_says_what_it_measured():
    run = subprocess.run([sys.executable, "-m", "helpers.free_threading", "--jobs", "2", "--steps", "20000"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"Python {sys.version_info.major}.{sys.version_info.minor}")
    assert "cores busy" in lines[2]
    assert lines[-1].startswith("The GIL was on" if ft.gil_enabled() else "The GIL was off")
    assert any(line.startswith("processes") for line in lines)


def test_the_script_rejects_nonsense():
    with pytest.raises(SystemExit):
        ft.main(["--workers", "0"])


def test_the_module_imports_nothing_an_interpreter_cannot_load():
    """An interpreter pool's workers import this module afresh: it must not pull in NumPy."""
    code = "import sys, helpers.free_threading; print('numpy' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.stdout.strip() == "False", run.stderr


@pytest.mark.parametrize("build, gil_on, says", [
    (False, True, ["standard build", "the GIL is on: threads take turns", "as on every standard build"]),
    (True, True, ["free-threaded build", "the GIL is on all the same", "although this is a free-threaded build"]),
    (True, False, ["free-threaded build", "the GIL is off", "The GIL was off"]),
])
def test_what_is_said_of_each_kind_of_python(monkeypatch, build, gil_on, says):
    monkeypatch.setattr(ft, "free_threaded_build", lambda: build)
    monkeypatch.setattr(ft, "gil_enabled", lambda: gil_on)
    loop = ft.Run(1.0, 1.0)
    threads = ft.PoolFigures("threads", 0.001, 0.0, ft.Run(1.0, 1.0 if gil_on else 2.0))
    text = " ".join(ft.describe_python()) + " " + ft.verdict(loop, [threads])
    assert all(phrase in text for phrase in says), text


def test_the_script_needs_nothing_beyond_the_standard_library():
    """A free-threaded Python of a student's has none of the course's packages: the script runs
    from the course's folder all the same (here with psutil made unimportable)."""
    code = ("import runpy, sys; sys.modules['psutil'] = None; sys.argv = ['x', '--jobs', '2', '--steps', '1000']; "
            "runpy.run_module('helpers.free_threading', run_name='__main__')")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1].startswith("The GIL was")


def test_probes_on_two_workers_meet_and_a_probe_alone_gives_up(tmp_path):
    """``meet``: two calls running at once on different threads see each other; a call alone waits
    until its deadline; a call in the caller's own thread does not wait at all."""
    import time
    here = (os.getpid(), 0, threading.get_ident())
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(ft.meet, [str(tmp_path)] * 2, [time.time() + 30] * 2, [here] * 2))
    keys = {"-".join(map(str, report[:3])) for report in reports}
    assert len(keys) == 2 and any(report[4] in keys - {"-".join(map(str, report[:3]))} for report in reports)
    assert not list(tmp_path.glob("*.running"))
    alone = tmp_path / "alone"
    alone.mkdir()
    started = time.time()
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(ft.meet, str(alone), started + 0.3, here).result()[4] is None
    assert 0.25 < time.time() - started < 5
    assert ft.meet(str(alone), time.time() + 30, here)[4] is None  # the caller's thread: at once


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_probes_in_two_processes_meet(tmp_path, method):
    import time
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    here = (os.getpid(), 0, threading.get_ident())
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method)) as pool:
        futures = [pool.submit(ft.meet, str(tmp_path), time.time() + 30, here) for _ in range(4)]
        reports = [f.result() for f in futures]
    assert any(report[4] for report in reports) and all(report[0] != os.getpid() for report in reports)
