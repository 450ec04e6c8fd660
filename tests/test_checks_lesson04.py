"""Lesson 04's checkers: the worked solutions pass under fork and spawn; serial, hard-coded,
fabricated and empty answers, a bar without a total, bars that count the wrong thing or move at
the wrong moment, and wrongly shaped answers each get their hint."""
import math
import multiprocessing
from concurrent.futures import as_completed
from types import SimpleNamespace

import numpy as np
import pytest

from helpers.checks import CheckFailed
from helpers.checks import lesson04
from helpers.checks.lesson04 import check_chunk_bar, check_map_bar
from helpers.workers import slow_computation_silent, slow_computation_silent_chunk

SECONDS = 0.02


@pytest.fixture(autouse=True)
def short_hold(monkeypatch):
    """Hold the checker's slow job back less long than in the notebook, to keep the tests quick."""
    monkeypatch.setattr(lesson04, "HELD_BACK", 0.25)


from checking import context  # noqa: F401 (a fixture: under fork and spawn)


# Exercise 4.1 -------------------------------------------------------------------------------

def map_with_bar(executor, xs, progress):
    bar = progress(executor.map(slow_computation_silent, xs, [SECONDS] * len(xs)), total=len(xs), desc="map")
    return list(bar)


def map_with_manual_bar(executor, xs, progress):
    results = []
    with progress(total=len(xs)) as bar:
        for value in executor.map(slow_computation_silent, xs, [SECONDS] * len(xs), chunksize=2):
            results.append(value)
            bar.update()
    return results


def map_in_chunks_of_three(executor, xs, progress):
    results = []
    with progress(total=len(xs)) as bar:
        for value in executor.map(slow_computation_silent, xs, [SECONDS] * len(xs), chunksize=3):
            results.append(value)
            bar.update()
    return results


def map_with_numpy_sizes(executor, xs, progress):
    """Written for the notebook's np.linspace inputs: xs.size, xs.tolist()."""
    return list(progress(executor.map(slow_computation_silent, xs.tolist(), [SECONDS] * xs.size), total=xs.size))


def test_the_map_solution_passes(context, capsys):
    check_map_bar(map_with_bar, mp_context=context)
    assert capsys.readouterr().out == ("Correct: executor.map ran 6 jobs in the pool's workers, and one bar with "
                                       "total=6 moved one step as each result came back, in input order.\n")


def test_a_bar_moved_by_hand_as_map_hands_back_results_passes(context):
    check_map_bar(map_with_manual_bar, mp_context=context)


def test_map_in_chunks_passes_whichever_chunk_holds_the_held_back_job(context):
    """With chunksize=3 map makes two chunks; the one holding the last input is held back, so the
    bar moves, as it should, after the first chunk's results."""
    check_map_bar(map_in_chunks_of_three, mp_context=context)


def test_an_answer_written_for_the_notebooks_numpy_inputs_passes():
    check_map_bar(map_with_numpy_sizes, mp_context=multiprocessing.get_context("fork"))


def serial(executor, xs, progress):
    return [slow_computation_silent(x, SECONDS) for x in progress(xs)]


def hard_coded(executor, xs, progress):
    list(progress(executor.map(slow_computation_silent, xs, [SECONDS] * len(xs)), total=len(xs)))
    return [math.exp(x) + 3 for x in (0.0, 0.5, 1.0, 1.5, 2.0, 2.5)]


def fabricated(executor, xs, progress):
    return [math.exp(x) + 3 for x in progress(xs)]


def empty(executor, xs, progress):
    list(progress(executor.map(slow_computation_silent, xs, [SECONDS] * len(xs)), total=len(xs)))
    return []


def without_total(executor, xs, progress):
    return list(progress(executor.map(slow_computation_silent, xs, [SECONDS] * len(xs))))


def bar_over_the_inputs(executor, xs, progress):
    return list(executor.map(slow_computation_silent, progress(xs), [SECONDS] * len(xs)))


def bar_over_collected_results(executor, xs, progress):
    results = list(executor.map(slow_computation_silent, xs, [SECONDS] * len(xs)))
    return list(progress(results))


def one_jump_at_the_end(executor, xs, progress):
    bar = progress(total=len(xs))
    results = list(executor.map(slow_computation_silent, xs, [SECONDS] * len(xs)))
    bar.update(len(xs))
    return results


def all_in_one_chunk(executor, xs, progress):
    return list(progress(executor.map(slow_computation_silent, xs, [SECONDS] * len(xs), chunksize=len(xs)),
                         total=len(xs)))


