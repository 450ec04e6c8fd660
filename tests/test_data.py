"""Lesson 06's data layer: the simulated panel, reading and cleaning files, clear errors for bad
input, and the download of the original (served from a zip this test builds, on loopback)."""
import hashlib
import http.server
import io
import threading
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import data
from helpers.panel import compute_rv

JANUARY = data.trading_days_2007()[:20]


@pytest.fixture(scope="module")
def panel():
    return data.simulate_panel()


@pytest.fixture
def folder(tmp_path):
    data.write_panel(data.simulate_panel(tickers=("CSCO", "BA"), days=JANUARY[:3]).prices, tmp_path)
    return tmp_path


def test_calendar_has_the_251_trading_days_of_2007():
    days = data.trading_days_2007()
    assert len(days) == 251
    assert days[0] == pd.Timestamp("2007-01-03") and days[-1] == pd.Timestamp("2007-12-31")


def test_same_seed_same_bytes(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for target in (first, second):
        data.write_panel(data.simulate_panel(7, tickers=("GE",), days=JANUARY).prices, target)
    assert (first / "GE.csv").read_bytes() == (second / "GE.csv").read_bytes()
    other = tmp_path / "c"
    data.write_panel(data.simulate_panel(8, tickers=("GE",), days=JANUARY).prices, other)
    assert (other / "GE.csv").read_bytes() != (first / "GE.csv").read_bytes()


def test_the_default_panel_has_the_original_format(panel, tmp_path):
    data.simulate_default_data(tmp_path)
    assert sorted(p.stem for p in tmp_path.glob("*.csv")) == sorted(data.TICKERS)
    lines = (tmp_path / "C.csv").read_text().splitlines()
    assert len(lines) == 251 * 386
    date, time, price = lines[0].split(",")
    assert (date, time) == ("20070103", "935") and len(price.split(".")[1]) == 2
    assert lines[385].split(",")[1] == "1600"


def test_early_close_days_carry_the_one_pm_price_forward(panel):
    day = panel.prices.loc["2007-11-23"]
    assert len(day) == 386
    after_one = day.between_time("13:01", "16:00")
    assert (after_one == day.loc["2007-11-23 13:00"]).all().all()
    assert not (day.between_time("09:35", "13:00").nunique() == 1).any()


def test_simulation_is_calibrated_to_the_original(panel):
    returns = data.intraday_log_returns(panel.prices)
    ratio = compute_rv(returns).mean() / data.REAL_DATA_PROFILE["mean_daily_RV"]
    assert ratio.between(1 / 1.5, 1.5).all(), ratio
    zero_share = (returns == 0).mean()
    assert zero_share.between(0.1, 0.7).all(), zero_share
    squared = returns**2
    minute = squared.index.hour * 60 + squared.index.minute
    by_minute = squared.groupby(minute).mean().mean(axis=1)
    assert by_minute.loc[:605].mean() / by_minute.loc[720:840].mean() > 2


def test_constant_volatility_panel_matches_its_integrated_variance():
    plain = data.simulate_panel(3, tickers=("BA", "GE"), u_shape=False, stochastic_volatility=False,
                                jumps=False, tick_size=None)
    rv = compute_rv(data.intraday_log_returns(plain.prices))
    assert plain.integrated_variance.nunique().max() == 2  # full days and early-close days
    assert (rv / plain.integrated_variance).mean().between(0.97, 1.03).all()


def test_read_price_file_names_the_series_by_its_stem(tmp_path):
    path = _write(tmp_path / "cvs.csv", "20070103,935,10.00\n20070103,936,10.01\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        series = data.read_price_file(path)
    assert series.name == "cvs"
    assert "cvs.csv".strip(".csv") == ""  # strip removes characters, not a suffix
    assert list(series.index) == [pd.Timestamp("2007-01-03 09:35"), pd.Timestamp("2007-01-03 09:36")]


def _write(path, text):
    path.write_text(text)
    return path


def test_alignment_on_time_not_position(folder):
    lines = (folder / "BA.csv").read_text().splitlines()
    del lines[10]  # BA misses 09:45 on the first day
    (folder / "BA.csv").write_text("\n".join(lines) + "\n")
    prices = data.load_prices(folder)
    assert prices.loc["2007-01-03 09:45", "BA"] != prices.loc["2007-01-03 09:45", "BA"]  # NaN
    assert prices["CSCO"].notna().all()
    assert prices.loc["2007-01-03 09:46", "BA"] == float(lines[10].split(",")[2])
    assert data.describe_gaps(prices).to_dict() == {"BA": 1, "CSCO": 0}


def test_returns_are_intraday_only_and_days_may_differ_in_length(folder):
    lines = (folder / "CSCO.csv").read_text().splitlines()
    short_day = [line for line in lines if not line.startswith("20070104") or int(line.split(",")[1]) <= 1200]
    (folder / "CSCO.csv").write_text("\n".join(short_day) + "\n")
    prices = data.load_prices(folder, tickers=["CSCO"])
    returns = data.intraday_log_returns(prices)
    per_day = returns.groupby(returns.index.normalize()).size()
    assert per_day.tolist() == [385, 145, 385]
    assert returns.notna().all().all()
    first_minutes = returns.index[returns.index.time == pd.Timestamp("09:35").time()]
    assert len(first_minutes) == 0  # no overnight return


def test_gaps_are_filled_within_a_day_only():
    index = pd.DatetimeIndex(["2007-01-03 15:59", "2007-01-03 16:00", "2007-01-04 09:35", "2007-01-04 09:36",
                              "2007-01-04 09:37"], name="time")
    prices = pd.DataFrame({"X": [10.0, 11.0, np.nan, 12.0, 12.0]}, index=index)
    returns = data.intraday_log_returns(prices)
    assert returns.loc["2007-01-03 16:00", "X"] == pytest.approx(np.log(11 / 10))
    assert np.isnan(returns.loc["2007-01-04 09:36", "X"])  # no price earlier that day: not carried overnight
    assert returns.loc["2007-01-04 09:37", "X"] == 0


@pytest.mark.parametrize("content, message", [
    ("", "empty"),
    ("20070103,935\n", "expected 3 columns"),
    ("20070103,935,12.00\n20070103,936,abc\n", "line 2: not a number"),
    ("20070103,935,12.00\n20070103,936,0.00\n", "line 2: price 0.0 is not positive"),
    ("20070103,935,12.00\n20070103,936,-1.50\n", "not positive"),
    ("20070103,935,12.00\n20070231,936,12.00\n", "line 2: 20070231,936 is not a valid date"),
    ("20070103,935,12.00\n20070103,975,12.00\n", "not a valid date and time"),
    ("20070103,935,12.00\n20070103,935,12.01\n", "appears twice"),
])
def test_bad_files_give_a_clear_error_naming_the_file(tmp_path, content, message):
    path = _write(tmp_path / "BAD.csv", content)
    with pytest.raises(data.DataError, match=message) as error:
        data.read_price_file(path)
    assert "BAD.csv" in str(error.value)


def test_missing_folder_says_how_to_create_it(tmp_path):
    with pytest.raises(data.DataError, match="make data"):
        data.load_prices(tmp_path / "nowhere")
    with pytest.raises(data.DataError, match="no CSV files"):
        data.load_prices(tmp_path)


def test_unknown_ticker_lists_the_available_ones(folder):
    with pytest.raises(data.DataError, match=r"\['XYZ'\].*\['BA', 'CSCO'\]"):
        data.load_prices(folder, tickers=["XYZ"])


def test_ensure_data_writes_the_default_once(tmp_path):
    target = tmp_path / "data"
    target.mkdir()
    assert data.ensure_data(target) == "12 CSV files in data/: simulated default panel, seed 2007"
    mtime = (target / "AAPL.csv").stat().st_mtime_ns
    data.ensure_data(target)
    assert (target / "AAPL.csv").stat().st_mtime_ns == mtime


# ---- download of the original, against a zip served on loopback ----------------------------

def _zip_like_the_original():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for ticker in data.TICKERS:
            archive.writestr(f"StocksHF/{ticker}.csv", f"20070103,935,{len(ticker)}.00\n")
            archive.writestr(f"__MACOSX/StocksHF/._{ticker}.csv", "mac metadata")
    return buffer.getvalue()


@pytest.fixture
def server():
    payloads = {"/good.zip": _zip_like_the_original()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/truncated.zip":
                body = payloads["/good.zip"]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])  # the connection closes early
                return
            if self.path not in payloads:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(payloads[self.path])))
            self.end_headers()
            self.wfile.write(payloads[self.path])

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", hashlib.sha256(payloads["/good.zip"]).hexdigest()
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_download_extracts_the_twelve_files(server, tmp_path):
    base, checksum = server
    written = data.download_original(tmp_path, url=f"{base}/good.zip", sha256=checksum)
    assert written == sorted(f"{t}.csv" for t in data.TICKERS)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(written + [data.SOURCE_FILE])
    assert data.read_price_file(tmp_path / "GNTX.csv").iloc[0] == 4.0
    assert "original" in data.ensure_data(tmp_path)


