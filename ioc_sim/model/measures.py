"""One number per replicate from the tables of :mod:`ioc_sim.model.outputs`.

Each function takes a :class:`~ioc_sim.engine.Simulation` at some month and returns
an array with one value per replicate, computed from what has happened up to that
month, so a batch runner can read it like a metric (experiments use them as the
``share``, ``median_months`` and ``corr`` outcomes):

* :func:`share`: the share of the run's collaborations, or organisations, that have
  had an event (among those that had another, if asked);
* :func:`median_months`: the median duration of special-measures episodes, or the
  median months to a collaboration's or organisation's first event, with episodes
  still open (and units still waiting) counted as lasting at least until now: the
  Kaplan-Meier estimate;
* :func:`rank_correlation`: Spearman's rank correlation of two columns across the
  pairs, or the organisations in being.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from ioc_sim.engine import Simulation
from ioc_sim.engine.stages import COLLAB_EVENTS, ORG_EVENTS, STARTED
from ioc_sim.model import outputs

__all__ = [
    "CORR_OF",
    "MEDIAN_OF",
    "SHARE_OF",
    "columns_of",
    "events_of",
    "kaplan_meier_median",
    "median_months",
    "rank_correlation",
    "share",
]

#: What :func:`share` counts.
SHARE_OF = ("collaborations", "organisations")
#: What :func:`median_months` measures.
MEDIAN_OF = ("special measures", "collaborations", "organisations")
#: What :func:`rank_correlation` correlates across.
CORR_OF = ("pairs", "organisations")

_CODES = {
    "collaborations": {name: code for code, name in COLLAB_EVENTS.items()},
    "organisations": {name: code for code, name in ORG_EVENTS.items()},
}
#: How close to one half the survival curve must be to count as exactly one half.
_HALF_TOLERANCE = 1e-9


def events_of(of: str) -> tuple[str, ...]:
    """The event names of ``"collaborations"`` or ``"organisations"``, as the tables
    name them."""
    return tuple(_CODES[of])


def columns_of(of: str) -> tuple[str, ...]:
    """The numeric columns of the ``"pairs"`` or ``"organisations"`` table."""
    return outputs.PAIR_MEASURES if of == "pairs" else outputs.ORGANISATION_MEASURES


def _log(sim: Simulation, of: str) -> list[tuple]:
    return sim.collab_log if of == "collaborations" else sim.org_log


def _units(sim: Simulation, of: str) -> int:
    return sim.C if of == "collaborations" else sim.N


def _first(sim: Simulation, of: str, code: int) -> np.ndarray:
    """The month of each unit's first event ``code``, (R, units); -1 where none yet."""
    first = np.full((sim.R, _units(sim, of)), -1, dtype=np.int64)
    for entry in _log(sim, of):
        rep, month, unit, kind = entry[:4]
        if kind == code and first[rep, unit] < 0:
            first[rep, unit] = month
    return first


def share(
    sim: Simulation, of: str, event: str, among: str | None = None, empty: float = np.nan
) -> np.ndarray:
    """The share of units that have had ``event`` by now, per replicate.

    Args:
        sim: The simulation, at the month of interest.
        of: "collaborations" (all of the run's, started or not) or "organisations" (all
            those there at the start, including any absorbed since).
        event: An event name of :func:`events_of` (``of``).
        among: Count only the units that have had this event too (the share's
            denominator), for example "in special measures at the start".
        empty: The value when there is no unit to count.

    Returns:
        Shape (R,).
    """
    codes = _CODES[of]
    had = _first(sim, of, codes[event]) >= 0
    pool = _first(sim, of, codes[among]) >= 0 if among else np.ones_like(had)
    counted = pool.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (had & pool).sum(axis=1) / counted
    return np.where(counted > 0, out, empty)


def kaplan_meier_median(durations: np.ndarray, ended: np.ndarray) -> float | None:
    """The median of durations some of which are still running, by Kaplan and Meier.

    The survival curve steps down at each duration that ended, by the share of those
    still running then that end; a duration still running counts as running up to its
    value. The median is the first duration where the curve falls below one half; where
    it stays exactly at one half until the next ending, the midpoint of the two (so
    that with nothing still running it is the ordinary median).

    Args:
        durations: Durations, ended or still running.
        ended: Whether each has ended.

    Returns:
        The median, or None when fewer than half are known to have ended.
    """
    durations = np.asarray(durations, dtype=float)
    ended = np.asarray(ended, dtype=bool)
    times = np.unique(durations[ended])
    survival = 1.0
    for k, t in enumerate(times):
        at_risk = np.count_nonzero(durations >= t)
        survival *= 1.0 - np.count_nonzero(ended & (durations == t)) / at_risk
        if survival < 0.5 - _HALF_TOLERANCE:
            return float(t)
        if survival <= 0.5 + _HALF_TOLERANCE:
            return float((t + times[k + 1]) / 2) if k + 1 < len(times) else float(t)
    return None


