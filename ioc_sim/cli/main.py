"""Command line: ``ioc-sim``.

Thin by design: it parses options, calls the library, and turns a user
mistake (:class:`~ioc_sim.errors.ConfigError`) into one line on stderr and
exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ioc_sim.app import serve as teaching_app
from ioc_sim.cli import calibration as cli_calibration
from ioc_sim.cli import experiment as cli_experiment
from ioc_sim.cli import nhs as cli_nhs
from ioc_sim.cli import theory as cli_theory
from ioc_sim.errors import ConfigError
from ioc_sim.spec.files import whole_number, writable_folder
from ioc_sim.spec.schema import MAX_SEED

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


_seed = whole_number("seed", 0, MAX_SEED)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ioc-sim",
        description="Simulate collaboration between NHS provider organisations "
        "(trust, faith, confidence, risk tolerance -> collaborative performance).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser("run", help="run a scenario and write a results folder")
    run.add_argument("scenario", help="a scenario file, or the name of a bundled scenario")
    run.add_argument("--seed", type=_seed, help="root seed (default: the scenario's)")
    run.add_argument(
        "--months",
        type=whole_number("months", 1, 1200),
        help="months to simulate (default: the scenario's)",
    )
    run.add_argument(
        "--replicates",
        type=whole_number("replicates", 1, 100000),
        help="number of replicates (default: the scenario's)",
    )
    run.add_argument("--out", type=Path, help="results folder (default: results/NAME-TIME)")
    run.add_argument(
        "--force",
        action="store_true",
        help="replace an earlier run in --out (default: refuse to mix with it)",
    )
    run.add_argument(
        "--wait",
        action="store_true",
        help="if another run is writing --out, wait for it (default: refuse, naming it)",
    )
    run.add_argument("--no-figure", action="store_true", help="skip the PNG figure")
    run.add_argument("--quiet", action="store_true", help="no progress bar or table")
    cli_nhs.add_run_options(run)
    cli_calibration.add_run_options(run)

    sub.add_parser("scenarios", help="list the bundled scenarios with their questions")

    tr = sub.add_parser(
        "transitions",
        help="how often each scenario's structural events happen over ten years",
        description="Run scenarios (all the bundled ones by default) and count their "
        "structural events: collaborations that deepen, dissolve or are wound down, "
        "mergers, entries into and exits from special measures, and how long an episode "
        "of special measures lasts; each with a 95% interval from resampling the "
        "replicates.",
    )
    tr.add_argument(
        "scenario", nargs="*", help="scenario files or bundled names (default: all bundled)"
    )
    tr.add_argument(
        "--months", type=whole_number("months", 1, 1200), default=120, help="default 120"
    )
    tr.add_argument(
        "--replicates", type=whole_number("replicates", 2, 100000), default=20, help="default 20"
    )
    tr.add_argument("--seed", type=_seed, help="root seed (default: each scenario's)")
    tr.add_argument("--out", type=Path, help="also write the table as CSV to this file")
    tr.add_argument("--quiet", action="store_true", help="no progress bar")

    params = sub.add_parser("parameters", help="list the declared parameters")
    params.add_argument(
        "--group",
        help="only this group (system, collaboration, population, mechanism, specification, run)",
    )

    sub.add_parser("forms", help="list the collaboration forms and the contexts they preset")
    cli_experiment.add_parser(sub)
    cli_nhs.add_parsers(sub)
    cli_theory.add_parsers(sub)
    cli_calibration.add_parser(sub)
    teaching_app.add_parser(sub)
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    from ioc_sim.experiments.runs import run_scenario
    from ioc_sim.experiments.scenarios import load_scenario

    scenario = load_scenario(args.scenario)
    if args.out is not None:
        writable_folder(args.out, "--out")  # before the survey is scored and anything runs
    if cli_calibration.wants_posterior(args):
        return cli_calibration.run_with_posterior(args, scenario)
    scenario, options, scores = cli_nhs.prepare_run(args, scenario)  # --survey, if given
    out, ts, summary = run_scenario(
        scenario,
        seed=args.seed,
        months=args.months,
        replicates=args.replicates,
        out=args.out,
        show_progress=not args.quiet,
        figure=not args.no_figure,
        model_options=options,
        force=args.force,
        wait=args.wait,
    )
    if not args.quiet:
        print(format_summary(summary, scenario.name, scenario.question))
    cli_nhs.report_run(args, scenario, ts, options, scores)  # survey reading and --levers
    print(f"results: {out}")
    return 0


def format_summary(summary, name: str, question: str) -> str:
    """A plain-text table of the main outputs: start, month 12 and end."""
    from ioc_sim.model.metrics import SUMMARY_METRICS

    shown = (
        *SUMMARY_METRICS,
        *[m for m in ("maturity_index",) if m in set(summary["metric"])],
    )
    months = sorted(summary["month"].unique())
    n = int(summary["replicates"].max())
    head = f"{name}: {question}" if question else name
    lines = [head, f"mean across {n} replicate(s)" + (" (sd)" if n > 1 else "")]
    header = f"{'metric':<30}" + "".join(f"{'month ' + str(m):>18}" for m in months)
    lines += [header, "-" * len(header)]
    for metric in shown:
        row = summary[summary["metric"] == metric].set_index("month")
        cells = []
        for m in months:
            mean, sd = row.loc[m, "mean"], row.loc[m, "sd"]
            cells.append(f"{mean:.3f} ({sd:.3f})" if n > 1 else f"{mean:.3f}")
        lines.append(f"{metric:<30}" + "".join(f"{c:>18}" for c in cells))
    return "\n".join(lines)


def cmd_scenarios(args: argparse.Namespace) -> int:
    from ioc_sim.experiments.scenarios import bundled_scenarios, scenario_question

    paths = bundled_scenarios()  # never empty: no files is an error, exit 2
    width = max(len(p.stem) for p in paths)
    for p in paths:
        print(f"{p.stem:<{width}}  {scenario_question(p)}")
    return 0


def cmd_transitions(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ioc_sim.experiments.scenarios import bundled_scenarios, load_scenario
    from ioc_sim.experiments.transitions import MEASURES, transition_table, transitions_markdown
    from ioc_sim.spec.files import writable_file

    scenarios = [load_scenario(s) for s in (args.scenario or bundled_scenarios())]
    if args.out is not None:
        writable_file(args.out, "--out")
    total = sum(args.months * args.replicates for _ in scenarios)
    with tqdm(total=total, unit="month", delay=1.0, disable=args.quiet, file=sys.stderr) as bar:
        table = transition_table(scenarios, args.months, args.replicates, args.seed, progress=bar)
    print(
        f"over {args.months} months, {args.replicates} replicates each; estimate "
        "(95% interval from resampling the replicates)"
    )
    print(transitions_markdown(table))
    for m in MEASURES:
        print(f"  {m.label}: {m.meaning}")
    if args.out is not None:
        table.to_csv(args.out, index=False)
        print(f"table: {args.out}")
    return 0


def cmd_parameters(args: argparse.Namespace) -> int:
    from ioc_sim.spec.parameters import PARAMETERS

    groups = {p.group for p in PARAMETERS.values()}
    if args.group and args.group not in groups:
        raise ConfigError("--group", f"got {args.group!r}; allowed: " + ", ".join(sorted(groups)))
    for p in PARAMETERS.values():
        if args.group and p.group != args.group:
            continue
        rng = "|".join(p.choices) if p.kind == "choice" else f"{p.low:g}..{p.high:g}"
        print(
            f"{p.name:<28} {p.group:<14} default {p.default!s:<20} {rng:<36} {p.status:<11} "
            f"{p.meaning}"
        )
    return 0


def cmd_forms(args: argparse.Namespace) -> int:
    from ioc_sim.spec.forms import FORMS

    for name, preset in FORMS.items():
        fields = ", ".join(f"{k}={v:g}" for k, v in preset.items())
        print(f"{name:<26} {fields}")
    return 0


COMMANDS = {
    "run": cmd_run,
    "scenarios": cmd_scenarios,
    "transitions": cmd_transitions,
    "parameters": cmd_parameters,
    "forms": cmd_forms,
    "experiment": cli_experiment.cmd_experiment,
    "app": teaching_app.cmd_app,
    **cli_nhs.COMMANDS,
    **cli_theory.COMMANDS,
    **cli_calibration.COMMANDS,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``ioc-sim``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ConfigError as err:
        print(f"ioc-sim: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("ioc-sim: interrupted; finished replicates were kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except OSError as err:
        # Output locations are checked before work starts; this catches what no check can
        # foresee (a disk that fills, a mount that goes away), still in one line.
        if err.filename is None:
            raise
        print(f"ioc-sim: error: {err.filename}: {err.strerror or err}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
