"""The benchmark report: the course's targets judged, Markdown tables and plots."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NOT_AVAILABLE = "not available"


def available(section):
    """Whether a section of the results ran (a section that failed holds only its reason)."""
    return isinstance(section, dict) and NOT_AVAILABLE not in section


def _sleep_speed_up(results):
    """Target: a 2-worker pool on the sleep jobs."""
    row = next(r for r in results["pool"]["scaling"] if r["jobs"] == "sleep jobs" and r["workers"] == 2)
    return row["speed_up"], "2-worker pool on the sleep jobs", "≥ 1.8x", "x", row["speed_up"] >= 1.8


def _pandas_speed_up(results):
    """Target: a 2-worker pool on lesson 06's pandas bootstrap, the data moved the best way the
    course teaches (once per worker, lesson 11), full panel, enough samples to judge."""
    full = results["lesson06"]["full panel"]
    speed_up = full["speed_up_initializer"]
    ok = speed_up >= 1.8 and full["samples"] >= 1000
    return (speed_up, f"2-worker pool on the pandas bootstrap, data sent once per worker, full panel, "
            f"{full['samples']} samples (target needs ≥ 1000)", "≥ 1.8x", "x", ok)


def _compiled_seconds(results):
    """Target: the warm compiled bootstrap on the full panel, to 99% intervals."""
    seconds = results["lesson07"]["compiled (Numba, warm)"]["median"]
    samples = results["lesson07"]["samples"]
    return seconds, f"compiled full-panel bootstrap, {samples} samples, warm", "≤ 0.25 s", " s", seconds <= 0.25


def _compiled_vs_scipy(results):
    """Target: the compiled bootstrap against scipy.stats.bootstrap on the same work."""
    speed_up = results["lesson07"]["compiled vs scipy"]
    return speed_up, "compiled bootstrap vs scipy.stats.bootstrap", "≥ 30x", "x", speed_up >= 30


def _numba_vfi(results):
    """Target: Numba's full VFI solution on the largest grid."""
    full = results["lesson09"]["numba_full_solution"]
    return (full["median"], f"Numba VFI, {full['grid']} grid points, full solution", "< 1 s", " s",
            full["median"] < 1)


TARGETS = [("pool", _sleep_speed_up), ("lesson06", _pandas_speed_up), ("lesson07", _compiled_seconds),
           ("lesson07", _compiled_vs_scipy), ("lesson09", _numba_vfi)]


def target_rows(results):
    """Each of the course's targets (for a 2-core machine) against what this run measured."""
    rows = []
    for section, judge in TARGETS:
        if not available(results[section]):
            rows.append({"target": f"({section})", "wanted": "-", "measured": None,
                         "verdict": f"{NOT_AVAILABLE}: {results[section][NOT_AVAILABLE]}"})
            continue
        value, name, wanted, unit, ok = judge(results)
        verdict = "not judged (quick mode)" if results["quick"] else ("met" if ok else "MISSED")
        rows.append({"target": name, "wanted": wanted, "measured": value, "unit": unit.strip(), "verdict": verdict})
    return rows


def fmt(figures):
    """A timing as 'median s (min, max, number of runs)'."""
    return f"{figures['median']:.3f} s (min {figures['min']:.3f}, max {figures['max']:.3f}, n={figures['runs']})"


def _targets(results):
    """The targets table."""
    lines = ["## Targets (for a 2-core machine)", "", "| target | wanted | measured | verdict |",
             "| --- | --- | --- | --- |"]
    for r in results["targets"]:
        measured = "-" if r["measured"] is None else f"{r['measured']:.3f}{'x' if r['unit'] == 'x' else ' s'}"
        lines.append(f"| {r['target']} | {r['wanted']} | {measured} | {r['verdict']} |")
    return lines


