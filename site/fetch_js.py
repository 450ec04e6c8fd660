"""Fetch the JavaScript the site serves itself, from the npm registry, into site/_vendor/.

MyST-NB draws saved ipywidgets (the progress bars) with require.js and the Jupyter widgets HTML
manager, and Sphinx typesets maths with MathJax; by default all three load from public CDNs.
The site serves local copies instead, so that it works from a machine that reaches only the
package registries, and offline once built. ``npm pack`` downloads each pinned package as a
tarball (no install, no dependency tree) and the files the pages load are extracted from it.

Run by ``make site``; does nothing when site/_vendor/ already holds these versions.
"""
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

VENDOR = Path(__file__).resolve().parent / "_vendor"

# package spec -> (folder under _vendor/, files or folders of the package to keep)
PACKAGES = {
    "requirejs@2.3.7": ("requirejs", ["require.js"]),
    # html-manager 1.0.x renders the widget state saved by ipywidgets 8.1 (tqdm's bars); its
    # embed-amd.js bundles the base and controls widgets, so it loads nothing else at run time
    # but the icon fonts beside it (the other bundles and source maps are left out).
    "@jupyter-widgets/html-manager@1.0.15": ("html-manager", ["dist/embed-amd.js", "dist/*.woff2",
                                                                "dist/*.woff", "dist/*.ttf",
                                                                "dist/*.eot", "dist/*.svg"]),
    # MathJax 3 finds its fonts and extensions next to the script, so the folder travels whole.
    "mathjax@3.2.2": ("mathjax", ["es5/"]),
}
STAMP = VENDOR / "versions.json"


def kept_path(member, keep):
    """Where the tarball member (``package/<path>``) goes under its folder, or None if it is not
    one of the ``keep`` files, patterns or folders. The first folder is dropped (``dist/``,
    ``es5/``), so pages find ``html-manager/embed-amd.js`` and ``mathjax/tex-mml-chtml.js``."""
    path = PurePosixPath(member.name.removeprefix("package/"))
    if not member.isfile():
        return None
    for pattern in keep:
        if path.match(pattern) or (pattern.endswith("/") and str(path).startswith(pattern)):
            return Path(*path.parts[1:]) if len(path.parts) > 1 else Path(path)
    return None


def unpack(tarball, folder, keep):
    """Extract the kept files of ``tarball`` into ``folder``."""
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            path = kept_path(member, keep)
            if path is None:
                continue
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.extractfile(member).read())


def npm_unpack(spec, folder, keep):
    """Download the npm package ``spec`` (``npm pack``, no install) and extract its ``keep`` files
    into ``folder``. The site's browser test fetches axe-core, its accessibility checker, this way."""
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run(["npm", "pack", spec, "--pack-destination", scratch, "--silent"],
                                capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"`npm pack {spec}` failed (the site needs Node.js' npm and the npm "
                     f"registry):\n{result.stderr.strip()}")
        unpack(Path(scratch) / result.stdout.strip().splitlines()[-1], Path(folder), keep)


def fetch():
    if STAMP.exists() and json.loads(STAMP.read_text()) == sorted(PACKAGES):
        return
    for spec, (name, keep) in PACKAGES.items():
        npm_unpack(spec, VENDOR / name, keep)
    STAMP.write_text(json.dumps(sorted(PACKAGES)))
    print(f"site: fetched {', '.join(PACKAGES)} into {VENDOR}")


if __name__ == "__main__":
    fetch()