def median_months(
    sim: Simulation,
    of: str,
    event: str | None = None,
    at_start: bool | None = None,
    never: float = np.nan,
    empty: float = np.nan,
) -> np.ndarray:
    """The median months of special-measures episodes, or to a first event, per
    replicate (Kaplan-Meier: see :func:`kaplan_meier_median`).

    Args:
        sim: The simulation, at the month of interest.
        of: "special measures" (each episode's months in special measures, to its end,
            or to now while still open; an episode ended by a merger ends there);
            "collaborations" (the months from each started collaboration's start to its
            first ``event``, or from month 0 for ``event = "started"``); or
            "organisations" (the months from month 0 to each organisation's first
            ``event``).
        event: An event of :func:`events_of` (``of``) (not for "special measures").
        at_start: For "special measures": only episodes under way at month 0 (True),
            or only those entered during the run (False); all by default.
        never: The value when fewer than half the episodes have ended (or fewer than
            half the units have had the event) by now.
        empty: The value when there is no episode (or no started collaboration).

    Returns:
        Shape (R,).
    """
    out = np.empty(sim.R)
    if of == "special measures":
        table = outputs.episodes(sim)
        keep = (table["episode"] == "special measures").to_numpy().copy()
        if at_start is not None:
            keep &= (table["at_start"] == at_start).to_numpy()
        rep = table["replicate"].to_numpy()[keep]
        months = table["duration"].to_numpy(float, na_value=np.nan)[keep]
        ended = (table["outcome"] != "still open").to_numpy()[keep]
        for r in range(sim.R):
            mine = rep == r
            median = kaplan_meier_median(months[mine], ended[mine]) if mine.any() else empty
            out[r] = never if median is None else median
        return out
    code = _CODES[of][event]
    first = _first(sim, of, code)
    if of == "collaborations" and code != STARTED:
        origin = _first(sim, of, STARTED)  # months count from each collaboration's start
    else:
        origin = np.zeros_like(first)
    for rep in range(sim.R):
        started = origin[rep] >= 0
        if not started.any():
            out[rep] = empty
            continue
        seen = first[rep][started] >= 0
        months = np.where(seen, first[rep][started], sim.month) - origin[rep][started]
        median = kaplan_meier_median(months, seen)
        out[rep] = never if median is None else median
    return out


def rank_correlation(
    sim: Simulation, of: str, x: str, y: str, undefined: float = np.nan
) -> np.ndarray:
    """Spearman's rank correlation of columns ``x`` and ``y`` across the pairs (or the
    organisations in being), per replicate.

    Ties share their mean rank; rows with a missing value (a pair with no shared
    collaboration yet has no relationship age) are left out.

    Args:
        sim: The simulation, at the month of interest.
        of: "pairs" or "organisations".
        x: A column of :func:`columns_of` (``of``).
        y: Another.
        undefined: The value when the correlation is not defined: fewer than two
            rows, or a column that does not vary.

    Returns:
        Shape (R,).
    """
    if of == "pairs":
        table = outputs.pairs(sim)
    else:
        table = outputs.organisations(sim)
        table = table[table["in_being"]]
    out = np.full(sim.R, float(undefined))
    # Every replicate has the same rows (pairs, or organisations in being), in order.
    a, b = (table[c].astype("Float64").to_numpy(float, na_value=np.nan) for c in (x, y))
    a, b = a.reshape(sim.R, -1), b.reshape(sim.R, -1)
    for r in range(sim.R):
        keep = ~(np.isnan(a[r]) | np.isnan(b[r]))
        ar, br = a[r, keep], b[r, keep]
        if len(ar) < 2 or np.ptp(ar) == 0 or np.ptp(br) == 0:
            continue
        out[r] = float(np.corrcoef(rankdata(ar), rankdata(br))[0, 1])
    return out