def _pool(results):
    """Section 1 as Markdown."""
    pool = results["pool"]
    lines = [f"Sleep jobs sleep {pool['sleep_seconds']} s each; a CPU-bound job is {pool['cpu_steps']:,} steps of "
             "pure-Python arithmetic. Pool times include starting and closing the pool.", "",
             "| jobs | workers | time | speed-up | efficiency |", "| --- | --- | --- | --- | --- |"]
    for r in pool["scaling"]:
        extra = f"{r['speed_up']:.2f}x | {r['efficiency']:.0%}" if "speed_up" in r else "1.00x | -"
        lines.append(f"| {r['count']} {r['jobs']} | {r['workers']} | {fmt(r)} | {extra} |")
    lines += ["", f"- Starting a 2-worker pool, running one trivial job, closing it: {fmt(pool['pool_startup'])}",
              f"- One future's round trip (submit a trivial job, get its result) on a running pool: "
              f"{pool['future_round_trip']['median'] * 1e3:.3f} ms (median of {pool['future_round_trip']['runs']}; "
              f"min {pool['future_round_trip']['min'] * 1e3:.3f}, max {pool['future_round_trip']['max'] * 1e3:.3f})",
              "", f"`executor.map` over {pool['tiny_jobs']:,} tiny jobs on 2 workers (pool start-up included):", "",
              "| chunksize | time | vs chunksize 1 |", "| --- | --- | --- |"]
    first = next(iter(pool["chunksize"].values()))
    lines += [f"| {size} | {fmt(f)} | {first['median'] / f['median']:.1f}x |" for size, f in pool["chunksize"].items()]
    return lines


