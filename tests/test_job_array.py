"""Lesson 10's job array (:mod:`helpers.job_array`, ``hpc/``): K = 4 array tasks, started as separate
processes, and the combine step give exactly the serial intervals; the blocks split the samples
once, evenly; the combine step refuses a missing or duplicated block, one of another run (seed,
samples, tasks, statistic), of other data, or a file that is no block, each with a message naming
it and the fix; and the SLURM scripts run as they are, with the variables SLURM would set."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import data, job_array, panel

ROOT = Path(__file__).resolve().parents[1]
TASKS, SAMPLES, SEED = 4, 18, 3
TICKERS, MONTH = ("GE", "DIS"), "2007-01"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    data.write_panel(data.simulate_panel(5, tickers=("GE", "DIS", "BA"), days=data.trading_days_2007()[:3]).prices,
                     folder)
    return folder


@pytest.fixture(scope="module")
def returns(data_dir):
    return job_array.load_returns(data_dir, MONTH, TICKERS)


@pytest.fixture(scope="module")
def serial(returns):
    return panel.compute_ci(returns, SAMPLES, seed=SEED)


@pytest.fixture
def blocks(tmp_path, returns):
    """A complete set of blocks, computed in this process."""
    out = tmp_path / "blocks"
    for index in range(TASKS):
        job_array.run_array_task(returns, index, TASKS, SAMPLES, SEED, out)
    return out


def combine(out, **changes):
    arguments = {"tasks": TASKS, "n_samples": SAMPLES, "seed": SEED, **changes}
    return job_array.combine(out, **arguments)


# Splitting the samples ------------------------------------------------------------------------


@pytest.mark.parametrize("tasks, n_samples", [(1, 1), (4, 18), (4, 4), (3, 10), (7, 100)])
def test_blocks_cover_every_sample_once_and_evenly(tasks, n_samples):
    bounds = [job_array.block_bounds(index, tasks, n_samples) for index in range(tasks)]
    assert [i for start, stop in bounds for i in range(start, stop)] == list(range(n_samples))
    sizes = [stop - start for start, stop in bounds]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("index, tasks, n_samples, message", [
    (4, 4, 18, "outside 0..3"), (-1, 4, 18, "outside"), (0, 5, 4, "cannot split"), (0, 0, 4, "cannot split")])
def test_impossible_blocks_are_refused(index, tasks, n_samples, message):
    with pytest.raises(ValueError, match=message):
        job_array.block_bounds(index, tasks, n_samples)


# The right result -------------------------------------------------------------------------------


def test_blocks_combine_into_exactly_the_serial_intervals(blocks, serial):
    ci = combine(blocks)
    assert ci.equals(serial)
    assert ci.index.equals(serial.index) and ci.columns.equals(serial.columns)


def test_a_block_records_what_combine_checks(blocks, returns):
    block = job_array.read_block(blocks / job_array.block_name(1, TASKS))
    assert (block["seed"], block["n_samples"], block["tasks"], block["index"]) == (SEED, SAMPLES, TASKS, 1)
    assert (block["start"], block["stop"]) == job_array.block_bounds(1, TASKS, SAMPLES)
    assert block["statistic"] == "compute_rv" and block["panel"] == job_array.fingerprint(returns)
    assert block["pid"] == os.getpid() and list(block["tickers"]) == list(TICKERS)


def test_four_array_tasks_as_separate_processes_give_the_serial_intervals(tmp_path, data_dir, serial):
    out = tmp_path / "blocks"
    files = job_array.run_locally(TASKS, SAMPLES, SEED, out, data=data_dir, month=MONTH, tickers=TICKERS)
    writers = {job_array.read_block(path)["pid"] for path in files}
    assert len(writers) == TASKS and os.getpid() not in writers
    assert combine(out).equals(serial)


def test_a_failing_array_task_is_reported(tmp_path):
    with pytest.raises(RuntimeError, match="array task 0 exited with status 1: .*no data folder"):
        job_array.run_locally(2, SAMPLES, SEED, tmp_path / "blocks", data=tmp_path / "nowhere")


def test_the_command_line_writes_blocks_and_intervals_read_back_exactly(tmp_path, data_dir, serial, capsys):
    out, csv = tmp_path / "blocks", tmp_path / "ci.csv"
    for index in range(TASKS):
        assert job_array.main(["array-task", "--index", str(index), "--tasks", str(TASKS), "--samples", str(SAMPLES),
                               "--seed", str(SEED), "--out", str(out), "--data", str(data_dir), "--month", MONTH,
                               "--tickers", ",".join(TICKERS)]) == 0
    assert job_array.main(["combine", "--tasks", str(TASKS), "--samples", str(SAMPLES), "--seed", str(SEED),
                           "--out", str(out), "--ci", str(csv)]) == 0
    assert "intervals written to ci.csv" in capsys.readouterr().out
    assert job_array.read_ci(csv).equals(serial)


def test_the_command_line_combine_says_why_it_refuses(blocks, tmp_path, capsys):
    (blocks / job_array.block_name(3, TASKS)).unlink()
    assert job_array.main(["combine", "--tasks", str(TASKS), "--samples", str(SAMPLES), "--seed", str(SEED),
                           "--out", str(blocks), "--ci", str(tmp_path / "ci.csv")]) == 1
    assert "array task(s) 3 of 4" in capsys.readouterr().err
    assert not (tmp_path / "ci.csv").exists()


# What breaks ----------------------------------------------------------------------------------


def test_a_missing_block_is_named_with_the_command_that_reruns_it(blocks):
    (blocks / job_array.block_name(2, TASKS)).unlink()
    with pytest.raises(job_array.BlockError, match=r"array task\(s\) 2 of 4 .* sbatch --array=2 "
                                                   r"hpc/bootstrap_array.sbatch 4 18 3"):
        combine(blocks)


def test_a_block_there_twice_is_refused(blocks):
    shutil.copy(blocks / job_array.block_name(1, TASKS), blocks / "block-0001-of-0004 (copy).npz")
    with pytest.raises(job_array.BlockError, match=r"there twice: array task 1's in block-0001-of-0004 \(copy\)"):
        combine(blocks)


def test_a_block_of_another_seed_is_named(blocks, returns):
    job_array.run_array_task(returns, 2, TASKS, SAMPLES, SEED + 5, blocks)
    with pytest.raises(job_array.BlockError, match="block-0002-of-0004.npz was computed with --seed 8, not 3: "
                                                   "it belongs to another run; delete it and re-run array task 2"):
        combine(blocks)


def test_a_block_of_another_sample_count_is_named(blocks, returns):
    (blocks / job_array.block_name(0, TASKS)).unlink()
    job_array.run_array_task(returns, 0, TASKS, SAMPLES + 2, SEED, blocks)
    with pytest.raises(job_array.BlockError, match="block-0000-of-0004.npz was computed with --samples 20, not 18"):
        combine(blocks)


def test_a_block_of_another_split_is_named(blocks, returns):
    job_array.run_array_task(returns, 5, 8, SAMPLES, SEED, blocks)
    with pytest.raises(job_array.BlockError,
                       match="block-0005-of-0008.npz was computed with --tasks 8, not 4: .*move it"):
        combine(blocks)


@pytest.mark.parametrize("option, changes", [("--seed", {"seed": SEED + 1}), ("--samples", {"n_samples": SAMPLES * 2}),
                                             ("--tasks", {"tasks": 2})])
def test_combine_given_other_settings_than_the_array_says_so_once(blocks, option, changes):
    with pytest.raises(job_array.BlockError, match=f"all 4 blocks were computed with {option} .*give combine the "
                                                   f"array's {option}"):
        combine(blocks, **changes)


def test_blocks_of_another_statistic_are_refused(blocks):
    with pytest.raises(job_array.BlockError, match="statistic compute_rv, not realized_quarticity"):
        combine(blocks, statistic=panel.realized_quarticity)


def test_blocks_of_other_data_are_refused(blocks, data_dir):
    other = job_array.load_returns(data_dir, MONTH, ("GE", "BA"))
    job_array.run_array_task(other, 3, TASKS, SAMPLES, SEED, blocks)
    with pytest.raises(job_array.BlockError, match="different returns"):
        combine(blocks)


def test_a_file_that_is_no_block_is_named(blocks):
    np.savez(blocks / "notes.npz", numbers=np.arange(3))
    with pytest.raises(job_array.BlockError, match="notes.npz is not a block file"):
        combine(blocks)


@pytest.mark.parametrize("name, content", [("cut-short.npz", None), ("empty.npz", b""), ("notes.npz", b"not an archive")])
def test_a_file_that_cannot_be_read_is_named_not_a_traceback(blocks, name, content):
    """A block cut short (a full disk, a killed copy), an empty file or one of another program."""
    if content is None:
        content = (blocks / job_array.block_name(1, TASKS)).read_bytes()[:200]
    (blocks / name).write_bytes(content)
    with pytest.raises(job_array.BlockError, match=f"{name} cannot be read as a block file"):
        combine(blocks)


def test_a_folder_named_like_a_block_is_named(blocks):
    (blocks / "old.npz").mkdir()
    with pytest.raises(job_array.BlockError, match="old.npz cannot be read as a block file"):
        combine(blocks)


def test_an_archive_with_pickled_data_is_not_unpickled(blocks):
    np.savez(blocks / "pickled.npz", seed=np.array([object()], dtype=object), stats=np.zeros(2))
    with pytest.raises(job_array.BlockError, match="pickled.npz cannot be read as a block file"):
        combine(blocks)


def test_an_archive_with_only_some_of_the_fields_is_named(blocks):
    np.savez(blocks / "half.npz", seed=SEED, stats=np.zeros((1, 1, 1)))
    with pytest.raises(job_array.BlockError, match="half.npz is not a block file written by an array task "
                                                   r"\(it lacks n_samples"):
        combine(blocks)


@pytest.mark.parametrize("field, value, reason", [("seed", np.array(3.0), "has seed of another type"),
                                                  ("index", np.array(True), "has index of another type"),
                                                  ("index", np.array(7), "has an index or statistics that do not fit"),
                                                  ("stats", np.zeros((4, 1, 1)), "index or statistics that do not fit")])
def test_a_block_whose_fields_do_not_fit_together_is_named(blocks, field, value, reason):
    path = blocks / job_array.block_name(1, TASKS)
    fields = dict(np.load(path))
    fields[field] = value
    np.savez(path, **fields)
    with pytest.raises(job_array.BlockError, match=f"block-0001-of-0004.npz is not a block file .*{reason}"):
        combine(blocks)


def test_a_block_of_other_data_is_named_with_the_task_to_rerun(blocks, data_dir):
    other = job_array.load_returns(data_dir, MONTH, ("GE", "BA"))
    (blocks / job_array.block_name(3, TASKS)).unlink()
    job_array.run_array_task(other, 3, TASKS, SAMPLES, SEED, blocks)
    with pytest.raises(job_array.BlockError, match=r"block-0003-of-0004.npz from other data than the other 3 blocks\. "
                                                   r"Re-run array task\(s\) 3"):
        combine(blocks)


def test_blocks_split_evenly_between_two_data_sets_are_all_named(blocks, data_dir):
    other = job_array.load_returns(data_dir, MONTH, ("GE", "BA"))
    for index in (2, 3):
        (blocks / job_array.block_name(index, TASKS)).unlink()
        job_array.run_array_task(other, index, TASKS, SAMPLES, SEED, blocks)
    with pytest.raises(job_array.BlockError, match="block-0000-of-0004.npz, block-0001-of-0004.npz; "
                                                   "block-0002-of-0004.npz, block-0003-of-0004.npz. Re-run every"):
        combine(blocks)


@pytest.mark.parametrize("changes, message", [({"tasks": 0}, "an array of 0 tasks cannot split"),
                                              ({"n_samples": 2}, "an array of 4 tasks cannot split 2 samples"),
                                              ({"seed": -1}, "the seed must be an integer from 0")])
def test_combine_refuses_a_run_that_cannot_exist(blocks, changes, message):
    with pytest.raises(ValueError, match=message):
        combine(blocks, **changes)


@pytest.mark.parametrize("seed", [2**63, -1, 1.5, True])
def test_an_array_task_refuses_a_seed_a_block_cannot_record(tmp_path, returns, seed):
    with pytest.raises(ValueError, match="the seed must be an integer from 0 to 2\\*\\*63 - 1"):
        job_array.run_array_task(returns, 0, TASKS, SAMPLES, seed, tmp_path)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("arguments", [
    ["array-task", "--index", "4", "--tasks", "4", "--samples", "18", "--seed", "1", "--data", "nowhere"],
    ["array-task", "--index", "0", "--tasks", "4", "--samples", "18", "--seed", str(2**63), "--data", "nowhere"],
    ["combine", "--tasks", "5", "--samples", "4", "--seed", "1"]], ids=["index", "seed", "split"])
def test_the_command_line_refuses_impossible_settings_before_reading_anything(tmp_path, capsys, arguments):
    assert job_array.main([*arguments, "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"{arguments[0]}: ")
    assert not list(tmp_path.iterdir())


def test_a_block_renamed_still_counts_as_its_task(blocks, serial):
    (blocks / job_array.block_name(0, TASKS)).rename(blocks / "first.npz")
    assert combine(blocks).equals(serial)


def test_a_task_killed_while_writing_leaves_nothing_that_looks_like_a_block(blocks):
    """Blocks are written under a temporary name first; a leftover of a killed task is ignored
    (and its block reported missing)."""
    target = blocks / job_array.block_name(2, TASKS)
    target.rename(target.with_name(target.name + ".partial"))
    with pytest.raises(job_array.BlockError, match=r"array task\(s\) 2 of 4"):
        combine(blocks)


def test_the_fingerprint_tells_data_apart(returns):
    assert job_array.fingerprint(returns) == job_array.fingerprint(returns.copy())
    changed = returns.copy()
    changed.iloc[5, 0] += 1e-12
    assert job_array.fingerprint(changed) != job_array.fingerprint(returns)


# The SLURM scripts, run with the variables SLURM would set -------------------------------------


needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="the job scripts are bash scripts")


def run_script(script, *arguments, cwd, **environment):
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"], **environment}
    return subprocess.run(["bash", str(ROOT / "hpc" / script), *map(str, arguments)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def site(tmp_path, data_dir):
    """A directory laid out like the repository's root on a cluster: data/ and results/."""
    shutil.copytree(data_dir, tmp_path / "data")
    (tmp_path / "results").mkdir()
    return tmp_path


