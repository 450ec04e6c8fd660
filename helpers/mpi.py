"""Lesson 10: the bootstrap on MPI, through ``mpi4py.futures``.

MPI (the Message Passing Interface) is how programs on supercomputers have long talked to each
other. ``mpi4py.futures.MPIPoolExecutor`` is a ``concurrent.futures`` executor whose workers are
MPI processes, so lesson 06's ``compute_ci`` runs on it unchanged. The workers come from one of
two places:

- From a notebook or a plain ``python`` run, the pool *spawns* them (MPI's dynamic process
  management). MPICH, the MPI library the course installs from its ``mpich`` wheel, then starts
  its process manager, the program ``mpiexec``, which it looks for on ``PATH``: see
  :func:`make_mpiexec_findable`.
- On a cluster, ``mpiexec -n N python -m mpi4py.futures -m helpers.mpi ...`` (``srun`` in a SLURM
  job) starts all N processes at once: rank 0 runs this module's command line and the N - 1
  others become the pool's workers. Many clusters' MPI libraries do not allow spawning at all,
  which makes this the usual way there.

Command line: ``python -m helpers.mpi --samples N --seed S --out ci.csv`` with the panel options
of :mod:`helpers.job_array` (``--data``, ``--month``, ``--tickers``).

``mpi4py`` and ``mpich`` are installed on Linux and macOS only (MPICH has no Windows build):
:func:`mpi_problem` says what is missing and what to do instead.
"""

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers.job_array import load_returns
from helpers.panel import compute_ci, executor_worker_count


def _next_to_python():
    """The ``mpiexec`` installed in this Python's environment (by the ``mpich`` wheel), or None."""
    folder = Path(sys.executable).parent
    found = [folder / name for name in ("mpiexec", "mpiexec.exe") if (folder / name).exists()]
    return str(found[0]) if found else None


def find_mpiexec():
    """The ``mpiexec`` that goes with this environment's MPI library: the one next to this
    Python (a venv's ``bin/``, where the ``mpich`` wheel puts it) if there is one, else the
    first on ``PATH``; None when there is none."""
    return _next_to_python() or shutil.which("mpiexec")


def make_mpiexec_findable():
    """Put this environment's ``mpiexec`` first on ``PATH`` when it is not already, and return it.

    A pool spawning its workers makes MPICH start ``mpiexec`` from ``PATH``. A Jupyter kernel
    started from a virtual environment that was never activated (``.venv/bin/jupyter lab``, as
    ``make lab`` does) has the environment's ``bin/`` missing from ``PATH``, and then the MPI
    library aborts the whole process, kernel and all. Changing ``os.environ`` changes the
    ``PATH`` of this process, which MPICH reads when it starts ``mpiexec``."""
    mpiexec = find_mpiexec()
    if mpiexec and shutil.which("mpiexec") != mpiexec:
        os.environ["PATH"] = str(Path(mpiexec).parent) + os.pathsep + os.environ.get("PATH", "")
    return mpiexec


def mpi_problem():
    """None where this machine can run the MPI examples; otherwise what is missing and what to
    do instead, in one paragraph."""
    if importlib.util.find_spec("mpi4py") is None:
        if sys.platform == "win32":
            return ("MPI is not installed: the course installs mpi4py and the MPICH library on Linux and macOS "
                    "only, because MPICH publishes no Windows build. On Windows, run this part of the lesson in "
                    "WSL (Windows Subsystem for Linux), where the course installs as on Linux; or install "
                    "Microsoft MPI (its own installer, from Microsoft) and then `pip install mpi4py`, and run the "
                    "script form with Microsoft MPI's mpiexec. The rest of the lesson does not need MPI.")
        return ("mpi4py is not installed in this environment: install the course's packages with "
                "`pip install -r requirements.txt -c constraints.txt` (make lab does), then restart the kernel.")
    if find_mpiexec() is None:
        if sys.platform == "win32":
            return ("mpi4py is installed but no mpiexec was found, neither next to this Python nor on PATH: install "
                    "Microsoft MPI with its own installer (it puts its mpiexec on PATH), then restart Jupyter; or "
                    "run this part of the lesson in WSL. The rest of the lesson does not need MPI.")
        return ("mpi4py is installed but no mpiexec was found, neither next to this Python nor on PATH: "
                "install the course's `mpich` package (`pip install -r requirements.txt -c constraints.txt`), "
                "or put your MPI's mpiexec on PATH.")
    return None


