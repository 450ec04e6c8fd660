"""Checkers for lesson 10's exercises: lesson 06's bootstrap on a Dask cluster and as a job array.

Each exercise asks for a function. The checker calls it with inputs of its own, among them a seed
drawn anew for every check (:func:`checker_seed`), so that no result can be computed before the
check calls the function; for the Dask exercises it also passes the client of a fresh cluster
that it starts for the check, so that nothing the notebook did before can count. Evidence of how
the answer ran is gathered while it runs:

* :func:`instrument_workers`, run in every worker of that cluster, records every call of
  ``helpers.panel.samples_to_statistics`` there (the task that made it, the thread, the samples it
  computed), and can make the batches holding given samples finish later than the others;
* :class:`RecordingClient` is a Dask ``Client`` that notes every ``submit`` and ``map`` (the
  function, its arguments, the task's key), every ``scatter`` (and which workers held the data
  right after it), and the order in which results were asked for;
* a task's key says whether it was submitted with ``pure=False`` (Dask then makes it of a random
  UUID, where a pure task's key is a hash of its arguments), whichever way it was submitted;
* Dask's task stream says in which order the scheduler heard that the tasks had finished;
* :func:`streams_drawn_here` notes every random generator made in the notebook's process from a
  ``SeedSequence`` stream (through ``np.random.default_rng``): samples computed here rather than
  on the workers, or the streams an array task drew from; and :func:`_undrawn_streams` whether
  each of those generators then drew exactly one bootstrap sample.

Every sample draws from its own stream, so a right answer is identical to the serial run, to the
last digit; the checkers compare exactly.
"""

import functools
import re
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from distributed import Client, Future, get_task_stream

from helpers import data, panel
from helpers.checks import CheckFailed, passed, require
from helpers.checks.evidence import call_answer, describe
from helpers.distributed import local_cluster, total_threads

HOLD_FIRST, HOLD_LAST = 1.0, 0.5  # seconds the first and the last batch of 10.2 are held back (others: ms)
WELL_APART = 0.25  # seconds between two batches' ends that make their order plain, whatever the machine's load
UNIQUE_KEY = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # uuid4 in a key: impure
# What concurrent.futures.as_completed and wait read from a future, and a Dask future lacks (3.11-3.14).
STDLIB_FUTURE_ATTRIBUTES = ("'_condition'", "'_waiters'")
SUBMIT_OPTIONS = {"key", "workers", "resources", "retries", "priority", "fifo_timeout", "allow_other_workers",
                  "actor", "actors", "pure", "batch_size"}  # Client.submit/map's own keywords, not the task's


def checker_returns(seed=3, tickers=("GE", "DIS")):
    """The checkers' own small panel: three days of one-minute returns of two stocks."""
    prices = data.simulate_panel(seed, tickers=tickers, days=data.trading_days_2007()[:3]).prices
    return data.intraday_log_returns(prices)


def checker_seed():
    """The bootstrap seed of one check, new every time: results typed in or computed before the
    check cannot be those of its run. (Not from NumPy, whose generators the checkers watch.)"""
    return secrets.randbelow(2**31)


# --------------------------------------------------------------------------------------------
# Evidence


@dataclass
class Submission:
    """One task the answer submitted: ``function(*args, **kwargs)`` under ``key``."""

    function: Any
    args: tuple
    kwargs: dict
    key: str

    def argument(self, position, name):
        """The task's argument ``name`` (``position`` if passed by position), or None."""
        return self.args[position] if len(self.args) > position else self.kwargs.get(name)


@dataclass
class Scatter:
    """One ``client.scatter``: the futures it returned, and the workers that held each key's
    data right after it (or after a ``replicate``)."""

    futures: list
    holders: dict = field(default_factory=dict)

    @property
    def keys(self):
        return {future.key for future in self.futures}


