"""The worker functions of lessons 01-05, run directly and in a real pool."""
import math
import pickle
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pytest

from helpers import workers


def test_slow_computation_prints_and_returns_its_input(capsys):
    assert workers.slow_computation(7, seconds=0) == 7
    assert capsys.readouterr().out == "Working on 7\n"


def test_slow_computation_with_exceptions_fails_only_for_two():
    assert workers.slow_computation_with_exceptions(3, seconds=0) == 3
    with pytest.raises(ValueError, match="x = 2"):
        workers.slow_computation_with_exceptions(2, seconds=0)


def test_silent_computation_prints_nothing(capsys):
    assert workers.slow_computation_silent(1.5, seconds=0) == pytest.approx(math.exp(1.5) + 3)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("x", [0.0, -0.5])
def test_comp_fails_for_non_positive_input(x):
    with pytest.raises(ValueError):
        workers.comp(x)


def test_comp_is_the_logarithm():
    assert workers.comp(math.e) == pytest.approx(1.0)


def test_small_helpers():
    assert workers.sleep_for(0) == 0
    assert workers.tiny_task(-3) == 9
    assert workers.load_pickled(pickle.dumps(workers.tiny_task)) is workers.tiny_task


def test_workers_run_in_a_pool_in_input_order():
    with ProcessPoolExecutor(max_workers=2) as executor:
        assert list(executor.map(workers.slow_computation_silent, [0, 1], [0, 0])) == [4.0, math.exp(1) + 3]


def test_exit_abruptly_breaks_the_pool():
    with ProcessPoolExecutor(max_workers=1) as executor:
        with pytest.raises(BrokenProcessPool):
            list(executor.map(workers.exit_abruptly, [1, 2, 3, 4]))
