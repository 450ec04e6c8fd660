"""Lesson 10: the bootstrap as a batch system's job array, with no library beyond the course's.

A job array runs one script K times (SLURM: ``sbatch --array=0-3``) and tells each copy its
index (``$SLURM_ARRAY_TASK_ID``). Bootstrap sample ``i`` draws from its own stream,
``SeedSequence(seed).spawn(n_samples)[i]``, so any copy can compute any sample: array task ``k``
computes the block of consecutive samples :func:`block_bounds` gives it and saves it in a file of
its own, and a last job, started once every task has succeeded, :func:`combine`\\ s the files into
exactly the intervals of the serial run.

A block file is a NumPy ``.npz`` archive (portable: any platform and Python reads it, without
pickle). Next to the statistics it records what the combine step must check: the seed, the
number of samples and of tasks, the task's index and its samples, the statistic, and a
fingerprint of the returns it bootstrapped. A missing or duplicated block, or one from another
run, is refused with an error that names it and says what to do; nothing is silently combined.

Command line, as the job scripts in ``hpc/`` call it::

    python -m helpers.job_array array-task --index 2 --tasks 4 --samples 1000 --seed 1 --out blocks
    python -m helpers.job_array combine --tasks 4 --samples 1000 --seed 1 --out blocks --ci ci.csv

``array-task`` also takes the panel options ``--data DIR`` (default ``data``), ``--month YYYY-MM``
and ``--tickers A,B`` (see :func:`load_returns`).
"""

import argparse
import hashlib
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data import intraday_log_returns, load_prices
from helpers.panel import check_returns, check_samples, compute_rv, get_ci, samples_to_statistics


class BlockError(ValueError):
    """The blocks in a folder do not make up one complete run; the message says what to do."""


def load_returns(data="data", month=None, tickers=None):
    """Intraday returns of ``tickers`` (default: every file in ``data``) in ``month`` (e.g.
    ``"2007-01"``; default: the whole year): the panel an array task bootstraps.

    Only the named stocks' files are read, which is quick, and their returns are computed
    together. (On the course's simulated panel, where no minute is missing, they equal the
    same columns of the full panel's returns; on data with gaps they can differ, so a lesson
    compares an array's result with the serial run on this same selection.)"""
    returns = intraday_log_returns(load_prices(data, tickers=list(tickers) if tickers else None))
    return returns.loc[month] if month else returns


def fingerprint(returns):
    """A short digest of ``returns`` (values, times and tickers): blocks computed from other
    data have another one."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(returns, index=True).to_numpy().tobytes())
    digest.update("|".join(map(str, returns.columns)).encode())
    return digest.hexdigest()[:16]


def block_bounds(index, tasks, n_samples):
    """Samples ``start, stop`` (``range(start, stop)``) of array task ``index`` of ``tasks``:
    consecutive blocks that cover ``range(n_samples)`` once, their sizes differing by at most one."""
    if not 0 < tasks <= n_samples:
        raise ValueError(f"an array of {tasks} tasks cannot split {n_samples} samples: give every task at least one")
    if not 0 <= index < tasks:
        raise ValueError(f"array task index {index} is outside 0..{tasks - 1}")
    return index * n_samples // tasks, (index + 1) * n_samples // tasks


def check_seed(seed):
    """Refuse a seed a block file could not record as a plain integer (NumPy keeps integers up to
    ``2**63 - 1`` without pickling them), before any work is done."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise ValueError(f"the seed must be an integer from 0 to 2**63 - 1, got {seed!r}")


def block_name(index, tasks):
    """The file array task ``index`` of ``tasks`` writes, e.g. ``block-0002-of-0004.npz``."""
    return f"block-{index:04d}-of-{tasks:04d}.npz"


