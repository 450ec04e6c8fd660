"""Lesson 06: realized variance of the intraday panel and its bootstrap confidence intervals.

Layout conventions (shared with :mod:`helpers.data` and lesson 07's :mod:`helpers.compiled`):
returns are a wide DataFrame indexed by minute (``time``), one column per ticker; daily
statistics are indexed by ``date``; intervals have a column MultiIndex ``(ticker, bound)`` with
``bound`` in ``("lower", "upper")``.

Reproducibility: bootstrap sample ``i`` draws from its own stream,
``SeedSequence(seed).spawn(n_samples)[i]``. Which process computes it, in which batch and in which
order, therefore changes nothing: serial, pooled and distributed runs give identical intervals.
"""

import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
import pandas as pd
from tqdm.auto import tqdm as auto_tqdm

from helpers.timing import seconds


class tqdm(auto_tqdm):  # lower case: the name the bootstrap's code below draws its bar with
    """``tqdm.auto``'s progress bar (a widget in Jupyter, text in a terminal) whose saved text
    shows how it ended.

    A widget saved in a notebook keeps a text version of itself for readers without widgets,
    written when the bar first appears: at 0%. In Jupyter this bar is therefore shown through a
    display handle, and shown again when it closes, so that the saved text is the finished bar."""

    def __init__(self, *args, **kwargs):
        widgets = sys.modules.get("tqdm.notebook")  # imported by tqdm.auto only in Jupyter
        self._handle = None
        drawn_as_widget = (widgets is not None and isinstance(self, widgets.tqdm_notebook)
                           and not kwargs.get("disable", False))
        if not drawn_as_widget:
            super().__init__(*args, **kwargs)
            return
        from IPython.display import display

        super().__init__(*args, **kwargs, display=False)
        self._handle = display(self.container, display_id=True)

    def close(self):
        super().close()
        if self._handle is not None:
            self._handle.update(self.container)
            self._handle = None


DEFAULT_SEED = 12345
LEVELS = (0.005, 0.995)  # a 99% interval
BATCHES_PER_WORKER = 4  # enough that a worker finishing early finds more work, few enough to send the data rarely


def day_labels(returns):
    """The calendar day of every row."""
    return returns.index.normalize().rename("date")


def compute_rv(returns):
    """Realized variance: the sum of squared intraday returns per day and stock.

    Missing returns count as nothing; a stock with no return at all on a day gets NaN."""
    return (returns**2).groupby(day_labels(returns)).sum(min_count=1)


def realized_quarticity(returns):
    """Realized quarticity per day and stock: ``n / 3`` times the sum of fourth powers of the
    ``n`` returns of the day. It estimates the integrated quarticity, which sets how precise
    realized variance is (a second daily statistic to bootstrap, in lesson 06's exercise)."""
    fourth_powers = (returns**4).groupby(day_labels(returns))
    return fourth_powers.count() / 3 * fourth_powers.sum(min_count=1)


def bootstrap_returns(returns, rng):
    """One bootstrap sample: each day's rows drawn with replacement from that day only.

    Whole rows are drawn, so the stocks keep their joint behaviour within a minute, and every
    day keeps its own number of rows."""
    return returns.groupby(day_labels(returns), group_keys=False).sample(frac=1, replace=True, random_state=rng)


# --------------------------------------------------------------------------------------------
# The lecture's own versions, for comparison (lesson 06 times them against the ones above)


def compute_rv_lecture(returns):
    """The lecture's realized variance: ``groupby(...).apply`` calls a Python function once per
    day. Same numbers as :func:`compute_rv` up to rounding in the last digit (the sums are
    added up in a different order), indexed by ``datetime.date`` objects; a day without any
    return gives 0 rather than NaN."""
    return returns.groupby(returns.index.date).apply(lambda day: (day**2).sum())


def bootstrap_returns_lecture(returns, rng):
    """The lecture's bootstrap sample: ``groupby(...).apply`` runs ``DataFrame.sample`` once per
    day. ``group_keys=False`` keeps the original time index (without it the result has a
    (date, time) MultiIndex, which the lecture removed with ``droplevel(0)``). Given the same
    generator it draws exactly the rows :func:`bootstrap_returns` draws."""
    groups = returns.groupby(returns.index.date, group_keys=False)
    return groups.apply(lambda day: day.sample(n=len(day), replace=True, random_state=rng))


