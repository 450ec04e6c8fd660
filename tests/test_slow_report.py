"""The slow report of exercise 12.1 (helpers/slow_report.py): right figures, and one step that takes by
far the most time (what the exercise asks the student to find, and its checker relies on)."""
import numpy as np
import pandas as pd

from helpers import slow_report
from helpers.panel import compute_rv, day_labels
from helpers.profiling import entries, profile_call


def returns():
    minutes = pd.date_range("2007-01-03 09:36", periods=6, freq="min").append(
        pd.date_range("2007-01-04 09:36", periods=6, freq="min"))
    values = [[0.0, 0.1], [0.0, 0.0], [0.2, 0.0], [0.0, 0.0], [0.0, -0.3], [0.0, 0.0],
              [0.1, 0.0], [0.0, 0.0], [-0.4, 0.0], [0.0, 0.0], [0.0, 0.2], [0.3, 0.0]]
    return pd.DataFrame(values, index=pd.DatetimeIndex(minutes, name="time"),
                        columns=pd.Index(["A", "B"], name="ticker"))


def test_the_report_has_every_figure_per_day_and_stock():
    table = slow_report.daily_report(returns())
    assert list(table.columns.get_level_values(0).unique()) == ["realized variance", "zero share", "largest move",
                                                               "longest calm spell", "opening move"]
    assert table.shape == (2, 10)
    assert table["longest calm spell"].to_numpy().tolist() == [[3, 3], [2, 4]]
    assert np.allclose(table["zero share"], [[5 / 6, 4 / 6], [3 / 6, 5 / 6]])
    assert np.allclose(table["largest move"], [[0.2, 0.3], [0.4, 0.2]])
    assert np.allclose(table["opening move"], [[0.0, 0.1], [0.1, 0.0]])
    assert np.allclose(table["realized variance"], compute_rv(returns()))


def test_one_step_takes_nearly_all_the_time():
    data = returns()
    longer = pd.concat([data] * 40).set_axis(
        pd.DatetimeIndex(np.concatenate([data.index + pd.Timedelta(days=7 * k) for k in range(40)]), name="time"))
    stats = profile_call(slow_report.daily_report, longer)
    cumulative = {step.__name__: max(row[2] for row in entries(stats, step.__name__, step.__module__[8:] + ".py"))
                  for step in slow_report.STEPS}  # helpers.slow_report -> slow_report.py
    slowest = max(cumulative, key=cumulative.get)
    assert slowest == "longest_calm_spell"
    assert cumulative[slowest] > 5 * sum(value for name, value in cumulative.items() if name != slowest)
    assert len(day_labels(longer).unique()) == 80
