"""The worker functions that lessons 04 and 05 added to helpers/workers.py do what the lessons say."""
import io
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor

from helpers.workers import stdout_class


class MarkedOutput(io.StringIO):
    """An output object of this process's own, to see whether a worker inherits it."""


def test_stdout_class_names_the_class_of_sys_stdout(monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert stdout_class() == "_io.StringIO"


def test_a_forked_worker_inherits_the_output_object_of_the_process_that_forked_it(monkeypatch):
    monkeypatch.setattr(sys, "stdout", MarkedOutput())
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        assert pool.submit(stdout_class).result() == f"{__name__}.MarkedOutput"


def test_spawned_and_forkserver_workers_write_to_an_ordinary_text_file(monkeypatch):
    monkeypatch.setattr(sys, "stdout", MarkedOutput())
    for method in ("spawn", "forkserver"):
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method)) as pool:
            assert pool.submit(stdout_class).result() == "_io.TextIOWrapper"
