"""Scoring a theory against the results of a designed experiment, one step per question.

:func:`build_scorecard` reads the results once
(:func:`~ioc_sim.theory.design.read_design`) and runs the steps in turn, each
adding its tables, headline numbers and notes to a
:class:`~ioc_sim.theory.design.Scorecard`:

* :func:`score_hypotheses` - the effect of each cause's instrument on the effect's
  outcome, from a linear regression of design-row means on every numeric factor
  (each factor scaled to its sampled range, so a coefficient is the change in the
  outcome from the low to the high end of the cause), with a t interval and a
  verdict; a cause with no instrument in the design falls back on a rank
  correlation with its measured outcome (an association, flagged as such). Then
  the directional agreement: the share of tested hypotheses supported, with a
  Wilson interval;
* :func:`sobol_indices` and :func:`score_importance` - Kendall's tau-b between
  theorised tiers and total-order Sobol' indices (SALib), with a parametric
  bootstrap interval, and the top-down concordance coefficient;
* :func:`score_interactions` - the Sobol' second-order index of each claimed pair
  (when the design has it), ST - S1 of both, and a moderation model;
* :func:`~ioc_sim.theory.prediction.score_prediction` - surrogates restricted to
  the theory's constructs against an unconstrained one, by out-of-sample R^2 on
  held-out clusters of context space;
* :func:`~ioc_sim.theory.prediction.where_theory_fails` - rows well below (or
  above) the theory surrogate's out-of-fold prediction, compared with the rest by
  Monte Carlo filtering and described by PRIM boxes in the constructs' own words.

The first three steps are here; the last two, which share the surrogate's
residuals, are in :mod:`~ioc_sim.theory.prediction`.

Everything is a function of the results folder and the theory; random choices
(bootstrap, clusters, boosting) are seeded from the experiment's root seed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.analysers import problem_from_manifest
from ioc_sim.experiments.results import ExperimentResults
from ioc_sim.theory.design import Design, Scorecard, SobolTables, read_design
from ioc_sim.theory.prediction import score_prediction
from ioc_sim.theory.spec import HYPOTHESIS_STATUSES, Hypothesis, Interaction, Theory
from ioc_sim.theory.statistics import (
    Effect,
    association_effect,
    moderation,
    rank_agreement,
    regression_effect,
    verdict_of,
    wilson_interval,
)


# ----------------------------------------------------------------- hypotheses
def _context_mask(h: Hypothesis, d: Design) -> tuple[np.ndarray, str]:
    """The design rows inside the hypothesis's context, or why it cannot be tested."""
    mask = np.ones(len(d.frame), bool)
    for key, (lo, hi) in h.context.items():
        if key not in d.names:
            return mask, f"context {key} is not varied by the design"
        v = d.frame[key].astype(float).to_numpy()
        mask &= (v >= lo) & (v <= hi)
    return mask, ""


def _hypothesis_effect(
    h: Hypothesis, theory: Theory, d: Design, mask: np.ndarray, y: np.ndarray
) -> tuple[Effect | None, str]:
    """The hypothesis's effect and how it was estimated (or why it was not)."""
    cause, effect = theory.constructs[h.cause], theory.constructs[h.effect]
    instrument = next((p for p in cause.parameters if p in d.names), None)
    if instrument is not None:
        if mask.sum() <= d.X.shape[1] + 2:
            return None, "too few design rows in the context"
        eff = regression_effect(d.X[mask], y[mask], d.names.index(instrument), h.sign, theory.alpha)
        how = f"regression on {instrument} ({d.text}"
        how += f"; {mask.sum()} rows in context)" if h.context else ")"
        return eff, how
    if cause.outcome is not None and cause.outcome in d.outcomes:
        eff = association_effect(
            d.frame[cause.outcome].to_numpy(float)[mask], y[mask], h.sign, theory.alpha
        )
        return eff, (
            f"rank association of {cause.outcome} with {effect.outcome} (not an "
            f"intervention; {d.text})"
        )
    return None, f"no parameter of {h.cause} is varied by the design"


def _hypothesis_row(h: Hypothesis, theory: Theory, d: Design) -> dict[str, Any]:
    y = d.frame[theory.constructs[h.effect].outcome].to_numpy(float)
    mask, reason = _context_mask(h, d)
    eff, how = (None, reason) if reason else _hypothesis_effect(h, theory, d, mask, y)
    row = {
        "id": h.id,
        "statement": h.statement,
        "cause": h.cause,
        "effect": h.effect,
        "expected_sign": "+" if h.sign > 0 else "-",
        "context": "; ".join(f"{k} in [{lo:g}, {hi:g}]" for k, (lo, hi) in h.context.items()),
        "status": h.status,
        "source": h.source,
        "outcome_sd": float(np.std(y[mask], ddof=1)) if mask.sum() > 1 else math.nan,
    }
    if eff is None:
        row.update(
            estimate=math.nan,
            ci_low=math.nan,
            ci_high=math.nan,
            standardised=math.nan,
            n=0,
            verdict="not tested",
            design=how,
        )
    else:
        row.update(
            estimate=eff.estimate,
            ci_low=eff.low,
            ci_high=eff.high,
            standardised=eff.standardised,
            n=eff.n,
            verdict=eff.verdict,
            design=how,
        )
    return row


