"""Running a started collaboration: its maturity path, and which levers move it.

Both run the model once per seed here; :func:`maturity_paths` reads the
maturity index every month, :func:`lever_effects` reads it, with collaborative
performance, at the end of each one-at-a-time change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.model import maturity as mat
from ioc_sim.model.model import CollaborationModel
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


def _final(model_kwargs: dict[str, Any], seeds: Sequence[int], months: int,
           ) -> tuple[np.ndarray, np.ndarray]:
    index, perf = [], []
    for seed in seeds:
        m = CollaborationModel(rng=seed, **model_kwargs)
        m.run(months)
        index.append(float(mat.maturity_from_simulation(m.sim)[0]))
        perf.append(float(m.model_dataframe()["collaborative_performance"].iloc[-1]))
    return np.array(index), np.array(perf)


def maturity_paths(scenario: Any, seeds: Sequence[int], months: int,
                   extra: Mapping[str, Any] | None = None) -> np.ndarray:
    """Simulated maturity index for each seed (rows) and month 0..months (columns)."""
    kw = {**scenario.model_kwargs(months=months), **(extra or {})}
    out = np.empty((len(seeds), months + 1))
    for r, seed in enumerate(seeds):
        m = CollaborationModel(rng=seed, **kw)
        out[r, 0] = mat.maturity_from_simulation(m.sim)[0]
        for t in range(1, months + 1):
            m.step()
            out[r, t] = mat.maturity_from_simulation(m.sim)[0]
    return out


def lever_effects(scenario: Any, seeds: Sequence[int], months: int,
                  extra: Mapping[str, Any] | None = None,
                  levers: Sequence[tuple[str, str, float]] = LEVERS) -> pd.DataFrame:
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
    probe = CollaborationModel(rng=0, **base_kw)
    contexts = probe.collaborations().set_index("name")
    targets = [c["name"] for c in (scenario.collaborations or []) if isinstance(c, Mapping)] \
        or ["main"]
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
                events.append({"month": 0, "kind": "set", "target": target, "field": name,
                               "value": new})
            kw["events"] = events
            change = f"{step:+g} in every collaboration"
        else:
            old = float(probe.params[name])
            new = float(np.clip(old + step, p.low, p.high))
            kw[name] = new
            change = f"{old:g} -> {new:g}"
        index, perf = _final(kw, seeds, months)
        rows.append({"lever": name, "change": change,
                     "maturity_change": float((index - base_index).mean()),
                     "performance_change": float((perf - base_perf).mean())})
    out = pd.DataFrame(rows)
    out.attrs["base_maturity"] = float(base_index.mean())
    return out.reindex(out["maturity_change"].abs().sort_values(ascending=False).index)