def samples_to_statistics_lecture(returns, seeds):
    """Realized variances of one bootstrap sample per seed, the lecture's way (samples x days x
    stocks), from the same streams as :func:`samples_to_statistics`."""
    return np.stack([compute_rv_lecture(bootstrap_returns_lecture(returns, np.random.default_rng(seed))).to_numpy()
                     for seed in seeds])


# --------------------------------------------------------------------------------------------
# Bootstrap statistics and intervals


def sample_to_statistic(returns, seed, statistic=compute_rv):
    """``statistic`` (days x stocks array) of the bootstrap sample drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    return statistic(bootstrap_returns(returns, rng)).to_numpy()


def samples_to_statistics(returns, seeds, statistic=compute_rv):
    """``statistic`` of one bootstrap sample per seed, stacked (samples x days x stocks).

    This is the job a pool runs: one batch of samples per task keeps the number of round trips,
    each of which pickles ``returns``, small. ``statistic`` is any function of the returns that
    gives a days x stocks DataFrame (:func:`compute_rv`, :func:`realized_quarticity`, ...); a pool
    must be able to import it, so it lives in a module, not in a notebook."""
    return np.stack([sample_to_statistic(returns, seed, statistic) for seed in seeds])


def get_ci(stats, like):
    """99% percentile intervals from bootstrap statistics.

    ``stats`` is an array (samples x days x stocks); ``like`` is the statistic of the original
    data (days x stocks), which supplies the index and the tickers. Returns a DataFrame indexed
    by date with columns ``(ticker, "lower" | "upper")``.
    """
    stats = np.asarray(stats)
    if stats.ndim != 3 or stats.shape[1:] != like.shape:
        raise ValueError(f"stats must have shape (samples, {like.shape[0]}, {like.shape[1]}), got {stats.shape}")
    lower, upper = np.quantile(stats, LEVELS, axis=0)
    columns = pd.MultiIndex.from_product([like.columns, ["lower", "upper"]], names=["ticker", "bound"])
    values = np.stack([lower, upper], axis=-1).reshape(len(like), -1)
    return pd.DataFrame(values, index=like.index, columns=columns)


def _bounds(ci, truth):
    """The lower and upper bounds of ``ci`` (days x stocks each), checked against ``truth``."""
    lower = ci.xs("lower", axis=1, level="bound")
    upper = ci.xs("upper", axis=1, level="bound")
    if not (lower.index.equals(truth.index) and lower.columns.equals(truth.columns)):
        raise ValueError("truth must have the intervals' days as index and their tickers as columns")
    return lower, upper


def coverage(ci, truth):
    """Share of the (day, stock) cells whose interval contains the true value.

    ``ci`` is what :func:`get_ci` returns, ``truth`` a days x stocks DataFrame with the same
    index and tickers (a simulation's ``integrated_variance``). A 99% interval should cover
    the truth in about 99% of the cells, less with few samples
    (:func:`coverage_from_samples_alone`)."""
    lower, upper = _bounds(ci, truth)
    return float(((lower <= truth) & (truth <= upper)).to_numpy().mean())


def misses_by_stock(ci, truth):
    """Per stock: the share of days whose interval holds the truth, and the number of days it
    misses with the truth below the interval (the statistic came out too high) or above it."""
    lower, upper = _bounds(ci, truth)
    return pd.DataFrame({"coverage": ((lower <= truth) & (truth <= upper)).mean(),
                         "truth below": (truth < lower).sum(), "truth above": (truth > upper).sum()})


def coverage_from_samples_alone(n_samples, levels=LEVELS):
    """The coverage a percentile interval from ``n_samples`` bootstrap samples can reach even if
    the bootstrap distribution were exactly right, so that the truth is like one more draw.

    Among ``n + 1`` such draws the truth is equally likely to hold any rank. ``np.quantile``'s
    default (linear) method puts the lower bound at position ``levels[0] * (n - 1)`` among the
    ordered samples, so the truth falls below it with probability
    ``(1 + levels[0] * (n - 1)) / (n + 1)``, and likewise above the upper bound. Exact for
    uniformly distributed draws, within a few tenths of a point for smooth ones: 95.1% from 50
    samples, 98.0% from 200, 98.8% from 1000 for a 99% interval."""
    below = (1 + levels[0] * (n_samples - 1)) / (n_samples + 1)
    above = (1 + (1 - levels[1]) * (n_samples - 1)) / (n_samples + 1)
    return 1 - below - above


def coverage_of_panels(panels, sample_counts, *, seed=DEFAULT_SEED, max_workers=1):
    """Coverage of the 99% intervals from the first ``n`` bootstrap samples, for each ``n`` in
    ``sample_counts`` (rows) and each panel (columns), next to what ``n`` samples allow at best
    (:func:`coverage_from_samples_alone`); and each panel's intervals from all the samples.

    ``panels`` maps a name to ``(returns, truth)``: returns over the same minutes, and their true
    daily variances (a simulation's ``integrated_variance``). The panels are bootstrapped side
    by side in one run, since whole rows are drawn and extra columns cost little; the first ``n``
    samples of that run are themselves a bootstrap of ``n`` samples (each has its own stream).
    Returns ``(table, intervals)``, ``intervals`` mapping each name to its :func:`get_ci` frame."""
    parts = list(panels.values())
    if any(not returns.index.equals(parts[0][0].index) for returns, _ in parts):
        raise ValueError("the panels must have the same minutes (index) to be bootstrapped side by side")
    side_by_side = pd.concat([returns for returns, _ in parts], axis=1, keys=range(len(parts)))
    stats = bootstrap_statistics(side_by_side, max(sample_counts), seed=seed, max_workers=max_workers)
    table = pd.DataFrame(index=pd.Index(sample_counts, name="samples"))
    table["samples alone"] = [coverage_from_samples_alone(n) for n in sample_counts]
    intervals, start = {}, 0
    for name, (returns, truth) in panels.items():
        block = stats[:, :, start:start + returns.shape[1]]
        start += returns.shape[1]
        like = compute_rv(returns)
        table[name] = [coverage(get_ci(block[:n], like), truth) for n in sample_counts]
        intervals[name] = get_ci(block, like)
    return table, intervals


def coverage_by_samples(returns, truth, sample_counts, *, seed=DEFAULT_SEED, max_workers=1):
    """Coverage of the 99% intervals built from the first ``n`` bootstrap samples, for each ``n``
    in ``sample_counts`` (a Series indexed by ``n``): :func:`coverage_of_panels` for one panel."""
    table, _ = coverage_of_panels({"coverage": (returns, truth)}, sample_counts, seed=seed,
                                  max_workers=max_workers)
    return table["coverage"]


# --------------------------------------------------------------------------------------------
# Where the work runs


def usable_cpu_count():
    """Cores this process may run on: what ``ProcessPoolExecutor(max_workers=None)`` uses on
    Python 3.13+. A CPU affinity mask (``taskset``, some containers and batch systems) can allow
    fewer cores than the machine has; ``os.cpu_count()`` counts them all."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):  # Linux
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def executor_worker_count(executor):
    """How many tasks ``executor`` runs at once.

    A ``ProcessPoolExecutor`` or ``ThreadPoolExecutor`` keeps its size in ``_max_workers``; a
    Dask ``client.get_executor()`` runs as many tasks as its cluster has threads. For any other
    executor, the cores of this machine are a guess; pass ``batch_size`` to decide yourself. A
    Dask cluster without any worker yet is refused: the work could not be split among none.
    (``mpi4py``'s ``MPIPoolExecutor`` also answers ``_max_workers``: its number of MPI workers.)"""
    client = getattr(executor, "_client", None)
    if client is not None and hasattr(client, "nthreads"):
        threads = sum(client.nthreads().values())
        if threads == 0:
            raise ValueError("the Dask cluster has no workers yet (a batch system may still be starting "
                             "them): call client.wait_for_workers(n) before handing its executor over")
        return threads
    return getattr(executor, "_max_workers", None) or usable_cpu_count()


def _batches(seeds, batch_size):
    """Consecutive (start, seeds) batches of at most ``batch_size`` seeds."""
    return [(start, seeds[start:start + batch_size]) for start in range(0, len(seeds), batch_size)]


def default_batch_size(n_samples, workers):
    """Samples per task that give every worker about :data:`BATCHES_PER_WORKER` tasks."""
    return max(1, -(-n_samples // (BATCHES_PER_WORKER * workers)))


class LooksLikePrices(UserWarning):
    """Values handed over as intraday returns that look like prices."""


WHAT_RETURNS_ARE = ("the DataFrame of intraday log returns that intraday_log_returns(prices) gives: one row per "
                    "minute (a DatetimeIndex), one column per stock")


def check_returns(returns):
    """Refuse, with what to pass instead, anything that is not a panel of intraday returns; warn
    (:class:`LooksLikePrices`) when the values look like prices: every one positive, their median
    far above what a minute's return can be. The pandas and the compiled bootstrap (lesson 07)
    both start here, so both say the same about the same mistake."""
    if isinstance(returns, pd.Series):
        raise TypeError(f"returns is a Series (one stock); pass a DataFrame, e.g. returns.to_frame(): "
                        f"{WHAT_RETURNS_ARE}")
    if not isinstance(returns, pd.DataFrame):
        raise TypeError(f"returns must be {WHAT_RETURNS_ARE}; got {type(returns).__name__}. Load the panel with "
                        f"helpers.data.load_prices and pass intraday_log_returns(prices)")
    if returns.empty:
        raise ValueError("returns is empty: load a panel and compute intraday_log_returns first")
    if not isinstance(returns.index, pd.DatetimeIndex):
        raise TypeError(f"returns must be indexed by the minute (a DatetimeIndex), so that its rows fall into "
                        f"days; got a {type(returns.index).__name__}. Was the time column read as data? "
                        f"Pass {WHAT_RETURNS_ARE}")
    not_numbers = [str(column) for column, kind in returns.dtypes.items() if not pd.api.types.is_numeric_dtype(kind)]
    if not_numbers:
        raise TypeError(f"returns must hold numbers, but column(s) {', '.join(not_numbers)} do not: pass "
                        f"{WHAT_RETURNS_ARE}")
    values = returns.to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    if values.size and values.min() > 0 and np.median(values) > 0.5:
        warnings.warn(f"every value of returns is positive and their median is {np.median(values):.3g}: these look "
                      f"like prices, not returns (a minute's log return is a few thousandths, of either sign). "
                      f"Pass intraday_log_returns(prices) instead", LooksLikePrices, stacklevel=_outside_helpers())


def _outside_helpers():
    """The ``stacklevel`` at which a warning points at the first caller outside this package
    (the student's cell), however deep in the helpers the check was made."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def check_samples(n_samples):
    """Refuse a number of bootstrap samples that is not a positive whole number."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive whole number of bootstrap samples (1000 for the lessons' "
                         f"99% intervals), got {n_samples!r}")


def _check_arguments(returns, n_samples):
    check_returns(returns)
    check_samples(n_samples)


def _check_workers(max_workers, executor):
    if max_workers is not None and (not isinstance(max_workers, (int, np.integer)) or max_workers < 1):
        raise ValueError(f"max_workers must be a positive whole number or None (all usable cores), "
                         f"got {max_workers!r}")
    if executor is not None and max_workers != 1:
        raise ValueError("pass either executor or max_workers, not both: an executor's own size "
                         "decides how the work is split")


def _check_importable(statistic):
    """A process pool finds a function by its module and name: refuse one it cannot find."""
    name = getattr(statistic, "__qualname__", "")
    if getattr(statistic, "__module__", None) == "__main__" or "<lambda>" in name or "<locals>" in name:
        raise ValueError(f"statistic {name or statistic!r} is defined in the notebook or inside a function, "
                         "where pool workers cannot import it (under spawn and forkserver); define it in a "
                         "module such as helpers/ and import it")


def run_batches(executor, task, seeds, shape, batch_size, progress=False, **task_options):
    """Run ``task(seeds=batch, **task_options)`` on ``executor`` for consecutive batches of
    ``seeds``; store each batch's result (samples x ``shape``) at its samples' index, whatever
    order the batches finish in, and return the whole array.

    Lesson 06 sends the returns with every batch (``task_options``); lesson 11's pool
    initializer installs them in the workers first, so only the seeds travel."""
    stats = np.empty((len(seeds), *shape))
    futures = {executor.submit(task, seeds=batch, **task_options): start for start, batch in _batches(seeds, batch_size)}
    with tqdm(total=len(seeds), disable=not progress, desc="bootstrap samples") as bar:
        for future in as_completed(futures):
            batch = future.result()
            stats[futures[future]:futures[future] + len(batch)] = batch
            bar.update(len(batch))
    return stats


def bootstrap_statistics(returns, n_samples, *, seed=DEFAULT_SEED, max_workers=1, executor=None,
                         batch_size=None, progress=False, statistic=compute_rv):
    """``statistic`` (default: realized variance) of ``n_samples`` bootstrap samples, as an
    array (samples x days x stocks).

    Where the work runs:
    - ``executor`` given (any ``concurrent.futures.Executor``: a process pool, Dask's
      ``client.get_executor()``, ...): there; it is left open for the caller.
    - else ``max_workers`` workers in a new ``ProcessPoolExecutor``, closed at the end;
      ``None`` means every core this process may use (:func:`usable_cpu_count`).
    - ``max_workers=1`` (the default): in this process, one sample after another.
    Samples travel in batches of ``batch_size``; the default gives every worker of the pool or
    executor (:func:`executor_worker_count`) about four batches, so all of them have work. Each
    result is stored at its sample's index, so completion order does not matter.
    """
    _check_arguments(returns, n_samples)
    _check_workers(max_workers, executor)
    seeds = np.random.SeedSequence(seed).spawn(n_samples)
    workers = executor_worker_count(executor) if executor is not None else max_workers or usable_cpu_count()
    if executor is None and workers == 1:
        return samples_to_statistics(returns, tqdm(seeds, disable=not progress), statistic)
    batch_size = batch_size or default_batch_size(n_samples, workers)
    shape = statistic(returns).shape
    if executor is not None:
        if isinstance(executor, ProcessPoolExecutor):
            _check_importable(statistic)
        return run_batches(executor, samples_to_statistics, seeds, shape, batch_size, progress,
                           returns=returns, statistic=statistic)
    _check_importable(statistic)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return run_batches(pool, samples_to_statistics, seeds, shape, batch_size, progress,
                           returns=returns, statistic=statistic)


def compute_ci(returns, n_samples, *, seed=DEFAULT_SEED, max_workers=1, executor=None, batch_size=None,
               progress=False, statistic=compute_rv):
    """99% bootstrap intervals of a daily statistic per stock (default: realized variance); see
    :func:`bootstrap_statistics` for where the work runs. Same seed, same intervals."""
    stats = bootstrap_statistics(returns, n_samples, seed=seed, max_workers=max_workers, executor=executor,
                                 batch_size=batch_size, progress=progress, statistic=statistic)
    return get_ci(stats, like=statistic(returns))


def compute_ci_chunked(returns, n_samples, **options):
    """:func:`compute_ci` one stock at a time: the same intervals with a fraction of the memory.

    All bootstrap statistics must be held until their quantiles are taken: samples x days x
    stocks numbers. One stock at a time needs only samples x days at once, however many stocks
    the panel has. The intervals are identical to :func:`compute_ci`'s, because a sample's draws
    depend only on its seed and on the days' lengths, not on the columns.
    """
    _check_arguments(returns, n_samples)
    return pd.concat([compute_ci(returns[[ticker]], n_samples, **options) for ticker in returns.columns], axis=1)


def serial_and_pool_seconds(returns, sample_counts, *, max_workers=2, repeats=2):
    """Wall time of :func:`compute_ci` for each number of samples, in this process and on a new
    pool of ``max_workers`` workers (its start-up included, as whoever calls it pays it), the
    speed-up, serial time over pool time, and the serial run's CPU time.

    The serial and the pool run of each size take turns ``repeats`` times and the fastest of each
    is kept: a moment when the machine is busy elsewhere then spoils a figure only if it lasts
    through all of that figure's runs. The CPU time is the time this process spent computing:
    on an idle machine the same as the serial wall time; when other programs take turns on the
    cores, smaller, since it leaves out the waiting. The work takes at least that long, so
    ``max_workers`` workers need at least that divided by ``max_workers``."""
    rows = []
    for n_samples in sample_counts:
        serial, cpu, pooled = [], [], []
        for _ in range(repeats):
            started = time.process_time()
            serial.append(seconds(compute_ci, returns, n_samples))
            cpu.append(time.process_time() - started)
            pooled.append(seconds(compute_ci, returns, n_samples, max_workers=max_workers))
        rows.append((min(serial), min(cpu), min(pooled)))
    workers = f"{max_workers} workers (s)"
    table = pd.DataFrame(rows, index=pd.Index(sample_counts, name="samples"),
                         columns=["serial (s)", "serial CPU (s)", workers])
    table["speed-up"] = table["serial (s)"] / table[workers]
    return table


def statistics_nbytes(returns, n_samples):
    """Bytes the bootstrap statistics of ``returns`` take in memory (float64)."""
    return n_samples * compute_rv(returns).size * np.dtype(float).itemsize
