"""Checkers for lesson 08's exercises: a word count on threads that loses nothing, and an asyncio
client that keeps at most ten requests in flight."""

import sys
import threading
from collections import Counter

from helpers.checks import passed, require
from helpers.concurrency_types import word_chunks

RUNS = 5
TINY_SWITCH_INTERVAL = 1e-6  # seconds: threads switch as often as CPython allows, so races show
POLITE_LIMIT = 10
PAGES = 100


class _WatchedChunk(list):
    """A chunk of words that remembers which threads read it."""

    def __init__(self, words, readers):
        super().__init__(words)
        self._readers = readers

    def __iter__(self):
        self._readers.add(threading.current_thread().name)
        return super().__iter__()


def _count_with_frequent_switches(count_words, chunks):
    """Run ``count_words`` with threads switching as often as possible (a race then shows up
    within a few runs instead of once in a blue moon)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(TINY_SWITCH_INTERVAL)
    try:
        return count_words(chunks)
    finally:
        sys.setswitchinterval(before)


def check_word_count(count_words):
    """Exercise 8.1: ``count_words(chunks)`` counts every word of every chunk on threads, the same
    on every run."""
    require(callable(count_words), "count_words should be a function that takes the list of chunks")
    plain = word_chunks()
    expected = Counter(word for chunk in plain for word in chunk)
    total = sum(expected.values())
    for run in range(1, RUNS + 1):
        readers = set()
        result = _count_with_frequent_switches(count_words, [_WatchedChunk(chunk, readers) for chunk in plain])
        require(hasattr(result, "items"), f"count_words returned a {type(result).__name__}: return a dict "
                                          "(or Counter) from each word to its count")
        require(set(result) == set(expected), "the words counted are not the words of the chunks: "
                                              "count each word of every chunk")
        require(readers != {threading.main_thread().name},
                "not threaded: every chunk was read by the main thread; give each chunk to a thread")
        counted = sum(result.values())
        require(counted <= total, f"{counted} words counted but the chunks hold {total}: "
                                  "is a chunk counted twice?")
        require(counted == total, f"run {run}: {total - counted} of {total} updates lost; some "
                                  "read-modify-write of the shared counts is not protected")
        require(dict(result) == dict(expected), "the right number of words but wrong counts per word")
    passed(f"{total} words counted on threads, none lost in {RUNS} runs with frequent thread switches")


def check_polite_fetch(pages, server):
    """Exercise 8.2: all pages, in order, fetched with at most (and up to) ten requests in flight."""
    require(isinstance(pages, list), f"pages is a {type(pages).__name__}: store a list of the pages")
    require(len(pages) == PAGES, f"{len(pages)} pages: fetch pages 0 to {PAGES - 1}, one each")
    expected = [f"page {i}" for i in range(PAGES)]
    require(pages == expected or sorted(map(str, pages)) != sorted(expected),
            "the pages are not in order: keep them in the order of i, not the order they arrived")
    require(pages == expected, f"wrong pages: request page i for i = 0 to {PAGES - 1}")
    require(server.served == PAGES, f"the server answered {server.served} requests for {PAGES} pages: "
                                    "use a fresh FakeServer and request each page once")
    require(server.peak > 1, "one request at a time: start the requests together (asyncio.gather) "
                             "and let a limit hold some of them back")
    require(server.peak <= POLITE_LIMIT, f"{server.peak} requests were in flight at once; "
                                         f"the limit is {POLITE_LIMIT}")
    require(server.peak == POLITE_LIMIT, f"at most {server.peak} requests in flight at once: you may "
                                         f"keep {POLITE_LIMIT} going")
    passed(f"{PAGES} pages in order, never more than {POLITE_LIMIT} requests in flight")
