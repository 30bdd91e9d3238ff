"""How often a scenario's structural events happen: ``ioc-sim transitions``.

For each scenario, over a span of months and a batch of replicates (the seeds
``ioc-sim run`` would use, so any replicate replays alone), the share of
collaborations that deepened, that began to dissolve (an improper ending), that
were wound down by policy; the mergers completed per run; the organisations in
special measures at the start, and the entries into and exits from special
measures, per run; and the median months an episode of
special measures lasts (Kaplan-Meier, so episodes still open at the end count as
running). Each comes with a 95% interval from resampling the replicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ioc_sim.engine import Simulation
from ioc_sim.experiments.provenance import replicate_seeds
from ioc_sim.experiments.replicates import advance, start
from ioc_sim.experiments.scenarios import Scenario
from ioc_sim.model import measures, outputs

__all__ = [
    "MEASURES",
    "Measure",
    "replicate_values",
    "summarise_transitions",
    "transition_table",
    "transitions_markdown",
]


@dataclass(frozen=True)
class Measure:
    """One structural event, counted per replicate."""

    name: str
    label: str
    meaning: str


MEASURES = (
    Measure("deepened", "deepened", "share of collaborations that deepened at least once"),
    Measure(
        "dissolved",
        "dissolved",
        "share of collaborations whose members lost heart and began to dissolve it",
    ),
    Measure("wound_down", "wound down", "share of collaborations a policy wind-down ended"),
    Measure("mergers", "mergers", "mergers completed per run"),
    Measure("at_start", "in SM at start", "organisations in special measures at month 0 per run"),
    Measure("entries", "SM entries", "entries into special measures per run"),
    Measure("exits", "SM exits", "exits from special measures per run"),
    Measure(
        "sm_months",
        "months in SM",
        "median months of an episode of special measures (Kaplan-Meier; all episodes)",
    ),
)

_COLLABORATION_EVENTS = {
    "deepened": "deepened",
    "dissolved": "dissolution began",
    "wound_down": "wind-down began",
}
_ORGANISATION_EVENTS = {
    "mergers": "merger completed (continuing organisation)",
    "at_start": "in special measures at the start",
    "entries": "entered special measures",
    "exits": "left special measures",
}
#: Resamples of the replicates behind each interval.
BOOTSTRAP = 1000


def replicate_values(sim: Simulation) -> pd.DataFrame:
    """Each measure's value in each replicate of ``sim`` (the median months of special
    measures excepted: it is read from the pooled episodes, see :func:`summarise_transitions`).

    Returns:
        Columns replicate and one per collaboration and organisation measure.
    """
    out = pd.DataFrame({"replicate": np.arange(sim.R)})
    for name, event in _COLLABORATION_EVENTS.items():
        out[name] = measures.share(sim, "collaborations", event, empty=np.nan)
    events = outputs.organisation_events(sim)
    for name, event in _ORGANISATION_EVENTS.items():
        counts = events.loc[events["event"] == event, "replicate"].value_counts()
        out[name] = counts.reindex(range(sim.R), fill_value=0).to_numpy(float)
    return out


def _episodes(sim: Simulation) -> pd.DataFrame:
    table = outputs.episodes(sim)
    table = table[table["episode"] == "special measures"]
    return pd.DataFrame(
        {
            "replicate": table["replicate"].to_numpy(),
            "months": table["duration"].to_numpy(float, na_value=np.nan),
            "ended": (table["outcome"] != "still open").to_numpy(),
        }
    )


def _median(episodes: pd.DataFrame, reps: np.ndarray) -> float:
    """The Kaplan-Meier median of the episodes of replicates ``reps`` (with repeats):
    NaN without episodes, infinite while fewer than half have ended."""
    by = {r: g for r, g in episodes.groupby("replicate")}
    parts = [by[r] for r in reps if r in by]
    if not parts:
        return np.nan
    pooled = pd.concat(parts)
    median = measures.kaplan_meier_median(pooled["months"].to_numpy(), pooled["ended"].to_numpy())
    return np.inf if median is None else median


def summarise_transitions(
    values: pd.DataFrame, episodes: pd.DataFrame, seed: int, resamples: int = BOOTSTRAP
) -> dict[str, tuple[float, float, float]]:
    """Each measure's estimate with a 95% percentile interval from resampling replicates.

    Args:
        values: From :func:`replicate_values`.
        episodes: Special-measures episodes (replicate, months, ended).
        seed: Seeds the resampling, so the same run gives the same interval.
        resamples: How many resamples.

    Returns:
        measure name -> (estimate, low, high); NaN where there is nothing to measure
        (no collaboration, no episode); an infinite median where fewer than half the
        episodes ended (and a bound of the interval infinite where that is so in
        more than 2.5% of the resamples).
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x7A5,)))
    n = len(values)
    draws = rng.integers(0, n, size=(resamples, n))
    out: dict[str, tuple[float, float, float]] = {}
    for m in MEASURES:
        if m.name == "sm_months":
            estimate = _median(episodes, np.arange(n))
            boot = np.array([_median(episodes, d) for d in draws])
        else:
            x = values[m.name].to_numpy(float)
            estimate = float(np.nanmean(x)) if np.isfinite(x).any() else np.nan
            with np.errstate(invalid="ignore"):
                boot = np.nanmean(x[draws], axis=1) if np.isfinite(x).any() else np.full(1, np.nan)
        known = boot[~np.isnan(boot)]
        if np.isnan(estimate) or len(known) < 0.5 * len(boot):
            out[m.name] = (estimate, np.nan, np.nan)
        else:
            low, high = np.percentile(known, [2.5, 97.5], method="inverted_cdf")
            out[m.name] = (estimate, float(low), float(high))
    return out


