"""Command line: ``ioc-sim theory test``, ``ioc-sim validate`` and ``ioc-sim report``.

Thin like the rest of the command line: parse options, call :mod:`ioc_sim.theory`,
:mod:`ioc_sim.validation` or :mod:`ioc_sim.report`, print where the output went. A
user mistake raises :class:`~ioc_sim.errors.ConfigError`, which ``ioc-sim`` prints
as one line with exit status 2.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ioc_sim.errors import ConfigError
from ioc_sim.spec.files import whole_number, writable_file, writable_folder

_workers = whole_number("workers", 1, 1024)


def add_parsers(subparsers) -> None:
    """Add ``theory``, ``validate`` and ``report`` to ``ioc-sim``'s subparsers."""
    theory = subparsers.add_parser(
        "theory",
        help="test the programme theory against designed experiments",
        description="Score a programme theory file (hypotheses as data) against an "
        "experiment: a scorecard of hypotheses, importance, interactions, "
        "prediction and where the theory fails.",
    )
    sub = theory.add_subparsers(dest="theory_command", metavar="SUBCOMMAND")
    sub.required = True
    test = sub.add_parser("test", help="run the theory's experiment and write a scorecard")
    test.add_argument(
        "theory_file",
        nargs="?",
        default=None,
        help="a theory file (default: experiments/theories/programme_theory.toml)",
    )
    src = test.add_mutually_exclusive_group()
    src.add_argument("--experiment", help="run this experiment instead of the theory's own")
    src.add_argument(
        "--results", type=Path, help="score an existing experiment results folder (runs nothing)"
    )
    test.add_argument("--out", type=Path, help="output folder (default: results/THEORY_NAME)")
    test.add_argument(
        "--workers",
        type=_workers,
        help="worker processes (default: one per CPU; 1 runs in-process)",
    )
    test.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    test.add_argument("--quiet", action="store_true", help="no progress bar or summary")

    val = subparsers.add_parser(
        "validate",
        help="check the model against the patterns in docs/patterns.md",
        description="Run each pattern check of a patterns file (default: the ten patterns "
        "of docs/patterns.md, experiments/patterns/literature.toml: their sources, criteria "
        "and breakers) on its scenario under the default specification and every "
        "alternative specification; write a pattern-by-specification matrix. Exits 1 if "
        "the default specification fails a pattern.",
    )
    val.add_argument(
        "--out",
        type=Path,
        default=Path("results") / "validation",
        help="output folder (default: results/validation)",
    )
    val.add_argument(
        "--patterns",
        action="append",
        metavar="FILE",
        help="a patterns file, or the name of a bundled one (default: literature, the "
        "patterns of docs/patterns.md); repeat to check several files' patterns together",
    )
    val.add_argument(
        "--pattern",
        action="append",
        metavar="ID",
        help="only this pattern (P1..P10); repeat for several",
    )
    val.add_argument(
        "--statistics",
        action="store_true",
        help="list the statistics and readers a patterns file can use, and exit",
    )
    val.add_argument(
        "--default-only",
        action="store_true",
        help="only the default specification (no matrix over specifications)",
    )
    val.add_argument(
        "--seeds",
        type=whole_number("seeds", 1, 1000),
        default=1,
        help="also run the default specification's checks at this many root seeds in all "
        "(the validation seed first): how firmly each verdict holds",
    )
    val.add_argument("--quiet", action="store_true", help="no per-check lines")

    rep = subparsers.add_parser(
        "report",
        help="write a self-contained HTML report of a theory test",
        description="Write one HTML file (figures embedded) for a policy audience from a "
        "theory-test folder (`ioc-sim theory test --out DIR`).",
    )
    rep.add_argument("results_dir", type=Path, help="a theory-test output folder")
    rep.add_argument("--out", type=Path, help="the HTML file (default: RESULTS_DIR/report.html)")
    rep.add_argument(
        "--validation",
        type=Path,
        help="a validation folder to include (default: RESULTS_DIR/validation or "
        "results/validation, if present)",
    )


def cmd_theory(args: argparse.Namespace) -> int:
    from ioc_sim.theory import run_theory_test

    if args.out is not None:
        writable_folder(args.out, "--out")  # before any run or score
    if args.results is not None and not args.results.is_dir():
        raise ConfigError("--results", f"{args.results} is not a folder")
    workers = args.workers or os.cpu_count() or 1
    card = run_theory_test(
        args.theory_file,
        experiment=args.experiment,
        results=args.results,
        out=args.out,
        workers=workers,
        show_progress=not args.quiet,
        figures=not args.no_figures,
    )
    if not args.quiet:
        print((card.out / "summary.md").read_text(encoding="utf-8"))
    print(f"scorecard: {card.out}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from ioc_sim.experiments.warmup import compile_kernels
    from ioc_sim.validation import choose, matrix_markdown, validate
    from ioc_sim.validation.catalogue import catalogue

    if args.statistics:
        print(catalogue())
        return 0
    files = args.patterns
    writable_folder(args.out, "--out")  # before the checks run
    compile_kernels(notice=not args.quiet)  # with a notice on a new installation
    checks = validate(
        args.out,
        patterns=args.pattern,
        specifications=not args.default_only,
        show_progress=not args.quiet,
        seeds=args.seeds,
        files=files,
    )
    print(matrix_markdown(checks, choose(args.pattern, files)))
    print(f"validation: {args.out}")
    failed = checks[(checks["variant"] == "default") & ~checks["passed"]]["pattern"].tolist()
    if failed:
        where = "docs/patterns.md" if files is None else ", ".join(files)
        print(f"the default specification fails {', '.join(failed)} ({where})")
        return 1
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ioc_sim.report.html import write_report

    if args.out is not None:
        writable_file(args.out, "--out")
    path = write_report(args.results_dir, args.out, validation=args.validation)
    print(f"report: {path}")
    return 0


COMMANDS = {"theory": cmd_theory, "validate": cmd_validate, "report": cmd_report}
