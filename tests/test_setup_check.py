"""The setup check warns, with a fix, on exactly the machines that are not ready: a Python out
of range, a missing or wrongly pinned package, one usable core (CPU affinity), a container's CPU
quota, oversized thread pools. Each check is fed faked facts; one test runs the real report."""
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import setup_check as sc

ROOT = Path(__file__).resolve().parents[1]
LINUX = {"sys_platform": "linux", "platform_machine": "x86_64", "python_full_version": "3.11.2"}
INTEL_MAC = {"sys_platform": "darwin", "platform_machine": "x86_64", "python_full_version": "3.12.0"}


@pytest.mark.parametrize("version, system, machine, status", [
    ((3, 11, 1), "Linux", "x86_64", "WARN"),
    ((3, 11, 2), "Linux", "x86_64", "OK"),
    ((3, 14, 0), "Windows", "AMD64", "OK"),
    ((3, 15, 0), "Linux", "x86_64", "WARN"),
    ((3, 14, 0), "Darwin", "arm64", "OK"),
    ((3, 14, 0), "Darwin", "x86_64", "WARN"),
])
def test_python_outside_the_supported_range_is_a_warning(version, system, machine, status):
    line = sc.check_python(version, system, machine)
    assert line.status == status, line.render()
    if status == "WARN":
        assert "make clean lab PYTHON=" in line.fix


def test_a_missing_package_is_named_with_the_install_command():
    versions = {"numpy": "2.4.6", "numba": None}
    line = sc.check_packages({"numpy": "2.4.6", "numba": "0.68.1"}, versions.get, lambda name: True)
    assert line.status == "WARN"
    assert "numba is missing" in line.text and "numpy" not in line.text
    assert "make clean lab" in line.fix


def test_an_installed_package_that_cannot_be_imported_counts_as_missing():
    line = sc.check_packages({"numba": "0.68.1"}, {"numba": "0.68.1"}.get, lambda name: False)
    assert "numba is missing" in line.text


def test_a_package_at_another_version_is_a_warning():
    line = sc.check_packages({"numpy": "2.4.6"}, {"numpy": "2.2.0"}.get, lambda name: True)
    assert line.status == "WARN" and "numpy is 2.2.0, the course pins 2.4.6" in line.text


def test_without_requirements_txt_the_names_are_checked_for_presence_only(tmp_path):
    pins = sc.course_pins(tmp_path / "absent.txt")
    assert set(pins) == set(sc.COURSE_PACKAGES) and set(pins.values()) == {None}
    assert sc.check_packages(pins, lambda name: "0.0", lambda name: True).status == "OK"


def test_the_fallback_names_are_the_direct_requirements():
    assert set(sc.read_pins(ROOT / "requirements.txt", LINUX)) == set(sc.COURSE_PACKAGES)


def test_pins_follow_the_environment_markers():
    linux = sc.read_pins(ROOT / "requirements.txt", LINUX)
    intel_mac = sc.read_pins(ROOT / "requirements.txt", INTEL_MAC)
    assert linux["numba"] != intel_mac["numba"] and linux["pandas"] == intel_mac["pandas"]


def test_the_widget_extension_must_be_where_jupyterlab_looks(tmp_path):
    installed = {"jupyterlab_widgets": "3.0.17"}.get
    assert sc.check_widgets(installed, [tmp_path]).status == "WARN"
    extension = tmp_path / sc.WIDGET_EXTENSION
    extension.parent.mkdir(parents=True)
    extension.write_text("{}")
    assert sc.check_widgets(installed, [tmp_path]).status == "OK"
    assert "not installed" in sc.check_widgets({}.get, [tmp_path]).text


def test_one_core_of_affinity_is_a_warning():
    line = sc.check_cores(sc.Cores(logical=8, physical=4, affinity=1, quota=None))
    assert line.status == "WARN"
    assert "1 usable" in line.text and "CPU affinity allows 1" in line.text
    assert "affinity" in line.fix


def test_a_container_quota_limits_the_usable_cores():
    small = sc.check_cores(sc.Cores(logical=8, physical=8, affinity=8, quota=1.5))
    assert small.status == "WARN" and "1.5 usable" in small.text and "CPU quota is 1.5" in small.text
    assert "--cpus" in small.fix
    roomy = sc.check_cores(sc.Cores(logical=8, physical=8, affinity=8, quota=4.0))
    assert roomy.status == "OK" and "4 usable" in roomy.text


def test_colab_and_binder_are_named_with_their_core_count():
    assert sc.hosted_service({"COLAB_RELEASE_TAG": "x"}) == "Colab"
    assert sc.hosted_service({"BINDER_REPO_URL": "x"}) == "Binder"
    assert sc.hosted_service({"HOME": "/root"}) is None
    line = sc.check_cores(sc.Cores(2, 1, 2, None), hosted="Colab")
    assert "on Colab" in line.text and "1-2 cores" in line.text


