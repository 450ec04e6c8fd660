"""Checkers for lesson 04's exercises: progress bars over a pool.

A checker receives the tqdm bar the student made and reads what it counted (``bar.n``) and what
it was told to expect (``bar.total``), so a bar without ``total=`` or one that counts the wrong
thing is caught. The results are recomputed in the main process and compared in input order.
"""

import math

from helpers.checks import passed, require


def _require_tqdm_bar(bar):
    """The object must be a tqdm bar (anything with tqdm's counters ``n`` and ``total``)."""
    require(hasattr(bar, "n") and hasattr(bar, "total"),
            f"`bar` is a {type(bar).__name__}, not a progress bar: store the object that tqdm(...) returns.")


def _require_in_input_order(results, inputs, name):
    """``results`` must be ``exp(x) + 3`` for every ``x`` of ``inputs``, in the order of ``inputs``."""
    expected = [math.exp(x) + 3 for x in inputs]
    results = list(results)
    require(len(results) == len(expected),
            f"`{name}` holds {len(results)} results for {len(expected)} inputs: one result per input.")
    close = [math.isclose(value, want) for value, want in zip(results, expected)]
    if not all(close):
        same_values = all(any(math.isclose(value, want) for want in expected) for value in results)
        require(not same_values,
                f"`{name}` holds the right values in the wrong order: results arrive as jobs finish, "
                "put each one back in the place of its input.")
        require(False, f"`{name}` holds wrong values (the first at position {close.index(False)}): "
                       "is every input computed with slow_computation_silent?")


def check_map_bar(bar, mapped, inputs):
    """Exercise 4.1: a bar over ``executor.map`` that knows its total and reaches it."""
    _require_tqdm_bar(bar)
    require(bar.total is not None,
            "the bar has no total, so it cannot show a percentage: map returns a generator, which has "
            "no length. Tell tqdm how many results to expect.")
    require(bar.total == len(inputs), f"the bar expects {bar.total} results, but there are {len(inputs)} inputs.")
    require(bar.n == bar.total,
            f"the bar counted {bar.n} of {bar.total}: it counts what you take out of it, so loop over "
            "the bar itself until the end.")
    _require_in_input_order(mapped, inputs, "mapped")
    passed(f"a bar over map counted {bar.n} of {bar.total} results, in input order.")


def check_chunk_bar(bar, chunked, inputs, chunks):
    """Exercise 4.2: one job per chunk, but a bar that counts inputs, advanced by each chunk's size."""
    _require_tqdm_bar(bar)
    require(sum(len(chunk) for chunk in chunks) == len(inputs),
            "`chunks` does not hold every input exactly once: split `inputs` into consecutive pieces.")
    require(not (bar.total == len(chunks) and len(chunks) != len(inputs)),
            f"the bar expects {bar.total} steps, the number of chunks: it should count inputs, so a reader "
            "sees how many of the inputs are done.")
    require(bar.total == len(inputs), f"the bar expects {bar.total}, but there are {len(inputs)} inputs.")
    require(not (bar.n == len(chunks) and len(chunks) != len(inputs)),
            f"the bar counted {bar.n} of {bar.total}: it moved one step per finished chunk; a chunk "
            "finishes several inputs at once.")
    require(bar.n == bar.total, f"the bar counted {bar.n} of {bar.total}: every finished input should advance it.")
    _require_in_input_order(chunked, inputs, "chunked")
    passed(f"the bar counted {bar.n} inputs in {len(chunks)} chunks, and the results are in input order.")
