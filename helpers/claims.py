"""Claims the lessons' prose makes about outputs that can vary, checked every time a lesson runs.

A sentence such as "the speed-up stays below the number of workers" is true of the output saved
beside it, but a lesson is re-run on other machines, under other start methods and Pythons. A
cell tagged ``claim`` right after the output calls :func:`claim` with the condition and the very
sentence of the prose: quiet when it holds, an :class:`AssertionError` quoting the sentence when
this run contradicts it. So the text cannot drift away from what the code does.

Claim cells are collapsed in JupyterLab, left out of the website and dropped from the student
and live-coding copies (see :mod:`helpers.student`): readers read prose, not assertions.
"""

TAG = "claim"


class ClaimFailed(AssertionError):
    """A sentence of the lesson is not true of this run's output."""


def claim(condition, sentence, **observed):
    """Check that ``sentence`` (quoted from the lesson's text) holds of this run.

    ``condition`` is the sentence turned into code; ``observed`` names the values it was decided
    on, so that a failure shows them. Nothing happens when ``condition`` is true."""
    if condition:
        return
    seen = ", ".join(f"{name} = {_short(value)}" for name, value in observed.items())
    raise ClaimFailed(f"The lesson says: \"{sentence}\", but this run contradicts it"
                      + (f" ({seen})" if seen else "")
                      + ". Numbers such as timings vary with the machine and with what else it is doing: "
                        "run the cells above again; if it keeps happening, the text needs changing.")


def _short(value):
    """``value`` for an error message: floats to four significant digits, the rest as repr."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)) and all(isinstance(v, float) for v in value):
        return "[" + ", ".join(f"{v:.4g}" for v in value) + "]"
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
