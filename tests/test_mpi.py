"""Lesson 10's MPI part (:mod:`helpers.mpi`, ``hpc/bootstrap_mpi.sbatch``): lesson 06's ``compute_ci``
on an ``MPIPoolExecutor`` of 2 spawned workers, and under ``mpiexec`` with 2 workers on localhost,
gives the serial intervals bit for bit, with the worker count read from the executor; it works
from a process whose PATH lacks the environment's ``mpiexec`` (a kernel of an unactivated venv);
where MPI is missing, :func:`helpers.mpi.mpi_problem` says what to do instead; and copies that srun
started but MPI does not connect (srun without the ``--mpi`` its MPI needs) stop before computing.

MPI runs in child processes here, never in the test process itself: a process that has started
MPI should not fork, and other tests fork pool workers."""
import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers import data, job_array, mpi, panel

ROOT = Path(__file__).resolve().parents[1]
SAMPLES, SEED, TICKERS = 16, 2, ("GE", "DIS")
needs_mpi = pytest.mark.skipif(mpi.mpi_problem() is not None, reason=str(mpi.mpi_problem()))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    data.write_panel(data.simulate_panel(7, tickers=TICKERS, days=data.trading_days_2007()[:3]).prices, folder)
    return folder


@pytest.fixture(scope="module")
def serial(data_dir):
    return panel.compute_ci(job_array.load_returns(data_dir), SAMPLES, seed=SEED)


def without_the_environment_on_path():
    """This process's environment with PATH as an unactivated venv's kernel has it."""
    here = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != here)
            or "/usr/bin:/bin"}


@needs_mpi
def test_the_environments_mpiexec_is_found_next_to_python():
    assert mpi.find_mpiexec() == str(Path(sys.executable).parent / "mpiexec")


@needs_mpi
def test_make_mpiexec_findable_puts_it_first_on_path(monkeypatch):
    monkeypatch.setenv("PATH", without_the_environment_on_path()["PATH"])
    found = mpi.make_mpiexec_findable()
    assert shutil.which("mpiexec") == found == str(Path(sys.executable).parent / "mpiexec")
    before = os.environ["PATH"]
    mpi.make_mpiexec_findable()
    assert os.environ["PATH"] == before  # once is enough


