"""A real system as model organisations: :func:`build_real_system` and :class:`RealSystem`.

The trusts of one ICB, or any list of ODS codes, become the plain
``organisations`` tables the model accepts, each number with the basis it came
from (:mod:`ioc_sim.nhs.mapping`, :mod:`ioc_sim.nhs.geography`). Primary care
networks and social care, which the data do not list, can be added as
synthetic organisations placed near the trusts.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.nhs.data import arrangement_table, icb_table, pretty_name, trust_table
from ioc_sim.nhs.geography import place, project_km, shared_patients
from ioc_sim.nhs.mapping import (
    EXCLUDED_TYPES,
    HISTORY_DEFAULTS,
    INDICATORS,
    TYPE_MAP,
    acute_median_fte,
    baseline_performance,
    pair_history,
    predecessors,
)
from ioc_sim.nhs.selection import select_trusts
from ioc_sim.spec.forms import ORG_TYPES
from ioc_sim.spec.schema import either

#: Synthetic partners are placed this far (km) from the trust they are attached to.
SYNTHETIC_RADIUS_KM = {"primary_care_network": 3.0, "social_care": 5.0}


@dataclass
class RealSystem:
    """A real system mapped onto model organisations.

    Attributes:
        label: Human-readable description ("QOP NHS Greater Manchester ICB, ...").
        icb: The ICB code, or None for a list of ODS codes.
        year: Data year of the ICB map ("2025" for 2022-2026, "2026"), or None.
        organisations: Organisation tables for the model, trusts first, then
            synthetic partners.
        table: One row per organisation with the values used and their basis.
        pairs: Pair history (see :func:`~ioc_sim.nhs.mapping.pair_history`).
        overlap: Shared-patient overlap of the trusts (NaN where unknown).
        arrangements: Documented arrangements among the members.
        notes: Exclusions, imputations and assumptions, one sentence each.
    """

    label: str
    icb: str | None
    year: str | None
    organisations: list[dict[str, Any]]
    table: pd.DataFrame
    pairs: pd.DataFrame
    overlap: pd.DataFrame
    arrangements: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        """The organisations' ids, trusts first."""
        return [o["id"] for o in self.organisations]

    def history_of(self, members: Iterable[str]) -> float:
        """Mean pair history over every pair of ``members``.

        Pairs with no recorded history (including synthetic partners) count as 0, so a
        collaboration's history is diluted by partners nobody has a record with.
        """
        members = list(dict.fromkeys(members))
        n = len(members)
        if n < 2:
            return 0.0
        lookup = {
            frozenset((a, b)): h
            for a, b, h in zip(self.pairs["a"], self.pairs["b"], self.pairs["history"], strict=True)
        }
        total = sum(
            lookup.get(frozenset((a, b)), 0.0)
            for i, a in enumerate(members)
            for b in members[i + 1 :]
        )
        return float(total / (n * (n - 1) / 2))

    def arrangement_collaborations(self) -> list[dict[str, Any]]:
        """Documented arrangements among the members as collaboration tables (from month 0)."""
        out = []
        for arr in self.arrangements:
            if len(arr["members"]) >= 2:
                out.append(
                    {
                        "name": f"arrangement_{arr['id']}",
                        "form": arr["form"],
                        "members": list(arr["members"]),
                    }
                )
        return out


def _arrangement_form(kind: str) -> str:
    # A group board or shared chief executive is a group model; a chair in common
    # alone leaves sovereign boards, which the typology calls a federation.
    return "group_model" if "group" in kind else "federation"


