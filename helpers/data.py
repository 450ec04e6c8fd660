"""The intraday panel of lesson 06: simulate it, write and read its CSV files, clean it.

The lecture uses one-minute prices of 12 US stocks over 2007 (``StocksHF.zip`` of the public
repository python-for-economists/lecture-notes). That file carries no licence, so the course does
not ship it: by default it *simulates* a panel of exactly the same format and calibrated to
figures measured on the original (``REAL_DATA_PROFILE``), and downloads the original only on
request (:func:`download_original`).

File format, one file per stock named ``TICKER.csv``, no header, three columns::

    20070103,935,12.34      date YYYYMMDD, time HHMM without leading zero, price in dollars

Every trading day has 386 rows, 09:35 to 16:00; on early-close days the price after 13:00 is
carried forward. The loader does not rely on that: days of any length and missing minutes work.

Command line: ``python -m helpers.data simulate [FOLDER]`` or ``python -m helpers.data download
[FOLDER]`` (``make data`` / ``make data-original``).
"""

import hashlib
import http.client
import math
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

TICKERS = ("AAPL", "AXP", "BA", "BAC", "BLK", "C", "CAT", "CSCO", "CVX", "DIS", "GE", "GNTX")
DEFAULT_SEED = 2007
ORIGINAL_URL = ("https://raw.githubusercontent.com/python-for-economists/lecture-notes/"
                "master/supporting/data/StocksHF.zip")
ORIGINAL_SHA256 = "ffc90e89602adffdb890b988a0800458391a87e026cc33114fa2af556b263bab"
SOURCE_FILE = "PANEL_SOURCE.txt"

# Measured on the original files (see data/README.md): price path, mean daily realized variance,
# standard deviation of log daily realized variance, share of one-minute returns that are zero.
REAL_DATA_PROFILE = pd.DataFrame(
    [
        ("AAPL", 12.34, 11.71, 28.99, 28.30, 0.000404, 0.716851, 0.350763, 21),
        ("AXP", 61.90, 50.40, 65.87, 52.03, 0.000270, 0.885353, 0.166441, 14),
        ("BA", 89.25, 84.63, 107.75, 87.42, 0.000145, 0.616798, 0.131629, 29),
        ("BAC", 53.56, 40.63, 54.21, 41.15, 0.000200, 0.973197, 0.217913, 28),
        ("BLK", 153.10, 139.20, 224.39, 215.90, 0.000314, 0.805967, 0.255259, 25),
        ("C", 558.70, 288.10, 562.30, 293.50, 0.000294, 0.939046, 0.156206, 21),
        ("CAT", 61.97, 58.04, 87.00, 72.52, 0.000205, 0.637702, 0.140622, 28),
        ("CSCO", 27.51, 25.09, 34.23, 27.07, 0.000225, 0.581146, 0.272717, 7),
        ("CVX", 72.39, 66.10, 95.46, 93.17, 0.000224, 0.737610, 0.113779, 11),
        ("DIS", 33.81, 30.72, 36.30, 32.24, 0.000148, 0.588574, 0.293444, 20),
        ("GE", 37.61, 33.92, 42.15, 37.00, 0.000131, 0.636242, 0.271692, 12),
        ("GNTX", 7.89, 7.43, 11.30, 8.88, 0.000364, 0.538945, 0.627733, 23),
    ],
    columns=["ticker", "first", "min", "max", "last", "mean_daily_RV", "sd_log_daily_RV",
             "zero_return_share", "returns_over_10sd"],
).set_index("ticker")
REAL_U_SHAPE = {"first 30 min / midday": 4.23, "last 30 min / midday": 1.60}
REAL_RV_AUTOCORRELATION = 0.71

HOLIDAYS_2007 = ["2007-01-01", "2007-01-02", "2007-01-15", "2007-02-19", "2007-04-06", "2007-05-28",
                 "2007-07-04", "2007-09-03", "2007-11-22", "2007-12-25"]
EARLY_CLOSE_DAYS_2007 = ["2007-07-03", "2007-11-23", "2007-12-24"]
MINUTES_PER_DAY = 386  # 09:35 to 16:00
EARLY_CLOSE_LAST_MINUTE = 205  # 13:00 is the 206th row of the day


class DataError(ValueError):
    """Bad or missing input data; the message says what is wrong and how to fix it."""


