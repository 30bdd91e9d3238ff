"""The outcomes an experiment computes from each run: one number per run.

An :class:`Outcome` is either a reduction of one monthly series of a model metric
(``final``, ``mean``, ``auc``, ``time_to``), or a number read from what has happened
by a month: ``dissolved_share``, and the reductions of the tables of
:mod:`ioc_sim.model.outputs` (``share``, ``median_months``, ``corr``; computed by
:mod:`ioc_sim.model.measures`). :func:`parse_outcome` checks one ``[outcomes]`` entry;
:mod:`~ioc_sim.experiments.reductions` carries them out.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.model.measures import CORR_OF, MEDIAN_OF, SHARE_OF, columns_of, events_of
from ioc_sim.spec.parameters import unknown_name_error
from ioc_sim.spec.schema import check_keys, one_of, whole

__all__ = ["OUTCOME_KEYS", "REDUCTIONS", "TABLE_REDUCTIONS", "Outcome", "parse_outcome"]

REDUCTIONS = (
    "final",
    "mean",
    "auc",
    "time_to",
    "dissolved_share",
    "share",
    "median_months",
    "corr",
)
#: The reductions of the tables of what happened, rather than of a metric's series.
TABLE_REDUCTIONS = ("share", "median_months", "corr")
OUTCOME_KEYS = {
    "final": ("metric", "reduce", "month"),
    "mean": ("metric", "reduce", "from", "to"),
    "auc": ("metric", "reduce", "from", "to"),
    "time_to": ("metric", "reduce", "threshold", "direction", "from", "never"),
    "dissolved_share": ("reduce", "month"),
    "share": ("reduce", "of", "event", "among", "month", "empty"),
    "median_months": ("reduce", "of", "event", "at_start", "month", "never", "empty"),
    "corr": ("reduce", "of", "x", "y", "month", "undefined"),
}


@dataclass(frozen=True)
class Outcome:
    """A number per run: a reduction of one monthly series, or of what has happened.

    Attributes:
        name: Column name in the results.
        reduce: One of :data:`REDUCTIONS`.
        metric: Name of a metric in :data:`ioc_sim.model.metrics.METRICS` (None for
            ``dissolved_share`` and the :data:`TABLE_REDUCTIONS`).
        start: First month of a window (``mean``, ``auc``, ``time_to``).
        end: Last month of a window, or the month at which ``final``,
            ``dissolved_share`` and the :data:`TABLE_REDUCTIONS` are read.
        threshold: Level for ``time_to``.
        direction: "above" or "below", for ``time_to``.
        never: Value of ``time_to`` when the threshold is never reached, and of
            ``median_months`` when fewer than half have ended.
        of: What a table reduction counts: collaborations, organisations, special
            measures (``median_months``) or pairs (``corr``).
        event: The event counted (``share``, ``median_months``).
        among: The event whose units make the denominator of ``share`` (None: all).
        at_start: Which special-measures episodes ``median_months`` takes: under way at
            month 0 (True), entered during the run (False), or all (None).
        x: The first column of ``corr``.
        y: The second.
        otherwise: The value when there is nothing to measure (``share`` and
            ``median_months``: ``empty``; ``corr``: ``undefined``).
    """

    name: str
    reduce: str
    metric: str | None
    start: int = 0
    end: int = 0
    threshold: float | None = None
    direction: str = "above"
    never: float = 0.0
    of: str | None = None
    event: str | None = None
    among: str | None = None
    at_start: bool | None = None
    x: str | None = None
    y: str | None = None
    otherwise: float = 0.0

    def describe(self) -> str:
        """A one-line description for tables and the summary."""
        if self.reduce == "final":
            return f"{self.metric} at month {self.end}"
        if self.reduce == "mean":
            return f"mean of {self.metric} over months {self.start}-{self.end}"
        if self.reduce == "auc":
            return f"area under {self.metric} over months {self.start}-{self.end}"
        if self.reduce == "time_to":
            return (
                f"first month from {self.start} with {self.metric} {self.direction} "
                f"{self.threshold:g} ({self.never:g} if never)"
            )
        if self.reduce == "share":
            among = f" among those with {self.among!r}" if self.among else ""
            return (
                f"share of {self.of}{among} with {self.event!r} by month {self.end} "
                f"({self.otherwise:g} if none)"
            )
        if self.reduce == "median_months":
            if self.of == "special measures":
                which = {True: " (episodes under way at month 0)", False: " (episodes entered)"}
                what = f"months in special measures{which.get(self.at_start, '')}"
            elif self.of == "collaborations" and self.event != "started":
                what = f"months from a collaboration's start to {self.event!r}"
            else:
                what = f"months from month 0 to {self.event!r} ({self.of})"
            return (
                f"median {what} by month {self.end}; open ones count as running "
                f"(Kaplan-Meier); {self.never:g} if fewer than half ended, "
                f"{self.otherwise:g} if none"
            )
        if self.reduce == "corr":
            return (
                f"Spearman rank correlation of {self.x} and {self.y} across {self.of} at "
                f"month {self.end} ({self.otherwise:g} if undefined)"
            )
        return f"share of collaborations dissolved by month {self.end}"


def _number(spec: dict[str, Any], key: str, fld: str, default: float) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{fld}.{key}", f"got {value!r}; allowed: a number")
    return float(value)


def _required(spec: dict[str, Any], key: str, fld: str, choices: Collection[str]) -> str:
    """The ``key`` of ``spec``, one of ``choices``; an error naming it if missing or not."""
    if key not in spec:
        raise ConfigError(
            f"{fld}.{key}", "missing; allowed: one of " + ", ".join(repr(c) for c in choices)
        )
    return one_of(spec[key], f"{fld}.{key}", tuple(choices))


def _table_outcome(name: str, spec: dict[str, Any], reduce: str, end: int, fld: str) -> Outcome:
    """A ``share``, ``median_months`` or ``corr`` entry, its keys already checked."""
    if reduce == "share":
        of = _required(spec, "of", fld, SHARE_OF)
        event = _required(spec, "event", fld, events_of(of))
        among = one_of(spec["among"], f"{fld}.among", events_of(of)) if "among" in spec else None
        empty = _number(spec, "empty", fld, 0.0)
        return Outcome(
            name, reduce, None, start=end, end=end, of=of, event=event, among=among, otherwise=empty
        )
    if reduce == "median_months":
        of = _required(spec, "of", fld, MEDIAN_OF)
        event, at_start = None, None
        if of == "special measures":
            # Episodes are of special measures, so no event; which ones is at_start's to say.
            keys = [k for k in OUTCOME_KEYS[reduce] if k != "event"]
            check_keys(spec, keys, fld, "key for of = 'special measures'")
            at_start = spec.get("at_start")
            if at_start is not None and not isinstance(at_start, bool):
                raise ConfigError(f"{fld}.at_start", f"got {at_start!r}; allowed: true or false")
        else:
            keys = [k for k in OUTCOME_KEYS[reduce] if k != "at_start"]
            check_keys(spec, keys, fld, f"key for of = {of!r}")
            event = _required(spec, "event", fld, events_of(of))
        return Outcome(
            name,
            reduce,
            None,
            start=end,
            end=end,
            of=of,
            event=event,
            at_start=at_start,
            never=_number(spec, "never", fld, end + 1),
            otherwise=_number(spec, "empty", fld, 0.0),
        )
    of = _required(spec, "of", fld, CORR_OF)
    x = _required(spec, "x", fld, columns_of(of))
    y = _required(spec, "y", fld, columns_of(of))
    if x == y:
        raise ConfigError(f"{fld}.y", f"got {y!r}, the same as x; allowed: another column")
    undefined = _number(spec, "undefined", fld, 0.0)
    return Outcome(name, reduce, None, start=end, end=end, of=of, x=x, y=y, otherwise=undefined)


def parse_outcome(
    name: str, spec: Any, months: int, fld: str, metric_names: Collection[str]
) -> Outcome:
    """Validate one ``[outcomes]`` entry.

    Raises:
        ConfigError: Naming ``fld`` and what is allowed.
    """
    if not isinstance(spec, dict):
        raise ConfigError(fld, f"got {spec!r}; allowed: a table {{metric = .., reduce = ..}}")
    reduce = spec.get("reduce")
    if reduce not in REDUCTIONS:
        raise ConfigError(
            f"{fld}.reduce",
            f"got {reduce!r}; allowed: one of " + ", ".join(repr(r) for r in REDUCTIONS),
        )
    check_keys(spec, OUTCOME_KEYS[reduce], fld, f"key for reduce = {reduce!r}")
    metric = None
    if reduce not in ("dissolved_share", *TABLE_REDUCTIONS):
        metric = spec.get("metric")
        if metric is None:
            raise ConfigError(
                f"{fld}.metric",
                "missing; allowed: a metric name (see ioc_sim.model.metrics.METRICS)",
            )
        if metric not in metric_names:
            raise unknown_name_error(str(metric), list(metric_names), "metric").with_prefix(fld)

    def month(key: str, default: int) -> int:
        return whole(
            spec.get(key, default),
            f"{fld}.{key}",
            0,
            months,
            "a whole month",
            " (the experiment's months)",
        )

    if reduce in TABLE_REDUCTIONS:
        return _table_outcome(name, spec, reduce, month("month", months), fld)
    if reduce in ("final", "dissolved_share"):
        end = month("month", months)
        return Outcome(name, reduce, metric, start=end, end=end)
    if reduce in ("mean", "auc"):
        start, end = month("from", 0), month("to", months)
        if start > end or (reduce == "auc" and start == end):
            raise ConfigError(
                f"{fld}.from", f"got from = {start}, to = {end}; allowed: from before to"
            )
        return Outcome(name, reduce, metric, start=start, end=end)
    threshold = spec.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise ConfigError(f"{fld}.threshold", f"got {threshold!r}; allowed: a number")
    direction = spec.get("direction", "above")
    if direction not in ("above", "below"):
        raise ConfigError(f"{fld}.direction", f"got {direction!r}; allowed: 'above' or 'below'")
    never = spec.get("never", months + 1)
    if isinstance(never, bool) or not isinstance(never, int | float) or math.isnan(never):
        raise ConfigError(f"{fld}.never", f"got {never!r}; allowed: a number")
    return Outcome(
        name,
        reduce,
        metric,
        start=month("from", 0),
        end=months,
        threshold=float(threshold),
        direction=direction,
        never=float(never),
    )
