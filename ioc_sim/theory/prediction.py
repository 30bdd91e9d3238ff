"""The prediction step of the scorecard, and where the theory fails.

:func:`score_prediction` compares surrogates restricted to the theory's
constructs with an unconstrained one, by out-of-sample R^2 on held-out clusters
of context space. :func:`where_theory_fails` then takes the rows well below (or
above) the theory surrogate's out-of-fold prediction, compares them with the
rest by Monte Carlo filtering, and describes where they concentrate with PRIM
boxes in the constructs' own words.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.theory.design import Design, Scorecard
from ioc_sim.theory.prim import Box, describe_box, prim_box
from ioc_sim.theory.spec import Theory
from ioc_sim.theory.statistics import mc_filter
from ioc_sim.theory.surrogates import context_groups, surrogate_comparison, theory_features

#: Share of rows in each tail that counts as performing well below / above expectation.
TAIL = 0.2
#: PRIM describes the failure region with at most this many factors, those that Monte
#: Carlo filtering separates most (largest KS distance), so that boxes stay readable.
PRIM_FACTORS = 4


def score_prediction(card: Scorecard, theory: Theory, d: Design) -> None:
    """Theory-constrained against unconstrained surrogates, then where the theory fails."""
    if not (len(d.frame) >= 20 and d.X.shape[1] >= 1):
        card.notes.append("prediction and failure regions need at least 20 design rows")
        return
    target = theory.constructs[theory.target].outcome
    y = d.frame[target].to_numpy(float)
    signs = theory_features(theory, d.names)
    k_groups = int(min(5, max(2, len(d.frame) // 20)))
    groups = context_groups(d.X, k_groups, d.seed)
    sur, pred = surrogate_comparison(d.X, y, d.names, signs, groups, d.seed)
    card.tables["surrogates"] = sur
    card.headline["prediction"] = {
        "target": target,
        "held_out_groups": k_groups,
        "theory_features": signs,
        **{r["surrogate"]: r["r2_pooled"] for r in sur.to_dict("records")},
    }
    if pred is None:
        card.notes.append(
            "no factor is linked to the target by the theory; residuals are taken from the mean"
        )
        pred = np.full_like(y, y.mean())
    where_theory_fails(card, theory, d, y, pred)


def _regional_sensitivity(
    side: str, mask: np.ndarray, d: Design, labels: dict[str, str]
) -> pd.DataFrame:
    """Monte Carlo filtering of the rows in ``mask`` against the rest, in parameter units."""
    mc = mc_filter(d.X, mask, d.names)
    mc.insert(0, "side", side)
    mc["label"] = mc["factor"].map(lambda n: labels.get(n, n))
    # Back to parameter units for reading.
    for col in ("median_in", "median_rest"):
        if col in mc:
            mc[col] = [
                d.bounds[f][0] + v * (d.bounds[f][1] - d.bounds[f][0])
                for f, v in zip(mc["factor"], mc[col], strict=True)
            ]
    return mc


def _failure_box(
    side: str,
    mask: np.ndarray,
    mc: pd.DataFrame,
    d: Design,
    labels: dict[str, str],
    alpha: float,
    y: np.ndarray,
    resid: np.ndarray,
) -> dict[str, Any]:
    """A PRIM box where the rows in ``mask`` concentrate, on the factors that separate most."""
    raw = d.frame[d.names].astype(float).to_numpy()
    top = [f for f, p in zip(mc["factor"], mc["p"], strict=True) if p < alpha][
        :PRIM_FACTORS
    ] or list(mc["factor"][:1])
    cols = [d.names.index(f) for f in top]
    box = prim_box(raw[:, cols], mask.astype(float), alpha=0.05, min_support=0.1)
    words = describe_box(box, top, labels, d.bounds)
    # Back to every factor (unrestricted outside the chosen ones) for the table.
    limits = np.column_stack([raw.min(axis=0), raw.max(axis=0)])
    limits[cols] = box.limits
    box = Box(
        limits,
        box.mean,
        box.support,
        box.coverage,
        [cols[j] for j in box.restricted],
        box.trajectory,
    )
    inside = np.all((raw >= box.limits[:, 0]) & (raw <= box.limits[:, 1]), axis=1)
    return {
        "side": side,
        "region": words,
        "density": box.mean,
        "base_rate": float(mask.mean()),
        "support": box.support,
        "coverage": box.coverage,
        "mean_target_in_box": float(y[inside].mean()),
        "mean_residual_in_box": float(resid[inside].mean()),
        **{f"{d.names[j]}_low": box.limits[j, 0] for j in box.restricted},
        **{f"{d.names[j]}_high": box.limits[j, 1] for j in box.restricted},
    }


def where_theory_fails(
    card: Scorecard, theory: Theory, d: Design, y: np.ndarray, pred: np.ndarray
) -> None:
    """Rows in the tails of the residuals from the theory's prediction: which factors
    separate them from the rest, and a PRIM box for each side."""
    target = theory.constructs[theory.target].outcome
    resid = y - pred
    labels = {p: c.label for c in theory.constructs.values() for p in c.parameters}
    fail_rows, boxes = [], []
    for side, mask in (
        ("below", resid <= np.quantile(resid, TAIL)),
        ("above", resid >= np.quantile(resid, 1 - TAIL)),
    ):
        mc = _regional_sensitivity(side, mask, d, labels)
        fail_rows.append(mc)
        boxes.append(_failure_box(side, mask, mc, d, labels, theory.alpha, y, resid))
    card.tables["regional_sensitivity"] = pd.concat(fail_rows, ignore_index=True)
    card.tables["prim_boxes"] = pd.DataFrame(boxes)
    card.headline["failures"] = [
        {k: b[k] for k in ("side", "region", "density", "base_rate", "support", "coverage")}
        for b in boxes
    ]
    frame_out = d.frame[["row", *d.names]].copy()
    frame_out[target] = y
    frame_out["theory_prediction"] = pred
    frame_out["residual"] = resid
    card.tables["predictions"] = frame_out
