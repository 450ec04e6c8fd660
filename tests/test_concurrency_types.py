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


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_startup_runs_a_job_with_each_start_method(method):
    import multiprocessing
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available on this platform")
    assert ct.pool_startup_seconds(method) > 0


def test_pool_startup_rejects_an_unknown_method():
    with pytest.raises(ValueError, match="not available here"):
        ct.pool_startup_seconds("teleport")


def test_word_chunks_are_reproducible_and_differ_between_chunks():
    chunks = ct.word_chunks(n_chunks=3, words_per_chunk=200)
    assert chunks == ct.word_chunks(n_chunks=3, words_per_chunk=200)
    assert [len(chunk) for chunk in chunks] == [200] * 3 and chunks[0] != chunks[1]
    assert set(chunks[0]) <= set(ct.VOCABULARY)
    assert ct.word_chunks(n_chunks=4, words_per_chunk=200)[:3] == chunks  # one stream per chunk


def test_fake_server_counts_what_was_in_flight():
    server = ct.FakeServer(delay=0.01)

    async def three_then_one():
        await asyncio.gather(*(server.request(i) for i in range(3)))
        return await server.request(3)

    assert asyncio.run(three_then_one()) == "page 3"
    assert (server.peak, server.served, server.in_flight) == (3, 4, 0)
