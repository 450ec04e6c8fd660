"""Student and live-coding copies of the lessons: every exercise left to do, no answer given away.

The course's notebooks follow one convention (see the README): an exercise is a markdown cell
tagged ``exercise`` (the task), then a markdown cell tagged ``hint`` (a hint folded in a
``<details>`` element, opened only by a student who wants it), a cell tagged ``solution`` (the
worked answer, collapsed) and a cell tagged ``check`` (a call to a checker). Any other cell that
would give the answer away (a helper's source, an output, a discussion) is tagged
``reveals-solution``. Cells tagged ``claim`` check the prose against this run's outputs
(:mod:`helpers.claims`); they are for the course, not for its readers.

A student copy of a lesson keeps every other cell as it is, and

* replaces each ``solution`` cell by an empty exercise cell of the same kind (same cell id,
  visible, no outputs): the hint stays folded in the cell above it,
* drops every ``reveals-solution`` and ``claim`` cell,
* clears the outputs of exercise and check cells (a check's "Correct: ..." line is for later).

A live-coding copy (``make live``) keeps the solutions, drops the ``claim`` cells and clears
every output, for an instructor to type and run in front of a class.

Command line: ``python -m helpers.student NOTEBOOK_DIR OUTPUT_DIR`` (``make student``) writes a
student copy of every lesson ``NN_*.ipynb`` found in NOTEBOOK_DIR; with ``--live`` first
(``make live``), a live-coding copy.
"""

import shutil
import sys
from pathlib import Path

import nbformat

LESSON_PATTERN = "[0-9][0-9]_*.ipynb"
PLOT_STYLE = "matplotlibrc"  # read by matplotlib from the folder the lessons run in
SOLUTION, REVEALS, EXERCISE, CHECK, HINT, CLAIM = "solution", "reveals-solution", "exercise", "check", "hint", "claim"


def tags(cell):
    """The cell's tags (an empty list when it has none)."""
    return cell.metadata.get("tags", [])


def exercise_cell(solution):
    """The empty cell that takes the place of one solution cell."""
    if solution.cell_type == "markdown":
        cell = nbformat.v4.new_markdown_cell("**Your answer.**")
    else:
        cell = nbformat.v4.new_code_cell("# Your answer here.\n")
    cell.metadata["tags"] = [EXERCISE]
    if "id" in solution:
        cell["id"] = solution["id"]
    return cell


def without_outputs(cell):
    """``cell`` with its outputs and execution count removed (code cells only)."""
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def student_cell(cell):
    """What one course cell becomes in the student copy, or None if it is dropped."""
    if REVEALS in tags(cell) or CLAIM in tags(cell):
        return None
    if SOLUTION in tags(cell):
        return exercise_cell(cell)
    if EXERCISE in tags(cell) or CHECK in tags(cell):
        return without_outputs(cell)
    return cell


def student_copy(notebook):
    """A copy of ``notebook`` with every solution replaced and every revealing cell dropped."""
    copy = nbformat.from_dict(notebook)
    copy.cells = [cell for cell in map(student_cell, copy.cells) if cell is not None]
    return copy


def live_copy(notebook):
    """A copy of ``notebook`` for live coding: no claim cells, no outputs."""
    copy = nbformat.from_dict(notebook)
    copy.cells = [without_outputs(cell) for cell in copy.cells if CLAIM not in tags(cell)]
    return copy


def lessons(source_dir):
    """The lesson notebooks in ``source_dir``, in order."""
    found = sorted(Path(source_dir).glob(LESSON_PATTERN))
    if not found:
        raise FileNotFoundError(f"no lesson notebooks ({LESSON_PATTERN}) in {source_dir}: "
                                "give the course's notebooks/ folder")
    return found


def write_student_copies(source_dir, target_dir, make_copy=student_copy):
    """Write ``make_copy`` (a student copy, or :func:`live_copy`) of every lesson in
    ``source_dir`` into ``target_dir``; return the paths written."""
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    style = Path(source_dir) / PLOT_STYLE
    if style.is_file():  # the lessons' plot style travels with them
        shutil.copyfile(style, target_dir / PLOT_STYLE)
    written = []
    for source in lessons(source_dir):
        nbformat.write(make_copy(nbformat.read(source, as_version=4)), target_dir / source.name)
        written.append(target_dir / source.name)
    return written


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    make_copy = live_copy if args[:1] == ["--live"] else student_copy
    args = args[1:] if make_copy is live_copy else args
    if len(args) != 2:
        print("usage: python -m helpers.student [--live] NOTEBOOK_DIR OUTPUT_DIR", file=sys.stderr)
        return 2
    for path in write_student_copies(*args, make_copy=make_copy):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
