"""Lesson 11's ways of moving data to workers: the same intervals as lesson 06's serial run
whichever way the data travels and whatever the start method, shared memory that is cleaned up
(nothing left in /dev/shm, no resource-tracker warnings), memory maps, the memory sampler, and
thread limits that hold inside the workers."""
import gc
import multiprocessing
import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import shared_memory
from pathlib import Path

import numpy as np
import pytest

from helpers import data, panel, sharing
from helpers.timing import stopwatch

DAYS = data.trading_days_2007()[:4]
ROOT = Path(__file__).resolve().parents[1]
SHM = Path("/dev/shm")


@pytest.fixture(scope="module")
def returns():
    prices = data.simulate_panel(3, tickers=("CSCO", "BA"), days=DAYS).prices
    return data.intraday_log_returns(prices)


def shm_blocks():
    """Names of the shared-memory blocks in /dev/shm (Python names them psm_...)."""
    return {path.name for path in SHM.glob("psm_*")}


def test_initializer_and_shared_memory_give_the_serial_intervals(returns):
    serial = panel.compute_ci(returns, 40, seed=5)
    assert sharing.compute_ci_initializer(returns, 40, seed=5, max_workers=2).equals(serial)
    assert sharing.compute_ci_shared(returns, 40, seed=5, max_workers=2, batch_size=3).equals(serial)
    assert sharing.compute_ci_shared(returns, 40, seed=5, max_workers=None).equals(serial)  # every usable core
    assert not sharing.compute_ci_initializer(returns, 40, seed=6, max_workers=2).equals(serial)


def test_a_task_without_installed_returns_says_how_to_start_the_pool():
    with pytest.raises(RuntimeError, match="initializer=install_returns"):
        sharing.installed_statistics(np.random.SeedSequence(0).spawn(1))
    with pytest.raises(RuntimeError, match="initializer=install_returns"):
        sharing.pretend_work(0.0)


def test_pretend_work_waits_with_the_returns_sent_or_installed(returns):
    with stopwatch() as clock:
        sharing.pretend_work(0.05, returns)
    assert clock.seconds >= 0.05
    with ProcessPoolExecutor(1, initializer=sharing.install_returns, initargs=(returns,)) as pool:
        assert pool.submit(sharing.pretend_work, 0.0).result() is None


@pytest.mark.parametrize("kwargs, phrase", [
    ({"n_samples": 0}, "n_samples must be a positive whole number"),
    ({"n_samples": 10, "max_workers": 0}, "max_workers must be a positive whole number"),
])
def test_bad_arguments_are_named(returns, kwargs, phrase):
    with pytest.raises(ValueError, match=phrase):
        sharing.compute_ci_initializer(returns, **kwargs)


def test_empty_returns_are_refused(returns):
    with pytest.raises(ValueError, match="returns is empty"):
        sharing.compute_ci_shared(returns.iloc[:0], 10)


def test_shared_copy_holds_the_array_and_is_unlinked_afterwards():
    array = np.arange(12.0).reshape(4, 3)
    with sharing.shared_copy(array) as spec:
        block = shared_memory.SharedMemory(name=spec.name)
        seen = np.ndarray(spec.shape, dtype=spec.dtype, buffer=block.buf).copy()
        block.close()
    assert np.array_equal(seen, array)
    with pytest.raises(FileNotFoundError):
        shared_memory.SharedMemory(name=spec.name)


def test_shared_copy_is_unlinked_after_an_error_too():
    with pytest.raises(KeyError):
        with sharing.shared_copy(np.ones(3)) as spec:
            raise KeyError("the work failed")
    with pytest.raises(FileNotFoundError):
        shared_memory.SharedMemory(name=spec.name)


def test_shared_copy_refuses_python_objects():
    with pytest.raises(ValueError, match="numeric dtype"):
        with sharing.shared_copy(np.array(["a", None], dtype=object)):
            pass


@pytest.mark.skipif(not SHM.is_dir(), reason="/dev/shm exists on Linux only")
def test_nothing_is_left_in_dev_shm(returns):
    before = shm_blocks()
    with sharing.shared_copy(np.ones((1000, 4))) as spec:
        assert spec.name.lstrip("/") in shm_blocks()
    sharing.compute_ci_shared(returns, 4, seed=1, max_workers=2)
    assert shm_blocks() == before


def test_row_blocks_cover_every_row_once():
    for n_rows, n_blocks in [(10, 3), (7, 7), (1000, 8), (3, 5)]:
        blocks = sharing.row_blocks(n_rows, n_blocks)
        covered = [row for start, stop in blocks for row in range(start, stop)]
        assert covered == list(range(n_rows)) and len(blocks) == n_blocks


def test_copied_shared_and_mapped_column_sums_agree(tmp_path):
    array = np.random.default_rng(0).integers(0, 1000, size=(1001, 3))
    np.save(tmp_path / "array.npy", array)
    blocks = sharing.row_blocks(len(array), 4)
    with sharing.shared_copy(array) as spec, ProcessPoolExecutor(2) as pool:
        copied = sum(pool.map(sharing.copied_column_sums, [array] * 4, *zip(*blocks)))
        shared = sum(pool.map(sharing.shared_column_sums, [spec] * 4, *zip(*blocks)))
        mapped = sum(pool.map(sharing.memmap_column_sums, [tmp_path / "array.npy"] * 4, *zip(*blocks)))
    for total in (copied, shared, mapped):
        assert np.array_equal(total, array.sum(axis=0))


