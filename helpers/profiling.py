"""Lesson 12: where the time goes, in this process and inside pool workers.

Three profilers, each answering its own question:

- ``cProfile`` (the standard library; ``%prun`` in a notebook) counts every call of every
  function and how long it took: :func:`profile_call`, read with ``pstats``. From Python 3.12 it
  works through ``sys.monitoring`` and records every thread of the process, the Jupyter kernel's
  own threads included, whose calls can blur the figures around them, or break the count of the
  profiled call (:func:`disturbed`; :func:`profile_call` then profiles the call again); shares
  of the profiled call's wall time (:func:`cumulative_share`) stay meaningful.
- ``line_profiler`` (``%lprun``) times each line of the functions it is given:
  :func:`line_profile`, :func:`line_profile_text`.
- ``pyinstrument`` (``%%pyinstrument``) samples the call stack every millisecond and draws the
  tree of where the time went: :func:`sample_call`, :func:`pyinstrument_view`.

A profile of the notebook's process while a pool works shows it waiting. The work is profiled
where it runs: :func:`profiled` and :func:`sampled` run a task under a profiler inside the worker
and send the profile back with the result, as plain data that pickles; :func:`merged_stats` and
:func:`combined_session` add up the workers' profiles.

Profiles name files by their full paths, which would put this machine's folders into a saved
notebook; :func:`short_path` names them from the course's folder, the installed packages or the
standard library instead.
"""

import cProfile
import functools
import html
import inspect
import io
import os
import pstats
import re
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from IPython.display import HTML
from line_profiler import LineProfiler
from pyinstrument import Profiler, processors
from pyinstrument.renderers import ConsoleRenderer, HTMLRenderer
from pyinstrument.session import Session

from helpers.timing import stopwatch

COURSE = Path(__file__).resolve().parents[1]
SAMPLE_INTERVAL = 0.001  # pyinstrument's default: one look at the stack per millisecond
VIEW_THRESHOLD = 0.01  # calls under this share of the time are left out of pyinstrument's view
LIBRARIES = ("site-packages", "stdlib")  # how installed packages and the standard library are named


# --- Paths that say nothing about this machine ----------------------------------------------

def _named_folders():
    """(folder, name) pairs, the deepest folders first: a file is named from the first that
    holds it. The course's own files keep their path inside the course (``helpers/panel.py``)."""
    paths = sysconfig.get_paths()
    folders = {paths["purelib"]: LIBRARIES[0], paths["platlib"]: LIBRARIES[0], paths["stdlib"]: LIBRARIES[1],
               paths["platstdlib"]: LIBRARIES[1], str(COURSE): ""}
    return sorted(((Path(folder).resolve(), name) for folder, name in folders.items()),
                  key=lambda pair: len(pair[0].parts), reverse=True)


@functools.lru_cache(maxsize=None)
def short_path(path):
    """``path`` as a profile should show it: from the course's folder (``helpers/panel.py``), the
    installed packages (``site-packages/pandas/...``) or the standard library (``stdlib/...``);
    a notebook cell's code as ``notebook cell``; any other file by its name alone."""
    if not path or path.startswith("<") or path == "~":
        return path
    full = Path(path).resolve()
    for folder, name in _named_folders():
        if full.is_relative_to(folder):
            return "/".join(filter(None, (name, *full.relative_to(folder).parts)))
    if full.is_relative_to(Path(tempfile.gettempdir()).resolve()) and full.parent.name.startswith("ipykernel_"):
        return "notebook cell"
    return full.name


# --- cProfile -----------------------------------------------------------------------------

class CallProfile(pstats.Stats):
    """cProfile's statistics of one call (a ``pstats.Stats``: ``sort_stats``, ``print_stats``,
    ...), with the call's wall time, profiler included, in :attr:`seconds`."""

    seconds = float("nan")


PROFILE_TRIES = 3  # profiles of one call taken at most, while other threads disturb them


def disturbed(stats, function=None):
    """Whether another thread's calls broke cProfile's count of this profile of one call of
    ``function`` (Python 3.12+).

    cProfile keeps one stack of calls for the whole process. When a thread's function that was
    already running as the profile started returns during it (a Jupyter kernel's threads do so as
    a cell starts), it takes an entry of that stack that belongs to the profiled call: the calls
    around it are then counted as recursive or twice, the profiled function's own row can vanish,
    and a function can show calls with a cumulative time of zero. Neither can happen otherwise:
    the profiled (non-recursive) function was called once, and a function's first call is never
    recursive."""
    code = getattr(function, "__code__", None)
    if code is not None:
        own = [row[:2] for (file, line, name), row in stats.stats.items()  # with or without strip_dirs()
               if (name, line) == (code.co_name, code.co_firstlineno) and _in_file(code.co_filename, file)]
        if own != [(1, 1)]:
            return True
    return any(primitive == 0 < calls for primitive, calls, *_ in stats.stats.values())