def run_array_task(returns, index, tasks, n_samples, seed, out, statistic=compute_rv):
    """What one array task does: ``statistic`` of its block of the run's samples, saved in
    ``out`` with the facts :func:`combine` checks. Returns the file's path.

    The file is written under a temporary name and renamed when complete, so a task killed
    halfway (out of time, out of memory) leaves no block that looks whole."""
    check_returns(returns)
    check_samples(n_samples)
    start, stop = block_bounds(index, tasks, n_samples)
    check_seed(seed)
    seeds = np.random.SeedSequence(seed).spawn(n_samples)[start:stop]
    like = statistic(returns)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / block_name(index, tasks)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as file:
        np.savez(file, stats=samples_to_statistics(returns, seeds, statistic), seed=seed, n_samples=n_samples,
                 tasks=tasks, index=index, start=start, stop=stop, statistic=statistic.__name__,
                 panel=fingerprint(returns), days=like.index.to_numpy(),
                 tickers=np.array([str(ticker) for ticker in like.columns]),
                 host=socket.gethostname(), pid=os.getpid())
    os.replace(partial, path)
    return path


INTEGER_FIELDS = ("seed", "n_samples", "tasks", "index", "start", "stop")
FIELDS = (*INTEGER_FIELDS, "stats", "statistic", "panel", "days", "tickers")


def read_block(path):
    """A block file's fields as a dict (NumPy scalars made plain Python values)."""
    with np.load(path, allow_pickle=False) as archive:
        block = {key: archive[key] for key in archive.files}
    return {key: value.item() if value.ndim == 0 else value for key, value in block.items()}


def _read_blocks(out):
    """``{path: block}`` for every ``.npz`` file in ``out``; ``BlockError`` naming every file that
    cannot be read as one (cut short by a full disk or a killed copy, a folder, a pickled archive)."""
    blocks, unreadable = {}, []
    for path in sorted(Path(out).glob("*.npz")):
        try:
            blocks[path] = read_block(path)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            unreadable.append(f"{path.name} cannot be read as a block file ({type(error).__name__}): delete it and "
                              "re-run the array task that wrote it, or move it out of the folder if it is no block")
    if unreadable:
        raise BlockError("files that cannot be read:\n- " + "\n- ".join(unreadable))
    return blocks


def _malformed(block):
    """Why ``block`` is not a block file as :func:`run_array_task` writes it, or None."""
    missing = [name for name in FIELDS if name not in block]
    if missing:
        return f"lacks {', '.join(missing)}"
    not_integers = [name for name in INTEGER_FIELDS if isinstance(block[name], bool) or not isinstance(block[name], int)]
    if not_integers:
        return f"has {', '.join(not_integers)} of another type than an integer"
    stats = block["stats"]
    if not 0 <= block["index"] < block["tasks"] or stats.ndim != 3 or \
            stats.shape[1:] != (len(block["days"]), len(block["tickers"])):
        return "has an index or statistics that do not fit its other fields"
    return None


def _mismatch(block, tasks, n_samples, seed, statistic):
    """The first of the run's facts a block disagrees with, as ``(option, the block's value)``,
    or None. Seed and sample count are compared first: they tell a block of another run."""
    for option, field, expected in (("--seed", "seed", seed), ("--samples", "n_samples", n_samples),
                                    ("--tasks", "tasks", tasks), ("statistic", "statistic", statistic.__name__)):
        if block[field] != expected:
            return option, block[field]
    return None


def _problems(blocks, tasks, n_samples, seed, statistic):
    """One line per block that does not belong to this run (an empty list if all do)."""
    if not blocks:
        return []
    malformed = {path.name: _malformed(block) for path, block in blocks.items()}
    if any(malformed.values()):
        return [f"{name} is not a block file written by an array task (it {reason}): move it out of the folder"
                for name, reason in malformed.items() if reason]
    expected = {"--seed": seed, "--samples": n_samples, "--tasks": tasks, "statistic": statistic.__name__}
    found = {path: _mismatch(block, tasks, n_samples, seed, statistic) for path, block in blocks.items()}
    if len(blocks) > 1 and None not in found.values() and len(set(found.values())) == 1:
        option, value = next(iter(found.values()))
        return [f"all {len(blocks)} blocks were computed with {option} {value}, not {expected[option]}: "
                f"give combine the array's {option}, or re-run the whole array with {option} {expected[option]}"]
    lines = []
    for path, mismatch in found.items():
        block = blocks[path]
        if mismatch is None:
            if (block["start"], block["stop"]) != block_bounds(block["index"], tasks, n_samples) or \
                    len(block["stats"]) != block["stop"] - block["start"]:
                lines.append(f"{path.name} does not hold the samples of array task {block['index']}: "
                             f"delete it and re-run that task")
            continue
        option, value = mismatch
        remedy = f"delete it and re-run array task {block['index']}" if block["tasks"] == tasks else "move it away"
        lines.append(f"{path.name} was computed with {option} {value}, not {expected[option]}: "
                     f"it belongs to another run; {remedy}")
    return lines


