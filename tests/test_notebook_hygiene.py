"""Every committed notebook was executed top to bottom in a fresh kernel and saved as such:
execution counts 1, 2, 3, ... in order, no error output outside cells tagged
``raises-exception``, and no absolute path of the machine that made it.

Every lesson also keeps the structure the course promises: it opens with objectives,
prerequisites and time, has exercises (each an ``exercise`` cell, a folded ``hint`` cell, its
collapsed ``solution`` and a ``check`` cell), and ends with key points; and its text speaks to
students about the lesson, never about the test harness that runs it."""
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
        hint = cells[at - 1] if at is not None else None
        if i < starts[0]:
            problems.append(f"{title!r} comes before '## Exercises'")
        if cells[i]["cell_type"] != "markdown":
            problems.append(f"{title!r}: the exercise cell is not markdown")
        if solution is None or "solution" not in tags(solution):
            problems.append(f"{title!r} has no cell tagged 'solution' before the next exercise")
        else:
            if not (hint and "hint" in tags(hint) and hint["cell_type"] == "markdown"
                    and source(hint).startswith("<details><summary>Hint") and source(hint).rstrip().endswith("</details>")):
                problems.append(f"{title!r}: the cell before its solution is not a folded hint "
                                "(markdown tagged 'hint': <details><summary>Hint ...</summary> ... </details>)")
            if "hint" in solution["metadata"]:
                problems.append(f"{title!r}: its hint belongs in the hint cell, not in the solution's metadata")
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


# Words that belong to the test harness, not to a lesson (INSTRUCTORS.md explains the harness).
HARNESS_TALK = re.compile(r"nbval|test suite|the tests? (compare|mask|check)|not compared|is compared|"
                          r"raises-exception|nbval-ignore-output", re.I)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_text_speaks_of_the_lesson_not_of_its_test_harness(path):
    talk = [source(c)[:80] for c in load(path)["cells"]
            if c["cell_type"] == "markdown" and HARNESS_TALK.search(source(c))]
    assert not talk, f"{path.name}: markdown cells that speak of the test harness: {talk}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_whose_output_is_not_compared_says_why(path):
    """A cell tagged nbval-ignore-output keeps, in its metadata ``varies``, why its output differs
    between runs (for whoever maintains the course; the lesson's text tells students in its own
    words)."""
    silent = [source(c)[:60] for c in load(path)["cells"]
              if "nbval-ignore-output" in tags(c) and not str(c["metadata"].get("varies", "")).strip()]
    assert not silent, f"{path.name}: cells tagged nbval-ignore-output without a 'varies' reason: {silent}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_plot_has_an_alt_text(path):
    """A cell that draws a plot says in words what it shows (metadata ``mystnb.image.alt``, which
    the website gives the image as its alt text, for readers who cannot see it)."""
    missing = [source(c)[:60] for c in load(path)["cells"] if c["cell_type"] == "code"
               and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))
               and len(str(c["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")).split()) < 4]
    assert not missing, f"{path.name}: plots without an alt text (mystnb.image.alt, a few words at least): {missing}"


def test_the_instructors_schedule_gives_each_lesson_its_own_minutes():
    """INSTRUCTORS.md's schedule table repeats the minutes each lesson's first cell states, and
    adds them up right."""
    guide = (ROOT / "INSTRUCTORS.md").read_text(encoding="utf-8")
    table = {n: (int(t), int(e)) for n, t, e in re.findall(r"^\| (\d\d) [^|]+\| (\d+) \| (\d+) \|", guide, re.M)}
    stated = {}
    for path in NOTEBOOKS:
        time = re.search(r"\*\*Time\.\*\* about (\d+) minutes of teaching and (\d+) minutes of exercises",
                         source(load(path)["cells"][0]))
        assert time, f"{path.name}: no '**Time.** about N minutes of teaching and M minutes of exercises' line"
        stated[path.name[:2]] = (int(time[1]), int(time[2]))
    assert table == stated
    total = re.search(r"^\| \*\*all\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|", guide, re.M)
    assert total and (int(total[1]), int(total[2])) == tuple(map(sum, zip(*stated.values())))