@needs_bash
def test_the_array_scripts_compute_and_combine_the_serial_intervals(site, data_dir):
    for index in range(TASKS):
        run = run_script("bootstrap_array.sbatch", TASKS, SAMPLES, SEED, cwd=site, SLURM_ARRAY_TASK_ID=str(index),
                         SLURM_ARRAY_TASK_COUNT=str(TASKS))
        assert run.returncode == 0, run.stderr
    run = run_script("combine_array.sbatch", TASKS, SAMPLES, SEED, cwd=site)
    assert run.returncode == 0, run.stderr
    whole_panel = data.intraday_log_returns(data.load_prices(data_dir))  # the scripts bootstrap every file
    expected = panel.compute_ci(whole_panel, SAMPLES, seed=SEED)
    assert job_array.read_ci(site / "results" / "ci_array.csv").equals(expected)


@needs_bash
def test_a_task_resubmitted_alone_still_computes_its_own_block(site):
    """sbatch --array=2 makes SLURM_ARRAY_TASK_COUNT 1; the script takes the array's size from
    its argument, so task 2 still writes block 2 of 4."""
    run = run_script("bootstrap_array.sbatch", TASKS, SAMPLES, SEED, cwd=site, SLURM_ARRAY_TASK_ID="2",
                     SLURM_ARRAY_TASK_COUNT="1")
    assert run.returncode == 0, run.stderr
    assert [p.name for p in (site / "results" / "blocks").iterdir()] == [job_array.block_name(2, TASKS)]


