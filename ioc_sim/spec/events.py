"""Scheduled events: changes of context at a given month, checked once.

A scenario lists events (``[[events]]``); :func:`normalise_events` checks
them and returns plain dicts sorted by month, with organisation ids replaced
by indices. Problems raise :class:`~ioc_sim.errors.ConfigError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.spec.forms import SYSTEM_FIELDS
from ioc_sim.spec.parameters import CONTEXT_FIELDS, PARAMETERS
from ioc_sim.spec.schema import month, number

#: Event kinds and the fields each accepts (besides ``month`` and ``kind``).
EVENT_FIELDS: dict[str, dict[str, str]] = {
    "set": {
        "target": "'system', a collaboration name or an organisation id",
        "field": "a context field",
        "value": "a number in the field's range",
    },
    "regime_switch": {"competition": "a number from 0 to 1"},
    "shock": {
        "magnitude": "a number from 0 to 1",
        "half_life": "months, from 0.5 to 120",
        "pressure": "a number from 0 to 1",
    },
    "support": {
        "collaboration": "a collaboration name",
        "level": "a number from 0 to 1",
        "until": "a month after the start",
    },
    "leadership_turnover": {
        "organisation": "an organisation id",
        "vulnerability": "a number from 0 to 1",
        "persuasiveness": "a number from 0 to 1",
    },
    "wind_down": {"collaboration": "a collaboration name"},
    "merger": {
        "organisations": "two or more organisation ids, the continuing one first",
        "name": "a new name for the merged organisation",
    },
}
EVENT_REQUIRED: dict[str, tuple[str, ...]] = {
    "set": ("target", "field", "value"),
    "regime_switch": ("competition",),
    "shock": ("magnitude",),
    "support": ("collaboration", "level"),
    "leadership_turnover": ("organisation",),
    "wind_down": ("collaboration",),
    "merger": ("organisations",),
}


def _known_collaboration(ev: Mapping[str, Any], where: str, collab_names: list[str]) -> str:
    """The event's collaboration, which the system must have."""
    name = ev["collaboration"]
    if name not in collab_names:
        raise ConfigError(
            f"{where}.collaboration",
            f"unknown collaboration {name!r}; known: " + ", ".join(collab_names),
        )
    return name


def normalise_events(
    events: Sequence[Mapping[str, Any]] | None,
    ids: list[str],
    collab_names: list[str],
    months: int,
) -> list[dict[str, Any]]:
    """Check scheduled events and return them sorted by month.

    Organisation ids are replaced by indices; everything else keeps its name.
    """
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
            raise ConfigError(
                f"{where}.kind", f"got {kind!r}; allowed: one of " + ", ".join(EVENT_FIELDS)
            )
        allowed = ("month", "kind", *EVENT_FIELDS[kind])
        for key in ev:
            if key not in allowed:
                raise ConfigError(
                    f"{where}.{key}",
                    f"not a field of a {kind!r} event; allowed: " + ", ".join(allowed),
                )
        for key in EVENT_REQUIRED[kind]:
            if key not in ev:
                raise ConfigError(
                    f"{where}.{key}",
                    f"missing; a {kind!r} event needs " + ", ".join(EVENT_REQUIRED[kind]),
                )
        if "month" not in ev:
            raise ConfigError(
                f"{where}.month", f"missing; allowed: a whole month from 0 to {months}"
            )
        e: dict[str, Any] = {"kind": kind, "month": month(ev["month"], f"{where}.month", months)}
        if kind == "set":
            target, fld = ev["target"], ev["field"]
            if target == "system":
                valid = SYSTEM_FIELDS
            elif target in collab_names:
                valid = CONTEXT_FIELDS
            elif target in index:
                valid = (
                    "capacity",
                    "finances",
                    "workforce_stability",
                    "flexibility",
                    "digital_maturity",
                    "intra_conflict",
                    "vulnerability",
                    "persuasiveness",
                    "resolution_style",
                )
                target = index[target]
            else:
                raise ConfigError(
                    f"{where}.target",
                    f"unknown target {target!r}; allowed: "
                    "'system', a collaboration name or an organisation id",
                )
            if fld not in valid:
                raise ConfigError(f"{where}.field", f"got {fld!r}; allowed: " + ", ".join(valid))
            if fld in PARAMETERS:
                try:
                    value = PARAMETERS[fld].validate(ev["value"])
                except ConfigError as err:
                    raise ConfigError(f"{where}.value", err.message) from None
            else:
                low = -1.0 if fld == "resolution_style" else 0.0
                value = number(ev["value"], f"{where}.value", low, 1.0)
            e.update(target=target, field=fld, value=value)
        elif kind == "regime_switch":
            e["competition"] = number(ev["competition"], f"{where}.competition", 0, 1)
        elif kind == "shock":
            e["magnitude"] = number(ev["magnitude"], f"{where}.magnitude", 0, 1)
            e["half_life"] = number(ev.get("half_life", 6.0), f"{where}.half_life", 0.5, 120)
            e["pressure"] = number(ev.get("pressure", 0.3), f"{where}.pressure", 0, 1)
        elif kind == "support":
            e["collaboration"] = _known_collaboration(ev, where, collab_names)
            e["level"] = number(ev["level"], f"{where}.level", 0, 1)
            if "until" in ev:
                e["until"] = month(ev["until"], f"{where}.until", months)
                if e["until"] <= e["month"]:
                    raise ConfigError(
                        f"{where}.until", f"got {e['until']}; allowed: a month after {e['month']}"
                    )
        elif kind == "leadership_turnover":
            org = ev["organisation"]
            if org not in index:
                raise ConfigError(f"{where}.organisation", f"unknown organisation {org!r}")
            e["organisation"] = index[org]
            for key in ("vulnerability", "persuasiveness"):
                if key in ev:
                    e[key] = number(ev[key], f"{where}.{key}", 0, 1)
        elif kind == "wind_down":
            e["collaboration"] = _known_collaboration(ev, where, collab_names)
        elif kind == "merger":
            group = ev["organisations"]
            if (
                not isinstance(group, list)
                or len(group) < 2
                or len(set(map(str, group))) != len(group)
                or any(not isinstance(g, str) or g not in index for g in group)
            ):
                raise ConfigError(
                    f"{where}.organisations",
                    f"got {group!r}; allowed: two or more different known organisation "
                    "ids, the continuing organisation first",
                )
            e["organisations"] = [index[g] for g in group]
            if "name" in ev:
                if not isinstance(ev["name"], str) or not ev["name"].strip():
                    raise ConfigError(f"{where}.name", "allowed: a non-empty text name")
                e["name"] = ev["name"]
        out.append(e)
    return sorted(out, key=lambda e: e["month"])
