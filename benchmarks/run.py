"""Every speed claim of the course, measured on the machine at hand.

    python -m benchmarks.run [--quick] [--out results]

writes ``benchmarks.md`` (tables), ``benchmarks.json`` (every figure) and ``benchmarks.png``
(plots) into the output folder. Each figure is the median of several runs, with min and max;
every comparison is a ratio of two figures measured in the same run. ``--quick`` runs every
section with tiny sizes as a smoke test: its figures mean nothing and no target is judged.

A section that cannot run (its lesson's module missing or broken) does not stop the others: the
report says "not available" and why, and the traceback goes to stderr.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks.report import NOT_AVAILABLE, markdown, plots, target_rows
from helpers.timing import efficiency, measure, ratio, scale, seconds, stopwatch, summarize

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
FULL = {"repeats": 3, "sleep_jobs": 8, "sleep": 0.25, "cpu_jobs": 4, "cpu_steps": 3_000_000, "tiny_jobs": 20_000,
        "chunksizes": [1, 10, 100, 1000], "round_trips": 50, "months": None, "samples": 1000, "lecture_samples": 5,
        "memory_samples": 1000, "grids": [50, 100, 200, 400], "vfi_tolerance": 1e-6, "numba_grid": 1000,
        "notebooks": "all", "amdahl_samples": 400}
QUICK = {"repeats": 1, "sleep_jobs": 4, "sleep": 0.05, "cpu_jobs": 2, "cpu_steps": 100_000, "tiny_jobs": 500,
         "chunksizes": [1, 100], "round_trips": 5, "months": ("2007-01", "2007-02"), "samples": 4, "lecture_samples": 1,
         "memory_samples": 4, "grids": [20, 40], "vfi_tolerance": 1e-2, "numba_grid": 100,
         "notebooks": ["03_ordering.ipynb"], "amdahl_samples": 4}


def machine():
    """What the figures were measured on: cores, CPU model, system, Python and library versions."""
    import dask
    import matplotlib
    import numba
    import numpy
    import pandas
    import scipy

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return {"cores": os.cpu_count(), "cpu": cpu, "system": platform.platform(), "python": platform.python_version(),
            "numpy": numpy.__version__, "pandas": pandas.__version__, "scipy": scipy.__version__,
            "numba": numba.__version__, "dask": dask.__version__, "matplotlib": matplotlib.__version__}


def pool_map(function, values, workers, chunksize=1):
    """Start a pool of ``workers``, map, and close it: the whole cost a user pays."""
    with ProcessPoolExecutor(max_workers=workers) as executor:
        return list(executor.map(function, values, chunksize=chunksize))


def worker_counts():
    """1, 2, ... up to the number of cores, and always 2 (the course's targets are for 2 workers)."""
    return list(range(1, max(2, os.cpu_count() or 1) + 1))


def pool_efficiency(cfg):
    """Section 1: sleep and CPU jobs on 1..cores workers; pool start-up; one future; chunksize."""
    from helpers.concurrency_types import cpu_work
    from helpers.workers import sleep_for, tiny_task

    sleeps, cpu_jobs = [cfg["sleep"]] * cfg["sleep_jobs"], [cfg["cpu_steps"]] * cfg["cpu_jobs"]
    rows = []
    for label, function, jobs in [("sleep jobs", sleep_for, sleeps), ("CPU-bound jobs", cpu_work, cpu_jobs)]:
        serial = measure(lambda: [function(job) for job in jobs], cfg["repeats"])
        rows.append({"jobs": label, "count": len(jobs), "workers": "serial", **serial})
        for workers in worker_counts():
            timed = measure(lambda: pool_map(function, jobs, workers), cfg["repeats"])
            speed_up = ratio(serial, timed)
            rows.append({"jobs": label, "count": len(jobs), "workers": workers, **timed, "speed_up": speed_up,
                         "efficiency": efficiency(speed_up, workers)})
    startup = measure(lambda: pool_map(tiny_task, [1], 2), cfg["repeats"] + 2)
    with ProcessPoolExecutor(max_workers=1) as executor:
        executor.submit(tiny_task, 1).result()  # the worker is up before the clock starts
        round_trip = measure(lambda: executor.submit(tiny_task, 1).result(), cfg["round_trips"])
    chunks = {str(size): measure(lambda: pool_map(tiny_task, range(cfg["tiny_jobs"]), 2, size), cfg["repeats"])
              for size in cfg["chunksizes"]}
    return {"sleep_seconds": cfg["sleep"], "cpu_steps": cfg["cpu_steps"], "scaling": rows, "pool_startup": startup,
            "future_round_trip": round_trip, "chunksize": chunks, "tiny_jobs": cfg["tiny_jobs"]}


def load_returns(cfg):
    """The course's panel of intraday log returns (simulated into data/ if it is not there yet)."""
    from helpers.data import ensure_data, intraday_log_returns, load_prices

    ensure_data(DATA)
    returns = intraday_log_returns(load_prices(DATA))
    return returns if cfg["months"] is None else returns.loc[cfg["months"][0]:cfg["months"][1]]


def lesson06(cfg):
    """Section 2: the pandas bootstrap, serial and on a 2-worker pool, small and full data.

    The pool runs two ways: lesson 06's (the returns travel with every batch) and lesson 11's
    (the returns travel once per worker, through the pool's initializer). The lecture's own
    groupby/apply version is timed on a few samples and scaled up, as lesson 06 does."""
    import numpy as np

    from helpers.panel import compute_ci, samples_to_statistics_lecture
    from helpers.sharing import compute_ci_initializer

    returns = load_returns(cfg)
    small = returns.loc["2007-01", ["CSCO", "BA"]]
    n = cfg["samples"]
    out = {}
    for label, data in [("small sample (January 2007, CSCO and BA)", small), ("full panel", returns)]:
        serial = measure(lambda: compute_ci(data, n, seed=1), cfg["repeats"])
        batches = measure(lambda: compute_ci(data, n, seed=1, max_workers=2), cfg["repeats"])
        initializer = measure(lambda: compute_ci_initializer(data, n, seed=1, max_workers=2), cfg["repeats"])
        seeds = np.random.SeedSequence(1).spawn(cfg["lecture_samples"])
        lecture = measure(lambda: samples_to_statistics_lecture(data, seeds), 1)
        out[label] = {"samples": n, "days": int(data.index.normalize().nunique()), "stocks": data.shape[1],
                      "serial": serial, "2 workers, data with every batch": batches,
                      "2 workers, data once per worker": initializer,
                      "lecture's way, serial (scaled up)": scale(lecture, n / cfg["lecture_samples"]),
                      "lecture_samples": cfg["lecture_samples"],
                      "speed_up": ratio(serial, batches), "speed_up_initializer": ratio(serial, initializer)}
    return out


def compile_seconds(kernel, *arguments):
    """Wall time of compiling ``kernel`` afresh (its options, no on-disk cache) and calling it once."""
    import numba

    options = {key: value for key, value in kernel.targetoptions.items() if key != "nopython"}
    fresh = numba.njit(**options)(kernel.py_func)
    return seconds(fresh, *arguments)


def lesson07(cfg, pandas_serial):
    """Section 3: vectorized NumPy, scipy.stats.bootstrap and the compiled kernel on the full panel."""
    import numba
    import numpy as np

    from helpers import compiled

    returns, n = load_returns(cfg), cfg["samples"]
    values, offsets, _ = compiled.returns_to_arrays(returns)
    tiny_seeds = np.random.SeedSequence(1).generate_state(2, dtype=np.uint64)
    compiling = compile_seconds(compiled.bootstrap_rv_compiled, values, offsets, tiny_seeds)
    compiled.compiled_ci(returns, 2)  # warm: from the on-disk cache, or compiled here
    figures = {
        "vectorized NumPy": measure(lambda: compiled.numpy_ci(returns, n), cfg["repeats"]),
        "scipy.stats.bootstrap": measure(lambda: compiled.scipy_ci(returns, n), cfg["repeats"]),
        "compiled (Numba, warm)": measure(lambda: compiled.compiled_ci(returns, n), cfg["repeats"] + 2),
    }
    out = {"samples": n, "compile_seconds": compiling, "numba_threads": numba.get_num_threads(), **figures,
           "compiled vs scipy": ratio(figures["scipy.stats.bootstrap"], figures["compiled (Numba, warm)"])}
    if pandas_serial is not None:
        out["vs pandas serial"] = {name: ratio(pandas_serial, f) for name, f in figures.items()}
    return out


def lesson09(cfg):
    """Section 4: value function iteration, whole solves from V = 0 to the tolerance (as lesson 09
    times them): loops vs a pool of 2 vs Numba per grid size; then Numba on the largest grid."""
    from helpers import growth
    from helpers.workers import tiny_task

    p, tol = growth.Params(), cfg["vfi_tolerance"]
    growth.solve_vfi_numba(p, n_points=20, tol=1e-3)  # compiled, or loaded from the on-disk cache
    rows = []
    with ProcessPoolExecutor(max_workers=2) as executor:
        executor.submit(tiny_task, 1).result()  # the pool lives across iterations, as in lesson 09
        for n in cfg["grids"]:
            iterations = len(growth.solve_vfi_numba(p, n, tol=tol).distances)
            loops = measure(lambda: growth.solve_vfi(p, n, tol=tol), cfg["repeats"])
            pool = measure(lambda: growth.solve_vfi(p, n, tol=tol, executor=executor, n_chunks=4), cfg["repeats"])
            compiled = measure(lambda: growth.solve_vfi_numba(p, n, tol=tol), cfg["repeats"])
            rows.append({"grid": n, "iterations": iterations, "loops": loops, "pool of 2": pool, "Numba": compiled,
                         "pool vs loops": ratio(loops, pool), "Numba vs loops": ratio(loops, compiled)})
    iterations = len(growth.solve_vfi_numba(p, cfg["numba_grid"], tol=1e-6).distances)
    full = measure(lambda: growth.solve_vfi_numba(p, cfg["numba_grid"], tol=1e-6), cfg["repeats"])
    return {"tolerance": tol, "per_grid": rows,
            "numba_full_solution": {"grid": cfg["numba_grid"], "tolerance": 1e-6, "iterations": iterations, **full}}


def notebook_wall_times(cfg):
    """Section 5: each notebook executed top to bottom in a fresh kernel, on a temporary copy
    (the committed notebooks are not touched); ``data/`` is linked next to the copy."""
    import nbformat
    from nbclient import NotebookClient

    times = {}
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "notebooks"
        shutil.copytree(ROOT / "notebooks", copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        (Path(scratch) / "data").symlink_to(DATA)
        paths = sorted(copy.glob("[0-9][0-9]_*.ipynb"))
        if cfg["notebooks"] != "all":
            paths = [path for path in paths if path.name in cfg["notebooks"]]
        for path in paths:
            notebook = nbformat.read(path, as_version=4)
            with stopwatch() as clock:
                NotebookClient(notebook, timeout=1200, kernel_name="python3",
                               resources={"metadata": {"path": str(copy)}}).execute()
            times[path.name] = clock.seconds
    if not times:
        raise FileNotFoundError(f"no notebook to execute among {cfg['notebooks']} in notebooks/")
    return times


MEMORY_PROBE = """
import re, sys, tracemalloc
from helpers.data import intraday_log_returns, load_prices
from helpers.panel import compute_ci, compute_ci_chunked

def status_kb(field):
    return int(re.search(field + r":\\s+(\\d+)", open("/proc/self/status").read()).group(1))

folder, n_samples, variant, method = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
returns = intraday_log_returns(load_prices(folder))
months = sys.argv[5:]
if months:
    returns = returns.loc[months[0]:months[1]]
run = compute_ci_chunked if variant == "chunked" else compute_ci
if method == "tracemalloc":
    tracemalloc.start()
    run(returns, n_samples, seed=1)
    print(tracemalloc.get_traced_memory()[1])
else:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets the peak resident set size (VmHWM) to the current one
    before = status_kb("VmRSS")
    run(returns, n_samples, seed=1)
    print((status_kb("VmHWM") - before) * 1024)
"""


def memory_probe(cfg, variant, method):
    """Peak bytes of one serial run of ``variant`` in a fresh Python process, after the data is loaded."""
    months = list(cfg["months"] or [])
    result = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(DATA), str(cfg["memory_samples"]), variant,
                             method, *months], capture_output=True, text=True, check=True, cwd=ROOT)
    return int(result.stdout.strip().splitlines()[-1]) / 1e6


