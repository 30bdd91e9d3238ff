"""Everything a run needs before its first month: parameters, organisations,
collaborations, events and starting relations, resolved and checked.

:class:`~ioc_sim.model.CollaborationModel` and the batch runners both start
here, so a replicate advanced in a batch gives exactly the numbers of the
same replicate run alone. Nothing here draws from the dynamic generator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ioc_sim.engine.population import Population, draw_population
from ioc_sim.errors import ConfigError
from ioc_sim.spec.contexts import (
    CollaborationSpec,
    normalise_collaborations,
    normalise_organisations,
)
from ioc_sim.spec.events import normalise_events
from ioc_sim.spec.parameters import CONTEXT_FIELDS, PARAMETERS, defaults, unknown_name_error
from ioc_sim.spec.schema import unit


def resolve_parameters(parameters: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Validate keyword parameters and fill in declared defaults.

    Returns:
        The full parameter dict and the set of names given explicitly.

    Raises:
        ConfigError: For an unknown name or an invalid value.
    """
    full = defaults()
    for name, value in parameters.items():
        if name not in PARAMETERS:
            raise unknown_name_error(name, list(PARAMETERS), "parameter")
        full[name] = PARAMETERS[name].validate(value)
    return full, set(parameters)


RELATION_KEYS = ("trust", "confidence", "risk_threshold", "conflict", "faith", "perceived_progress")


def normalise_relations(values: Mapping[str, Any], ids: list[str]) -> dict[str, Any]:
    """Check ``initial_relations``: known keys; numbers in [0, 1], for all or per id.

    Returns:
        Each key mapped to a float, or to ``{organisation index: float}``.

    Raises:
        ConfigError: Naming the key (and organisation) at fault.
    """
    if not isinstance(values, Mapping):
        raise ConfigError("initial_relations", "allowed: a table of relation names to values")
    index = {oid: i for i, oid in enumerate(ids)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in RELATION_KEYS:
            raise unknown_name_error(key, RELATION_KEYS, "relation").with_prefix(
                "initial_relations"
            )
        where = f"initial_relations.{key}"
        if isinstance(value, Mapping):
            per = {}
            for oid, x in value.items():
                if oid not in index:
                    raise ConfigError(f"{where}.{oid}", "unknown organisation id")
                per[index[oid]] = unit(x, f"{where}.{oid}")
            out[key] = per
        else:
            out[key] = unit(value, where)
    return out


def build_system(
    params: dict[str, Any],
    explicit: set[str],
    organisations: Sequence[Mapping[str, Any]] | None = None,
    collaborations: Sequence[Mapping[str, Any]] | None = None,
    events: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[Population, list[CollaborationSpec], list[dict[str, Any]]]:
    """Build the organisations, collaborations and scheduled events of one system.

    This is everything :class:`CollaborationModel` does before it creates the
    :class:`~ioc_sim.engine.simulation.Simulation`, so that batch runners can build a system
    once and advance several replicates of it together with exactly the numbers
    a model run alone would give. Nothing here draws from the dynamic generator.

    Args:
        params: Full, validated parameters (from :func:`resolve_parameters`).
        explicit: Names given explicitly; collaboration contexts among them
            override every collaboration.
        organisations: Optional organisation tables.
        collaborations: Optional collaboration tables.
        events: Optional scheduled events.

    Returns:
        The population, the resolved collaborations and the normalised events
        (a merger consolidates its organisations when it comes due), ready for
        ``Simulation``.

    Raises:
        ConfigError: Naming the field, for any invalid structure.
    """
    orgs = normalise_organisations(organisations) if organisations else None
    pop = draw_population(params, orgs)
    overrides = {k: params[k] for k in explicit if k in CONTEXT_FIELDS}
    form_override = params["form"] if ("form" in explicit and collaborations) else None
    # Events and starts may lie beyond this run's end (a shortened run of a longer
    # scenario); they simply never happen. Scenario files are checked more strictly.
    horizon = int(PARAMETERS["months"].high)
    specs = normalise_collaborations(
        collaborations, pop.ids, pop.types, horizon, params["form"], form_override, overrides
    )
    evs = normalise_events(events, pop.ids, [s.name for s in specs], horizon)
    return pop, specs, evs