def transition_table(
    scenarios: Iterable[Scenario],
    months: int = 120,
    replicates: int = 20,
    seed: int | None = None,
    progress=None,
) -> pd.DataFrame:
    """How often each scenario's structural events happen.

    Args:
        scenarios: The scenarios.
        months: Months to simulate each (ten years by default).
        replicates: Replicates of each.
        seed: The root seed of every scenario (default: each scenario's own).
        progress: Anything with ``update(n)``, told of every replicate month stepped.

    Returns:
        One row per scenario and measure: scenario, months, replicates, seed,
        collaborations (per run), measure, estimate, low, high.
    """
    rows = []
    for sc in scenarios:
        root = sc.seed if seed is None else seed
        sim = start(sc.model_kwargs(months=months), replicate_seeds(root, replicates))
        advance(sim, months, (), at=(), progress=progress)
        summary = summarise_transitions(replicate_values(sim), _episodes(sim), root)
        for m in MEASURES:
            estimate, low, high = summary[m.name]
            rows.append(
                {
                    "scenario": sc.name,
                    "months": months,
                    "replicates": replicates,
                    "seed": root,
                    "collaborations": sim.C,
                    "measure": m.name,
                    "estimate": estimate,
                    "low": low,
                    "high": high,
                }
            )
    return pd.DataFrame(rows)


def transitions_markdown(table: pd.DataFrame) -> str:
    """The table as markdown: a row per scenario, a column per measure, each cell the
    estimate and its 95% interval."""
    head = "| scenario | " + " | ".join(m.label for m in MEASURES) + " |"
    lines = [head, "|---" * (len(MEASURES) + 1) + "|"]
    for name, g in table.groupby("scenario", sort=False):
        by = g.set_index("measure")
        cells = []
        for m in MEASURES:
            est, low, high = by.loc[m.name, ["estimate", "low", "high"]]
            digits = 0 if m.name == "sm_months" else 2
            if np.isnan(est):
                cells.append("none")
            elif np.isinf(est):
                cells.append("over half still open")
            elif np.isnan(low):
                cells.append(f"{est:.{digits}f}")
            else:
                top = "open" if np.isinf(high) else f"{high:.{digits}f}"
                cells.append(f"{est:.{digits}f} ({low:.{digits}f}-{top})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
