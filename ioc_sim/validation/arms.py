"""The simulated arms of a pattern check: a bundled scenario with some values changed.

Every arm of every check runs through :func:`arm`, with the same replicate
seeds (common random numbers), so two arms differ only by what was changed.
An :class:`ArmSpec` is an arm as a patterns file declares it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from ioc_sim.experiments.provenance import replicate_seeds
from ioc_sim.experiments.replicates import STRUCTURE, simulate
from ioc_sim.experiments.scenarios import load_scenario

#: Replicates per simulated arm, and the root seed of their common random numbers.
REPLICATES = 8
SEED = 20237
#: The root seed arms use unless told (see :func:`root_seed`).
_ROOT = [SEED]


@contextmanager
def root_seed(seed: int) -> Iterator[None]:
    """Run the checks inside with ``seed`` as the root of every arm's replicate seeds:
    the same checks on other random numbers, to see how firmly a verdict holds."""
    before = _ROOT[0]
    _ROOT[0] = seed
    try:
        yield
    finally:
        _ROOT[0] = before


def current_seed() -> int:
    """The root seed arms use now (see :func:`root_seed`)."""
    return _ROOT[0]


@lru_cache(maxsize=64)
def _scenario(name: str):
    # Loaded once per process: a calibration runs the same arms thousands of times, and
    # nothing changes a loaded scenario (the runner copies what it is given).
    return load_scenario(name)


def model_keywords(
    scenario: str, overrides: Mapping[str, Any], months: int | None = None
) -> tuple[dict[str, Any], int]:
    """Model keywords of a bundled scenario with ``overrides``, and the months to run.

    Organisations, collaborations and events in ``overrides`` replace the scenario's
    own lists (an empty list removes them).
    """
    sc = _scenario(scenario)
    months = months or sc.months
    structure = {k: overrides[k] for k in STRUCTURE if k in overrides}
    params = {k: v for k, v in overrides.items() if k not in structure}
    kw = sc.model_kwargs(**{**params, "months": months})
    # The scenario's own lists win in model_kwargs, so a replacement is applied after it.
    for key, value in structure.items():
        if value:
            kw[key] = value
        else:
            kw.pop(key, None)
    return kw, months


def arm(
    scenario: str,
    overrides: dict[str, Any],
    metrics: list[str] | Mapping[str, Any],
    replicates: int = REPLICATES,
    months: int | None = None,
    seed: int | None = None,
) -> dict[str, np.ndarray]:
    """Monthly series of ``metrics`` for a bundled scenario, shape (replicates, months + 1).

    Runs every replicate together through the same array core the experiment
    runner uses, with common random numbers (the same seeds for every arm).
    ``metrics`` are metric names, or labels mapped to a metric name or a function
    of the simulation (see :func:`ioc_sim.experiments.replicates.advance`).
    """
    kw, months = model_keywords(scenario, overrides, months)
    readers: dict[str, Any] = (
        dict(metrics) if isinstance(metrics, Mapping) else {m: m for m in metrics}
    )
    seed = _ROOT[0] if seed is None else seed
    return simulate(kw, replicate_seeds(seed, replicates), months, readers)


def scenario_events(name: str) -> list[dict[str, Any]]:
    """Copies of a bundled scenario's scheduled events."""
    return [dict(e) for e in (_scenario(name).events or [])]


@dataclass(frozen=True)
class ArmSpec:
    """An arm as a patterns file declares it: a scenario and what is changed in it.

    Attributes:
        name: The arm's name within its pattern.
        scenario: The bundled scenario (or scenario file) it runs.
        settings: Model keywords set on it (``set``); they win over the values of a
            specification variant or a calibration draw.
        months: Months to run (default: the scenario's).
        replicates: Replicates, all with the common seeds.
        drop_events: Kinds of scheduled event removed (a counterfactual without them).
        change_events: Fields changed in every event of a kind, by kind.
        organisations: Fields changed in listed organisations, by organisation id.
    """

    name: str
    scenario: str
    settings: dict[str, Any] = field(default_factory=dict)
    months: int | None = None
    replicates: int = REPLICATES
    drop_events: tuple[str, ...] = ()
    change_events: dict[str, dict[str, Any]] = field(default_factory=dict)
    organisations: dict[str, dict[str, Any]] = field(default_factory=dict)

    def overrides(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The arm's model keywords on top of ``values`` (a variant's or a draw's)."""
        out = {**values, **self.settings}
        if self.drop_events or self.change_events:
            out["events"] = [
                dict(e, **self.change_events.get(e.get("kind"), {}))
                for e in scenario_events(self.scenario)
                if e.get("kind") not in self.drop_events
            ]
        if self.organisations:
            orgs = [dict(o) for o in _scenario(self.scenario).organisations]
            for o in orgs:
                o.update(self.organisations.get(o.get("id"), {}))
            out["organisations"] = orgs
        return out

    def events(self) -> list[dict[str, Any]]:
        """The events of the arm's scenario, as the scenario schedules them."""
        return scenario_events(self.scenario)

    def event_month(self, kind: str) -> int | None:
        """The month of the first event of ``kind`` in the arm's scenario, if any."""
        return next((int(e["month"]) for e in self.events() if e.get("kind") == kind), None)

    def key(self, values: Mapping[str, Any], seed: int) -> str:
        """Identifies the system this arm runs and its seeds: arms with the same key (the
        same model keywords, whatever spelled them) share their runs, the arm with fewer
        replicates reading the first ones (replicate r has the same seed, and the same
        numbers, however many replicates run with it)."""
        kw, months = model_keywords(self.scenario, self.overrides(values), self.months)
        return json.dumps(
            {"kwargs": kw, "months": months, "seed": seed}, sort_keys=True, default=str
        )

    def runs(self, replicates: int | None) -> int:
        """Replicates to run: the arm's own, at most ``replicates`` when given."""
        return self.replicates if replicates is None else min(self.replicates, replicates)