def directional_agreement(hyp: pd.DataFrame, alpha: float) -> dict[str, Any]:
    """The share of tested hypotheses supported, with a Wilson interval, also by status."""
    tested = hyp[hyp["verdict"] != "not tested"]
    k = int((tested["verdict"] == "supported").sum())
    lo, hi = wilson_interval(k, len(tested), 1 - alpha)
    return {
        "supported": k,
        "tested": int(len(tested)),
        "contradicted": int((tested["verdict"] == "contradicted").sum()),
        "no_effect": int((tested["verdict"] == "no detectable effect").sum()),
        "share": k / len(tested) if len(tested) else math.nan,
        "wilson_low": lo,
        "wilson_high": hi,
        "by_status": {
            s: {
                "supported": int((tested[tested.status == s].verdict == "supported").sum()),
                "tested": int((tested.status == s).sum()),
            }
            for s in HYPOTHESIS_STATUSES
        },
    }


def score_hypotheses(card: Scorecard, theory: Theory, d: Design) -> None:
    """Each hypothesis's effect and verdict, and the directional agreement."""
    hyp = pd.DataFrame([_hypothesis_row(h, theory, d) for h in theory.hypotheses])
    card.tables["hypotheses"] = hyp
    card.headline["agreement"] = directional_agreement(hyp, theory.alpha)


# ----------------------------------------------------------------- importance
def sobol_for(
    res: ExperimentResults, frame: pd.DataFrame, outcomes: list[str], seed: int
) -> SobolTables:
    """SALib's S1, ST (and S2 when sampled) of the named outcomes only.

    The whole design's indices are ``ioc-sim experiment analyse``'s job; the
    scorecard needs only the importance and interaction outcomes, and SALib's
    bootstrap of S2 is the slow part.
    """
    from SALib.analyze import sobol

    problem = problem_from_manifest(res.manifest)
    calc = bool(res.manifest["options"].get("second_order"))
    if len(frame) != int(res.manifest["design_rows"]):
        raise ConfigError(
            "",
            "Sobol' indices need every design row; the results are "
            "incomplete (resume the experiment first)",
            str(res.path),
        )
    frame = frame.sort_values("row")
    rows, s2_rows = [], []
    names = problem["names"]
    for name in outcomes:
        y = frame[name].to_numpy(float)
        if np.ptp(y) == 0:
            continue
        si = sobol.analyze(problem, y, calc_second_order=calc, seed=seed)
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
        if calc:
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


def sobol_indices(card: Scorecard, theory: Theory, d: Design) -> SobolTables | None:
    """The Sobol' indices of the importance and interaction outcomes (Sobol' designs only)."""
    if d.method != "sobol":
        return None
    needed = {theory.constructs[theory.importance_outcome].outcome} | {
        theory.constructs[it.outcome].outcome for it in theory.interactions
    }
    si, s2 = sobol_for(d.res, d.frame, sorted(n for n in needed if n in d.outcomes), d.seed)
    card.tables["sobol"] = si
    if s2 is not None:
        card.tables["sobol_s2"] = s2
    return si, s2


def score_importance(card: Scorecard, theory: Theory, d: Design, sobol: SobolTables | None) -> None:
    """Theorised tiers against total-order indices: Kendall's tau-b and top-down concordance."""
    if not theory.tiers:
        return
    if sobol is None:
        card.notes.append(
            f"importance not scored: total-order indices need a Sobol' design "
            f"(this one is {d.method})"
        )
        return
    imp_outcome = theory.constructs[theory.importance_outcome].outcome
    si = sobol[0]
    si = si[si["outcome"] == imp_outcome].set_index("factor")
    imp_rows = []
    for t, tier in enumerate(theory.tiers):
        for name in tier:
            ps = [p for p in theory.constructs[name].parameters if p in si.index]
            if not ps:
                continue
            best = max(ps, key=lambda p: si.loc[p, "ST"])
            imp_rows.append(
                {
                    "construct": name,
                    "label": theory.constructs[name].label,
                    "tier": t + 1,
                    "parameter": best,
                    "ST": float(si.loc[best, "ST"]),
                    "ST_conf": float(si.loc[best, "ST_conf"]),
                    "S1": float(si.loc[best, "S1"]),
                }
            )
    imp = pd.DataFrame(imp_rows)
    if len(imp) >= 3 and imp["ST"].notna().all():
        imp["ST_rank"] = imp["ST"].rank(ascending=False)
        card.tables["importance"] = imp
        card.headline["importance"] = {
            "outcome": imp_outcome,
            **rank_agreement(
                -imp["tier"].to_numpy(float),
                imp["ST"].to_numpy(),
                imp["ST_conf"].to_numpy(),
                seed=d.seed,
                alpha=theory.alpha,
            ),
        }
    else:
        card.notes.append(
            "importance not scored: fewer than three ranked constructs "
            "are factors of the design, or the indices are undefined"
        )


