"""Lesson 06's random-stream demonstration: a module-level generator and a generator passed as
an argument repeat the same draws in every worker, under fork and spawn alike; spawned
SeedSequence children do not; and each task runs in its own worker."""
import multiprocessing
import os

import numpy as np
import pytest

from helpers import streams


@pytest.fixture(params=["fork", "spawn"])
def start_method(request, monkeypatch):
    context = multiprocessing.get_context(request.param)
    monkeypatch.setattr(streams.multiprocessing, "get_context", lambda: context)
    return request.param


def test_module_level_generator_repeats_in_every_worker(start_method):
    first, second = streams.one_task_per_worker(streams.draw_from_module_generator, [(6,), (6,)])
    assert np.array_equal(first, second)
    assert np.array_equal(first, np.random.default_rng(streams.MODULE_SEED).integers(0, streams.HIGH, 6))


def test_a_generator_passed_in_travels_with_its_state(start_method):
    rng = np.random.default_rng(3)
    first, second = streams.one_task_per_worker(streams.draw_from_generator, [(rng, 6), (rng, 6)])
    assert np.array_equal(first, second)


def test_seed_sequence_children_give_different_reproducible_draws(start_method):
    children = np.random.SeedSequence(3).spawn(2)
    first, second = streams.one_task_per_worker(streams.draw_from_seed, [(c, 6) for c in children])
    assert not np.array_equal(first, second)
    assert np.array_equal(first, streams.draw_from_seed(children[0], 6))


def test_every_task_runs_in_its_own_worker():
    pids = streams.one_task_per_worker(os.getpid, [(), (), ()])
    assert len(set(pids)) == 3 and os.getpid() not in pids


def test_quarter_circle_hits_is_about_pi_over_4_and_reproducible():
    seed = np.random.SeedSequence(1)
    hits = streams.quarter_circle_hits(seed, 40_000)
    assert abs(hits / 40_000 - np.pi / 4) < 0.01
    assert hits == streams.quarter_circle_hits(np.random.SeedSequence(1), 40_000)
