"""The course as a student meets it: JupyterLab, started by the README's `make lab`, driven in a
headless Chromium by Playwright.

Lesson 04 must show its progress bar as a widget (not the "IProgress not found" text), lesson 06
its plots as images, lesson 12 its sampling profiles (pyinstrument's views, drawn in frames) and
its plots, none of them any error; lesson 01 must run under the ``spawn`` start method (as on
Windows and macOS) with errors only in its cells tagged ``raises-exception``. Screenshots go to
``test-artifacts/browser/``. The server serves a copy of the notebooks (beside a link to ``data/``),
so the run leaves nothing in the repository; autosave is off as well.

Needs Chromium (Debian: ``sudo apt-get install chromium``; or point ``COURSE_CHROMIUM`` at a
Chromium binary). Without it the tests are skipped with that reason, except where
``COURSE_REQUIRE_BROWSER=1`` (CI), where a missing browser is a failure.
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LAB_SETTINGS = {  # a clean, quiet JupyterLab: no autosave, every cell rendered, no news fetched
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none",
                                                                   "autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                       "checkForUpdates": False},
}


def chromium_path():
    return os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def chromium():
    path = chromium_path()
    if path is None:
        reason = ("no Chromium found: install it (Debian/Ubuntu: sudo apt-get install chromium) or set "
                  "COURSE_CHROMIUM=/path/to/chromium to run the browser tests")
        if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(base, token, path, method="GET"):
    request = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


class LabServer:
    """`make lab` on loopback with a token, in its own process group, in a throw-away Jupyter
    configuration; always shut down, kernels included."""

    def __init__(self, scratch, extra_env):
        self.notebooks = scratch / "course" / "notebooks"
        shutil.copytree(ROOT / "notebooks", self.notebooks, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        (scratch / "course" / "data").symlink_to(ROOT / "data", target_is_directory=True)
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        settings = scratch / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            target = settings / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        env = {**os.environ, **extra_env, "JUPYTERLAB_SETTINGS_DIR": str(settings),
               "JUPYTER_CONFIG_DIR": str(scratch / "config"), "JUPYTER_RUNTIME_DIR": str(scratch / "runtime")}
        lab_args = (f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={self.port} "
                    f"--IdentityProvider.token={self.token} --ServerApp.port_retries=0 "
                    "--LabApp.expose_app_in_browser=True")
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
            lab_args += " --allow-root"
        self.log = open(scratch / "lab.log", "w")
        self.process = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_DIR={self.notebooks}",
                                         f"LAB_ARGS={lab_args}"], cwd=ROOT,
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_until_up()

    def wait_until_up(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"`make lab` exited with {self.process.returncode}; see {self.log.name}")
            try:
                api(self.base, self.token, "/api/status")
                return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"JupyterLab did not answer within {timeout} s")

    def kernels_idle(self):
        kernels = api(self.base, self.token, "/api/kernels")
        return bool(kernels) and all(k["execution_state"] == "idle" for k in kernels)

    def stop(self):
        family = []
        try:
            family = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            pass
        try:
            api(self.base, self.token, "/api/shutdown", method="POST")
            self.process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        for proc in family:  # kernels run in sessions of their own; make sure they are gone
            try:
                proc.wait(timeout=10)
            except psutil.TimeoutExpired:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        self.log.close()


@pytest.fixture
def lab(tmp_path, request):
    server = LabServer(tmp_path, getattr(request, "param", {}))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


def tagged_cells(name, tag):
    notebook = json.loads((ROOT / "notebooks" / name).read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    return len(code), sum(tag in c.get("metadata", {}).get("tags", []) for c in code)


def open_lesson_list(page, lab):
    page.goto(f"{lab.base}/lab?token={lab.token}")
    page.wait_for_selector(".jp-DirListing-item", timeout=60_000)
    return page.locator(".jp-DirListing-itemText").all_inner_texts()


def run_all_cells(page, lab, name, screenshot):
    """Open ``name`` from the file browser, clear the saved outputs, run all cells, wait until
    every cell has run and the kernel is idle, and save a screenshot."""
    page.locator(".jp-DirListing-item", has_text=name).dblclick()
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    page.wait_for_function(KERNEL_CONNECTED_AND_IDLE, timeout=60_000)
    lab_command(page, "notebook:clear-all-cell-outputs")
    page.wait_for_function("() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
                           ".jp-OutputArea-output').length === 0", timeout=30_000)
    lab_command(page, "notebook:run-all-cells")
    n_code, _ = tagged_cells(name, "raises-exception")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        # Read the notebook's model, not the prompts on screen: a folded solution cell
        # (source_hidden) shows no input prompt, but its model has an execution count once it ran.
        page.wait_for_function(
            """(n) => {
                const panel = window.jupyterapp.shell.currentWidget;
                const cells = panel && panel.content && panel.content.widgets ? panel.content.widgets : [];
                const code = cells.filter(cell => cell.model.type === 'code');
                return code.length === n && code.every(cell => cell.model.executionCount !== null);
            }""", arg=n_code, timeout=300_000)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"FAILED-{screenshot}"))
        raise
    deadline = time.monotonic() + 60
    while not lab.kernels_idle():
        assert time.monotonic() < deadline, "the kernel stayed busy after the last cell ran"
        time.sleep(0.5)
    page.screenshot(path=str(ARTIFACTS / screenshot))


KERNEL_CONNECTED_AND_IDLE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
    return Boolean(kernel) && panel.sessionContext.isReady && kernel.connectionStatus === 'connected'
        && kernel.status === 'idle';
}"""


