"""Tables of what happened in a run: special-measures episodes and mergers, the events
of organisations and of collaborations, the pairs' relationships, and the organisations
as they stand.

Each function takes a :class:`~ioc_sim.engine.Simulation` (any number of replicates)
and returns a tidy :class:`pandas.DataFrame` with a ``replicate`` column, read from the
logs the simulation keeps as things happen (``collab_log``, ``org_log``) and from its
state at the current month. Organisations are named by their ids (``organisation``)
and names as they stand now: a merged organisation may have taken a new name.
Integer columns that can be missing (an episode still open, a pair with no shared
collaboration yet) use pandas' nullable ``Int64``; they are empty in a CSV file.

:class:`~ioc_sim.model.CollaborationModel` gives these tables for its replicate
(``episodes()``, ``pairs()``, ``collaboration_events()``, ``organisation_events()``,
``organisations_now()``); ``ioc-sim run`` writes them for every replicate.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from ioc_sim.engine import Simulation
from ioc_sim.engine.stages import (
    ABSORBED,
    COLLAB_EVENTS,
    ENTERED,
    IN_AT_START,
    LEFT,
    LEFT_BY_MERGER,
    MERGED,
    ORG_EVENTS,
)

__all__ = [
    "COLLABORATION_EVENTS",
    "EPISODE_COLUMNS",
    "ORGANISATION_EVENTS",
    "ORGANISATION_MEASURES",
    "PAIR_MEASURES",
    "collaboration_events",
    "episodes",
    "organisation_events",
    "organisations",
    "pairs",
]

#: The events of a collaboration's life, as the ``event`` column names them.
COLLABORATION_EVENTS = tuple(COLLAB_EVENTS.values())
#: The events of an organisation, as the ``event`` column names them.
ORGANISATION_EVENTS = tuple(ORG_EVENTS.values())
#: Columns of :func:`episodes`.
EPISODE_COLUMNS = (
    "replicate",
    "episode",
    "organisation",
    "name",
    "start",
    "end",
    "duration",
    "at_start",
    "outcome",
    "absorbed",
)
#: Numeric columns of :func:`pairs` (one value per pair).
PAIR_MEASURES = (
    "relationship_age",
    "trust",
    "confidence",
    "risk_threshold",
    "conflict",
    "n_shared",
    "n_live",
)
#: Numeric columns of :func:`organisations` (one value per organisation).
ORGANISATION_MEASURES = (
    "emergency_admissions",
    "quality",
    "efficiency",
    "access",
    "performance",
    "collaborative_behaviour",
    "rating",
    "in_special_measures",
    "months_in_special_measures",
    "size",
    "capacity",
    "finances",
)

SPECIAL_MEASURES, MERGER = "special measures", "merger"


def _by_replicate(log: list[tuple]) -> list[tuple]:
    """The log's entries grouped by replicate, in the order they happened (batched
    replicates log month by month, interleaved)."""
    return sorted(log, key=lambda entry: entry[0])


def organisation_events(sim: Simulation) -> pd.DataFrame:
    """Every event of an organisation, in the order it happened.

    Columns: ``replicate``, ``month``, ``organisation`` (id), ``name``, ``event`` (one of
    :data:`ORGANISATION_EVENTS`: in special measures at the start, entered or left
    special measures, left them by merger, merger completed as the continuing
    organisation, absorbed in a merger) and ``other`` (the merger's partner: the
    organisation absorbed, or the one absorbing; missing otherwise).
    """
    ids, names = sim.pop.ids, sim.pop.names
    rows = _by_replicate(sim.org_log)
    return pd.DataFrame(
        {
            "replicate": pd.Series([r[0] for r in rows], dtype="int64"),
            "month": pd.Series([r[1] for r in rows], dtype="int64"),
            "organisation": pd.Series([ids[r[2]] for r in rows], dtype=object),
            "name": pd.Series([names[r[2]] for r in rows], dtype=object),
            "event": pd.Series([ORG_EVENTS[r[3]] for r in rows], dtype=object),
            "other": pd.Series([ids[r[4]] if r[4] >= 0 else None for r in rows], dtype=object),
        }
    )


def _episode_rows(sim: Simulation) -> list[dict]:
    """Special-measures episodes and merger completions from the organisation log, each
    with its organisation's index (``index``) for ordering."""
    rows: list[dict] = []
    opened: dict[tuple[int, int], tuple[int, bool]] = {}
    absorbed: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    completed: dict[tuple[int, int, int], None] = {}
    for rep, month, i, code, other in _by_replicate(sim.org_log):
        if code in (IN_AT_START, ENTERED):
            opened[rep, i] = (month, code == IN_AT_START)
        elif code in (LEFT, LEFT_BY_MERGER):
            start, at_start = opened.pop((rep, i))
            how = "left" if code == LEFT else "merged"
            rows.append(_episode(rep, i, start, month, month - start, at_start, how))
        elif code == ABSORBED:
            absorbed[rep, month, other].append(i)
        elif code == MERGED:
            completed[rep, month, i] = None  # two mergers of one month make one completion
    for (rep, i), (start, at_start) in opened.items():
        rows.append(_episode(rep, i, start, None, sim.month - start, at_start, "still open"))
    ids = sim.pop.ids
    for rep, month, lead in completed:
        row = _episode(rep, lead, month, month, None, False, "completed", MERGER)
        row["absorbed"] = ", ".join(ids[j] for j in absorbed[rep, month, lead])
        rows.append(row)
    rows.sort(key=lambda row: (row["replicate"], row["start"], row["index"], row["episode"]))
    return rows


