"""Every committed notebook was executed top to bottom in a fresh kernel and saved as such:
execution counts 1, 2, 3, ... in order, no error output outside cells tagged
``raises-exception``, and no absolute path of the machine that made it.

Every lesson also keeps the structure the course promises: it opens with objectives,
prerequisites and time, has exercises (each an ``exercise`` cell, its collapsed ``solution`` with
a hint, and a ``check`` cell), and ends with key points."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MACHINE_PATH = re.compile(r"(/root/|/home/\w|/Users/\w|/tmp/|[A-Za-z]:\\\\Users|/private/var/)")


def code_cells(notebook):
    return [c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_readme_lesson_map_lists_exactly_the_notebooks():
    listed = re.findall(r"^\| `(\d\d_\w+\.ipynb)` \|", (ROOT / "README.md").read_text(encoding="utf-8"), re.M)
    assert listed == [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_top_to_bottom_in_a_fresh_kernel(path):
    counts = [c.get("execution_count") for c in code_cells(load(path))]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: execution counts {counts}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_errors_only_where_tagged(path):
    for cell in code_cells(load(path)):
        tags = cell.get("metadata", {}).get("tags", [])
        has_error = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        if has_error:
            assert "raises-exception" in tags, f"{path.name}: untagged error in {cell['source'][:3]}"
        if "raises-exception" in tags:
            assert has_error, f"{path.name}: tagged raises-exception but raised nothing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_path_of_the_machine_that_ran_it(path):
    outputs = json.dumps([c.get("outputs", []) for c in load(path)["cells"]])
    found = MACHINE_PATH.search(outputs) or (str(ROOT) in outputs)
    assert not found, f"{path.name}: an output shows a machine path ({found})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_listed_in_the_readme(path):
    assert path.name in (ROOT / "README.md").read_text(encoding="utf-8")


def source(cell):
    return "".join(cell["source"])


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def opening_problems(path, cells):
    first = cells[0]
    text = source(first) if first["cell_type"] == "markdown" else ""
    problems = [] if first["cell_type"] == "markdown" else ["the first cell is not markdown"]
    if not text.startswith(f"# {path.name[:2]} · "):
        problems.append(f"the first cell does not start with '# {path.name[:2]} · Title'")
    problems += [f"the first cell lacks {label}" for label in
                 ("**Objectives.**", "**Prerequisites.**", "**Time.**") if label not in text]
    if "**Time.**" in text and not re.search(r"\*\*Time\.\*\*[^\n]*\d+ minutes", text):
        problems.append("**Time.** gives no minutes (about T minutes of teaching and E minutes of exercises)")
    return problems


def exercise_problems(cells):
    starts = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and source(c).startswith("## Exercises")]
    if not starts:
        return ["no '## Exercises' section"]
    exercises = [i for i, c in enumerate(cells) if "exercise" in tags(c)]
    problems = [] if len(exercises) >= 2 else [f"{len(exercises)} cell(s) tagged 'exercise', 2 or more wanted"]
    for i, end in zip(exercises, exercises[1:] + [len(cells)]):
        # Material may come between the task and its solution (e.g. show_source of a helper);
        # the solution comes before the next exercise, and its check right after it.
        title = source(cells[i]).split("\n", 1)[0]
        at = next((k for k in range(i + 1, end) if "solution" in tags(cells[k])), None)
        solution = None if at is None else cells[at]
        check = cells[at + 1] if at is not None and at + 1 < len(cells) else None
        if i < starts[0]:
            problems.append(f"{title!r} comes before '## Exercises'")
        if cells[i]["cell_type"] != "markdown":
            problems.append(f"{title!r}: the exercise cell is not markdown")
        if solution is None or "solution" not in tags(solution):
            problems.append(f"{title!r} has no cell tagged 'solution' before the next exercise")
        else:
            if not str(solution["metadata"].get("hint", "")).strip():
                problems.append(f"{title!r}: its solution cell has no 'hint' metadata")
            if solution["metadata"].get("jupyter", {}).get("source_hidden") is not True:
                problems.append(f"{title!r}: its solution cell is not collapsed (jupyter.source_hidden)")
        if check is None or "check" not in tags(check):
            problems.append(f"{title!r}: the cell after its solution is not tagged 'check'")
    return problems


def closing_problems(cells):
    last = source(cells[-1]) if cells[-1]["cell_type"] == "markdown" else ""
    if "## Key points" not in last:
        return ["the last cell is not a markdown cell with '## Key points'"]
    bullets = re.findall(r"^[-*] ", last, re.M)
    return [] if 3 <= len(bullets) <= 5 else [f"'## Key points' has {len(bullets)} bullets, 3-5 wanted"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lesson_structure(path):
    cells = load(path)["cells"]
    problems = opening_problems(path, cells) + exercise_problems(cells) + closing_problems(cells)
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)
