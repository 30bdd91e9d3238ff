"""Benchmark of the model: speed per run and per month, scaling, peak memory.

    python benchmarks/bench_model.py                 # 50, 200 and 1000 organisations
    python benchmarks/bench_model.py --ref HEAD~1    # the same, for the code at a git ref
    python benchmarks/bench_model.py --compare HEAD  # working tree vs a ref, alternating
    python benchmarks/bench_model.py --sizes 200 --repeats 50

Each size runs in its own subprocess (so one size's memory does not carry over
to the next). In it, ``CollaborationModel(rng=1, n_organisations=n).run()``
(120 months, default per-month model-level collection) is timed with
``time.perf_counter`` as the best of ``--repeats`` runs; construction alone is
timed the same way, and the per-month time is (run - construction) / months.

Memory is measured in a second, fresh subprocess per size that builds and runs
one model: its peak resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``
read in that child; the whole process, so the interpreter, numpy, pandas and
mesa too, about 150 MiB of which are there after the imports) and then the
``tracemalloc`` peak of a second run (memory allocated while the model is built
and run, numpy arrays included). A fresh process matters: mesa 3.3 keeps every
model it has seen (``Agent._ids`` is keyed by model), so memory grows with the
number of runs in one process.

``--compare REF`` runs the working tree and the code at a git ref in the same
subprocess, alternating one run of each, and reports both bests and their
ratio: on a shared machine whose load drifts, that ratio is the steadiest
figure, as both sides see the same load.

Prints a Markdown table. Timings vary with the load of the machine: run it on
an otherwise idle machine, and compare only figures measured together.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REPEATS = {50: 30, 200: 30, 1000: 8}


def measure(n: int, repeats: int) -> dict:
    """Run in the child: time and memory for one size."""
    import resource
    import time
    import tracemalloc

    from ioc_sim import CollaborationModel

    def best(fn, k: int) -> float:
        times = []
        for _ in range(k):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    if repeats == 0:  # the memory child: one run for the peak RSS, one traced
        base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        CollaborationModel(rng=1, n_organisations=n).run()
        rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        CollaborationModel(rng=1, n_organisations=n).run()
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {
            "rss_mib": rss_kib / 1024,
            "base_mib": base_kib / 1024,
            "traced_mib": traced_peak / 2**20,
        }
    model = CollaborationModel(rng=1, n_organisations=n).run()  # warm-up, and the sizes
    months = model.months
    edges = model.sim.E
    run = best(lambda: CollaborationModel(rng=1, n_organisations=n).run(), repeats)
    build = best(lambda: CollaborationModel(rng=1, n_organisations=n), repeats)
    return {
        "n": n,
        "months": months,
        "edges": edges,
        "run": run,
        "build": build,
        "per_month": (run - build) / months,
        "org_months_per_s": n * months / run,
        "repeats": repeats,
    }


def compare(n: int, repeats: int) -> dict:
    """Run in the child: alternate runs of the working tree and of ``ioc_sim_ref``."""
    import time

    import ioc_sim_ref

    import ioc_sim

    def once(cls) -> float:
        t = time.perf_counter()
        cls(rng=1, n_organisations=n).run()
        return time.perf_counter() - t

    new, old = ioc_sim.CollaborationModel, ioc_sim_ref.CollaborationModel
    once(new), once(old)  # warm-up
    times_new, times_old = [], []
    for _ in range(repeats):
        times_old.append(once(old))
        times_new.append(once(new))
    return {"n": n, "repeats": repeats, "new": min(times_new), "old": min(times_old)}


def export_ref(ref: str, tmp: str, rename: bool = False) -> str:
    """Put the ``ioc_sim`` of git ``ref`` in ``tmp`` (as ``ioc_sim_ref`` if ``rename``)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "ioc_sim"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
    if rename:
        pkg = Path(tmp) / "ioc_sim_ref"
        (Path(tmp) / "ioc_sim").rename(pkg)
        for f in pkg.rglob("*.py"):  # make the copy import itself, not the working tree
            f.write_text(
                f.read_text()
                .replace("ioc_sim.", "ioc_sim_ref.")
                .replace("from ioc_sim import", "from ioc_sim_ref import")
            )
    return tmp