class RecordingClient(Client):
    """A Dask ``Client`` that records how the answer used it (see the module's description)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.submissions, self.scatters, self.requests = [], [], []
        self._records_lock = threading.Lock()

    def submit(self, func, *args, **kwargs):
        future = super().submit(func, *args, **kwargs)
        task_kwargs = {k: v for k, v in kwargs.items() if k not in SUBMIT_OPTIONS}
        with self._records_lock:
            self.submissions.append(Submission(func, args, task_kwargs, future.key))
        return future

    def map(self, func, *iterables, **kwargs):
        iterables = [list(iterable) for iterable in iterables]  # read once: recorded and submitted alike
        futures = super().map(func, *iterables, **kwargs)
        task_kwargs = {k: v for k, v in kwargs.items() if k not in SUBMIT_OPTIONS}
        with self._records_lock:
            for args, future in zip(zip(*iterables), futures):
                self.submissions.append(Submission(func, args, task_kwargs, future.key))
        return futures

    def scatter(self, data, *args, **kwargs):
        futures = super().scatter(data, *args, **kwargs)
        self.scatters.append(Scatter(_futures_in(futures)))
        self.scatters[-1].holders = self._holders(self.scatters[-1].futures)
        return futures

    def replicate(self, futures, *args, **kwargs):
        result = super().replicate(futures, *args, **kwargs)
        keys = {future.key for future in _futures_in(futures)}
        for scatter in self.scatters:
            if keys & scatter.keys:
                scatter.holders = self._holders(scatter.futures)
        return result

    def _holders(self, futures):
        return {key: set(workers) for key, workers in self.who_has(futures).items()}

    async def _gather(self, futures, *args, **kwargs):
        with self._records_lock:
            self.requests.append([future.key for future in _futures_in(futures)])
        return await super()._gather(futures, *args, **kwargs)

    # What the checkers read ------------------------------------------------------------------

    def submissions_with(self, keys):
        """The recorded submissions of the tasks with these keys."""
        return [s for s in self.submissions if s.key in keys]

    def first_requested(self):
        """Keys in the order their results were first asked for (a ``gather`` of a list asks for
        all of its keys at once, in list order)."""
        seen, order = set(), []
        for keys in self.requests:
            for key in keys:
                if key not in seen:
                    seen.add(key)
                    order.append(key)
        return order


def _futures_in(value):
    """The Dask futures in ``value`` (a future, or lists, tuples, sets and dicts of them)."""
    if isinstance(value, Future):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple, set)):
        return [future for item in value for future in _futures_in(item)]
    return []


def sample_indices(seeds):
    """The sample index ``i`` of each stream ``SeedSequence(seed).spawn(n)[i]`` in ``seeds``."""
    try:
        return [s.spawn_key[0] for s in seeds if isinstance(s, np.random.SeedSequence) and len(s.spawn_key) == 1]
    except TypeError:
        return []


def _seeds_argument(args, kwargs):
    """The ``seeds`` argument of a ``samples_to_statistics(returns, seeds, statistic)`` call."""
    return args[1] if len(args) > 1 else kwargs.get("seeds", ())


_CALLS = []  # in a worker: the samples_to_statistics calls since instrument_workers last ran there
_HOLDS = {}  # in a worker: {sample index: seconds} by which the batch holding that sample is held back
_RECORD = [0]  # in a worker: which record is open; a call that began under an older one is not noted


def instrument_workers(holds=None):
    """Run in every worker (``client.run``): from now on, record every call of
    ``helpers.panel.samples_to_statistics`` in this worker (see :func:`recorded_calls`), and make
    the batch that holds sample ``i`` return ``holds[i]`` seconds after it is computed, so that
    batches submitted after it finish before it.

    A worker finds a task's function by its module and name, so replacing
    ``helpers.panel.samples_to_statistics`` in the worker's process catches every call, whether
    the task is that function or one of the student's that calls it. Nothing changes in the
    notebook's process. Run again, it starts a new record (the wrapper is installed once), in
    which tasks still running from before, on a cluster that is reused, leave nothing."""
    _RECORD[0] += 1
    _CALLS.clear()
    _HOLDS.clear()
    _HOLDS.update(holds or {})
    if not hasattr(panel.samples_to_statistics, "__wrapped__"):
        panel.samples_to_statistics = _recorded(panel.samples_to_statistics)
    return True


def _recorded(original):
    @functools.wraps(original)
    def recorded(*args, **kwargs):
        record = _RECORD[0]
        result = original(*args, **kwargs)
        samples = sample_indices(_seeds_argument(args, kwargs))
        if record != _RECORD[0]:
            return result
        _CALLS.append({"key": _running_task(), "thread": threading.get_ident(), "samples": samples})
        held = max((_HOLDS.get(sample, 0) for sample in samples), default=0)
        if held:
            time.sleep(held)
        return result
    return recorded


def _running_task():
    """The key of the Dask task running in this thread of a worker (None outside a task)."""
    from distributed.worker import thread_state  # the worker sets it around every task it runs
    key = getattr(thread_state, "key", None)
    return None if key is None else str(key)


def recorded_calls():
    """Run in every worker (``client.run``): the calls :func:`instrument_workers` recorded there."""
    return list(_CALLS)


class Drawn(list):
    """What each ``np.random.default_rng`` call received, in order; ``generators``: what it made."""

    def __init__(self):
        super().__init__()
        self.generators = []


@contextmanager
def streams_drawn_here():
    """Note the seed of every generator made with ``np.random.default_rng`` in this process
    while the block runs (a :class:`Drawn` list of what each call received), and the generator."""
    drawn, original = Drawn(), np.random.default_rng

    def recording(seed=None):
        generator = original(seed)
        drawn.append(seed)
        drawn.generators.append(generator)
        return generator

    np.random.default_rng = recording
    try:
        yield drawn
    finally:
        np.random.default_rng = original


def _is_run_stream(value, seed):
    """Whether ``value`` is one of the streams ``SeedSequence(seed).spawn(n)``."""
    return isinstance(value, np.random.SeedSequence) and value.entropy == seed and len(value.spawn_key) == 1


def _describe_seed(value):
    """What a generator was made from, for a hint."""
    if value is None:
        return "no seed at all (the operating system's entropy)"
    if isinstance(value, np.random.SeedSequence):
        if len(value.spawn_key) != 1:
            return f"a SeedSequence with spawn key {value.spawn_key} (not a child of the run's seed)"
        return "a stream of another seed"
    if isinstance(value, (int, np.integer)):
        return f"the integer {value}"
    return f"a {type(value).__name__} value"


def _run_streams(drawn, seed):
    """The sample indices of the streams of ``SeedSequence(seed)`` among ``drawn``."""
    return [value.spawn_key[0] for value in drawn if _is_run_stream(value, seed)]


def _undrawn_streams(drawn, seed, returns):
    """The sample indices of the run's streams whose generator (made while ``drawn`` recorded)
    is not in the state that drawing one bootstrap sample of ``returns`` leaves it in: it drew
    nothing (made only to look drawn from, the rows coming from elsewhere), less, or more."""
    undrawn = []
    for value, generator in zip(drawn, drawn.generators):
        if _is_run_stream(value, seed):
            reference = np.random.default_rng(value)
            panel.bootstrap_returns(returns, reference)
            if generator.bit_generator.state != reference.bit_generator.state:
                undrawn.append(value.spawn_key[0])
    return undrawn


def _plain_errors(answer):
    """``answer``, with an ``AttributeError`` it raises reported as it is (for the Dask exercises
    often one of its tasks': Dask raises a task's exception again where its result is asked for).
    These answers never need to pickle a notebook's function for a process pool (Dask sends such
    functions by value), so it is not the pickling problem ``call_answer`` would take it for."""
    if not callable(answer):
        return answer  # call_answer says what to pass instead

    def run(*args):
        try:
            return answer(*args)
        except AttributeError as error:
            if "'Future' object" in str(error) and any(name in str(error) for name in STDLIB_FUTURE_ATTRIBUTES):
                raise CheckFailed("Your function raised AttributeError: a Dask future lacks what "
                                  "concurrent.futures.as_completed and wait read. Dask's futures are not the "
                                  "standard library's: take them with the functions of distributed.") from None
            raise CheckFailed(f"Your function raised AttributeError: {error}") from None
    return run


@contextmanager
def fresh_cluster(n_workers, threads_per_worker):
    """A new local cluster and a :class:`RecordingClient` connected to it."""
    with local_cluster(n_workers, threads_per_worker) as cluster, RecordingClient(cluster) as client:
        yield client


@dataclass
class Run:
    """What the checker saw while a Dask answer ran."""

    result: Any
    client: RecordingClient
    records: list  # the task stream's
    calls: list  # the workers' samples_to_statistics calls (instrument_workers), each with its "worker"
    local_samples: list  # sample indices drawn in the notebook's process
    threads: int
    workers: set

    def task_keys(self):
        """The keys of the tasks that computed bootstrap samples, each once."""
        return list(dict.fromkeys(call["key"] for call in self.calls))

    def samples_computed(self):
        """Every sample index the workers computed, as often as they computed it, sorted."""
        return sorted(sample for call in self.calls for sample in call["samples"])


def run_on_fresh_cluster(answer, arguments, signature, cluster, seed, holds=None):
    """Call ``answer(client, *arguments)`` with the client of a fresh cluster of ``cluster``
    (workers, threads per worker), its workers instrumented (``holds``: see
    :func:`instrument_workers`); return a :class:`Run`."""
    with fresh_cluster(*cluster) as client:
        client.run(instrument_workers, holds)
        threads, workers = total_threads(client), set(client.nthreads())
        try:
            with get_task_stream(client) as stream, streams_drawn_here() as drawn:
                result = call_answer(_plain_errors(answer), client, *arguments, expected_signature=signature)
            calls = [{**call, "worker": worker} for worker, worker_calls in client.run(recorded_calls).items()
                     for call in worker_calls]
        except CheckFailed:
            raise
        except Exception as error:  # noqa: BLE001 - e.g. the answer closed the checker's client
            raise CheckFailed(f"The checker could not read the cluster's records after your function ran "
                              f"({type(error).__name__}). Leave the client you are given open: the checker "
                              "closes it.") from None
        return Run(result, client, stream.data, calls, _run_streams(drawn, seed), threads, workers)


def _require_on_the_cluster(run, n_samples):
    """The bootstrap's samples were computed on the checker's cluster, none of them in this process."""
    require(not run.local_samples,
            f"computed in the notebook: {len(set(run.local_samples))} of the {n_samples} samples were drawn in "
            "this notebook's process, not on the cluster's workers. Every sample must be computed by a task "
            "submitted through the client your function receives.")
    require(run.calls, "not on the cluster: no bootstrap sample was computed on the workers of the cluster behind "
                       "the client the checker passed. Submit the batches (samples_to_statistics) through that "
                       "client or its executor, not through a pool or a cluster of your own.")
    outside = [call for call in run.calls if call["key"] is None]
    require(not outside, f"not as tasks: {len(outside)} batch(es) were computed on the workers outside Dask's tasks "
                         "(client.run runs a function in every worker, past the scheduler, and with no key that "
                         "says how it was submitted). Submit the batches as tasks.")


def _require_each_sample_once(run, n_samples):
    """The cluster's tasks computed every sample of the run, each once."""
    computed = run.samples_computed()
    if computed:  # the tasks received the run's streams (other seeds are the result's check)
        twice = sorted({sample for sample in computed if computed.count(sample) > 1})
        require(not twice, f"samples computed more than once: {len(twice)} of the {n_samples} samples were "
                           "computed by several tasks. Give every task its own share of the samples.")
        require(computed == list(range(n_samples)),
                f"not all on the cluster: the cluster's tasks computed {len(computed)} of the {n_samples} samples. "
                "Every sample of the result must come from a task of the cluster you are given.")


