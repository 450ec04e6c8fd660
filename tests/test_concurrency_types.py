"""Lesson 08: the race condition is reproducible, its fixes work, the race that hides under the
GIL shows with hand-over words, the jobs and the cost measurements do what they say."""
import asyncio
import multiprocessing
import sys
import threading
from collections import Counter

import pytest

from helpers import concurrency_types as ct
from helpers import free_threading as ft


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
    assert ct.cpu_work is ft.cpu_work and ct.worker_rss_mb() > 1


def test_a_worker_counted_as_pss_costs_less_than_its_rss():
    rss, share = ct.worker_memory_mb(max_workers=2, hold=0.1)
    assert 1 < share < rss


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform")
def test_fork_warns_in_a_process_with_threads_from_python_3_12():
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        warned = ct.fork_start_warnings()
    finally:
        release.set()
        other.join()
    if sys.version_info >= (3, 12):
        assert warned and "fork()" in warned[0]
    else:
        assert warned == []


def test_plain_words_lose_nothing_under_the_gil_and_hand_over_words_always_lose():
    text = ct.word_chunks(n_chunks=4, words_per_chunk=2000)
    with ct.switching_often():
        plain = ct.unprotected_count(text)
    if ft.gil_enabled():
        assert plain == dict(Counter(word for chunk in text for word in chunk))
    short = ct.word_chunks(n_chunks=4, words_per_chunk=100)
    for _ in range(3):
        forced = ct.unprotected_count(ct.handing_over(short))
        assert sum(forced.values()) < 400


def test_switching_often_restores_the_interval():
    before = sys.getswitchinterval()
    with pytest.raises(KeyError), ct.switching_often():
        assert sys.getswitchinterval() == pytest.approx(1e-6)
        raise KeyError
    assert sys.getswitchinterval() == before


def test_hand_over_words_are_the_plain_words_and_the_turnstile_sees_the_threads():
    turnstile = ct.Turnstile(2, gate=0.05)
    chunks = ct.handing_over([["pool", "lock"], ["pool"]], turnstile)
    assert chunks == [["pool", "lock"], ["pool"]] and {"pool": 1}[chunks[0][0]] == 1
    assert hash(chunks[0][0]) == hash("pool") and turnstile.main_thread_hashes() == 2
    counts = Counter()
    threads = [threading.Thread(target=counts.update, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == {"pool": 2, "lock": 1}
    assert turnstile.counting_threads() == 2 and turnstile.most_at_once == 2
    assert sum(turnstile.hashes.values()) - turnstile.main_thread_hashes() == 3


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
