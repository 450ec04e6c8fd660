"""Student copies of every lesson give nothing away: no solution line, no revealing cell, no
solution output, no claim check; every solution became an empty exercise cell below its folded
hint; exercise and check cells carry no outputs; and each copy runs in a fresh kernel up to its
first exercise. Live-coding copies keep the solutions but no outputs and no claim checks."""
import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from helpers import student

ROOT = Path(__file__).resolve().parents[1]
LESSONS = student.lessons(ROOT / "notebooks")


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    target = tmp_path_factory.mktemp("student")
    return {path.name: path for path in student.write_student_copies(ROOT / "notebooks", target)}


def read(path):
    return nbformat.read(path, as_version=4)


def tagged(cell, tag):
    return tag in student.tags(cell)


def is_lesson_cell(cell):
    """A cell of the lesson itself: no part of an exercise, not revealing an answer."""
    return not any(tagged(cell, tag) for tag in (student.SOLUTION, student.REVEALS, student.EXERCISE,
                                                 student.CHECK, student.HINT, student.CLAIM))


def output_texts(cell):
    """Everything a code cell's outputs show, as text (images as their base64 data)."""
    texts = []
    for output in cell.get("outputs", []):
        texts.append(output.get("text", ""))
        texts.extend(str(value) for value in output.get("data", {}).values())
        texts.extend(output.get("traceback", []))
    return texts


def meaningful_lines(text):
    """Lines that could only come from one place: not blank, not a comment or an import, not a
    lone bracket."""
    lines = (line.strip() for line in text.splitlines())
    return {line for line in lines
            if len(line) > 3 and not line.startswith(("#", "import ", "from ")) and line.strip("()[]{}:,")}


def before_first_exercise(cells):
    """The cells up to (not including) the first exercise, or None without exercises."""
    first = next((i for i, cell in enumerate(cells) if tagged(cell, student.EXERCISE)), None)
    return None if first is None else cells[:first]


def everything_in(cells):
    """All the text a student sees in some cells: sources and outputs."""
    return "\n".join(cell.source + "\n" + "\n".join(output_texts(cell)) for cell in cells)


def given(notebook):
    """What the lesson shows before its exercises (prose, code and outputs) and what the tasks
    spell out: a solution may reuse the lesson's code, loops and idioms, or print what the lesson
    printed, so finding such a line in the copy says nothing. A cell after the first exercise
    that shows a solution's line (a helper's source, a discussion) is a leak."""
    lesson = [cell for cell in before_first_exercise(notebook.cells) or [] if is_lesson_cell(cell)]
    tasks = [cell for cell in notebook.cells if tagged(cell, student.EXERCISE)]
    return everything_in(lesson) + "\n" + "\n".join(cell.source for cell in tasks)


def solution_cells(notebook):
    return [cell for cell in notebook.cells if tagged(cell, student.SOLUTION)]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_no_solution_line_survives(copies, path):
    original, copy = read(path), read(copies[path.name])
    seen, shown_anyway = everything_in(copy.cells), given(original)
    for solution in solution_cells(original):
        leaked = [line for line in meaningful_lines(solution.source) if line in seen and line not in shown_anyway]
        assert not leaked, f"{path.name}: solution line(s) in the student copy: {leaked}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_no_solution_output_survives(copies, path):
    original, copy = read(path), read(copies[path.name])
    seen = "\n".join(text for cell in copy.cells for text in output_texts(cell))
    shown_anyway = given(original)
    for solution in solution_cells(original):
        for text in output_texts(solution):
            image = text if "\n" not in text and len(text) > 200 else None  # base64 data
            leaked = [line for line in meaningful_lines(text) if line in seen and line not in shown_anyway]
            assert not leaked and not (image and image in seen), f"{path.name}: solution output in the copy"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_revealing_and_claim_cells_are_dropped(copies, path):
    original, copy = read(path), read(copies[path.name])
    dropped = [cell for cell in original.cells if tagged(cell, student.REVEALS) or tagged(cell, student.CLAIM)]
    assert not any(tagged(cell, tag) for cell in copy.cells
                   for tag in (student.REVEALS, student.SOLUTION, student.CLAIM))
    kept_sources = [cell.source for cell in copy.cells]
    assert not [cell.source[:60] for cell in dropped if cell.source in kept_sources]
    assert len(copy.cells) == len(original.cells) - len(dropped)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_each_solution_became_an_empty_exercise_below_its_folded_hint(copies, path):
    original, copy = read(path), read(copies[path.name])
    position = {cell.id: i for i, cell in enumerate(copy.cells)}
    for solution in solution_cells(original):
        at = position[solution.id]
        replacement, above = copy.cells[at], copy.cells[at - 1]
        assert tagged(replacement, student.EXERCISE) and replacement.cell_type == solution.cell_type
        assert replacement.source in ("# Your answer here.\n", "**Your answer.**"), "the answer cell gives nothing"
        assert not replacement.metadata.get("jupyter", {}).get("source_hidden"), "the student must see it"
        assert tagged(above, student.HINT) and above.source.startswith("<details><summary>Hint"), \
            f"{path.name}: no folded hint above the answer cell {solution.source[:60]!r}"
    for cell in copy.cells:
        if cell.cell_type == "code" and (tagged(cell, student.EXERCISE) or tagged(cell, student.CHECK)):
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: output left in {cell.source[:60]}"


def code_sources(cells):
    return [cell.source for cell in cells if cell.cell_type == "code" and cell.source.strip()]