@dataclass
class SimulatedPanel:
    """A simulated panel: wide prices (as :func:`load_prices` returns) and, per day and stock,
    the integrated variance of the continuous part of the simulated returns (the truth that
    realized variance estimates)."""

    prices: pd.DataFrame
    integrated_variance: pd.DataFrame


# --------------------------------------------------------------------------------------------
# Calendar


def trading_days_2007():
    """The 251 NYSE trading days of 2007."""
    weekdays = pd.bdate_range("2007-01-01", "2007-12-31")
    return weekdays.difference(pd.DatetimeIndex(HOLIDAYS_2007)).rename("date")


def minute_offsets():
    """Offsets of the 386 one-minute marks from midnight, 09:35 to 16:00."""
    return pd.to_timedelta(np.arange(9 * 60 + 35, 16 * 60 + 1), unit="min")


# --------------------------------------------------------------------------------------------
# Simulation


def _intraday_weights(n_returns, u_shape):
    """Relative variance of each one-minute return over the day, averaging 1.

    The two exponentials give the U-shape measured on the original: the first half hour about
    four times as volatile as midday, the last half hour about 1.6 times."""
    if not u_shape:
        return np.ones(n_returns)
    t = np.arange(n_returns)
    weights = 1 + 7.5 * np.exp(-t / 15) + 1.4 * np.exp(-(n_returns - 1 - t) / 15)
    return weights / weights.mean()


def _rounding_zero_share(sd_in_ticks):
    """Share of returns that rounding to the tick turns into exactly zero, for Gaussian moves
    with the given standard deviation in ticks (the expected value of the triangle kernel)."""
    s = sd_in_ticks
    normal_cdf = 0.5 * (1 + math.erf(1 / (s * math.sqrt(2))))
    return 2 * ((normal_cdf - 0.5) - s / math.sqrt(2 * math.pi) * (1 - math.exp(-1 / (2 * s * s))))


def _daily_variances(rng, n_days, mean_rv, sd_log_rv, stochastic):
    """Daily integrated variance: a stationary AR(1) in logs (persistence 0.7) with the
    measured mean, or a constant."""
    if not stochastic:
        return np.full(n_days, mean_rv)
    phi = REAL_RV_AUTOCORRELATION
    sd = sd_log_rv
    x = np.empty(n_days)
    x[0] = rng.normal(0, sd)
    shocks = rng.normal(0, sd * math.sqrt(1 - phi**2), n_days)
    for day in range(1, n_days):
        x[day] = phi * x[day - 1] + shocks[day]
    return mean_rv * np.exp(x - sd**2 / 2)


def _simulate_one_stock(rng, profile, days, early_close, *, u_shape, stochastic_volatility, jumps, tick_size):
    """Prices (days x 386) and daily integrated variance of one stock."""
    n_days, n_returns = len(days), MINUTES_PER_DAY - 1
    variances = _daily_variances(rng, n_days, profile.mean_daily_RV, profile.sd_log_daily_RV,
                                 stochastic_volatility)
    minute_var = np.outer(variances, _intraday_weights(n_returns, u_shape) / n_returns)
    trades = np.ones((n_days, n_returns), dtype=bool)
    trades[early_close, EARLY_CLOSE_LAST_MINUTE:] = False
    integrated = (minute_var * trades).sum(axis=1)

    drift = math.log(profile["last"] / profile["first"]) / (n_days * MINUTES_PER_DAY)
    returns = drift + rng.standard_normal((n_days, n_returns)) * np.sqrt(minute_var)
    if jumps:  # about 14 over the days simulated (a year on the full calendar), each some 15 one-minute sds
        jump_at = rng.random((n_days, n_returns)) < 14 / (n_days * n_returns)
        jump_size = rng.choice([-1, 1], size=jump_at.sum()) * 15 * math.sqrt(profile.mean_daily_RV / n_returns)
        returns[jump_at] += jump_size
    overnight = rng.normal(0, np.sqrt(0.2 * variances))
    returns[~trades] = 0.0
    log_moves = np.concatenate([overnight[:, None], returns], axis=1).ravel()
    efficient = profile["first"] * np.exp(np.cumsum(log_moves)).reshape(n_days, MINUTES_PER_DAY)

    if tick_size is None:
        return efficient, integrated
    # Real prices move in cents and many minutes see no trade: rounding plus stale quotes give
    # the measured share of zero returns.
    sd_ticks = profile["first"] * math.sqrt(profile.mean_daily_RV / n_returns) / tick_size
    stale_share = max(0.0, (profile.zero_return_share - _rounding_zero_share(sd_ticks))
                      / (1 - _rounding_zero_share(sd_ticks)))
    updates = rng.random((n_days, MINUTES_PER_DAY)) >= stale_share
    updates[:, 0] = True
    last_update = np.maximum.accumulate(np.where(updates, np.arange(MINUTES_PER_DAY), 0), axis=1)
    observed = np.take_along_axis(efficient, last_update, axis=1)
    observed[early_close, EARLY_CLOSE_LAST_MINUTE + 1:] = observed[early_close, EARLY_CLOSE_LAST_MINUTE][:, None]
    return np.maximum(np.round(observed / tick_size) * tick_size, tick_size), integrated


