"""What a calibration writes, from pyabc's history database.

* ``populations.parquet``: every generation's accepted particles (generation, weight,
  distance, parameter values, each criterion's miss, each statistic, each pattern's
  verdict, the simulation's seed);
* ``generations.csv``: per generation, epsilon, simulations, acceptance rate,
  effective sample size and seconds;
* ``posterior.parquet`` (:mod:`~ioc_sim.calibration.posterior`) and
  ``parameter_set.toml`` (its median, a named parameter set);
* ``identification.csv``: for each parameter, its prior and posterior median and 90%
  interval, the posterior's contraction (1 - posterior variance / prior variance), the
  Kolmogorov-Smirnov distance between posterior and prior, and a verdict: identified
  (contraction at least 0.5), constrained (the posterior differs from the prior beyond
  sampling noise at its effective sample size) or left at its prior;
* ``predictive.csv``; the figures (:mod:`~ioc_sim.calibration.figures`); ``summary.md``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.calibration.posterior import (
    Posterior,
    parameter_set,
    weighted_quantile,
    write_posterior,
)

#: The KS distance beyond which a posterior differs from its prior (5% level) is
#: KS_CRITICAL / sqrt(effective sample size).
KS_CRITICAL = 1.36
IDENTIFIED = 0.5


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective sample size of normalised weights."""
    w = np.asarray(w, float) / np.sum(w)
    return float(1.0 / np.sum(w**2))


