"""The statistics of the scorecard: effects and verdicts, agreement, rank measures,
moderation and Monte Carlo filtering.

* A hypothesis's effect is a regression coefficient with a t interval
  (:func:`regression_effect`) or, where the cause cannot be set from outside, a
  Spearman rank association with a Fisher-z interval (:func:`association_effect`);
  :func:`verdict_of` turns an interval and the claimed sign into a verdict.
* Directional agreement is a share with a Wilson interval (:func:`wilson_interval`).
* Importance is compared by Kendall's tau-b with a parametric bootstrap interval and
  by the top-down concordance coefficient with Savage scores (:func:`rank_agreement`;
  Iman and Conover 1987).
* A claimed interaction is the centred product term of a moderation model
  (:func:`moderation`).
* Monte Carlo filtering compares each factor between two sets of rows by the
  Kolmogorov-Smirnov distance (:func:`mc_filter`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: The verdicts a hypothesis can get.
VERDICTS = ("supported", "contradicted", "no detectable effect", "not tested")


@dataclass
class Effect:
    """An estimated effect with its interval and verdict."""

    estimate: float
    low: float
    high: float
    n: int
    verdict: str
    standardised: float = math.nan
    method: str = ""


def verdict_of(sign: int, low: float, high: float) -> str:
    """Supported, contradicted or no detectable effect, from a confidence interval."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "no detectable effect"
    if low > 0 or high < 0:
        return "supported" if (low > 0) == (sign > 0) else "contradicted"
    return "no detectable effect"


