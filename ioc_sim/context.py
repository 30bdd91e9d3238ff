"""Contexts: organisation types, collaboration forms, and scheduled changes.

Collaboration forms (theory.md section 4) are presets of collaboration
contexts. A collaboration takes its form's preset and may override any
field. Scheduled events change contexts at a given month.

All functions here validate plain data (lists of dicts as read from a
scenario file or passed as model keywords) and return normalised copies;
problems raise :class:`~ioc_sim.errors.ConfigError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ioc_sim.errors import ConfigError

#: Organisation types, with the relative size and spare-capacity shift that
#: the synthetic population uses for each. Sizes are relative (an acute trust
#: is the unit); these are assumptions, documented in docs/ODD.md.
ORG_TYPES: dict[str, dict[str, float]] = {
    "acute": {"size": 1.0, "capacity": -0.05, "share": 0.30},
    "mental_health": {"size": 0.5, "capacity": -0.05, "share": 0.15},
    "community": {"size": 0.4, "capacity": 0.0, "share": 0.15},
    "ambulance": {"size": 0.6, "capacity": -0.1, "share": 0.05},
    "primary_care_network": {"size": 0.1, "capacity": 0.0, "share": 0.25},
    "social_care": {"size": 0.2, "capacity": -0.1, "share": 0.10},
}
TYPE_NAMES = tuple(ORG_TYPES)

#: Collaboration forms from loosest to deepest (theory.md section 4). Each is
#: a preset of contexts; values are our reading of the typology, not
#: measurements (docs/ODD.md, "Forms").
FORMS: dict[str, dict[str, float]] = {
    "clinical_network": dict(mandate=0.0, integration_depth=0.1, formalisation=0.1,
                             power_asymmetry=0.1, ambition=0.3, support=0.0),
    "improvement_collaborative": dict(mandate=0.0, integration_depth=0.15, formalisation=0.2,
                                      power_asymmetry=0.1, evaluation=0.7, support=0.3),
    "buddying": dict(mandate=1.0, integration_depth=0.3, formalisation=0.4,
                     power_asymmetry=0.8, support=0.3, ambition=0.4),
    "alliance": dict(mandate=0.0, integration_depth=0.3, formalisation=0.3,
                     power_asymmetry=0.2),
    "joint_commissioning": dict(mandate=0.5, integration_depth=0.5, formalisation=0.6,
                                power_asymmetry=0.3),
    "contractual": dict(mandate=0.3, integration_depth=0.6, formalisation=0.9,
                        power_asymmetry=0.5, accountability=0.7),
    "federation": dict(mandate=0.0, integration_depth=0.5, formalisation=0.5,
                       power_asymmetry=0.3),
    "provider_collaborative": dict(mandate=0.5, integration_depth=0.4, formalisation=0.4,
                                   power_asymmetry=0.3),
    "group_model": dict(mandate=0.3, integration_depth=0.7, formalisation=0.7,
                        power_asymmetry=0.4, accountability=0.6, role_clarity=0.6),
    "new_care_model": dict(mandate=0.3, integration_depth=0.5, formalisation=0.5,
                           power_asymmetry=0.2, support=0.8, evaluation=0.7, ambition=0.7),
    "integrated_care_system": dict(mandate=1.0, integration_depth=0.4, formalisation=0.6,
                                   power_asymmetry=0.4, actors_present=0.9),
    "merger": dict(mandate=0.8, integration_depth=1.0, formalisation=1.0,
                   power_asymmetry=0.6, accountability=0.8, role_clarity=0.7, pace=0.6),
}

#: Collaboration status codes, in lifecycle order.
STATUSES = ("planned", "forming", "active", "deepening", "dissolving", "dissolved")
STATUS = {name: i for i, name in enumerate(STATUSES)}

#: System fields an event may set.
SYSTEM_FIELDS = ("competition", "regulator_trust", "data_sharing", "resource_pressure",
                 "demand_growth", "regulatory_blocking")

#: Event kinds and the fields each accepts (besides ``month`` and ``kind``).
EVENT_FIELDS: dict[str, dict[str, str]] = {
    "set": {"target": "'system', a collaboration name or an organisation id",
            "field": "a context field", "value": "a number in the field's range"},
    "regime_switch": {"competition": "a number from 0 to 1"},
    "shock": {"magnitude": "a number from 0 to 1", "half_life": "months, from 0.5 to 120",
              "pressure": "a number from 0 to 1"},
    "support": {"collaboration": "a collaboration name", "level": "a number from 0 to 1",
                "until": "a month after the start"},
    "leadership_turnover": {"organisation": "an organisation id",
                            "vulnerability": "a number from 0 to 1",
                            "persuasiveness": "a number from 0 to 1"},
    "merger": {"organisations": "two organisation ids: [acquirer, acquired]",
               "name": "a name for the merged organisation's collaboration"},
}
EVENT_REQUIRED: dict[str, tuple[str, ...]] = {
    "set": ("target", "field", "value"),
    "regime_switch": ("competition",),
    "shock": ("magnitude",),
    "support": ("collaboration", "level"),
    "leadership_turnover": ("organisation",),
    "merger": ("organisations",),
}

ORG_FIELDS = ("id", "name", "type", "size", "capacity", "finances", "workforce_stability",
              "flexibility", "digital_maturity", "culture", "resolution_style",
              "vulnerability", "persuasiveness", "intra_conflict", "baseline_performance",
              "distressed", "x", "y")
_ORG_RANGES = {"size": (0.001, 1000.0), "resolution_style": (-1.0, 1.0), "x": (-1e6, 1e6),
               "y": (-1e6, 1e6)}

@dataclass
class CollaborationSpec:
    """A collaboration as the model builds it.

    Attributes:
        name: Unique name.
        form: Name of the form preset.
        members: Organisation indices.
        start: Month it starts forming (0 = from the start).
        contexts: Every context field resolved to a number.
    """

    name: str
    form: str
    members: list[int]
    start: int
    contexts: dict[str, float] = field(default_factory=dict)


def _number(value: Any, fld: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(fld, f"got {value!r}; allowed: a number from {low:g} to {high:g}")
    if not (low <= float(value) <= high):
        raise ConfigError(fld, f"got {value!r}; allowed: a number from {low:g} to {high:g}")
    return float(value)


def _month(value: Any, fld: str, months: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (0 <= value <= months):
        raise ConfigError(fld, f"got {value!r}; allowed: a whole month from 0 to {months}")
    return int(value)


def normalise_organisations(orgs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Check a list of organisation tables; return copies with known fields only.

    Fields not given are drawn later by the population generator.
    """
    if not isinstance(orgs, Sequence) or isinstance(orgs, str):
        raise ConfigError("organisations", "must be a list of tables ([[organisations]])")
    out, seen = [], set()
    for k, org in enumerate(orgs):
        where = f"organisations[{k}]"
        if not isinstance(org, Mapping):
            raise ConfigError(where, "must be a table with at least id and type")
        for key in org:
            if key not in ORG_FIELDS:
                from ioc_sim.parameters import unknown_name_error

                raise unknown_name_error(key, ORG_FIELDS, "organisation field").with_prefix(where)
        if "id" not in org or not isinstance(org["id"], str) or not org["id"]:
            raise ConfigError(f"{where}.id", "missing; allowed: a non-empty text id")
        if org["id"] in seen:
            raise ConfigError(f"{where}.id", f"duplicate id {org['id']!r}; ids must be unique")
        seen.add(org["id"])
        otype = org.get("type")
        if otype not in ORG_TYPES:
            raise ConfigError(f"{where}.type", f"got {otype!r}; allowed: one of "
                              + ", ".join(TYPE_NAMES))
        clean = {"id": org["id"], "type": otype, "name": str(org.get("name", org["id"]))}
        for key, value in org.items():
            if key in ("id", "type", "name"):
                continue
            if key == "distressed":
                if not isinstance(value, bool):
                    raise ConfigError(f"{where}.distressed",
                                      f"got {value!r}; allowed: true or false")
                clean[key] = value
                continue
            low, high = _ORG_RANGES.get(key, (0.0, 1.0))
            clean[key] = _number(value, f"{where}.{key}", low, high)
        out.append(clean)
    if len(out) < 2:
        raise ConfigError("organisations", f"got {len(out)}; allowed: at least 2 organisations")
    return out