def simulate_panel(seed=DEFAULT_SEED, *, tickers=TICKERS, u_shape=True, stochastic_volatility=True,
                   jumps=True, tick_size=0.01, days=None):
    """Simulate one-minute prices of ``tickers`` over the 2007 NYSE calendar (or ``days``).

    Each stock follows a random walk in log prices whose daily variance moves persistently from
    day to day, with a U-shaped pattern within the day, rare jumps, and prices rounded to cents
    with stale minutes (``tick_size=None`` leaves out both: the same efficient prices, as they
    are before rounding). The defaults are calibrated to the original panel; with
    ``u_shape=False, stochastic_volatility=False, jumps=False, tick_size=None`` returns are
    Gaussian with constant variance, which is what a statistical test of the bootstrap needs.
    Each stock draws from its own stream of ``SeedSequence(seed)``: same seed, same panel.
    """
    unknown = [t for t in tickers if t not in REAL_DATA_PROFILE.index]
    if unknown:
        raise DataError(f"No calibration for tickers {unknown}; choose from {list(TICKERS)}.")
    days = trading_days_2007() if days is None else pd.DatetimeIndex(days).rename("date")
    early_close = days.isin(pd.DatetimeIndex(EARLY_CLOSE_DAYS_2007))
    streams = np.random.SeedSequence(seed).spawn(len(TICKERS))
    index = pd.DatetimeIndex((days.values[:, None] + minute_offsets().values[None, :]).ravel(), name="time")
    prices, integrated = {}, {}
    for ticker in tickers:
        rng = np.random.default_rng(streams[TICKERS.index(ticker)])
        path, iv = _simulate_one_stock(rng, REAL_DATA_PROFILE.loc[ticker], days, early_close, u_shape=u_shape,
                                       stochastic_volatility=stochastic_volatility, jumps=jumps, tick_size=tick_size)
        prices[ticker], integrated[ticker] = path.ravel(), iv
    prices = pd.DataFrame(prices, index=index).rename_axis(columns="ticker")
    integrated = pd.DataFrame(integrated, index=days).rename_axis(columns="ticker")
    return SimulatedPanel(prices, integrated)


def simulate_known_variance(seed=DEFAULT_SEED, *, n_days=60, n_copies=1):
    """A panel on which the bootstrap's assumptions hold, for checking interval coverage.

    Gaussian one-minute returns with a constant variance (no U-shape, no changing volatility,
    no jumps, no rounding), so each day's true variance is known exactly. ``n_copies``
    independent panels of the 12 stocks sit side by side (columns ``AAPL_0``, ..., ``GNTX_1``,
    ...): extra columns are the cheapest way to get many (day, stock) cells, because the
    bootstrap draws whole rows. Copy ``k`` is simulated from seed ``seed + k``."""
    days = trading_days_2007()[:n_days]
    copies = [simulate_panel(seed + k, days=days, u_shape=False, stochastic_volatility=False, jumps=False,
                             tick_size=None) for k in range(n_copies)]
    prices = pd.concat([c.prices.add_suffix(f"_{k}") for k, c in enumerate(copies)], axis=1)
    integrated = pd.concat([c.integrated_variance.add_suffix(f"_{k}") for k, c in enumerate(copies)], axis=1)
    return SimulatedPanel(prices.rename_axis(columns="ticker"), integrated.rename_axis(columns="ticker"))


# --------------------------------------------------------------------------------------------
# Writing files


