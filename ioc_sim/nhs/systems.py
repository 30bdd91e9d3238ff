"""Real NHS systems: bundled NHS England reference data mapped onto model organisations.

The package carries five NHS England reference tables (``ioc_sim/data/nhs``,
Open Government Licence v3.0; see the README there). This module turns the
trusts of one integrated care board (ICB), or any list of ODS codes, into the
plain ``organisations`` and ``collaborations`` tables the model accepts, and
says for every number where it came from:

* **type**: the data's ``org_type`` mapped onto :data:`ioc_sim.context.ORG_TYPES`
  (specialist acute trusts count as acute; the national online trust is
  excluded because it has no headquarters position and no local population);
* **size**: staff (whole-time equivalents, 2018) relative to the median acute
  trust, so an average acute trust is 1 as in the synthetic population;
* **position**: headquarters latitude and longitude projected to kilometres
  around the system's centre, optionally adjusted so that trusts that share
  more patients sit closer (see :func:`place`), because the model links each
  member to its nearest fellow members;
* **baseline performance**: A&E 4-hour, referral-to-treatment 18-week and bed
  occupancy, each mapped linearly from a fixed floor (0.1) to its national
  standard (0.9) and averaged over the indicators a trust reports
  (:data:`INDICATORS`); with none, an explicit, reported imputation;
* **history**: pairs that shared an ICB from 2022, pairs in a documented group
  or shared-chair arrangement, and pairs that divided a predecessor trust's
  services between them carry a pair history, which sets the ``history``
  context of collaborations that do not set their own.

Primary care networks and social care, which the data do not list, can be
added as synthetic organisations (:func:`build_real_system`). Nothing here
runs the model; :mod:`ioc_sim.scenarios` calls :func:`apply_real_system` when a
scenario names a real system. The mappings and their reasons are in
``docs/real_systems.md``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.spec.contexts import normalise_organisations
from ioc_sim.spec.forms import ORG_TYPES, TYPE_NAMES

#: Open Government Licence attribution that must travel with the data.
ATTRIBUTION = ("Contains public sector information licensed under the Open Government "
               "Licence v3.0.")

#: Data ``org_type`` -> model type. Types absent here are excluded (see EXCLUDED_TYPES).
TYPE_MAP = {
    "acute": "acute",
    "acute_specialist": "acute",
    "mental_health": "mental_health",
    "community": "community",
    "ambulance": "ambulance",
}
#: Data types the model cannot represent, and why they are left out.
EXCLUDED_TYPES = {
    "other_online": "a national online trust with no headquarters position or local "
                    "population, so it cannot be placed among local partners",
}

#: The two ICB maps. Keys are what a scenario may write; values are the data columns' year.
MAPS = {"2022": "2025", "2025": "2025", "2026": "2026"}
MAP_LABELS = {"2025": "2022-2026 map, 42 ICBs", "2026": "April 2026 map, 36 ICBs"}

#: Lowest and highest baseline performance an indicator can give (the declared range
#: of ``baseline_performance_mean``), so a trust at the national standard is at the top.
SCALE_LOW, SCALE_HIGH = 0.1, 0.9

#: Synthetic partners are placed this far (km) from the trust they are attached to.
SYNTHETIC_RADIUS_KM = {"primary_care_network": 3.0, "social_care": 5.0}

#: Shared-patient overlap below which a pair is treated as this much overlap, so that a
#: pair with no patients in common is far away but not infinitely so.
OVERLAP_FLOOR = 0.05

#: Pair history defaults (the sign follows the theory; the size is ours).
HISTORY_DEFAULTS = {
    "history_shared_icb": 0.1,
    "history_group": 0.3,
    "history_shared_predecessor": -0.1,
}


@dataclass(frozen=True)
class Indicator:
    """A published performance figure and how it maps onto the model's 0-1 scale.

    Attributes:
        column: Column of ``nhs_trusts_england.csv``.
        label: Short name for tables.
        floor: Value mapped to :data:`SCALE_LOW` (about the worst any trust shows now).
        standard: Value mapped to :data:`SCALE_HIGH` (the national standard).
        data_types: Data ``org_type`` values the indicator is used for (empty: all).
        volume: Optional (column, minimum): the indicator is used only when the
            trust's volume reaches the minimum, because tiny lists swing.
        reason: Why it is used this way, for the documentation and tables.
    """

    column: str
    label: str
    floor: float
    standard: float
    data_types: tuple[str, ...] = ()
    volume: tuple[str, float] | None = None
    reason: str = ""

    def score(self, value: float) -> float:
        """Map a published value linearly from ``floor`` (0.1) to ``standard`` (0.9), clipped."""
        frac = (value - self.floor) / (self.standard - self.floor)
        return float(min(SCALE_HIGH, max(SCALE_LOW, SCALE_LOW + (SCALE_HIGH - SCALE_LOW) * frac)))


INDICATORS = (
    Indicator("ae_4h_pct_all", "A&E 4h", 0.50, 0.95, ("acute", "acute_specialist"),
              reason="share seen within 4 hours, July 2024 to June 2025; standard 95%; used "
                     "for acute trusts only, because other trusts' attendances are at minor "
                     "injury units where nearly everyone is seen within 4 hours"),
    Indicator("rtt_pct_within_18w_apr2026", "RTT 18w", 0.40, 0.92,
              volume=("rtt_incomplete_apr2026", 1000.0),
              reason="share of waiting patients within 18 weeks, April 2026; standard 92%; "
                     "used when the waiting list has at least 1,000 pathways"),
    Indicator("ga_occupancy_sep24_aug25", "occupancy", 1.00, 0.85,
              ("acute", "acute_specialist"),
              reason="general and acute bed occupancy, September 2024 to August 2025; lower "
                     "is better; 85% is the level usually called safe, 100% is full"),
)


# ----------------------------------------------------------------- data access
def _read(name: str, **kwargs: Any) -> pd.DataFrame:
    with resources.files("ioc_sim").joinpath("data", "nhs", name).open("rb") as fh:
        return pd.read_csv(fh, **kwargs)


@lru_cache(maxsize=1)
def _trusts() -> pd.DataFrame:
    df = _read("nhs_trusts_england.csv", dtype={"ods_code": str, "icb_code_2025": str,
                                                "icb_code_2026": str, "postcode": str})
    # T-coded trusts added from a supplementary list have no snapshot flag; they are open
    # (icbs.csv counts them), so a blank flag means open, never "closed".
    for col in ("open_in_2025_snapshot", "open_in_2026_snapshot"):
        df[col] = df[col].map(lambda v: not (v is False or str(v).lower() == "false"))
    df = df.set_index("ods_code", drop=False)
    df.index.name = None  # the code stays a column too; an unnamed index keeps sorting simple
    return df


@lru_cache(maxsize=1)
def _icbs() -> pd.DataFrame:
    df = _read("icbs.csv", dtype=str).set_index("icb_code", drop=False)
    df.index.name = None
    return df


@lru_cache(maxsize=1)
def _flows() -> pd.DataFrame:
    return _read("trust_icb_patient_flows_2022.csv", dtype={"ods_code": str, "icb_code": str})


@lru_cache(maxsize=1)
def _successions() -> pd.DataFrame:
    return _read("trust_successions_since_2010.csv", dtype=str)


@lru_cache(maxsize=1)
def _arrangements() -> pd.DataFrame:
    return _read("trust_group_arrangements_evidence.csv", dtype=str)


def trusts() -> pd.DataFrame:
    """Every trust in the bundled data, indexed by ODS code (a copy)."""
    return _trusts().copy()


def icbs() -> pd.DataFrame:
    """Every ICB of both maps, indexed by ICB code (a copy)."""
    return _icbs().copy()


def patient_flows() -> pd.DataFrame:
    """Acute trust x ICB shares of 2022 admissions (a copy)."""
    return _flows().copy()


def successions() -> pd.DataFrame:
    """Trust closures since 2010 and the trusts that took over (a copy)."""
    return _successions().copy()


def arrangements() -> pd.DataFrame:
    """Documented group and shared-chair arrangements (a copy)."""
    return _arrangements().copy()


def pretty_name(name: str) -> str:
    """Title-case a data name, keeping NHS and small words as they are written."""
    small = {"and", "of", "the", "for", "on", "in"}
    words = []
    for k, w in enumerate(str(name).lower().split()):
        if w == "nhs":
            words.append("NHS")
        elif k > 0 and w in small:
            words.append(w)
        else:
            words.append(w[:1].upper() + w[1:])
    return " ".join(words).replace("'S ", "'s ")


# ------------------------------------------------------------------ ICB maps
def icb_maps(code: str) -> tuple[str, ...]:
    """The maps (data years "2025", "2026") on which an ICB code exists."""
    row = _icbs().loc[code]
    out = []
    if row["valid_from"] < "2026-04-01":
        out.append("2025")
    if not isinstance(row["valid_to"], str) or not row["valid_to"]:
        out.append("2026")
    return tuple(out)


def _map_key(value: Any, fld: str) -> str:
    key = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else None
    if key not in MAPS:
        raise ConfigError(fld, f"got {value!r}; allowed: \"2022\" (the 2022-2026 map, also "
                               "written \"2025\") or \"2026\" (the April 2026 map)")
    return MAPS[key]


def resolve_map(code: str, map_: Any = None, fld: str = "real_system.map") -> str:
    """The data year of the map to use for ICB ``code``: the one asked for, else the newest."""
    maps = icb_maps(code)
    if map_ is None:
        return maps[-1]
    year = _map_key(map_, fld)
    if year not in maps:
        only = "the 2022-2026 map (\"2022\")" if maps == ("2025",) else "the April 2026 map"
        raise ConfigError(fld, f"got {map_!r}, but {code} exists only on {only}")
    return year


def members_of(code: str, year: str) -> pd.DataFrame:
    """Trusts of ICB ``code`` on the map of data year ``year``, open in that snapshot."""
    t = _trusts()
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
    year = _map_key(map_, "--map") if map_ is not None else None
    rows = []
    for code, icb in _icbs().iterrows():
        maps = icb_maps(code)
        if year and year not in maps:
            continue
        used = year or maps[-1]
        counts = {y: (len(members_of(code, y)) if y in maps else None) for y in ("2025", "2026")}
        types = members_of(code, used)["org_type"].value_counts()
        rows.append({
            "icb": code,
            "name": icb["icb_name"].removeprefix("NHS ").removesuffix(" Integrated Care Board"),
            "region": icb["region_name"],
            "maps": "+".join("2022-26" if y == "2025" else "2026" for y in maps),
            "trusts_2022": counts["2025"] if counts["2025"] is not None else pd.NA,
            "trusts_2026": counts["2026"] if counts["2026"] is not None else pd.NA,
            "map_used": used,
            **{t: int(types.get(t, 0)) for t in ("acute", "acute_specialist", "mental_health",
                                                  "community", "ambulance", "other_online")},
        })
    out = pd.DataFrame(rows)
    return out.astype({"trusts_2022": "Int64", "trusts_2026": "Int64"})


def _unknown_code(code: str, fld: str) -> ConfigError:
    s = _successions()
    closed = s[s["old_code"] == code]
    if len(closed):
        row = closed.iloc[-1]
        after = row["new_code"] if isinstance(row["new_code"], str) else "no recorded successor"
        return ConfigError(fld, f"{code} closed on {row['effective_date']} (services passed to "
                                f"{after}); allowed: a trust open in 2025 or 2026")
    close = difflib.get_close_matches(code, list(_trusts().index), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(fld, f"unknown ODS code {code!r}{hint}; see `ioc-sim systems show ICB` "
                            "for the codes of a system")


def _unknown_icb(code: Any, fld: str) -> ConfigError:
    codes = list(_icbs().index)
    close = difflib.get_close_matches(str(code), codes, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(fld, f"unknown ICB code {code!r}{hint}; `ioc-sim systems` lists the "
                            f"{len(codes)} ICB codes")


# --------------------------------------------------------- mapping functions
def baseline_performance(row: Mapping[str, Any]) -> tuple[float | None, dict[str, float]]:
    """Mean of the indicator scores a trust reports, and each score by label.

    Returns ``(None, {})`` when no indicator applies: the caller imputes and says so.
    """
    scores = {}
    for ind in INDICATORS:
        if ind.data_types and row["org_type"] not in ind.data_types:
            continue
        value = row.get(ind.column)
        if value is None or pd.isna(value):
            continue
        if ind.volume is not None:
            vol = row.get(ind.volume[0])
            if vol is None or pd.isna(vol) or float(vol) < ind.volume[1]:
                continue
        scores[ind.label] = ind.score(float(value))
    if not scores:
        return None, {}
    return float(np.mean(list(scores.values()))), scores


def acute_median_fte() -> float:
    """Median 2018 staff FTE of general acute trusts: the unit of organisation size."""
    t = _trusts()
    return float(t.loc[t["org_type"] == "acute", "hchs_fte_jun2018"].median())


def project_km(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Latitude and longitude as (east, north) kilometres from (lat0, lon0).

    An equirectangular projection: within an English region (a few hundred km)
    distances agree with great-circle distances to well under 1%.
    """
    x = (np.asarray(lon) - lon0) * 111.320 * math.cos(math.radians(lat0))
    y = (np.asarray(lat) - lat0) * 110.574
    return np.column_stack([x, y])


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (used to check :func:`project_km`)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def flow_vector(code: str) -> pd.Series | None:
    """A trust's 2022 admission shares by ICB of residence, or None without flow data.

    A trust that took over another trust after the flows were measured gets the
    equal-weight mean of its own and its predecessors' shares: the data give
    shares, not admission counts, so equal weight is the documented assumption.
    """
    f = _flows()
    parts = [code]
    s = _successions()
    parts += [old for old in s.loc[s["new_code"] == code, "old_code"] if old in set(f["ods_code"])]
    vectors = [f[f["ods_code"] == c].set_index("icb_code")["share_of_trust_admissions_from_icb"]
               for c in parts]
    vectors = [v for v in vectors if len(v)]
    if not vectors:
        return None
    return pd.concat(vectors, axis=1).fillna(0.0).mean(axis=1)


