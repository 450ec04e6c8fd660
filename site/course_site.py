"""The course website's hooks, used by site/conf.py.

* ``read_notebook`` reads a lesson for MyST-NB and folds its solutions: a cell tagged
  ``solution`` (or collapsed in JupyterLab, metadata ``jupyter.source_hidden``) gets MyST-NB's
  ``hide-input`` tag, so its code shows behind a "Show the worked solution" button. The Colab
  set-up cell (tag ``colab-setup``) and the claim checks (tag ``claim``, see
  ``helpers/claims.py``) are left out: a reader of the site needs neither. The notebook files are
  not changed.
* ``widget_assets_path`` tells require.js where the widget manager's script is served, so that
  its icon fonts are found beside it (not under the page's own folder).
* ``write_root_redirect`` writes ``index.html`` at the site's root, forwarding to the home page
  (``site/index.html``), and ``.nojekyll``, so that GitHub Pages serves the folders whose names
  start with ``_`` (``_static``, ``_sources``, ``_images``) as they are.
"""
import json
from pathlib import Path

import nbformat
from myst_nb.sphinx_ import NbMetadataCollector

HOME = "site/index.html"
REDIRECT = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Concurrency in Python</title>
<meta http-equiv="refresh" content="0; url={HOME}"><link rel="canonical" href="{HOME}"></head>
<body><p><a href="{HOME}">Concurrency in Python</a></p></body></html>
"""


LEFT_OUT = {"colab-setup", "claim"}


def fold_solutions(notebook):
    """Tag solution cells ``hide-input`` and drop the Colab set-up cell and the claim checks, in place."""
    notebook.cells = [c for c in notebook.cells if not LEFT_OUT & set(c.metadata.get("tags", []))]
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        hidden = cell.metadata.get("jupyter", {}).get("source_hidden", False)
        if cell.cell_type == "code" and ("solution" in tags or hidden) and "hide-input" not in tags:
            tags.append("hide-input")
    return notebook


def read_notebook(text):
    """MyST-NB's reader for ``.ipynb`` files: the standard one, then ``fold_solutions``."""
    return fold_solutions(nbformat.reads(text, as_version=4))


def write_root_redirect(app, exception):
    if exception is None and app.builder.format == "html":
        (Path(app.outdir) / "index.html").write_text(REDIRECT)
        (Path(app.outdir) / ".nojekyll").write_text("")


def widget_assets_path(app, pagename, templatename, context, doctree):
    """On a page with widgets, tell require.js (before it loads) where html-manager's bundle is
    served: its modules find their icon fonts from their own addresses, which require.js would
    otherwise place under the page's folder."""
    if "ipywidgets_0" not in NbMetadataCollector.get_js_files(app.env, pagename):
        return
    folder = context["pathto"]("_static/html-manager", 1)
    config = {"paths": {"@jupyter-widgets/html-manager/dist": folder,
                        "@jupyter-widgets/html-manager": f"{folder}/embed-amd"}}
    app.add_js_file(None, body=f"var require = {json.dumps(config)};", priority=100)


def setup(app):
    app.connect("html-page-context", widget_assets_path, priority=600)  # after MyST-NB's
    app.connect("build-finished", write_root_redirect)
