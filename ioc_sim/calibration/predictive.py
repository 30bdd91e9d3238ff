"""Posterior-predictive check: how often draws from the posterior reproduce each pattern.

``predictive_draws`` draws from the posterior, and as many from the prior, each with
its own seed, run every pattern's arms with their full replicates (as
``ioc-sim validate`` runs them, not the fewer replicates of the fit) and record which
patterns they reproduce. The share of posterior draws reproducing a pattern, with a
90% Wilson interval, says how firmly the calibrated model shows it; the prior's share
says what calibration changed.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from ioc_sim.calibration.posterior import Posterior, posterior_draws
from ioc_sim.validation import Pattern, measure


def reproduced(patterns: Sequence[Pattern], values: Mapping[str, float], seed: int) -> list[bool]:
    """Which patterns one draw reproduces (module-level: it runs on workers)."""
    return [m.passed for m in measure(patterns, dict(values), seed=seed)]


def wilson(k: int, n: int, level: float = 0.90) -> tuple[float, float]:
    """Wilson score interval of a share k / n."""
    from scipy.stats import binomtest

    if n == 0:
        return (float("nan"), float("nan"))
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def _run(
    patterns,
    draws: pd.DataFrame,
    seeds: list[int],
    executor: Executor,
    label: str,
    show_progress: bool,
) -> np.ndarray:
    names = [c for c in draws.columns if c != "particle"]
    futures = [
        executor.submit(reproduced, patterns, {n: float(row[n]) for n in names}, seed)
        for (_, row), seed in zip(draws.iterrows(), seeds, strict=True)
    ]
    out = []
    for fut in tqdm(
        futures,
        unit="draw",
        desc=f"predictive check, {label}",
        delay=1.0,
        disable=not show_progress,
        file=sys.stderr,
    ):
        out.append(fut.result())
    return np.array(out, dtype=bool).reshape(len(futures), len(patterns))


def predictive_check(
    patterns: Sequence[Pattern],
    post: Posterior,
    bounds: Mapping[str, tuple[float, float]],
    cal: Any,
    executor: Executor,
    show_progress: bool = True,
) -> pd.DataFrame:
    """The share of prior and posterior draws reproducing each pattern.

    Returns:
        One row per pattern: prior_share, posterior_share and its 90% Wilson
        interval (posterior_low, posterior_high), and the number of draws.
    """
    n = cal.predictive_draws
    ss = np.random.SeedSequence(cal.seed, spawn_key=(10**6,))
    seeds = [int(s.generate_state(1)[0]) for s in ss.spawn(2 * n)]
    rng = np.random.default_rng(np.random.SeedSequence(cal.seed, spawn_key=(10**6 + 1,)))
    prior = pd.DataFrame({k: rng.uniform(lo, hi, n) for k, (lo, hi) in bounds.items()})
    post_draws = posterior_draws(post, n, cal.seed)
    post_ok = _run(patterns, post_draws, seeds[:n], executor, "posterior", show_progress)
    prior_ok = _run(patterns, prior, seeds[n:], executor, "prior", show_progress)
    rows = []
    for j, p in enumerate(patterns):
        k = int(post_ok[:, j].sum())
        low, high = wilson(k, n)
        rows.append(
            {
                "pattern": p.id,
                "claim": p.claim,
                "prior_share": float(prior_ok[:, j].mean()),
                "posterior_share": k / n,
                "posterior_low": low,
                "posterior_high": high,
                "draws": n,
            }
        )
    all_post = float(post_ok.all(axis=1).mean())
    all_prior = float(prior_ok.all(axis=1).mean())
    low, high = wilson(int(post_ok.all(axis=1).sum()), n)
    rows.append(
        {
            "pattern": "all",
            "claim": "every pattern at once",
            "prior_share": all_prior,
            "posterior_share": all_post,
            "posterior_low": low,
            "posterior_high": high,
            "draws": n,
        }
    )
    return pd.DataFrame(rows)
