"""Self-checks for the course's exercises: one module per lesson, one function per exercise.

A checker is called in the cell after an exercise with the student's answer. On a right answer it
prints one line that says so (the same line on every run, so nbval can compare it). On a wrong one
it raises :class:`CheckFailed` with a hint that says what is off (wrong order, not parallel, not
reproducible, wrong value), never the answer itself.
"""


class CheckFailed(AssertionError):
    """An exercise's answer is not right yet; the message is a hint on what to look at."""


def passed(message):
    """Tell the student the answer is right (one deterministic line)."""
    print(f"Correct: {message}")


def require(condition, hint):
    """Raise :class:`CheckFailed` with ``hint`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(hint)
