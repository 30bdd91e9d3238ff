"""A scenario's ``[real_system]`` table: checked, built, and merged with the scenario.

:func:`apply_real_system` is what :mod:`ioc_sim.experiments.scenarios` calls
when a scenario names a real system: it turns the table into organisations and
collaborations, lets the scenario's own ``[[organisations]]`` override a
trust's values or add partners, and gives each collaboration that sets no
``history`` the mean pair history of its members.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.nhs.mapping import HISTORY_DEFAULTS
from ioc_sim.nhs.real_system import RealSystem, build_real_system
from ioc_sim.spec.contexts import normalise_organisations
from ioc_sim.spec.forms import TYPE_NAMES
from ioc_sim.spec.parameters import PARAMETERS
from ioc_sim.spec.schema import check_keys, choice_list, either, number, one_of, text_list, whole

#: Keys of a scenario's [real_system] table.
REAL_SYSTEM_KEYS = (
    "icb",
    "ods",
    "map",
    "types",
    "exclude",
    "add_primary_care",
    "add_social_care",
    "distressed",
    "placement",
    "arrangements",
    *HISTORY_DEFAULTS,
)
ARRANGEMENT_CHOICES = ("history", "collaborations", "ignore")


def parse_real_system(table: Any) -> dict[str, Any]:
    """Validate a scenario's ``[real_system]`` table; return keyword arguments.

    Raises:
        ConfigError: Naming ``real_system.<key>`` for an unknown key or bad value.
    """
    if not isinstance(table, Mapping):
        raise ConfigError("real_system", "must be a table: [real_system]")
    check_keys(table, REAL_SYSTEM_KEYS, "real_system", "key in [real_system]")
    kw: dict[str, Any] = {"icb": table.get("icb"), "ods": table.get("ods")}
    if kw["ods"] is not None:
        kw["ods"] = text_list(kw["ods"], "real_system.ods", "ODS codes")
    if "map" in table:
        kw["map_"] = table["map"]
    if "types" in table:
        kw["types"] = choice_list(table["types"], "real_system.types", TYPE_NAMES)
    for key in ("exclude", "distressed"):
        if key in table:
            kw[key] = text_list(table[key], f"real_system.{key}", "ODS codes")
    for key in ("add_primary_care", "add_social_care"):
        if key in table:
            kw[key] = whole(table[key], f"real_system.{key}", 0, 500)
    if "placement" in table:
        kw["placement"] = either(
            table["placement"], "real_system.placement", "shared_patients", "geography"
        )
    for key in HISTORY_DEFAULTS:
        if key in table:
            kw[key] = number(table[key], f"real_system.{key}", -1, 1)
    kw["arrangements"] = one_of(
        table.get("arrangements", "history"), "real_system.arrangements", ARRANGEMENT_CHOICES
    )
    return kw


def _resolve_members(spec: Any, ids: list[str], types: list[str]) -> list[str] | None:
    """Member ids of a collaboration table's ``members`` (None if it is not understood;
    the model then reports the problem with its own message)."""
    if spec == "all":
        return list(ids)
    if isinstance(spec, list) and all(isinstance(m, str) for m in spec):
        return [m for m in spec if m in set(ids)]
    if isinstance(spec, Mapping) and isinstance(spec.get("types"), list):
        return [i for i, t in zip(ids, types, strict=True) if t in spec["types"]]
    return None


def _merge_organisations(
    real: list[dict[str, Any]], given: list[Any] | None
) -> list[dict[str, Any]]:
    """Scenario ``[[organisations]]`` entries override a real trust's fields by id, or add
    an organisation. Each entry is checked here so an error names its own index."""
    merged = [dict(o) for o in real]
    where = {o["id"]: k for k, o in enumerate(merged)}
    for k, entry in enumerate(given or []):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            raise ConfigError(
                f"organisations[{k}].id",
                "missing; allowed: the ODS code of a trust to override, or a new id with its type",
            )
        base = merged[where[entry["id"]]] if entry["id"] in where else {}
        candidate = {**base, **entry}
        other = {"id": "\0other", "type": "acute"}
        try:
            normalise_organisations([candidate, other])
        except ConfigError as err:
            fld = err.field.replace("organisations[0]", f"organisations[{k}]", 1)
            raise ConfigError(fld, err.message) from None
        if entry["id"] in where:
            merged[where[entry["id"]]] = candidate
        else:
            where[entry["id"]] = len(merged)
            merged.append(dict(entry))
    return merged


def apply_real_system(
    table: Mapping[str, Any],
    organisations: list[Any] | None,
    collaborations: list[Any] | None,
    params: Mapping[str, Any],
) -> tuple[RealSystem, list[dict[str, Any]], list[dict[str, Any]]]:
    """Expand a scenario's real system into organisation and collaboration tables.

    Args:
        table: The ``[real_system]`` table.
        organisations: The scenario's own ``[[organisations]]`` (overrides by id, or
            additions), or None.
        collaborations: The scenario's ``[[collaborations]]``, or None for one
            collaboration of every organisation.
        params: The scenario's validated parameters (for the imputation value).

    Returns:
        The real system, the organisation tables and the collaboration tables.
        Collaborations that do not set ``history`` get the mean pair history of
        their members; with ``arrangements = "collaborations"`` the documented
        arrangements among the members are added as collaborations from month 0.
    """
    kw = parse_real_system(table)
    arrangements_mode = kw.pop("arrangements")
    if arrangements_mode == "ignore":
        kw["history_group"] = 0.0
    impute = params.get(
        "baseline_performance_mean", PARAMETERS["baseline_performance_mean"].default
    )
    real = build_real_system(**kw, impute_performance=float(impute))
    orgs = _merge_organisations(real.organisations, organisations)
    if len(orgs) < 2:
        raise ConfigError(
            "real_system",
            f"{real.label} has {len(orgs)} organisation; a "
            "collaboration needs two: add partners with "
            "add_primary_care, add_social_care or [[organisations]]",
        )
    ids = [o["id"] for o in orgs]
    types = [o.get("type", "") for o in orgs]
    collabs = [dict(c) if isinstance(c, Mapping) else c for c in (collaborations or [])]
    if not collabs:
        collabs = [{"name": "main", "members": "all"}]
    if arrangements_mode == "collaborations":
        taken = {c.get("name") for c in collabs if isinstance(c, Mapping)}
        collabs += [c for c in real.arrangement_collaborations() if c["name"] not in taken]
    for c in collabs:
        if isinstance(c, dict) and "history" not in c:
            members = _resolve_members(c.get("members", "all"), ids, types)
            if members is not None and len(members) >= 2:
                c["history"] = round(real.history_of(members), 4)
    return real, orgs, collabs