def _members(spec: Any, where: str, ids: list[str], types: list[str]) -> list[int]:
    if spec == "all":
        return list(range(len(ids)))
    if isinstance(spec, Mapping):
        if set(spec) - {"types"} or "types" not in spec:
            raise ConfigError(where, "a members table takes only 'types' (a list of types)")
        wanted = spec["types"]
        if not isinstance(wanted, list) or any(t not in ORG_TYPES for t in wanted):
            raise ConfigError(f"{where}.types", "allowed: a list of " + ", ".join(TYPE_NAMES))
        return [i for i, t in enumerate(types) if t in wanted]
    if isinstance(spec, list):
        index = {oid: i for i, oid in enumerate(ids)}
        out = []
        for m in spec:
            if isinstance(m, str) and m in index:
                out.append(index[m])
            else:
                shown = ", ".join(ids[:8]) + (" ..." if len(ids) > 8 else "")
                raise ConfigError(where, f"unknown organisation {m!r}; known ids: {shown}")
        if len(set(out)) != len(out):
            raise ConfigError(where, "lists an organisation twice")
        return out
    raise ConfigError(where, "allowed: \"all\", a list of organisation ids, or {types = [...]}")


def resolve_contexts(form: str, overrides: Mapping[str, Any], where: str) -> dict[str, float]:
    """Resolve a collaboration's contexts: declared defaults < form preset < overrides."""
    from ioc_sim.parameters import CONTEXT_FIELDS, PARAMETERS

    ctx = {f: float(PARAMETERS[f].default) for f in CONTEXT_FIELDS}
    ctx.update(FORMS[form])
    for key, value in overrides.items():
        try:
            ctx[key] = PARAMETERS[key].validate(value)
        except ConfigError as err:
            raise ConfigError(f"{where}.{key}", err.message) from None
    return ctx