def _require_impure(run):
    """Every task that computed samples was submitted with ``pure=False``: Dask then names it with
    a random UUID, where a pure task's key is a hash of its function and arguments."""
    keys = run.task_keys()
    pure = [key for key in keys if not UNIQUE_KEY.search(key)]
    require(not pure, f"submitted as pure: {len(pure)} of the {len(keys)} bootstrap tasks went to Dask with its "
                      "default, pure=True, which takes a task's result to depend on its arguments only and runs "
                      "two tasks with equal arguments once. Tell Dask that these tasks must run every time they "
                      "are submitted.")


# --------------------------------------------------------------------------------------------
# Exercise 10.1


QUARTICITY_SAMPLES, QUARTICITY_CLUSTER = 36, (2, 5)  # 2 workers of 5 threads: no usual constant fits


def check_cluster_quarticity(cluster_quarticity):
    """Exercise 10.1: ``cluster_quarticity(client, returns, n_samples, seed)`` returns the 99%
    intervals of realized quarticity from ``n_samples`` bootstrap samples with ``seed``,
    computed on the cluster behind ``client``, every sample once, in tasks submitted with
    ``pure=False``, at least one task per thread of that cluster, and identical to the serial run.

    The checker passes the client of a fresh cluster of two workers of five threads each (the
    lesson's have one thread): a number of batches chosen without asking the cluster, or
    counting its workers instead of its threads, leaves threads idle. It passes its own small
    panel and a new seed."""
    returns, n, seed = checker_returns(), QUARTICITY_SAMPLES, checker_seed()
    run = run_on_fresh_cluster(cluster_quarticity, (returns, n, seed),
                               "cluster_quarticity(client, returns, n_samples, seed)", QUARTICITY_CLUSTER, seed)
    ci = run.result
    require(isinstance(ci, pd.DataFrame), f"wrong type: your function should return the DataFrame of intervals "
                                          f"that get_ci or compute_ci returns, got {describe(ci)}.")
    _require_on_the_cluster(run, n)
    _require_each_sample_once(run, n)
    _require_impure(run)
    tasks = run.task_keys()
    require(len(tasks) >= run.threads,
            f"not every thread had work: {len(tasks)} task(s) on a cluster of {run.threads} threads. Split the "
            "samples by the size of the cluster you are given (the tasks it runs at once), not a number of "
            "your own.")
    require(len({call["worker"] for call in run.calls}) > 1,
            f"not parallel: all {len(tasks)} tasks ran on one worker of the {len(run.workers)}.")
    expected = panel.compute_ci(returns, n, seed=seed, statistic=panel.realized_quarticity)
    require(ci.index.equals(expected.index) and ci.columns.equals(expected.columns),
            f"wrong shape: expected a lower and an upper bound for each of {expected.shape[1] // 2} stocks on "
            f"{len(expected)} days, the returns your function receives; got {ci.shape[0]} rows and "
            f"{ci.shape[1]} columns.")
    if not ci.equals(expected):
        require(not ci.equals(panel.compute_ci(returns, n, seed=seed)),
                "wrong statistic: these are intervals of realized variance, not of realized quarticity. "
                "Check which statistic the tasks compute.")
        raise CheckFailed("not reproducible: the intervals differ from the serial run with the same seed and "
                          "number of samples. Sample i must draw from stream i of "
                          "SeedSequence(seed).spawn(n_samples), whichever batch it is in.")
    passed(f"realized quarticity intervals identical to the serial run; every sample computed once on the "
           f"workers of a fresh cluster of {run.threads} threads, in {len(tasks)} tasks submitted with pure=False, "
           "at least one per thread.")