def run_in_a_fresh_kernel(notebook, cells):
    """Execute ``cells`` of ``notebook`` in a new kernel from notebooks/ and return the sources of
    the code cells that failed (cells tagged raises-exception may fail on purpose)."""
    notebook.cells = cells
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    return [cell.source[:60] for cell in notebook.cells if cell.cell_type == "code"
            and not tagged(cell, "raises-exception") and any(o.output_type == "error" for o in cell.outputs)]


# The copy whose lesson part is run for real here, whatever the others hold: a short lesson that
# imports from helpers, times, and uses a pool, so a broken copy mechanism shows at once.
ALWAYS_RUN = "03_ordering.ipynb"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_copy_runs_up_to_its_first_exercise(copies, path):
    """The copy's cells before its first exercise run without error in a fresh kernel.

    Where they hold exactly the code cells the course notebook has there, in the same order, the
    notebook tests (nbval, under every start method) already run that very code top to bottom, so
    only one copy is run again here; a copy whose lesson part differs (a cell dropped or changed)
    is always run. The claim cells the copy drops are left out of the comparison: that the
    lesson runs the same without them is tests/test_claims.py's check that no later cell reads
    what a claim cell defines."""
    notebook = read(copies[path.name])
    copy = before_first_exercise(notebook.cells)
    if copy is None:
        pytest.fail(f"{path.name} has no exercise: every lesson needs some (see tests/test_notebook_hygiene.py)")
    original = [cell for cell in before_first_exercise(read(path).cells) if not tagged(cell, student.CLAIM)]
    if code_sources(copy) == code_sources(original) and path.name != ALWAYS_RUN:
        return
    errors = run_in_a_fresh_kernel(notebook, copy)
    assert not errors, f"{path.name}: cells failed in the student copy: {errors}"


def leaky_notebook():
    """A lesson that breaks every rule a copy must keep, to show the mechanism catches it."""
    lesson = nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output("stream", text="lesson\n")])
    task = nbformat.v4.new_markdown_cell("### Exercise 1.1 · Sum\nStore it in `total`.", metadata={"tags": ["exercise"]})
    hint = nbformat.v4.new_markdown_cell("<details><summary>Hint</summary>\n\nUse sum.\n\n</details>",
                                         metadata={"tags": ["hint"]})
    answer = nbformat.v4.new_code_cell("total = sum(range(10))", outputs=[nbformat.v4.new_output("stream", text="45 is the answer\n")],
                                       metadata={"tags": ["solution"], "jupyter": {"source_hidden": True}})
    check = nbformat.v4.new_code_cell("check(total)", execution_count=3,
                                      outputs=[nbformat.v4.new_output("stream", text="Correct: 45\n")],
                                      metadata={"tags": ["check"]})
    reveal = nbformat.v4.new_markdown_cell("We used `total = sum(range(10))`.", metadata={"tags": ["reveals-solution"]})
    claim = nbformat.v4.new_code_cell('claim(total == 45, "the total is 45")', metadata={"tags": ["claim"]})
    return nbformat.v4.new_notebook(cells=[lesson, task, hint, answer, check, reveal, claim])


def test_the_copy_of_a_leaky_notebook_holds_no_answer():
    original = leaky_notebook()
    copy = student.student_copy(original)
    text = json.dumps(copy)
    assert "sum(range(10))" not in text and "45 is the answer" not in text and "Correct: 45" not in text
    assert [student.tags(cell) for cell in copy.cells] == [[], ["exercise"], ["hint"], ["exercise"], ["check"]]
    assert copy.cells[3].source == "# Your answer here.\n" and copy.cells[3].id == original.cells[3].id
    assert copy.cells[0].outputs == original.cells[0].outputs  # the lesson keeps its outputs
    assert original.cells[4].outputs, "the course notebook itself is left untouched"


def test_a_live_copy_keeps_the_solutions_without_outputs_or_claims():
    original = leaky_notebook()
    copy = student.live_copy(original)
    assert [cell.source for cell in copy.cells] == [cell.source for cell in original.cells[:-1]]
    assert not any(cell.get("outputs") for cell in copy.cells)
    assert all(cell.get("execution_count") is None for cell in copy.cells if cell.cell_type == "code")


def test_live_copies_of_every_lesson_drop_every_claim(tmp_path):
    assert student.main(["--live", str(ROOT / "notebooks"), str(tmp_path)]) == 0
    for path in LESSONS:
        copy = read(tmp_path / path.name)
        assert not any(tagged(cell, student.CLAIM) or "claim(" in cell.source for cell in copy.cells), path.name
        assert not any(cell.get("outputs") for cell in copy.cells), path.name


def test_command_line_copies_every_lesson(tmp_path):
    assert student.main([str(ROOT / "notebooks"), str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == [p.name for p in LESSONS]
    assert (tmp_path / student.PLOT_STYLE).read_text() == (ROOT / "notebooks" / student.PLOT_STYLE).read_text()
    assert student.main([]) == 2
    with pytest.raises(FileNotFoundError, match="no lesson notebooks"):
        student.write_student_copies(tmp_path / "empty", tmp_path / "out")


def test_the_leak_checks_see_a_solution_shown_by_an_untagged_cell():
    notebook = leaky_notebook()
    notebook.cells[5].metadata["tags"] = []  # the discussion, no longer marked as revealing
    shown = nbformat.v4.new_code_cell("show(answer)", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/markdown": "```python\ntotal = sum(range(10))\n```"})])
    notebook.cells.append(shown)
    copy = student.student_copy(notebook)
    line = "total = sum(range(10))"
    assert line in meaningful_lines(notebook.cells[3].source)
    assert line in everything_in(copy.cells) and line not in given(notebook)
