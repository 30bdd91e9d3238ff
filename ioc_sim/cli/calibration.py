"""Command line: ``ioc-sim calibrate``.

Thin like the rest of the command line: parse options, call
:mod:`ioc_sim.calibration`, print where the output went. pyabc comes with the
``calibrate`` extra; without it the command says how to install it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ioc_sim.cli.experiment import add_scheduler_options
from ioc_sim.errors import ConfigError
from ioc_sim.spec.files import whole_number

EXIT_INTERRUPTED = 130
INSTALL = 'pip install "ioc_sim[calibrate]" (or, in a checkout, pip install -e ".[calibrate]")'


def add_parser(subparsers) -> None:
    """Add ``calibrate`` to ``ioc-sim``'s subparsers."""
    cal = subparsers.add_parser(
        "calibrate",
        help="fit the model's assumptions to the patterns (ABC-SMC)",
        description="Fit the numeric mechanism assumptions that matter to the patterns of a "
        "patterns file by approximate Bayesian computation (ABC-SMC, pyabc), and write the "
        "posterior, what the patterns identify, and a posterior-predictive check "
        "(docs/calibration.md). "
        "Re-running the same command resumes. `ioc-sim calibrate selftest` checks that "
        "calibration recovers known parameter values.",
    )
    cal.add_argument(
        "calibration",
        nargs="?",
        default=None,
        help="a calibration file, the name of a bundled one (default: literature), or `selftest`",
    )
    cal.add_argument("--out", type=Path, help="output folder (default: results/calibration/NAME)")
    cal.add_argument(
        "--workers",
        type=whole_number("workers", 1, 1024),
        help="worker processes (default: one per CPU; 1 runs in-process)",
    )
    add_scheduler_options(
        cal, "run on a Dask cluster (tcp://host:8786), or local:N for a local one"
    )
    cal.add_argument("--quiet", action="store_true", help="no progress or summary")


def _need_pyabc() -> None:
    try:
        import pyabc  # noqa: F401
    except ImportError:
        raise ConfigError("calibrate", f"needs pyabc, which is not installed; {INSTALL}") from None


def cmd_calibrate(args: argparse.Namespace) -> int:
    _need_pyabc()
    workers = args.workers or os.cpu_count() or 1
    if args.calibration == "selftest":
        from ioc_sim.calibration.selftest import selftest

        out = args.out or Path("results") / "calibration" / "selftest"
        ok, table = selftest(
            out,
            workers=workers,
            scheduler=args.scheduler,
            connect_timeout=args.connect_timeout,
            show_progress=not args.quiet,
        )
        print(table.to_string(index=False))
        print(f"selftest: {'recovered' if ok else 'NOT recovered'}; {out}")
        return 0 if ok else 1
    from ioc_sim.calibration import load_calibration
    from ioc_sim.calibration.run import calibrate

    cal = load_calibration(args.calibration)
    out = args.out or Path("results") / "calibration" / cal.name
    try:
        manifest = calibrate(
            cal,
            out,
            workers=workers,
            scheduler=args.scheduler,
            connect_timeout=args.connect_timeout,
            show_progress=not args.quiet,
        )
    except KeyboardInterrupt:
        print(
            f"\nioc-sim: interrupted; finished generations are kept in {out}; re-run the same "
            "command to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if not args.quiet:
        print((out / "summary.md").read_text(encoding="utf-8"))
    print(
        f"calibration: {out} ({manifest['accepted_particles']} particles accepted over "
        f"{manifest['generations']} generations, {manifest['simulations']} simulations)"
    )
    return 0


def add_run_options(run: argparse.ArgumentParser) -> None:
    """Add ``--posterior``, ``--draws``, ``--compare`` and ``--workers`` to ``ioc-sim run``."""
    run.add_argument(
        "--posterior",
        type=Path,
        metavar="FILE",
        help="run over draws from a calibration's posterior (its folder or posterior.parquet): "
        "each outcome as a median and 90%% interval",
    )
    run.add_argument(
        "--draws",
        type=whole_number("draws", 2, 100000),
        help="with --posterior: posterior draws, each with the scenario's replicates (default 50)",
    )
    run.add_argument(
        "--compare",
        action="append",
        metavar="SCENARIO",
        help="with --posterior: also run this scenario on the same draws and seeds, and report "
        "its difference from the first; repeat for several",
    )
    run.add_argument(
        "--workers",
        type=whole_number("workers", 1, 1024),
        help="with --posterior: worker processes (default: one per CPU; 1 runs in-process)",
    )


def wants_posterior(args: argparse.Namespace) -> bool:
    """Whether ``ioc-sim run`` runs over posterior draws; refuses options that need it."""
    if args.posterior is None:
        for opt, value in (("--draws", args.draws), ("--compare", args.compare)):
            if value:
                raise ConfigError(opt, "needs --posterior FILE (a calibration's posterior)")
        return False
    if args.survey is not None or args.levers:
        raise ConfigError("--posterior", "cannot be combined with --survey or --levers")
    return True


def run_with_posterior(args: argparse.Namespace, scenario) -> int:
    from ioc_sim.calibration.bands import format_bands, run_posterior
    from ioc_sim.calibration.posterior import load_posterior
    from ioc_sim.experiments.scenarios import load_scenario

    post = load_posterior(args.posterior)
    compare = [load_scenario(c) for c in args.compare or []]
    draws = args.draws or 50
    out, summary, diffs = run_posterior(
        scenario,
        post,
        draws,
        compare=compare,
        seed=args.seed,
        months=args.months,
        replicates=args.replicates,
        out=args.out,
        workers=args.workers or os.cpu_count() or 1,
        show_progress=not args.quiet,
        figure=not args.no_figure,
        force=args.force,
        wait=args.wait,
    )
    months = int(summary["month"].max())
    replicates = args.replicates or scenario.replicates
    if not args.quiet:
        head = f"{scenario.name}: {scenario.question}" if scenario.question else scenario.name
        print(head)
        print(format_bands(summary, diffs, months, draws, replicates))
        fixed = sorted(set(post.names) & set(scenario.params))
        if fixed:
            print(f"set by the scenario itself, not drawn: {', '.join(fixed)}")
    print(f"results: {out}")
    return 0


COMMANDS = {"calibrate": cmd_calibrate}