def write_history(history, names: list[str], bounds, out: Path) -> Posterior:
    """Write every generation's population and the per-generation table; return the
    posterior (the last generation)."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    frames, rows = [], []
    for t in pops["t"]:
        pop = history.get_population(t=int(t))
        recs = []
        for k, particle in enumerate(pop.particles):
            rec = {
                "generation": int(t),
                "particle": k,
                "weight": particle.weight,
                "distance": particle.distance,
            }
            rec.update({n: float(particle.parameter[n]) for n in names})
            rec.update({s: float(v) for s, v in particle.sum_stat.items()})
            recs.append(rec)
        frame = pd.DataFrame(recs)
        frames.append(frame)
        row = pops[pops["t"] == t].iloc[0]
        rows.append(
            {
                "generation": int(t),
                "epsilon": float(row["epsilon"]),
                "simulations": int(row["samples"]),
                "accepted": len(frame),
                "acceptance_rate": len(frame) / int(row["samples"]),
                "effective_sample_size": round(effective_sample_size(frame["weight"]), 1),
                "seconds": round(float(row["wall_time"] or 0.0), 1),
            }
        )
    populations = pd.concat(frames, ignore_index=True)
    populations.to_parquet(out / "populations.parquet", index=False)
    pd.DataFrame(rows).to_csv(out / "generations.csv", index=False)
    last = frames[-1]
    return Posterior(last[names].reset_index(drop=True), last["weight"].to_numpy(float))


def _ks_to_uniform(x: np.ndarray, w: np.ndarray, low: float, high: float) -> float:
    order = np.argsort(x)
    x, w = x[order], w[order] / w.sum()
    cdf = np.cumsum(w)
    prior = (x - low) / (high - low)
    return float(max(np.max(np.abs(cdf - prior)), np.max(np.abs(cdf - w - prior))))


def identification(post: Posterior, bounds: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """What the patterns say about each parameter: posterior against uniform prior."""
    w = post.weights
    ess = effective_sample_size(w)
    rows = []
    for n in post.names:
        low, high = bounds[n]
        x = post.particles[n].to_numpy(float)
        mean = float(np.sum(w * x))
        var = float(np.sum(w * (x - mean) ** 2))
        prior_var = (high - low) ** 2 / 12.0
        contraction = 1.0 - var / prior_var
        ks = _ks_to_uniform(x, w, low, high)
        critical = KS_CRITICAL / math.sqrt(ess)
        verdict = (
            "identified"
            if contraction >= IDENTIFIED
            else "constrained"
            if ks > critical
            else "left at its prior"
        )
        rows.append(
            {
                "parameter": n,
                "prior_low": low,
                "prior_high": high,
                "prior_median": (low + high) / 2,
                "posterior_median": weighted_quantile(x, w, 0.5),
                "posterior_q05": weighted_quantile(x, w, 0.05),
                "posterior_q95": weighted_quantile(x, w, 0.95),
                "contraction": round(contraction, 3),
                "ks_distance": round(ks, 3),
                "ks_critical": round(critical, 3),
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def write_results(
    cal, manifest: dict[str, Any], history, post: Posterior, bounds, predictive, out: Path
) -> dict[str, Any]:
    """Write the posterior, parameter set, identification, predictive table, figures and
    summary; return the figures for the manifest."""
    from ioc_sim.calibration.figures import plot_generations, plot_marginals, plot_pairs

    provenance = {
        "calibration": cal.name,
        "calibration_file": manifest.get("calibration_file"),
        "calibration_sha256": manifest.get("calibration_sha256"),
        "patterns": manifest.get("patterns", []),
        "seed": cal.seed,
        "git_commit": manifest.get("git_commit"),
        "created": datetime.now(UTC).isoformat(),
        "bounds": {n: list(b) for n, b in bounds.items()},
    }
    post.provenance = provenance
    write_posterior(out / "posterior.parquet", post.particles, post.weights, provenance)
    (out / "parameter_set.toml").write_text(parameter_set(post, cal.name), encoding="utf-8")
    ident = identification(post, bounds)
    ident.to_csv(out / "identification.csv", index=False)
    gens = pd.read_csv(out / "generations.csv")
    populations = pd.read_parquet(out / "populations.parquet")
    plot_marginals(populations, bounds, ident, out / "marginals.png", cal.name)
    plot_pairs(post, bounds, ident, out / "pairs.png", cal.name)
    plot_generations(gens, out / "generations.png", cal.name)
    if predictive is not None:
        predictive.to_csv(out / "predictive.csv", index=False)
    (out / "summary.md").write_text(
        summary_text(cal, manifest, gens, ident, predictive), encoding="utf-8"
    )
    return {
        "generations": len(gens),
        "simulations": int(gens["simulations"].sum()),
        "accepted_particles": int(gens["accepted"].sum()),
        "final_epsilon": float(gens["epsilon"].iloc[-1]),
        "identified": ident.loc[ident["verdict"] == "identified", "parameter"].tolist(),
        "constrained": ident.loc[ident["verdict"] == "constrained", "parameter"].tolist(),
        "left_at_prior": ident.loc[ident["verdict"] == "left at its prior", "parameter"].tolist(),
    }


def summary_text(cal, manifest, gens: pd.DataFrame, ident: pd.DataFrame, predictive) -> str:
    """The calibration in words and tables (Markdown)."""
    lines = [
        f"# Calibration `{cal.name}`",
        "",
        cal.question,
        "",
        f"Patterns: {', '.join(manifest.get('pattern_ids', []))} "
        f"({', '.join(p['file'] for p in manifest.get('patterns', []))}). "
        f"Seed {cal.seed}; commit {manifest.get('git_commit')}.",
        "",
        f"Parameters fitted: {manifest.get('parameter_choice')}.",
        "",
        "## Generations",
        "",
        "| generation | epsilon | simulations | accepted | acceptance | ESS | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in gens.itertuples():
        lines.append(
            f"| {r.generation} | {r.epsilon:.4g} | {r.simulations} | {r.accepted} | "
            f"{r.acceptance_rate:.1%} | {r.effective_sample_size:g} | {r.seconds:g} |"
        )
    lines += [
        "",
        f"{int(gens['accepted'].sum())} particles accepted over {len(gens)} generations, "
        f"from {int(gens['simulations'].sum())} simulations.",
        "",
        "## What the patterns identify",
        "",
        "| parameter | prior | posterior median (90% interval) | contraction | KS | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in ident.itertuples():
        lines.append(
            f"| {r.parameter} | {r.prior_low:g} to {r.prior_high:g} | {r.posterior_median:.4g} "
            f"({r.posterior_q05:.4g} to {r.posterior_q95:.4g}) | {r.contraction:.2f} | "
            f"{r.ks_distance:.2f} (>{r.ks_critical:.2f}?) | {r.verdict} |"
        )
    if predictive is not None:
        lines += [
            "",
            "## Posterior-predictive check",
            "",
            "Share of draws whose simulation reproduces each pattern, every arm with its "
            "full replicates (as `ioc-sim validate` runs it), each draw with its own seed:",
            "",
            "| pattern | prior draws | posterior draws (90% interval) |",
            "|---|---|---|",
        ]
        for r in predictive.itertuples():
            lines.append(
                f"| {r.pattern} | {r.prior_share:.0%} | {r.posterior_share:.0%} "
                f"({r.posterior_low:.0%} to {r.posterior_high:.0%}) |"
            )
    return "\n".join(lines) + "\n"
