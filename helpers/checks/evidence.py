"""Evidence of how an exercise's answer ran, gathered while it ran.

A checker that looks only at the values an answer returns cannot tell a pool from a loop, nor
values that workers computed from values typed in by hand. So the exercises that are about *how*
the work runs ask for a function, and the checker calls it with inputs of its own and with one of
the executors below. They run the work like the standard pools do, and record what happened:

* every call that reached a worker (the function, its arguments, the process or thread that ran
  it, what it returned), calls inside ``map``'s chunks included;
* the order in which the jobs finished, and the order in which the answer asked for their
  results (``as_completed`` asks in finishing order, a plain loop in submission order);
* whether each result was taken inside a done-callback;
* how many bytes each submission pickled (data sent with every task, or once per worker through
  an ``initializer``).

``delays`` holds the jobs back for chosen lengths of time after they are computed, so that they
finish in an order the checker picks (a reordering executor).
"""

import io
import os
import pickle
import re
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from helpers.checks import CheckFailed


def traced_call(function, args, kwargs, delay):
    """Run in a worker: ``function(*args, **kwargs)``, then wait ``delay`` seconds; return the
    worker's process id and thread id with the result."""
    result = function(*args, **kwargs)
    if delay:
        time.sleep(delay)
    return os.getpid(), threading.get_ident(), result


@dataclass
class Call:
    """One function call that a worker ran, as the executor saw it."""

    function: Any
    args: tuple
    kwargs: dict
    submission: int  # which submission it belonged to (a map chunk holds several calls)
    pid: int = None
    thread: int = None
    result: Any = None
    error: BaseException = None
    in_chunk: bool = False  # one input of a map chunk, whose result is one item of the chunk's list


@dataclass
class Submission:
    """One ``submit`` (or one chunk of ``map``), with its future and what it pickled to."""

    index: int
    calls: list
    future: "TracedFuture"
    nbytes: int
    finished_at: int = None  # its place in the finishing order


class TracedFuture(Future):
    """A future that notes when, and from where, its result is asked for."""

    def __init__(self, recorder, index):
        super().__init__()
        self._recorder, self.index = recorder, index
        self.callbacks = 0
        self.taken_in_callback = False

    def result(self, timeout=None):
        self._recorder._note_taken(self)
        return super().result(timeout)

    def exception(self, timeout=None):
        self._recorder._note_taken(self)
        return super().exception(timeout)

    def add_done_callback(self, fn):
        self.callbacks += 1
        super().add_done_callback(partial(_run_callback, fn))

    # The pool's own future (``_inner``) decides, as in an unrecorded pool, whether the job can
    # still be cancelled and whether it is running.
    def cancel(self):
        return self._inner.cancel() and super().cancel()

    def running(self):
        return not self.done() and self._inner.running()


_inside = threading.local()


def _run_callback(fn, future):
    """Run a student's done-callback, noting that code it runs is inside a callback (and, while
    :func:`calls_in_this_process` watches, what it calls: the pool's thread that runs callbacks
    may have started before the watch, out of its reach on Python 3.11)."""
    _inside.future = future
    watch, previous = _watch[0], sys.getprofile()
    if watch is not None:
        sys.setprofile(watch)
    try:
        fn(future)
    finally:
        _inside.future = None
        if watch is not None:
            sys.setprofile(previous)


