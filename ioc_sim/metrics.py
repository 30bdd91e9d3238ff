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

from ioc_sim.core import COMPONENTS, DEEPENING, DISSOLVED, Simulation


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
    def f(sim: Simulation) -> np.ndarray:
        return getattr(sim, attr).mean(axis=1)

    return f


def _live_collab_mean(values: Callable[[Simulation], np.ndarray]) -> Callable[[Simulation],
                                                                             np.ndarray]:
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
    Metric("distressed_share", lambda s: s.distressed.mean(axis=1),
           "Share of organisations in special measures.", "share"),
    Metric("live_collaborations", lambda s: s.live_collaborations().sum(axis=1).astype(float),
           "Collaborations forming, active, deepening or dissolving.", "count"),
    Metric("deepening_collaborations",
           lambda s: (s.status[:, :-1] == DEEPENING).sum(axis=1).astype(float),
           "Collaborations currently deepening.", "count"),
    Metric("dissolved_collaborations",
           lambda s: (s.status[:, :-1] == DISSOLVED).sum(axis=1).astype(float),
           "Collaborations that have dissolved.", "count"),
    Metric("collaborative_inertia", _inertia,
           "Share of live collaborations with negligible output.", "share"),
    Metric("shock", lambda s: np.full(s.R, s.shock_level()), "Level of exogenous shock."),
]
METRICS: dict[str, Metric] = {m.name: m for m in _LIST}

#: The trajectories the run figure shows, in panel order.
MAIN_TRAJECTORIES = ("trust", "faith", "confidence", "risk_threshold",
                     "collaborative_behaviour", "collaborative_performance",
                     "organisational_performance")


def evaluate(sim: Simulation, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Compute metrics (all by default) for every replicate of ``sim``."""
    return {n: METRICS[n].func(sim) for n in (names or METRICS)}


def model_reporters() -> dict[str, Callable]:
    """Mesa model reporters: one per metric, reading the model's single replicate."""

    def reporter(metric: Metric) -> Callable:
        return lambda model: float(metric.func(model.sim)[0])

    return {name: reporter(m) for name, m in METRICS.items()}
