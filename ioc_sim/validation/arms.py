"""The simulated arms of a pattern check: a bundled scenario with some values changed.

Every arm of every check runs through :func:`arm`, with the same replicate
seeds (common random numbers), so two arms differ only by what was changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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


#: Organisations in synthetic scenarios (kept small so the whole matrix runs in a minute).
SMALL = 12


def arm(
    scenario: str,
    overrides: dict[str, Any],
    metrics: list[str] | Mapping[str, Any],
    replicates: int = REPLICATES,
    months: int | None = None,
    seed: int | None = None,
    edges: bool = False,
) -> dict[str, np.ndarray]:
    """Monthly series of ``metrics`` for a bundled scenario, shape (replicates, months + 1).

    Runs every replicate together through the same array core the experiment
    runner uses, with common random numbers (the same seeds for every arm).
    ``metrics`` are metric names, or labels mapped to a metric name or a function
    of the simulation (see :func:`ioc_sim.experiments.replicates.advance`). With
    ``edges``, also returns ``"trust_edges"``: per-pair trust, (months + 1, R, E).
    """
    sc = load_scenario(scenario)
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
    readers: dict[str, Any] = (
        dict(metrics) if isinstance(metrics, Mapping) else {m: m for m in metrics}
    )
    if edges:
        readers["trust_edges"] = lambda sim: sim.trust
    seed = _ROOT[0] if seed is None else seed
    out = simulate(kw, replicate_seeds(seed, replicates), months, readers)
    if edges:
        out["trust_edges"] = np.moveaxis(out["trust_edges"], 1, 0)  # months first
    return out


def scenario_events(name: str) -> list[dict[str, Any]]:
    """Copies of a bundled scenario's scheduled events."""
    return [dict(e) for e in (load_scenario(name).events or [])]
