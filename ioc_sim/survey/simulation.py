"""Running a started collaboration: its maturity path, and which levers move it.

Both advance all seeds together through :func:`ioc_sim.experiments.simulate`:
:func:`maturity_paths` reads the maturity index every month, :func:`lever_effects`
reads it, with collaborative performance, at the end of each one-at-a-time change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.experiments.replicates import collaboration_table, simulate, start, validate_kwargs
from ioc_sim.model.maturity import maturity_from_simulation
from ioc_sim.spec.parameters import PARAMETERS

#: Levers a lever analysis tries: (name, kind, change). Collaboration contexts move
#: every collaboration's own value; system and population settings move the one value.
LEVERS: tuple[tuple[str, str, float], ...] = (
    ("shared_vision", "collaboration", 0.2),
    ("accountability", "collaboration", 0.2),
    ("role_clarity", "collaboration", 0.2),
    ("pace", "collaboration", 0.2),
    ("evaluation", "collaboration", 0.2),
    ("support", "collaboration", 0.2),
    ("formalisation", "collaboration", 0.2),
    ("data_sharing", "system", 0.2),
    ("competition", "system", -0.2),
    ("resource_pressure", "system", -0.2),
    ("leader_vulnerability", "system", 0.2),
)


def _final(
    model_kwargs: dict[str, Any],
    seeds: Sequence[int],
    months: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Final maturity index and collaborative performance of each seed."""
    read = simulate(
        model_kwargs,
        seeds,
        months,
        {"index": maturity_from_simulation, "performance": "collaborative_performance"},
        at=[months],
    )
    return read["index"][:, -1], read["performance"][:, -1]


def maturity_paths(
    scenario: Any, seeds: Sequence[int], months: int, extra: Mapping[str, Any] | None = None
) -> np.ndarray:
    """Simulated maturity index for each seed (rows) and month 0..months (columns)."""
    kw = {**scenario.model_kwargs(months=months), **(extra or {})}
    return simulate(kw, seeds, months, {"index": maturity_from_simulation})["index"]


def lever_effects(
    scenario: Any,
    seeds: Sequence[int],
    months: int,
    extra: Mapping[str, Any] | None = None,
    levers: Sequence[tuple[str, str, float]] = LEVERS,
) -> pd.DataFrame:
    """Which levers move the simulated collaboration: one-at-a-time changes.

    Each lever is changed by its step from the scenario's own value (clipped
    to the declared range) in a run with the same seeds (common random
    numbers); the table reports the change in the final maturity index and in
    the final collaborative performance, averaged over seeds. One-at-a-time
    changes ignore interactions between levers; use an experiment (Sobol or
    Morris designs) for those.

    Args:
        scenario: A loaded scenario.
        seeds: Replicate seeds.
        months: Months to run.
        extra: Further model keywords (for example ``initial_relations``).
        levers: (name, "collaboration" or "system", change).

    Returns:
        One row per lever, largest effect on the index first.
    """
    base_kw = {**scenario.model_kwargs(months=months), **(extra or {})}
    params = validate_kwargs(base_kw)
    contexts = collaboration_table(start(base_kw, [0])).set_index("name")
    targets = [c["name"] for c in (scenario.collaborations or []) if isinstance(c, Mapping)] or [
        "main"
    ]
    base_index, base_perf = _final(base_kw, seeds, months)
    rows = []
    for name, kind, step in levers:
        p = PARAMETERS[name]
        kw = dict(base_kw)
        if kind == "collaboration":
            events = list(kw.get("events", []))
            for target in targets:
                old = float(contexts.at[target, name])
                new = float(np.clip(old + step, p.low, p.high))
                events.append(
                    {"month": 0, "kind": "set", "target": target, "field": name, "value": new}
                )
            kw["events"] = events
            change = f"{step:+g} in every collaboration"
        else:
            old = float(params[name])
            new = float(np.clip(old + step, p.low, p.high))
            kw[name] = new
            change = f"{old:g} -> {new:g}"
        index, perf = _final(kw, seeds, months)
        rows.append(
            {
                "lever": name,
                "change": change,
                "maturity_change": float((index - base_index).mean()),
                "performance_change": float((perf - base_perf).mean()),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["base_maturity"] = float(base_index.mean())
    return out.reindex(out["maturity_change"].abs().sort_values(ascending=False).index)
