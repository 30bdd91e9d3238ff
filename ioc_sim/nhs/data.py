"""The bundled NHS England reference tables, read once and shared.

Five CSV files ship in ``ioc_sim/data/nhs`` (Open Government Licence v3.0; see
the README there): trusts, ICBs, 2022 patient flows, trust successions since
2010 and documented group arrangements. The ``*_table`` readers return the one
cached table each (never modify it); the plain-named functions return copies
for callers that may.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pandas as pd

from ioc_sim.spec.files import package_data

#: Open Government Licence attribution that must travel with the data.
ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."


def _read(name: str, **kwargs: Any) -> pd.DataFrame:
    with package_data("nhs", name).open("rb") as fh:
        return pd.read_csv(fh, **kwargs)


@lru_cache(maxsize=1)
def trust_table() -> pd.DataFrame:
    """Every trust, indexed by ODS code (the shared cached table)."""
    df = _read(
        "nhs_trusts_england.csv",
        dtype={"ods_code": str, "icb_code_2025": str, "icb_code_2026": str, "postcode": str},
    )
    # T-coded trusts added from a supplementary list have no snapshot flag; they are open
    # (icbs.csv counts them), so a blank flag means open, never "closed".
    for col in ("open_in_2025_snapshot", "open_in_2026_snapshot"):
        df[col] = df[col].map(lambda v: not (v is False or str(v).lower() == "false"))
    df = df.set_index("ods_code", drop=False)
    df.index.name = None  # the code stays a column too; an unnamed index keeps sorting simple
    return df


@lru_cache(maxsize=1)
def icb_table() -> pd.DataFrame:
    """Every ICB of both maps, indexed by ICB code (the shared cached table)."""
    df = _read("icbs.csv", dtype=str).set_index("icb_code", drop=False)
    df.index.name = None
    return df


@lru_cache(maxsize=1)
def flow_table() -> pd.DataFrame:
    """Acute trust x ICB shares of 2022 admissions (the shared cached table)."""
    return _read("trust_icb_patient_flows_2022.csv", dtype={"ods_code": str, "icb_code": str})


@lru_cache(maxsize=1)
def succession_table() -> pd.DataFrame:
    """Trust closures since 2010 and their successors (the shared cached table)."""
    return _read("trust_successions_since_2010.csv", dtype=str)


@lru_cache(maxsize=1)
def arrangement_table() -> pd.DataFrame:
    """Documented group and shared-chair arrangements (the shared cached table)."""
    return _read("trust_group_arrangements_evidence.csv", dtype=str)


def trusts() -> pd.DataFrame:
    """Every trust in the bundled data, indexed by ODS code (a copy)."""
    return trust_table().copy()


def icbs() -> pd.DataFrame:
    """Every ICB of both maps, indexed by ICB code (a copy)."""
    return icb_table().copy()


def patient_flows() -> pd.DataFrame:
    """Acute trust x ICB shares of 2022 admissions (a copy)."""
    return flow_table().copy()


def successions() -> pd.DataFrame:
    """Trust closures since 2010 and the trusts that took over (a copy)."""
    return succession_table().copy()


def arrangements() -> pd.DataFrame:
    """Documented group and shared-chair arrangements (a copy)."""
    return arrangement_table().copy()


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