def mpi_pool(max_workers=2):
    """An ``MPIPoolExecutor`` that spawns ``max_workers`` MPI worker processes.

    ``main=False``: the workers do not import this program's ``__main__`` (a notebook has none
    they could import); the tasks they run come from the ``helpers`` package, which they import
    when a task needs it, as a process pool's workers under ``spawn`` do. Use it in a ``with``
    block: leaving the block waits for the tasks and ends the workers."""
    make_mpiexec_findable()
    from mpi4py.futures import MPIPoolExecutor  # only here: the module must import where MPI is missing
    return MPIPoolExecutor(max_workers=max_workers, main=False)


def mpiexec_command(n_processes, *arguments):
    """The command that runs this module's command line under ``mpiexec`` with ``n_processes``
    MPI processes: one that runs the bootstrap, ``n_processes - 1`` workers."""
    return [find_mpiexec() or "mpiexec", "-n", str(n_processes), sys.executable, "-m", "mpi4py.futures",
            "-m", "helpers.mpi", *map(str, arguments)]


def run_under_mpiexec(n_processes, *arguments, timeout=300):
    """Run :func:`mpiexec_command` and return what it printed; ``RuntimeError`` with the end of
    its error output if it fails."""
    make_mpiexec_findable()
    run = subprocess.run(mpiexec_command(n_processes, *arguments), capture_output=True, text=True, timeout=timeout)
    if run.returncode != 0:
        last_lines = "\n".join(run.stderr.strip().splitlines()[-3:]) or "no error output"
        raise RuntimeError(f"mpiexec exited with status {run.returncode}:\n{last_lines}")
    return run.stdout


def _parser():
    parser = argparse.ArgumentParser(prog="python -m mpi4py.futures -m helpers.mpi",
                                     description="Lesson 06's bootstrap intervals on an MPI pool.")
    parser.add_argument("--samples", type=int, required=True, help="bootstrap samples")
    parser.add_argument("--seed", type=int, required=True, help="the run's seed")
    parser.add_argument("--out", default="ci.csv", help="CSV file for the intervals (default: ci.csv)")
    parser.add_argument("--workers", type=int, help="workers to spawn when not started by mpiexec")
    parser.add_argument("--data", default="data", help="folder of the TICKER.csv files (default: data)")
    parser.add_argument("--month", help="only this month, YYYY-MM (default: the whole year)")
    parser.add_argument("--tickers", help="comma-separated tickers (default: every file)")
    return parser


def launch_problem(world_size, environ=os.environ):
    """Why a run must stop before it starts, or None: ``srun`` started several copies of the
    program, but MPI sees each of them alone, in a world of one process.

    That happens when ``srun`` and the MPI library do not agree on how to tell each process which
    of the job's it is (SLURM's ``--mpi`` option). Each copy would then compute the whole bootstrap
    on a pool of its own and write the same file: the job's cores would do the work many times."""
    copies = int(environ.get("SLURM_STEP_NUM_TASKS") or 1)  # the processes srun started in this step
    if copies > 1 and world_size == 1:
        return (f"srun started {copies} copies of this program, but MPI sees each of them alone (a world of one "
                "process), so each would compute the whole bootstrap. srun did not tell them of each other in a "
                "way this MPI library understands: with the course's MPICH, run srun --mpi=pmi2 (srun --mpi=list "
                "lists what your SLURM offers) or mpiexec -n $SLURM_NTASKS; with your cluster's own MPI, the "
                "--mpi value its documentation gives (hpc/README.md).")
    return None


def main(argv=None):
    args = _parser().parse_args(argv)
    from mpi4py import MPI
    from mpi4py.futures import MPIPoolExecutor

    problem = launch_problem(MPI.COMM_WORLD.Get_size())
    if problem:
        if os.environ.get("SLURM_PROCID", "0") == "0":  # said once, not by every copy
            print(f"helpers.mpi: {problem}", file=sys.stderr)
        return 1
    returns = load_returns(args.data, args.month, args.tickers.split(",") if args.tickers else None)
    # Under `mpiexec -n N python -m mpi4py.futures`, the pool is the N - 1 processes started with this
    # one and max_workers is ignored; run alone, it spawns --workers workers (MPI's universe size if not given).
    with MPIPoolExecutor(max_workers=args.workers) as pool:
        workers = executor_worker_count(pool)
        ci = compute_ci(returns, args.samples, seed=args.seed, executor=pool)
    ci.to_csv(args.out)
    print(f"{args.samples} samples on {workers} MPI workers: intervals written to {Path(args.out).name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