def write_panel(prices, folder):
    """Write wide ``prices`` as one CSV file per stock, in the original format."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamps = prices.index
    dates = stamps.year * 10_000 + stamps.month * 100 + stamps.day
    times = stamps.hour * 100 + stamps.minute
    for ticker in prices.columns:
        column = prices[ticker].dropna()
        keep = prices[ticker].notna().to_numpy()
        table = pd.DataFrame({"date": dates[keep], "time": times[keep], "price": column.to_numpy()})
        table.to_csv(folder / f"{ticker}.csv", header=False, index=False, float_format="%.2f",
                     lineterminator="\n")


def simulate_default_data(folder, seed=DEFAULT_SEED):
    """Write the simulated default panel into ``folder`` and record where it came from."""
    write_panel(simulate_panel(seed).prices, folder)
    (Path(folder) / SOURCE_FILE).write_text(f"simulated default panel, seed {seed}\n")


def ensure_data(folder="../data"):
    """Make sure ``folder`` holds a panel (writing the simulated default if it has no CSV file)
    and say which data is in use."""
    folder = Path(folder)
    if not list(folder.glob("*.csv")):
        simulate_default_data(folder)
    n_files = len(list(folder.glob("*.csv")))
    source = folder / SOURCE_FILE
    origin = source.read_text().strip() if source.exists() else "your own files"
    return f"{n_files} CSV files in {folder.name}/: {origin}"


# --------------------------------------------------------------------------------------------
# Reading and cleaning


def _first_bad_line(mask):
    """1-based line number of the first True in ``mask``."""
    return int(np.flatnonzero(mask)[0]) + 1


def read_price_file(path):
    """Read one stock's file into a Series of prices indexed by minute, named by the ticker.

    The ticker is the file name without its suffix (``Path.stem``). The lecture's
    ``name.strip(".csv")`` removes any of the characters ``.``, ``c``, ``s``, ``v`` from both
    ends instead: case-sensitive, so ``"C.csv"`` keeps its C, but ``"cvs.csv"`` becomes ``""``
    and ``"csco.csv"`` becomes ``"o"``. Timestamps are built from the date and time integers as
    components, which pandas 3 accepts without a deprecation warning.
    """
    path = Path(path)
    fix = "Each line must read date,time,price as in 20070103,935,12.34 (see data/README.md)."
    try:
        raw = pd.read_csv(path, header=None, dtype=str, skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path.name}: the file is empty. {fix}") from None
    except pd.errors.ParserError as error:
        raise DataError(f"{path.name}: cannot be parsed as CSV ({error}). {fix}") from None
    if raw.shape[1] != 3:
        raise DataError(f"{path.name}: expected 3 columns (date, time, price), found {raw.shape[1]}. {fix}")
    numbers = raw.apply(pd.to_numeric, errors="coerce")
    if numbers.isna().any(axis=None):
        line = _first_bad_line(numbers.isna().any(axis=1).to_numpy())
        raise DataError(f"{path.name}, line {line}: not a number in {raw.iloc[line - 1].tolist()}. {fix}")
    date, time, price = (numbers[i] for i in range(3))
    if (price <= 0).any():
        line = _first_bad_line((price <= 0).to_numpy())
        raise DataError(f"{path.name}, line {line}: price {price.iloc[line - 1]} is not positive; "
                        "prices must be above zero (log returns need them). Fix or remove that line.")
    parts = pd.DataFrame({"year": date // 10_000, "month": date // 100 % 100, "day": date % 100,
                          "hour": time // 100, "minute": time % 100})
    bad = (parts.hour > 23) | (parts.minute > 59) | (date != date.round()) | (time != time.round())
    stamps = pd.to_datetime(parts.astype("int64"), errors="coerce")
    if bad.any() or stamps.isna().any():
        line = _first_bad_line((bad | stamps.isna()).to_numpy())
        raise DataError(f"{path.name}, line {line}: {raw.iloc[line - 1, 0]},{raw.iloc[line - 1, 1]} "
                        f"is not a valid date and time. {fix}")
    if stamps.duplicated().any():
        line = _first_bad_line(stamps.duplicated().to_numpy())
        raise DataError(f"{path.name}, line {line}: the minute {stamps.iloc[line - 1]} appears twice. "
                        "Keep one line per minute.")
    return pd.Series(price.to_numpy(), index=pd.DatetimeIndex(stamps, name="time"), name=path.stem).sort_index()


def list_price_files(folder):
    """The CSV files in ``folder``, sorted by name, with a clear error if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"There is no data folder at '{folder}'. Create the simulated default panel with "
                        "`make data` (or `python -m helpers.data simulate data`), or fetch the original with "
                        "`make data-original`.")
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise DataError(f"The data folder '{folder}' holds no CSV files. Run `make data` to write the "
                        "simulated default panel there, or copy your own TICKER.csv files in.")
    return files


