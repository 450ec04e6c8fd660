"""The prose's claims about varying outputs are checked whenever a lesson runs.

* :func:`helpers.claims.claim` is quiet when its condition holds and, when not, fails with the
  sentence it checks and the values it was decided on.
* Every lesson has claim cells (tag ``claim``), each collapsed, without output, calling ``claim``
  with a sentence that its text really says; no ``claim(...)`` call hides in another cell.
* Nothing a claim cell defines is used by a later cell: the website, the student and the live
  copies leave claim cells out, and the lesson must run the same without them.
* A false claim fails its notebook under nbval: a copy of a lesson whose first claim is negated
  fails, and the failure quotes that claim's sentence.
"""
import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.claims import ClaimFailed, claim

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MIN_CLAIMS = 3


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell):
    return "".join(cell["source"])


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def normalized(text):
    """Text as a reader sees it: no markdown emphasis or code marks, one space between words."""
    return re.sub(r"\s+", " ", re.sub(r"[`*]", "", text)).strip().lower()


def claim_calls(code):
    """The ``claim(...)`` calls in ``code``: the sentence of each (None where it is not a string
    literal)."""
    sentences = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "claim":
            sentence = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "sentence"), None)
            sentences.append(sentence.value if isinstance(sentence, ast.Constant) else None)
    return sentences


def code_of(cell):
    """A code cell's source as Python (IPython magics and shell lines left out)."""
    return "\n".join(line for line in source(cell).splitlines() if not line.lstrip().startswith(("%", "!")))


def test_a_true_claim_is_quiet():
    assert claim(2 < 3, "two is less than three") is None


def test_a_false_claim_quotes_its_sentence_and_the_values_seen():
    with pytest.raises(ClaimFailed) as failure:
        claim(1.9 > 2.0, "the speed-up stays above 2", speed_up=1.9, workers=[1, 2])
    message = str(failure.value)
    assert '"the speed-up stays above 2"' in message and "speed_up = 1.9" in message and "workers = [1, 2]" in message
    assert isinstance(failure.value, AssertionError)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_lesson_checks_its_claims_in_claim_cells(path):
    cells = load(path)["cells"]
    prose = normalized(" ".join(source(c) for c in cells if c["cell_type"] == "markdown"))
    claim_cells = [c for c in cells if "claim" in tags(c)]
    assert len(claim_cells) >= MIN_CLAIMS, f"{path.name}: {len(claim_cells)} claim cells, {MIN_CLAIMS} or more wanted"
    problems = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        sentences = claim_calls(code_of(cell))
        if "claim" not in tags(cell):
            if sentences:
                problems.append(f"claim(...) in a cell not tagged 'claim': {source(cell)[:60]!r}")
            continue
        if not sentences:
            problems.append(f"a claim cell calls no claim(...): {source(cell)[:60]!r}")
        if cell.get("outputs"):
            problems.append(f"a claim cell has output (a true claim is quiet): {source(cell)[:60]!r}")
        if cell["metadata"].get("jupyter", {}).get("source_hidden") is not True:
            problems.append(f"a claim cell is not collapsed (jupyter.source_hidden): {source(cell)[:60]!r}")
        for sentence in sentences:
            if sentence is None:
                problems.append(f"a claim's sentence is not a plain string: {source(cell)[:60]!r}")
            elif normalized(sentence) not in prose:
                problems.append(f"the claim {sentence!r} is not a sentence of the lesson's text")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def bound_names(code):
    """The names a cell's code binds in the notebook's namespace: assignments, loop and ``with``
    targets, imports, functions, classes (not the variables local to a comprehension, a lambda or
    a function body)."""
    names = set()

    def visit(node):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            return
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(code))
    return names


def used_names(code):
    return {node.id for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_later_cell_needs_what_a_claim_cell_defines(path):
    cells = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
    problems = []
    for i, cell in enumerate(cells):
        if "claim" not in tags(cell):
            continue
        defined = bound_names(code_of(cell)) - {"claim"}
        for later in cells[i + 1:]:
            if "claim" not in tags(later) and defined & used_names(code_of(later)):
                problems.append(f"{sorted(defined & used_names(code_of(later)))} set in claim cell "
                                f"{source(cell)[:50]!r} and read by {source(later)[:50]!r}")
    assert not problems, f"{path.name}: the lesson would change without its claim cells:\n  " + "\n  ".join(problems)


def test_a_name_defined_in_a_claim_cell_and_read_later_is_found():
    assert bound_names("import numpy as np\nfor k in range(3):\n    ratio = k\nclaim(ratio > 1, 's')") == {"np", "k", "ratio"}
    assert bound_names("claim(all(r > 0 for r in rows), 's')\ndef f(x):\n    y = x") == {"f"}
    assert used_names("print(ratio)") == {"print", "ratio"}


class _NegateFirstClaim(ast.NodeTransformer):
    """Wrap the condition of the first ``claim(...)`` call in ``not (...)``."""

    done = False

    def visit_Call(self, node):
        self.generic_visit(node)
        if not self.done and getattr(node.func, "id", getattr(node.func, "attr", None)) == "claim":
            node.args[0] = ast.UnaryOp(op=ast.Not(), operand=node.args[0])
            self.done = True
        return node


def negate_first_claim(notebook):
    """Turn the first claim of ``notebook`` false (in place); return its sentence."""
    for cell in notebook["cells"]:
        if "claim" in tags(cell):
            negator = _NegateFirstClaim()
            cell["source"] = ast.unparse(negator.visit(ast.parse(code_of(cell))))
            assert negator.done
            return claim_calls(code_of(cell))[0]
    raise AssertionError("no claim cell")


LESSON_TO_BREAK = "03_ordering.ipynb"


def test_a_false_claim_fails_its_notebook(tmp_path):
    notebook = load(ROOT / "notebooks" / LESSON_TO_BREAK)
    sentence = negate_first_claim(notebook)
    broken = tmp_path / LESSON_TO_BREAK
    broken.write_text(json.dumps(notebook), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider",
                          "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"),
                          "--rootdir", str(tmp_path), "-q", broken.name],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode != 0, f"the notebook with a false claim passed:\n{run.stdout[-2000:]}"
    assert "ClaimFailed" in run.stdout and sentence in run.stdout, run.stdout[-3000:]
    assert "1 failed" in run.stdout, run.stdout[-3000:]
