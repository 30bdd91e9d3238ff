"""Command line for real NHS systems and the diagnostic survey.

``ioc-sim systems`` lists the ICBs of the bundled NHS England data, and
``ioc-sim systems show CODE`` the trusts of one with every value the model
uses. ``ioc-sim survey template`` writes the questionnaire and an answer
template; ``ioc-sim survey score FILE`` scores answers. ``ioc-sim run
SCENARIO --survey FILE [--levers]`` starts a run from scored answers and says
which levers move it; :func:`add_run_options`, :func:`prepare_run` and
:func:`report_run` are what :mod:`ioc_sim.cli` calls for that.

Thin, like the rest of the command line: parsing and printing here, the work
in :mod:`ioc_sim.nhs`, :mod:`ioc_sim.survey` and :mod:`ioc_sim.model.maturity`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.spec.files import whole_number, writable_file, writable_folder


def add_parsers(sub: Any) -> None:
    """Add the ``systems`` and ``survey`` commands to the top-level subparsers."""
    systems = sub.add_parser(
        "systems", help="list the real NHS systems (ICBs) in the bundled data, or show one's trusts"
    )
    systems.add_argument(
        "--map",
        dest="list_map",
        metavar="MAP",
        help="only the ICBs of one map: 2022 (2022-2026) or 2026 (April 2026)",
    )
    ssub = systems.add_subparsers(dest="systems_command", metavar="show")
    show = ssub.add_parser("show", help="the trusts of one system with the values the model uses")
    show.add_argument("code", help="an ICB code (QOP) or ODS codes separated by commas (RXW,R1D)")
    show.add_argument("--map", help="2022 or 2026, for an ICB on both maps (default 2026)")
    show.add_argument(
        "--csv", action="store_true", help="print the organisation table as CSV instead"
    )

    survey = sub.add_parser(
        "survey", help="the collaboration diagnostic survey: template and scoring"
    )
    vsub = survey.add_subparsers(dest="survey_command", metavar="ACTION")
    vsub.required = True
    t = vsub.add_parser("template", help="write the questionnaire and a CSV answer template")
    t.add_argument(
        "--out", type=Path, default=Path("survey"), help="folder to write into (default: ./survey)"
    )
    t.add_argument(
        "--format",
        choices=("md", "html", "both"),
        default="both",
        help="questionnaire format (default: both)",
    )
    who = t.add_mutually_exclusive_group()
    who.add_argument("--organisations", help="organisation codes to prefill, comma-separated")
    who.add_argument("--system", help="prefill with the trusts of an ICB (or ODS codes)")
    who.add_argument("--scenario", help="prefill with a scenario's organisations")
    t.add_argument(
        "--respondents",
        type=whole_number("respondents", 1, 100),
        default=3,
        help="template rows per organisation (default: 3)",
    )
    t.add_argument("--collaboration", default="", help="name printed on the questionnaire")
    t.add_argument("--force", action="store_true", help="overwrite existing files")
    s = vsub.add_parser(
        "score", help="score an answer file: constructs, spread, maturity index, disagreement"
    )
    s.add_argument("responses", type=Path, help="the answers, as CSV")
    known = s.add_mutually_exclusive_group()
    known.add_argument("--scenario", help="check organisation codes against a scenario")
    known.add_argument("--system", help="check organisation codes against an ICB's trusts")
    known.add_argument("--organisations", help="check against these codes, comma-separated")
    s.add_argument(
        "--min-respondents",
        type=whole_number("min-respondents", 1, 1000),
        default=1,
        help="fewest respondents each organisation must have (default: 1)",
    )
    s.add_argument("--out", type=Path, help="also write every score to this CSV file")


def add_run_options(run: argparse.ArgumentParser) -> None:
    """Add ``--survey``, ``--min-respondents`` and ``--levers`` to ``ioc-sim run``."""
    run.add_argument(
        "--survey",
        type=Path,
        metavar="RESPONSES",
        help="start the collaboration from scored survey answers (CSV)",
    )
    run.add_argument(
        "--min-respondents",
        type=whole_number("min-respondents", 1, 1000),
        default=1,
        help="with --survey: fewest respondents per organisation (default: 1)",
    )
    run.add_argument(
        "--levers",
        action="store_true",
        help="also report which levers move the maturity index (one at a time)",
    )


# --------------------------------------------------------------------- systems
def cmd_systems(args: argparse.Namespace) -> int:
    from ioc_sim import nhs

    if args.systems_command == "show":
        return _show_system(args)
    table = nhs.list_systems(args.list_map)
    head = (
        f"{'ICB':<6} {'name':<44} {'region':<25} {'maps':<13} {'trusts':>6} {'2026':>5}  "
        f"{'acute':>5} {'spec':>5} {'MH':>4} {'comm':>5} {'amb':>4} {'other':>5}"
    )
    print(head)
    print("-" * len(head))
    for _, r in table.iterrows():
        n22 = "" if pd.isna(r["trusts_2022"]) else str(r["trusts_2022"])
        n26 = "" if pd.isna(r["trusts_2026"]) else str(r["trusts_2026"])
        print(
            f"{r['icb']:<6} {r['name'][:44]:<44} {r['region'][:25]:<25} {r['maps']:<13} "
            f"{n22:>6} {n26:>5}  {r['acute']:>5} {r['acute_specialist']:>5} "
            f"{r['mental_health']:>4} {r['community']:>5} {r['ambulance']:>4} "
            f"{r['other_online']:>5}"
        )
    print(
        f"\n{len(table)} ICBs. 'trusts' counts the 2022-2026 map, '2026' the April 2026 map; "
        "types are counted on the newest map the ICB is on."
    )
    print("`ioc-sim systems show CODE` lists a system's trusts with the values the model uses.")
    print(f"Data: NHS England and NHS Digital. {nhs.ATTRIBUTION}")
    return 0


def _fmt(v: Any, spec: str) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return "-"
    return format(v, spec)


def _used(row: Any, label: str, spec: str) -> str:
    """A published value, in brackets when the mapping does not use it for this trust."""
    text = _fmt(row.get(label), spec)
    if text != "-" and label not in str(row["performance_basis"]):
        return f"({text})"
    return text


def _show_system(args: argparse.Namespace) -> int:
    from ioc_sim import nhs

    rs = nhs.system_from_code(args.code, args.map)
    t = rs.table
    if args.csv:
        t.to_csv(sys.stdout, index=False)
        return 0
    print(f"{rs.label}: {len(t)} organisations")
    head = (
        f"{'id':<6} {'name':<40} {'type':<14} {'staff':>6} {'beds':>5} {'size':>5} "
        f"{'A&E4h':>7} {'RTT18w':>7} {'occ':>5} {'perf':>5} {'E km':>6} {'N km':>6} {'x':>6} "
        f"{'y':>6}  basis"
    )
    print(head)
    print("-" * len(head))
    for _, r in t.iterrows():
        print(
            f"{r['id']:<6} {str(r['name'])[:40]:<40} {r['type'][:14]:<14} "
            f"{_fmt(r.get('staff_fte_2018'), '.0f'):>6} {_fmt(r.get('beds'), '.0f'):>5} "
            f"{_fmt(r.get('size'), '.2f'):>5} {_used(r, 'A&E 4h', '.1%'):>7} "
            f"{_used(r, 'RTT 18w', '.1%'):>7} {_used(r, 'occupancy', '.0%'):>5} "
            f"{_fmt(r.get('baseline_performance'), '.2f'):>5} {_fmt(r.get('east_km'), '.1f'):>6} "
            f"{_fmt(r.get('north_km'), '.1f'):>6} {_fmt(r['x'], '.1f'):>6} "
            f"{_fmt(r['y'], '.1f'):>6}  {r['performance_basis']}"
        )
    ov = rs.overlap
    shown = [c for c in ov.index if ov.loc[c].drop(c).notna().any()]
    if shown:
        print(
            "\nShared patients (catchment overlap of 2022 admissions, 0-1) with the trust "
            "sharing most:"
        )
        for c in shown:
            others = ov.loc[c].drop(c).dropna()
            best = others.idxmax()
            print(
                f"  {c:<6} {best:<6} {others[best]:.2f}   (lowest: {others.idxmin()} "
                f"{others.min():.2f})"
            )
    only_icb = rs.pairs["reasons"].str.fullmatch(r"same ICB since 2022 \(\w+\)")
    special, base = rs.pairs[~only_icb], int(only_icb.sum())
    print("\nKnown history between pairs (sets the history context of collaborations):")
    if base:
        print(
            f"  {base} pairs whose only record is sharing an ICB since 2022: history "
            f"{nhs.HISTORY_DEFAULTS['history_shared_icb']:+g} each"
        )
    for _, p in special.iterrows():
        print(f"  {p['a']}-{p['b']}: {p['history']:+.2f} ({p['reasons']})")
    if not len(rs.pairs):
        print("  none recorded")
    for arr in rs.arrangements:
        print(
            f"  documented arrangement {arr['id']} ({arr['type'].replace('_', ' ')}): "
            + ", ".join(arr["members"])
            + f" -> a {arr['form']} with "
            'arrangements = "collaborations"'
        )
    print(
        "\nValues: size = staff FTE (2018) / median acute trust "
        f"({nhs.acute_median_fte():.0f} FTE); perf = mean of the indicator scores a trust "
        "reports, each mapped linearly from its floor (0.1) to the national standard (0.9): "
        + "; ".join(f"{i.label} {i.floor:.0%} -> {i.standard:.0%}" for i in nhs.INDICATORS)
        + " (bracketed values are not used for that trust). E, N: headquarters, km from the "
        "system's centre. x, y: the positions the model uses to pick each member's nearest "
        "partners (km, stretched between trusts that share few patients)."
    )
    if rs.notes:
        print("Notes:")
        for n in rs.notes:
            print(f"  - {n}")
    print(f"Data: NHS England and NHS Digital. {nhs.ATTRIBUTION}")
    return 0


# ---------------------------------------------------------------------- survey
def _codes(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def _known(args: argparse.Namespace) -> list[str] | None:
    if getattr(args, "organisations", None):
        return _codes(args.organisations)
    if getattr(args, "system", None):
        from ioc_sim.nhs import system_from_code

        return [o["id"] for o in system_from_code(args.system).organisations]
    if getattr(args, "scenario", None):
        from ioc_sim.experiments.scenarios import load_scenario
        from ioc_sim.survey import scenario_organisations

        return [o["id"] for o in scenario_organisations(load_scenario(args.scenario))]
    return None


def cmd_survey(args: argparse.Namespace) -> int:
    from ioc_sim import survey

    if args.survey_command == "template":
        return _template(args)
    if args.out is not None:
        writable_file(args.out, "--out")  # before the answers are read and scored
    scores = survey.score_file(args.responses, _known(args), args.min_respondents)
    print(survey.format_report(scores))
    if args.out is not None:
        scores.long_table().to_csv(args.out, index=False)
        print(f"\nscores: {args.out}")
    return 0


def _template(args: argparse.Namespace) -> int:
    from ioc_sim import survey

    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise ConfigError("--out", f"{out} exists and is not a folder; allowed: a folder")
    files = {"responses_template.csv": survey.template_rows(_known(args) or (), args.respondents)}
    if args.format in ("md", "both"):
        files["questionnaire.md"] = survey.render_markdown(collaboration=args.collaboration)
    if args.format in ("html", "both"):
        files["questionnaire.html"] = survey.render_html(collaboration=args.collaboration)
    clash = [name for name in files if (out / name).exists()]
    if clash and not args.force:
        raise ConfigError("--out", f"{out / clash[0]} already exists; use --force to overwrite")
    writable_folder(out, "--out")
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
        print(f"wrote {out / name}")
    n = len(survey.load_instrument().items)
    print(
        f"Send the questionnaire to several people in each partner; enter each person's "
        f"answers (1-5, blank if none) as one row of the template ({n} statements), with "
        "their organisation's code; then run `ioc-sim survey score FILE`."
    )
    return 0


# ----------------------------------------------------------------- run --survey
def prepare_run(args: argparse.Namespace, scenario: Any) -> tuple[Any, dict[str, Any], Any]:
    """Before ``ioc-sim run``: score ``--survey`` answers against the scenario's organisations.

    Returns:
        The scenario to run (with survey-set organisation attributes), the extra
        model keywords (``initial_relations``), and the scores (or None).
    """
    if getattr(args, "survey", None) is None:
        return scenario, {}, None
    from ioc_sim import survey

    known = [o["id"] for o in survey.scenario_organisations(scenario)]
    scores = survey.score_file(args.survey, known, args.min_respondents)
    scenario, options = survey.apply_survey(scenario, scores)
    return scenario, options, scores


def report_run(
    args: argparse.Namespace, scenario: Any, ts: pd.DataFrame, options: dict[str, Any], scores: Any
) -> None:
    """After ``ioc-sim run``: the survey's reading against the simulated path (not with
    ``--quiet``), and the lever table (asked for explicitly, so printed even then)."""
    from ioc_sim import survey
    from ioc_sim.experiments.runs import replicate_seeds
    from ioc_sim.model import maturity as mat

    months = int(ts["month"].max())
    n = int(ts["replicate"].nunique())
    seeds = [int(s) for s in ts.groupby("replicate")["seed"].first()]
    if scores is not None and not args.quiet:
        m = scores.maturity
        print(
            f"\nSurvey {scores.source}: {len(scores.respondents)} respondent(s) in "
            f"{len(scores.organisations)} organisations; maturity index "
            + (f"{m.score:.1f} ({m.level})" if m else "not computable")
            + "."
        )
        for note in scores.notes[:5]:
            print(f"  - {note}")
        if len(scores.notes) > 5:
            print(f"  - ... {len(scores.notes) - 5} more (`ioc-sim survey score` lists them)")
        if "maturity_index" in ts.columns:
            path = ts.groupby("month")["maturity_index"].mean()
        else:
            path = pd.Series(survey.maturity_paths(scenario, seeds, months, options).mean(axis=0))
        marks = sorted({0, min(12, months), months})
        shown = ", ".join(
            f"month {t}: {path[t]:.1f} ({mat.level_names([path[t]])[0]})" for t in marks
        )
        print(f"Simulated maturity index (mean of {n} replicate(s)): {shown}.")
        print(
            "  The model starts trust, confidence, risk threshold, conflict, faith and "
            "progress from the answers; it computes the three delivery mechanisms from the "
            "scenario's contexts, so month 0 need not equal the survey's index."
        )
    if args.levers:
        if not args.quiet:
            print(
                f"\nLevers (each changed alone from the scenario's value; {n} "
                f"replicate(s), month {months}); computing...",
                file=sys.stderr,
            )
        table = survey.lever_effects(
            scenario, seeds or replicate_seeds(scenario.seed, 1), months, options
        )
        print(
            f"\nWhich levers move the collaboration (change at month {months} against a "
            f"maturity index of {table.attrs['base_maturity']:.1f}):"
        )
        print(f"  {'lever':<22} {'change':<28} {'maturity index':>14} {'performance':>12}")
        for _, r in table.iterrows():
            print(
                f"  {r['lever']:<22} {r['change']:<28} {r['maturity_change']:>+14.2f} "
                f"{r['performance_change']:>+12.4f}"
            )


COMMANDS = {"systems": cmd_systems, "survey": cmd_survey}
