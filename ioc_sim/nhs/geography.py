"""Where the trusts of a system sit: headquarters positions and shared patients.

The model links each member of a collaboration to its nearest fellow members,
so positions matter. Headquarters latitude and longitude are projected to
kilometres around the system's centre (:func:`project_km`); with the
``shared_patients`` placement, distances are then shortened between trusts
whose 2022 admissions come from the same ICB populations (:func:`place`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ioc_sim.nhs.data import flow_table, succession_table

#: Shared-patient overlap below which a pair is treated as this much overlap, so that a
#: pair with no patients in common is far away but not infinitely so.
OVERLAP_FLOOR = 0.05


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
    f = flow_table()
    parts = [code]
    s = succession_table()
    parts += [old for old in s.loc[s["new_code"] == code, "old_code"] if old in set(f["ods_code"])]
    vectors = [
        f[f["ods_code"] == c].set_index("icb_code")["share_of_trust_admissions_from_icb"]
        for c in parts
    ]
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
