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
from ioc_sim.spec.files import writable_folder

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
        ranked: For compare and grid designs, outcome -> (scenario or design point,
            mean) pairs, highest first.
        equal: Outcomes whose mean is the same in every scenario or design point,
            with that mean (their ``leading`` is empty: nothing leads).
    """

    folder: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)
    leading: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ranked: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    equal: dict[str, float] = field(default_factory=dict)

    def rank(self, name: str, labels: list[str], means: list[float]) -> None:
        """Record an outcome's means by scenario or design point, highest first; when
        they are all the same, record that instead of a leader."""
        pairs = sorted(zip(labels, means, strict=True), key=lambda p: -p[1])
        self.ranked[name] = pairs
        values = np.array(means, dtype=float)
        finite = values[np.isfinite(values)]
        if len(finite) == len(values) and len(values) and _all_equal(finite):
            self.equal[name] = float(finite[0])
            self.leading[name] = []
        else:
            self.leading[name] = [label for label, _ in pairs]


def _all_equal(values: np.ndarray) -> bool:
    """Equal up to rounding in the last digits (means of equal runs can differ there)."""
    scale = max(1.0, float(np.abs(values).max()))
    return float(np.ptp(values)) <= 1e-12 * scale


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
            skips S2; True insists on it (and is refused for other designs).
        figures: Also draw PNG figures.

    Returns:
        What was written. Indices that could not be computed are listed in
        ``problems`` (and in ``summary.md``); the caller decides whether that
        is an error.

    Raises:
        AnalysisError: If second-order indices are asked of a design without them.
        ConfigError: If the folder is not a results folder, or its ``analysis``
            folder cannot be written (checked before anything is computed).
    """
    res = load_results(path)
    method = res.manifest["method"]
    if second_order and method != "sobol":
        raise AnalysisError(
            f"second-order indices are Sobol' indices, and a {method} design has none; "
            "allowed: --second-order with a sobol design sampled with "
            "design.second_order = true"
        )
    out = writable_folder(res.path / "analysis", "analysis")
    an = Analysis(out)

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
            have = by_row[by_row["n_ok"] > 0]
            an.rank(name, [str(b) for b in have["label"]], list(have[f"{name}_mean"]))
    elif method == "compare" and len(ok):
        table = compare_table(res)
        put("compare", table)
        for name in res.outcomes:
            t = table[table["outcome"] == name]
            an.rank(name, [str(s) for s in t["scenario"]], list(t["mean"]))
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


def _ranking(pairs: list[tuple[str, float]], at: str) -> str:
    """``highest in b and c (0.61), then a (0.52)``: the leaders with their means, those
    equal to the best named together, up to :data:`LEADING` names in all."""
    top = pairs[0][1]
    best = [label for label, v in pairs if _all_equal(np.array([v, top]))]
    shown = pairs[: max(LEADING, len(best))]
    text = f"highest {at} " + " and ".join(best) + f" ({top:.4g}"
    text += ", equal)" if len(best) > 1 else ")"
    rest = [f"{label} ({v:.4g})" for label, v in shown[len(best) :]]
    if rest:
        text += ", then " + ", ".join(rest)
    return text


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
        elif name in an.equal:
            where = "scenario" if method == "compare" else "design point"
            line += f": the same in every {where} ({an.equal[name]:.4g})"
        elif name in an.ranked:
            line += ": " + _ranking(an.ranked[name], "in" if method == "compare" else "at")
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
