"""What the checker tests share: the start methods a checker is tried under, and the two ways a
test calls a checker (it passes, or it fails with a given hint)."""
import multiprocessing

import pytest

from helpers.checks import CheckFailed


@pytest.fixture(params=["fork", "spawn"])
def context(request):
    """Every test that takes ``context`` runs under fork (Linux) and spawn (Windows, macOS)."""
    return multiprocessing.get_context(request.param)


def passes(check, answer, context, capsys):
    check(answer, mp_context=context)
    return capsys.readouterr().out.startswith("Correct:")


def fails(check, answer, context, phrase):
    with pytest.raises(CheckFailed, match=phrase):
        check(answer, mp_context=context)


# Wrong answers whose hint does not depend on the start method run under fork only, to keep the
# tests quick; every class of wrong answer (serial, hard-coded, fabricated, the pitfalls, a wrong
# shape) runs under both.
FORK = multiprocessing.get_context("fork")
