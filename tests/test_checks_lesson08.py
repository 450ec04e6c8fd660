"""Lesson 08's checkers: the worked solutions pass, typical wrong answers get their hint."""
import asyncio
import threading
import time
from collections import Counter

import pytest

from helpers import concurrency_types as ct
from helpers.checks import CheckFailed
from helpers.checks.lesson08 import check_polite_fetch, check_word_count


def on_threads(work, chunks):
    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def locked_count(chunks):  # the worked solution
    counts, lock = {}, threading.Lock()

    def count(chunk):
        for word in chunk:
            with lock:
                counts[word] = counts.get(word, 0) + 1

    on_threads(count, chunks)
    return counts


def racy_count(chunks):  # the same without the lock, and a thread switch invited mid-update
    counts = {}

    def count(chunk):
        for word in chunk:
            seen = counts.get(word, 0)
            time.sleep(0)
            counts[word] = seen + 1

    on_threads(count, chunks)
    return counts


def serial_count(chunks):
    return Counter(word for chunk in chunks for word in chunk)


def test_the_worked_word_count_passes(capsys):
    check_word_count(locked_count)
    assert capsys.readouterr().out.startswith("Correct:")


@pytest.mark.parametrize("answer, hint", [
    (racy_count, "updates lost"),
    (serial_count, "not threaded"),
    (lambda chunks: [len(chunk) for chunk in chunks], "return a dict"),
    (lambda chunks: locked_count(chunks + chunks[:1]), "counted twice"),
    (lambda chunks: locked_count(chunks[1:]) | {"pool": 0}, "updates lost"),
    (lambda chunks: {word: 1 for word in ct.VOCABULARY[:3]}, "not the words"),
])
def test_wrong_word_counts_get_their_hint(answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_word_count(answer)


def test_the_checker_restores_the_switch_interval():
    import sys
    before = sys.getswitchinterval()
    with pytest.raises(CheckFailed):
        check_word_count(racy_count)
    assert sys.getswitchinterval() == before


def fetch(limit, n=100, reverse=False):
    """A client with at most ``limit`` requests in flight; returns (pages, server)."""
    server = ct.FakeServer(delay=0.01)

    async def client():
        gate = asyncio.Semaphore(limit)

        async def one(i):
            async with gate:
                return await server.request(i)

        return await asyncio.gather(*(one(i) for i in range(n)))

    pages = asyncio.run(client())
    return (pages[::-1] if reverse else pages), server


def test_the_worked_polite_fetch_passes(capsys):
    check_polite_fetch(*fetch(10))
    assert capsys.readouterr().out.startswith("Correct:")


@pytest.mark.parametrize("answer, hint", [
    (fetch(1), "one request at a time"),
    (fetch(100), "100 requests were in flight"),
    (fetch(5), "at most 5 requests"),
    (fetch(10, reverse=True), "not in order"),
    (fetch(10, n=99), "99 pages"),
    ((tuple(fetch(10)[0]), ct.FakeServer()), "store a list"),
])
def test_wrong_fetches_get_their_hint(answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_polite_fetch(*answer)


def test_a_reused_server_is_noticed():
    pages, server = fetch(10)
    server.served += 100
    with pytest.raises(CheckFailed, match="fresh FakeServer"):
        check_polite_fetch(pages, server)
