"""Lesson 12's checkers. Exercise 12.1: the hot spot named from a profile passes with every
profiler the lesson teaches (line_profiler on daily_report's lines alone too); a guess without a
profile, a profile of something else, of one step only or of too few rows to tell, the whole
report, pandas' machinery, a wrong step and wrongly shaped answers each get their hint.
Exercise 12.2, under fork and spawn: the worked solution passes (returning a NumPy array too);
serial, hard-coded, typed-in (close to the job's waits but never measured), fabricated and
degenerate answers, the parallel part timed on the pool, parts that leave out or add a step, a
prediction that is not Amdahl's law (the measurement typed in, the ideal speed-up), a measurement
that beats the law, leaves the serial part out of the one-process time, or is not the pool's (a
serial run beside a decoy run on the pool, downloads mapped on the pool without nightly_job), and
wrong signatures, numbers given as text and the notebook's own sizes instead of the checker's each
get theirs."""
import cProfile
import pstats
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from line_profiler import LineProfiler
from pyinstrument import Profiler

from helpers import amdahl, data
from helpers import slow_report as report
from helpers.amdahl import fetch, merge, nightly_job, open_session, predicted_speedup
from helpers.checks import CheckFailed
from helpers.checks import lesson12
from helpers.checks.lesson12 import check_hot_spot, check_prediction
from helpers.panel import day_labels
from helpers.profiling import profile_call
from helpers.timing import seconds

# --- Exercise 12.1 ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def returns():
    prices = data.simulate_panel(3, tickers=("CSCO", "BA"), days=data.trading_days_2007()[:3]).prices
    return data.intraday_log_returns(prices)


@pytest.fixture(scope="module")
def report_profile(returns):
    return profile_call(report.daily_report, returns)


def cprofile_itself(returns):
    profile = cProfile.Profile()
    profile.runcall(report.daily_report, returns)
    return profile


def pyinstrument_profiler(returns):
    profiler = Profiler(interval=0.001)
    with profiler:
        report.daily_report(returns)
    return profiler


def line_profiler(returns):
    profiler = LineProfiler(report.daily_report, report.longest_calm_spell)
    profiler.runcall(report.daily_report, returns)
    return profiler


@pytest.mark.parametrize("hot_spot", [report.longest_calm_spell, "longest_calm_spell", "longest_calm_spell()",
                                      "helpers.slow_report.longest_calm_spell"])
def test_the_hot_spot_found_in_a_profile_passes(report_profile, hot_spot, capsys):
    check_hot_spot(report_profile, hot_spot)
    assert capsys.readouterr().out == ("Correct: you profiled daily_report, your profile shows longest_calm_spell as "
                                       "its hot spot, and the checker's own profile of the report on other data "
                                       "agrees.\n")


@pytest.mark.parametrize("make_profile", [cprofile_itself, pyinstrument_profiler, line_profiler])
def test_every_profiler_of_the_lesson_counts_as_evidence(returns, make_profile, capsys):
    check_hot_spot(make_profile(returns), report.longest_calm_spell)
    assert capsys.readouterr().out.startswith("Correct:")


def test_a_profile_printed_the_lessons_way_still_counts(returns, capsys):
    stats = profile_call(report.daily_report, returns)
    stats.strip_dirs().sort_stats("cumulative")
    check_hot_spot(stats, "longest_calm_spell")
    assert capsys.readouterr().out.startswith("Correct:")