def test_workers_see_a_read_only_array():
    with sharing.shared_copy(np.ones(3)) as spec:
        block = shared_memory.SharedMemory(name=spec.name)
        try:
            view = sharing._view(spec, block)
            with pytest.raises(ValueError, match="read-only"):
                view[0] = 2.0
            del view
        finally:
            block.close()


SCRIPT = textwrap.dedent("""
    import multiprocessing, sys
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import shared_memory
    import numpy as np
    from helpers import data, panel, sharing

    created = []  # the blocks this run creates (other processes on the machine create blocks of their own)


    class NotedBlock(shared_memory.SharedMemory):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if self._flags & __import__("os").O_CREAT:
                created.append(self.name.lstrip("/"))


    if __name__ == "__main__":
        multiprocessing.set_start_method(sys.argv[1], force=True)
        shared_memory.SharedMemory = NotedBlock
        returns = data.intraday_log_returns(
            data.simulate_panel(3, tickers=("CSCO", "BA"), days=data.trading_days_2007()[:3]).prices)
        serial = panel.compute_ci(returns, 12, seed=2)
        print("initializer", sharing.compute_ci_initializer(returns, 12, seed=2).equals(serial))
        print("shared", sharing.compute_ci_shared(returns, 12, seed=2).equals(serial))
        array = np.arange(40.0).reshape(10, 4)
        with sharing.shared_copy(array) as spec, ProcessPoolExecutor(2) as pool:
            total = sum(pool.map(sharing.shared_column_sums, [spec] * 2, [0, 5], [5, 10]))
        print("sums", np.array_equal(total, array.sum(axis=0)))
        print("created", *created)
""")


@pytest.mark.parametrize("method", [m for m in ("fork", "spawn", "forkserver")
                                    if m in multiprocessing.get_all_start_methods()])
def test_every_start_method_same_intervals_no_warnings_nothing_left(method):
    run = subprocess.run([sys.executable, "-c", SCRIPT, method], capture_output=True, text=True, cwd=ROOT,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    *results, created = run.stdout.splitlines()
    assert " ".join(results).split() == ["initializer", "True", "shared", "True", "sums", "True"]
    assert run.stderr == "", f"warnings at exit under {method}: {run.stderr}"  # e.g. resource_tracker leaks
    created = created.split()[1:]
    assert len(created) == 2  # compute_ci_shared's block and shared_copy's
    if SHM.is_dir():  # only this run's blocks: other programs on the machine may create and remove their own
        assert not set(created) & shm_blocks()


def test_peak_memory_sees_an_allocation_in_this_process():
    with sharing.PeakMemory() as quiet:
        pass
    with sharing.PeakMemory() as busy:
        array = np.ones(50_000_000 // 8)  # 50 MB, touched
        busy._sample_once()
        del array
    assert busy.parent - quiet.parent > 40e6


def test_peak_memory_counts_workers_and_not_this_process():
    with sharing.PeakMemory() as peak, ProcessPoolExecutor(1) as pool:
        pool.submit(sharing.receive).result()
        peak._sample_once()
    # The worker's memory is counted as the workers'; this process's growth can be nil (or its
    # memory can even shrink), so it is only checked not to go below zero.
    assert peak.workers > 0 and peak.parent >= 0


def test_threads_per_worker_keeps_threads_times_processes_within_the_cores():
    assert sharing.threads_per_worker(2, cores=8) == 4
    assert sharing.threads_per_worker(3, cores=8) == 2
    assert sharing.threads_per_worker(4, cores=2) == 1
    with pytest.raises(ValueError, match="positive whole number"):
        sharing.threads_per_worker(0)


def test_limit_threads_holds_inside_every_worker():
    with ProcessPoolExecutor(2, initializer=sharing.limit_threads, initargs=(1,)) as pool:
        reports = list(pool.map(sharing.report_threads, range(4)))
    assert all(r["blas"] == 1 and r["numba"] == 1 for r in reports)
    assert all(r["pid"] != sharing.os.getpid() for r in reports)
    # which BLAS it is (None: one threadpoolctl cannot limit) and the most threads Numba may use
    assert all(r["blas_library"] == sharing._blas_library() and r["numba_most"] >= 1 for r in reports)


def test_matrix_product_job_runs_on_the_threads_it_is_given():
    assert sharing.matrix_product_job(50, seed=0, blas_threads=1)["blas"] == 1
    assert sharing.matrix_product_job(50, seed=0)["blas"] == sharing._blas_threads()
    assert sharing._blas_threads() >= 1  # the limit above ended with the job


def test_a_worker_builds_its_dataframe_on_the_shared_block_without_a_copy(returns):
    with sharing.shared_copy(returns.to_numpy(dtype=float).T) as spec:
        sharing.install_shared_returns(spec, returns.index, returns.columns)  # as a worker would
        try:
            installed = sharing._returns
            assert installed.equals(returns)
            assert np.shares_memory(installed.to_numpy(), np.frombuffer(sharing._block.buf))
        finally:
            del installed
            sharing._returns = None
            gc.collect()  # the DataFrame's views of the block must be gone before close()
            sharing._block.close()
            sharing._block = None