def count_set_directly(executor, xs, progress):
    bar, results = progress(total=len(xs)), []
    for value in executor.map(slow_computation_silent, xs, [SECONDS] * len(xs)):
        results.append(value)
        bar.n += 1
        bar.refresh()
    bar.close()
    return results


def submitted_one_by_one(executor, xs, progress):
    futures = [executor.submit(slow_computation_silent, x, SECONDS) for x in xs]
    return [future.result() for future in progress(futures)]


def two_bars(executor, xs, progress):
    progress(total=len(xs)).close()
    return map_with_bar(executor, xs, progress)


def wrong_total(executor, xs, progress):
    return list(progress(executor.map(slow_computation_silent, xs, [SECONDS] * len(xs)), total=len(xs) + 1))


def reversed_results(executor, xs, progress):
    return map_with_bar(executor, xs, progress)[::-1]


def returns_the_generator(executor, xs, progress):
    return iter(map_with_bar(executor, xs, progress))


def returns_a_dict(executor, xs, progress):
    return dict(enumerate(map_with_bar(executor, xs, progress)))


def returns_none(executor, xs, progress):
    map_with_bar(executor, xs, progress)


def two_parameters(executor, xs):
    return []


@pytest.mark.parametrize("answer, hint", [
    (serial, "Nothing reached the pool"),
    (fabricated, "Nothing reached the pool"),
    (hard_coded, "differs from what the pool's workers returned"),
    (empty, "holds 0 results for 6 inputs"),
    (without_total, "not told how many results to expect"),
    (bar_over_the_inputs, "moved ahead of the results"),
    (bar_over_collected_results, "moved only after every result was in"),
    (one_jump_at_the_end, "moved only after every result was in"),
    (submitted_one_by_one, "submitted one by one"),
    (two_bars, "2 bars were made"),
    (all_in_one_chunk, "as one chunk"),
    (count_set_directly, "count was set directly"),
    (wrong_total, "expects 7 results, but there are 6"),
    (reversed_results, "wrong order"),
    (returns_the_generator, "return the results as a list"),
    (returns_a_dict, "returned dict"),
    (returns_none, "returned NoneType"),
    (two_parameters, "map_with_bar\\(executor, xs, progress\\)"),
    ("map_with_bar", "without parentheses"),
])
def test_map_answers_that_miss_the_point_get_their_hint(answer, hint, context):
    with pytest.raises(CheckFailed, match=hint):
        check_map_bar(answer, mp_context=context)


# Exercise 4.2 -------------------------------------------------------------------------------

def chunks_of(xs, size):
    return [xs[i:i + size] for i in range(0, len(xs), size)]


def chunked_with_bar(executor, xs, size, progress):
    chunks = chunks_of(xs, size)
    parts = [None] * len(chunks)
    index_of = {executor.submit(slow_computation_silent_chunk, chunk, SECONDS): i for i, chunk in enumerate(chunks)}
    with progress(total=len(xs), desc="inputs") as bar:
        for future in as_completed(index_of):
            i = index_of[future]
            parts[i] = future.result()
            bar.update(len(chunks[i]))
    return [value for part in parts for value in part]


def test_the_chunk_solution_passes(context, capsys):
    check_chunk_bar(chunked_with_bar, mp_context=context)
    assert capsys.readouterr().out == ("Correct: one job per chunk ran in the pool's workers, and one bar with "
                                       "total=10 moved by each chunk's size (4, 4, 2) as that chunk came back; "
                                       "the results are in input order.\n")


def bar_counts_chunks(executor, xs, size, progress):
    chunks = chunks_of(xs, size)
    futures = [executor.submit(slow_computation_silent_chunk, chunk, SECONDS) for chunk in chunks]
    for _ in progress(as_completed(futures), total=len(futures)):
        pass
    return [value for future in futures for value in future.result()]


def one_step_per_chunk(executor, xs, size, progress):
    chunks = chunks_of(xs, size)
    futures = [executor.submit(slow_computation_silent_chunk, chunk, SECONDS) for chunk in chunks]
    with progress(total=len(xs)) as bar:
        for _ in as_completed(futures):
            bar.update()
    return [value for future in futures for value in future.result()]


def in_submission_order(executor, xs, size, progress):
    chunks = chunks_of(xs, size)
    futures = [executor.submit(slow_computation_silent_chunk, chunk, SECONDS) for chunk in chunks]
    results = []
    with progress(total=len(xs)) as bar:
        for future, chunk in zip(futures, chunks):
            results += future.result()
            bar.update(len(chunk))
    return results


