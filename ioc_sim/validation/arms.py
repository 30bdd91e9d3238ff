"""The simulated arms of a pattern check: a bundled scenario with some values changed.

Every arm of every check runs through :func:`arm`, with the same replicate
seeds (common random numbers), so two arms differ only by what was changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ioc_sim.experiments.provenance import replicate_seeds
from ioc_sim.experiments.replicates import STRUCTURE, simulate
from ioc_sim.experiments.scenarios import load_scenario

#: Replicates per simulated arm, and the root seed of their common random numbers.
REPLICATES = 8
SEED = 20237
#: Organisations in synthetic scenarios (kept small so the whole matrix runs in a minute).
SMALL = 12


def arm(
    scenario: str,
    overrides: dict[str, Any],
    metrics: list[str],
    replicates: int = REPLICATES,
    months: int | None = None,
    seed: int = SEED,
    edges: bool = False,
) -> dict[str, np.ndarray]:
    """Monthly series of ``metrics`` for a bundled scenario, shape (replicates, months + 1).

    Runs every replicate together through the same array core the experiment
    runner uses, with common random numbers (the same seeds for every arm).
    With ``edges``, also returns ``"trust_edges"``: per-pair trust, (months + 1, R, E).
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
    readers: dict[str, Any] = {m: m for m in metrics}
    if edges:
        readers["trust_edges"] = lambda sim: sim.trust
    out = simulate(kw, replicate_seeds(seed, replicates), months, readers)
    if edges:
        out["trust_edges"] = np.moveaxis(out["trust_edges"], 1, 0)  # months first
    return out


def scenario_events(name: str) -> list[dict[str, Any]]:
    """Copies of a bundled scenario's scheduled events."""
    return [dict(e) for e in (load_scenario(name).events or [])]