def build_real_system(
    icb: str | None = None,
    ods: Sequence[str] | None = None,
    *,
    map_: Any = None,
    types: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    add_primary_care: int = 0,
    add_social_care: int = 0,
    distressed: Sequence[str] = (),
    placement: str = "shared_patients",
    impute_performance: float = 0.55,
    history_shared_icb: float = HISTORY_DEFAULTS["history_shared_icb"],
    history_group: float = HISTORY_DEFAULTS["history_group"],
    history_shared_predecessor: float = HISTORY_DEFAULTS["history_shared_predecessor"],
) -> RealSystem:
    """Build the organisations of a real system from the bundled data.

    Args:
        icb: An ICB code on either map (see ``ioc-sim systems``).
        ods: Or a list of ODS trust codes.
        map_: "2022" or "2026" to choose the map for an ICB code on both
            (default: the April 2026 map where the ICB exists on it).
        types: Keep only trusts of these model types.
        exclude: ODS codes to leave out.
        add_primary_care: Synthetic primary care networks to add.
        add_social_care: Synthetic social care providers to add.
        distressed: ODS codes to start in special measures (the data hold no
            such status, so every other trust starts outside it).
        placement: "shared_patients" or "geography" (see :func:`place`).
        impute_performance: Baseline performance of trusts that report no
            indicator (by default the declared ``baseline_performance_mean``).
        history_shared_icb: See :func:`pair_history`.
        history_group: See :func:`pair_history`.
        history_shared_predecessor: See :func:`pair_history`.

    Raises:
        ConfigError: Naming the ``real_system`` field, for unknown codes or values.
    """
    rows, label, icb_code, year = select_trusts(icb, ods, map_)
    notes: list[str] = []
    for k, code in enumerate(exclude):
        if code not in set(rows.index):
            raise ConfigError(
                f"real_system.exclude[{k}]",
                f"{code!r} is not a trust of this system; allowed: " + ", ".join(rows.index),
            )
    if exclude:
        rows = rows.drop(index=list(exclude))
        notes.append("Excluded by the scenario: " + ", ".join(exclude) + ".")
    left_out = rows[~rows["org_type"].isin(list(TYPE_MAP))]
    for code, row in left_out.iterrows():
        why = EXCLUDED_TYPES.get(row["org_type"], f"type {row['org_type']!r} has no model type")
        notes.append(f"Excluded {code} ({pretty_name(row['name'])}): {why}.")
    rows = rows[rows["org_type"].isin(list(TYPE_MAP))]
    if types is not None:
        keep = rows["org_type"].map(TYPE_MAP).isin(list(types))
        dropped = list(rows.index[~keep])
        if dropped:
            notes.append(
                "Left out by types = " + ", ".join(types) + ": " + ", ".join(dropped) + "."
            )
        rows = rows[keep]
    for k, code in enumerate(distressed):
        if code not in set(rows.index):
            raise ConfigError(
                f"real_system.distressed[{k}]", f"{code!r} is not a trust of this system"
            )
    if len(rows) == 0:
        raise ConfigError("real_system", f"{label}: no trusts left to model")
    codes = list(rows.index)

    # Positions: headquarters, projected around the system's centre.
    lat, lon = rows["lat"].to_numpy(float), rows["lon"].to_numpy(float)
    missing = np.isnan(lat) | np.isnan(lon)
    if missing.all():
        raise ConfigError("real_system", f"{label}: no trust has a headquarters position")
    lat0, lon0 = float(np.nanmean(lat)), float(np.nanmean(lon))
    for code in np.array(codes)[missing]:
        notes.append(f"{code} has no headquarters position; placed at the system's centre.")
    geo = project_km(np.where(missing, lat0, lat), np.where(missing, lon0, lon), lat0, lon0)
    overlap = shared_patients(codes)
    either(placement, "real_system.placement", "shared_patients", "geography")
    xy = place(geo, overlap, placement)

    unit = acute_median_fte()
    orgs: list[dict[str, Any]] = []
    table = []
    for k, (code, row) in enumerate(rows.iterrows()):
        mtype = TYPE_MAP[row["org_type"]]
        fte, beds = row["hchs_fte_jun2018"], row["ga_beds_avg_sep24_aug25"]
        if not pd.isna(fte):
            size, size_basis = float(fte) / unit, "staff FTE 2018 / acute median"
        elif not pd.isna(beds):
            # Beds relative to the median acute trust's beds, so the unit stays the same.
            t = trust_table()
            size = float(beds) / float(
                t.loc[t["org_type"] == "acute", "ga_beds_avg_sep24_aug25"].median()
            )
            size_basis = "beds / acute median (no staff figure)"
            notes.append(f"{code}: no staff figure; size from beds.")
        else:
            size, size_basis = ORG_TYPES[mtype]["size"], "type default (no staff or beds)"
            notes.append(f"{code}: no staff or bed figure; size is the {mtype} default {size:g}.")
        perf, parts = baseline_performance(row)
        if perf is None:
            perf, basis = float(impute_performance), "imputed (no indicator reported)"
            notes.append(
                f"{code} ({pretty_name(row['name'])}) reports no performance "
                f"indicator; baseline performance imputed as {perf:g}."
            )
        else:
            basis = ", ".join(parts)
        org = {
            "id": code,
            "name": pretty_name(row["name"]),
            "type": mtype,
            "size": round(size, 4),
            "baseline_performance": round(perf, 4),
            "x": round(float(xy[k, 0]), 3),
            "y": round(float(xy[k, 1]), 3),
            "distressed": code in set(distressed),
        }
        orgs.append(org)
        table.append(
            {
                "id": code,
                "name": org["name"],
                "type": mtype,
                "data_type": row["org_type"],
                "staff_fte_2018": None if pd.isna(fte) else int(fte),
                "beds": None if pd.isna(beds) else int(beds),
                "size": org["size"],
                "size_basis": size_basis,
                **{
                    ind.label: (None if pd.isna(row[ind.column]) else float(row[ind.column]))
                    for ind in INDICATORS
                },
                "baseline_performance": org["baseline_performance"],
                "performance_basis": basis,
                "lat": None if missing[k] else float(lat[k]),
                "lon": None if missing[k] else float(lon[k]),
                "east_km": round(float(geo[k, 0] - geo[:, 0].mean()), 1),
                "north_km": round(float(geo[k, 1] - geo[:, 1].mean()), 1),
                "x": org["x"],
                "y": org["y"],
                "predecessors": ", ".join(predecessors(code)),
                "distressed": org["distressed"],
            }
        )

    pairs = pair_history(
        codes,
        history_shared_icb=history_shared_icb,
        history_group=history_group,
        history_shared_predecessor=history_shared_predecessor,
    )
    arrs = []
    for _, g in arrangement_table().iterrows():
        members = [c for c in g["ods_codes"].split(";") if c in set(codes)]
        if len(members) >= 2:
            arrs.append(
                {
                    "id": g["arrangement_id"],
                    "type": g["arrangement_type"],
                    "form": _arrangement_form(g["arrangement_type"]),
                    "members": members,
                    "status": g["status_as_described"],
                }
            )
    if placement == "shared_patients" and overlap.notna().to_numpy().sum() > len(codes):
        notes.append(
            "Positions: headquarters distances divided by shared-patient overlap "
            "(trusts without flow data take the system's median overlap)."
        )

    synth = _synthetic(orgs, add_primary_care, add_social_care, notes)
    table += [
        {
            "id": o["id"],
            "name": o["name"],
            "type": o["type"],
            "data_type": "synthetic",
            "size_basis": "drawn by the model",
            "performance_basis": "drawn by the model",
            "x": o["x"],
            "y": o["y"],
            "distressed": False,
        }
        for o in synth
    ]
    orgs += synth
    return RealSystem(label, icb_code, year, orgs, pd.DataFrame(table), pairs, overlap, arrs, notes)


