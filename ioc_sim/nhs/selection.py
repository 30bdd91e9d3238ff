"""Finding systems in the bundled data: the two ICB maps, each ICB's trusts, and the
trusts a scenario or a command names.

An ICB code may exist on the 2022-2026 map (data year "2025"), on the April
2026 map ("2026"), or on both; a trust belongs to the ICB it is listed under in
that year's snapshot, if it was open then. Unknown codes get an error that
suggests the nearest known one, or says when and to whom a closed trust passed
its services.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.nhs.data import icb_table, succession_table, trust_table

#: The two ICB maps. Keys are what a scenario may write; values are the data columns' year.
MAPS = {"2022": "2025", "2025": "2025", "2026": "2026"}
MAP_LABELS = {"2025": "2022-2026 map, 42 ICBs", "2026": "April 2026 map, 36 ICBs"}


def icb_maps(code: str) -> tuple[str, ...]:
    """The maps (data years "2025", "2026") on which an ICB code exists."""
    row = icb_table().loc[code]
    out = []
    if row["valid_from"] < "2026-04-01":
        out.append("2025")
    if not isinstance(row["valid_to"], str) or not row["valid_to"]:
        out.append("2026")
    return tuple(out)


def map_year(value: Any, fld: str) -> str:
    """The data year of a map as a user writes it ("2022", "2025" or "2026")."""
    key = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else None
    if key not in MAPS:
        raise ConfigError(
            fld,
            f'got {value!r}; allowed: "2022" (the 2022-2026 map, also '
            'written "2025") or "2026" (the April 2026 map)',
        )
    return MAPS[key]


def resolve_map(code: str, map_: Any = None, fld: str = "real_system.map") -> str:
    """The data year of the map to use for ICB ``code``: the one asked for, else the newest."""
    maps = icb_maps(code)
    if map_ is None:
        return maps[-1]
    year = map_year(map_, fld)
    if year not in maps:
        only = 'the 2022-2026 map ("2022")' if maps == ("2025",) else "the April 2026 map"
        raise ConfigError(fld, f"got {map_!r}, but {code} exists only on {only}")
    return year


def members_of(code: str, year: str) -> pd.DataFrame:
    """Trusts of ICB ``code`` on the map of data year ``year``, open in that snapshot."""
    t = trust_table()
    rows = t[(t[f"icb_code_{year}"] == code) & t[f"open_in_{year}_snapshot"]]
    return rows.sort_values("ods_code")


def list_systems(map_: Any = None) -> pd.DataFrame:
    """One row per ICB: name, region, the maps it is on, trust counts and types.

    Args:
        map_: ``None`` for every ICB, or ``"2022"``/``"2026"`` for the ICBs of one map.

    Returns:
        Columns ``icb``, ``name``, ``region``, ``maps``, ``trusts_2022``,
        ``trusts_2026`` (counted from the trusts table; blank where the ICB is not on
        that map), ``map_used`` and, for that map, the count of each data type.
    """
    year = map_year(map_, "--map") if map_ is not None else None
    rows = []
    for code, icb in icb_table().iterrows():
        maps = icb_maps(code)
        if year and year not in maps:
            continue
        used = year or maps[-1]
        counts = {y: (len(members_of(code, y)) if y in maps else None) for y in ("2025", "2026")}
        types = members_of(code, used)["org_type"].value_counts()
        rows.append(
            {
                "icb": code,
                "name": icb["icb_name"].removeprefix("NHS ").removesuffix(" Integrated Care Board"),
                "region": icb["region_name"],
                "maps": "+".join("2022-26" if y == "2025" else "2026" for y in maps),
                "trusts_2022": counts["2025"] if counts["2025"] is not None else pd.NA,
                "trusts_2026": counts["2026"] if counts["2026"] is not None else pd.NA,
                "map_used": used,
                **{
                    t: int(types.get(t, 0))
                    for t in (
                        "acute",
                        "acute_specialist",
                        "mental_health",
                        "community",
                        "ambulance",
                        "other_online",
                    )
                },
            }
        )
    out = pd.DataFrame(rows)
    return out.astype({"trusts_2022": "Int64", "trusts_2026": "Int64"})


def unknown_code_error(code: str, fld: str) -> ConfigError:
    """The error for an ODS code not open in the data: closed (and to whom), or unknown."""
    s = succession_table()
    closed = s[s["old_code"] == code]
    if len(closed):
        row = closed.iloc[-1]
        after = row["new_code"] if isinstance(row["new_code"], str) else "no recorded successor"
        return ConfigError(
            fld,
            f"{code} closed on {row['effective_date']} (services passed to "
            f"{after}); allowed: a trust open in 2025 or 2026",
        )
    close = difflib.get_close_matches(code, list(trust_table().index), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(
        fld,
        f"unknown ODS code {code!r}{hint}; see `ioc-sim systems show ICB` "
        "for the codes of a system",
    )


def unknown_icb_error(code: Any, fld: str) -> ConfigError:
    """The error for an unknown ICB code, suggesting the nearest known one."""
    codes = list(icb_table().index)
    close = difflib.get_close_matches(str(code), codes, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(
        fld, f"unknown ICB code {code!r}{hint}; `ioc-sim systems` lists the {len(codes)} ICB codes"
    )


def select_trusts(
    icb: str | None,
    ods: Sequence[str] | None,
    map_: Any,
) -> tuple[pd.DataFrame, str, str | None, str | None]:
    """The trusts of an ICB (on the map asked for, else the newest) or of a list of codes.

    Returns:
        The trusts' rows, a label for tables, the ICB code and the data year of its
        map (both None for a list of codes).

    Raises:
        ConfigError: Naming the ``real_system`` field, for unknown or repeated codes.
    """
    t = trust_table()
    if (icb is None) == (ods is None):
        raise ConfigError("real_system", 'give exactly one of icb = "CODE" or ods = [codes]')
    if icb is not None:
        if not isinstance(icb, str) or icb not in icb_table().index:
            raise unknown_icb_error(icb, "real_system.icb")
        year = resolve_map(icb, map_)
        rows = members_of(icb, year)
        row = icb_table().loc[icb]
        label = f"{icb} {row['icb_name']} ({MAP_LABELS[year]})"
        return rows, label, icb, year
    if map_ is not None:
        raise ConfigError(
            "real_system.map",
            'applies only with icb = "CODE"; an ods list names its trusts directly',
        )
    if not isinstance(ods, list) or not ods or any(not isinstance(c, str) for c in ods):
        raise ConfigError(
            "real_system.ods",
            f'got {ods!r}; allowed: a list of ODS codes, for example ["RXW", "R1D"]',
        )
    for k, code in enumerate(ods):
        if code not in t.index:
            raise unknown_code_error(code, f"real_system.ods[{k}]")
        if ods.index(code) != k:
            raise ConfigError(f"real_system.ods[{k}]", f"{code} is listed twice")
    return t.loc[list(ods)], f"{len(ods)} trusts: " + ", ".join(ods), None, None