@pytest.mark.parametrize("profile, hot_spot, hint", [
    (lambda r: None, report.longest_calm_spell, "Pass the profile you made"),
    (lambda r: "longest_calm_spell", "longest_calm_spell", "Pass the profile you made"),
    (lambda r: profile_call(sum, [1, 2, 3]), report.longest_calm_spell, "never ran daily_report"),  # a guess
    (lambda r: cProfile.Profile(), report.longest_calm_spell, "never ran daily_report"),  # a profiler never run
    (lambda r: profile_call(report.longest_calm_spell, r, day_labels(r)), report.longest_calm_spell,
     "shows longest_calm_spell but not daily_report"),
    (lambda r: profile_call(report.daily_report, r), report.daily_report, "the whole report"),
    (lambda r: profile_call(report.daily_report, r), "iloc", "machinery"),
    (lambda r: profile_call(report.daily_report, r), "_getitem_axis", "machinery"),
    (lambda r: profile_call(report.daily_report, r), report.zero_share, "not where the report spends its time"),
    (lambda r: profile_call(report.daily_report, r), "compute_rv", "not where the report spends its time"),
    (lambda r: profile_call(report.daily_report, r), "slow_part", "not one of the functions daily_report calls"),
    (lambda r: profile_call(report.daily_report, r), None, "Name the hot spot"),
    (lambda r: profile_call(report.daily_report, r), 42, "Name the hot spot"),
])
def test_wrong_hot_spots_get_their_hint(returns, profile, hot_spot, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_hot_spot(profile(returns), hot_spot)


def test_a_line_profile_of_the_report_alone_shows_the_line_that_calls_the_hot_spot(returns, capsys):
    """``%lprun -f daily_report daily_report(small)``: the steps are read from the lines calling them."""
    profiler = LineProfiler(report.daily_report)
    profiler.runcall(report.daily_report, returns)
    check_hot_spot(profiler, report.longest_calm_spell)
    assert capsys.readouterr().out.startswith("Correct:")
    with pytest.raises(CheckFailed, match="not where the report spends its time"):
        check_hot_spot(profiler, report.opening_move)


def test_a_profile_the_kernels_threads_disturbed_still_counts(returns, capsys):
    """Python 3.12+ in a notebook: the report's own row and its first step's are gone, the hot
    spot counted as recursive with no cumulative time. The step is still named from it."""
    stats = profile_call(report.daily_report, returns)
    for key in [key for key in stats.stats if key[2] in ("daily_report", "compute_rv")]:
        del stats.stats[key]
    key = next(key for key in stats.stats if key[2] == "longest_calm_spell")
    stats.stats[key] = (0, 1, stats.stats[key][2], 0.0, stats.stats[key][4])
    check_hot_spot(stats, "longest_calm_spell")
    assert "the notebook's own threads disturbed your profile's counts" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="not where the report spends its time"):
        check_hot_spot(stats, "zero_share")
    only_one_step = pstats.Stats(cprofile_itself_of(report.longest_calm_spell))
    only_one_step.stats = {k: ((0, *v[1:]) if k[2] == "longest_calm_spell" else v) for k, v in only_one_step.stats.items()}
    with pytest.raises(CheckFailed, match="but not daily_report itself"):
        check_hot_spot(only_one_step, "longest_calm_spell")


def cprofile_itself_of(step):
    prices = data.simulate_panel(3, tickers=("CSCO", "BA"), days=data.trading_days_2007()[:1]).prices
    returns = data.intraday_log_returns(prices)
    profile = cProfile.Profile()
    profile.runcall(step, returns, day_labels(returns))
    return profile


@pytest.mark.parametrize("profiler", [profile_call, "pyinstrument", "line_profiler"])
def test_a_profile_of_no_data_cannot_show_the_hot_spot(returns, profiler):
    """The right name, but read from nowhere: a profile of the report on an empty frame."""
    empty = returns.iloc[:0]
    if profiler == "pyinstrument":
        with Profiler(interval=0.0001) as profile:
            report.daily_report(empty)
    elif profiler == "line_profiler":
        profile = LineProfiler(report.daily_report)
        profile.runcall(report.daily_report, empty)
    else:
        profile = profiler(report.daily_report, empty)
    with pytest.raises(CheckFailed, match="does not take most of the report's time|does not show"):
        check_hot_spot(profile, report.longest_calm_spell)


# --- Exercise 12.2 ----------------------------------------------------------------------------

SIZES = (6, 8, 6)  # 0.4 s of downloads: enough that a loaded machine's late wake-ups stay within the tolerance
WORKERS = 3


from checking import context  # noqa: F401 (a fixture: under fork and spawn)


def check(answer, context):
    check_prediction(answer, workers=WORKERS, sizes=SIZES, mp_context=context)


def solution(executor, workers, sizes):
    """The worked solution, as in the notebook."""
    serial_seconds = seconds(open_session) + seconds(merge, sizes)
    parallel_seconds = seconds(lambda: [fetch(size) for size in sizes])
    predicted = predicted_speedup(serial_seconds, parallel_seconds, workers)
    measured = (serial_seconds + parallel_seconds) / seconds(nightly_job, executor, sizes)
    return serial_seconds, parallel_seconds, predicted, measured


