"""Named model-level outputs.

Each metric is a function ``Simulation -> array of shape (R,)`` (one value
per replicate), so the same definitions serve the Mesa DataCollector (one
replicate) and batch runners (several). :data:`METRICS` lists them with a
description and unit; :func:`model_reporters` turns them into Mesa reporters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ioc_sim.engine import COMPONENTS, DEEPENING, DISSOLVED, Simulation, kernels
from ioc_sim.model.maturity import (
    DOMAINS,
    REVERSED,
    maturity_from_simulation,
    resolution_construct,
)


@dataclass(frozen=True)
class Metric:
    """A named output: how it is computed and what it means."""

    name: str
    func: Callable[[Simulation], np.ndarray]
    meaning: str
    unit: str = "0-1 scale"


def _edge_mean(attr: str) -> Callable[[Simulation], np.ndarray]:
    def f(sim: Simulation) -> np.ndarray:
        values = getattr(sim, attr)
        return values.mean(axis=1) if values.shape[1] else np.zeros(sim.R)

    return f


def _member_mean(attr: str) -> Callable[[Simulation], np.ndarray]:
    def f(sim: Simulation) -> np.ndarray:
        return getattr(sim, attr)[:, :-1].mean(axis=1)

    return f


def _org_mean(attr: str) -> Callable[[Simulation], np.ndarray]:
    # Organisations absorbed by a merger are no longer counted.
    def f(sim: Simulation) -> np.ndarray:
        return getattr(sim, attr)[:, sim.alive].mean(axis=1)

    return f


def _live_collab_mean(
    values: Callable[[Simulation], np.ndarray],
) -> Callable[[Simulation], np.ndarray]:
    def f(sim: Simulation) -> np.ndarray:
        live = sim.live_collaborations()
        x = values(sim)[:, :-1]
        return (x * live).sum(axis=1) / np.maximum(live.sum(axis=1), 1)

    return f


def _component(k: int) -> Callable[[Simulation], np.ndarray]:
    return lambda sim: sim.eff[:, :-1, k].mean(axis=1)


def _inertia(sim: Simulation) -> np.ndarray:
    """Share of live collaborations whose output is negligible (collaborative inertia)."""
    live = sim.live_collaborations()
    slow = live & (sim.output[:, :-1] < 0.1)
    return slow.sum(axis=1) / np.maximum(live.sum(axis=1), 1)


def _maturity(sim: Simulation) -> np.ndarray:
    return maturity_from_simulation(sim)


# fmt: off
# The registry of metrics, one entry per line: kept compact so it reads as a table.
_LIST = [
    Metric("trust", _edge_mean("trust"), "Mean trust of an organisation in a partner."),
    Metric("confidence", _edge_mean("confidence"),
           "Mean confidence that a partner will honour its obligations."),
    Metric("risk_threshold", _edge_mean("risk"), "Mean exposure accepted with a partner."),
    Metric("conflict", _edge_mean("conflict"), "Mean perceived conflict between partners."),
    Metric("faith", _member_mean("faith"), "Mean faith of members in their collaborations."),
    Metric("perceived_progress", _member_mean("progress"),
           "Mean progress members see in their collaborations."),
    Metric("collaborative_behaviour", _org_mean("behaviour"),
           "Mean share of an organisation's acts toward partners that are collaborative."),
    Metric("cultural_efficacy", _live_collab_mean(lambda s: s.mech[:, 0]),
           "Mean cultural efficacy of live collaborations."),
    Metric("organisational_efficiency", _live_collab_mean(lambda s: s.mech[:, 1]),
           "Mean organisational efficiency of live collaborations."),
    Metric("technological_effectiveness", _live_collab_mean(lambda s: s.mech[:, 2]),
           "Mean technological effectiveness of live collaborations."),
    Metric("collaborative_performance", _live_collab_mean(lambda s: s.output),
           "Mean output of live collaborations: behaviour times the three mechanisms."),
    Metric("effectiveness", lambda s: s.eff[:, :-1].mean(axis=(1, 2)),
           "Mean of the six components of effectiveness through collaboration (lagged)."),
    *[Metric(name, _component(k), f"Effectiveness component: {name.replace('_', ' ')}.")
      for k, name in enumerate(COMPONENTS)],
    Metric("quality", _org_mean("quality"), "Mean quality of care."),
    Metric("efficiency", _org_mean("efficiency"),
           "Mean efficiency net of the costs of collaborating."),
    Metric("access", _org_mean("access"), "Mean access (inverse of waiting)."),
    Metric("emergency_admissions", _org_mean("admissions"),
           "Mean emergency admissions index (1 = the start).", "index"),
    Metric("organisational_performance", _org_mean("performance"),
           "Mean of quality, efficiency and access."),
    Metric("collaboration_cost", _org_mean("cost"),
           "Mean monthly cost of collaborating (management time, integration).",
           "performance"),
    Metric("distressed_share", lambda s: s.distressed[:, s.alive].mean(axis=1),
           "Share of organisations in special measures.", "share"),
    Metric("live_collaborations", lambda s: s.live_collaborations().sum(axis=1).astype(float),
           "Collaborations forming, active, deepening or dissolving.", "count"),
    Metric("deepening_collaborations",
           lambda s: (s.status[:, :-1] == DEEPENING).sum(axis=1).astype(float),
           "Collaborations currently deepening.", "count"),
    Metric("dissolved_collaborations",
           lambda s: (s.status[:, :-1] == DISSOLVED).sum(axis=1).astype(float),
           "Collaborations that have dissolved.", "count"),
    Metric("integration_depth", _live_collab_mean(lambda s: s.ctx["integration_depth"]),
           "Mean integration depth of live collaborations (deepening raises it)."),
    Metric("collaborative_inertia", _inertia,
           "Share of live collaborations with negligible output.", "share"),
    Metric("maturity_index", _maturity,
           "Collaboration maturity index from simulated state (docs/maturity.md).",
           "index 0-100"),
    Metric("shock", lambda s: np.full(s.R, s.shock_level()), "Level of exogenous shock."),
]
# fmt: on
METRICS: dict[str, Metric] = {m.name: m for m in _LIST}

#: The trajectories the run figure shows, in panel order.
MAIN_TRAJECTORIES = (
    "trust",
    "faith",
    "confidence",
    "risk_threshold",
    "collaborative_behaviour",
    "collaborative_performance",
    "organisational_performance",
)

#: The metrics a run's summary reports (``ioc-sim run``, and over a posterior's draws).
SUMMARY_METRICS = (
    *MAIN_TRAJECTORIES,
    "conflict",
    "effectiveness",
    "collaboration_cost",
    "emergency_admissions",
    "distressed_share",
    "dissolved_collaborations",
)


#: Metrics computed together by :func:`_all_at_once`, in the order of its rows.
_TOGETHER = (
    "trust",
    "confidence",
    "risk_threshold",
    "conflict",
    "faith",
    "perceived_progress",
    "collaborative_behaviour",
    "quality",
    "efficiency",
    "access",
    "emergency_admissions",
    "organisational_performance",
    "collaboration_cost",
    "distressed_share",
    "cultural_efficacy",
    "organisational_efficiency",
    "technological_effectiveness",
    "collaborative_performance",
    "effectiveness",
    *COMPONENTS,
    "live_collaborations",
    "deepening_collaborations",
    "dissolved_collaborations",
    "collaborative_inertia",
    "shock",
    "maturity_index",
)


def _all_at_once(sim: Simulation) -> np.ndarray:
    """The metrics in :data:`_TOGETHER` in one pass over the state, shape (K, R).

    The same reductions over the same numbers as the metrics' own functions, so
    the values are equal bit for bit: the compiled
    :func:`ioc_sim.engine.kernels.metrics.metric_rows` adds each mean's values in
    numpy's (pairwise) order.
    """
    r = sim.R
    out = np.empty((len(_TOGETHER), r))
    kernels.metric_rows(
        sim.trust,
        sim.confidence,
        sim.risk,
        sim.conflict,
        sim.faith,
        sim.progress,
        sim.behaviour,
        sim.quality,
        sim.efficiency,
        sim.access,
        sim.admissions,
        sim.performance,
        sim.cost,
        sim.distressed,
        sim.alive,
        sim.mech,
        sim.output,
        sim.eff,
        sim.status,
        out,
    )
    out[-2] = sim.shock_level()
    # The maturity index from the construct means just computed (docs/maturity.md), as
    # maturity.index_of_simulated computes it: 100 * cbrt(product of the domain means).
    prod = np.empty(r)
    kernels.domain_product(
        out,
        _MATURITY_SOURCES,
        _MATURITY_REVERSED,
        _MATURITY_DOMAIN,
        len(DOMAINS),
        _resolution(sim),
        prod,
    )
    out[-1] = 100.0 * np.cbrt(prod)
    return out


#: Maturity constructs read from rows of :func:`_all_at_once` (conflict resolution, -1,
#: from the organisations' styles), domain by domain.
_CONSTRUCT_METRICS = {
    "trust": "trust",
    "confidence": "confidence",
    "faith": "faith",
    "risk_tolerance": "risk_threshold",
    "conflict": "conflict",
    "perceived_progress": "perceived_progress",
    "cultural_efficacy": "cultural_efficacy",
    "organisational_efficiency": "organisational_efficiency",
    "technological_effectiveness": "technological_effectiveness",
}
_MATURITY_CONSTRUCTS = [(d, name) for d, names in enumerate(DOMAINS.values()) for name in names]
_MATURITY_SOURCES = np.array(
    [
        _TOGETHER.index(_CONSTRUCT_METRICS[name]) if name in _CONSTRUCT_METRICS else -1
        for _, name in _MATURITY_CONSTRUCTS
    ],
    dtype=np.int64,
)
_MATURITY_REVERSED = np.array([name in REVERSED for _, name in _MATURITY_CONSTRUCTS])
_MATURITY_DOMAIN = np.array([d for d, _ in _MATURITY_CONSTRUCTS], dtype=np.int64)
assert {name for _, name in _MATURITY_CONSTRUCTS} == {*_CONSTRUCT_METRICS, "conflict_resolution"}


def _resolution(sim: Simulation) -> float:
    """:func:`resolution_construct`, kept on ``sim`` while the resolution styles are equal."""
    style = sim.org["resolution_style"]
    key = style.tobytes()
    cached = sim.__dict__.get("_metric_resolution")
    if cached is None or cached[0] != key:
        cached = key, resolution_construct(sim)
        sim.__dict__["_metric_resolution"] = cached
    return cached[1]


def evaluate(sim: Simulation, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Compute metrics (all by default) for every replicate of ``sim``."""
    wanted = list(names or METRICS)
    # A few metrics cost less each on their own than all of them in one pass (the
    # compiled pass costs about as much as six own functions; the maturity index alone
    # costs more). Equal bits either way.
    if len(wanted) < 7 and "maturity_index" not in wanted:
        return {n: METRICS[n].func(sim) for n in wanted}
    known = dict(zip(_TOGETHER, _all_at_once(sim), strict=True))
    return {n: known[n] if n in known else METRICS[n].func(sim) for n in wanted}