# ----------------------------------------------------------------- interactions
def _interaction_row(
    it: Interaction, theory: Theory, d: Design, sobol: SobolTables | None
) -> dict[str, Any]:
    cp = next((p for p in theory.constructs[it.context].parameters if p in d.names), None)
    mp = next((p for p in theory.constructs[it.mechanism].parameters if p in d.names), None)
    yname = theory.constructs[it.outcome].outcome
    row = {
        "id": it.id,
        "statement": it.statement,
        "context": it.context,
        "mechanism": it.mechanism,
        "outcome": it.outcome,
        "expected_sign": {1: "+", -1: "-", 0: "any"}[it.sign],
    }
    if cp is None or mp is None or yname not in d.outcomes:
        row.update(verdict="not tested", design="a construct is not varied by the design")
        return row
    y = d.frame[yname].to_numpy(float)
    coef, clo, chi = moderation(d.X, y, d.names.index(cp), d.names.index(mp), theory.alpha)
    if it.sign:
        verdict = verdict_of(it.sign, clo, chi)
    else:
        verdict = "supported" if (clo > 0 or chi < 0) else "no detectable effect"
    row.update(
        moderation=coef,
        ci_low=clo,
        ci_high=chi,
        verdict=verdict,
        design=f"moderation model ({d.text})",
    )
    if sobol is not None:
        si = sobol[0]
        si = si[si["outcome"] == yname].set_index("factor")
        for p, tag in ((cp, "context"), (mp, "mechanism")):
            row[f"ST_minus_S1_{tag}"] = float(si.loc[p, "ST"] - si.loc[p, "S1"])
        s2 = sobol[1]
        if s2 is not None:
            sel = s2[
                (s2.outcome == yname)
                & (
                    ((s2.factor_a == cp) & (s2.factor_b == mp))
                    | ((s2.factor_a == mp) & (s2.factor_b == cp))
                )
            ]
            if len(sel):
                row["S2"] = float(sel["S2"].iloc[0])
                row["S2_conf"] = float(sel["S2_conf"].iloc[0])
    return row


def score_interactions(
    card: Scorecard, theory: Theory, d: Design, sobol: SobolTables | None
) -> None:
    """Each claimed interaction: moderation model, and S2 and ST - S1 when available."""
    rows = [_interaction_row(it, theory, d, sobol) for it in theory.interactions]
    if rows:
        card.tables["interactions"] = pd.DataFrame(rows)


# ----------------------------------------------------------------- all steps
def build_scorecard(theory: Theory, res: ExperimentResults, out: Path, source: str) -> Scorecard:
    """Score a theory against loaded results, without writing anything.

    Args:
        theory: The loaded theory.
        res: The experiment's results.
        out: The folder the scorecard is for (kept on the scorecard).
        source: How the results folder was named, for messages and the headline.

    Raises:
        ConfigError: If an outcome the theory names is not in the results, or the
            results hold no finished runs.
    """
    card = Scorecard(out)
    d = read_design(res)
    for c in theory.constructs.values():
        if c.outcome is not None and c.outcome not in d.outcomes:
            raise ConfigError(
                f"constructs.{c.name}.outcome",
                f"{c.outcome!r} is not an outcome "
                f"of the experiment; allowed: " + ", ".join(sorted(d.outcomes)),
                str(theory.path) if theory.path else None,
            )
    if not len(d.frame):
        raise ConfigError("", "the results hold no finished runs", source)
    score_hypotheses(card, theory, d)
    sobol = sobol_indices(card, theory, d)
    score_importance(card, theory, d, sobol)
    score_interactions(card, theory, d, sobol)
    score_prediction(card, theory, d)
    card.headline.update(
        theory=theory.name,
        question=theory.question,
        results=str(Path(source).resolve()),
        design=d.text,
        alpha=theory.alpha,
        seed=d.seed,
        target=theory.constructs[theory.target].outcome,
    )
    return card