def peak_memory(cfg):
    """Section 6: peak memory of the full-panel bootstrap, plain and chunked by stock, in MB.

    Two measures, each in its own fresh process: ``tracemalloc``'s peak of memory allocated through
    Python (Python objects and NumPy/pandas buffers) during the run, and, on Linux, the growth of
    the peak resident set size over the resident size after loading (``/proc/self/status``, with
    the peak reset first), which also counts memory that Python does not trace."""
    load_returns(cfg)  # the data exist before the probes read them
    methods = ["tracemalloc"] + (["peak RSS"] if Path("/proc/self/clear_refs").exists() else [])
    return {"samples": cfg["memory_samples"], "methods": methods,
            "MB": {variant: {method: memory_probe(cfg, variant, method) for method in methods}
                   for variant in ("plain", "chunked")}}


def amdahl(cfg):
    """Section 7: lesson 12's Amdahl's law, predicted and measured. The small sample's pipeline
    (load, bootstrap, quantiles) is split into parts, each timed on its own as the fastest of a
    few tries; the whole run in one process and on started pools of 1..cores workers is timed as
    the median of repeats. Prediction and measurement are over the same one-process median."""
    from helpers.amdahl import SPEEDUP_WORKERS, serial_share
    from helpers.data import ensure_data
    from helpers.pipeline import WAYS, measure_parts, pooled_run, serial_pipeline, started_pool

    ensure_data(DATA)
    n = cfg["amdahl_samples"]
    parts = measure_parts(DATA, n, workers=2)
    one_process = measure(lambda: serial_pipeline(DATA, n), cfg["repeats"])
    rows = []
    for workers in worker_counts():
        with started_pool(workers) as pool:
            timed = summarize([pooled_run(DATA, n, pool, workers)[1].seconds for _ in range(cfg["repeats"])])
        rows.append({"workers": workers, **timed, "measured": ratio(one_process, timed),
                     "predicted": parts.predicted(workers, one_process_seconds=one_process["median"])})
    ways = {way: {"serial": parts.serial(way), "parallel": parts.parallel(way),
                  "serial_share": serial_share(parts.serial(way), parts.parallel(way)), "ceiling": parts.ceiling(way),
                  "predicted": {str(w): parts.predicted(w, way) for w in SPEEDUP_WORKERS}} for way in WAYS}
    return {"samples": n, "parts": parts.table()["seconds"].to_dict(), "one_process": one_process,
            "one_process_from_parts": parts.one_process(), "scaling": rows, "ways": ways}


