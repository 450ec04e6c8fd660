"""The course website as a reader meets it: `make site` builds it (Sphinx warnings fail the build),
`python -m http.server` serves it on loopback, and headless Chromium opens the home page and
every lesson.

On each lesson page: its title; its plots as images; the helper code ``show_source`` prints; lesson 12's
sampling profiles drawn in their frames; lesson 04's progress bars drawn as widgets
from the saved widget state, full; lesson 09's maths typeset by MathJax; every solution folded;
links that launch the notebook on Binder and Colab and download it. Across the whole site, no
internal link (page, image, script, anchor) points at nothing, and every page passes axe-core's
WCAG 2 A and AA rules (axe-core comes from the npm registry, like the widget scripts) with every
image described by an alt text that is not a file name. Screenshots go to
``test-artifacts/browser/`` beside the other browser test's. The Binder files are checked here
too. Chromium is found, and a missing one skips or fails, as in ``test_browser_e2e.py``.
"""
import json
import re
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from helpers.colab_cell import repository_url
from test_browser_e2e import ARTIFACTS, chromium, free_port, page  # noqa: F401  (shared fixtures)

ROOT = Path(__file__).resolve().parents[1]
BUILT = ROOT / "site" / "_build" / "html"
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def lesson_facts(path):
    """What a lesson's page must show, read from the notebook: title, plots, bars, solutions."""
    notebook = nbformat.read(path, as_version=4)
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    title = notebook.cells[0].source.splitlines()[0].removeprefix("# ").replace("`", "")
    return {"title": title,
            "plots": sum("image/png" in o.get("data", {}) for o in outputs),
            "bars": sum(WIDGET_VIEW in o.get("data", {}) for o in outputs),
            "solutions": sum(c.cell_type == "code" and "solution" in c.metadata.get("tags", [])
                             for c in notebook.cells),
            "maths": any("$$" in c.source for c in notebook.cells if c.cell_type == "markdown"),
            "profiles": sum("<iframe" in o.get("data", {}).get("text/html", "") for o in outputs),
            "sources": sum("```python" in o.get("data", {}).get("text/markdown", "") for o in outputs)}