def shared_patients(codes: Sequence[str]) -> pd.DataFrame:
    """Catchment overlap of each pair of trusts: the sum over ICBs of the smaller share.

    1 means two trusts draw their admissions from the same ICB populations in
    the same proportions; 0 means no ICB sends patients to both. Trusts without
    flow data (all non-acute trusts) have NaN rows: unknown, never zero.
    """
    vectors = {c: flow_vector(c) for c in codes}
    out = pd.DataFrame(np.nan, index=list(codes), columns=list(codes))
    for a in codes:
        for b in codes:
            va, vb = vectors[a], vectors[b]
            if va is not None and vb is not None:
                both = pd.concat([va, vb], axis=1).fillna(0.0)
                out.loc[a, b] = float(both.min(axis=1).sum())
    return out


def _mds(d: np.ndarray) -> np.ndarray:
    """Classical multidimensional scaling of a distance matrix into two dimensions."""
    n = len(d)
    j = np.eye(n) - 1.0 / n
    b = -0.5 * j @ (d**2) @ j
    vals, vecs = np.linalg.eigh(b)
    order = np.argsort(vals)[::-1][:2]
    xy = vecs[:, order] * np.sqrt(np.maximum(vals[order], 0.0))
    if xy.shape[1] < 2:
        xy = np.column_stack([xy, np.zeros((n, 2 - xy.shape[1]))])
    return xy


