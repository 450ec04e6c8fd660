"""Every speed claim of the course, measured on the machine at hand.

    python -m benchmarks.run [--quick] [--out results]

writes ``benchmarks.md`` (tables), ``benchmarks.json`` (every figure) and plots into the output
folder. Each figure is the median of several runs, with min and max; every comparison is a ratio
of two figures measured in the same run. ``--quick`` runs every section with tiny sizes as a
smoke test: its figures mean nothing and no target is judged on them.
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
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.timing import efficiency, measure, ratio  # noqa: E402
from helpers import fast, growth  # noqa: E402
from helpers.concurrency_types import cpu_work  # noqa: E402
from helpers.data import ensure_data, intraday_log_returns, load_prices  # noqa: E402
from helpers.panel import compute_ci, compute_ci_chunked  # noqa: E402
from helpers.workers import sleep_for, tiny_task  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FULL = {"repeats": 3, "sleep_jobs": 8, "sleep": 0.25, "cpu_jobs": 4, "cpu_steps": 3_000_000, "tiny_jobs": 20_000,
        "samples": 1000, "memory_samples": 1000, "grids": [50, 100, 200, 400], "vfi_iterations": 10,
        "numba_grid": 1000, "notebooks": True}
QUICK = {"repeats": 1, "sleep_jobs": 4, "sleep": 0.05, "cpu_jobs": 2, "cpu_steps": 100_000, "tiny_jobs": 500,
         "samples": 4, "memory_samples": 4, "grids": [20, 40], "vfi_iterations": 2, "numba_grid": 100,
         "notebooks": False}


def machine():
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    import dask
    import pandas
    import scipy
    return {"cores": os.cpu_count(), "cpu": cpu, "system": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "pandas": pandas.__version__, "scipy": scipy.__version__,
            "numba": numba.__version__, "dask": dask.__version__}


def pool_map(function, values, workers, chunksize=1):
    """Start a pool of ``workers``, map, and close it: the whole cost a user pays."""
    with ProcessPoolExecutor(max_workers=workers) as executor:
        return list(executor.map(function, values, chunksize=chunksize))


def pool_efficiency(cfg):
    """Section 1: sleep and CPU jobs on 1..cores workers; pool start-up; one future; chunksize."""
    sleeps, cpu_jobs = [cfg["sleep"]] * cfg["sleep_jobs"], [cfg["cpu_steps"]] * cfg["cpu_jobs"]
    rows = []
    for label, function, jobs in [("sleep jobs", sleep_for, sleeps), ("CPU-bound jobs", cpu_work, cpu_jobs)]:
        serial = measure(lambda: [function(job) for job in jobs], cfg["repeats"])
        rows.append({"jobs": label, "workers": "serial", **serial})
        for workers in range(1, (os.cpu_count() or 1) + 1):
            timed = measure(lambda: pool_map(function, jobs, workers), cfg["repeats"])
            speed_up = ratio(serial, timed)
            rows.append({"jobs": label, "workers": workers, **timed, "speed_up": speed_up,
                         "efficiency": efficiency(speed_up, workers)})
    startup = measure(lambda: pool_map(tiny_task, [1], 2), cfg["repeats"] + 2)
    with ProcessPoolExecutor(max_workers=1) as executor:
        executor.submit(tiny_task, 1).result()
        round_trip = measure(lambda: executor.submit(tiny_task, 1).result(), 50)
    chunks = {size: measure(lambda: pool_map(tiny_task, range(cfg["tiny_jobs"]), 2, size), cfg["repeats"])
              for size in (1, 10, 100, 1000)}
    return {"scaling": rows, "pool_startup": startup, "future_round_trip": round_trip,
            "chunksize": {str(size): figures for size, figures in chunks.items()}, "tiny_jobs": cfg["tiny_jobs"]}


def lesson06(cfg, returns):
    """Section 2: the pandas bootstrap, serial and on a 2-worker pool (batched)."""
    small = returns.loc["2007-01", ["CSCO", "BA"]]
    out = {}
    for label, data in [("small sample (January, CSCO and BA)", small), ("full panel", returns)]:
        serial = measure(lambda: compute_ci(data, cfg["samples"], seed=1), cfg["repeats"])
        pooled = measure(lambda: compute_ci(data, cfg["samples"], seed=1, max_workers=2), cfg["repeats"])
        out[label] = {"samples": cfg["samples"], "serial": serial, "2 workers": pooled, "speed_up": ratio(serial, pooled)}
    return out


def lesson07(cfg, returns, pandas_serial):
    """Section 3: vectorized NumPy, scipy.stats.bootstrap and the compiled kernel on the full panel."""
    n = cfg["samples"]
    fresh = numba.njit(parallel=True, fastmath=True)(fast.bootstrap_rv_compiled.py_func)
    values, offsets, _ = fast.returns_to_arrays(returns)
    seeds = np.random.SeedSequence(1).generate_state(2, dtype=np.uint64)
    start = time.perf_counter()
    fresh(values, offsets, seeds)
    compile_seconds = time.perf_counter() - start
    fast.compiled_ci(returns, 2)  # warm (from the on-disk cache or compiled here)
    figures = {
        "vectorized NumPy": measure(lambda: fast.numpy_ci(returns, n), cfg["repeats"]),
        "scipy.stats.bootstrap": measure(lambda: fast.scipy_ci(returns, n), 1),
        "compiled (Numba, warm)": measure(lambda: fast.compiled_ci(returns, n), cfg["repeats"] + 2),
    }
    return {"samples": n, "compile_seconds": compile_seconds, "numba_threads": numba.get_num_threads(), **figures,
            "vs pandas serial": {name: ratio(pandas_serial, f) for name, f in figures.items()},
            "compiled vs scipy": ratio(figures["scipy.stats.bootstrap"], figures["compiled (Numba, warm)"])}


def lesson09(cfg):
    """Section 4: value function iteration, time per iteration, loops vs pool vs Numba."""
    p, k = growth.Params(), cfg["vfi_iterations"]
    growth.solve_vfi_numba(p, n_points=20, tol=1e-3)  # compile or load from cache
    rows = []
    with ProcessPoolExecutor(max_workers=2) as executor:
        executor.submit(tiny_task, 1).result()
        for n in cfg["grids"]:
            loops = measure(lambda: growth.solve_vfi(p, n, tol=0.0, max_iter=k), cfg["repeats"])
            pool = measure(lambda: growth.solve_vfi(p, n, tol=0.0, max_iter=k, executor=executor, n_chunks=4),
                           cfg["repeats"])
            compiled = measure(lambda: growth.solve_vfi_numba(p, n, tol=0.0, max_iter=k), cfg["repeats"])
            rows.append({"grid": n, "iterations": k, "loops": loops, "pool of 2": pool, "Numba": compiled,
                         "pool vs loops": ratio(loops, pool), "Numba vs loops": ratio(loops, compiled)})
    full = measure(lambda: growth.solve_vfi_numba(p, cfg["numba_grid"], tol=1e-6), cfg["repeats"])
    return {"per_grid": rows, "numba_full_solution": {"grid": cfg["numba_grid"], "tolerance": 1e-6, **full}}


def notebook_wall_times():
    """Section 5: each notebook executed top to bottom in a fresh kernel, on a copy."""
    import nbformat
    from nbclient import NotebookClient

    times = {}
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "notebooks"
        shutil.copytree(ROOT / "notebooks", copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        (Path(scratch) / "data").symlink_to(ROOT / "data")
        for path in sorted(copy.glob("[0-9][0-9]_*.ipynb")):
            notebook = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            NotebookClient(notebook, timeout=1200, resources={"metadata": {"path": str(copy)}}).execute()
            times[path.name] = time.perf_counter() - start
    return times


MEMORY_PROBE = """
import sys, tracemalloc
from helpers.data import intraday_log_returns, load_prices
from helpers.panel import compute_ci, compute_ci_chunked
returns = intraday_log_returns(load_prices(sys.argv[1]))
run = compute_ci_chunked if sys.argv[3] == "chunked" else compute_ci
tracemalloc.start()
run(returns, int(sys.argv[2]), seed=1)
print(tracemalloc.get_traced_memory()[1])
"""


def peak_memory(cfg):
    """Section 6: peak memory allocated (Python objects and NumPy/pandas buffers, as traced by
    ``tracemalloc``) while the full-panel bootstrap runs serially, plain and chunked by stock,
    each in a fresh process after the data is loaded, in MB."""
    out = {"samples": cfg["memory_samples"]}
    for variant in ("plain", "chunked"):
        result = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(ROOT / "data"), str(cfg["memory_samples"]),
                                 variant], capture_output=True, text=True, check=True, cwd=ROOT)
        out[variant] = int(result.stdout.strip().splitlines()[-1]) / 1e6
    return out


def target_rows(results, quick):
    """Each target of the course against what this run measured."""
    scaling = {(r["jobs"], r["workers"]): r for r in results["pool"]["scaling"]}
    sleep_two = scaling.get(("sleep jobs", 2), {}).get("speed_up", float("nan"))
    l06 = results["lesson06"]["full panel"]
    l07 = results["lesson07"]
    rows = [
        ("2-worker pool on the sleep jobs", "≥ 1.8x", sleep_two, sleep_two >= 1.8),
        (f"2-worker pool, pandas bootstrap ({l06['samples']} samples, full panel)", "≥ 1.7x", l06["speed_up"],
         l06["speed_up"] >= 1.7 and l06["samples"] >= 200),
        ("compiled full-panel bootstrap, warm (s)", "≤ 0.5 s", l07["compiled (Numba, warm)"]["median"],
         l07["compiled (Numba, warm)"]["median"] <= 0.5),
        ("compiled vs scipy.stats.bootstrap", "≥ 10x", l07["compiled vs scipy"], l07["compiled vs scipy"] >= 10),
        (f"Numba VFI, {results['lesson09']['numba_full_solution']['grid']} grid points (s)", "< 1 s",
         results["lesson09"]["numba_full_solution"]["median"], results["lesson09"]["numba_full_solution"]["median"] < 1),
    ]
    return [{"target": name, "wanted": wanted, "measured": value,
             "verdict": "not judged (quick mode)" if quick else ("met" if ok else "MISSED")}
            for name, wanted, value, ok in rows]


def fmt(figures):
    return f"{figures['median']:.3f} s (min {figures['min']:.3f}, max {figures['max']:.3f}, n={figures['runs']})"


def markdown(results):
    """The report as Markdown tables."""
    m = results["machine"]
    lines = ["# Benchmarks of the Concurrency in Python course", "",
             f"Measured {results['when']} on {m['cores']} cores ({m['cpu']}), {m['system']}; Python {m['python']}, "
             f"NumPy {m['numpy']}, pandas {m['pandas']}, SciPy {m['scipy']}, Numba {m['numba']}, Dask {m['dask']}.",
             "Figures: median of several runs (min, max, number of runs). Ratios compare medians from this run."]
    if results["quick"]:
        lines.append("**Quick mode: tiny sizes, a smoke test. These figures mean nothing.**")
    lines += ["", "## Targets", "", "| target | wanted | measured | verdict |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['target']} | {r['wanted']} | {r['measured']:.3f} | {r['verdict']} |" for r in results["targets"]]
    pool = results["pool"]
    lines += ["", "## 1. Pool efficiency", "", "| jobs | workers | time | speed-up | efficiency |",
              "| --- | --- | --- | --- | --- |"]
    for r in pool["scaling"]:
        extra = f"{r['speed_up']:.2f}x | {r['efficiency']:.0%}" if "speed_up" in r else "1.00x | -"
        lines.append(f"| {r['jobs']} | {r['workers']} | {fmt(r)} | {extra} |")
    lines += ["", f"- Starting a 2-worker pool and running one trivial job: {fmt(pool['pool_startup'])}",
              f"- One future's round trip on a running pool: {pool['future_round_trip']['median'] * 1e3:.3f} ms (median)",
              "", f"`map` over {pool['tiny_jobs']} tiny jobs on 2 workers:", "", "| chunksize | time |", "| --- | --- |"]
    lines += [f"| {size} | {fmt(f)} |" for size, f in pool["chunksize"].items()]
    lines += ["", "## 2. Lesson 06: the pandas bootstrap", "", "| data | samples | serial | 2 workers | speed-up |",
              "| --- | --- | --- | --- | --- |"]
    lines += [f"| {name} | {r['samples']} | {fmt(r['serial'])} | {fmt(r['2 workers'])} | {r['speed_up']:.2f}x |"
              for name, r in results["lesson06"].items()]
    l07 = results["lesson07"]
    lines += ["", f"## 3. Lesson 07: the full panel, {l07['samples']} samples", "",
              "| approach | time | vs pandas serial |", "| --- | --- | --- |",
              f"| pandas, serial (section 2) | {fmt(results['lesson06']['full panel']['serial'])} | 1.00x |"]
    lines += [f"| {name} | {fmt(l07[name])} | {l07['vs pandas serial'][name]:.1f}x |" for name in l07["vs pandas serial"]]
    lines += ["", f"Compiled vs scipy.stats.bootstrap: {l07['compiled vs scipy']:.1f}x. Compile time of the kernel "
              f"(a fresh, uncached compilation): {l07['compile_seconds']:.2f} s. Numba threads: {l07['numba_threads']}."]
    l09 = results["lesson09"]
    lines += ["", "## 4. Lesson 09: value function iteration", "",
              "| grid points | iterations | loops | pool of 2 | Numba | pool vs loops | Numba vs loops |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['grid']} | {r['iterations']} | {fmt(r['loops'])} | {fmt(r['pool of 2'])} | {fmt(r['Numba'])} | "
              f"{r['pool vs loops']:.2f}x | {r['Numba vs loops']:.0f}x |" for r in l09["per_grid"]]
    full = l09["numba_full_solution"]
    lines += ["", f"Numba, full solution on {full['grid']} grid points to a tolerance of 1e-6: {fmt(full)}"]
    lines += ["", "## 5. The course: executing each notebook top to bottom", ""]
    if results["notebooks"]:
        lines += ["| notebook | seconds |", "| --- | --- |"]
        lines += [f"| {name} | {seconds:.1f} |" for name, seconds in results["notebooks"].items()]
        lines.append(f"| all | {sum(results['notebooks'].values()):.1f} |")
    else:
        lines.append("Skipped in quick mode.")
    mem = results["memory"]
    lines += ["", "## 6. Peak memory of the full-panel bootstrap", "",
              f"Peak memory allocated (tracemalloc) while a fresh process runs {mem['samples']} samples serially, "
              "after loading the data:", "", "| variant | MB |", "| --- | --- |",
              f"| plain (all stocks at once) | {mem['plain']:.0f} |", f"| chunked by stock | {mem['chunked']:.0f} |"]
    return "\n".join(lines) + "\n"


def plots(results, out):
    """Speed-up against workers, and the lesson-07 comparison."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for jobs in ("sleep jobs", "CPU-bound jobs"):
        rows = [r for r in results["pool"]["scaling"] if r["jobs"] == jobs and "speed_up" in r]
        left.plot([r["workers"] for r in rows], [r["speed_up"] for r in rows], marker="o", label=jobs)
    workers = [r["workers"] for r in results["pool"]["scaling"] if "speed_up" in r]
    left.plot(sorted(set(workers)), sorted(set(workers)), linestyle="--", color="gray", label="ideal")
    left.set(xlabel="workers", ylabel="speed-up over serial", title="Process pool scaling")
    left.legend()
    l07 = results["lesson07"]
    names = ["pandas, serial"] + list(l07["vs pandas serial"])
    seconds = [results["lesson06"]["full panel"]["serial"]["median"]] + [l07[n]["median"] for n in names[1:]]
    right.barh(names[::-1], seconds[::-1])
    right.set(xscale="log", xlabel="seconds (log scale)", title=f"Full panel, {l07['samples']} samples")
    for axis in (left, right):
        axis.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "benchmarks.png", dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, no figure means anything")
    parser.add_argument("--out", default="results", help="folder for benchmarks.md, .json and .png")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ensure_data(ROOT / "data")
    returns = intraday_log_returns(load_prices(ROOT / "data"))
    if args.quick:
        returns = returns.loc["2007-01":"2007-02"]
    results = {"quick": args.quick, "when": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(), "config": cfg}
    steps = [("pool", lambda: pool_efficiency(cfg)), ("lesson06", lambda: lesson06(cfg, returns)),
             ("lesson07", lambda: lesson07(cfg, returns, results["lesson06"]["full panel"]["serial"])),
             ("lesson09", lambda: lesson09(cfg)),
             ("notebooks", lambda: notebook_wall_times() if cfg["notebooks"] else {}),
             ("memory", lambda: peak_memory(cfg))]
    for name, step in steps:
        print(f"[bench] {name} ...", flush=True)
        results[name] = step()
    results["targets"] = target_rows(results, args.quick)
    (out / "benchmarks.json").write_text(json.dumps(results, indent=2, default=str))
    (out / "benchmarks.md").write_text(markdown(results))
    plots(results, out)
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