@pytest.fixture(scope="module")
def site():
    """`make site`, once for the module; its output is the built folder."""
    result = subprocess.run(["make", "--no-print-directory", "site", f"VENV={sys.prefix}"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, f"make site failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert not sphinx_warnings(result.stderr), result.stderr
    return BUILT


def sphinx_warnings(stderr):
    """Warnings in `make site`'s output, less pip's: on a first build pip installs the site's
    packages, and on some machines it warns about its own index settings ("WARNING: Location
    ... is ignored"), which says nothing about the site."""
    return [line for line in stderr.splitlines()
            if "WARNING" in line and not line.lstrip().startswith("WARNING: Location ")]


@pytest.fixture(scope="module")
def served(site, chromium):  # noqa: F811  (the shared fixture)
    """The built site on loopback, by Python's own HTTP server; its base address."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(site)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/index.html", timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the site's HTTP server did not answer"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_home_page_lists_every_lesson(served, page):  # noqa: F811
    page.goto(f"{served}/index.html")  # the root forwards to the home page
    page.wait_for_url("**/site/index.html")
    assert page.locator("h1").first.inner_text().startswith("Concurrency in Python")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "site-home.png"), full_page=True)
    linked = {Path(urlsplit(h).path).stem for h in
              page.locator("article a.reference.internal").evaluate_all("els => els.map(e => e.href)")}
    assert {p.stem for p in LESSONS} <= linked


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_page(served, page, path):  # noqa: F811
    facts = lesson_facts(path)
    page.goto(f"{served}/notebooks/{path.stem}.html")
    page.wait_for_load_state("load")
    title = facts["title"].replace("'", "\u2019")  # the site's typography curls apostrophes
    assert page.title().startswith(title)
    assert page.locator("article h1").first.inner_text().startswith(title)

    if facts["plots"]:
        page.wait_for_function("""() => {
            const imgs = [...document.querySelectorAll('article .cell_output img')];
            return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
        }""", timeout=30_000)
    if facts["bars"]:  # drawn by the widget manager from the saved state: one full bar per tqdm bar
        page.wait_for_function("(n) => document.querySelectorAll('.widget-hprogress').length === n",
                               arg=facts["bars"], timeout=30_000)
        widths = page.locator(".widget-hprogress .progress-bar").evaluate_all("els => els.map(e => e.style.width)")
        assert widths == ["100%"] * facts["bars"]
    if facts["sources"]:  # show_source's Markdown output, drawn as highlighted code
        shown = page.locator("article .cell_output div[class*='highlight-python']").count()
        assert shown >= facts["sources"]
    if facts["profiles"]:  # pyinstrument's views, each drawing its call tree in its own frame
        frames = page.locator("article .cell_output iframe")
        assert frames.count() == facts["profiles"]
        assert all(frames.evaluate_all("els => els.map(e => Boolean(e.getAttribute('title')))"))
        for index in range(facts["profiles"]):
            page.frame_locator("article .cell_output iframe").nth(index).locator(
                ".call-stack-view .frame").first.wait_for(timeout=30_000)
    if facts["maths"]:
        page.wait_for_selector("article mjx-container", timeout=30_000)
        assert "$$" not in page.locator("article").inner_text(), "some maths was left as TeX"

    folded = page.locator("article details.hide.above-input")
    assert folded.count() == facts["solutions"]
    assert all(not d for d in folded.evaluate_all("els => els.map(e => e.open)")), "solutions start folded"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"site-{path.stem}.png"))
    if facts["solutions"]:
        folded.first.locator("summary").click()
        assert folded.first.evaluate("e => e.open")
        assert folded.first.locator("pre").first.is_visible()

    launch_links_are_well_formed(page, path)


def launch_links_are_well_formed(page, path):
    """Binder and Colab open this notebook from the repository's main branch; the download link
    serves the notebook itself."""
    owner_repo = urlsplit(repository_url()).path.strip("/")
    notebook = f"notebooks/{path.name}"
    hrefs = set(page.locator("a").evaluate_all("els => els.map(e => e.href)"))
    assert f"https://mybinder.org/v2/gh/{owner_repo}/main?urlpath=lab/tree/{notebook}" in hrefs
    assert f"https://colab.research.google.com/github/{owner_repo}/blob/main/{notebook}" in hrefs
    downloads = [h for h in hrefs if h.endswith(f"/_sources/{notebook}")]
    assert downloads, f"no download link for {path.name}"
    with urllib.request.urlopen(downloads[0], timeout=10) as response:
        assert json.loads(response.read()) == json.loads(path.read_text())


class Links(HTMLParser):
    """The ``href``/``src`` values and the ``id``s of one HTML page."""

    def __init__(self):
        super().__init__()
        self.targets, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for name in ("href", "src"):
            if attrs.get(name):
                self.targets.append(attrs[name])


def parse(path, cache={}):
    if path not in cache:
        links = Links()
        links.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = links
    return cache[path]


def site_pages(root):
    """The HTML pages under ``root``; ``_static/`` holds the theme's template fragments, not pages."""
    return [p for p in sorted(root.rglob("*.html")) if p.relative_to(root).parts[0] != "_static"]


def broken_links(root):
    """Every internal link of every page under ``root`` whose file, or anchor, does not exist."""
    broken = []
    for page_file in site_pages(root):
        for target in parse(page_file).targets:
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or target.startswith(("mailto:", "javascript:", "data:")):
                continue
            file = (page_file.parent / unquote(parts.path)).resolve() if parts.path else page_file
            if file.is_dir():
                file = file / "index.html"
            if not file.is_relative_to(root.resolve()) or not file.exists():
                broken.append(f"{page_file.relative_to(root)}: {target}")
            elif parts.fragment and file.suffix == ".html" and unquote(parts.fragment) not in parse(file).ids:
                broken.append(f"{page_file.relative_to(root)}: {target} (no such anchor)")
    return broken


AXE = "axe-core@4.14.1"
# What a plot's alt text must not be: a file name (MyST-NB names images by the hash of their bytes).
FILE_NAME = re.compile(r"^\S*\.(png|jpe?g|gif|svg|webp)$|^[0-9a-f]{16,}$", re.I)


@pytest.fixture(scope="module")
def axe_script(tmp_path_factory):
    """axe-core's script, from the npm registry into a scratch folder (never into the site)."""
    sys.path.insert(0, str(ROOT / "site"))
    try:
        import fetch_js
    finally:
        sys.path.remove(str(ROOT / "site"))
    folder = tmp_path_factory.mktemp("axe")
    fetch_js.npm_unpack(AXE, folder, ["axe.min.js"])
    return folder / "axe.min.js"


def accessibility_problems(page, axe_script):
    """axe-core's WCAG 2 A/AA violations on the loaded ``page`` (rule, impact, how many nodes, an
    example), and its images whose alt text is missing, empty or a file name."""
    page.add_script_tag(path=str(axe_script))
    violations = page.evaluate("""async () => {
        const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}});
        return result.violations.map(v => `${v.id} (${v.impact}, ${v.nodes.length} nodes): ${v.nodes[0].html.slice(0, 120)}`);
    }""")
    alts = page.locator("article img").evaluate_all("els => els.map(e => [e.getAttribute('src'), e.getAttribute('alt')])")
    unnamed = [f"img {src}: alt {alt!r}" for src, alt in alts if not (alt or "").strip() or FILE_NAME.match(alt.strip())]
    return violations + unnamed


def test_every_page_is_accessible(site, served, page, axe_script):  # noqa: F811
    problems = {}
    for page_file in site_pages(site):
        relative = page_file.relative_to(site).as_posix()
        if relative == "index.html":  # the root only forwards to site/index.html, checked itself
            continue
        page.goto(f"{served}/{relative}")
        page.wait_for_load_state("load")
        found = accessibility_problems(page, axe_script)
        if found:
            problems[relative] = found
    assert not problems, "\n".join(f"{name}:\n  " + "\n  ".join(found) for name, found in problems.items())


def test_the_accessibility_check_finds_what_is_wrong(page, axe_script):  # noqa: F811
    page.set_content('<html lang="en"><head><title>t</title></head><body><main><article>'
                     '<img src="a.png"><img src="b.png" alt="3f2a9c0d1e4b5a6978c1d2e3f4a5b6c7.png">'
                     '<img src="c.png" alt="Seconds against workers: the measured line stays above the ideal one">'
                     '</article></main></body></html>')
    problems = accessibility_problems(page, axe_script)
    assert any(problem.startswith("image-alt") for problem in problems), problems
    assert "img b.png: alt '3f2a9c0d1e4b5a6978c1d2e3f4a5b6c7.png'" in problems
    assert not any("c.png" in problem for problem in problems)


def test_no_internal_link_is_broken(site):
    pages = {p.relative_to(site).as_posix() for p in site_pages(site)}
    assert {"index.html", "site/index.html", "site/setup.html", "data/README.html"} <= pages
    assert {f"notebooks/{p.stem}.html" for p in LESSONS} <= pages
    assert (ROOT / "INSTRUCTORS.md").exists() <= ("INSTRUCTORS.html" in pages)
    assert broken_links(site) == []


def test_link_checker_finds_a_broken_link(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#there">b</a> <a href="missing.html">x</a>'
                                     '<a href="#here" id="here">me</a> <a href="https://example.org/">out</a>')
    (tmp_path / "b.html").write_text('<p id="elsewhere">b</p>')
    assert broken_links(tmp_path) == ["a.html: b.html#there (no such anchor)", "a.html: missing.html"]


def test_site_folds_solutions_and_leaves_out_the_colab_cell_and_the_claims():
    pytest.importorskip("myst_nb", reason="the site's packages are installed by `make site`")
    sys.path.insert(0, str(ROOT / "site"))
    try:
        import course_site
    finally:
        sys.path.remove(str(ROOT / "site"))
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 99 · Title"),
        nbformat.v4.new_code_cell("install()", metadata={"tags": ["colab-setup"]}),
        nbformat.v4.new_code_cell("answer = 42", metadata={"tags": ["solution"], "jupyter": {"source_hidden": True}}),
        nbformat.v4.new_code_cell("check(answer)", metadata={"tags": ["check"]}),
        nbformat.v4.new_code_cell('claim(answer == 42, "the answer is 42")',
                                  metadata={"tags": ["claim"], "jupyter": {"source_hidden": True}})])
    cells = course_site.fold_solutions(notebook).cells
    assert [c.source for c in cells] == ["# 99 · Title", "answer = 42", "check(answer)"]
    assert [c.metadata["tags"] for c in cells[1:]] == [["solution", "hide-input"], ["check"]]


def test_binder_installs_the_pinned_set_and_the_course():
    requirements = (ROOT / "binder" / "requirements.txt").read_text()
    assert "-r ../requirements.txt" in requirements and "-c ../constraints.txt" in requirements
    python = re.fullmatch(r"python-3\.(\d+)\s*", (ROOT / "binder" / "runtime.txt").read_text())
    assert python and 11 <= int(python.group(1)) <= 14, "Binder's Python must be a supported one (3.11-3.14)"
    post_build = ROOT / "binder" / "postBuild"
    assert post_build.stat().st_mode & 0o111, "repo2docker runs postBuild only if it is executable"
    assert "pip install --no-deps -e ." in post_build.read_text()


def test_readme_badges_name_the_repository_of_pyproject():
    owner_repo = urlsplit(repository_url()).path.strip("/")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    badges = re.findall(r"\[!\[[^\]]*\]\([^)]*\)\]\(([^)]*)\)", readme)
    assert len(badges) >= 2
    for link in badges:
        assert f"/{owner_repo}/" in link, f"a README badge names another repository than pyproject.toml: {link}"
