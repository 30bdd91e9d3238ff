"""How the published figures become model values: type, performance, size unit, history.

* **type**: the data's ``org_type`` mapped onto the model's organisation types
  (:data:`ioc_sim.spec.forms.ORG_TYPES`); specialist acute trusts count as
  acute; the national online trust is excluded because it has no headquarters
  position and no local population;
* **baseline performance**: A&E 4-hour, referral-to-treatment 18-week and bed
  occupancy, each mapped linearly from a fixed floor (0.1) to its national
  standard (0.9) and averaged over the indicators a trust reports
  (:data:`INDICATORS`);
* **size**: staff relative to the median acute trust (:func:`acute_median_fte`);
* **history**: pairs that shared an ICB from 2022, pairs in a documented group
  or shared-chair arrangement, and pairs that divided a predecessor trust's
  services between them carry a pair history (:func:`pair_history`).

The reasons for each choice are in ``docs/real_systems.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.nhs.data import arrangement_table, succession_table, trust_table

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

#: Lowest and highest baseline performance an indicator can give (the declared range
#: of ``baseline_performance_mean``), so a trust at the national standard is at the top.
SCALE_LOW, SCALE_HIGH = 0.1, 0.9

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
    Indicator(
        "ae_4h_pct_all",
        "A&E 4h",
        0.50,
        0.95,
        ("acute", "acute_specialist"),
        reason="share seen within 4 hours, July 2024 to June 2025; standard 95%; used "
        "for acute trusts only, because other trusts' attendances are at minor "
        "injury units where nearly everyone is seen within 4 hours",
    ),
    Indicator(
        "rtt_pct_within_18w_apr2026",
        "RTT 18w",
        0.40,
        0.92,
        volume=("rtt_incomplete_apr2026", 1000.0),
        reason="share of waiting patients within 18 weeks, April 2026; standard 92%; "
        "used when the waiting list has at least 1,000 pathways",
    ),
    Indicator(
        "ga_occupancy_sep24_aug25",
        "occupancy",
        1.00,
        0.85,
        ("acute", "acute_specialist"),
        reason="general and acute bed occupancy, September 2024 to August 2025; lower "
        "is better; 85% is the level usually called safe, 100% is full",
    ),
)


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
    t = trust_table()
    return float(t.loc[t["org_type"] == "acute", "hchs_fte_jun2018"].median())


def predecessors(code: str) -> list[str]:
    """Trusts whose services passed to ``code`` since 2010 (direct predecessors)."""
    s = succession_table()
    return sorted(s.loc[s["new_code"] == code, "old_code"].tolist())


def pair_history(
    codes: Sequence[str],
    *,
    history_shared_icb: float = 0.1,
    history_group: float = 0.3,
    history_shared_predecessor: float = -0.1,
) -> pd.DataFrame:
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
    t = trust_table()
    codes = list(codes)
    groups = []
    for _, g in arrangement_table().iterrows():
        members = [c for c in g["ods_codes"].split(";") if c in codes]
        groups.append((g["arrangement_id"], g["arrangement_type"], members))
    s = succession_table()
    split_from: dict[str, set[str]] = {}
    for old, new in zip(s["old_code"], s["new_code"], strict=True):
        if isinstance(new, str):
            split_from.setdefault(old, set()).add(new)
    rows = []
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
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
                rows.append(
                    {
                        "a": a,
                        "b": b,
                        "history": float(np.clip(value, -1.0, 1.0)),
                        "reasons": "; ".join(reasons),
                    }
                )
    return pd.DataFrame(rows, columns=["a", "b", "history", "reasons"])
