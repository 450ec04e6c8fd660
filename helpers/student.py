"""Student copies of the lessons: every exercise left to do, no answer given away.

The course's notebooks follow one convention (see the README): an exercise is a markdown cell
tagged ``exercise`` (the task), a code cell tagged ``solution`` whose metadata holds a ``hint``
(the worked answer), and a cell tagged ``check`` (a call to a checker). Any other cell that would
give the answer away (a helper's source, an output, a discussion) is tagged ``reveals-solution``.

A student copy of a lesson keeps every other cell as it is, and

* replaces each ``solution`` cell by an empty exercise cell of the same kind that shows only the
  hint (same cell id, visible, no outputs),
* drops every ``reveals-solution`` cell,
* clears the outputs of exercise and check cells (a check's "Correct: ..." line is for later).

Command line (``make student``): ``python -m helpers.student NOTEBOOK_DIR OUTPUT_DIR`` writes a
copy of every lesson ``NN_*.ipynb`` found in NOTEBOOK_DIR.
"""

import sys
from pathlib import Path

import nbformat

LESSON_PATTERN = "[0-9][0-9]_*.ipynb"
SOLUTION, REVEALS, EXERCISE, CHECK = "solution", "reveals-solution", "exercise", "check"
NO_HINT = "Write your answer here."


def tags(cell):
    """The cell's tags (an empty list when it has none)."""
    return cell.metadata.get("tags", [])


def exercise_cell(solution):
    """The empty cell, showing only the hint, that takes the place of one solution cell."""
    hint = solution.metadata.get("hint", NO_HINT)
    if solution.cell_type == "markdown":
        cell = nbformat.v4.new_markdown_cell(f"**Your answer.** Hint: {hint}")
    else:
        cell = nbformat.v4.new_code_cell(f"# Your answer here. Hint: {hint}\n")
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
    if REVEALS in tags(cell):
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


def lessons(source_dir):
    """The lesson notebooks in ``source_dir``, in order."""
    found = sorted(Path(source_dir).glob(LESSON_PATTERN))
    if not found:
        raise FileNotFoundError(f"no lesson notebooks ({LESSON_PATTERN}) in {source_dir}: "
                                "give the course's notebooks/ folder")
    return found


def write_student_copies(source_dir, target_dir):
    """Write a student copy of every lesson in ``source_dir`` into ``target_dir``; return the
    paths written."""
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in lessons(source_dir):
        nbformat.write(student_copy(nbformat.read(source, as_version=4)), target_dir / source.name)
        written.append(target_dir / source.name)
    return written


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m helpers.student NOTEBOOK_DIR OUTPUT_DIR", file=sys.stderr)
        return 2
    for path in write_student_copies(*args):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
