"""The set-up cell for running a lesson without the course installed (Colab), helpers/colab_cell.py.

Where ``helpers`` imports, the cell must print nothing and install nothing (nbval compares the
lessons' outputs). Where it does not, it must install the course package so that every
``helpers`` module a lesson imports then works: tested in a fresh virtual environment without the
course, the cell pointed (``COURSE_PACKAGE``) at a wheel built here from the working tree. The
course's dependencies come from this environment, through a folder that links every installed
package but the course's own, so the test needs no network and pip may not use an index.
"""
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from helpers import colab_cell

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IMPORT = re.compile(r"^\s*(?:from|import)\s+(helpers(?:\.\w+)*)", re.MULTILINE)
# What of this environment the fresh one must not see: the course itself, pip's own files.
NOT_SHARED = re.compile(r"^(helpers|__editable__|concurrency_course_helpers|pip|setuptools|_distutils_hack|"
                        r"__pycache__)|\.pth$")


def lesson_imports():
    """Every ``helpers`` module the lessons import."""
    modules = set()
    for path in LESSONS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                modules.update(IMPORT.findall(cell.source))
    return sorted(modules)


def test_cell_installs_from_the_repository_named_in_pyproject():
    source = colab_cell.cell_source()
    assert "https://github.com/concurrency-in-python/course/archive/refs/heads/main.zip" in source
    assert colab_cell.cell_source("https://github.com/someone/fork").count("github.com/someone/fork/archive") == 1
    compile(source, "<colab cell>", "exec")


def test_cell_does_nothing_where_helpers_imports(monkeypatch):
    def no_install(*args, **kwargs):
        raise AssertionError(f"the cell ran {args} although helpers imports")

    monkeypatch.setattr(subprocess, "run", no_install)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(colab_cell.cell_source(), {})
    assert printed.getvalue() == ""


def test_every_lesson_has_the_current_cell_right_after_its_title():
    for path in LESSONS:
        cells = nbformat.read(path, as_version=4).cells
        assert colab_cell.TAG in cells[1].metadata.get("tags", []), f"{path.name}: run python -m helpers.colab_cell notebooks"
        assert cells[1].source == colab_cell.cell_source(), f"{path.name}: the set-up cell is out of date"


def without_setup_cell(path, target):
    """A copy of the lesson at ``path`` in ``target`` with its set-up cell taken out, as a lesson
    was before the command first ran."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [c for c in notebook.cells if colab_cell.TAG not in c.metadata.get("tags", [])]
    nbformat.write(notebook, target / path.name)
    return notebook


def test_command_inserts_the_cell_after_the_title_once_and_updates_it(tmp_path):
    before = [without_setup_cell(path, tmp_path) for path in LESSONS[:2]][0]
    assert colab_cell.update_notebooks(tmp_path) == [p.name for p in LESSONS[:2]]
    after = nbformat.read(tmp_path / LESSONS[0].name, as_version=4)
    assert after.cells[1].metadata["tags"] == [colab_cell.TAG]
    assert after.cells[1].source == colab_cell.cell_source()
    assert [c.id for c in after.cells[:1] + after.cells[2:]] == [c.id for c in before.cells]
    assert colab_cell.update_notebooks(tmp_path) == []  # idempotent

    notebook = nbformat.read(tmp_path / LESSONS[0].name, as_version=4)
    assert colab_cell.add_setup_cell(notebook, "print('new text')")
    assert [c.source for c in notebook.cells].count("print('new text')") == 1
    assert sum(colab_cell.TAG in c.metadata.get("tags", []) for c in notebook.cells) == 1


def test_command_refuses_a_folder_without_lessons(tmp_path):
    with pytest.raises(SystemExit, match="no lesson"):
        colab_cell.update_notebooks(tmp_path)


def shared_dependencies(folder):
    """A folder of links to this environment's installed packages, the course's own left out."""
    folder.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not NOT_SHARED.search(entry.name):
            (folder / entry.name).symlink_to(entry)
    return folder


def build_wheel(scratch):
    """The course package as a wheel, built from a copy of the working tree (a build in place
    would leave build/ in the repository)."""
    source = scratch / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "helpers", source / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(source), "-w",
                    str(scratch / "dist")], check=True, capture_output=True)
    return next((scratch / "dist").glob("*.whl"))


def test_cell_installs_the_course_where_it_is_missing(tmp_path):
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "course_dependencies.pth").write_text(f"{shared_dependencies(tmp_path / 'deps')}\n")
    content = tmp_path / "content"  # Colab's working folder
    content.mkdir()
    env = {**os.environ, "COURSE_PACKAGE": str(wheel), "PIP_NO_INDEX": "1", "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)

    def run(code):
        return subprocess.run([python, "-c", code], cwd=content, env=env, capture_output=True, text=True)

    missing = run("import helpers")
    assert missing.returncode != 0, "the fresh environment must not see the course package"

    first = run(colab_cell.cell_source())
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"Installed the course package (helpers) from {wheel}.\n"

    modules = lesson_imports()
    assert "helpers.workers" in modules and "helpers.data" in modules
    check = run(f"import importlib, json, helpers\n"
                f"for name in {modules!r}: importlib.import_module(name)\n"
                f"print(json.dumps(helpers.__file__))")
    assert check.returncode == 0, check.stderr
    assert Path(json.loads(check.stdout)).is_relative_to(venv), "helpers must come from the installed wheel"

    again = run(colab_cell.cell_source())
    assert again.returncode == 0 and again.stdout == "", "once installed, the cell must print nothing"


def other_pythons():
    """Debian's python3 and the pyenv Pythons of this machine (3.11 to 3.14), where present."""
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() if shutil.which("pyenv") else ""
    found = [Path("/usr/bin/python3")] + sorted(Path(root or "/nonexistent").glob("versions/3.1[1-4].*/bin/python3.1[1-4]"))
    return [p for p in found if p.exists()]


@pytest.mark.parametrize("python", other_pythons(), ids=str)
def test_cell_runs_silently_on_every_supported_python(python, tmp_path):
    """With a ``helpers`` importable, the cell prints nothing on each Python the course supports."""
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "__init__.py").write_text("")
    result = subprocess.run([python, "-c", colab_cell.cell_source()], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
