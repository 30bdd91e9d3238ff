"""Organisations and collaborations of a system, checked and resolved against form presets.

Collaboration forms (docs/theory.md section 4) are presets of collaboration
contexts. A collaboration takes its form's preset and may override any
field. Scheduled events change contexts at a given month (:mod:`ioc_sim.spec.events`).

All functions here validate plain data (lists of dicts as read from a
scenario file or passed as model keywords) and return normalised copies;
problems raise :class:`~ioc_sim.errors.ConfigError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.spec.forms import _ORG_RANGES, FORMS, ORG_FIELDS, ORG_TYPES, TYPE_NAMES
from ioc_sim.spec.parameters import CONTEXT_FIELDS, PARAMETERS, unknown_name_error
from ioc_sim.spec.schema import month, number


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
                raise unknown_name_error(key, ORG_FIELDS, "organisation field").with_prefix(where)
        if "id" not in org or not isinstance(org["id"], str) or not org["id"]:
            raise ConfigError(f"{where}.id", "missing; allowed: a non-empty text id")
        if org["id"] in seen:
            raise ConfigError(f"{where}.id", f"duplicate id {org['id']!r}; ids must be unique")
        seen.add(org["id"])
        otype = org.get("type")
        if otype not in ORG_TYPES:
            raise ConfigError(
                f"{where}.type", f"got {otype!r}; allowed: one of " + ", ".join(TYPE_NAMES)
            )
        clean = {"id": org["id"], "type": otype, "name": str(org.get("name", org["id"]))}
        for key, value in org.items():
            if key in ("id", "type", "name"):
                continue
            if key == "distressed":
                if not isinstance(value, bool):
                    raise ConfigError(
                        f"{where}.distressed", f"got {value!r}; allowed: true or false"
                    )
                clean[key] = value
                continue
            low, high = _ORG_RANGES.get(key, (0.0, 1.0))
            clean[key] = number(value, f"{where}.{key}", low, high)
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
    raise ConfigError(where, 'allowed: "all", a list of organisation ids, or {types = [...]}')


def resolve_contexts(form: str, overrides: Mapping[str, Any], where: str) -> dict[str, float]:
    """Resolve a collaboration's contexts: declared defaults < form preset < overrides."""
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
            raise ConfigError(
                f"{where}.form", f"unknown form {form!r}; allowed: " + ", ".join(FORMS)
            )
        members = _members(c.get("members", "all"), f"{where}.members", ids, types)
        if len(members) < 2:
            raise ConfigError(
                f"{where}.members", f"selects {len(members)} organisation(s); allowed: at least 2"
            )
        start = month(c.get("start", 0), f"{where}.start", months)
        own = {key: v for key, v in c.items() if key in CONTEXT_FIELDS}
        ctx = resolve_contexts(form, own, where)
        if form_override:
            form = form_override
            ctx = resolve_contexts(form, own, where)
        ctx.update(extra)
        out.append(CollaborationSpec(name, form, members, start, ctx))
    return out
