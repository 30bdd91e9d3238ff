"""One analyser per design method, each turning a results folder into a table.

* :func:`sobol_indices` - Sobol' S1 and ST (and S2 when sampled), with
  :func:`sobol_convergence` comparing the first half of the base samples with all;
* :func:`morris_indices` - Morris elementary effects (mu, mu*, its CI, sigma);
* :func:`fast_indices` - eFAST S1 and ST;
* :func:`latin_indices` - RBD-FAST S1 of a Latin hypercube;
* :func:`grid_main_effects` - each outcome's mean at each level of each factor;
* :func:`compare_table` - scenario means and paired differences from the first.

The SALib analysers read the design-row means in the design's row order (SALib
reads only the order of Y), and draw their bootstrap confidence intervals from a
seed derived from the experiment's root seed
(:func:`~ioc_sim.experiments.provenance.analysis_seed`), so the same results folder
always gives the same tables; an outcome whose row means do not vary has no variance
to apportion, so its Sobol', eFAST and RBD-FAST indices are NaN. The comparison
reads single runs, paired by replicate. :func:`ioc_sim.experiments.sensitivity.analyse`
chooses the analyser from the design's method and writes the tables.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.experiments.provenance import analysis_seed
from ioc_sim.experiments.results import ExperimentResults


class AnalysisError(ValueError):
    """The results cannot support the analysis asked for (for example, rows are missing)."""


def problem_from_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The SALib problem of a stored experiment."""
    factors = manifest["factors"]
    return {
        "num_vars": len(factors),
        "names": [f["name"] for f in factors],
        "bounds": [f["sample_bounds"] for f in factors],
    }


def _seed(res: ExperimentResults, seed: int | None) -> int:
    """The seed given, or else the one derived from the experiment's root seed."""
    return analysis_seed(int(res.manifest["root_seed"])) if seed is None else seed


def _y(res: ExperimentResults, name: str) -> np.ndarray:
    return res.row_means().sort_values("row")[name].to_numpy(dtype=float)


def constant_outcomes(res: ExperimentResults) -> list[str]:
    """Outcomes whose row means do not vary: there is no variance to apportion."""
    return [name for name in res.outcomes if np.ptp(_y(res, name)) == 0]


def _nan_rows(name: str, factors: list[str], cols: list[str]) -> list[dict[str, Any]]:
    return [{"outcome": name, "factor": f, **dict.fromkeys(cols, math.nan)} for f in factors]


def sobol_indices(
    res: ExperimentResults, second_order: bool | None = None, seed: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """S1 and ST (and S2 when the design has it) with 95% confidence intervals.

    Args:
        res: The results.
        second_order: False skips S2; True insists on it.
        seed: Seed of the bootstrap confidence intervals (default: derived from the
            experiment's root seed; the other analysers take it the same way).

    Raises:
        AnalysisError: If second order is asked of a design without it.
    """
    from SALib.analyze import sobol

    seed = _seed(res, seed)
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


def sobol_convergence(res: ExperimentResults, seed: int | None = None) -> pd.DataFrame:
    """Convergence evidence: S1 and ST from the first half of the base samples against all.

    SALib's Sobol' design groups its rows by base sample (each base point gives
    ``D + 2`` or ``2D + 2`` consecutive rows), and a prefix of a Sobol' sequence
    of power-of-two length is itself a valid design, so the first half of the
    rows is the same design at N/2. Large changes from N/2 to N, or confidence
    intervals wide against the indices, say N is too small.
    """
    from SALib.analyze import sobol

    seed = _seed(res, seed)
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


def morris_indices(res: ExperimentResults, seed: int | None = None) -> pd.DataFrame:
    """Morris elementary effects: mu, mu*, its 95% CI and sigma, per outcome and factor."""
    from SALib.analyze import morris

    seed = _seed(res, seed)
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


def fast_indices(res: ExperimentResults, seed: int | None = None) -> pd.DataFrame:
    """eFAST first-order and total indices with 95% confidence intervals."""
    from SALib.analyze import fast

    seed = _seed(res, seed)
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


def latin_indices(res: ExperimentResults, seed: int | None = None) -> pd.DataFrame:
    """RBD-FAST first-order indices of a Latin hypercube design."""
    from SALib.analyze import rbd_fast

    seed = _seed(res, seed)
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