def normalise_collaborations(
    collabs: Sequence[Mapping[str, Any]] | None,
    ids: list[str],
    types: list[str],
    months: int,
    default_form: str,
    form_override: str | None = None,
    context_overrides: Mapping[str, float] | None = None,
) -> list[CollaborationSpec]:
    """Check collaboration tables and resolve them against form presets.

    Contexts resolve in this order, later winning: declared defaults, the
    form's preset, the collaboration's own fields, then ``context_overrides``
    (model keywords, which apply to every collaboration). ``form_override``
    replaces every collaboration's form. With ``collabs`` empty or None, one
    collaboration of ``default_form`` joins every organisation.
    """
    from ioc_sim.parameters import CONTEXT_FIELDS, unknown_name_error

    extra = dict(context_overrides or {})
    if not collabs:
        form = form_override or default_form
        ctx = resolve_contexts(form, {}, "form")
        ctx.update(extra)
        return [CollaborationSpec("main", form, list(range(len(ids))), 0, ctx)]
    if not isinstance(collabs, Sequence) or isinstance(collabs, str):
        raise ConfigError("collaborations", "must be a list of tables ([[collaborations]])")
    allowed = ("name", "form", "members", "start", *CONTEXT_FIELDS)
    out, names = [], set()
    for k, c in enumerate(collabs):
        where = f"collaborations[{k}]"
        if not isinstance(c, Mapping):
            raise ConfigError(where, "must be a table with name, form and members")
        for key in c:
            if key not in allowed:
                raise unknown_name_error(key, allowed, "collaboration field").with_prefix(where)
        name = c.get("name", f"collaboration_{k + 1}")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}.name", "allowed: a non-empty text name")
        if name in names:
            raise ConfigError(f"{where}.name", f"duplicate name {name!r}")
        names.add(name)
        form = c.get("form", default_form)
        if form not in FORMS:
            raise ConfigError(f"{where}.form", f"unknown form {form!r}; allowed: "
                              + ", ".join(FORMS))
        members = _members(c.get("members", "all"), f"{where}.members", ids, types)
        if len(members) < 2:
            raise ConfigError(f"{where}.members", f"selects {len(members)} organisation(s); "
                              "allowed: at least 2")
        start = _month(c.get("start", 0), f"{where}.start", months)
        own = {key: v for key, v in c.items() if key in CONTEXT_FIELDS}
        ctx = resolve_contexts(form, own, where)
        if form_override:
            form = form_override
            ctx = resolve_contexts(form, own, where)
        ctx.update(extra)
        out.append(CollaborationSpec(name, form, members, start, ctx))
    return out