def bar_moves_at_submission(executor, xs, size, progress):
    futures = []
    with progress(total=len(xs)) as bar:
        for chunk in chunks_of(xs, size):
            futures.append(executor.submit(slow_computation_silent_chunk, chunk, SECONDS))
            bar.update(len(chunk))
    return [value for future in futures for value in future.result()]


def one_job_per_input(executor, xs, size, progress):
    futures = [executor.submit(slow_computation_silent, x, SECONDS) for x in xs]
    with progress(total=len(xs)) as bar:
        for _ in as_completed(futures):
            bar.update()
    return [future.result() for future in futures]


def wrong_chunk_size(executor, xs, size, progress):
    return chunked_with_bar(executor, xs, size - 1, progress)


def near_equal_parts(executor, xs, size, progress):
    """np.array_split cuts len(xs) / size parts of near-equal length, not chunks of `size`."""
    parts = np.array_split(xs, math.ceil(len(xs) / size))
    index_of = {executor.submit(slow_computation_silent_chunk, part, SECONDS): i for i, part in enumerate(parts)}
    results = [None] * len(parts)
    with progress(total=len(xs)) as bar:
        for future in as_completed(index_of):
            results[index_of[future]] = future.result()
            bar.update(len(parts[index_of[future]]))
    return [value for part in results for value in part]


def in_arrival_order(executor, xs, size, progress):
    chunks = chunks_of(xs, size)
    futures = {executor.submit(slow_computation_silent_chunk, chunk, SECONDS): chunk for chunk in chunks}
    results = []
    with progress(total=len(xs)) as bar:
        for future in as_completed(futures):
            results += future.result()
            bar.update(len(futures[future]))
    return results


def nested_results(executor, xs, size, progress):
    chunks = chunks_of(xs, size)
    futures = [executor.submit(slow_computation_silent_chunk, chunk, SECONDS) for chunk in chunks]
    with progress(total=len(xs)) as bar:
        for future in as_completed(futures):
            bar.update(len(future.result()))
    return [future.result() for future in futures]


def serial_chunks(executor, xs, size, progress):
    results = []
    with progress(total=len(xs)) as bar:
        for chunk in chunks_of(xs, size):
            results += slow_computation_silent_chunk(chunk, SECONDS)
            bar.update(len(chunk))
    return results


def no_bar(executor, xs, size, progress):
    futures = [executor.submit(slow_computation_silent_chunk, chunk, SECONDS) for chunk in chunks_of(xs, size)]
    return [value for future in futures for value in future.result()]


@pytest.mark.parametrize("answer, hint", [
    (serial_chunks, "Nothing reached the pool"),
    (bar_counts_chunks, "the number of chunks"),
    (one_step_per_chunk, "one step per finished chunk"),
    (bar_moves_at_submission, "moved ahead of the results"),
    (one_job_per_input, "one job per input"),
    (wrong_chunk_size, "chunks of 3, 3, 3, 1 inputs"),
    (near_equal_parts, "chunks of 4, 3, 3 inputs"),
    (in_arrival_order, "wrong order"),
    (nested_results, "one list per chunk"),
    (no_bar, "No bar was made"),
    (chunks_of, "chunked_with_bar\\(executor, xs, size, progress\\)"),
])
def test_chunk_answers_that_miss_the_point_get_their_hint(answer, hint, context):
    with pytest.raises(CheckFailed, match=hint):
        check_chunk_bar(answer, mp_context=context)


def test_a_bar_that_waits_for_the_chunks_in_submission_order_gets_its_hint(monkeypatch, context):
    """The first chunk is held back long enough that it finishes last even if the second worker
    starts late, so that taking the chunks in submission order makes the bar stand still."""
    monkeypatch.setattr(lesson04, "HELD_BACK", 1.0)
    with pytest.raises(CheckFailed, match="stood still while chunks were already done"):
        check_chunk_bar(in_submission_order, mp_context=context)


def test_the_recorded_bar_steps_once_per_item_and_notes_what_had_finished():
    bar = lesson04.RecordedBar(range(3), pool=SimpleNamespace(finished=[0, 1]))
    assert list(bar) == [0, 1, 2]
    assert bar.steps == [(1, (0, 1))] * 3 and bar.n == bar.total == 3


def map_with_a_message(executor, xs, progress):
    results = map_with_bar(executor, xs, progress)
    progress.write("done")
    return results


def test_the_bar_maker_offers_what_tqdm_offers_besides_bars(capsys):
    check_map_bar(map_with_a_message, mp_context=multiprocessing.get_context("fork"))
    assert capsys.readouterr().out.startswith("done\nCorrect:")