def child_env(ref: str | None, tmp: str) -> dict[str, str]:
    """Environment whose ``import ioc_sim`` is the working tree, or the code at ``ref``."""
    env = dict(os.environ)
    path = str(ROOT) if ref is None else export_ref(ref, tmp)
    env["PYTHONPATH"] = path + os.pathsep + env.get("PYTHONPATH", "")
    return env


def table(rows: list[dict], label: str) -> str:
    out = [
        f"Model benchmark ({label}); best of N runs, 120 months, default collection.",
        "",
        "| organisations | ties (ordered pairs) | N | run (ms) | build (ms) "
        "| per month (us) | org-months/s | peak RSS (MiB) | tracemalloc peak (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['n']} | {r['edges']} | {r['repeats']} | {r['run'] * 1e3:.1f} "
            f"| {r['build'] * 1e3:.1f} | {r['per_month'] * 1e6:.0f} "
            f"| {r['org_months_per_s']:,.0f} | {r['rss_mib']:.0f} "
            f"| {r['traced_mib']:.1f} |"
        )
    by_n = {r["n"]: r for r in rows}
    if 200 in by_n and 1000 in by_n:
        ratio = by_n[1000]["per_month"] / by_n[200]["per_month"]
        ties = by_n[1000]["edges"] / by_n[200]["edges"]
        out += ["", f"Per-month time, 1000 / 200 organisations: {ratio:.2f}x (ties: {ties:.2f}x)."]
    base = max(r["base_mib"] for r in rows)
    out += [
        "",
        "Peak RSS: getrusage(RUSAGE_SELF).ru_maxrss of a fresh subprocess that built "
        f"and ran one model (whole process; up to {base:.0f} MiB of it is there after "
        "the imports). tracemalloc peak: allocations during one build and run.",
    ]
    return "\n".join(out)


def run_compare(args: argparse.Namespace) -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), export_ref(args.compare, tmp, True), env.get("PYTHONPATH", "")]
        )
        for n in args.sizes:
            repeats = args.repeats or DEFAULT_REPEATS.get(n, 10)
            done = subprocess.run(
                [sys.executable, __file__, "--child-compare", str(n), "--repeats", str(repeats)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(
        f"Working tree vs {args.compare}, alternating runs in one process; best of N, "
        "120 months, default collection.\n"
    )
    print(f"| organisations | N | {args.compare} (ms) | working tree (ms) | speed-up |")
    print("|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['n']} | {r['repeats']} | {r['old'] * 1e3:.1f} | {r['new'] * 1e3:.1f} "
            f"| {r['old'] / r['new']:.2f}x |"
        )
    if args.json:
        print(json.dumps(rows, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 1000])
    ap.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="runs per size (default: 30, or 8 for 1000 organisations)",
    )
    ap.add_argument("--ref", default=None, help="benchmark the ioc_sim of this git ref")
    ap.add_argument(
        "--compare",
        metavar="REF",
        default=None,
        help="alternate runs of the working tree and of this git ref",
    )
    ap.add_argument("--json", action="store_true", help="print raw results as JSON too")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child-compare", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(measure(args.child, args.repeats)))
        return 0
    if args.child_compare is not None:
        print(json.dumps(compare(args.child_compare, args.repeats)))
        return 0
    if args.compare:
        return run_compare(args)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = child_env(args.ref, tmp)
        for n in args.sizes:
            row = {}
            for repeats in (args.repeats or DEFAULT_REPEATS.get(n, 10), 0):  # time, memory
                done = subprocess.run(
                    [sys.executable, __file__, "--child", str(n), "--repeats", str(repeats)],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                row.update(json.loads(done.stdout.strip().splitlines()[-1]))
            rows.append(row)
    print(table(rows, f"code at {args.ref}" if args.ref else "working tree"))
    if args.json:
        print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