def snapshot(sim: Simulation) -> dict[str, float]:
    """Every metric for the first replicate, as floats, computed in one pass and kept
    on ``sim`` for the reporters (see :func:`model_reporters`)."""
    floats = dict(zip(_TOGETHER, _all_at_once(sim)[:, 0].tolist(), strict=True))
    if len(floats) != len(METRICS):  # a metric defined only by its own function
        floats.update({n: float(m.func(sim)[0]) for n, m in METRICS.items() if n not in floats})
    # Every month replaces the trust array, so (trust object, month) marks the state.
    sim.__dict__["_metric_snapshot"] = (sim.trust, sim.month, floats)
    return floats


def model_reporters() -> dict[str, Callable]:
    """Mesa model reporters: one per metric, reading the model's single replicate.

    The model computes every metric in one pass before each collection
    (:func:`snapshot`); each reporter then reads its float. Called on its own,
    a reporter recomputes the snapshot if the state has moved on since.
    """

    def reporter(name: str) -> Callable:
        def report(model) -> float:
            sim = model.sim
            cached = sim.__dict__.get("_metric_snapshot")
            if cached is None or cached[0] is not sim.trust or cached[1] != sim.month:
                return snapshot(sim)[name]
            return cached[2][name]

        return report

    return {name: reporter(name) for name in METRICS}