@needs_bash
@pytest.mark.parametrize("script, arguments, environment, message", [
    ("bootstrap_array.sbatch", (), {"SLURM_ARRAY_TASK_ID": "0"}, "usage: sbatch --array=0-3"),
    ("bootstrap_array.sbatch", (TASKS, SAMPLES, SEED), {}, "not an array task"),
    ("combine_array.sbatch", (TASKS,), {}, "usage: sbatch hpc/combine_array.sbatch TASKS SAMPLES SEED")])
def test_the_scripts_say_what_they_lack(site, script, arguments, environment, message):
    env = {name: value for name, value in os.environ.items() if name != "SLURM_ARRAY_TASK_ID"}
    run = subprocess.run(["bash", str(ROOT / "hpc" / script), *map(str, arguments)], cwd=site,
                         env={**env, **environment}, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and message in run.stderr
    assert not (site / "results" / "blocks").exists()


@needs_bash
def test_submit_array_queues_the_array_then_the_dependent_combine(site, tmp_path):
    """With a stand-in sbatch that logs its arguments and prints a job id as --parsable does."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text('#!/bin/bash\necho "$@" >> "$SBATCH_LOG"\necho "4242;cluster"\n')
    (bin_dir / "sbatch").chmod(0o755)
    log = tmp_path / "sbatch.log"
    run = run_script("submit_array.sh", 4, 1000, 1, cwd=site, SBATCH_LOG=str(log),
                     PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert run.returncode == 0, run.stderr
    assert log.read_text().splitlines() == [
        "--parsable --array=0-3 hpc/bootstrap_array.sbatch 4 1000 1",
        "--dependency=afterok:4242 --kill-on-invalid-dep=yes hpc/combine_array.sbatch 4 1000 1"]
    assert (site / "logs").is_dir()