class _Recording:
    """What :class:`RecordingPool` and :class:`RecordingThreadPool` share; see the module."""

    def _start_recording(self, delays, measure_bytes):
        self.delays = delays
        self.measure_bytes = measure_bytes
        self.submissions = []
        self.finished = []  # submission indices, in finishing order
        self.taken = []  # submission indices, each time a result was asked for
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        with self._lock:
            index = len(self.submissions)
            future = TracedFuture(self, index)
            submission = Submission(index, _logical_calls(fn, args, kwargs, index), future,
                                    _pickled_size((fn, args, kwargs)) if self.measure_bytes else 0)
            self.submissions.append(submission)
        delay = self.delays(index) if callable(self.delays) else (self.delays[index] if index < len(self.delays) else 0)
        future._inner = inner = super().submit(traced_call, fn, args, kwargs, delay)
        inner.add_done_callback(partial(self._arrived, submission))
        return future

    def _arrived(self, submission, inner):
        if inner.cancelled():  # cancelled before it ran (cancel(), or shutdown(cancel_futures=True))
            submission.future.cancel()
            return
        with self._lock:
            submission.finished_at = len(self.finished)
            self.finished.append(submission.index)
        error = inner.exception()
        if error is not None:
            for call in submission.calls:
                call.error = error
            submission.future.set_exception(error)
            return
        pid, thread, result = inner.result()
        values = result if submission.calls[0].in_chunk else [result]
        for call, value in zip(submission.calls, values):
            call.pid, call.thread, call.result = pid, thread, value
        submission.future.set_result(result)

    def _note_taken(self, future):
        with self._lock:
            self.taken.append(future.index)
        if getattr(_inside, "future", None) is future:
            future.taken_in_callback = True

    # What the checkers read ------------------------------------------------------------------

    @property
    def calls(self):
        """Every call that was submitted, in submission order (map's chunks unrolled)."""
        return [call for submission in self.submissions for call in submission.calls]

    def calls_of(self, function):
        """The calls of ``function`` (compared by module and name, so that a copy from a spawned
        worker's import counts)."""
        return [call for call in self.calls if same_function(call.function, function)]

    def finishing_order(self):
        """Submission indices in the order their jobs finished."""
        return list(self.finished)

    def first_taken_order(self):
        """Submission indices in the order the answer first asked for their results."""
        seen, order = set(), []
        for index in self.taken:
            if index not in seen:
                seen.add(index)
                order.append(index)
        return order


class RecordingPool(_Recording, ProcessPoolExecutor):
    """A ``ProcessPoolExecutor`` that records how it was used (see the module's description).

    ``delays``: seconds each submission's job waits after computing, by submission index (a
    sequence, missing entries meaning 0, or a function of the index). ``measure_bytes``: pickle
    each submission once more to record its size."""

    def __init__(self, max_workers=2, *, delays=(), measure_bytes=False, **options):
        super().__init__(max_workers=max_workers, **options)
        self._start_recording(delays, measure_bytes)
        self.initargs_nbytes = _pickled_size(options.get("initargs", ())) if measure_bytes else 0

    def worker_pids(self):
        """The process ids of the workers that ran a call (never this process's)."""
        return {call.pid for call in self.calls if call.pid is not None}


