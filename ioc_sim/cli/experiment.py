"""Command line: ``ioc-sim experiment run|analyse|show|selftest|list``.

Thin like the rest of the command line: parse options, call the library,
print. :func:`add_parser` registers the subcommand on ``ioc-sim``'s parser and
:func:`cmd_experiment` dispatches it; a user mistake raises
:class:`~ioc_sim.errors.ConfigError`, which ``ioc-sim`` prints as one line
with exit status 2.

Exit statuses: 0 done; 1 finished with failed runs, refused indices or a
failed self-test; 2 a user mistake; 130 interrupted (finished runs kept).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from ioc_sim.errors import ConfigError
from ioc_sim.spec.files import whole_number

EXIT_PROBLEM = 1
EXIT_INTERRUPTED = 130


def _scheduler(text: str) -> str:
    from ioc_sim.experiments.executors import scheduler_address

    try:
        return scheduler_address(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(err.message) from None


def add_scheduler_options(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--scheduler", type=_scheduler, help=help_text)
    parser.add_argument(
        "--connect-timeout",
        type=whole_number("connect-timeout", 1, 3600),
        default=30,
        metavar="SECONDS",
        help="with --scheduler ADDRESS: how long to wait for the scheduler to answer (default 30)",
    )


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``experiment`` and its subcommands to ``ioc-sim``'s subparsers."""
    exp = subparsers.add_parser(
        "experiment",
        help="run and analyse experiments (designs of many runs)",
        description="Run an experiment file, analyse its results, show a results folder, or "
        "check the sensitivity-analysis pipeline on the Ishigami function.",
    )
    sub = exp.add_subparsers(dest="experiment_command", metavar="SUBCOMMAND")
    sub.required = True

    run = sub.add_parser(
        "run",
        help="run an experiment and write a results folder",
        description="Run every run of an experiment, streaming results to "
        "disk. Re-running the same command resumes.",
    )
    run.add_argument("experiment", help="an experiment file, or the name of a bundled one")
    run.add_argument(
        "--workers",
        type=whole_number("workers", 1, 1024),
        help="worker processes (default: one per CPU; 1 runs in-process)",
    )
    add_scheduler_options(
        run,
        "Dask scheduler address (tcp://host:8786), or local:N to start a "
        "local cluster of N worker processes",
    )
    run.add_argument("--out", type=Path, help="results folder (default: results/NAME)")
    run.add_argument(
        "--wait",
        action="store_true",
        help="if another runner is writing the results folder, wait for it to finish, "
        "then resume (default: refuse, naming it)",
    )
    run.add_argument(
        "--chunk",
        type=whole_number("chunk", 1, 100000),
        help="most runs per task (default: all replicates of a design row)",
    )
    run.add_argument(
        "--retry-failed", action="store_true", help="run again the runs recorded as failed"
    )
    run.add_argument(
        "--dry-run", action="store_true", help="validate and print the design size; run nothing"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    an = sub.add_parser(
        "analyse",
        aliases=["analyze"],
        help="write tables, figures and a summary for a results folder",
    )
    an.add_argument("results", type=Path, help="a results folder")
    so = an.add_mutually_exclusive_group()
    so.add_argument(
        "--second-order",
        dest="second_order",
        action="store_true",
        default=None,
        help="insist on second-order Sobol indices (the design must have them)",
    )
    so.add_argument(
        "--no-second-order",
        dest="second_order",
        action="store_false",
        help="skip second-order Sobol indices",
    )
    an.add_argument("--no-figures", action="store_true", help="skip the PNG figures")

    show = sub.add_parser("show", help="summarise a results folder: what is there and missing")
    show.add_argument("results", type=Path, help="a results folder")

    st = sub.add_parser(
        "selftest", help="recover the analytic Ishigami indices through the whole pipeline"
    )
    st.add_argument(
        "--n",
        type=whole_number("n", 1, 2**20),
        default=4096,
        help="Sobol base sample size, a power of two (default 4096)",
    )
    st.add_argument(
        "--workers",
        type=whole_number("workers", 1, 1024),
        default=1,
        help="worker processes (default 1: in-process)",
    )
    add_scheduler_options(st, "as for run")
    st.add_argument(
        "--out", type=Path, help="results folder (default: a temporary folder, removed afterwards)"
    )
    st.add_argument("--quiet", action="store_true", help="no progress bar")

    sub.add_parser("list", help="list the bundled experiments with their questions")
    return exp


# ----------------------------------------------------------------- handlers
def cmd_run(args: argparse.Namespace) -> int:
    from ioc_sim.experiments.execution import default_out_dir, run_experiment
    from ioc_sim.experiments.executors import check_scheduler_available
    from ioc_sim.experiments.spec import load_experiment

    if args.workers and args.scheduler:
        raise ConfigError(
            "--workers",
            "give --workers (a process pool here) or --scheduler (a "
            "Dask cluster, which has its own workers), not both",
        )
    if args.scheduler:
        check_scheduler_available()  # before anything is printed as if it would run
    exp = load_experiment(args.experiment)
    out = args.out or default_out_dir(exp)
    workers = args.workers or os.cpu_count() or 1
    where = (
        f"Dask scheduler {args.scheduler}"
        if args.scheduler
        else "in-process"
        if workers == 1
        else f"{workers} worker processes"
    )
    print(
        f"{exp.name}: {exp.method} design, {exp.n_rows} rows x {exp.replicates} replicates "
        f"= {exp.n_runs} runs of {exp.months} months; {len(exp.factors)} factors, "
        f"{len(exp.outcomes)} outcomes",
        file=sys.stderr,
    )
    if args.dry_run:
        print(f"dry run: nothing run; results would go to {out}")
        return 0
    print(f"running {where}; results: {out}", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        manifest = run_experiment(
            exp,
            out,
            workers=workers,
            scheduler=args.scheduler,
            show_progress=not args.quiet,
            chunk=args.chunk,
            retry_failed=args.retry_failed,
            wait=args.wait,
            connect_timeout=args.connect_timeout,
        )
    except KeyboardInterrupt:
        print(
            f"ioc-sim: interrupted; finished runs are kept in {out}; re-run the same command "
            "to finish",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    seconds = time.perf_counter() - t0
    done = manifest["sessions"][-1]
    new = manifest["finished"] + manifest["failed"] - done["already_finished"]
    rate = f", {new / seconds:.1f} runs/s" if seconds > 0 and new else ""
    print(
        f"{manifest['status']}: {manifest['finished']} finished, {manifest['failed']} failed, "
        f"{manifest['missing']} missing ({new} run now in {seconds:.1f} s{rate})"
    )
    print(f"results: {out}")
    if manifest["failed"]:
        print(
            f"ioc-sim: {manifest['failed']} run(s) failed; their errors are in the results "
            f"(ioc-sim experiment show {out})",
            file=sys.stderr,
        )
        return EXIT_PROBLEM
    return 0


def cmd_analyse(args: argparse.Namespace) -> int:
    from ioc_sim.experiments.sensitivity import AnalysisError, analyse

    _need_results(args.results)
    try:
        an = analyse(args.results, second_order=args.second_order, figures=not args.no_figures)
    except AnalysisError as err:
        raise ConfigError("--second-order", str(err), str(args.results)) from None
    print((an.folder / "summary.md").read_text(encoding="utf-8"), end="")
    print(f"analysis: {an.folder}")
    for p in an.problems:
        print(f"ioc-sim: {p}", file=sys.stderr)
    return EXIT_PROBLEM if an.problems else 0


#: Files ``analyse`` writes for each method (besides the per-row and noise tables).
EXPECTED_TABLES = {
    "sobol": ["sobol.csv"],
    "morris": ["morris.csv"],
    "fast": ["fast.csv"],
    "latin": ["latin.csv"],
    "grid": ["grid_main_effects.csv"],
    "compare": ["compare.csv"],
}


def cmd_show(args: argparse.Namespace) -> int:
    from ioc_sim.experiments.results import load_results
    from ioc_sim.experiments.runs import read_run_manifest

    _need_results(args.results, runs_too=True)
    run = read_run_manifest(args.results)
    if run is not None and "scenario" in run and "fingerprint" not in run:
        return _show_run(args.results, run)
    res = load_results(args.results)
    m = res.manifest
    total = int(m["total_runs"])
    n_ok, n_failed = len(res.ok), len(res.failed)
    missing = total - n_ok - n_failed
    lines = [
        f"{m['experiment']}: {m.get('question', '')}".rstrip(": "),
        f"  design      {m['method']} {json.dumps(m['options'])}; {m['design_rows']} rows x "
        f"{m['replicates']} replicates = {total} runs; {len(m['factors'])} factors; "
        f"{m['months']} months",
        "  outcomes    " + ", ".join(o["name"] for o in m["outcomes"]),
        f"  runs        {n_ok} finished, {n_failed} failed, {missing} missing "
        f"({100 * (n_ok + n_failed) / max(total, 1):.1f}% recorded)",
        f"  status      {res.status}; started {m.get('started')}; ended "
        f"{m.get('ended')}; {len(m.get('sessions', []))} session(s)",
        f"  seeds       root {m['root_seed']}; replicate seeds {m['replicate_seeds'][:5]}"
        + (" ..." if len(m["replicate_seeds"]) > 5 else ""),
        f"  code        git {m.get('git_commit')}; ioc_sim "
        f"{m['versions'].get('ioc_sim')}, mesa {m['versions'].get('mesa')}, numpy "
        f"{m['versions'].get('numpy')}, SALib {m['versions'].get('SALib')}",
        # The way in from Python (the folder itself is not one Parquet table).
        f"  python      from ioc_sim import load_results; load_results({str(res.path)!r})",
    ]
    if len(res.ok):
        sec = res.ok["seconds"].sum()
        lines.append(f"  compute     {sec:.1f} run-seconds ({sec / len(res.ok):.3f} s per run)")
    versions = res.code_versions()
    if len(versions) > 1:
        lines.append(f"  WARNING     sessions ran different code: {' | '.join(versions)}")
    if res.timeseries is not None:
        lines.append(
            f"  timeseries  {res.timeseries['run_id'].nunique()} runs, {len(res.timeseries)} rows"
        )
    if n_failed:
        errors = (
            res.failed["error"]
            .fillna("")
            .map(lambda e: e.strip().splitlines()[-1] if e.strip() else "?")
        )
        lines.append(
            "  failures    "
            + "; ".join(f"{n} x {err}" for err, n in errors.value_counts().head(3).items())
        )
    analysis = res.path / "analysis"
    expected = [
        "summary.md",
        "outcomes_by_row.csv",
        "noise.csv",
        *EXPECTED_TABLES.get(m["method"], []),
    ]
    have = [f for f in expected if (analysis / f).exists()]
    lacking = [f for f in expected if f not in have]
    figures = sorted(p.name for p in analysis.glob("*.png")) if analysis.is_dir() else []
    lines.append(
        f"  analysis    present: {', '.join(have) or 'nothing'}"
        + (f"; {len(figures)} figure(s)" if figures else "")
    )
    if lacking:
        lines.append(f"              missing: {', '.join(lacking)}")
    todo = []
    if missing:
        todo.append(
            f"finish the runs: ioc-sim experiment run {m.get('experiment_file') or '?'} "
            f"--out {res.path}"
        )
    if n_failed:
        todo.append("retry failed runs: add --retry-failed")
    if lacking:
        todo.append(f"analyse: ioc-sim experiment analyse {res.path}")
    for t in todo:
        lines.append(f"  next        {t}")
    print("\n".join(lines))
    return 0


def cmd_selftest(args: argparse.Namespace) -> int:
    import tempfile

    from ioc_sim.experiments.pipeline_check import selftest

    n = args.n
    if n & (n - 1):
        raise ConfigError("--n", f"got {n}; allowed: a power of two")
    with tempfile.TemporaryDirectory(prefix="ioc-sim-selftest-") as tmp:
        out = args.out or Path(tmp) / "ishigami"
        t0 = time.perf_counter()
        ok, table = selftest(
            out,
            n=n,
            workers=args.workers,
            scheduler=args.scheduler,
            show_progress=not args.quiet,
            connect_timeout=args.connect_timeout,
        )
        seconds = time.perf_counter() - t0
    print(
        f"Ishigami (a=7, b=0.1): Sobol' design N={n}, second order, 2 replicates with noise "
        f"sd 0.05, {n * 8} rows; run through the experiment pipeline in {seconds:.1f} s"
    )
    print(f"{'index':<12}{'analytic':>10}{'estimate':>10}{'95% CI':>10}{'error':>10}  ok")
    for _, r in table.iterrows():
        print(
            f"{r['index']:<12}{r['analytic']:>10.4f}{r['estimate']:>10.4f}"
            f"{r['conf95']:>10.4f}{r['error']:>+10.4f}  {'yes' if r['ok'] else 'NO'}"
        )
    print(f"run-to-run noise share: {table.attrs['noise_share']:.2e} (tiny by construction)")
    rule = "S1 and ST within 0.02 of the analytic values, S2 within max(0.02, 2 x its CI)"
    print(f"selftest passed: {rule}" if ok else f"selftest FAILED: not all of {rule}")
    return 0 if ok else EXIT_PROBLEM


def cmd_list(args: argparse.Namespace) -> int:
    import tomllib

    from ioc_sim.experiments.spec import bundled_experiments

    paths = bundled_experiments()  # never empty: no files is an error, exit 2
    width = max(len(p.stem) for p in paths)
    for p in paths:
        try:
            q = (
                tomllib.loads(p.read_text(encoding="utf-8-sig"))
                .get("experiment", {})
                .get("question", "")
            )
        except (OSError, tomllib.TOMLDecodeError):
            q = "(unreadable)"
        print(f"{p.stem:<{width}}  {q}")
    return 0


def _show_run(path: Path, m: dict) -> int:
    """``show`` for the folder of a scenario run (``ioc-sim run``)."""
    files = [p.name for p in sorted(path.iterdir()) if not p.name.startswith(".")]
    lines = [
        f"{m.get('scenario')}: {m.get('question', '')}".rstrip(": "),
        f"  run         one scenario (ioc-sim run): {m.get('replicates')} replicate(s) of "
        f"{m.get('months')} months; root seed {m.get('root_seed')}",
        f"  replicates  {m.get('finished_replicates', 0)} of {m.get('replicates')} finished",
        f"  status      {m.get('status')}; started {m.get('started')}; ended {m.get('ended')}",
        f"  files       {', '.join(files)}",
    ]
    if m.get("status") != "complete":
        lines.append(
            f"  next        run it again: ioc-sim run {m.get('scenario_file') or m.get('scenario')}"
            f" --out {path} --force"
        )
    print("\n".join(lines))
    return 0


def _need_results(path: Path, runs_too: bool = False) -> None:
    manifest = path / "manifest.json"
    if not manifest.is_file():
        raise ConfigError(
            "RESULTS_DIR",
            "not an experiment results folder (no manifest.json); "
            "allowed: a folder written by `ioc-sim experiment run`"
            + (" or `ioc-sim run`" if runs_too else ""),
            str(path),
        )


HANDLERS = {
    "run": cmd_run,
    "analyse": cmd_analyse,
    "analyze": cmd_analyse,
    "show": cmd_show,
    "selftest": cmd_selftest,
    "list": cmd_list,
}


def cmd_experiment(args: argparse.Namespace) -> int:
    """Dispatch ``ioc-sim experiment SUBCOMMAND``."""
    return HANDLERS[args.experiment_command](args)