def load_prices(folder="../data", tickers=None):
    """Read every stock's file (or only ``tickers``) into one wide DataFrame, aligned on time.

    Stocks are joined on their timestamps, not by row position: a minute missing from one file
    becomes a NaN in that stock's column and shifts nothing else. :func:`describe_gaps` counts
    such holes; :func:`intraday_log_returns` says how they are treated.
    """
    files = {path.stem: path for path in list_price_files(folder)}
    if tickers is not None:
        missing = [t for t in tickers if t not in files]
        if missing:
            raise DataError(f"No file for {missing} in '{Path(folder)}'; available: {sorted(files)}.")
        files = {t: files[t] for t in tickers}
    prices = pd.concat([read_price_file(path) for path in files.values()], axis=1, join="outer", sort=True)
    return prices.sort_index().rename_axis(index="time", columns="ticker")


def describe_gaps(prices):
    """Number of minutes, per stock, at which another stock has a price and this one has none."""
    return prices.isna().sum().rename("missing_minutes")


def intraday_log_returns(prices):
    """One-minute log returns within each day, without the overnight return.

    Gaps are filled with the previous price of the same day (previous-tick sampling: no trade
    means the price did not move), never across days. The first return of each day would span
    the night; it is NaN after the within-day difference and dropped. Days may have any number
    of rows.
    """
    days = prices.index.normalize()
    log_prices = np.log(prices.groupby(days).ffill())
    returns = log_prices.groupby(days).diff()
    return returns[days.duplicated()]


# --------------------------------------------------------------------------------------------
# The original data, on request


def _download(url, target):
    """Copy ``url`` into the file ``target``; return its SHA-256."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as out:
        expected = response.headers.get("Content-Length")
        received = 0
        while chunk := response.read(1 << 16):
            digest.update(chunk)
            out.write(chunk)
            received += len(chunk)
    if expected is not None and received != int(expected):
        raise DataError(f"The download of {url} stopped after {received} of {expected} bytes. Try again.")
    return digest.hexdigest()


def _extract_csv_files(archive, folder):
    """Extract the stock files (no folders, no macOS metadata) flat into ``folder``."""
    written = []
    with zipfile.ZipFile(archive) as zipped:
        for name in zipped.namelist():
            member = PurePosixPath(name)
            if "__MACOSX" in member.parts or member.suffix != ".csv" or member.name.startswith("."):
                continue
            (folder / member.name).write_bytes(zipped.read(name))
            written.append(member.name)
    return sorted(written)


def download_original(folder, url=ORIGINAL_URL, sha256=ORIGINAL_SHA256):
    """Download the lecture's original zip, check its SHA-256, and extract its 12 CSV files.

    Nothing is left behind when the download breaks or the checksum differs. Returns the names
    of the extracted files.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        archive = Path(scratch) / "StocksHF.zip"
        try:
            digest = _download(url, archive)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            raise DataError(f"Could not download {url}: {error}. Check the connection and try again.") from None
        if digest != sha256:
            raise DataError(f"The file from {url} has SHA-256 {digest}, not the expected {sha256}; it was "
                            "not used. It may have changed upstream or been corrupted on the way.")
        try:
            written = _extract_csv_files(archive, folder)
        except zipfile.BadZipFile:
            raise DataError(f"The file from {url} is not a valid zip archive.") from None
    (folder / SOURCE_FILE).write_text("the lecture's original panel (StocksHF.zip, checksum verified)\n")
    return written


def main(argv=None):
    """``python -m helpers.data simulate|download [FOLDER]``."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("simulate", "download") or len(args) > 2:
        print("usage: python -m helpers.data simulate|download [FOLDER]", file=sys.stderr)
        return 2
    folder = Path(args[1] if len(args) == 2 else "data")
    try:
        if args[0] == "simulate":
            simulate_default_data(folder)
            print(f"Wrote the simulated panel ({len(TICKERS)} files) into {folder}/")
        else:
            written = download_original(folder)
            print(f"Downloaded the original panel into {folder}/: {', '.join(written)}")
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