def checked_blocks(out, tasks, n_samples, seed, statistic=compute_rv):
    """The blocks in ``out`` of the run with ``tasks`` tasks, ``n_samples`` samples and ``seed``,
    in task order, once every check has passed.

    Raises :class:`BlockError` naming every block that does not belong to this run, every array
    task whose block is there twice or is missing, and what to do about each."""
    block_bounds(0, tasks, n_samples)  # a run that cannot exist is refused before the files are read
    check_seed(seed)
    out = Path(out)
    blocks = _read_blocks(out)
    problems = _problems(blocks, tasks, n_samples, seed, statistic)
    if problems:
        raise BlockError("blocks that do not belong to this run:\n- " + "\n- ".join(problems))
    by_index = {}
    for path, block in blocks.items():
        by_index.setdefault(block["index"], []).append(path)
    twice = {index: files for index, files in by_index.items() if len(files) > 1}
    if twice:
        where = "; ".join(f"array task {index}'s in {' and '.join(path.name for path in files)}"
                          for index, files in sorted(twice.items()))
        raise BlockError(f"blocks there twice: {where}. Keep one file per task (the block named as the task wrote "
                         "it) and move the others away.")
    missing = [index for index in range(tasks) if index not in by_index]
    if missing:
        listed = ",".join(map(str, missing))
        raise BlockError(f"blocks missing: array task(s) {listed} of {tasks} left no block in {out.name}/ "
                         f"(failed, killed, or still running). Re-run only those, e.g. sbatch --array={listed} "
                         f"hpc/bootstrap_array.sbatch {tasks} {n_samples} {seed}, then combine again.")
    by_panel = {}
    for path, block in blocks.items():
        by_panel.setdefault(block["panel"], []).append(path)
    if len(by_panel) > 1:
        groups = sorted(by_panel.values(), key=len, reverse=True)
        if len(groups[0]) > len(groups[1]):  # most blocks agree: name the others
            odd = [path for group in groups[1:] for path in group]
            tasks_to_rerun = ",".join(str(index) for index in sorted(blocks[path]["index"] for path in odd))
            raise BlockError(f"blocks computed from different returns (the panel's fingerprint differs): "
                             f"{', '.join(path.name for path in odd)} from other data than the other "
                             f"{len(groups[0])} blocks. Re-run array task(s) {tasks_to_rerun} on the same data "
                             "files as the others (same --data, --month and --tickers).")
        listed = "; ".join(", ".join(path.name for path in group) for group in groups)
        raise BlockError(f"blocks computed from different returns (the panel's fingerprint differs): {listed}. "
                         "Re-run every array task on the same data files (same --data, --month and --tickers).")
    return [blocks[by_index[index][0]] for index in range(tasks)]


def combine_statistics(out, tasks, n_samples, seed, statistic=compute_rv):
    """The statistics of all ``n_samples`` samples (samples x days x stocks) from the blocks in
    ``out``, each block at its samples' place (see :func:`checked_blocks` for the checks)."""
    return np.concatenate([block["stats"] for block in checked_blocks(out, tasks, n_samples, seed, statistic)])


def combine(out, tasks, n_samples, seed, statistic=compute_rv):
    """The 99% intervals from the blocks in ``out``: exactly those of the serial run, as
    :func:`helpers.panel.compute_ci` returns them (see :func:`checked_blocks` for the checks)."""
    blocks = checked_blocks(out, tasks, n_samples, seed, statistic)
    like = pd.DataFrame(index=pd.DatetimeIndex(blocks[0]["days"], name="date"), columns=pd.Index(blocks[0]["tickers"]))
    return get_ci(np.concatenate([block["stats"] for block in blocks]), like=like)