@needs_mpi
def test_a_spawned_pool_gives_the_serial_intervals_from_a_process_without_mpiexec_on_path(data_dir, serial, tmp_path):
    csv = tmp_path / "ci.csv"
    script = textwrap.dedent(f"""
        import sys
        from helpers import job_array, mpi, panel
        returns = job_array.load_returns({str(data_dir)!r})
        with mpi.mpi_pool(max_workers=2) as pool:
            workers = panel.executor_worker_count(pool)
            panel.compute_ci(returns, {SAMPLES}, seed={SEED}, executor=pool).to_csv({str(csv)!r})
        print(workers)
    """)
    run = subprocess.run([sys.executable, "-c", script], env=without_the_environment_on_path(), capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["2"]
    assert job_array.read_ci(csv).equals(serial)


@needs_mpi
def test_under_mpiexec_two_workers_give_the_serial_intervals(data_dir, serial, tmp_path):
    csv = tmp_path / "ci_mpi.csv"
    printed = mpi.run_under_mpiexec(3, "--samples", SAMPLES, "--seed", SEED, "--data", data_dir, "--out", csv)
    assert printed.strip() == f"{SAMPLES} samples on 2 MPI workers: intervals written to ci_mpi.csv"
    assert job_array.read_ci(csv).equals(serial)


@needs_mpi
def test_a_failing_run_under_mpiexec_says_why(tmp_path):
    with pytest.raises(RuntimeError, match="(?s)mpiexec exited with status .*no data folder"):
        mpi.run_under_mpiexec(2, "--samples", 4, "--seed", 1, "--data", tmp_path / "nowhere", timeout=120)


@needs_mpi
def test_the_mpi_job_script_runs_with_srun_standing_in_for_slurms(data_dir, serial, tmp_path):
    """SLURM's srun starts the job's processes; here a stand-in starts them with mpiexec."""
    site = tmp_path / "site"
    shutil.copytree(data_dir, site / "data")
    (site / "results").mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # srun's own options (--mpi=pmi2) are SLURM's business: the stand-in drops them.
    (bin_dir / "srun").write_text('#!/bin/bash\nwhile [[ $1 == --* ]]; do shift; done\n'
                                  f'exec {mpi.find_mpiexec()} -n "$SLURM_NTASKS" "$@"\n')
    (bin_dir / "srun").chmod(0o755)
    env = {**os.environ, "SLURM_NTASKS": "3",
           "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]])}
    run = subprocess.run(["bash", str(ROOT / "hpc" / "bootstrap_mpi.sbatch"), str(SAMPLES), str(SEED)], cwd=site,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert job_array.read_ci(site / "results" / "ci_mpi.csv").equals(serial)


def test_the_mpi_job_script_has_srun_introduce_the_processes_to_mpich():
    """Plain srun, where the site's default --mpi is another, starts nine MPI worlds of one process."""
    script = (ROOT / "hpc" / "bootstrap_mpi.sbatch").read_text()
    assert "\nsrun --mpi=pmi2 python -m mpi4py.futures -m helpers.mpi " in script


@pytest.mark.parametrize("copies, world, refused", [("9", 1, True), ("9", 9, False), ("1", 1, False), (None, 1, False)])
def test_copies_that_mpi_does_not_connect_are_refused(copies, world, refused):
    environ = {} if copies is None else {"SLURM_STEP_NUM_TASKS": copies}
    problem = mpi.launch_problem(world, environ)
    assert (problem is not None) == refused
    if refused:
        assert problem.startswith("srun started 9 copies of this program, but MPI sees each of them alone")
        assert "srun --mpi=pmi2" in problem


@needs_mpi
def test_a_copy_that_mpi_sees_alone_stops_before_computing(data_dir, tmp_path):
    """As under srun without --mpi=pmi2: SLURM says 3 copies, MPI a world of one."""
    csv = tmp_path / "ci.csv"
    env = {**os.environ, "SLURM_STEP_NUM_TASKS": "3", "SLURM_PROCID": "0"}
    run = subprocess.run([sys.executable, "-m", "helpers.mpi", "--samples", "4", "--seed", "1", "--data",
                          str(data_dir), "--out", str(csv)], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 1
    assert "srun started 3 copies of this program" in run.stderr
    assert not csv.exists()


def test_the_command_runs_this_module_under_mpi4py_futures():
    command = mpi.mpiexec_command(3, "--samples", 10)
    assert command[1:] == ["-n", "3", sys.executable, "-m", "mpi4py.futures", "-m", "helpers.mpi", "--samples", "10"]


@pytest.mark.parametrize("platform, advice", [("win32", "WSL"), ("linux", "pip install -r requirements.txt")])
def test_without_mpi4py_the_lesson_says_what_to_do(monkeypatch, platform, advice):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mpi4py" else real_find_spec(name, *a))
    monkeypatch.setattr(sys, "platform", platform)
    assert advice in mpi.mpi_problem()


@pytest.mark.parametrize("platform, advice", [("linux", "install the course's `mpich` package"),
                                             ("darwin", "install the course's `mpich` package"),
                                             ("win32", "install Microsoft MPI")])
def test_without_mpiexec_the_lesson_says_what_to_do(monkeypatch, platform, advice):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    monkeypatch.setattr(mpi, "find_mpiexec", lambda: None)
    monkeypatch.setattr(sys, "platform", platform)
    assert "no mpiexec was found" in mpi.mpi_problem()
    assert advice in mpi.mpi_problem()


def test_the_module_imports_where_mpi4py_is_missing():
    """The lesson imports helpers.mpi on every platform; only mpi_pool and main need mpi4py."""
    script = "import sys; sys.modules['mpi4py'] = None; import helpers.mpi as m; print(m.mpi_problem() is not None)"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
