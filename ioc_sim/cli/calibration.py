"""Command line: ``ioc-sim calibrate``.

Thin like the rest of the command line: parse options, call
:mod:`ioc_sim.calibration`, print where the output went. pyabc comes with the
``calibrate`` extra; without it the command says how to install it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ioc_sim.errors import ConfigError
from ioc_sim.spec.files import whole_number

INSTALL = 'pip install "ioc_sim[calibrate]" (or, in a checkout, pip install -e ".[calibrate]")'


def add_parser(subparsers) -> None:
    """Add ``calibrate`` to ``ioc-sim``'s subparsers."""
    cal = subparsers.add_parser(
        "calibrate",
        help="fit the model's assumptions to the patterns (ABC-SMC)",
        description="Fit the numeric assumptions that matter to the patterns of a patterns "
        "file by approximate Bayesian computation (ABC-SMC, pyabc), and write the posterior, "
        "what the patterns identify, and a posterior-predictive check (docs/calibration.md). "
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
    cal.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster (tcp://host:8786), or local:N for a local one",
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
            out, workers=workers, scheduler=args.scheduler, show_progress=not args.quiet
        )
        print(table.to_string(index=False))
        print(f"selftest: {'recovered' if ok else 'NOT recovered'}; {out}")
        return 0 if ok else 1
    from ioc_sim.calibration import load_calibration
    from ioc_sim.calibration.run import calibrate

    cal = load_calibration(args.calibration)
    manifest = calibrate(
        cal, args.out, workers=workers, scheduler=args.scheduler, show_progress=not args.quiet
    )
    out = args.out or Path("results") / "calibration" / cal.name
    if not args.quiet:
        print((out / "summary.md").read_text(encoding="utf-8"))
    print(
        f"calibration: {out} ({manifest['accepted_particles']} particles accepted over "
        f"{manifest['generations']} generations, {manifest['simulations']} simulations)"
    )
    return 0


COMMANDS = {"calibrate": cmd_calibrate}
