"""How close is a panel to the lecture's original? The figures of ``data.REAL_DATA_PROFILE``,
measured on any panel, so that lesson 06 can show the simulated default next to the real one."""

import numpy as np
import pandas as pd

from helpers.data import REAL_DATA_PROFILE, REAL_RV_AUTOCORRELATION, REAL_U_SHAPE, intraday_log_returns
from helpers.panel import compute_rv


def profile_panel(prices):
    """Per stock: price path, mean and spread of daily realized variance, share of zero
    one-minute returns, and the number of returns beyond 10 standard deviations."""
    returns = intraday_log_returns(prices)
    rv = compute_rv(returns)
    return pd.DataFrame({
        "first": prices.bfill().iloc[0],
        "min": prices.min(),
        "max": prices.max(),
        "last": prices.ffill().iloc[-1],
        "mean_daily_RV": rv.mean(),
        "sd_log_daily_RV": np.log(rv).std(),
        "zero_return_share": (returns == 0).sum() / returns.notna().sum(),
        "returns_over_10sd": (returns.abs() > 10 * returns.std()).sum(),
    }).rename_axis("ticker")


def u_shape_ratios(prices):
    """Mean squared one-minute return in the first and last 30 minutes, relative to midday
    (12:00-14:00), averaged over stocks."""
    squared = intraday_log_returns(prices) ** 2
    minute_of_day = squared.index.hour * 60 + squared.index.minute
    by_minute = squared.groupby(minute_of_day).mean().mean(axis=1)
    midday = by_minute.loc[12 * 60:14 * 60].mean()
    return {"first 30 min / midday": by_minute.loc[:10 * 60 + 5].mean() / midday,
            "last 30 min / midday": by_minute.loc[15 * 60 + 31:].mean() / midday}


def rv_autocorrelation(prices):
    """Lag-1 autocorrelation of log daily realized variance, averaged over stocks."""
    log_rv = np.log(compute_rv(intraday_log_returns(prices)))
    return float(np.mean([log_rv[ticker].autocorr(1) for ticker in log_rv.columns]))


def compare_with_real(prices):
    """Simulated (or any) panel next to the original: one row per figure, averaged over the
    stocks both have, plus the intraday U-shape and volatility persistence."""
    measured = profile_panel(prices)
    common = measured.index.intersection(REAL_DATA_PROFILE.index)
    rows = {name: (measured.loc[common, name].mean(), REAL_DATA_PROFILE.loc[common, name].mean())
            for name in ["mean_daily_RV", "sd_log_daily_RV", "zero_return_share", "returns_over_10sd"]}
    shape = u_shape_ratios(prices)
    rows.update({name: (shape[name], REAL_U_SHAPE[name]) for name in REAL_U_SHAPE})
    rows["autocorrelation of log RV"] = (rv_autocorrelation(prices), REAL_RV_AUTOCORRELATION)
    return pd.DataFrame(rows, index=["this panel", "original 2007 panel"]).T.rename_axis("average over stocks")