def measured_parts(sizes):
    return seconds(open_session) + seconds(merge, sizes), seconds(lambda: [fetch(size) for size in sizes])


def test_the_worked_solution_passes(context, capsys):
    check(solution, context)
    assert capsys.readouterr().out == (f"Correct: your parts match the job's, your prediction is Amdahl's law applied "
                                       f"to them, and your measured speed-up is the one-process time over the time "
                                       f"nightly_job took on the {WORKERS} workers, as the pool saw it run.\n")


def test_four_numbers_in_an_array_are_four_numbers(context, capsys):
    check(lambda executor, workers, sizes: np.array(solution(executor, workers, sizes)), context)
    assert capsys.readouterr().out.startswith("Correct:")


def serial_answer(executor, workers, sizes):
    """Measures on a pool of its own, not on the executor passed in."""
    serial, parallel = measured_parts(sizes)
    with ThreadPoolExecutor(workers) as own:
        measured = (serial + parallel) / seconds(nightly_job, own, sizes)
    return serial, parallel, predicted_speedup(serial, parallel, workers), measured


def hard_coded(executor, workers, sizes):
    return 0.25, 1.0, 1.6, 1.5


def nominal_parts(executor, workers, sizes):
    serial = amdahl.OPEN_SECONDS + amdahl.MERGE_SECONDS
    parallel = amdahl.FETCH_SECONDS_PER_MB * sum(sizes)
    return serial, parallel, predicted_speedup(serial, parallel, workers), 1.5


def prediction_is_the_measurement(executor, workers, sizes):
    serial, parallel = measured_parts(sizes)
    measured = (serial + parallel) / seconds(nightly_job, executor, sizes)
    return serial, parallel, measured, measured


def ideal_prediction(executor, workers, sizes):
    serial, parallel = measured_parts(sizes)
    return serial, parallel, float(workers), (serial + parallel) / seconds(nightly_job, executor, sizes)


def not_amdahl(executor, workers, sizes):
    serial, parallel = measured_parts(sizes)
    return serial, parallel, (serial + parallel) / parallel, 1.5


def parallel_on_the_pool(executor, workers, sizes):
    serial = seconds(open_session) + seconds(merge, sizes)
    parallel = seconds(lambda: list(executor.map(fetch, sizes)))
    return serial, parallel, predicted_speedup(serial, parallel, workers), 1.5


def serial_without_merge(executor, workers, sizes):
    serial, parallel = seconds(open_session), seconds(lambda: [fetch(size) for size in sizes])
    return serial, parallel, predicted_speedup(serial, parallel, workers), 1.5


def serial_with_downloads(executor, workers, sizes):
    serial, parallel = measured_parts(sizes)
    return serial + parallel, parallel, predicted_speedup(serial + parallel, parallel, workers), 1.2


def beats_the_law(executor, workers, sizes):
    serial, parallel = measured_parts(sizes)
    seconds(nightly_job, executor, sizes)
    predicted = predicted_speedup(serial, parallel, workers)
    return serial, parallel, predicted, 1.5 * predicted


def not_the_pools_speedup(executor, workers, sizes):
    serial, parallel = measured_parts(sizes)
    seconds(nightly_job, executor, sizes)
    predicted = predicted_speedup(serial, parallel, workers)
    return serial, parallel, predicted, 0.3 * predicted


def other_sizes(executor, workers, sizes):
    serial, parallel = measured_parts(sizes)
    measured = (serial + parallel) / seconds(nightly_job, executor, [1] * len(sizes))
    return serial, parallel, predicted_speedup(serial, parallel, workers), measured


def typed_in_parts(executor, workers, sizes):
    """Parts close to the job's waits, typed in rather than measured; the job itself is run."""
    serial, parallel = 1.002 * (amdahl.OPEN_SECONDS + amdahl.MERGE_SECONDS), 1.003 * 0.02 * sum(sizes)
    measured = (serial + parallel) / seconds(nightly_job, executor, sizes)
    return serial, parallel, predicted_speedup(serial, parallel, workers), measured


def serial_beside_a_decoy(executor, workers, sizes):
    """Measures the job without any pool, and runs it on the pool only to leave evidence there."""
    serial, parallel = measured_parts(sizes)
    nightly_job(executor, sizes)
    measured = (serial + parallel) / seconds(nightly_job, ThreadPoolExecutor(1), sizes)
    return serial, parallel, predicted_speedup(serial, parallel, workers), measured