def lab_command(page, command):
    """Start one of JupyterLab's commands (those behind its menus) on the notebook in front."""
    page.evaluate("(command) => { window.jupyterapp.commands.execute(command); }", command)


def outputs(page, selector):
    return page.locator(f".jp-NotebookPanel:not(.lm-mod-hidden) {selector}")


def test_lessons_04_06_and_12_run_in_jupyterlab(lab, page):
    names = ("04_progress.ipynb", "06_intraday_panel.ipynb", "12_measure_first.ipynb")
    before = {name: (lab.notebooks / name).read_bytes() for name in names}
    listing = open_lesson_list(page, lab)
    assert {"01_map.ipynb", "04_progress.ipynb", "06_intraday_panel.ipynb"} <= set(listing)

    run_all_cells(page, lab, "04_progress.ipynb", "04_progress.png")
    assert outputs(page, ".widget-hprogress").count() >= 3  # one live bar per tqdm loop
    assert "IProgress not found" not in "\n".join(outputs(page, ".jp-OutputArea-output").all_inner_texts())
    assert outputs(page, '[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0

    page.goto(f"{lab.base}/lab?token={lab.token}&reset")
    page.wait_for_selector(".jp-DirListing-item", timeout=60_000)
    run_all_cells(page, lab, "06_intraday_panel.ipynb", "06_intraday_panel.png")
    assert outputs(page, ".jp-OutputArea-output img").count() >= 2  # the timing plot and the year's band
    assert outputs(page, '[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0

    page.goto(f"{lab.base}/lab?token={lab.token}&reset")
    page.wait_for_selector(".jp-DirListing-item", timeout=60_000)
    run_all_cells(page, lab, "12_measure_first.ipynb", "12_measure_first.png")
    assert outputs(page, ".jp-OutputArea-output img").count() >= 1  # Amdahl's prediction against measurement
    profiles = outputs(page, ".jp-OutputArea-output iframe")
    assert profiles.count() >= 2, "pyinstrument's views are not drawn"
    for index in range(profiles.count()):  # each view draws its call tree inside its frame
        frame = page.frame_locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output iframe").nth(index)
        frame.locator(".call-stack-view .frame").first.wait_for(timeout=30_000)
    assert outputs(page, '[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
    after = {name: (lab.notebooks / name).read_bytes() for name in before}
    assert after == before, "running the notebooks in the browser must not save them"


@pytest.mark.parametrize("lab", [{"COURSE_START_METHOD": "spawn"}], indirect=True)
def test_lesson_01_runs_under_spawn_in_jupyterlab(lab, page):
    open_lesson_list(page, lab)
    run_all_cells(page, lab, "01_map.ipynb", "01_map_spawn.png")
    _, expected_errors = tagged_cells("01_map.ipynb", "raises-exception")
    errors = outputs(page, '[data-mime-type="application/vnd.jupyter.stderr"]')
    assert errors.count() == expected_errors, errors.all_inner_texts()
    # Ask the same kernel which start method it used: a new cell, run and never saved.
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.type("import multiprocessing; print('start method:', multiprocessing.get_start_method())")
    page.keyboard.press("Shift+Enter")
    page.wait_for_selector("text=start method: spawn", timeout=30_000)