# --------------------------------------------------------------------------------------------
# Exercise 10.2


SCATTER_SAMPLES, SCATTER_BATCH, SCATTER_CLUSTER = 12, 3, (2, 1)  # 2 workers of 1 thread


def _row_keys(array):
    """One hashable key per sample (the bytes of its days x stocks matrix)."""
    return [np.ascontiguousarray(row).tobytes() for row in array]


def _diagnose_samples(stats, expected):
    """Raise the hint that says how ``stats`` differs from ``expected`` (same shape, not equal)."""
    position = {key: i for i, key in enumerate(_row_keys(expected))}
    found = [position.get(key) for key in _row_keys(stats)]
    missing_rows = [i for i, row in enumerate(stats) if np.isnan(row).all() or not row.any()]
    require(not missing_rows, f"samples missing: {len(missing_rows)} of the {len(stats)} rows of the result were "
                              "never filled (all zero or NaN). Does every batch's result reach the array?")
    keys = _row_keys(stats)
    require(len(set(keys)) == len(keys), "duplicate samples: several rows hold the same bootstrap sample, so "
                                         "some batches drew with the same random streams. Every sample needs "
                                         "a stream of its own.")
    if None not in found:
        raise CheckFailed("wrong order: the result holds the right samples, but not at their indices. The checker "
                          "held back the batch with sample 0, so that later batches finished before it: put each "
                          "batch's results at the indices of the samples it was given, whenever it finishes.")
    raise CheckFailed("not reproducible: the samples differ from the serial bootstrap with the same seed. "
                      "Sample i must draw from stream i of SeedSequence(seed).spawn(n_samples), whichever "
                      "batch or worker computes it.")


