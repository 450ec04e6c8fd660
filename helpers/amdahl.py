"""Lesson 12: Amdahl's law, Gustafson's view of it, and a small job to try them on.

A run spends ``serial`` seconds in parts that happen once, in one process (loading the data,
starting workers, sending them the data, combining their results), and ``parallel`` seconds in
work that workers can share. On ``N`` workers it takes at best ``serial + parallel / N``, so its
speed-up over the same run in one process is at most

    S(N) = (serial + parallel) / (serial + parallel / N) = 1 / (s + (1 - s) / N),

where ``s = serial / (serial + parallel)`` is the run's serial share (Amdahl's law). However many
workers, ``S(N)`` stays below ``1 / s``: the ceiling. Gustafson's view keeps the time instead of
the work fixed: with more workers, do more work in the same time (more bootstrap samples), and the
serial share shrinks as the parallel part grows.

Only the standard library: ``make check`` (:mod:`helpers.setup_check`) uses the law before any
package is installed, and the exercise's job (:func:`nightly_job`) only waits, so that its
speed-ups are the same on an idle machine and on a busy one.
"""

import time

SPEEDUP_WORKERS = (1, 2, 4, 8, 16, 64)  # the worker counts lesson 12 predicts for


def serial_share(serial_seconds, parallel_seconds):
    """The share of a one-process run spent in its serial part."""
    total = serial_seconds + parallel_seconds
    if serial_seconds < 0 or parallel_seconds < 0 or total <= 0:
        raise ValueError(f"the parts must be durations, not negative and not both zero; got serial "
                         f"{serial_seconds!r} and parallel {parallel_seconds!r}")
    return serial_seconds / total


def amdahl_speedup(share, workers):
    """Amdahl's law: the speed-up on ``workers`` workers of a run whose serial share is ``share``."""
    if not 0 <= share <= 1 or workers < 1:
        raise ValueError(f"the serial share must be between 0 and 1 and the workers 1 or more; got "
                         f"{share!r} and {workers!r}")
    return 1 / (share + (1 - share) / workers)


def predicted_speedup(serial_seconds, parallel_seconds, workers, one_process_seconds=None):
    """The speed-up Amdahl's law predicts on ``workers`` workers from the measured parts.

    ``one_process_seconds`` is the time of the run without any pool, when it differs from
    ``serial + parallel`` because the pool adds serial parts of its own (starting its workers,
    sending them the data); by default it is ``serial + parallel``."""
    speedup = amdahl_speedup(serial_share(serial_seconds, parallel_seconds), workers)
    if one_process_seconds is None:
        return speedup
    return speedup * one_process_seconds / (serial_seconds + parallel_seconds)


def ceiling(serial_seconds, parallel_seconds, one_process_seconds=None):
    """The most any number of workers can give: the one-process time over the serial part."""
    reference = serial_seconds + parallel_seconds if one_process_seconds is None else one_process_seconds
    return reference / serial_seconds if serial_seconds > 0 else float("inf")


def share_from_speedup(speedup, workers):
    """The serial share that a speed-up measured on ``workers`` workers implies by Amdahl's law
    (the law solved for ``s``), kept between 0 and 1: measurement noise can make a speed-up
    look better than ideal, or worse than none."""
    if workers < 2:
        raise ValueError("a serial share can only be read from a speed-up on 2 or more workers")
    share = (workers / speedup - 1) / (workers - 1)
    return min(1.0, max(0.0, share))


def gustafson_speedup(share_on_workers, workers):
    """Gustafson's scaled speed-up: how much more work ``workers`` workers do in the time of a
    run whose serial share, measured on those workers, is ``share_on_workers``."""
    return share_on_workers + (1 - share_on_workers) * workers


# --- Exercise 12.2: a job with a serial and a parallel part ----------------------------------

OPEN_SECONDS = 0.2  # once: log in to the data vendor
MERGE_SECONDS = 0.1  # once: merge the files into one panel
FETCH_SECONDS_PER_MB = 0.02  # per file: the download, which workers can share


def open_session():
    """The job's first step, once: log in to the (pretend) data vendor."""
    time.sleep(OPEN_SECONDS)


def fetch(megabytes):
    """Download one file of ``megabytes`` (a wait in proportion to its size); return its size."""
    time.sleep(FETCH_SECONDS_PER_MB * megabytes)
    return megabytes


def merge(files):
    """The job's last step, once: merge the downloaded files; return the megabytes merged."""
    time.sleep(MERGE_SECONDS)
    return sum(files)


def nightly_job(executor, sizes):
    """Log in, download one file per size on ``executor``, merge them: the whole job."""
    open_session()
    return merge(list(executor.map(fetch, sizes)))
