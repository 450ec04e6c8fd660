"""Lesson 08: the race condition is reproducible, its fixes work, the jobs do what they say."""
import asyncio

import pytest

from helpers import concurrency_types as ct


@pytest.mark.parametrize("n_threads, rounds", [(2, 50), (4, 20)])
def test_the_race_loses_updates_every_time(n_threads, rounds):
    assert ct.racy_increments(n_threads, rounds) == rounds


@pytest.mark.parametrize("fix", [ct.locked_increments, ct.owner_thread_increments])
def test_the_fixes_lose_nothing(fix):
    assert fix(4, 100) == 400


def test_jobs():
    assert ct.wait_io(0) == 0
    assert asyncio.run(ct.wait_io_async(0)) == 0
    assert ct.cpu_work(10) == sum(i * i % 7 for i in range(10))
    assert ct.worker_memory_mb() > 1


def test_outlook_names_the_running_python():
    import sys
    lines = ct.python_outlook()
    assert lines[0] == f"Python {sys.version_info.major}.{sys.version_info.minor}" and len(lines) == 3