def profile_call(function, *args, **kwargs):
    """Run ``function(*args, **kwargs)`` under cProfile; return its statistics (a
    :class:`CallProfile`). ``%prun`` does the same for a line typed in a notebook.

    A profile that other threads disturbed (:func:`disturbed`) is taken again, up to
    :data:`PROFILE_TRIES` times in all; the function runs once per profile."""
    for _ in range(PROFILE_TRIES):
        profile = cProfile.Profile()
        with stopwatch() as clock:
            profile.runcall(function, *args, **kwargs)
        stats = CallProfile(profile)
        stats.seconds = clock.seconds
        if not disturbed(stats, function):
            break
    return stats


def _in_file(path, file_name):
    """Whether ``path`` is the file ``file_name`` (a name such as ``groupby.py``, or the end of a
    path such as ``helpers/panel.py``), with or without the folders ``strip_dirs()`` removes."""
    path = path.replace(os.sep, "/")
    return file_name is None or path == file_name or path.endswith("/" + file_name)


def entries(stats, function_name, file_name=None):
    """The rows of ``stats`` (``pstats.Stats``) for functions called ``function_name`` (in the
    file ``file_name``): ``(calls, own seconds, cumulative seconds)`` each."""
    return [(calls, own, cumulative) for (file, _, name), (_, calls, own, cumulative, _) in stats.stats.items()
            if name == function_name and _in_file(file, file_name)]


def calls(stats, function_name, file_name=None):
    """How many times the profile saw a function called ``function_name`` (in ``file_name``) called."""
    return sum(row[0] for row in entries(stats, function_name, file_name))


def cumulative_share(stats, function_name, file_name=None):
    """The largest cumulative time of a function called ``function_name`` (in ``file_name``), as a
    share of the call's wall time (:func:`profile_call`'s profile) or of the profile's total of own
    times (a merged one). From Python 3.12 on, cProfile records every thread of the process, the
    Jupyter kernel's own included, so that the total can hold time the call never spent."""
    whole = stats.seconds if isinstance(stats, CallProfile) else stats.total_tt
    return max((row[2] for row in entries(stats, function_name, file_name)), default=0.0) / whole


def built_in_share(stats):
    """The share of the profile's own time (``tottime``) spent in built-in functions: calls into
    C, such as a lock's ``acquire`` or a pipe's ``read``, rather than Python code."""
    return sum(row[2] for (file, _, _), row in stats.stats.items() if file == "~") / stats.total_tt


# --- line_profiler ------------------------------------------------------------------------

def line_profile(functions, function, *args, **kwargs):
    """Run ``function(*args, **kwargs)`` with each of ``functions`` timed line by line; return
    the ``LineProfiler``. ``%lprun -f f1 -f f2 statement`` does the same in a notebook."""
    profiler = LineProfiler(*functions)
    profiler.runcall(function, *args, **kwargs)
    return profiler


def line_profile_text(profiler, unit=1e-3):
    """The profiler's table (times in milliseconds, lines never run left out), files named by
    :func:`short_path`."""
    text = io.StringIO()
    profiler.print_stats(stream=text, output_unit=unit, stripzeros=True)
    return re.sub(r"^File: (.*)$", lambda match: f"File: {short_path(match.group(1))}", text.getvalue(), flags=re.M)


def line_share(profiler, function, text):
    """The share of ``function``'s time (as ``profiler`` timed it) spent on its lines that contain
    ``text``."""
    timings = next(lines for (_, first, name), lines in profiler.get_stats().timings.items()
                   if name == function.__name__ and first == function.__code__.co_firstlineno)
    source, first = inspect.getsourcelines(function)
    total = sum(time for _, _, time in timings)
    return sum(time for line, _, time in timings if text in source[line - first]) / total


# --- pyinstrument -------------------------------------------------------------------------

def sample_call(function, *args, **kwargs):
    """Run ``function(*args, **kwargs)`` under pyinstrument; return the session it recorded.
    ``%%pyinstrument`` at the top of a cell does the same for the whole cell."""
    with Profiler(interval=SAMPLE_INTERVAL, async_mode="disabled") as profiler:
        function(*args, **kwargs)
    return profiler.last_session


