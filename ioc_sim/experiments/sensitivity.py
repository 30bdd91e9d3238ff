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
with the rows named, when any design row has no successful run.

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

from ioc_sim.experiments.figures import (
    bar_figure,
    compare_figure,
    morris_figure,
    trajectories_figure,
)
from ioc_sim.experiments.results import ExperimentResults, load_results

LEADING = 3


class AnalysisError(ValueError):
    """The results cannot support the analysis asked for (for example, rows are missing)."""


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


def problem_from_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The SALib problem of a stored experiment."""
    factors = manifest["factors"]
    return {
        "num_vars": len(factors),
        "names": [f["name"] for f in factors],
        "bounds": [f["sample_bounds"] for f in factors],
    }


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


def _y(res: ExperimentResults, name: str) -> np.ndarray:
    return res.row_means().sort_values("row")[name].to_numpy(dtype=float)


def constant_outcomes(res: ExperimentResults) -> list[str]:
    """Outcomes whose row means do not vary: there is no variance to apportion."""
    return [name for name in res.outcomes if np.ptp(_y(res, name)) == 0]


def _nan_rows(name: str, factors: list[str], cols: list[str]) -> list[dict[str, Any]]:
    return [{"outcome": name, "factor": f, **dict.fromkeys(cols, math.nan)} for f in factors]


def sobol_indices(
    res: ExperimentResults, second_order: bool | None = None, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """S1 and ST (and S2 when the design has it) with 95% confidence intervals.

    Raises:
        AnalysisError: If second order is asked of a design without it.
    """
    from SALib.analyze import sobol

    problem = problem_from_manifest(res.manifest)
    has_s2 = bool(res.manifest["options"]["second_order"])
    if second_order and not has_s2:
        raise AnalysisError(
            "second-order indices need a design sampled with design.second_order = true"
        )
    calc = has_s2  # SALib reads the sample's layout from this; it must match the design
    rows, s2_rows = [], []
    names = problem["names"]
    constant = constant_outcomes(res)
    for name in res.outcomes:
        if name in constant:
            rows += _nan_rows(name, names, ["S1", "S1_conf", "ST", "ST_conf"])
            continue
        si = sobol.analyze(problem, _y(res, name), calc_second_order=calc, seed=seed)
        for j, f in enumerate(names):
            rows.append(
                {
                    "outcome": name,
                    "factor": f,
                    "S1": si["S1"][j],
                    "S1_conf": si["S1_conf"][j],
                    "ST": si["ST"][j],
                    "ST_conf": si["ST_conf"][j],
                }
            )
        if calc and second_order is not False:
            for a in range(len(names)):
                for b in range(a + 1, len(names)):
                    s2_rows.append(
                        {
                            "outcome": name,
                            "factor_a": names[a],
                            "factor_b": names[b],
                            "S2": si["S2"][a, b],
                            "S2_conf": si["S2_conf"][a, b],
                        }
                    )
    return pd.DataFrame(rows), (pd.DataFrame(s2_rows) if s2_rows else None)


def sobol_convergence(res: ExperimentResults, seed: int = 0) -> pd.DataFrame:
    """Convergence evidence: S1 and ST from the first half of the base samples against all.

    SALib's Sobol' design groups its rows by base sample (each base point gives
    ``D + 2`` or ``2D + 2`` consecutive rows), and a prefix of a Sobol' sequence
    of power-of-two length is itself a valid design, so the first half of the
    rows is the same design at N/2. Large changes from N/2 to N, or confidence
    intervals wide against the indices, say N is too small.
    """
    from SALib.analyze import sobol

    problem = problem_from_manifest(res.manifest)
    calc = bool(res.manifest["options"]["second_order"])
    names = problem["names"]
    rows = []
    for name in res.outcomes:
        if name in constant_outcomes(res):
            continue
        y = _y(res, name)
        half = len(y) // 2
        whole = sobol.analyze(problem, y, calc_second_order=calc, seed=seed)
        part = sobol.analyze(problem, y[:half], calc_second_order=calc, seed=seed)
        for j, f in enumerate(names):
            rows.append(
                {
                    "outcome": name,
                    "factor": f,
                    "S1_half": part["S1"][j],
                    "S1": whole["S1"][j],
                    "ST_half": part["ST"][j],
                    "ST": whole["ST"][j],
                    "ST_change": abs(whole["ST"][j] - part["ST"][j]),
                    "ST_conf_half": part["ST_conf"][j],
                    "ST_conf": whole["ST_conf"][j],
                }
            )
    return pd.DataFrame(rows)


def morris_indices(res: ExperimentResults, seed: int = 0) -> pd.DataFrame:
    """Morris elementary effects: mu, mu*, its 95% CI and sigma, per outcome and factor."""
    from SALib.analyze import morris

    problem = problem_from_manifest(res.manifest)
    X = res.design.sort_values("row")[[f"x.{n}" for n in problem["names"]]].to_numpy(float)
    rows = []
    for name in res.outcomes:
        # Morris needs no variance: a constant outcome simply has zero effects.
        si = morris.analyze(
            problem, X, _y(res, name), num_levels=res.manifest["options"]["levels"], seed=seed
        )
        for j, f in enumerate(problem["names"]):
            rows.append(
                {
                    "outcome": name,
                    "factor": f,
                    "mu": si["mu"][j],
                    "mu_star": si["mu_star"][j],
                    "mu_star_conf": si["mu_star_conf"][j],
                    "sigma": si["sigma"][j],
                }
            )
    return pd.DataFrame(rows)


def fast_indices(res: ExperimentResults, seed: int = 0) -> pd.DataFrame:
    """eFAST first-order and total indices with 95% confidence intervals."""
    from SALib.analyze import fast

    problem = problem_from_manifest(res.manifest)
    import warnings

    rows = []
    constant = constant_outcomes(res)
    for name in res.outcomes:
        if name in constant:
            rows += _nan_rows(name, problem["names"], ["S1", "S1_conf", "ST", "ST_conf"])
            continue
        with warnings.catch_warnings():
            # SALib warns that eFAST bootstrap CIs are indicative; the summary says so.
            warnings.filterwarnings("ignore", message="FAST confidence intervals")
            si = fast.analyze(problem, _y(res, name), M=res.manifest["options"]["m"], seed=seed)
        for j, f in enumerate(problem["names"]):
            rows.append(
                {
                    "outcome": name,
                    "factor": f,
                    "S1": si["S1"][j],
                    "S1_conf": si["S1_conf"][j],
                    "ST": si["ST"][j],
                    "ST_conf": si["ST_conf"][j],
                }
            )
    return pd.DataFrame(rows)


def latin_indices(res: ExperimentResults, seed: int = 0) -> pd.DataFrame:
    """RBD-FAST first-order indices of a Latin hypercube design."""
    from SALib.analyze import rbd_fast

    problem = problem_from_manifest(res.manifest)
    X = res.design.sort_values("row")[[f"x.{n}" for n in problem["names"]]].to_numpy(float)
    rows = []
    constant = constant_outcomes(res)
    for name in res.outcomes:
        if name in constant:
            rows += _nan_rows(name, problem["names"], ["S1", "S1_conf"])
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            # A bootstrap resample of a small design can be constant: its CI is then NaN.
            si = rbd_fast.analyze(problem, X, _y(res, name), seed=seed)
        for j, f in enumerate(problem["names"]):
            rows.append(
                {"outcome": name, "factor": f, "S1": si["S1"][j], "S1_conf": si["S1_conf"][j]}
            )
    return pd.DataFrame(rows)


def grid_main_effects(res: ExperimentResults, by_row: pd.DataFrame) -> pd.DataFrame:
    """Mean of each outcome at each level of each factor, over the other factors."""
    rows = []
    for f in res.factors:
        for level, grp in by_row.groupby(f, sort=True):
            for name in res.outcomes:
                rows.append(
                    {
                        "factor": f,
                        "level": level,
                        "outcome": name,
                        "mean": grp[f"{name}_mean"].mean(),
                        "rows": len(grp),
                    }
                )
    return pd.DataFrame(rows)


def compare_table(res: ExperimentResults) -> pd.DataFrame:
    """Per scenario: mean and 95% CI; paired difference from the first scenario.

    Replicate r of every scenario has the same seed (common random numbers),
    so differences are taken replicate by replicate.
    """
    from scipy import stats

    ok = res.ok
    labels = res.design.set_index("row")["label"]
    rows = []
    for name in res.outcomes:
        wide = ok.pivot(index="replicate", columns="row", values=name)
        first = wide.columns.min()
        for row in wide.columns:
            v = wide[row].dropna().to_numpy(float)
            d = (wide[row] - wide[first]).dropna().to_numpy(float)
            n, nd = len(v), len(d)
            t = stats.t.ppf(0.975, n - 1) if n > 1 else math.nan
            td = stats.t.ppf(0.975, nd - 1) if nd > 1 else math.nan
            sd = v.std(ddof=1) if n > 1 else math.nan
            sdd = d.std(ddof=1) if nd > 1 else math.nan
            rows.append(
                {
                    "outcome": name,
                    "row": row,
                    "scenario": labels[row],
                    "replicates": n,
                    "mean": v.mean() if n else math.nan,
                    "sd": sd,
                    "ci95": t * sd / math.sqrt(n) if n > 1 else math.nan,
                    "diff_from_first": d.mean() if nd else math.nan,
                    "diff_ci95": td * sdd / math.sqrt(nd) if nd > 1 else math.nan,
                }
            )
    return pd.DataFrame(rows)


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
