"""Worker functions for lessons 01-05.

A process pool sends each task to a worker process, which must find the function by its module
and name. Defining these functions here, not in a notebook cell, is what lets the lessons run
under every start method (``fork``, ``spawn``, ``forkserver``).

The sleeps stand in for real work: long enough to see the effect of running jobs side by side,
short enough that the notebooks stay quick. Each function takes the sleep length as a parameter.
"""

import math
import os
import pickle
import time

DEFAULT_SECONDS = 0.5


def slow_computation(x, seconds=DEFAULT_SECONDS):
    """Announce the job, wait ``seconds`` as if working hard, and return ``x`` unchanged.

    The line and its newline go out in one write, so lines from two workers cannot interleave.
    """
    print(f"Working on {x}\n", end="", flush=True)
    time.sleep(seconds)
    return x


def slow_computation_with_exceptions(x, seconds=DEFAULT_SECONDS):
    """Like :func:`slow_computation`, but the job for ``x == 2`` fails with a ``ValueError``."""
    print(f"Working on {x}\n", end="", flush=True)
    time.sleep(seconds)
    if x == 2:
        raise ValueError(f"the job for x = {x} failed on purpose")
    return x


def slow_computation_silent(x, seconds=DEFAULT_SECONDS):
    """Wait ``seconds`` without printing anything, then return ``exp(x) + 3``.

    Lesson 04 uses it under a progress bar: the bar is the only thing the cell shows while the
    jobs run, and the results are printed by the main process afterwards.
    """
    time.sleep(seconds)
    return math.exp(x) + 3


def comp(x):
    """The natural logarithm of ``x``; Python raises ``ValueError`` for ``x <= 0``."""
    return math.log(x)


def sleep_for(seconds):
    """Sleep ``seconds`` and return them: jobs whose finishing order follows their length."""
    time.sleep(seconds)
    return seconds


def tiny_task(x):
    """A task far cheaper than sending it to a worker: where ``chunksize`` matters."""
    return x * x


def worker_pid(seconds=0.0):
    """Wait ``seconds``, then return the process id of the worker that ran the job."""
    time.sleep(seconds)
    return os.getpid()


def start_workers(executor, count, seconds=0.05, rounds=200):
    """Return once ``count`` different worker processes of ``executor`` have each run a job.

    A pool starts its workers as jobs arrive, and under ``spawn`` and ``forkserver`` a new worker
    takes a while to get going, longer on a busy machine: a clock started on a pool just made
    times that start-up too. Each round here sends ``count`` jobs that wait ``seconds``, long
    enough for every worker that is up to take one, until ``count`` different workers have
    answered. Returns how many answered; raises ``RuntimeError`` if they never do (``count``
    larger than the pool's ``max_workers``, say).
    """
    answered = set()
    for _ in range(rounds):
        answered.update(executor.map(worker_pid, [seconds] * count))
        if len(answered) >= count:
            return len(answered)
    raise RuntimeError(f"only {len(answered)} of {count} workers answered in {rounds} rounds: "
                       "does the pool have that many workers (max_workers)?")


def collatz_steps(n):
    """How many Collatz steps (halve if even, else ``3n + 1``) take the integer ``n`` to 1.

    A small pure-Python job whose cost varies with ``n``: the exercises of lessons 01-03 use it
    where a few microseconds of real computation per call are needed.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"collatz_steps needs a positive integer, got {n!r}; pass int(n) for a NumPy number")
    steps = 0
    while n != 1:
        n = 3 * n + 1 if n % 2 else n // 2
        steps += 1
    return steps


def exit_abruptly(x, seconds=0):
    """Work ``seconds``, then return ``x``; for ``x == 3`` end the worker process instead.

    The abrupt end stands for a crash in compiled code or the OOM killer. The pool cannot tell
    what happened to the job; lesson 05 shows the ``BrokenProcessPool`` this causes and how to
    recover. ``seconds`` lets the lesson keep other jobs in flight when the worker dies.
    """
    time.sleep(seconds)
    if x == 3:
        os._exit(1)
    return x


def timed_sleep(seconds):
    """Sleep ``seconds`` and return ``(start, end)`` as read from the clock in the worker.

    ``time.time()`` is the system clock, the same in every process of the machine, so the
    intervals of different jobs can be compared: lesson 05 uses them to show whether jobs ran
    side by side or one after another, whatever the machine's speed.
    """
    start = time.time()
    time.sleep(seconds)
    return start, time.time()


def slow_computation_silent_chunk(chunk, seconds=DEFAULT_SECONDS):
    """Run :func:`slow_computation_silent` on every input of ``chunk`` in turn; return the list.

    One job per chunk of inputs: lesson 04's exercise advances a progress bar by the chunk's size.
    """
    return [slow_computation_silent(x, seconds) for x in chunk]


def parse_price(text):
    """Read a price such as ``"12.50"``; text that is no number, or a negative price, raises ``ValueError``."""
    price = float(text)
    if price < 0:
        raise ValueError(f"a price cannot be negative, got {text!r}")
    return price


def fails_every_time(x):
    """Whether :func:`unreliable_square` fails for ``x`` on every attempt (multiples of 5)."""
    return x % 5 == 0


def fails_first_time(x):
    """Whether :func:`unreliable_square` fails for ``x`` on its first attempt only (other multiples of 3)."""
    return x % 3 == 0 and not fails_every_time(x)


def unreliable_square(x, attempts_dir):
    """Return ``x * x``, failing the way real jobs do: some inputs always, some only once.

    Multiples of 5 are bad input and raise ``ValueError`` on every attempt; other multiples of 3
    meet a transient fault (``ConnectionError``) on their first attempt and succeed when retried.
    Each call appends a line to ``attempts_dir/<x>.txt``: a file, not a variable, because each
    attempt may run in a different worker process, under any start method. ``attempts_made``
    reads the count back.
    """
    with open(os.path.join(attempts_dir, f"{x}.txt"), "a", encoding="utf-8") as record:
        record.write("attempt\n")
    if fails_every_time(x):
        raise ValueError(f"input {x} is bad: it fails on every attempt")
    if fails_first_time(x) and attempts_made(x, attempts_dir) == 1:
        raise ConnectionError(f"a transient fault on the first attempt for input {x}")
    return x * x


def attempts_made(x, attempts_dir):
    """How many times :func:`unreliable_square` has been called for ``x`` with this ``attempts_dir``."""
    path = os.path.join(attempts_dir, f"{x}.txt")
    if not os.path.exists(path):
        return 0
    with open(path, encoding="utf-8") as record:
        return sum(1 for _ in record)


def load_pickled(payload):
    """Unpickle ``payload`` in the worker, the step a worker takes for every task it receives.

    Lesson 01 sends it a function pickled in the notebook to show why a ``spawn`` worker cannot
    find a function that only exists in the notebook's ``__main__``.
    """
    return pickle.loads(payload)


def stdout_class():
    """The class of ``sys.stdout`` in the process that runs it, written ``module.name``.

    Lesson 04 asks a pool worker for it, to show how a worker's prints reach the notebook: a
    worker forked from the Jupyter kernel inherits the kernel's own output object
    (``ipykernel.iostream.OutStream``), which sends the text to the kernel; a worker started by
    ``spawn`` or ``forkserver`` is a fresh Python whose ``sys.stdout`` is an ordinary text file
    (``_io.TextIOWrapper``) on the output descriptor it inherited.
    """
    import sys

    return f"{type(sys.stdout).__module__}.{type(sys.stdout).__qualname__}"
