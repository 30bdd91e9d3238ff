"""Writing a scorecard: its tables as CSV, ``scorecard.json``, ``summary.md`` and figures.

:func:`write_scorecard` writes everything into the scorecard's folder beside a copy of
the theory file, so that the folder alone says what was tested and what came out
(``ioc-sim report`` reads it back). Non-finite numbers are written to JSON as null.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ioc_sim.experiments.jsonfiles import write_json
from ioc_sim.theory.design import Scorecard
from ioc_sim.theory.prediction import TAIL
from ioc_sim.theory.spec import Theory

VERDICT_COLOURS = {
    "supported": "#1b7837",
    "contradicted": "#b2182b",
    "no detectable effect": "#878787",
    "not tested": "#d9d9d9",
}


def write_scorecard(card: Scorecard, theory: Theory, figures: bool = True) -> None:
    """Write the scorecard's tables, JSON and Markdown (and figures) into ``card.out``.

    Args:
        card: The scored theory.
        theory: The theory scored; its file is copied beside the scorecard.
        figures: Also draw PNG figures (their paths go to ``card.figures``).
    """
    out = card.out
    for name, df in card.tables.items():
        df.to_csv(out / f"{name}.csv", index=False)
    if theory.path is not None and theory.path.exists():
        if theory.path.resolve() != (out / "theory.toml").resolve():
            shutil.copyfile(theory.path, out / "theory.toml")
    if figures:
        card.figures = draw_figures(card)
    write_json(
        out / "scorecard.json",
        {"headline": card.headline, "notes": card.notes, "figures": [p.name for p in card.figures]},
        finite=True,
    )
    (out / "summary.md").write_text(summary_markdown(card), encoding="utf-8")


def draw_figures(card: Scorecard) -> list[Path]:
    """The scorecard's PNG figures (hypotheses, importance, surrogates, regional
    sensitivity), for those parts that were scored; returns their paths."""
    from ioc_sim.experiments.plotting import plt  # the files-only backend, set in one place

    paths = []
    hyp = card.tables["hypotheses"]
    h = hyp[hyp["verdict"] != "not tested"].iloc[::-1]
    if len(h):
        fig, ax = plt.subplots(figsize=(8, 0.32 * len(h) + 1.2))
        # Regression effects in SDs of their outcome; associations are already correlations.
        sd = h["outcome_sd"].where(~h["design"].str.startswith("rank"), 1.0)
        est, lo, hi = h["estimate"] / sd, h["ci_low"] / sd, h["ci_high"] / sd
        ypos = np.arange(len(h))
        for i, (_, r) in enumerate(h.iterrows()):
            c = VERDICT_COLOURS[r["verdict"]]
            ax.plot([lo.iloc[i], hi.iloc[i]], [i, i], color=c, lw=2)
            ax.plot(est.iloc[i], i, "o", color=c)
            ax.annotate(
                r["expected_sign"],
                (1.0, i),
                xycoords=("axes fraction", "data"),
                xytext=(4, -3),
                textcoords="offset points",
                fontsize=8,
            )
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(ypos, [f"{r.id} {r.cause}->{r.effect}" for r in h.itertuples()], fontsize=7)
        ax.set_xlabel(
            "effect over the cause's range in SDs of the outcome, or rank correlation (95% CI)"
        )
        ax.set_title("Hypotheses: green supported, red contradicted, grey no effect", fontsize=9)
        fig.tight_layout()
        paths.append(out_path := card.out / "hypotheses.png")
        fig.savefig(out_path, dpi=110)
        plt.close(fig)
    imp = card.tables.get("importance")
    if imp is not None:
        fig, ax = plt.subplots(figsize=(7, 4))
        order = imp.sort_values("ST", ascending=True)
        colours = {1: "#2166ac", 2: "#67a9cf", 3: "#d1e5f0"}
        ax.barh(
            order["label"],
            order["ST"],
            xerr=order["ST_conf"],
            color=[colours.get(t, "#eeeeee") for t in order["tier"]],
            edgecolor="k",
        )
        ax.set_xlabel(f"total-order Sobol' index for {card.headline['importance']['outcome']}")
        ax.set_title("Theorised tier (dark = tier 1) against simulated importance")
        fig.tight_layout()
        paths.append(p := card.out / "importance.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
    sur = card.tables.get("surrogates")
    if sur is not None:
        fig, ax = plt.subplots(figsize=(7, 2.6))
        ax.barh(sur["surrogate"], sur["r2_pooled"], color=["#2166ac", "#67a9cf", "#b2182b"])
        ax.set_xlabel("out-of-sample R^2 on held-out context clusters")
        ax.set_xlim(min(0, float(np.nanmin(sur["r2_pooled"]))), 1)
        fig.tight_layout()
        paths.append(p := card.out / "surrogates.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
    rs = card.tables.get("regional_sensitivity")
    if rs is not None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=False)
        for ax, side in zip(axes, ("below", "above"), strict=True):
            t = rs[rs["side"] == side].head(8).iloc[::-1]
            ax.barh(
                t["label"], t["ks"], color=["#b2182b" if p < 0.01 else "#bbbbbb" for p in t["p"]]
            )
            ax.set_title(f"performance {side} the theory's expectation", fontsize=9)
            ax.set_xlabel("KS distance (red: p < 0.01)")
        fig.tight_layout()
        paths.append(p := card.out / "regional_sensitivity.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
    return paths


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def summary_markdown(card: Scorecard) -> str:
    """The scorecard as Markdown: headline numbers, then the tables."""
    h = card.headline
    lines = [f"# Theory scorecard: {h.get('theory')}", ""]
    if h.get("question"):
        lines += [f"Question: {h['question']}", ""]
    lines += [
        f"Results: `{h.get('results')}` ({h.get('design')}); significance level "
        f"{h.get('alpha')}; analysis seed {h.get('seed')}.",
        "",
    ]
    a = h["agreement"]
    lines += [
        "## Directional agreement",
        "",
        f"{a['supported']} of {a['tested']} tested hypotheses supported "
        f"({_fmt(a['share'], 2)}, Wilson {int(100 * (1 - h['alpha']))}% interval "
        f"{_fmt(a['wilson_low'], 2)}-{_fmt(a['wilson_high'], 2)}); "
        f"{a['contradicted']} contradicted, {a['no_effect']} with no detectable effect.",
        "",
    ]
    for s, v in a["by_status"].items():
        lines.append(f"- {s}: {v['supported']} of {v['tested']} supported")
    lines += [
        "",
        "## Hypotheses",
        "",
        "| id | statement | sign | context | effect (95% CI) | SD units | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in card.tables["hypotheses"].itertuples():
        ci = (
            f"{_fmt(r.estimate)} ({_fmt(r.ci_low)}, {_fmt(r.ci_high)})"
            if r.verdict != "not tested"
            else r.design
        )
        lines.append(
            f"| {r.id} | {r.statement} | {r.expected_sign} | {r.context or '-'} | "
            f"{ci} | {_fmt(r.standardised, 2)} | **{r.verdict}** |"
        )
    lines += ["", "Design of each estimate: see `hypotheses.csv` (column `design`).", ""]
    lines += ["## Theorised importance against total-order Sobol' indices", ""]
    if "importance" in h:
        i = h["importance"]
        lines += [
            f"Outcome {i['outcome']}, {i['n']} constructs: Kendall's tau-b "
            f"{_fmt(i['kendall_tau'], 2)} (bootstrap interval {_fmt(i['tau_low'], 2)} to "
            f"{_fmt(i['tau_high'], 2)}); top-down concordance (Savage scores) "
            f"{_fmt(i['top_down'], 2)}.",
            "",
            "| construct | tier | parameter | ST (conf) | S1 | rank by ST |",
            "|---|---|---|---|---|---|",
        ]
        for r in card.tables["importance"].sort_values("ST", ascending=False).itertuples():
            lines.append(
                f"| {r.label} | {r.tier} | {r.parameter} | {_fmt(r.ST)} "
                f"({_fmt(r.ST_conf)}) | {_fmt(r.S1)} | {int(r.ST_rank)} |"
            )
    else:
        lines.append("Not scored (see notes).")
    lines += ["", "## Claimed interactions", ""]
    inter = card.tables.get("interactions")
    if inter is not None:
        lines += [
            "| id | context x mechanism -> outcome | sign | moderation (95% CI) | S2 | "
            "ST-S1 (ctx, mech) | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in inter.to_dict("records"):
            mod = f"{_fmt(r.get('moderation'))} ({_fmt(r.get('ci_low'))}, {_fmt(r.get('ci_high'))})"
            s2 = f"{_fmt(r.get('S2'))} +/- {_fmt(r.get('S2_conf'))}" if "S2" in r else "-"
            st = f"{_fmt(r.get('ST_minus_S1_context'))}, {_fmt(r.get('ST_minus_S1_mechanism'))}"
            lines.append(
                f"| {r['id']} | {r['context']} x {r['mechanism']} -> {r['outcome']} | "
                f"{r['expected_sign']} | {mod} | {s2} | {st} | **{r['verdict']}** |"
            )
    lines += ["", "## Predictive accuracy", ""]
    sur = card.tables.get("surrogates")
    if sur is not None:
        p = h["prediction"]
        lines += [
            f"Target {p['target']}; out-of-sample R^2 on {p['held_out_groups']} held-out "
            "clusters of context space (each cluster predicted by a model fitted on the "
            "others).",
            "",
            "| surrogate | factors | R^2 pooled | R^2 mean | R^2 worst |",
            "|---|---|---|---|---|",
        ]
        for r in sur.itertuples():
            lines.append(
                f"| {r.surrogate} | {r.features} | {_fmt(r.r2_pooled)} | "
                f"{_fmt(r.r2_mean)} | {_fmt(r.r2_min)} |"
            )
        lines += [
            "",
            "Theory's constructs used (sign as monotone constraint): "
            + ", ".join(
                f"{k} ({'+' if v > 0 else '-' if v < 0 else '?'})"
                for k, v in p["theory_features"].items()
            ),
        ]
    lines += ["", "## Where the theory fails", ""]
    boxes = card.tables.get("prim_boxes")
    if boxes is not None:
        lines += [
            f"Rows in the lowest (highest) {int(TAIL * 100)}% of residuals from the theory "
            "surrogate perform below (above) the theory's expectation. PRIM boxes:",
            "",
        ]
        for b in boxes.to_dict("records"):
            lines.append(
                f"- **{b['side']} expectation** in: {b['region']} - "
                f"{_fmt(b['density'], 2)} of rows there are {b['side']} expectation "
                f"(base rate {_fmt(b['base_rate'], 2)}); the box holds "
                f"{_fmt(b['support'], 2)} of the rows and "
                f"{_fmt(b['coverage'], 2)} of those cases."
            )
        rs = card.tables["regional_sensitivity"]
        lines += [
            "",
            "Monte Carlo filtering (Kolmogorov-Smirnov distance between the rows "
            "below expectation and the rest; top five):",
            "",
        ]
        for r in rs[rs.side == "below"].head(5).itertuples():
            lines.append(
                f"- {r.label} ({r.factor}): D = {_fmt(r.ks, 2)}, p = {r.p:.2g}, "
                f"median {_fmt(r.median_in, 2)} vs {_fmt(r.median_rest, 2)}"
            )
    if card.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in card.notes]
    lines += ["", 'How to read this scorecard: README.md, section "Testing the theory".', ""]
    return "\n".join(lines)
