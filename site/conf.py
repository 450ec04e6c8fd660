"""Sphinx configuration of the course website (``make site``).

The source folder is the repository's root (``sphinx-build -c site . site/_build/html``), so the
committed, executed notebooks, INSTRUCTORS.md and data/README.md are pages as they are, never
copied; ``include_patterns`` picks them. MyST-NB renders the notebooks' saved outputs without
running them. The pages of this folder (home, setup) include sections of README.md.
"""
import sys
from pathlib import Path

SITE = Path(__file__).resolve().parent
sys.path.insert(0, str(SITE))

import course_site  # noqa: E402  (the site's hooks, beside this file)
from helpers.colab_cell import repository_url  # noqa: E402  (reads pyproject.toml)

project = "Concurrency in Python"
author = "the course's contributors"
html_show_copyright = False

extensions = ["myst_nb"]
root_doc = "site/index"
include_patterns = ["site/*.md", "notebooks/[0-9][0-9]_*.ipynb", "INSTRUCTORS.md", "data/README.md"]
exclude_patterns = ["site/_build", "site/_vendor", ".venv*", ".git", "live", "student", "results",
                    "test-artifacts", "**/.ipynb_checkpoints"]

# The outputs are the tested ones: show them, never re-run a notebook.
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
# Solution cells (tag ``solution``) get MyST-NB's ``hide-input`` tag when read (course_site.py):
# folded behind this label, opening on click.
nb_code_prompt_show = "Show the worked solution"
nb_code_prompt_hide = "Hide the worked solution"
nb_custom_formats = {".ipynb": ["course_site.read_notebook", {}, False]}

# Widgets and maths from the site's own copies (site/fetch_js.py), not from a CDN.
html_static_path = ["_vendor"]
nb_ipywidgets_js = {"requirejs/require.js": {}, "html-manager/embed-amd.js": {}}
mathjax_path = "mathjax/tex-mml-chtml.js"

REPOSITORY = repository_url()  # [project.urls] Repository in pyproject.toml, the one place
html_theme = "sphinx_book_theme"
html_title = project
html_copy_source = True  # the download button serves each page's source: the .ipynb
html_theme_options = {
    "repository_url": REPOSITORY,
    "repository_branch": "main",
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": True,
    "launch_buttons": {
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
        "notebook_interface": "jupyterlab",
    },
    "show_toc_level": 2,
}


def setup(app):
    course_site.setup(app)