def test_wrong_checksum_leaves_nothing_behind(server, tmp_path):
    base, _ = server
    with pytest.raises(data.DataError, match="SHA-256"):
        data.download_original(tmp_path, url=f"{base}/good.zip", sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, message", [("missing.zip", "404"), ("truncated.zip", "")])
def test_broken_download_is_a_clear_error(server, tmp_path, name, message):
    base, checksum = server
    with pytest.raises(data.DataError, match=f"download.*{message}") as error:
        data.download_original(tmp_path, url=f"{base}/{name}", sha256=checksum)
    assert name in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_command_line(tmp_path, capsys):
    assert data.main(["simulate", str(tmp_path / "d")]) == 0
    assert len(list((tmp_path / "d").glob("*.csv"))) == 12
    assert data.main(["bogus"]) == 2


def test_known_variance_panel_has_independent_copies_and_their_truth():
    simulated = data.simulate_known_variance(5, n_days=4, n_copies=2)
    assert list(simulated.prices.columns) == [f"{t}_{k}" for k in range(2) for t in data.TICKERS]
    assert simulated.integrated_variance.columns.equals(simulated.prices.columns)
    assert len(simulated.integrated_variance) == 4
    assert not np.allclose(simulated.prices["GE_0"], simulated.prices["GE_1"])  # copies are independent
    single = data.simulate_panel(6, days=data.trading_days_2007()[:4], u_shape=False, stochastic_volatility=False,
                                 jumps=False, tick_size=None)
    assert np.array_equal(simulated.prices["GE_1"].to_numpy(), single.prices["GE"].to_numpy())  # copy k: seed + k
