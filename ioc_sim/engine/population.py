"""The organisations of one system: their attributes, drawn from
``population_seed`` or given by a scenario, and the last few populations kept
by their inputs (``docs/ODD.md`` sections 5 and 7.1)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from ioc_sim.spec.forms import ORG_TYPES, TYPE_NAMES

ORG_ATTRIBUTES = (
    "size",
    "capacity",
    "finances",
    "workforce_stability",
    "flexibility",
    "digital_maturity",
    "culture",
    "resolution_style",
    "vulnerability",
    "persuasiveness",
    "intra_conflict",
    "baseline_performance",
    "x",
    "y",
)


@dataclass
class Population:
    """Organisations of one system (shared by all replicates)."""

    ids: list[str]
    names: list[str]
    types: list[str]
    attrs: dict[str, np.ndarray]
    distressed: np.ndarray

    @property
    def n(self) -> int:
        """The number of organisations."""
        return len(self.ids)


#: The parameters a population is drawn from (see :func:`draw_population`).
POPULATION_PARAMS = (
    "population_seed",
    "n_organisations",
    "capacity_mean",
    "finances_mean",
    "workforce_stability_mean",
    "flexibility_mean",
    "digital_maturity_mean",
    "culture_spread",
    "constructive_share",
    "leader_vulnerability",
    "leader_persuasiveness",
    "intra_conflict_mean",
    "distressed_share",
    "baseline_performance_mean",
)
#: Recently drawn populations by their inputs.
_POPULATIONS: OrderedDict[tuple, Population] = OrderedDict()
#: How many populations are kept.
KEPT_POPULATIONS = 8


def recall(memo: OrderedDict, key: tuple, make: Any, kept: int) -> Any:
    """``memo[key]``, made by ``make()`` if absent; the last ``kept`` are kept.

    Args:
        memo: Values by key, least recently used first.
        key: What the value depends on.
        make: Builds the value when it is not kept.
        kept: How many values to keep.

    Returns:
        The kept or newly made value.
    """
    value = memo.get(key)
    if value is None:
        value = memo[key] = make()
        if len(memo) > kept:
            memo.popitem(last=False)
    else:
        memo.move_to_end(key)
    return value


def draw_population(p: dict[str, Any], organisations: list[dict[str, Any]] | None) -> Population:
    """Draw a synthetic population, keeping any attribute a scenario gives.

    Every attribute is drawn for every organisation in a fixed order from
    ``population_seed`` so that fixing one value never shifts the others.

    The draw depends only on :data:`POPULATION_PARAMS` and ``organisations``; a
    sweep whose factors leave those alone draws the same population for every
    design row, so the last few are kept, and each caller gets its own copy.

    Args:
        p: Parameter values (those of :data:`POPULATION_PARAMS` are read).
        organisations: Normalised organisation tables of a scenario, or None.

    Returns:
        A population whose arrays belong to the caller.
    """
    q = {k: p[k] for k in POPULATION_PARAMS}
    key = (tuple(q.values()), repr(organisations))
    pop = recall(_POPULATIONS, key, lambda: _draw_population(q, organisations), KEPT_POPULATIONS)
    return Population(
        list(pop.ids),
        list(pop.names),
        list(pop.types),
        {k: v.copy() for k, v in pop.attrs.items()},
        pop.distressed.copy(),
    )


def _draw_population(p: dict[str, Any], organisations: list[dict[str, Any]] | None) -> Population:
    rng = np.random.default_rng(p["population_seed"])
    if organisations:
        n = len(organisations)
        types = [o["type"] for o in organisations]
        ids = [o["id"] for o in organisations]
        names = [o.get("name", o["id"]) for o in organisations]
        rng.random(n)  # keep the draw order the same as for a synthetic system
    else:
        n = p["n_organisations"]
        shares = np.array([ORG_TYPES[t]["share"] for t in TYPE_NAMES])
        codes = rng.choice(len(TYPE_NAMES), size=n, p=shares / shares.sum())
        types = [TYPE_NAMES[c] for c in codes]
        width = max(2, len(str(n)))
        ids = [f"ORG{i + 1:0{width}d}" for i in range(n)]
        names = [
            f"{TYPE_NAMES[c].replace('_', ' ')} organisation {i + 1}" for i, c in enumerate(codes)
        ]

    def around(mean: float, sd: float, shift: np.ndarray | float = 0.0) -> np.ndarray:
        return np.clip(mean + shift + sd * rng.standard_normal(n), 0.0, 1.0)

    type_size = np.array([ORG_TYPES[t]["size"] for t in types])
    type_cap = np.array([ORG_TYPES[t]["capacity"] for t in types])
    a: dict[str, np.ndarray] = {}
    a["size"] = type_size * np.exp(0.4 * rng.standard_normal(n))
    a["capacity"] = around(p["capacity_mean"], 0.15, type_cap)
    a["finances"] = around(p["finances_mean"], 0.15)
    a["workforce_stability"] = around(p["workforce_stability_mean"], 0.12)
    a["flexibility"] = around(p["flexibility_mean"], 0.12)
    a["digital_maturity"] = around(p["digital_maturity_mean"], 0.15)
    a["culture"] = 0.5 + p["culture_spread"] * (rng.random(n) - 0.5)
    style = np.where(rng.random(n) < p["constructive_share"], 1.0, -1.0)
    a["resolution_style"] = style * (0.5 + 0.5 * rng.random(n))
    a["vulnerability"] = around(p["leader_vulnerability"], 0.15)
    a["persuasiveness"] = around(p["leader_persuasiveness"], 0.15)
    a["intra_conflict"] = around(p["intra_conflict_mean"], 0.12)
    distressed = rng.random(n) < p["distressed_share"]
    a["baseline_performance"] = around(
        p["baseline_performance_mean"], 0.1, np.where(distressed, -0.15, 0.0)
    )
    a["x"] = rng.random(n)
    a["y"] = rng.random(n)
    if organisations:
        for i, o in enumerate(organisations):
            if "distressed" in o and o["distressed"] != distressed[i]:
                distressed[i] = o["distressed"]
                # A trust in special measures performs worse, as drawn ones do (unless given).
                shift = -0.15 if distressed[i] else 0.15
                a["baseline_performance"][i] = min(
                    1.0, max(0.0, a["baseline_performance"][i] + shift)
                )
            for key in ORG_ATTRIBUTES:
                if key in o:
                    a[key][i] = o[key]
    return Population(ids, names, types, a, distressed)