def _lesson06(results):
    """Section 2 as Markdown."""
    l06 = results["lesson06"]
    ways = ["serial", "2 workers, data with every batch", "2 workers, data once per worker",
            "lecture's way, serial (scaled up)"]
    lines = ["Serial: `compute_ci` one sample after another in this process. 2 workers, data with every batch: "
             "`compute_ci(..., max_workers=2)` (lesson 06). 2 workers, data once per worker: "
             "`compute_ci_initializer(..., max_workers=2)` (lesson 11). Pool start-up included. The lecture's "
             "groupby/apply version is timed on a few samples and scaled up to the same number (marked as such).",
             "", "| data | days x stocks | samples | way | time | speed-up over serial |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, r in l06.items():
        for way in ways:
            label = way if "lecture" not in way else f"{way} from {r['lecture_samples']} samples"
            lines.append(f"| {name} | {r['days']} x {r['stocks']} | {r['samples']} | {label} | {fmt(r[way])} | "
                         f"{r['serial']['median'] / r[way]['median']:.2f}x |")
    return lines


def _lesson07(results):
    """Section 3 as Markdown (ratios against section 2's pandas serial run, where it ran)."""
    l07, l06 = results["lesson07"], results["lesson06"]
    methods = ["vectorized NumPy", "scipy.stats.bootstrap", "compiled (Numba, warm)"]
    lines = [f"The full panel, {l07['samples']} samples.", "", "| approach | time | vs pandas serial | vs scipy |",
             "| --- | --- | --- | --- |"]
    if "vs pandas serial" in l07:
        scipy_over_pandas = l07["vs pandas serial"]["scipy.stats.bootstrap"]
        lines.append(f"| pandas, serial (section 2) | {fmt(l06['full panel']['serial'])} | 1.0x | "
                     f"{1 / scipy_over_pandas:.2f}x |")
    for name in methods:
        vs_pandas = f"{l07['vs pandas serial'][name]:.1f}x" if "vs pandas serial" in l07 else "-"
        vs_scipy = l07["scipy.stats.bootstrap"]["median"] / l07[name]["median"]
        lines.append(f"| {name} | {fmt(l07[name])} | {vs_pandas} | {vs_scipy:.1f}x |")
    lines += ["", f"Compiling the kernel afresh (no on-disk cache) and running it once on 2 samples: "
              f"{l07['compile_seconds']:.2f} s (one run). Numba threads: {l07['numba_threads']}."]
    return lines


def _lesson09(results):
    """Section 4 as Markdown."""
    l09 = results["lesson09"]
    lines = [f"Whole solves from V = 0 until successive value functions differ by less than {l09['tolerance']:g}, as "
             "lesson 09 times them (the first iterations cost more than later ones, so a few iterations scaled up "
             "would mislead). The pool of 2 is started once, outside the timing, as lesson 09 keeps it across "
             "iterations.",
             "", "| grid points | iterations | loops | pool of 2 | Numba | pool vs loops | Numba vs loops |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['grid']} | {r['iterations']} | {fmt(r['loops'])} | {fmt(r['pool of 2'])} | {fmt(r['Numba'])} | "
              f"{r['pool vs loops']:.2f}x | {r['Numba vs loops']:.0f}x |" for r in l09["per_grid"]]
    full = l09["numba_full_solution"]
    lines += ["", f"Numba, full solution on {full['grid']} grid points to a tolerance of {full['tolerance']:g} "
              f"({full['iterations']} iterations): {fmt(full)}"]
    return lines


def _notebooks(results):
    """Section 5 as Markdown."""
    times = results["notebooks"]
    lines = ["Each notebook run top to bottom in a fresh kernel (nbclient) on a temporary copy, default start "
             "method; one run each.", "", "| notebook | seconds |", "| --- | --- |"]
    lines += [f"| {name} | {seconds:.1f} |" for name, seconds in times.items()]
    lines.append(f"| all | {sum(times.values()):.1f} |")
    return lines


def _memory(results):
    """Section 6 as Markdown."""
    mem = results["memory"]
    lines = [f"A fresh Python process loads the data, then runs {mem['samples']} samples serially. tracemalloc: the "
             "peak of memory allocated through Python (objects and NumPy/pandas buffers) during the run. peak RSS: "
             "how far the process's peak resident memory rose above its resident memory after loading (Linux). "
             "One run each.", "", "| variant | " + " | ".join(f"{m} (MB)" for m in mem["methods"]) + " |",
             "| --- |" + " --- |" * len(mem["methods"])]
    names = {"plain": "plain (all stocks at once)", "chunked": "chunked by stock"}
    lines += [f"| {names[v]} | " + " | ".join(f"{mem['MB'][v][m]:.1f}" for m in mem["methods"]) + " |"
              for v in ("plain", "chunked")]
    return lines


def _amdahl(results):
    """Section 7 as Markdown: the parts, the prediction against the measurement, the ceilings."""
    l12 = results["amdahl"]
    lines = [f"Lesson 06's small sample (January 2007, CSCO and BA), {l12['samples']} bootstrap samples, from the "
             "files to the intervals. Each part is timed on its own (the fastest of a few tries); the whole run in one "
             f"process takes {fmt(l12['one_process'])} ({l12['one_process_from_parts']:.3f} s by its parts). The "
             "pools are started before the clock runs; a speed-up is the one-process median over the pool's, and "
             "the prediction is Amdahl's law from the parts over the same one-process median.", "",
             "| part | seconds |", "| --- | --- |"]
    lines += [f"| {part} | {seconds:.4f} |" for part, seconds in l12["parts"].items()]
    lines += ["", "| workers | time | predicted | measured | measured / predicted |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['workers']} | {fmt(r)} | {r['predicted']:.2f}x | {r['measured']:.2f}x | "
              f"{r['measured'] / r['predicted']:.2f} |" for r in l12["scaling"]]
    counts = list(next(iter(l12["ways"].values()))["predicted"])
    lines += ["", "Amdahl's prediction for each way of running the bootstrap (lesson 12, 12.8), over its own "
              "one-process time:", "", "| way | serial (s) | parallel (s) | serial share | "
              + " | ".join(f"{n} worker{'' if n == '1' else 's'}" for n in counts) + " | ceiling |",
              "| --- | --- | --- | --- | " + "--- | " * len(counts) + "--- |"]
    lines += [f"| {way} | {w['serial']:.3f} | {w['parallel']:.3f} | {w['serial_share']:.1%} | "
              + " | ".join(f"{w['predicted'][n]:.2f}x" for n in counts) + f" | {w['ceiling']:.2f}x |"
              for way, w in l12["ways"].items()]
    return lines


SECTIONS = [("pool", "1. Pool efficiency", _pool), ("lesson06", "2. Lesson 06: the pandas bootstrap", _lesson06),
            ("lesson07", "3. Lesson 07: vectorized, SciPy and compiled", _lesson07),
            ("lesson09", "4. Lesson 09: value function iteration", _lesson09),
            ("notebooks", "5. The course: executing each notebook top to bottom", _notebooks),
            ("memory", "6. Peak memory of the full-panel bootstrap", _memory),
            ("amdahl", "7. Lesson 12: Amdahl's law, predicted and measured", _amdahl)]


def markdown(results):
    """The whole report as Markdown: machine, targets, then one section per benchmark."""
    m = results["machine"]
    lines = ["# Benchmarks of the Concurrency in Python course", "",
             f"Measured {results['when']} on {m['cores']} cores ({m['cpu']}), {m['system']}; Python {m['python']}, "
             f"NumPy {m['numpy']}, pandas {m['pandas']}, SciPy {m['scipy']}, Numba {m['numba']}, Dask {m['dask']}, "
             f"matplotlib {m['matplotlib']}. The whole run took {results['total_seconds'] / 60:.1f} min.", "",
             "Each figure is the median of several runs (with min, max and the number of runs); each ratio compares "
             "two medians measured in this run."]
    if results["quick"]:
        lines += ["", "**Quick mode: tiny sizes, a smoke test of the benchmark code. These figures mean nothing.**"]
    lines += [""] + _targets(results)
    for key, title, section in SECTIONS:
        lines += ["", f"## {title}", ""]
        if not available(results[key]):
            lines.append(f"{NOT_AVAILABLE}: {results[key][NOT_AVAILABLE]}")
        else:
            lines += section(results)
    return "\n".join(lines) + "\n"


def plots(results, path):
    """Pool speed-up against workers, lesson 07's approaches, lesson 09's solvers, lesson 12's
    prediction against measurement; one figure."""
    fig, axes = plt.subplots(1, 4, figsize=(20, 4))
    scaling, l07, l09, l12 = axes
    if available(results["pool"]):
        rows = [r for r in results["pool"]["scaling"] if "speed_up" in r]
        for jobs in ("sleep jobs", "CPU-bound jobs"):
            mine = [r for r in rows if r["jobs"] == jobs]
            scaling.plot([r["workers"] for r in mine], [r["speed_up"] for r in mine], marker="o", label=jobs)
        workers = sorted({r["workers"] for r in rows})
        scaling.plot(workers, workers, linestyle="--", color="gray", label="ideal")
        scaling.legend()
    scaling.set(xlabel="workers", ylabel="speed-up over serial", title="Process pool scaling")
    if available(results["lesson07"]):
        names = ["vectorized NumPy", "scipy.stats.bootstrap", "compiled (Numba, warm)"]
        seconds = [results["lesson07"][name]["median"] for name in names]
        if available(results["lesson06"]):
            names, seconds = ["pandas, serial"] + names, [results["lesson06"]["full panel"]["serial"]["median"]] + seconds
        l07.barh(names[::-1], seconds[::-1])
        l07.set_title(f"Full panel, {results['lesson07']['samples']} samples")
    l07.set(xscale="log", xlabel="seconds (log scale)")
    if available(results["lesson09"]):
        grids = [r["grid"] for r in results["lesson09"]["per_grid"]]
        for solver in ("loops", "pool of 2", "Numba"):
            l09.plot(grids, [r[solver]["median"] for r in results["lesson09"]["per_grid"]], marker="o", label=solver)
        l09.legend()
        l09.set_title(f"VFI, whole solves to {results['lesson09']['tolerance']:g}")
    l09.set(xlabel="grid points", ylabel="seconds (log scale)", yscale="log")
    if available(results["amdahl"]):
        rows = results["amdahl"]["scaling"]
        l12.plot([r["workers"] for r in rows], [r["predicted"] for r in rows], marker="o", label="Amdahl's prediction")
        l12.plot([r["workers"] for r in rows], [r["measured"] for r in rows], marker="s", label="measured")
        l12.plot([r["workers"] for r in rows], [r["workers"] for r in rows], linestyle=":", color="gray", label="ideal")
        l12.legend()
        l12.set_title(f"Small sample, {results['amdahl']['samples']} samples")
    l12.set(xlabel="workers", ylabel="speed-up over one process")
    for axis in axes:
        axis.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