def _align(xy: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotate (or reflect) centred ``xy`` onto centred ``target`` (orthogonal Procrustes)."""
    a = xy - xy.mean(axis=0)
    b = target - target.mean(axis=0)
    u, _, vt = np.linalg.svd(a.T @ b)
    return a @ (u @ vt)


def place(geo_km: np.ndarray, overlap: pd.DataFrame | None, placement: str) -> np.ndarray:
    """Positions (km) the model uses to choose each member's nearest partners.

    ``"geography"`` keeps headquarters positions. ``"shared_patients"`` divides
    each headquarters distance by the pair's catchment overlap (floored at
    :data:`OVERLAP_FLOOR`), so pairs that share more patients are nearer, then
    lays the result out in two dimensions by classical scaling, turned to match
    the map. Pairs with an unknown overlap get the median known overlap of the
    system, so only their distance counts.
    """
    n = len(geo_km)
    if placement == "geography" or overlap is None or n < 3:
        return geo_km - geo_km.mean(axis=0)
    ov = overlap.to_numpy(dtype=float)
    off = ~np.eye(n, dtype=bool)
    known = ov[off & ~np.isnan(ov)]
    if known.size == 0:
        return geo_km - geo_km.mean(axis=0)
    ov = np.where(np.isnan(ov), float(np.median(known)), ov)
    dist = np.sqrt(((geo_km[:, None, :] - geo_km[None, :, :]) ** 2).sum(-1))
    d = dist / np.maximum(ov, OVERLAP_FLOOR)
    np.fill_diagonal(d, 0.0)
    d = 0.5 * (d + d.T)
    return _align(_mds(d), geo_km)


def predecessors(code: str) -> list[str]:
    """Trusts whose services passed to ``code`` since 2010 (direct predecessors)."""
    s = _successions()
    return sorted(s.loc[s["new_code"] == code, "old_code"].tolist())


def pair_history(codes: Sequence[str], *, history_shared_icb: float = 0.1,
                 history_group: float = 0.3,
                 history_shared_predecessor: float = -0.1) -> pd.DataFrame:
    """Known relational history of each pair of trusts, with the reasons.

    Args:
        codes: ODS codes of trusts in the bundled data.
        history_shared_icb: For pairs in the same ICB on the 2022-2026 map: years
            inside one statutory system count as a modest shared record.
        history_group: For pairs in a documented group or shared-chair
            arrangement: partners who chose to share leadership have worked together.
        history_shared_predecessor: For pairs that each took over part of one
            predecessor trust: the break-up of a trust between two successors is
            read as an improper ending they both lived through.

    Returns:
        One row per unordered pair with a non-zero history: ``a``, ``b``,
        ``history`` (clipped to [-1, 1]) and ``reasons``.
    """
    t = _trusts()
    codes = list(codes)
    groups = []
    for _, g in _arrangements().iterrows():
        members = [c for c in g["ods_codes"].split(";") if c in codes]
        groups.append((g["arrangement_id"], g["arrangement_type"], members))
    s = _successions()
    split_from: dict[str, set[str]] = {}
    for old, new in zip(s["old_code"], s["new_code"], strict=True):
        if isinstance(new, str):
            split_from.setdefault(old, set()).add(new)
    rows = []
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            value, reasons = 0.0, []
            ia, ib = t.at[a, "icb_code_2025"], t.at[b, "icb_code_2025"]
            if isinstance(ia, str) and ia == ib and history_shared_icb:
                value += history_shared_icb
                reasons.append(f"same ICB since 2022 ({ia})")
            for gid, gtype, members in groups:
                if a in members and b in members and history_group:
                    value += history_group
                    reasons.append(f"{gtype.replace('_', ' ')} ({gid})")
            shared = sorted(old for old, news in split_from.items() if {a, b} <= news)
            if shared and history_shared_predecessor:
                value += history_shared_predecessor
                reasons.append("both took over part of " + ", ".join(shared))
            if reasons:
                rows.append({"a": a, "b": b, "history": float(np.clip(value, -1.0, 1.0)),
                             "reasons": "; ".join(reasons)})
    return pd.DataFrame(rows, columns=["a", "b", "history", "reasons"])


# ------------------------------------------------------------- a real system
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
        pairs: Pair history (see :func:`pair_history`).
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
        lookup = {frozenset((a, b)): h for a, b, h in
                  zip(self.pairs["a"], self.pairs["b"], self.pairs["history"], strict=True)}
        total = sum(lookup.get(frozenset((a, b)), 0.0)
                    for i, a in enumerate(members) for b in members[i + 1:])
        return float(total / (n * (n - 1) / 2))

    def arrangement_collaborations(self) -> list[dict[str, Any]]:
        """Documented arrangements among the members as collaboration tables (from month 0)."""
        out = []
        for arr in self.arrangements:
            if len(arr["members"]) >= 2:
                out.append({"name": f"arrangement_{arr['id']}", "form": arr["form"],
                            "members": list(arr["members"])})
        return out


def _arrangement_form(kind: str) -> str:
    # A group board or shared chief executive is a group model; a chair in common
    # alone leaves sovereign boards, which the typology calls a federation.
    return "group_model" if "group" in kind else "federation"


def _select(icb: str | None, ods: Sequence[str] | None, map_: Any,
            ) -> tuple[pd.DataFrame, str, str | None, str | None]:
    t = _trusts()
    if (icb is None) == (ods is None):
        raise ConfigError("real_system", "give exactly one of icb = \"CODE\" or ods = [codes]")
    if icb is not None:
        if not isinstance(icb, str) or icb not in _icbs().index:
            raise _unknown_icb(icb, "real_system.icb")
        year = resolve_map(icb, map_)
        rows = members_of(icb, year)
        row = _icbs().loc[icb]
        label = f"{icb} {row['icb_name']} ({MAP_LABELS[year]})"
        return rows, label, icb, year
    if map_ is not None:
        raise ConfigError("real_system.map", "applies only with icb = \"CODE\"; an ods list "
                                             "names its trusts directly")
    if (not isinstance(ods, list) or not ods
            or any(not isinstance(c, str) for c in ods)):
        raise ConfigError("real_system.ods", f"got {ods!r}; allowed: a list of ODS codes, "
                                             "for example [\"RXW\", \"R1D\"]")
    for k, code in enumerate(ods):
        if code not in t.index:
            raise _unknown_code(code, f"real_system.ods[{k}]")
        if ods.index(code) != k:
            raise ConfigError(f"real_system.ods[{k}]", f"{code} is listed twice")
    return t.loc[list(ods)], f"{len(ods)} trusts: " + ", ".join(ods), None, None


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
    rows, label, icb_code, year = _select(icb, ods, map_)
    notes: list[str] = []
    for k, code in enumerate(exclude):
        if code not in set(rows.index):
            raise ConfigError(f"real_system.exclude[{k}]",
                              f"{code!r} is not a trust of this system; allowed: "
                              + ", ".join(rows.index))
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
            notes.append("Left out by types = " + ", ".join(types) + ": " + ", ".join(dropped)
                         + ".")
        rows = rows[keep]
    for k, code in enumerate(distressed):
        if code not in set(rows.index):
            raise ConfigError(f"real_system.distressed[{k}]", f"{code!r} is not a trust of this "
                                                              "system")
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
    if placement not in ("shared_patients", "geography"):
        raise ConfigError("real_system.placement", f"got {placement!r}; allowed: "
                                                   "'shared_patients' or 'geography'")
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
            t = _trusts()
            size = float(beds) / float(t.loc[t["org_type"] == "acute",
                                             "ga_beds_avg_sep24_aug25"].median())
            size_basis = "beds / acute median (no staff figure)"
            notes.append(f"{code}: no staff figure; size from beds.")
        else:
            size, size_basis = ORG_TYPES[mtype]["size"], "type default (no staff or beds)"
            notes.append(f"{code}: no staff or bed figure; size is the {mtype} default "
                         f"{size:g}.")
        perf, parts = baseline_performance(row)
        if perf is None:
            perf, basis = float(impute_performance), "imputed (no indicator reported)"
            notes.append(f"{code} ({pretty_name(row['name'])}) reports no performance "
                         f"indicator; baseline performance imputed as {perf:g}.")
        else:
            basis = ", ".join(parts)
        org = {"id": code, "name": pretty_name(row["name"]), "type": mtype,
               "size": round(size, 4), "baseline_performance": round(perf, 4),
               "x": round(float(xy[k, 0]), 3), "y": round(float(xy[k, 1]), 3),
               "distressed": code in set(distressed)}
        orgs.append(org)
        table.append({
            "id": code, "name": org["name"], "type": mtype, "data_type": row["org_type"],
            "staff_fte_2018": None if pd.isna(fte) else int(fte),
            "beds": None if pd.isna(beds) else int(beds),
            "size": org["size"], "size_basis": size_basis,
            **{ind.label: (None if pd.isna(row[ind.column]) else float(row[ind.column]))
               for ind in INDICATORS},
            "baseline_performance": org["baseline_performance"], "performance_basis": basis,
            "lat": None if missing[k] else float(lat[k]),
            "lon": None if missing[k] else float(lon[k]),
            "east_km": round(float(geo[k, 0] - geo[:, 0].mean()), 1),
            "north_km": round(float(geo[k, 1] - geo[:, 1].mean()), 1),
            "x": org["x"], "y": org["y"],
            "predecessors": ", ".join(predecessors(code)),
            "distressed": org["distressed"],
        })

    pairs = pair_history(codes, history_shared_icb=history_shared_icb,
                         history_group=history_group,
                         history_shared_predecessor=history_shared_predecessor)
    arrs = []
    for _, g in _arrangements().iterrows():
        members = [c for c in g["ods_codes"].split(";") if c in set(codes)]
        if len(members) >= 2:
            arrs.append({"id": g["arrangement_id"], "type": g["arrangement_type"],
                         "form": _arrangement_form(g["arrangement_type"]), "members": members,
                         "status": g["status_as_described"]})
    if placement == "shared_patients" and overlap.notna().to_numpy().sum() > len(codes):
        notes.append("Positions: headquarters distances divided by shared-patient overlap "
                      "(trusts without flow data take the system's median overlap).")

    synth = _synthetic(orgs, add_primary_care, add_social_care, notes)
    table += [{"id": o["id"], "name": o["name"], "type": o["type"], "data_type": "synthetic",
               "size_basis": "drawn by the model", "performance_basis": "drawn by the model",
               "x": o["x"], "y": o["y"], "distressed": False} for o in synth]
    orgs += synth
    return RealSystem(label, icb_code, year, orgs, pd.DataFrame(table), pairs, overlap, arrs,
                      notes)


def _synthetic(trusts_: list[dict[str, Any]], n_pcn: int, n_sc: int,
               notes: list[str]) -> list[dict[str, Any]]:
    """Synthetic primary care networks and social care providers near the trusts.

    Each is attached to a host trust (acute trusts if there are any), hosts
    taking a share proportional to their size by largest remainder, and placed
    on a small circle around its host so that it works with its host and its
    neighbours. All other attributes are left to the model's population draw.
    """
    out: list[dict[str, Any]] = []
    hosts = [o for o in trusts_ if o["type"] == "acute"] or list(trusts_)
    sizes = np.array([o["size"] for o in hosts], dtype=float)
    for mtype, n, prefix, word in (("primary_care_network", n_pcn, "PCN",
                                    "primary care network"),
                                   ("social_care", n_sc, "SC", "social care provider")):
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
                out.append({
                    "id": f"{prefix}{number:02d}",
                    "name": f"Synthetic {word} {number} (near {host['id']})",
                    "type": mtype,
                    "x": round(host["x"] + radius * math.cos(angle), 3),
                    "y": round(host["y"] + radius * math.sin(angle), 3),
                    "distressed": False,
                })
        notes.append(f"Added {n} synthetic {word}s (not in the data): attached to "
                     f"{'acute trusts' if hosts[0]['type'] == 'acute' else 'trusts'} in "
                     f"proportion to size, placed {radius:g} km from their host; every other "
                     "attribute is drawn from the [system] population settings.")
    return out


# ------------------------------------------------------- scenario integration
#: Keys of a scenario's [real_system] table.
REAL_SYSTEM_KEYS = ("icb", "ods", "map", "types", "exclude", "add_primary_care",
                    "add_social_care", "distressed", "placement", "arrangements",
                    *HISTORY_DEFAULTS)
ARRANGEMENT_CHOICES = ("history", "collaborations", "ignore")


def _code_list(value: Any, fld: str) -> list[str]:
    if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
        raise ConfigError(fld, f"got {value!r}; allowed: a list of ODS codes")
    return list(value)


def parse_real_system(table: Any) -> dict[str, Any]:
    """Validate a scenario's ``[real_system]`` table; return keyword arguments.

    Raises:
        ConfigError: Naming ``real_system.<key>`` for an unknown key or bad value.
    """
    from ioc_sim.spec.parameters import unknown_name_error

    if not isinstance(table, Mapping):
        raise ConfigError("real_system", "must be a table: [real_system]")
    for key in table:
        if key not in REAL_SYSTEM_KEYS:
            raise unknown_name_error(key, REAL_SYSTEM_KEYS, "key in [real_system]").with_prefix(
                "real_system")
    kw: dict[str, Any] = {"icb": table.get("icb"), "ods": table.get("ods")}
    if kw["ods"] is not None:
        kw["ods"] = _code_list(kw["ods"], "real_system.ods")
    if "map" in table:
        kw["map_"] = table["map"]
    if "types" in table:
        t = table["types"]
        if not isinstance(t, list) or not t or any(x not in TYPE_NAMES for x in t):
            raise ConfigError("real_system.types", f"got {t!r}; allowed: a list of "
                                                   + ", ".join(TYPE_NAMES))
        kw["types"] = list(t)
    for key in ("exclude", "distressed"):
        if key in table:
            kw[key] = _code_list(table[key], f"real_system.{key}")
    for key in ("add_primary_care", "add_social_care"):
        if key in table:
            v = table[key]
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 500:
                raise ConfigError(f"real_system.{key}", f"got {v!r}; allowed: a whole number "
                                                        "from 0 to 500")
            kw[key] = v
    if "placement" in table:
        if table["placement"] not in ("shared_patients", "geography"):
            raise ConfigError("real_system.placement", f"got {table['placement']!r}; allowed: "
                                                       "'shared_patients' or 'geography'")
        kw["placement"] = table["placement"]
    for key in HISTORY_DEFAULTS:
        if key in table:
            v = table[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or not -1 <= v <= 1:
                raise ConfigError(f"real_system.{key}", f"got {v!r}; allowed: a number from "
                                                        "-1 to 1")
            kw[key] = float(v)
    arr = table.get("arrangements", "history")
    if arr not in ARRANGEMENT_CHOICES:
        raise ConfigError("real_system.arrangements", f"got {arr!r}; allowed: one of "
                                                      + ", ".join(repr(a) for a in
                                                                  ARRANGEMENT_CHOICES))
    kw["arrangements"] = arr
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


def _merge_organisations(real: list[dict[str, Any]],
                         given: list[Any] | None) -> list[dict[str, Any]]:
    """Scenario ``[[organisations]]`` entries override a real trust's fields by id, or add
    an organisation. Each entry is checked here so an error names its own index."""
    merged = [dict(o) for o in real]
    where = {o["id"]: k for k, o in enumerate(merged)}
    for k, entry in enumerate(given or []):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            raise ConfigError(f"organisations[{k}].id", "missing; allowed: the ODS code of a "
                                                        "trust to override, or a new id with "
                                                        "its type")
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
    from ioc_sim.spec.parameters import PARAMETERS

    kw = parse_real_system(table)
    arrangements_mode = kw.pop("arrangements")
    if arrangements_mode == "ignore":
        kw["history_group"] = 0.0
    impute = params.get("baseline_performance_mean",
                        PARAMETERS["baseline_performance_mean"].default)
    real = build_real_system(**kw, impute_performance=float(impute))
    orgs = _merge_organisations(real.organisations, organisations)
    if len(orgs) < 2:
        raise ConfigError("real_system", f"{real.label} has {len(orgs)} organisation; a "
                                         "collaboration needs two: add partners with "
                                         "add_primary_care, add_social_care or [[organisations]]")
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