@pytest.mark.parametrize("text, cpus", [("max 100000\n", None), ("150000 100000\n", 1.5), ("200000 100000", 2.0)])
def test_cgroup_v2_cpu_max_is_parsed(text, cpus):
    assert sc.parse_cpu_max(text) == cpus


def test_the_cgroup_quota_is_read_from_this_process_cgroup(tmp_path):
    own = tmp_path / "self-cgroup"
    own.write_text("0::/box\n")
    (tmp_path / "box").mkdir()
    (tmp_path / "box" / "cpu.max").write_text("100000 100000\n")
    assert sc.cgroup_cpu_limit(tmp_path, own) == 1.0


def test_cgroup_v1_quota_and_no_cgroup_at_all(tmp_path):
    absent = tmp_path / "no-such-file"
    assert sc.cgroup_cpu_limit(tmp_path, absent) is None
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert sc.cgroup_cpu_limit(tmp_path, absent) is None
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("300000\n")
    assert sc.cgroup_cpu_limit(tmp_path, absent) == 3.0


def test_thread_pools_larger_than_the_usable_cores_are_a_warning():
    line = sc.check_threads([("Numba", 8), ("openblas (blas)", 1)], usable=1.5)
    assert line.status == "WARN" and "NUMBA_NUM_THREADS=2" in line.fix
    assert sc.check_threads([("Numba", 2)], usable=2).status == "OK"


def test_the_verdict_never_promises_more_than_the_cores_allow():
    one_core = sc.Cores(8, 8, 1, None)
    assert sc.expected_speedup(1.0, 2, one_core) == 1.0
    _, verdict = sc.check_measurement(2.0, 1.0, 2, one_core)
    assert verdict.status == "WARN" and "expect at most about 1.0x from processes" in verdict.text
    assert "(Amdahl's law on 1 core, lesson 12)" in verdict.text
    half_a_core = sc.Cores(8, 8, 8, 0.5)  # a container's quota below one CPU
    assert sc.expected_speedup(1.9, 2, half_a_core) == 1.0
    assert sc.expected_speedup(2.5, 2, sc.Cores(4, 4, 4, None)) == 4.0  # noise above ideal: no serial share


def test_the_verdict_is_amdahls_law_with_the_serial_share_the_measurement_implies():
    """1.9x on 2 workers means a serial share s with 1 / (s + (1 - s) / 2) = 1.9, s = 1/19; on 4
    physical cores (8 hyper-threads) Amdahl's law then allows 1 / (s + (1 - s) / 4)."""
    eight = sc.Cores(8, 4, 8, None)
    share = 2 / 1.9 - 1
    assert sc.expected_speedup(1.9, 2, eight) == pytest.approx(1 / (share + (1 - share) / 4))
    assert sc.expected_speedup(1.9, 2, sc.Cores(2, 2, 2, None)) == pytest.approx(1.9)  # the measured pool itself
    _, verdict = sc.check_measurement(2.0, 1.9, 2, eight)
    assert verdict.status == "OK"
    assert "as if 5% of the work could not be shared" in verdict.text
    assert "expect at most about 3.5x from processes (Amdahl's law on 4 cores, lesson 12)" in verdict.text


def test_a_slow_pool_on_sleeping_jobs_is_a_warning():
    pool, _ = sc.check_measurement(1.1, 1.9, 2, sc.Cores(2, 2, 2, None))
    assert pool.status == "WARN"


def test_the_measurement_runs_a_real_pool():
    sleep, cpu = sc.measure_speedups(workers=2, jobs=2, seconds=0.02)
    assert sleep > 0 and cpu > 0


def test_the_whole_report_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "helpers.setup_check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    for topic in ("Python", "Packages", "Widgets", "Cores", "Start method", "Threads", "Pool", "Verdict"):
        assert f" {topic} " in done.stdout, done.stdout + done.stderr
    assert "could not run" not in done.stdout, done.stdout
    assert done.returncode == (1 if "Not ready" in done.stdout else 0)


def test_only_a_broken_environment_makes_the_check_fail():
    slow = [sc.ok("Python", "3.11.2"), sc.warn("Verdict", "1.0x", "more cores")]
    assert sc.summary(slow)[1] == 0 and "about speed" in sc.summary(slow)[0]
    broken = slow + [sc.warn("Packages", "numba is missing", sc.INSTALL_FIX)]
    assert sc.summary(broken) == ("Not ready: fix the lines marked WARN above, then run the check again.", 1)
    assert sc.summary([sc.ok("Python", "3.11.2")]) == ("Ready.", 0)


def test_python_only_runs_before_the_environment_exists():
    """``make lab`` runs this with the student's bare Python: only the version line, and the
    exit status says whether to go on."""
    done = subprocess.run([sys.executable, "-m", "helpers.setup_check", "--python-only"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.startswith("OK    Python") and done.returncode == 0, done.stdout + done.stderr