def _portable_frame(frame):
    """One pyinstrument frame (``function NUL file NUL line``, then attributes), its file named
    by :func:`short_path`."""
    identifier, separator, attributes = frame.partition("\x01")
    parts = identifier.split("\x00")
    if len(parts) == 3:
        parts[1] = short_path(parts[1])
    return "\x00".join(parts) + separator + attributes


def portable_session(session, title):
    """A copy of ``session`` that names files by :func:`short_path` and is called ``title``:
    nothing in it shows this machine's folders. The installed packages and the standard library
    still count as library code in the view."""
    return Session(frame_records=[([_portable_frame(f) for f in stack], time) for stack, time in session.frame_records],
                   start_time=session.start_time, duration=session.duration, min_interval=session.min_interval,
                   max_interval=session.max_interval, sample_count=session.sample_count,
                   start_call_stack=[_portable_frame(f) for f in session.start_call_stack],
                   target_description=title, cpu_time=session.cpu_time, sys_path=list(LIBRARIES),
                   sys_prefixes=[f"{name}/" for name in LIBRARIES])


def sampled_share(session, function_name, file_name=None):
    """The share of ``session``'s samples taken while a function called ``function_name`` (in
    ``file_name``) was on the stack: its share of the time, as the sampling profiler saw it."""
    def on_stack(stack):
        for frame in stack:
            parts = frame.partition("\x01")[0].split("\x00")
            if len(parts) == 3 and parts[0] == function_name and _in_file(parts[1], file_name):
                return True
        return False

    total = sum(time for _, time in session.frame_records)
    return sum(time for stack, time in session.frame_records if on_stack(stack)) / total


def pyinstrument_view(session, title, height=420):
    """pyinstrument's interactive view of ``session`` for a notebook or a web page: the page
    pyinstrument renders, in an iframe of its own (as ``%%pyinstrument`` shows it), followed by
    the same tree as text, folded, for viewers that do not show iframes (JupyterLab hides them in
    a saved notebook until it is trusted). Calls under 1% of the time are left out of both, which
    keeps the page small."""
    session = portable_session(session, title)
    renderer = HTMLRenderer()
    renderer.preprocessors.append(processors.remove_irrelevant_nodes)
    renderer.preprocessor_options = {"filter_threshold": VIEW_THRESHOLD}
    page = renderer.render(session)
    text = ConsoleRenderer(unicode=True, color=False, short_mode=True).render(session)
    return HTML(f'<iframe srcdoc="{html.escape(page)}" title="{html.escape(title)}" width="100%" '
                f'height="{height}" style="border: 1px solid #ddd; resize: vertical"></iframe>\n'
                f"<details><summary>The same profile as text</summary><pre>{html.escape(text)}</pre></details>")


# --- Inside pool workers ------------------------------------------------------------------

@dataclass
class WorkerProfile:
    """What a profiled task sends back: its result, its profile as plain data, and which
    worker process ran it."""

    result: Any
    profile: Any
    pid: int


def profiled(function, *args, **kwargs):
    """A pool task: ``function(*args, **kwargs)`` under cProfile, in the worker. The profile
    travels as its table of calls (a ``pstats.Stats`` holds an output stream and cannot be
    pickled); :func:`merged_stats` turns the tables back into one ``pstats.Stats``."""
    profile = cProfile.Profile()
    result = profile.runcall(function, *args, **kwargs)
    profile.create_stats()
    return WorkerProfile(result, profile.stats, os.getpid())


class _Table:
    """A profile's table of calls, in the form ``pstats.Stats`` reads a profiler from."""

    def __init__(self, table):
        self.stats = table

    def create_stats(self):
        """The table is complete already (``pstats.Stats`` asks a profiler to finish first)."""


def merged_stats(profiles):
    """One ``pstats.Stats`` adding up the profiles of :func:`profiled` tasks: the calls and
    times of all the workers together."""
    if not profiles:
        raise ValueError("no profiles to merge: run the tasks with profiled(...) first")
    return pstats.Stats(*[_Table(dict(p.profile)) for p in profiles])


def sampled(function, *args, **kwargs):
    """A pool task: ``function(*args, **kwargs)`` under pyinstrument, in the worker; the session
    travels as plain data (:func:`combined_session` rebuilds and adds them up)."""
    with Profiler(interval=SAMPLE_INTERVAL, async_mode="disabled") as profiler:
        result = function(*args, **kwargs)
    return WorkerProfile(result, profiler.last_session.to_json(), os.getpid())


def combined_session(profiles):
    """One pyinstrument session adding up the sessions of :func:`sampled` tasks."""
    if not profiles:
        raise ValueError("no sessions to combine: run the tasks with sampled(...) first")
    return functools.reduce(Session.combine, [Session.from_json(p.profile) for p in profiles])
