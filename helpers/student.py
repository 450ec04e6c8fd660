"""Student copies of the assignment notebooks (lessons 08 and 09).

In the course's notebooks every worked answer is a cell tagged ``solution`` whose metadata holds
a ``hint``: what the student is asked to do there. A student copy keeps every other cell as it
is and replaces each solution cell by an exercise cell of the same kind, empty but for the hint
(a comment in a code cell, a prompt in a markdown cell), without outputs.

Command line (``make student``): ``python -m helpers.student NOTEBOOK_DIR OUTPUT_DIR``.
"""

import sys
from pathlib import Path

import nbformat

ASSIGNMENTS = ("08_types_of_concurrency.ipynb", "09_growth_model.ipynb")
EXERCISE_TAG = "exercise"


def exercise_cell(solution):
    """The exercise that replaces one solution cell."""
    hint = solution.metadata.get("hint", "Write your answer here.")
    if solution.cell_type == "markdown":
        cell = nbformat.v4.new_markdown_cell(f"**Exercise.** {hint}\n\n*Your answer here.*")
    else:
        cell = nbformat.v4.new_code_cell(f"# Exercise: {hint}\n")
    cell.metadata["tags"] = [EXERCISE_TAG]
    return cell


def student_copy(notebook):
    """A copy of ``notebook`` with every solution cell replaced by an exercise cell."""
    copy = nbformat.from_dict(notebook)
    copy.cells = [exercise_cell(cell) if "solution" in cell.metadata.get("tags", []) else cell
                  for cell in copy.cells]
    return copy


def write_student_copies(source_dir, target_dir, names=ASSIGNMENTS):
    """Write student copies of the assignment notebooks; return their paths."""
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        source = Path(source_dir) / name
        if not source.exists():
            raise FileNotFoundError(f"{source} not found: run this from the course's top folder")
        nbformat.write(student_copy(nbformat.read(source, as_version=4)), target_dir / name)
        written.append(target_dir / name)
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