def ols(
    X: np.ndarray, y: np.ndarray, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ordinary least squares with an intercept.

    Returns:
        Coefficients (without the intercept) and the lower and upper ends of
        their ``1 - alpha`` t intervals (classical standard errors).
    """
    from scipy import stats

    n = len(y)
    A = np.column_stack([np.ones(n), X])
    beta, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ beta
    df = n - A.shape[1]
    if df <= 0:
        nan = np.full(X.shape[1], math.nan)
        return beta[1:], nan, nan
    sigma2 = float(resid @ resid) / df
    cov = sigma2 * np.linalg.pinv(A.T @ A)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))[1:]
    t = stats.t.ppf(1 - alpha / 2, df)
    return beta[1:], beta[1:] - t * se, beta[1:] + t * se


def regression_effect(
    X: np.ndarray, y: np.ndarray, j: int, sign: int, alpha: float = 0.05
) -> Effect:
    """Effect of column ``j`` of ``X`` on ``y``, holding the other columns linear."""
    coef, lo, hi = ols(X, y, alpha)
    sd = float(np.std(y, ddof=1)) if len(y) > 1 else math.nan
    return Effect(
        float(coef[j]),
        float(lo[j]),
        float(hi[j]),
        len(y),
        verdict_of(sign, lo[j], hi[j]),
        float(coef[j]) / sd if sd else math.nan,
        "regression",
    )


def association_effect(x: np.ndarray, y: np.ndarray, sign: int, alpha: float = 0.05) -> Effect:
    """Spearman's rank correlation with a Fisher-z interval.

    The standard error ``1.06 / sqrt(n - 3)`` is that of Fieller, Hartley and
    Pearson (1957) for Spearman's rho.
    """
    from scipy import stats

    n = len(x)
    rho = float(stats.spearmanr(x, y).statistic) if n > 3 else math.nan
    if not np.isfinite(rho) or n <= 3:
        return Effect(math.nan, math.nan, math.nan, n, "no detectable effect", method="assoc")
    z = np.arctanh(np.clip(rho, -0.999999, 0.999999))
    half = stats.norm.ppf(1 - alpha / 2) * 1.06 / math.sqrt(n - 3)
    lo, hi = float(np.tanh(z - half)), float(np.tanh(z + half))
    return Effect(rho, lo, hi, n, verdict_of(sign, lo, hi), rho, "association")


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (Wilson 1927), via scipy."""
    from scipy import stats

    if n == 0:
        return math.nan, math.nan
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def savage_scores(importance: np.ndarray) -> np.ndarray:
    """Savage scores of importance values (larger = more important), ties averaged.

    The item ranked ``i`` (1 = most important) of ``n`` scores
    ``sum_{j=i}^{n} 1/j`` (Iman and Conover 1987); tied items share the mean of
    the scores of the ranks they span.
    """
    from scipy import stats

    x = np.asarray(importance, dtype=float)
    n = len(x)
    table = np.cumsum(1.0 / np.arange(n, 0, -1))[::-1]  # table[i-1] = sum_{j=i}^n 1/j
    # SciPy 1.18 returns ranks as floats (earlier releases: integers); they index a table.
    ranks = stats.rankdata(-x, method="ordinal").astype(np.intp)
    groups = stats.rankdata(-x, method="min")
    scores = table[ranks - 1]
    out = np.empty(n)
    for g in np.unique(groups):
        mask = groups == g
        out[mask] = scores[mask].mean()
    return out


def top_down_concordance(a: np.ndarray, b: np.ndarray) -> float:
    """Top-down concordance coefficient of two importance vectors (Iman and Conover 1987).

    ``(sum_i S_a,i S_b,i - n) / (n - S_1)`` with Savage scores ``S`` and
    ``S_1 = sum_{j=1}^n 1/j``: 1 for identical rankings, weighting agreement on
    the most important items most.
    """
    n = len(a)
    s1 = float(np.sum(1.0 / np.arange(1, n + 1)))
    sa, sb = savage_scores(a), savage_scores(b)
    return float((sa @ sb - n) / (n - s1))


def rank_agreement(
    theory_score: np.ndarray,
    st: np.ndarray,
    st_conf: np.ndarray,
    n_boot: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict[str, float]:
    """Kendall's tau-b (with a parametric bootstrap interval) and top-down concordance.

    The bootstrap redraws each total-order index from a normal distribution whose
    95% half-width is SALib's bootstrap confidence ``st_conf``, so the interval
    carries the estimation uncertainty of the indices into tau.
    """
    from scipy import stats

    theory_score = np.asarray(theory_score, float)
    st = np.asarray(st, float)
    tau = float(stats.kendalltau(theory_score, st).statistic)
    rng = np.random.default_rng(seed)
    sd = np.nan_to_num(np.asarray(st_conf, float) / 1.96)
    taus = []
    for _ in range(n_boot):
        draw = st + rng.normal(size=len(st)) * sd
        taus.append(stats.kendalltau(theory_score, draw).statistic)
    taus = np.asarray(taus, float)
    taus = taus[np.isfinite(taus)]
    lo, hi = np.quantile(taus, [alpha / 2, 1 - alpha / 2]) if len(taus) else (math.nan, math.nan)
    return {
        "kendall_tau": tau,
        "tau_low": float(lo),
        "tau_high": float(hi),
        "top_down": top_down_concordance(theory_score, st),
        "n": len(st),
    }


def moderation(
    X: np.ndarray, y: np.ndarray, i: int, j: int, alpha: float = 0.05
) -> tuple[float, float, float]:
    """Coefficient of the centred product of columns ``i`` and ``j`` added to the regression."""
    prod = (X[:, i] - X[:, i].mean()) * (X[:, j] - X[:, j].mean())
    coef, lo, hi = ols(np.column_stack([X, prod]), y, alpha)
    return float(coef[-1]), float(lo[-1]), float(hi[-1])


def mc_filter(X: np.ndarray, mask: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Monte Carlo filtering: Kolmogorov-Smirnov distance of each factor between the
    rows in ``mask`` and the rest (``scipy.stats.ks_2samp``)."""
    from scipy import stats

    rows = []
    for j, name in enumerate(names):
        if mask.sum() < 2 or (~mask).sum() < 2:
            rows.append({"factor": name, "ks": math.nan, "p": math.nan})
            continue
        r = stats.ks_2samp(X[mask, j], X[~mask, j])
        rows.append(
            {
                "factor": name,
                "ks": float(r.statistic),
                "p": float(r.pvalue),
                "median_in": float(np.median(X[mask, j])),
                "median_rest": float(np.median(X[~mask, j])),
            }
        )
    return pd.DataFrame(rows).sort_values("ks", ascending=False)
