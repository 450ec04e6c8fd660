"""Every committed notebook was executed top to bottom in a fresh kernel and saved as such:
execution counts 1, 2, 3, ... in order, no error output outside cells tagged
``raises-exception``, and no absolute path of the machine that made it."""
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