def run_section(name, step):
    """Run one section; a section that fails is reported as not available, and the run goes on."""
    print(f"[bench] {name} ...", flush=True)
    with stopwatch() as clock:
        try:
            result = step()
        except Exception as error:  # noqa: BLE001 - any failure of one section must not stop the others
            traceback.print_exc()
            return {NOT_AVAILABLE: f"{type(error).__name__}: {error}"}
    print(f"[bench] {name} done in {clock.seconds:.0f} s", flush=True)
    return result


def pandas_serial(results):
    """Section 2's serial full-panel figures, where it ran: section 3's ratios refer to them."""
    return results["lesson06"].get("full panel", {}).get("serial")


# Each section: its key in the results, and how to run it from the settings and the results so far.
SECTIONS = [("pool", lambda cfg, results: pool_efficiency(cfg)),
            ("lesson06", lambda cfg, results: lesson06(cfg)),
            ("lesson07", lambda cfg, results: lesson07(cfg, pandas_serial(results))),
            ("lesson09", lambda cfg, results: lesson09(cfg)),
            ("notebooks", lambda cfg, results: notebook_wall_times(cfg)),
            ("memory", lambda cfg, results: peak_memory(cfg)),
            ("amdahl", lambda cfg, results: amdahl(cfg))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, no figure means anything")
    parser.add_argument("--out", default="results", help="folder for benchmarks.md, .json and .png")
    parser.add_argument("--only", nargs="+", choices=[key for key, _ in SECTIONS], metavar="SECTION",
                        help="run only these sections (the others are reported as not run): "
                             + ", ".join(key for key, _ in SECTIONS))
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with stopwatch() as clock:
        results = {"quick": args.quick, "when": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(),
                   "config": cfg}
        for key, step in SECTIONS:
            if args.only and key not in args.only:
                results[key] = {NOT_AVAILABLE: "not run (--only)"}
            else:
                results[key] = run_section(key, lambda: step(cfg, results))
        results["targets"] = target_rows(results)
    results["total_seconds"] = clock.seconds
    (out / "benchmarks.json").write_text(json.dumps(results, indent=2, default=str))
    (out / "benchmarks.md").write_text(markdown(results))
    plots(results, out / "benchmarks.png")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