class RecordingThreadPool(_Recording, ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` that records how it was used, like :class:`RecordingPool`."""

    def __init__(self, max_workers=2, *, delays=(), measure_bytes=False, **options):
        super().__init__(max_workers=max_workers, **options)
        self._start_recording(delays, measure_bytes)

    def worker_threads(self):
        """The thread ids of the pool's threads that ran a call."""
        return {call.thread for call in self.calls if call.thread is not None}


def _logical_calls(fn, args, kwargs, index):
    """The calls one submission stands for: one for ``submit``, one per input for a chunk of
    ``ProcessPoolExecutor.map`` (a ``partial(_process_chunk, function)`` of a list of argument
    tuples)."""
    if isinstance(fn, partial) and getattr(fn.func, "__name__", "") == "_process_chunk" and fn.args:
        function, chunk = fn.args[0], args[0]
        return [Call(function, tuple(arguments), {}, index, in_chunk=True) for arguments in chunk]
    return [Call(fn, args, kwargs, index)]


def _pickled_size(value):
    try:
        return len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - an unpicklable argument fails later, with its own hint
        return 0


def same_function(a, b):
    """Whether ``a`` and ``b`` are the same module-level function (by module and qualified
    name: a worker's copy, imported anew, is not the same object)."""
    key = lambda f: (getattr(f, "__module__", None), getattr(f, "__qualname__", None))  # noqa: E731
    return a is b or (key(a)[1] is not None and key(a) == key(b))


class _NotebookFinder(pickle.Pickler):
    """A pickler that notes every function or class it meets that lives in ``__main__``."""

    def __init__(self, file):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.found = []

    def reducer_override(self, obj):
        name = getattr(obj, "__qualname__", None)
        if isinstance(name, str) and (getattr(obj, "__module__", None) == "__main__" or "<" in name):
            self.found.append(name)  # a notebook's, a lambda or a function defined inside another
        return NotImplemented


def notebook_names(value):
    """Names of the functions and classes defined in the notebook (``__main__``), lambdas and
    functions defined inside other functions, that ``value`` would send to a worker: a worker
    started by ``spawn`` or ``forkserver`` cannot find them, even where ``fork`` hides it."""
    finder = _NotebookFinder(io.BytesIO())
    try:
        finder.dump(value)
    except Exception:  # noqa: BLE001 - a lambda cannot be pickled at all: it was noted already
        pass
    return sorted(set(finder.found))


@contextmanager
def calls_in_this_process(functions):
    """Note, while the block runs, every call of ``functions`` made in this process, in any of its
    threads (a list of their names). Work a pool should have done, done here instead or done
    again, shows up in it, even where the values it gives are the workers' own."""
    codes = {function.__code__ for function in functions}
    seen = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code in codes:
            seen.append(frame.f_code.co_name)

    if not codes:
        yield seen
        return
    every_thread = getattr(threading, "setprofile_all_threads", None)  # Python 3.12+
    previous, previous_threads, previous_watch = sys.getprofile(), threading.getprofile(), _watch[0]
    (every_thread or sys.setprofile)(profile)
    threading.setprofile(profile)  # threads started inside the block (3.11)
    _watch[0] = profile  # done-callbacks, wherever they run (see _run_callback)
    try:
        yield seen
    finally:
        _watch[0] = previous_watch
        threading.setprofile(previous_threads)
        if every_thread:
            every_thread(previous_threads)
        sys.setprofile(previous)


_watch = [None]  # the profile function of the watch in progress, if any


def call_answer(function, *args, expected_signature, not_here=(), **kwargs):
    """Call the student's ``function`` with the checker's arguments; turn what commonly goes
    wrong into a hint instead of a traceback from inside the checker. ``not_here``: functions
    that only the pool's workers may run: an answer that ran them on the recording pool among
    ``args`` and here as well (results computed again in the notebook) fails. One that never used
    the pool is left to the checker, whose hint for serial code says more."""
    if not callable(function):
        raise CheckFailed(f"Pass your function itself, without parentheses: the checker calls it as "
                          f"{expected_signature}. Got {type(function).__name__}.")
    with calls_in_this_process(not_here) as here:
        answer = _call(function, args, kwargs, expected_signature)
    pools = [arg for arg in args if isinstance(arg, _Recording)]
    if here and any(pool.calls_of(f) for pool in pools for f in not_here):
        raise CheckFailed(f"{here[0]} ran {len(here)} time(s) in the notebook's own process while your "
                          "function worked: every call of it belongs in the pool's workers. Take each result "
                          "from its future; do not compute it (again) here.")
    return answer


def _call(function, args, kwargs, expected_signature):
    try:
        return function(*args, **kwargs)
    except CheckFailed:
        raise
    except TypeError as error:
        if "argument" in str(error):
            raise CheckFailed(f"The checker calls your function as {expected_signature}, and it failed: "
                              f"{error}. Give it exactly these parameters.") from None
        raise CheckFailed(f"Your function raised TypeError: {error}") from None
    except (pickle.PicklingError, AttributeError, BrokenProcessPool) as error:
        # pickle's own AttributeErrors: "Can't pickle local object ...", "Can't get attribute ...
        # on <module '__main__'>" (a worker that cannot find a notebook's function)
        if isinstance(error, AttributeError) and not re.search(r"Can't (pickle|get)", str(error)):
            raise CheckFailed(f"Your function raised AttributeError: {error}") from None
        raise CheckFailed("A worker could not receive a job: something you send it (a function defined in "
                          "the notebook, a lambda, an open file) cannot be pickled or imported there. Send "
                          f"functions from the helpers package. ({type(error).__name__}: {error})") from None
    except Exception as error:  # noqa: BLE001 - any other failure of the answer is reported, not raised
        raise CheckFailed(f"Your function raised {type(error).__name__}: {error}") from None


def describe(value):
    """A short description of ``value``'s type and size, for "expected ..., got ..." hints."""
    try:
        size = "" if isinstance(value, (str, bytes)) else f" of length {len(value)}"
    except TypeError:  # no length, or a 0-d array whose __len__ refuses
        size = ""
    return f"{type(value).__name__}{size}"