def _require_scattered_once(run, submissions):
    """The returns were scattered once, to every worker, and every task received the future."""
    returns_given = [s.argument(0, "returns") for s in submissions]
    sent = sum(isinstance(value, pd.DataFrame) for value in returns_given)
    require(not sent, f"data sent with every task: {sent} of the {len(submissions)} tasks carry the DataFrame "
                      "itself as an argument. Send it to the workers once, and give the tasks what stands for "
                      "it there.")
    require(run.client.scatters, "data not scattered: the tasks did not receive the returns through "
                                 "client.scatter. Send the data to the workers before submitting the tasks.")
    require(len(run.client.scatters) == 1, f"scattered {len(run.client.scatters)} times: the data should travel to "
                                           "the workers once, before the tasks, not once per batch.")
    scatter = run.client.scatters[0]
    require(all(isinstance(value, Future) and value.key in scatter.keys for value in returns_given),
            "the tasks did not receive the scattered data: pass each task the future client.scatter returned "
            "(for the DataFrame itself, not a list holding it).")
    holders = set().union(*scatter.holders.values()) if scatter.holders else set()
    require(holders >= run.workers, f"the returns reached only {len(holders)} of the {len(run.workers)} workers "
                                    "when they were scattered; the others would fetch a copy from it when their "
                                    "first task needs one, or the tasks would crowd onto that worker. Send a copy "
                                    "to every worker.")