def serial_left_out_of_the_one_process_time(executor, workers, sizes):
    serial, parallel = measured_parts(sizes)
    measured = parallel / seconds(nightly_job, executor, sizes)
    return serial, parallel, predicted_speedup(serial, parallel, workers), measured


def downloads_without_the_job(executor, workers, sizes):
    serial, parallel = measured_parts(sizes)
    took = seconds(open_session) + seconds(lambda: list(executor.map(fetch, sizes))) + seconds(merge, sizes)
    return serial, parallel, predicted_speedup(serial, parallel, workers), (serial + parallel) / took


def lambda_to_the_workers(executor, workers, sizes):
    serial, parallel = measured_parts(sizes)
    list(executor.map(lambda size: fetch(size), sizes))
    return serial, parallel, predicted_speedup(serial, parallel, workers), 1.5


def numbers_as_text(executor, workers, sizes):
    """The worked solution's four numbers, each printed to a string."""
    return tuple(f"{value:.3f}" for value in solution(executor, workers, sizes))


def own_sizes(executor, workers, sizes):
    """Files of its own instead of the sizes passed in (fewer megabytes)."""
    return solution(executor, workers, [1] * len(sizes))


@pytest.mark.parametrize("answer, hint", [
    (serial_answer, "Nothing was downloaded on the executor passed in"),
    (hard_coded, "longer than downloading all the files takes"),
    (nominal_parts, "exactly the job's nominal wait"),
    (prediction_is_the_measurement, "exactly your measurement"),
    (ideal_prediction, "ideal speed-up"),
    (not_amdahl, "not Amdahl's law applied to the parts"),
    (parallel_on_the_pool, "rather than on the pool"),
    (serial_without_merge, "leaves out a step"),
    (serial_with_downloads, "includes the downloads"),
    (beats_the_law, "beats Amdahl's law"),
    (not_the_pools_speedup, "not what the pool gives"),
    (other_sizes, "other files than the sizes passed in"),
    (lambda_to_the_workers, "could not receive a job"),
    (typed_in_parts, "returned too soon"),
    (serial_beside_a_decoy, "not what the pool gives"),
    (serial_left_out_of_the_one_process_time, "not what the pool gives"),
    (downloads_without_the_job, "did not come from nightly_job"),
    (lambda executor, workers, sizes: None, "should return four numbers"),
    (lambda executor, workers, sizes: (0.3, 0.1, 1.5), "should return four numbers"),
    (lambda executor, workers, sizes: ("0.3 s", 0.1, 1.5, 1.4), "not numbers"),
    (numbers_as_text, "not numbers"),
    (lambda executor, workers, sizes: (0.3, 0.1, True, 1.4), "not numbers"),
    (own_sizes, "the sizes passed in"),
    (lambda executor, workers, sizes: (0.3, 0.0, 1.0, 1.0), "each of them above zero"),
    (lambda executor: 1.5, "predict_and_measure\\(executor, workers, sizes\\)"),
    (1.5, "Pass your function itself"),
])
def test_wrong_predictions_get_their_hint(context, answer, hint):
    with pytest.raises(CheckFailed, match=hint):
        check(answer, context)


def workers_typed_in(executor, workers, sizes):
    """Predicts for the notebook's pool of 3 whatever the workers passed in."""
    serial, parallel = measured_parts(sizes)
    measured = (serial + parallel) / seconds(nightly_job, executor, sizes)
    return serial, parallel, predicted_speedup(serial, parallel, 3), measured


def test_the_checkers_pool_is_not_the_notebooks_so_workers_typed_in_are_caught(context):
    assert lesson12.WORKERS != 3  # the notebook tries the exercise on 3 workers
    with pytest.raises(CheckFailed, match="not Amdahl's law applied to the parts"):
        check_prediction(workers_typed_in, sizes=SIZES, mp_context=context)


@pytest.mark.parametrize("answer", [serial_beside_a_decoy, serial_left_out_of_the_one_process_time])
def test_measurements_not_of_the_pool_are_caught_with_the_checkers_own_pool_and_files(context, answer):
    with pytest.raises(CheckFailed, match="not what the pool gives"):
        check_prediction(answer, mp_context=context)