def _episode(rep, i, start, end, duration, at_start, outcome, kind=SPECIAL_MEASURES) -> dict:
    return {
        "replicate": rep,
        "episode": kind,
        "index": i,
        "start": start,
        "end": end,
        "duration": duration,
        "at_start": at_start,
        "outcome": outcome,
        "absorbed": None,
    }


def episodes(sim: Simulation) -> pd.DataFrame:
    """Each special-measures episode and each merger completion, by replicate and month.

    Columns (:data:`EPISODE_COLUMNS`):

    * ``episode``: "special measures" or "merger";
    * ``organisation``, ``name``: the organisation in special measures, or the
      continuing organisation of a merger;
    * ``start``, ``end``: the months the episode began and ended (``end`` missing while
      it is still open); a merger's completion month for both;
    * ``duration``: months in special measures, up to now for an open episode (missing
      for a merger);
    * ``at_start``: whether the episode was already under way at month 0 (it is then
      counted from month 0);
    * ``outcome``: "left" (the regulator took it out), "merged" (it ended when the
      organisation was absorbed in a merger), "still open", or "completed" (a merger);
    * ``absorbed``: a merger's absorbed organisations (ids, comma-separated).
    """
    rows = _episode_rows(sim)
    ids, names = sim.pop.ids, sim.pop.names

    def column(key: str, dtype: str | type) -> pd.Series:
        return pd.Series([row[key] for row in rows], dtype=dtype)

    return pd.DataFrame(
        {
            "replicate": column("replicate", "int64"),
            "episode": column("episode", object),
            "organisation": pd.Series([ids[row["index"]] for row in rows], dtype=object),
            "name": pd.Series([names[row["index"]] for row in rows], dtype=object),
            "start": column("start", "Int64"),
            "end": column("end", "Int64"),
            "duration": column("duration", "Int64"),
            "at_start": column("at_start", bool),
            "outcome": column("outcome", object),
            "absorbed": column("absorbed", object),
        }
    )


def pairs(sim: Simulation) -> pd.DataFrame:
    """Every ordered pair of partners now: its relationship and the collaborations it
    shares.

    Columns: ``replicate``, ``source``, ``target`` (ids: the source's view of the
    target), ``began`` (the month the relationship began: its first live shared
    collaboration; missing if none yet), ``relationship_age`` (months since then),
    ``trust``, ``confidence``, ``risk_threshold``, ``conflict``, ``n_shared`` (how many
    collaborations the pair shares), ``n_live`` (how many of them are live now:
    forming, active, deepening or dissolving) and ``collaborations`` (their names,
    deepest first, separated by "; "). After a merger the continuing organisation holds
    its predecessors' relationships (the earliest beginning counts); absorbed
    organisations have none.
    """
    st, r, e = sim.st, sim.R, sim.E
    ids = np.array(sim.pop.ids, dtype=object)
    names = [spec.name for spec in st.collabs]
    shared = [st.tie_collab[st.tie_start[k] : st.tie_start[k + 1]] for k in range(e)]
    tie_live = sim.live_collaborations()[:, st.tie_collab]
    n_live = np.stack([np.bincount(st.tie_pair, tie_live[k], minlength=e) for k in range(r)])
    began = sim.first_month.astype(np.int64)
    age = pd.array(np.where(began >= 0, sim.month - began, 0).ravel(), dtype="Int64")
    age[(began < 0).ravel()] = pd.NA
    start = pd.array(began.ravel(), dtype="Int64")
    start[(began < 0).ravel()] = pd.NA
    return pd.DataFrame(
        {
            "replicate": np.repeat(np.arange(r), e),
            "source": np.tile(ids[st.src], r),
            "target": np.tile(ids[st.dst], r),
            "began": start,
            "relationship_age": age,
            "trust": sim.trust.ravel(),
            "confidence": sim.confidence.ravel(),
            "risk_threshold": sim.risk.ravel(),
            "conflict": sim.conflict.ravel(),
            "n_shared": np.tile([len(c) for c in shared], r).astype(np.int64),
            "n_live": np.asarray(n_live, dtype=np.int64).ravel(),
            "collaborations": np.tile(
                np.array(["; ".join(names[c] for c in cs) for cs in shared], dtype=object), r
            ),
        }
    )