def _batch_end(record):
    """When a task-stream record's task finished computing (its worker's clock)."""
    return max(part["stop"] for part in record["startstops"] if part["action"] == "compute")


def _finished_well_before(records, keys):
    """Pairs ``(a, b)`` of ``keys`` where task ``a`` finished well before task ``b``: before it in
    the order the scheduler learned that tasks had finished (the order of the task stream's
    records, which is also the order in which the client hears of them), and at least
    :data:`WELL_APART` earlier by the workers' clock. A loaded machine may report two tasks that
    end close together in either order; these pairs it cannot swap."""
    finished = [(record["key"], _batch_end(record)) for record in records if record["key"] in set(keys)]
    return [(a, b) for i, (a, a_end) in enumerate(finished) for b, b_end in finished[i + 1:]
            if b_end - a_end >= WELL_APART]


def _require_collected_as_finished(run, submissions, n):
    """The answer asked for every batch's result only after those of the batches that had
    finished well before it: the order ``as_completed`` gives, which no order fixed in advance
    (submission order, its reverse, a ``gather`` of them all) gives when the first and the last
    batch are held back by different times."""
    first_sample = {s.key: min(sample_indices(_seeds_argument(s.args, s.kwargs)), default=0) for s in submissions}
    pairs = _finished_well_before(run.records, first_sample)
    held = next(key for key, sample in first_sample.items() if sample == 0)
    require(any(b == held for _, b in pairs),
            "The checker could not make the batch with sample 0 finish after the others this time (the machine "
            "may be very busy): run the check again.")
    asked = {key: position for position, key in enumerate(run.client.first_requested())}
    late = [(a, b) for a, b in pairs if asked.get(a, n) > asked.get(b, n)]
    if late:
        a, b = late[0]
        raise CheckFailed(f"not collected as they finished: your function asked for the result of the batch from "
                          f"sample {first_sample[b]} before that of the batch from sample {first_sample[a]}, which "
                          "had finished well before it (the checker held some batches back). Take each batch as "
                          "it finishes, whichever it is.")


