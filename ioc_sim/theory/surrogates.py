"""Surrogates of the target: what the theory's constructs and signs predict out of sample.

:func:`theory_features` reads from the theory which design factors it links to its
target, and with which sign; :func:`surrogate_comparison` fits three surrogates by
grouped cross-validation over clusters of context space (:func:`context_groups`):

* the theory's constructs with their signs as monotone constraints (boosted trees);
* the theory's constructs in a linear model;
* every factor, unconstrained (boosted trees).

The gap between the first and the last is what the theory's signs miss. scikit-learn
is imported where it is used: only scoring needs it, not loading a theory.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ioc_sim.theory.spec import Theory

#: Settings of both boosted surrogates (the same, so only features and constraints differ).
BOOSTING = {"max_iter": 100, "max_leaf_nodes": 15, "learning_rate": 0.1}


def theory_features(theory: Theory, factors: list[str]) -> dict[str, int]:
    """Design factors that the theory links, directly or through a chain, to its target,
    with the sign of the link (0 where paths disagree)."""
    edges: dict[str, list[tuple[str, int]]] = {}
    for h in theory.hypotheses:
        edges.setdefault(h.cause, []).append((h.effect, h.sign))
    signs: dict[str, set[int]] = {}

    def walk(node: str, sign: int, seen: tuple[str, ...]) -> None:
        for nxt, s in edges.get(node, []):
            if nxt in seen:
                continue
            if nxt == theory.target:
                signs.setdefault(seen[0], set()).add(sign * s)
            walk(nxt, sign * s, (*seen, nxt))

    for start in edges:
        walk(start, 1, (start,))
    out: dict[str, int] = {}
    for construct, ss in signs.items():
        for p in theory.constructs[construct].parameters:
            if p in factors:
                # Paths of opposite sign leave the direction open: no monotone constraint.
                s = next(iter(ss)) if len(ss) == 1 else 0
                out[p] = s if p not in out or out[p] == s else 0
    return out


def context_groups(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Clusters of context space (k-means on the scaled factors) used as held-out groups."""
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(X)


def surrogate_comparison(
    X: np.ndarray,
    y: np.ndarray,
    names: list[str],
    theory_signs: dict[str, int],
    groups: np.ndarray,
    seed: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Out-of-sample R^2 on held-out context clusters, theory-constrained vs unconstrained.

    Returns:
        A table (one row per surrogate: pooled and per-fold R^2) and the theory
        surrogate's out-of-fold predictions.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score
    from sklearn.model_selection import GroupKFold

    cols = [names.index(n) for n in theory_signs]
    cst = [theory_signs[n] for n in theory_signs]
    models = {
        "theory (constructs, monotone in the stated signs)": (
            cols,
            lambda: HistGradientBoostingRegressor(monotonic_cst=cst, random_state=seed, **BOOSTING),
        ),
        "theory (constructs, linear)": (cols, LinearRegression),
        "unconstrained (all factors)": (
            list(range(len(names))),
            lambda: HistGradientBoostingRegressor(random_state=seed, **BOOSTING),
        ),
    }
    folds = GroupKFold(n_splits=len(np.unique(groups)))
    rows, theory_pred = [], None
    for label, (c, make) in models.items():
        if not c:
            rows.append(
                {
                    "surrogate": label,
                    "features": 0,
                    "r2_pooled": math.nan,
                    "r2_mean": math.nan,
                    "r2_min": math.nan,
                }
            )
            continue
        pred = np.empty_like(y)
        per = []
        for train, test in folds.split(X, y, groups):
            m = make().fit(X[train][:, c], y[train])
            pred[test] = m.predict(X[test][:, c])
            per.append(r2_score(y[test], pred[test]) if len(test) > 1 else math.nan)
        rows.append(
            {
                "surrogate": label,
                "features": len(c),
                "r2_pooled": float(r2_score(y, pred)),
                "r2_mean": float(np.nanmean(per)),
                "r2_min": float(np.nanmin(per)),
            }
        )
        if theory_pred is None:
            theory_pred = pred
    return pd.DataFrame(rows), theory_pred
