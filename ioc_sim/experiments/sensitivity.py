"""Analysis of an experiment's results: SALib indices, tables, figures, a summary.

:func:`analyse` reads a results folder and writes ``analysis/`` beside it:

* ``outcomes_by_row.csv`` - the design with each outcome's mean, sd and count
  of successful replicates per row;
* ``noise.csv`` - per outcome, the share of run-to-run variance (replicates
  of the same row) in all runs, and what is left of it in the row means that
  the indices are computed on;
* per method: ``sobol.csv`` (S1, ST with confidence intervals; ``sobol_s2.csv``
  with second order), ``morris.csv`` (mu, mu*, its CI, sigma), ``fast.csv``
  (eFAST S1, ST), ``latin.csv`` (RBD-FAST S1), ``grid_main_effects.csv``,
  ``compare.csv`` (means, and paired differences from the first scenario,
  which common random numbers make precise);
* a PNG figure per outcome, and ``summary.md`` naming the leading factors.

Replicates are averaged per design row before SALib sees them (SALib reads
only the order of Y, which is the design's row order). Indices are refused,
with the rows named, when any design row has no successful run. The analyser
of each method is in :mod:`~ioc_sim.experiments.analysers`; this module
chooses among them, checks the results first and writes the summary.

The same pipeline is checked end to end on SALib's Ishigami function by
:func:`ioc_sim.experiments.pipeline_check.selftest`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.experiments.analysers import (
    AnalysisError,
    compare_table,
    constant_outcomes,
    fast_indices,
    grid_main_effects,
    latin_indices,
    morris_indices,
    problem_from_manifest,
    sobol_convergence,
    sobol_indices,
)
from ioc_sim.experiments.figures import (
    bar_figure,
    compare_figure,
    morris_figure,
    trajectories_figure,
)
from ioc_sim.experiments.results import ExperimentResults, load_results

# The analysers are named here too, so that code written against this module
# before they moved out keeps working.
__all__ = [
    "LEADING",
    "Analysis",
    "AnalysisError",
    "analyse",
    "compare_table",
    "constant_outcomes",
    "fast_indices",
    "grid_main_effects",
    "latin_indices",
    "missing_rows_message",
    "morris_indices",
    "noise_table",
    "problem_from_manifest",
    "sobol_convergence",
    "sobol_indices",
    "summary_markdown",
]

LEADING = 3


@dataclass
class Analysis:
    """What :func:`analyse` wrote and found.

    Attributes:
        folder: The analysis folder.
        tables: Table name -> DataFrame (each also written as CSV).
        figures: Paths of the PNG figures.
        leading: Outcome -> leading factors (or scenarios), best first.
        problems: Reasons indices were not computed.
        notes: Caveats on what was computed.
    """

    folder: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)
    leading: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def noise_table(res: ExperimentResults) -> pd.DataFrame:
    """Share of output variance that is run-to-run noise, per outcome.

    Sums of squares over all successful runs split into between design rows
    and within them (replicates of one row differ only by their seed):

    * ``noise_share`` = within-row / total sum of squares: the share of the
      variance of single runs that is run-to-run noise.
    * ``common_luck_share`` = the part of the total that is a replicate's
      luck shared by every row (common random numbers: replicate r has the
      same seed in every row). It shifts all rows alike, so it does not blur
      differences between rows.
    * ``noise_share_of_means`` = the row-by-replicate residual variance left
      in a row mean (residual mean square / replicates) over the variance of
      the row means: how much of what the indices apportion is still noise
      (capped at 1; computed on rows with every replicate).
    """
    ok = res.ok
    reps = int(res.manifest["replicates"])
    rows = []
    for name in res.outcomes:
        y = ok[name].to_numpy(dtype=float)
        row_mean = ok.groupby("row")[name].transform("mean").to_numpy(dtype=float)
        ss_total = float(((y - y.mean()) ** 2).sum())
        ss_within = float(((y - row_mean) ** 2).sum())
        entry: dict[str, Any] = {
            "outcome": name,
            "runs": len(y),
            "rows": ok["row"].nunique(),
            "variance_runs": float(np.var(y, ddof=1)) if len(y) > 1 else math.nan,
            "noise_share": ss_within / ss_total if ss_total > 0 else math.nan,
            "common_luck_share": math.nan,
            "noise_share_of_means": math.nan,
        }
        wide = ok.pivot(index="row", columns="replicate", values=name).dropna()
        if reps > 1 and wide.shape[0] > 1 and wide.shape[1] == reps and ss_total > 0:
            w = wide.to_numpy(dtype=float)
            g = w.mean()
            m, c = w.mean(axis=1, keepdims=True), w.mean(axis=0, keepdims=True)
            total_w = float(((w - g) ** 2).sum())
            entry["common_luck_share"] = (
                float(((c - g) ** 2).sum()) * w.shape[0] / total_w if total_w > 0 else math.nan
            )
            ms_resid = float(((w - m - c + g) ** 2).sum()) / ((w.shape[0] - 1) * (reps - 1))
            var_means = float(np.var(m, ddof=1))
            entry["noise_share_of_means"] = (
                min(1.0, ms_resid / reps / var_means) if var_means > 0 else math.nan
            )
        rows.append(entry)
    return pd.DataFrame(rows)


def missing_rows_message(res: ExperimentResults) -> str | None:
    """Which design rows have no successful run, or None if every row has one."""
    means = res.row_means()
    have = set(means["row"].astype(int))
    absent = [r for r in range(int(res.manifest["design_rows"])) if r not in have]
    if not absent:
        return None
    failed_rows = set(res.failed["row"].astype(int))
    n_failed = sum(r in failed_rows for r in absent)
    shown = ", ".join(str(r) for r in absent[:20]) + (" ..." if len(absent) > 20 else "")
    return (
        f"{len(absent)} of {res.manifest['design_rows']} design rows have no successful "
        f"run ({n_failed} with failed runs, {len(absent) - n_failed} not yet run): rows "
        f"{shown}; re-run the experiment to finish them (add --retry-failed to run failed "
        "runs again)"
    )


# ----------------------------------------------------------------- analyse
def analyse(path: str | Path, second_order: bool | None = None, figures: bool = True) -> Analysis:
    """Write tables, figures and a summary for a results folder.

    Args:
        path: The results folder.
        second_order: For Sobol designs sampled with second order: False
            skips S2; True insists on it.
        figures: Also draw PNG figures.

    Returns:
        What was written. Indices that could not be computed are listed in
        ``problems`` (and in ``summary.md``); the caller decides whether that
        is an error.
    """
    res = load_results(path)
    out = res.path / "analysis"
    out.mkdir(exist_ok=True)
    an = Analysis(out)
    method = res.manifest["method"]

    def put(name: str, df: pd.DataFrame) -> None:
        an.tables[name] = df
        df.to_csv(out / f"{name}.csv", index=False)

    # Per-row table: the design with each outcome's mean, sd and count.
    ok = res.ok
    g = ok.groupby("row")[res.outcomes]
    by_row = res.design.drop(columns=[c for c in res.design.columns if c.startswith("x.")])
    stats_ = pd.concat([g.mean().add_suffix("_mean"), g.std(ddof=1).add_suffix("_sd")], axis=1)
    stats_["n_ok"] = ok.groupby("row").size()
    by_row = by_row.merge(stats_, left_on="row", right_index=True, how="left")
    by_row["n_ok"] = by_row["n_ok"].fillna(0).astype(int)
    put("outcomes_by_row", by_row)
    if len(ok):
        put("noise", noise_table(res))
    if len(res.failed):
        put("failed_runs", res.failed[["run_id", "row", "replicate", "seed", "error"]])

    missing = missing_rows_message(res)
    short = by_row.loc[
        (by_row["n_ok"] > 0) & (by_row["n_ok"] < int(res.manifest["replicates"])), "row"
    ].tolist()
    if short:
        shown = ", ".join(str(r) for r in short[:20]) + (" ..." if len(short) > 20 else "")
        an.notes.append(
            f"{len(short)} design row(s) are averaged over fewer replicates than "
            f"the design asks for (failed or missing runs): rows {shown}"
        )
    if method in ("sobol", "morris", "fast", "latin"):
        if missing:
            an.problems.append(f"{method} indices not computed: {missing}")
        else:
            _indices(res, method, second_order, an, put, figures)
    elif method == "grid" and len(ok):
        put("grid_main_effects", grid_main_effects(res, by_row))
        for name in res.outcomes:
            best = by_row.sort_values(f"{name}_mean", ascending=False)["label"].head(LEADING)
            an.leading[name] = [str(b) for b in best]
    elif method == "compare" and len(ok):
        table = compare_table(res)
        put("compare", table)
        for name in res.outcomes:
            t = table[table["outcome"] == name].sort_values("mean", ascending=False)
            an.leading[name] = [str(s) for s in t["scenario"]]
            if figures:
                an.figures.append(compare_figure(table, name, out / f"compare_{name}.png"))
        if figures and res.timeseries is not None and len(res.timeseries):
            an.figures.append(trajectories_figure(res, out / "trajectories.png"))
        if missing:
            an.problems.append(f"comparison incomplete: {missing}")
    (out / "summary.md").write_text(summary_markdown(res, an), encoding="utf-8")
    return an


def _indices(res, method, second_order, an, put, figures) -> None:
    out = an.folder
    if method == "sobol":
        table, s2 = sobol_indices(res, second_order)
        put("sobol", table)
        if res.manifest["options"]["n"] >= 4:
            conv = sobol_convergence(res)
            put("sobol_convergence", conv)
            if len(conv):
                worst = conv.sort_values("ST_change", ascending=False).iloc[0]
                an.notes.append(
                    f"Convergence: the largest change in a total-order index from N/2 to N "
                    f"is {worst['ST_change']:.3f} ({worst['outcome']}, {worst['factor']}); the "
                    f"widest 95% interval of ST at N is {conv['ST_conf'].max():.3f} "
                    "(sobol_convergence.csv)"
                )
        if s2 is not None:
            put("sobol_s2", s2)
        key, cols = "ST", ["S1", "ST"]
    elif method == "fast":
        table = fast_indices(res)
        put("fast", table)
        key, cols = "ST", ["S1", "ST"]
    elif method == "latin":
        table = latin_indices(res)
        put("latin", table)
        key, cols = "S1", ["S1"]
    else:
        table = morris_indices(res)
        put("morris", table)
        key, cols = "mu_star", []
    for name in res.outcomes:
        t = table[table["outcome"] == name].sort_values(key, ascending=False)
        an.leading[name] = list(t.loc[t[key] > 0, "factor"].head(LEADING))
        if figures:
            p = out / f"{method}_{name}.png"
            if method == "morris":
                an.figures.append(morris_figure(table, name, p))
            else:
                an.figures.append(bar_figure(table, name, cols, p, f"{method} indices: {name}"))


def summary_markdown(res: ExperimentResults, an: Analysis) -> str:
    """A short Markdown summary: what was run, noise, and the leading factors per outcome."""
    m = res.manifest
    lines = [f"# {m['experiment']}", ""]
    if m.get("question"):
        lines += [m["question"], ""]
    lines += [
        f"Design: {m['method']} {m['options']}, {m['design_rows']} rows x "
        f"{m['replicates']} replicates = {m['total_runs']} runs "
        f"({m.get('finished', 0)} finished, {m.get('failed', 0)} failed, "
        f"{m.get('missing', 0)} not run). Root seed {m['root_seed']}; "
        "replicates share seeds across rows (common random numbers).",
        "",
    ]
    for p in an.problems:
        lines += [f"**Not computed.** {p}", ""]
    for n in an.notes:
        lines += [f"**Note.** {n}", ""]
    meaning = {o["name"]: o["meaning"] for o in m["outcomes"]}
    noise = an.tables.get("noise")
    method = m["method"]
    key = {"sobol": "ST", "fast": "ST", "latin": "S1", "morris": "mu_star"}.get(method)
    lines += ["## Leading factors per outcome" if key else "## Results per outcome", ""]
    for name in res.outcomes:
        line = f"- **{name}** ({meaning.get(name, '')})"
        lead = an.leading.get(name)
        if key and name in an.leading and not lead:
            line += ": no factor moves it (constant across the design)"
        elif lead and key:
            t = an.tables[method]
            t = t[t["outcome"] == name].set_index("factor")
            parts = [f"{f} ({key} {t.loc[f, key]:.3g})" for f in lead]
            line += ": " + ", ".join(parts)
        elif lead and method == "compare":
            line += ": highest in " + ", ".join(lead[:LEADING])
        elif lead:
            line += ": highest at " + "; ".join(lead)
        if noise is not None and len(noise):
            row = noise.set_index("outcome").loc[name]
            if not math.isnan(row["noise_share"]):
                line += f". Run-to-run noise: {row['noise_share']:.1%} of the variance of runs"
                if not math.isnan(row["common_luck_share"]):
                    line += (
                        f" ({row['common_luck_share']:.1%} shared by all rows through "
                        f"common random numbers); {row['noise_share_of_means']:.1%} of "
                        "the variance of the row means analysed"
                    )
        lines.append(line + ".")
    if method == "fast":
        lines += [
            "",
            "eFAST confidence intervals come from a bootstrap that SALib marks as indicative only.",
        ]
    lines += ["", "Tables: " + ", ".join(f"`{k}.csv`" for k in an.tables) + "."]
    if an.figures:
        lines.append("Figures: " + ", ".join(f"`{p.name}`" for p in an.figures) + ".")
    return "\n".join(lines) + "\n"
