"""Student copies of the assignment: no solution left, everything else kept, and the copy runs
in a fresh kernel up to its first exercise."""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from helpers import student

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    target = tmp_path_factory.mktemp("student")
    return {path.name: path for path in student.write_student_copies(ROOT / "notebooks", target)}


def tagged(cell, tag):
    return tag in cell.metadata.get("tags", [])


@pytest.mark.parametrize("name", student.ASSIGNMENTS)
def test_no_solution_left_and_everything_else_kept(copies, name):
    original = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    copy = nbformat.read(copies[name], as_version=4)
    solutions = [cell for cell in original.cells if tagged(cell, "solution")]
    assert solutions, "the assignment has worked solutions"
    assert len(copy.cells) == len(original.cells)
    copied_lines = {line for cell in copy.cells for line in cell.source.splitlines()}
    kept_lines = {line for cell in original.cells if not tagged(cell, "solution") for line in cell.source.splitlines()}
    for solution in solutions:
        distinctive = [line for line in solution.source.splitlines() if line.strip() and line not in kept_lines]
        assert distinctive and not copied_lines & set(distinctive), solution.source[:80]
    for before, after in zip(original.cells, copy.cells):
        if tagged(before, "solution"):
            assert tagged(after, "exercise") and after.cell_type == before.cell_type
            assert before.metadata["hint"] in after.source
            assert not after.get("outputs")
        else:
            assert after.source == before.source


@pytest.mark.parametrize("name", student.ASSIGNMENTS)
def test_copy_runs_up_to_the_first_exercise(copies, name):
    notebook = nbformat.read(copies[name], as_version=4)
    first_exercise = next(i for i, cell in enumerate(notebook.cells) if tagged(cell, "exercise"))
    notebook.cells = notebook.cells[:first_exercise + 1]
    NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(copies[name].parent)}}).execute()
    ran = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert ran and all(cell.execution_count for cell in ran)
    assert not any(output.output_type == "error" for cell in ran for output in cell.outputs)


def test_command_line(tmp_path):
    assert student.main([str(ROOT / "notebooks"), str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(student.ASSIGNMENTS)
    assert student.main([]) == 2