def collaboration_events(sim: Simulation) -> pd.DataFrame:
    """Every event of a collaboration's life, in the order it happened.

    Columns: ``replicate``, ``month``, ``collaboration`` (name), ``form`` and ``event``,
    one of :data:`COLLABORATION_EVENTS`: "started" (it began forming, or started active
    without a formation period), "deepened", "dissolution began" (its members lost
    heart: an improper ending), "dissolved" (its ending completed, whatever began it),
    "completed by a merger" (its members became one organisation) and "wind-down began" (a
    policy decision began ending it).
    """
    rows = _by_replicate(sim.collab_log)
    specs = sim.st.collabs
    return pd.DataFrame(
        {
            "replicate": pd.Series([row[0] for row in rows], dtype="int64"),
            "month": pd.Series([row[1] for row in rows], dtype="int64"),
            "collaboration": pd.Series([specs[row[2]].name for row in rows], dtype=object),
            "form": pd.Series([specs[row[2]].form for row in rows], dtype=object),
            "event": pd.Series([COLLAB_EVENTS[row[3]] for row in rows], dtype=object),
        }
    )


def organisations(sim: Simulation) -> pd.DataFrame:
    """Every organisation at the current month, one row per replicate and organisation.

    Columns: ``replicate``, ``month``, ``organisation`` (id), ``name``, ``type``,
    ``in_being`` (False once absorbed by a merger), ``merged_into`` (the organisation
    that absorbed it, or missing), ``in_special_measures``,
    ``months_in_special_measures`` (months spent in special measures since month 0,
    including an open episode), ``emergency_admissions`` (index, 1 at the start),
    ``quality``, ``efficiency``, ``access``, ``performance``, ``collaborative_behaviour``,
    ``rating`` (the regulator's view), and the attributes ``size``, ``capacity`` and
    ``finances`` (a merged organisation's are its predecessors' combined). The measures of
    an absorbed organisation are missing: it no longer exists.
    """
    r, n = sim.R, sim.N
    ids = np.array(sim.pop.ids, dtype=object)
    gone = ~sim.alive

    def measure(values: np.ndarray) -> np.ndarray:
        out = np.array(values, dtype=float)
        out[:, gone] = np.nan
        return out.ravel()

    months_in = np.zeros((r, n), dtype=np.int64)
    for row in _episode_rows(sim):
        if row["episode"] == SPECIAL_MEASURES:
            months_in[row["replicate"], row["index"]] += row["duration"]
    into = [ids[j] if j >= 0 else None for j in sim.merged_into]
    return pd.DataFrame(
        {
            "replicate": np.repeat(np.arange(r), n),
            "month": np.full(r * n, sim.month, dtype=np.int64),
            "organisation": np.tile(ids, r),
            "name": np.tile(np.array(sim.pop.names, dtype=object), r),
            "type": np.tile(np.array(sim.pop.types, dtype=object), r),
            "in_being": np.tile(sim.alive, r),
            "merged_into": np.tile(np.array(into, dtype=object), r),
            "in_special_measures": (sim.distressed & sim.alive).ravel(),
            "months_in_special_measures": months_in.ravel(),
            "emergency_admissions": measure(sim.admissions),
            "quality": measure(sim.quality),
            "efficiency": measure(sim.efficiency),
            "access": measure(sim.access),
            "performance": measure(sim.performance),
            "collaborative_behaviour": measure(sim.behaviour),
            "rating": measure(sim.rating),
            "size": np.tile(sim.org["size"], r),
            "capacity": np.tile(sim.org["capacity"], r),
            "finances": np.tile(sim.org["finances"], r),
        }
    )
