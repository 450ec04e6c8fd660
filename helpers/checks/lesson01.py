"""Checkers for the exercises of lesson 01 (``ProcessPoolExecutor.map``)."""

from collections.abc import Iterator
from numbers import Real

from helpers.checks import CheckFailed, passed, require
from helpers.workers import collatz_steps

# Exercise 1.1: collatz_steps over STEP_NUMBERS on a pool's map, and the number with most steps.
STEP_NUMBERS = range(1, 10_001)

# Exercise 1.2: collatz_steps over NUMBERS, in a loop and on 2 workers with each chunk size.
NUMBERS = range(1, 30_001)
CHUNK_SIZES = (10, 100, 1_000, 10_000)


def _require_collected(values, name):
    """A generator or iterator cannot be checked (nor reused): the answer must be a sequence."""
    require(not isinstance(values, Iterator),
            f"`{name}` is a generator: collect its results with list(...) inside the `with` block.")
    require(hasattr(values, "__len__"), f"`{name}` should be a list of results, got {type(values).__name__}.")


def check_longest(steps, longest):
    """Exercise 1.1: ``steps`` are the Collatz steps of ``STEP_NUMBERS`` in input order, and
    ``longest`` is the number among them that takes the most steps."""
    _require_collected(steps, "steps")
    require(len(steps) > 0, "`steps` is empty: was the generator already used up before you listed it?")
    require(len(steps) == len(STEP_NUMBERS),
            f"`steps` has {len(steps)} values; expected one per number in range(1, 10_001).")
    expected = [collatz_steps(n) for n in STEP_NUMBERS]
    if list(steps) != expected:
        require(sorted(steps) != sorted(expected), "The right step counts in the wrong order: `map` hands "
                                                   "out results in input order, so collect them straight from it.")
        raise CheckFailed("Wrong step counts: map collatz_steps over range(1, 10_001).")
    most = max(expected)
    require(longest != most, "That is the largest number of steps; `longest` should be the number n that takes them.")
    require(longest != expected.index(most),
            "Off by one: that is the position of the largest result; the numbers start at 1, positions at 0.")
    require(longest == STEP_NUMBERS[expected.index(most)],
            "Not the number with the most steps: the i-th result of map belongs to the i-th input.")
    passed("the step counts in input order, and the number that takes the most steps.")


def check_chunk_size(timings, smallest, results):
    """Exercise 1.2: ``smallest`` is the smallest chunk size that beat the loop in ``timings``
    (``None`` if none did), and ``results`` are the loop's results."""
    require(isinstance(timings, dict), f"`timings` should be a dict, got {type(timings).__name__}.")
    missing = [key for key in ("loop", *CHUNK_SIZES) if key not in timings]
    require(not missing, f"`timings` lacks {missing}: record the loop under 'loop' and every chunk "
                         f"size in {list(CHUNK_SIZES)} under the size itself.")
    for key in ("loop", *CHUNK_SIZES):
        seconds = timings[key]
        require(isinstance(seconds, Real) and seconds > 0,
                f"timings[{key!r}] should be a positive number of seconds, got {seconds!r}.")
    _require_collected(results, "results")
    require(len(results) == len(NUMBERS),
            f"`results` has {len(results)} values; expected one per number in range(1, 30_001).")
    require(list(results) == [collatz_steps(n) for n in NUMBERS],
            "`results` differ from the loop's: keep the pool's results of one run, in input order.")
    winners = [size for size in CHUNK_SIZES if timings[size] < timings["loop"]]
    require(smallest is None or smallest in CHUNK_SIZES,
            f"`smallest` should be one of {list(CHUNK_SIZES)} or None, got {smallest!r}.")
    if smallest is None:
        require(not winners, "By your own timings at least one chunk size beats the loop.")
    else:
        require(smallest in winners,
                f"By your own timings chunk size {smallest} is not faster than the loop.")
        require(smallest == winners[0], "By your own timings a smaller chunk size already beats the loop.")
    passed("your answer agrees with your timings, and the pool's results equal the loop's.")