def normalise_events(
    events: Sequence[Mapping[str, Any]] | None,
    ids: list[str],
    collab_names: list[str],
    months: int,
) -> list[dict[str, Any]]:
    """Check scheduled events and return them sorted by month.

    Organisation ids are replaced by indices; everything else keeps its name.
    """
    from ioc_sim.parameters import CONTEXT_FIELDS, PARAMETERS

    if not events:
        return []
    if not isinstance(events, Sequence) or isinstance(events, str):
        raise ConfigError("events", "must be a list of tables ([[events]])")
    index = {oid: i for i, oid in enumerate(ids)}
    out = []
    for k, ev in enumerate(events):
        where = f"events[{k}]"
        if not isinstance(ev, Mapping):
            raise ConfigError(where, "must be a table with month and kind")
        kind = ev.get("kind")
        if kind not in EVENT_FIELDS:
            raise ConfigError(f"{where}.kind", f"got {kind!r}; allowed: one of "
                              + ", ".join(EVENT_FIELDS))
        allowed = ("month", "kind", *EVENT_FIELDS[kind])
        for key in ev:
            if key not in allowed:
                raise ConfigError(f"{where}.{key}", f"not a field of a {kind!r} event; allowed: "
                                  + ", ".join(allowed))
        for key in EVENT_REQUIRED[kind]:
            if key not in ev:
                raise ConfigError(f"{where}.{key}", f"missing; a {kind!r} event needs "
                                  + ", ".join(EVENT_REQUIRED[kind]))
        if "month" not in ev:
            raise ConfigError(f"{where}.month",
                              f"missing; allowed: a whole month from 0 to {months}")
        e: dict[str, Any] = {"kind": kind, "month": _month(ev["month"], f"{where}.month", months)}
        if kind == "set":
            target, fld = ev["target"], ev["field"]
            if target == "system":
                valid = SYSTEM_FIELDS
            elif target in collab_names:
                valid = CONTEXT_FIELDS
            elif target in index:
                valid = ("capacity", "finances", "workforce_stability", "flexibility",
                         "digital_maturity", "intra_conflict", "vulnerability", "persuasiveness",
                         "resolution_style")
                target = index[target]
            else:
                raise ConfigError(f"{where}.target", f"unknown target {target!r}; allowed: "
                                  "'system', a collaboration name or an organisation id")
            if fld not in valid:
                raise ConfigError(f"{where}.field", f"got {fld!r}; allowed: " + ", ".join(valid))
            if fld in PARAMETERS:
                try:
                    value = PARAMETERS[fld].validate(ev["value"])
                except ConfigError as err:
                    raise ConfigError(f"{where}.value", err.message) from None
            else:
                low = -1.0 if fld == "resolution_style" else 0.0
                value = _number(ev["value"], f"{where}.value", low, 1.0)
            e.update(target=target, field=fld, value=value)
        elif kind == "regime_switch":
            e["competition"] = _number(ev["competition"], f"{where}.competition", 0, 1)
        elif kind == "shock":
            e["magnitude"] = _number(ev["magnitude"], f"{where}.magnitude", 0, 1)
            e["half_life"] = _number(ev.get("half_life", 6.0), f"{where}.half_life", 0.5, 120)
            e["pressure"] = _number(ev.get("pressure", 0.3), f"{where}.pressure", 0, 1)
        elif kind == "support":
            if ev["collaboration"] not in collab_names:
                raise ConfigError(f"{where}.collaboration", f"unknown collaboration "
                                  f"{ev['collaboration']!r}; known: " + ", ".join(collab_names))
            e["collaboration"] = ev["collaboration"]
            e["level"] = _number(ev["level"], f"{where}.level", 0, 1)
            if "until" in ev:
                e["until"] = _month(ev["until"], f"{where}.until", months)
                if e["until"] <= e["month"]:
                    raise ConfigError(f"{where}.until", f"got {e['until']}; allowed: a month "
                                      f"after {e['month']}")
        elif kind == "leadership_turnover":
            org = ev["organisation"]
            if org not in index:
                raise ConfigError(f"{where}.organisation", f"unknown organisation {org!r}")
            e["organisation"] = index[org]
            for key in ("vulnerability", "persuasiveness"):
                if key in ev:
                    e[key] = _number(ev[key], f"{where}.{key}", 0, 1)
        elif kind == "merger":
            pair = ev["organisations"]
            if (not isinstance(pair, list) or len(pair) != 2 or pair[0] == pair[1]
                    or any(p not in index for p in pair)):
                raise ConfigError(f"{where}.organisations", f"got {pair!r}; allowed: two "
                                  "different known organisation ids [acquirer, acquired]")
            e["organisations"] = [index[pair[0]], index[pair[1]]]
            e["name"] = str(ev.get("name", f"merger_{pair[0]}_{pair[1]}"))
            if e["name"] in collab_names:
                raise ConfigError(f"{where}.name", f"{e['name']!r} is already a collaboration")
        out.append(e)
    return sorted(out, key=lambda e: e["month"])
