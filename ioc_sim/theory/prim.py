"""PRIM: a box of the factors where a 0/1 outcome concentrates, and the box in words.

The scorecard describes where the theory fails (rows well below or above its
expectation) by :func:`prim_box` and states the box in the constructs' own words
with :func:`describe_box`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: A box limit is put into words only if it trims at least this share of the factor's range.
WORDS_MIN_TRIM = 0.10


@dataclass
class Box:
    """A PRIM box: limits per dimension and how it scores.

    Attributes:
        limits: (low, high) per column; the full range where not restricted.
        mean: Mean of the target inside the box (density, for a 0/1 target).
        support: Share of the points inside the box.
        coverage: Share of the target's total inside the box (for a 0/1 target,
            the share of the cases of interest that the box captures).
        restricted: Indices of the columns the box restricts.
        trajectory: (support, mean) after each peel.
    """

    limits: np.ndarray
    mean: float
    support: float
    coverage: float
    restricted: list[int]
    trajectory: list[tuple[float, float]]


def prim_box(
    X: np.ndarray,
    y: np.ndarray,
    alpha: float = 0.05,
    min_support: float = 0.05,
    min_gain: float = 0.05,
) -> Box:
    """Find one box of high mean ``y`` by PRIM top-down peeling.

    Friedman and Fisher (1999), "Bump hunting in high-dimensional data",
    Statistics and Computing 9:123-143: repeatedly remove the ``alpha`` share of
    the remaining points at the low or high end of one column, choosing the peel
    that most raises the mean of ``y`` inside, until the box would hold less than
    ``min_support`` of the points; return the largest box along that trajectory
    whose mean is within ``min_gain`` (relative) of the highest. Restrictions are
    then dropped one at a time, cheapest first, while the mean stays within
    ``min_gain`` of the box's own, for a box that is easier to read.
    (A small implementation: the light PRIM package on PyPI is GPL-licensed and
    the EMA Workbench brings heavy dependencies; see the README.)
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    n, d = X.shape
    full = np.column_stack([X.min(axis=0), X.max(axis=0)])
    limits = full.copy()
    inside = np.ones(n, bool)
    total = y.sum()
    traj = [(1.0, float(y.mean()))]
    boxes = [(float(y.mean()), limits.copy(), inside.copy())]
    while inside.sum() / n > min_support:
        cand = None
        xi, yi = X[inside], y[inside]
        for j in range(d):
            for side in (0, 1):
                q = np.quantile(xi[:, j], alpha if side == 0 else 1 - alpha)
                keep = xi[:, j] >= q if side == 0 else xi[:, j] <= q
                # A peel that removes nothing (ties) or everything is no peel.
                if keep.all() or not keep.any() or keep.sum() / n < min_support:
                    continue
                m = yi[keep].mean()
                if cand is None or m > cand[0]:
                    cand = (m, j, side, q, keep)
        if cand is None:
            break
        m, j, side, q, keep = cand
        limits[j, side] = q
        idx = np.flatnonzero(inside)
        inside[idx[~keep]] = False
        traj.append((float(inside.sum() / n), float(m)))
        boxes.append((float(m), limits.copy(), inside.copy()))
    # The largest box whose mean is within min_gain of the trajectory's peak: peeling on
    # past it buys a little density with a smaller, more complicated box.
    peak = max(b[0] for b in boxes)
    best = next(b for b in boxes if b[0] >= peak * (1 - min_gain))
    mean, lim, ins = best
    # Greedily drop the restriction whose removal costs least, while the mean stays
    # within min_gain of the peak: fewer restrictions read better as a region.
    while True:
        restricted = [j for j in range(d) if not np.allclose(lim[j], full[j])]
        trials = []
        for j in restricted:
            trial = lim.copy()
            trial[j] = full[j]
            tin = np.all((X >= trial[:, 0]) & (X <= trial[:, 1]), axis=1)
            trials.append((float(y[tin].mean()), j, trial, tin))
        if not trials:
            break
        tm, j, trial, tin = max(trials, key=lambda t: t[0])
        if tm < best[0] * (1 - min_gain):  # measured from the chosen box, not the last trial
            break
        lim, ins, mean = trial, tin, tm
    restricted = [j for j in range(d) if not np.allclose(lim[j], full[j])]
    cov = float(y[ins].sum() / total) if total else math.nan
    return Box(lim, float(mean), float(ins.mean()), cov, restricted, traj)


def describe_box(
    box: Box, names: list[str], labels: dict[str, str], bounds: dict[str, tuple[float, float]]
) -> str:
    """The box in the theory's words: "low data sharing (<= 0.25) and high financial
    pressure (>= 0.7)"."""
    parts = []
    for j in box.restricted:
        name = names[j]
        label = labels.get(name, name.replace("_", " "))
        low, high = bounds.get(name, (box.limits[j, 0], box.limits[j, 1]))
        lo, hi = box.limits[j]
        span = high - low if high > low else 1.0
        # Trims of under a tenth of the range are PRIM's noise, not a region worth naming;
        # they stay in the limits (prim_boxes.csv).
        cut_low, cut_high = (lo - low) / span > WORDS_MIN_TRIM, (high - hi) / span > WORDS_MIN_TRIM
        if cut_low and cut_high:
            parts.append(f"{label} between {lo:.2f} and {hi:.2f}")
        elif cut_high:
            # "low" only when the box keeps at most the lower two thirds of the range.
            word = "low" if (high - hi) / span >= 1 / 3 else "not the highest"
            parts.append(f"{word} {label} (<= {hi:.2f})")
        elif cut_low:
            word = "high" if (lo - low) / span >= 1 / 3 else "not the lowest"
            parts.append(f"{word} {label} (>= {lo:.2f})")
    return " and ".join(parts) if parts else "anywhere (no region stands out)"