def check_scattered_bootstrap(scattered_bootstrap):
    """Exercise 10.2: ``scattered_bootstrap(client, returns, n_samples, seed, batch_size)``
    returns the realized variances of ``n_samples`` bootstrap samples (samples x days x stocks),
    identical to the serial bootstrap: the returns scattered once to every worker, one task per
    batch of ``batch_size`` samples submitted with ``pure=False`` and given the scattered future,
    and each batch collected as it finished and stored at its samples' indices.

    The checker's workers hold back the first batch and, by less, the last one
    (:func:`instrument_workers`), so that the batches finish in another order than they were
    submitted: an answer that collects them in an order of its own (submission order, its
    reverse, a ``gather``) asks for one before a batch that finished well before it, one that
    stores them in arrival order puts other samples first."""
    returns, n, seed, size = checker_returns(), SCATTER_SAMPLES, checker_seed(), SCATTER_BATCH
    run = run_on_fresh_cluster(scattered_bootstrap, (returns, n, seed, size),
                               "scattered_bootstrap(client, returns, n_samples, seed, batch_size)",
                               SCATTER_CLUSTER, seed, holds={0: HOLD_FIRST, n - 1: HOLD_LAST})
    stats = run.result
    expected = panel.bootstrap_statistics(returns, n, seed=seed)
    require(isinstance(stats, np.ndarray), f"wrong type: your function should return a NumPy array "
                                           f"(samples x days x stocks), got {describe(stats)}.")
    require(stats.shape == expected.shape, f"wrong shape: expected {expected.shape} (samples, days, stocks) for the "
                                           f"checker's {n} samples, got {stats.shape}.")
    _require_on_the_cluster(run, n)
    submissions = run.client.submissions_with(set(run.task_keys()))
    require(submissions, "not submitted as tasks: the checker saw no client.submit or client.map of "
                         "samples_to_statistics. Submit one task per batch with one of them.")
    _require_scattered_once(run, submissions)
    _require_impure(run)
    sizes = [len(sample_indices(_seeds_argument(s.args, s.kwargs))) for s in submissions]
    require(len(submissions) == -(-n // size) and max(sizes) <= size,
            f"wrong batches: {len(submissions)} task(s) of {sorted(set(sizes))} samples; the checker asked for "
            f"batches of {size} of its {n} samples, one task each.")
    if not np.array_equal(stats, expected):
        _diagnose_samples(stats, expected)
    _require_collected_as_finished(run, submissions, n)
    passed(f"all {n} samples at their indices, identical to the serial bootstrap: the returns were scattered "
           f"once, to every worker, {len(submissions)} tasks submitted with pure=False received them as a future, "
           "and each batch was collected after the batches that had finished before it.")


# --------------------------------------------------------------------------------------------
# Exercise 10.3


STRIDED_SAMPLES, STRIDED_TASKS = 10, 4


def check_strided_task(strided_task):
    """Exercise 10.3: ``strided_task(returns, index, tasks, n_samples, seed)`` returns the
    realized variances (rows x days x stocks) of array task ``index``'s samples ``index,
    index + tasks, index + 2 * tasks, ...`` of the run of ``n_samples`` samples from ``seed``,
    each drawn from its own stream when the task runs, so that the tasks' rows interleave into
    the serial bootstrap.

    The checker calls the function once per task of its own array (4 tasks, 10 samples: tasks
    of 3, 3, 2 and 2 samples, a new seed) and notes which streams each call drew from."""
    returns, n, tasks, seed = checker_returns(), STRIDED_SAMPLES, STRIDED_TASKS, checker_seed()
    expected = panel.bootstrap_statistics(returns, n, seed=seed)
    signature = "strided_task(returns, index, tasks, n_samples, seed)"
    for index in range(tasks):
        mine = list(range(index, n, tasks))
        with streams_drawn_here() as drawn:
            block = call_answer(_plain_errors(strided_task), returns, index, tasks, n, seed,
                                expected_signature=signature)
        require(isinstance(block, np.ndarray), f"wrong type: task {index} returned {describe(block)}; return a "
                                               "NumPy array (samples x days x stocks), as samples_to_statistics does.")
        require(block.ndim == 3 and block.shape[1:] == expected.shape[1:],
                f"wrong shape: task {index} returned shape {block.shape}; each row should be one sample's "
                f"days x stocks matrix, {expected.shape[1:]} for the checker's returns.")
        require(len(block), f"no samples: task {index} returned an empty array; with {tasks} tasks and {n} "
                            f"samples it has {len(mine)}.")
        streams = _run_streams(drawn, seed)
        others = [value for value in drawn if not _is_run_stream(value, seed)]
        require(not others, f"task {index} drew from a generator that is not one of the run's streams: made from "
                            f"{_describe_seed(others[0]) if others else ''}. Sample j must draw from stream j of "
                            "SeedSequence(seed).spawn(n_samples), whichever task computes it.")
        require(streams, f"task {index} returned rows, but no sample was drawn from the run's streams while it ran "
                         "(the checker notes every np.random.default_rng made in this process, one per sample "
                         "in samples_to_statistics). An array task computes its own samples, from the streams "
                         "of the seed it is given, when it runs.")
        require(len(streams) <= len(mine) or sorted(set(streams)) != list(range(n)),
                f"every task repeats the whole run: task {index} drew all {n} samples' streams to return "
                f"{len(block)} of them. Each task of an array must compute only its own samples.")
        require(sorted(streams) == mine,
                f"task {index} drew from the streams of samples {sorted(streams)}, which are not its own: "
                f"with {tasks} tasks, task {index}'s samples are {index}, {index + tasks}, ... (up to {n - 1}).")
        require(len(block) == len(mine), f"task {index} returned {len(block)} sample(s); with {tasks} tasks and "
                                         f"{n} samples it has {len(mine)}.")
        undrawn = _undrawn_streams(drawn, seed, returns)
        require(not undrawn, f"task {index} made generators from the streams of samples {undrawn} but did not draw "
                             "one bootstrap sample from each: its rows must be the samples it draws from its "
                             "streams when it runs, not rows computed elsewhere.")
        if not np.array_equal(block, expected[mine]):
            position = {key: i for i, key in enumerate(_row_keys(expected))}
            found = [position.get(key) for key in _row_keys(block)]
            require(None in found, f"task {index} returned samples {found}, not its own {mine} in that order.")
            raise CheckFailed(f"not reproducible: task {index}'s samples differ from the serial bootstrap's. "
                              "Sample j must draw from stream j of SeedSequence(seed).spawn(n_samples).")
    passed(f"each of the {tasks} array tasks computed exactly its own samples (index, index + {tasks}, ...), each "
           f"from its own stream of the run, and their rows interleave into the serial bootstrap of {n} samples.")
