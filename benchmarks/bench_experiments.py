"""Throughput of the experiment runner on rows of the sobol_benchmark experiment.

    python benchmarks/bench_experiments.py [--seconds 60] [--workers 1 2]
    python benchmarks/bench_experiments.py --compare HEAD [--rows 48] [--rounds 3]

Measures, for rows of ``experiments/sobol_benchmark.toml`` (200 organisations,
120 months, 5 replicates per row):

* ``solo``: one ``CollaborationModel`` per run, stepped to the end (the
  naive way, one replicate at a time);
* ``batch``: :func:`ioc_sim.experiments.tasks.run_task`, a row's 5 replicates
  advanced together, outcomes reduced month by month;
* ``runner``: the whole runner (executor, Parquet parts, manifest) for
  ``--seconds`` per worker count, stopped like Ctrl-C, counted from the
  manifest.

Prints runs per second. With ``--compare REF``, instead times ``run_task`` on the
same rows for the working tree and for the package at git ``REF``, alternating
row by row in one process so that both see the same machine load, and prints
the mean time per row of each and the speed-up. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENT = ROOT / "experiments" / "sobol_benchmark.toml"


def bench_in_process(rows: int) -> dict[str, float]:
    from ioc_sim import CollaborationModel
    from ioc_sim.experiments.spec import load_experiment
    from ioc_sim.experiments.tasks import make_tasks, run_task

    exp = load_experiment(EXPERIMENT)
    # Rows spread over the design: their cost grows with partners_per_org (2 to 12).
    wanted = {int(r) for r in np.linspace(0, exp.n_rows - 1, rows)}
    tasks = [t for t in make_tasks(exp) if t.row in wanted]
    t0 = time.perf_counter()
    for task in tasks:
        for seed in task.seeds:
            CollaborationModel(rng=seed, **task.kwargs).run()
    solo = rows * exp.replicates / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for task in tasks:
        run_task(task)
    batch = rows * exp.replicates / (time.perf_counter() - t0)
    return {"solo": solo, "batch": batch}


def bench_runner(workers: int, seconds: float) -> float:
    out = Path(tempfile.mkdtemp(prefix="ioc-sim-bench-"))
    try:
        cmd = [
            sys.executable,
            "-m",
            "ioc_sim",
            "experiment",
            "run",
            str(EXPERIMENT),
            "--out",
            str(out),
            "--workers",
            str(workers),
            "--quiet",
        ]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        time.sleep(seconds)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=120)
        m = json.loads((out / "manifest.json").read_text())
        started = m["sessions"][-1]["started"]
        ended = m["sessions"][-1]["ended"]
        from datetime import datetime

        span = (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()
        return m["finished"] / span
    finally:
        shutil.rmtree(out, ignore_errors=True)


def compare_rows(rows: int, rounds: int) -> None:
    """In a child whose path holds ``ioc_sim_ref``: alternate rows of both versions."""
    import importlib

    def modules(pkg: str):
        """(module with make_tasks and run_task, module with load_experiment) of any layout:
        flat (``pkg.execution``, ``pkg.experiments``), layered (``pkg.experiments.execution``,
        ``.spec``), or with tasks on their own (``pkg.experiments.tasks``, ``.spec``)."""
        for tasks, spec in (
            ("experiments.tasks", "experiments.spec"),
            ("experiments.execution", "experiments.spec"),
            ("execution", "experiments"),
        ):
            try:
                return (
                    importlib.import_module(f"{pkg}.{tasks}"),
                    importlib.import_module(f"{pkg}.{spec}"),
                )
            except ModuleNotFoundError:
                continue
        raise ModuleNotFoundError(f"no experiment runner found in {pkg}")

    ref_execution, ref_experiments = modules("ioc_sim_ref")
    execution, experiments = modules("ioc_sim")

    def tasks(execution, experiments):
        exp = experiments.load_experiment(EXPERIMENT)
        wanted = {int(r) for r in np.linspace(0, exp.n_rows - 1, rows)}
        return [t for t in execution.make_tasks(exp) if t.row in wanted]

    sides = {
        "ref": (ref_execution.run_task, tasks(ref_execution, ref_experiments)),
        "new": (execution.run_task, tasks(execution, experiments)),
    }
    spent = {"ref": 0.0, "new": 0.0}
    for run, todo in sides.values():  # warm-up: compiled kernels loaded
        run(todo[0])
    for _ in range(rounds):
        for i in range(rows):
            for name, (run, todo) in sides.items():
                t0 = time.perf_counter()
                run(todo[i])
                spent[name] += time.perf_counter() - t0
    n = rows * rounds
    ref, new = 1000 * spent["ref"] / n, 1000 * spent["new"] / n
    print(
        f"mean per row over {rows} rows x {rounds} rounds: ref {ref:.1f} ms, working tree "
        f"{new:.1f} ms, speed-up {ref / new:.2f}x"
    )


def run_compare(ref: str, rows: int, rounds: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_model import export_ref

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), export_ref(ref, tmp, True), env.get("PYTHONPATH", "")]
        )
        code = (
            f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"import bench_experiments as b; b.compare_rows({rows}, {rounds})"
        )
        print(
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; run_task on rows "
            f"of {EXPERIMENT.name}, {ref} against the working tree"
        )
        subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20, help="rows for the in-process timing")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds per runner timing")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument(
        "--compare", metavar="REF", help="alternate rows of the working tree and of git REF"
    )
    parser.add_argument("--rounds", type=int, default=3, help="passes over the rows (--compare)")
    args = parser.parse_args()
    if args.compare:
        run_compare(args.compare, args.rows, args.rounds)
        return
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; rows of "
        f"{EXPERIMENT.name}: 200 organisations x 120 months, 5 replicates per row"
    )
    r = bench_in_process(args.rows)
    print(f"solo   CollaborationModel per run, in-process   {r['solo']:8.1f} runs/s")
    print(f"batch  run_task, 5 replicates together          {r['batch']:8.1f} runs/s")
    for w in args.workers:
        rate = bench_runner(w, args.seconds)
        print(
            f"runner ioc-sim experiment run --workers {w:<3}      {rate:8.1f} runs/s "
            "(including start-up, Parquet and manifest)"
        )


if __name__ == "__main__":
    main()
