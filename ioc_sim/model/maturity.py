"""The collaboration maturity index: one score and a named level from ten constructs.

The same ten constructs come from survey answers (:mod:`ioc_sim.survey`) and
from the simulated state (:func:`maturity_from_simulation`), each on a 0-1
scale, so a user can see where a collaboration stands now and where the
simulation says it is heading. The formula, thresholds and their reasoning are
in ``docs/maturity.md``; in short:

1. Constructs are grouped into three domains and averaged within each
   (conflict counts reversed, as ``1 - conflict``):

   * relational foundation: trust, confidence, faith, risk tolerance;
   * handling difference: 1 - conflict, conflict resolution;
   * delivery: perceived progress, cultural efficacy, organisational
     efficiency, technological effectiveness.

2. The index is 100 times the geometric mean of the three domain scores, so a
   weak domain cannot be bought back by a strong one (the theory's "delicate
   balance"; it mirrors the model's default multiplicative performance form).

3. The level comes from the index's band (:data:`LEVELS`; bands start at the
   answer anchors of the survey's five-point scale), capped at one level
   above the band of the weakest domain.

The functions accept floats or numpy arrays (one value per replicate) alike.
This module imports nothing from the model, so :mod:`ioc_sim.model.metrics` can
register :func:`maturity_from_simulation` without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The ten constructs, in report order.
CONSTRUCTS = (
    "trust",
    "confidence",
    "faith",
    "risk_tolerance",
    "conflict",
    "conflict_resolution",
    "perceived_progress",
    "cultural_efficacy",
    "organisational_efficiency",
    "technological_effectiveness",
)
#: Constructs where more means less mature.
REVERSED = frozenset({"conflict"})
#: Domains and the constructs averaged in each.
DOMAINS: dict[str, tuple[str, ...]] = {
    "relational_foundation": ("trust", "confidence", "faith", "risk_tolerance"),
    "handling_difference": ("conflict", "conflict_resolution"),
    "delivery": (
        "perceived_progress",
        "cultural_efficacy",
        "organisational_efficiency",
        "technological_effectiveness",
    ),
}


@dataclass(frozen=True)
class Level:
    """A named maturity level: the lowest index that reaches it, and what it means."""

    name: str
    lower: float
    meaning: str


#: Levels from lowest to highest. The bands start at the survey's answer anchors on the
#: 0-100 scale: "disagree" = 25, neutral = 50, "agree" = 75, and the midpoints between.
LEVELS = (
    Level(
        "fragmented",
        0.0,
        "partners typically disagree that the foundations are there; "
        "collaboration is nominal or stalled",
    ),
    Level(
        "emerging",
        37.5,
        "more doubt than agreement; joint work depends on a few "
        "relationships and is easily knocked back",
    ),
    Level(
        "developing",
        50.0,
        "neutral to mildly positive; the basics are in place but unproven and uneven",
    ),
    Level(
        "established",
        62.5,
        "partners lean toward agreement in every domain; joint work "
        "is routine and survives setbacks",
    ),
    Level(
        "embedded",
        75.0,
        "partners agree across all three domains; collaboration is how the system works",
    ),
)
LEVEL_NAMES = tuple(level.name for level in LEVELS)


@dataclass(frozen=True)
class Maturity:
    """The maturity of one collaboration (or one organisation's view of it).

    Attributes:
        score: The index, 0-100.
        level: Level name (see :data:`LEVELS`).
        domains: Each domain's score, 0-1.
        weakest: Name of the lowest domain.
        capped: True when the weakest domain held the level below its band.
        missing: Constructs that were not given (skipped within their domain).
    """

    score: float
    level: str
    domains: dict[str, float]
    weakest: str
    capped: bool
    missing: tuple[str, ...] = ()


def _check(constructs: Mapping[str, Any]) -> None:
    unknown = sorted(set(constructs) - set(CONSTRUCTS))
    if unknown:
        raise ValueError(
            f"unknown construct(s) {', '.join(unknown)}; allowed: " + ", ".join(CONSTRUCTS)
        )
    for name, value in constructs.items():
        v = np.asarray(value, dtype=float)
        if np.isnan(v).any() or (v < 0).any() or (v > 1).any():
            raise ValueError(f"{name}: got {value!r}; allowed: numbers from 0 to 1")


def domain_scores(constructs: Mapping[str, Any]) -> dict[str, Any]:
    """Mean of each domain's constructs (conflict reversed); constructs not given are skipped.

    Raises:
        ValueError: For an unknown construct, a value outside [0, 1] or NaN, or a
            domain with none of its constructs given.
    """
    _check(constructs)
    out = {}
    for domain, names in DOMAINS.items():
        parts = [
            1.0 - np.asarray(constructs[n], dtype=float)
            if n in REVERSED
            else np.asarray(constructs[n], dtype=float)
            for n in names
            if n in constructs
        ]
        if not parts:
            raise ValueError(f"domain {domain} has none of its constructs: " + ", ".join(names))
        mean = sum(parts) / len(parts)
        out[domain] = float(mean) if np.ndim(mean) == 0 else mean
    return out


def index_from_domains(domains: Mapping[str, Any]) -> Any:
    """100 times the geometric mean of the domain scores (0 if any domain is 0)."""
    values = [np.asarray(domains[d], dtype=float) for d in DOMAINS]
    out = 100.0 * np.cbrt(values[0] * values[1] * values[2])
    return float(out) if np.ndim(out) == 0 else out


def maturity_index(constructs: Mapping[str, Any]) -> Any:
    """The maturity index (0-100) of construct scores (floats or arrays of one shape)."""
    return index_from_domains(domain_scores(constructs))


def band(score: float) -> int:
    """Index in :data:`LEVELS` of the band a 0-100 score falls in."""
    k = 0
    for i, level in enumerate(LEVELS):
        # A tiny tolerance so that a score that is a band edge in exact arithmetic
        # (all answers "agree" gives 75) is not pushed down by rounding.
        if score >= level.lower - 1e-9:
            k = i
    return k


def level_of(score: float, weakest_domain: float | None = None) -> tuple[str, bool]:
    """Level name of a score, capped one level above the weakest domain's own band.

    Args:
        score: The index, 0-100.
        weakest_domain: The lowest domain score (0-1), or None for no cap.

    Returns:
        The level name and whether the cap lowered it.
    """
    k = band(score)
    if weakest_domain is not None:
        cap = band(100.0 * weakest_domain) + 1
        if k > cap:
            return LEVELS[cap].name, True
    return LEVELS[k].name, False


def assess(constructs: Mapping[str, float]) -> Maturity:
    """Score and level of one set of construct scores (each 0-1).

    Raises:
        ValueError: See :func:`domain_scores`.
    """
    domains = domain_scores(constructs)
    score = float(index_from_domains(domains))
    weakest = min(domains, key=lambda d: domains[d])
    level, capped = level_of(score, domains[weakest])
    missing = tuple(c for c in CONSTRUCTS if c not in constructs)
    return Maturity(
        score, level, {d: float(v) for d, v in domains.items()}, weakest, capped, missing
    )


def maturity(constructs: Mapping[str, float]) -> tuple[float, str]:
    """The index and the level name of construct scores: ``(score, level)``."""
    m = assess(constructs)
    return m.score, m.level


# ----------------------------------------------------------------- simulation
def _mean_last(x: np.ndarray, r: int) -> np.ndarray:
    return x.mean(axis=1) if x.shape[1] else np.zeros(r)


def simulation_constructs(sim: Any) -> dict[str, np.ndarray]:
    """The ten constructs read from a simulation's state, one value per replicate.

    Pair states (trust, confidence, risk threshold, conflict) are averaged over
    all pairs, membership states (faith, perceived progress) over all
    memberships, and the three performance mechanisms over live collaborations
    (0 when none is live), as the model's metrics do. Conflict resolution is
    the mean resolution style of the organisations rescaled from [-1, 1] to
    [0, 1]. Risk tolerance is the model's risk threshold.

    Args:
        sim: An :class:`ioc_sim.engine.Simulation` (``model.sim``).
    """
    r = sim.R
    live = sim.live_collaborations()
    n_live = np.maximum(live.sum(axis=1), 1)

    def live_mean(k: int) -> np.ndarray:
        return (sim.mech[:, k, :-1] * live).sum(axis=1) / n_live

    resolution = resolution_construct(sim)
    return {
        "trust": _mean_last(sim.trust, r),
        "confidence": _mean_last(sim.confidence, r),
        "faith": _mean_last(sim.faith[:, :-1], r),
        "risk_tolerance": _mean_last(sim.risk, r),
        "conflict": _mean_last(sim.conflict, r),
        "conflict_resolution": np.full(r, resolution),
        "perceived_progress": _mean_last(sim.progress[:, :-1], r),
        "cultural_efficacy": live_mean(0),
        "organisational_efficiency": live_mean(1),
        "technological_effectiveness": live_mean(2),
    }


def index_of_simulated(constructs: Mapping[str, np.ndarray]) -> np.ndarray:
    """The index of simulated construct means (all ten given, each already in [0, 1]).

    The arithmetic of :func:`maturity_index` without its input checks, for the
    model's monthly metric, where the inputs are known to be valid.
    """
    domains = []
    for names in DOMAINS.values():
        parts = [1.0 - constructs[n] if n in REVERSED else constructs[n] for n in names]
        domains.append(sum(parts) / len(parts))
    return 100.0 * np.cbrt(domains[0] * domains[1] * domains[2])


def resolution_construct(sim: Any) -> float:
    """Mean resolution style of the organisations, rescaled from [-1, 1] to [0, 1]."""
    style = np.asarray(sim.org["resolution_style"], dtype=float)
    return float(np.mean((style + 1.0) / 2.0)) if style.size else 0.5


def maturity_from_simulation(sim: Any) -> np.ndarray:
    """The maturity index (0-100) of a simulation's current state, shape ``(R,)``.

    Suitable as a model-level metric: ``Metric("maturity_index",
    maturity_from_simulation, ..., "index 0-100")``.
    """
    constructs = {k: np.clip(v, 0.0, 1.0) for k, v in simulation_constructs(sim).items()}
    return np.asarray(index_of_simulated(constructs), dtype=float).reshape(sim.R)


def level_names(scores: np.ndarray) -> list[str]:
    """Band names of index values (no weakest-domain cap: use :func:`assess` for that)."""
    return [LEVELS[band(float(s))].name for s in np.atleast_1d(scores)]