def read_ci(path):
    """Intervals saved with ``to_csv`` (the ``--ci`` file of ``combine``, the ``--out`` file of
    :mod:`helpers.mpi`), shaped as :func:`helpers.panel.get_ci` makes them: dates as index,
    ``(ticker, bound)`` columns. pandas writes floats with every digit they need, so they read
    back exactly."""
    ci = pd.read_csv(path, header=[0, 1], index_col=0, parse_dates=True)
    ci.index.name = "date"
    ci.columns.names = ["ticker", "bound"]
    return ci


def array_task_command(index, tasks, n_samples, seed, out, **panel):
    """The command line of one array task (``panel``: ``data``, ``month``, ``tickers``)."""
    command = [sys.executable, "-m", "helpers.job_array", "array-task", "--index", str(index), "--tasks", str(tasks),
               "--samples", str(n_samples), "--seed", str(seed), "--out", str(out)]
    if panel.get("data"):
        command += ["--data", str(panel["data"])]
    if panel.get("month"):
        command += ["--month", panel["month"]]
    if panel.get("tickers"):
        command += ["--tickers", ",".join(panel["tickers"])]
    return command


def run_locally(tasks, n_samples, seed, out, indices=None, **panel):
    """Run array tasks ``indices`` (default: all ``tasks``) as separate processes, all at once,
    as a batch system would on its nodes, and wait for them. Returns their block files.

    Each process starts Python afresh and reads the data files itself; nothing is shared with
    this process. A task that fails raises ``RuntimeError`` with the end of its error output."""
    indices = range(tasks) if indices is None else indices
    processes = {index: subprocess.Popen(array_task_command(index, tasks, n_samples, seed, out, **panel),
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for index in indices}
    failures = []
    for index, process in processes.items():
        _, errors = process.communicate()
        if process.returncode != 0:
            last = errors.strip().splitlines()[-1] if errors.strip() else "no error output"
            failures.append(f"array task {index} exited with status {process.returncode}: {last}")
    if failures:
        raise RuntimeError("; ".join(failures))
    return [Path(out) / block_name(index, tasks) for index in indices]


def _parser():
    parser = argparse.ArgumentParser(prog="python -m helpers.job_array", description=__doc__.split("\n\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    task = steps.add_parser("array-task", help="compute and save one block of the bootstrap samples")
    task.add_argument("--index", type=int, required=True, help="this task's index, 0..tasks-1 ($SLURM_ARRAY_TASK_ID)")
    task.add_argument("--data", default="data", help="folder of the TICKER.csv files (default: data)")
    task.add_argument("--month", help="only this month, YYYY-MM (default: the whole year)")
    task.add_argument("--tickers", help="comma-separated tickers (default: every file)")
    combine_step = steps.add_parser("combine", help="check the blocks and write the intervals")
    combine_step.add_argument("--ci", default="ci.csv", help="CSV file for the intervals (default: ci.csv)")
    for step in (task, combine_step):
        step.add_argument("--tasks", type=int, required=True, help="number of tasks in the whole array")
        step.add_argument("--samples", type=int, required=True, help="bootstrap samples in the whole run")
        step.add_argument("--seed", type=int, required=True, help="the run's seed")
        step.add_argument("--out", required=True, help="folder of the block files")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    try:  # a run that cannot exist is refused before any data is read
        start, stop = block_bounds(args.index if args.step == "array-task" else 0, args.tasks, args.samples)
        check_seed(args.seed)
    except ValueError as error:
        print(f"{args.step}: {error}", file=sys.stderr)
        return 2
    if args.step == "array-task":
        returns = load_returns(args.data, args.month, args.tickers.split(",") if args.tickers else None)
        path = run_array_task(returns, args.index, args.tasks, args.samples, args.seed, args.out)
        print(f"array task {args.index} of {args.tasks}: samples {start}-{stop - 1} saved in {path.name}")
        return 0
    try:
        ci = combine(args.out, args.tasks, args.samples, args.seed)
    except BlockError as error:
        print(f"combine: {error}", file=sys.stderr)
        return 1
    ci.to_csv(args.ci)
    print(f"combined {args.tasks} blocks of {args.samples} samples: intervals written to {Path(args.ci).name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
