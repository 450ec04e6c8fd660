"""Lesson 12, exercise 12.1: a daily report on the intraday panel that is slower than it should be.

:func:`daily_report` builds one table from a few steps, each a function of its own. One of them
takes far more time than all the others together; the exercise is to find which from a profile,
without guessing from the code.
"""

import pandas as pd

from helpers.panel import compute_rv, day_labels


def zero_share(returns, days):
    """Per day and stock, the share of minutes in which the price did not move."""
    return (returns == 0).groupby(days).mean()


def largest_move(returns, days):
    """Per day and stock, the largest one-minute move, up or down."""
    return returns.abs().groupby(days).max()


def longest_calm_spell(returns, days):
    """Per day and stock, the longest run of consecutive minutes in which the price did not move."""
    longest = pd.DataFrame(0, index=days.unique(), columns=returns.columns)
    for day, minutes in returns.groupby(days):
        for ticker in minutes.columns:
            run = best = 0
            for i in range(len(minutes)):
                run = run + 1 if minutes[ticker].iloc[i] == 0 else 0
                best = max(best, run)
            longest.loc[day, ticker] = best
    return longest


def opening_move(returns, days):
    """Per day and stock, the first return of the day (from the first to the second minute)."""
    return returns.groupby(days).first()


def daily_report(returns):
    """One row per day, and for each stock: its realized variance, the share of minutes without a
    move, the largest move, the longest calm spell and the opening move."""
    days = day_labels(returns)
    return pd.concat({"realized variance": compute_rv(returns),
                      "zero share": zero_share(returns, days),
                      "largest move": largest_move(returns, days),
                      "longest calm spell": longest_calm_spell(returns, days),
                      "opening move": opening_move(returns, days)}, axis=1)


STEPS = (compute_rv, zero_share, largest_move, longest_calm_spell, opening_move)  # what daily_report calls