def _synthetic(
    trusts_: list[dict[str, Any]], n_pcn: int, n_sc: int, notes: list[str]
) -> list[dict[str, Any]]:
    """Synthetic primary care networks and social care providers near the trusts.

    Each is attached to a host trust (acute trusts if there are any), hosts
    taking a share proportional to their size by largest remainder, and placed
    on a small circle around its host so that it works with its host and its
    neighbours. All other attributes are left to the model's population draw.
    """
    out: list[dict[str, Any]] = []
    hosts = [o for o in trusts_ if o["type"] == "acute"] or list(trusts_)
    sizes = np.array([o["size"] for o in hosts], dtype=float)
    for mtype, n, prefix, word in (
        ("primary_care_network", n_pcn, "PCN", "primary care network"),
        ("social_care", n_sc, "SC", "social care provider"),
    ):
        if n <= 0:
            continue
        quota = sizes / sizes.sum() * n
        count = np.floor(quota).astype(int)
        for k in np.argsort(-(quota - count), kind="stable")[: n - count.sum()]:
            count[k] += 1
        radius = SYNTHETIC_RADIUS_KM[mtype]
        number = 0
        for host, c in zip(hosts, count, strict=True):
            for j in range(c):
                number += 1
                # Spread siblings round the host; social care is turned half a step so it
                # does not sit on top of a network.
                turn = (j + (0.5 if mtype == "social_care" else 0.0)) / max(c, 1)
                angle = 2 * math.pi * turn
                out.append(
                    {
                        "id": f"{prefix}{number:02d}",
                        "name": f"Synthetic {word} {number} (near {host['id']})",
                        "type": mtype,
                        "x": round(host["x"] + radius * math.cos(angle), 3),
                        "y": round(host["y"] + radius * math.sin(angle), 3),
                        "distressed": False,
                    }
                )
        notes.append(
            f"Added {n} synthetic {word}s (not in the data): attached to "
            f"{'acute trusts' if hosts[0]['type'] == 'acute' else 'trusts'} in "
            f"proportion to size, placed {radius:g} km from their host; every other "
            "attribute is drawn from the [system] population settings."
        )
    return out


def system_from_code(code: str, map_: Any = None) -> RealSystem:
    """The real system a user names by one code: an ICB code, or ODS codes joined by commas.

    Args:
        code: An ICB code (``QOP``) or ODS trust codes (``RXW,R1D``).
        map_: "2022" or "2026", for an ICB code on both maps.

    Raises:
        ConfigError: Whose field is ``code`` itself, for an unknown code or a map
            given with trust codes; one unknown code is matched against both lists.
    """
    try:
        if code in icb_table().index:
            return build_real_system(icb=code, map_=map_)
        if map_ is not None:
            raise ConfigError("--map", "applies only to an ICB code")
        codes = [c.strip() for c in code.split(",") if c.strip()]
        if len(codes) == 1 and codes[0] not in trust_table().index:
            # One unknown code could be meant as either kind: suggest from both lists.
            known = [*icb_table().index, *trust_table().index]
            close = difflib.get_close_matches(codes[0], known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                "",
                f"not an ICB code or an ODS trust code{hint}; "
                "`ioc-sim systems` lists the ICB codes",
            )
        return build_real_system(ods=codes)
    except ConfigError as err:
        raise ConfigError(code, err.message) from None
