"""The GitHub workflows (.github/workflows/) that let the course, and any fork of it, run its
tests on Linux, macOS and Windows and publish its website: valid against GitHub's workflow schema
(check-jsonschema, with the schema it ships), clean for zizmor's audits (offline, with the
course's settings in .github/zizmor.yml), and running only commands the README documents, so a
reader can run by hand whatever the workflows run. Both linters are shown to fail on a bad file.
These workflows run on GitHub; the course's own CI is .ci/run."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ZIZMOR_CONFIG = ROOT / ".github" / "zizmor.yml"
BIN = Path(sys.executable).parent


def zizmor(*paths):
    return subprocess.run([str(BIN / "zizmor"), "--offline", "--config", str(ZIZMOR_CONFIG), *map(str, paths)],
                          capture_output=True, text=True, timeout=120)


def schema_check(*paths):
    return subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                           *map(str, paths)], capture_output=True, text=True, timeout=120)


def readme_commands():
    """Every line of the README's code blocks, without its trailing comment."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    return {line.split(" #", 1)[0].strip() for block in blocks for line in block.splitlines()}


def run_lines(workflow):
    """The command lines of every ``run:`` step of a workflow file."""
    jobs = yaml.safe_load(workflow.read_text())["jobs"].values()
    scripts = [step["run"] for job in jobs for step in job.get("steps", []) if "run" in step]
    return [line.strip() for script in scripts for line in script.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_there_are_workflows_for_the_tests_and_the_site():
    assert {path.name for path in WORKFLOWS} == {"tests.yml", "site.yml"}


def test_the_workflows_follow_githubs_schema():
    done = schema_check(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_workflows_pass_zizmors_audits():
    done = zizmor(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_command_a_workflow_runs_is_in_the_readme(workflow):
    documented = readme_commands()
    undocumented = [line for line in run_lines(workflow) if line not in documented]
    assert not undocumented, f"{workflow.name} runs commands the README does not show: {undocumented}"


def test_the_tests_run_on_every_platform_with_the_oldest_and_newest_python():
    jobs = yaml.safe_load((ROOT / ".github" / "workflows" / "tests.yml").read_text())["jobs"]
    pairs = {(os_name, python) for job in jobs.values() for os_name in
             (job["strategy"]["matrix"].get("os") or [job["runs-on"]]) for python in job["strategy"]["matrix"]["python"]}
    assert pairs == {(os_name, python) for os_name in ("ubuntu-latest", "macos-latest", "windows-latest")
                     for python in ("3.11", "3.14")}


BAD_WORKFLOW = """\
name: bad
on: [issues]
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: someone/some-action@main
      - run: echo "${{ github.event.issue.title }}"
"""


def test_the_linters_catch_a_bad_workflow(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BAD_WORKFLOW)
    audit = zizmor(bad)
    assert audit.returncode != 0 and "template-injection" in audit.stdout + audit.stderr
    assert "unpinned-uses" in audit.stdout + audit.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text("name: broken\non: [push]\njobs:\n  build:\n    steps: []\n")  # no runs-on
    assert schema_check(broken).returncode != 0
