"""Profiling helpers (helpers/profiling.py): paths named without this machine's folders, the three
profilers' results read back, pyinstrument's view as a self-contained page, and profiles taken
inside pool workers (under fork and spawn) merged into one."""
import json
import os
import re
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import panel, profiling
from helpers.concurrency_types import cpu_work

ROOT = Path(__file__).resolve().parents[1]
CPU_WORK_FILE = Path(cpu_work.__code__.co_filename).name
MACHINE_PATH = re.compile(r"(/root/|/home/\w|/Users/\w|/tmp/|[A-Za-z]:\\\\Users|/private/var/)")


def no_machine_path(text):
    return not MACHINE_PATH.search(text) and str(ROOT) not in text


def returns():
    days = pd.date_range("2007-01-03 09:36", periods=60, freq="min").append(
        pd.date_range("2007-01-04 09:36", periods=60, freq="min"))
    return pd.DataFrame(np.random.default_rng(1).normal(0, 1e-3, (120, 2)), index=pd.DatetimeIndex(days, name="time"),
                        columns=pd.Index(["A", "B"], name="ticker"))


def test_paths_are_named_from_the_course_the_packages_or_the_standard_library():
    assert profiling.short_path(panel.__file__) == "helpers/panel.py"
    assert profiling.short_path(pd.__file__) == "site-packages/pandas/__init__.py"
    assert profiling.short_path(os.__file__) == "stdlib/os.py"
    cell = Path(tempfile.gettempdir(), "ipykernel_123", "456.py")
    assert profiling.short_path(str(cell)) == "notebook cell"
    assert profiling.short_path("/somewhere/else/job.py") == "job.py"
    assert profiling.short_path("<string>") == "<string>" and profiling.short_path("~") == "~"


def test_shares_are_of_the_calls_wall_time_even_when_other_threads_are_recorded():
    """From Python 3.12, cProfile also records other threads: a thread that only sleeps adds to
    the profile's total of own times, not to the call's wall time."""
    import threading
    import time

    def sleeper():
        time.sleep(0.3)

    def call_with_a_sleeping_thread():
        thread = threading.Thread(target=sleeper)
        thread.start()
        panel.samples_to_statistics(returns(), np.random.SeedSequence(1).spawn(2))
        thread.join()

    stats = profiling.profile_call(call_with_a_sleeping_thread)
    assert isinstance(stats, profiling.CallProfile) and stats.seconds >= 0.3
    assert 0 < profiling.cumulative_share(stats, "samples_to_statistics", "panel.py") < 1


def test_a_cprofile_run_is_read_back_by_function():
    stats = profiling.profile_call(panel.samples_to_statistics, returns(), np.random.SeedSequence(1).spawn(3))
    assert profiling.calls(stats, "sample_to_statistic", "panel.py") == 3
    assert profiling.calls(stats, "sample_to_statistic", "helpers/panel.py") == 3
    assert profiling.calls(stats, "sample_to_statistic", "other.py") == 0
    assert 0.8 < profiling.cumulative_share(stats, "samples_to_statistics") <= 1.05
    assert 0 < profiling.cumulative_share(stats, "bootstrap_returns", "panel.py") < 1
    stats.strip_dirs()  # as the lesson prints it: the files lose their folders, the answers stay
    assert profiling.calls(stats, "sample_to_statistic", "panel.py") == 3
    assert profiling.cumulative_share(stats, "no such function") == 0
    assert 0 < profiling.built_in_share(stats) < 0.5  # pandas' Python code, mostly


def test_line_profiles_name_files_without_folders_and_give_each_line_its_share():
    data = returns()
    profiler = profiling.line_profile([panel.bootstrap_returns_lecture], panel.samples_to_statistics_lecture,
                                      data, np.random.SeedSequence(1).spawn(2))
    text = profiling.line_profile_text(profiler)
    assert "File: helpers/panel.py" in text and no_machine_path(text)
    apply_share = profiling.line_share(profiler, panel.bootstrap_returns_lecture, ".apply(")
    groups_share = profiling.line_share(profiler, panel.bootstrap_returns_lecture, "groups =")
    assert 0 < apply_share < 1 and apply_share + groups_share == pytest.approx(1)


