"""The set-up cell at the top of every lesson, for running it where the course is not installed
(Google Colab, a notebook downloaded on its own), and the command that puts it there.

Where ``helpers`` imports (``make lab``, Binder, conda), the cell does nothing and prints nothing,
so the outputs nbval compares are unchanged. Elsewhere it pip-installs the course package from
the repository's main branch, as an archive, and says so; lesson 06 then writes its data on
first use as it does locally. ``COURSE_PACKAGE`` overrides what it installs (a wheel, a source
archive or a folder): the tests point it at a wheel built on the spot.

The cell's text lives here only. The repository's address comes from pyproject.toml
(``[project.urls] Repository``), so after a fork changes it there, run the command again::

    python -m helpers.colab_cell notebooks

It puts the cell right after each lesson's title cell, or updates the one already there (tag
``colab-setup``); running it twice changes nothing.
"""
import sys
import tomllib
from pathlib import Path

import nbformat

TAG = "colab-setup"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

CELL_TEMPLATE = '''\
# Set-up for Colab and other places without the course installed; does nothing where it is.
import importlib, importlib.util, os, subprocess, sys
if importlib.util.find_spec("helpers") is None:
    source = os.environ.get("COURSE_PACKAGE", "{archive}")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source], check=True)
    importlib.invalidate_caches()
    print(f"Installed the course package (helpers) from {{source}}.")'''


def repository_url(pyproject=PYPROJECT):
    """The repository's address, from ``[project.urls] Repository`` in pyproject.toml."""
    try:
        urls = tomllib.loads(Path(pyproject).read_text())["project"]["urls"]
        return urls["Repository"].rstrip("/")
    except FileNotFoundError:
        raise SystemExit(f"{pyproject} not found: run this from a clone of the course's repository") from None
    except KeyError:
        raise SystemExit(f"{pyproject} has no [project.urls] Repository = \"https://github.com/OWNER/REPO\"; "
                         "add it: the set-up cell installs the course from there") from None


def cell_source(repository=None):
    """The set-up cell's code, installing from the main branch's archive of ``repository``."""
    archive = f"{repository or repository_url()}/archive/refs/heads/main.zip"
    return CELL_TEMPLATE.format(archive=archive)


def add_setup_cell(notebook, source):
    """Put the set-up cell right after the title cell, or update it where it is; returns whether
    the notebook changed."""
    for cell in notebook.cells:
        if TAG in cell.metadata.get("tags", []):
            if cell.source == source:
                return False
            cell.source = source
            return True
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [TAG]})
    notebook.cells.insert(1, cell)
    return True


def update_notebooks(folder):
    """Add or update the set-up cell in every lesson (``NN_*.ipynb``) of ``folder``; returns the
    names of the notebooks it changed."""
    lessons = sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))
    if not lessons:
        raise SystemExit(f"no lesson (NN_name.ipynb) in '{folder}': give the notebooks' folder")
    source = cell_source()
    changed = []
    for path in lessons:
        notebook = nbformat.read(path, as_version=4)
        if add_setup_cell(notebook, source):
            nbformat.write(notebook, path)
            changed.append(path.name)
    return changed


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m helpers.colab_cell NOTEBOOK_FOLDER   (e.g. notebooks)")
    changed = update_notebooks(args[0])
    print(f"set-up cell added or updated in {len(changed)} notebook(s)" + (": " + ", ".join(changed) if changed else ""))


if __name__ == "__main__":
    main()