def test_pyinstrument_view_is_one_small_page_without_machine_paths():
    session = profiling.sample_call(panel.samples_to_statistics_lecture, returns(), np.random.SeedSequence(1).spawn(5))
    assert 0 < profiling.sampled_share(session, "bootstrap_returns_lecture", "panel.py") <= 1
    view = profiling.pyinstrument_view(session, "A test's profile").data
    assert view.startswith('<iframe srcdoc="') and 'title="A test&#x27;s profile"' in view
    assert "<details><summary>The same profile as text</summary><pre>" in view
    assert "helpers/panel.py" in view and no_machine_path(view)
    assert len(view) < 300_000


def test_a_portable_session_keeps_the_frames_and_names_library_code_as_such():
    session = profiling.sample_call(panel.samples_to_statistics, returns(), np.random.SeedSequence(1).spawn(3))
    portable = profiling.portable_session(session, "title")
    assert len(portable.frame_records) == len(session.frame_records) and portable.target_description == "title"
    assert no_machine_path(json.dumps(portable.to_json()))
    assert portable.sys_prefixes == ["site-packages/", "stdlib/"]


from checking import context  # noqa: F401 (a fixture: under fork and spawn)


def test_profiles_taken_in_the_workers_add_up(context):
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        profiles = [pool.submit(profiling.profiled, cpu_work, 2_000) for _ in range(4)]
        sessions = [pool.submit(profiling.sampled, cpu_work, 200_000) for _ in range(2)]
        profiles = [future.result() for future in profiles]
        sessions = [future.result() for future in sessions]
    assert all(p.pid != os.getpid() for p in profiles + sessions)
    assert [p.result for p in profiles] == [cpu_work(2_000)] * 4
    merged = profiling.merged_stats(profiles)
    assert profiling.calls(merged, "cpu_work", CPU_WORK_FILE) == 4
    assert profiling.merged_stats(profiles).total_tt == pytest.approx(merged.total_tt)  # the tables stay as they were
    combined = profiling.combined_session(sessions)
    assert combined.sample_count == sum(len(s.profile["frame_records"]) for s in sessions)
    assert profiling.sampled_share(combined, "cpu_work", CPU_WORK_FILE) > 0.5


def test_nothing_to_merge_is_said_plainly():
    with pytest.raises(ValueError, match="no profiles"):
        profiling.merged_stats([])
    with pytest.raises(ValueError, match="no sessions"):
        profiling.combined_session([])


def test_a_profile_broken_by_another_threads_return_is_told_apart():
    """Python 3.12+ in a Jupyter kernel: a thread's function returning during the profile takes a
    stack entry of the profiled call; its own row vanishes, or a row shows calls but no primitive one."""
    data, seeds = returns(), np.random.SeedSequence(1).spawn(2)
    stats = profiling.profile_call(panel.samples_to_statistics, data, seeds)
    assert not profiling.disturbed(stats, panel.samples_to_statistics) and not profiling.disturbed(stats)
    stats.strip_dirs()  # as %prun -r returns them
    assert not profiling.disturbed(stats, panel.samples_to_statistics)
    assert profiling.disturbed(stats, panel.samples_to_statistics_lecture)  # a call that never ran
    key = next(key for key in stats.stats if key[2] == "bootstrap_returns")
    stats.stats[key] = (0, 2, *stats.stats[key][2:])  # "2/0": every call counted as recursive
    assert profiling.disturbed(stats)


def test_a_disturbed_profile_is_taken_again(monkeypatch):
    runs, verdicts = [], iter([True, True, False])
    monkeypatch.setattr(profiling, "disturbed", lambda stats, function=None: next(verdicts))
    profiling.profile_call(runs.append, 1)
    assert runs == [1, 1, 1]
    monkeypatch.setattr(profiling, "disturbed", lambda stats, function=None: True)
    runs.clear()
    profiling.profile_call(runs.append, 1)
    assert len(runs) == profiling.PROFILE_TRIES  # never more than that
