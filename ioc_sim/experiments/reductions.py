"""Outcomes of runs of the model: monthly series reduced to one number per run.

:func:`reduce_runs` is how an experiment runs one design row of the model:
it builds the row's system once, advances its replicates together
(:func:`~ioc_sim.experiments.replicates.simulate`), reads each metric only at
the months an outcome or a kept series needs, and reduces the series in
month order. The outcomes read from what has happened (``dissolved_share``,
``share``, ``median_months``, ``corr``) are read once, at their month, from every
replicate of the batch (:mod:`ioc_sim.model.measures`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np

from ioc_sim.experiments.outcomes import TABLE_REDUCTIONS, Outcome
from ioc_sim.experiments.replicates import Reader, dissolved_share, simulate
from ioc_sim.model import measures

#: The label under which the share of dissolved collaborations is read.
_DISSOLVED = ":dissolved_share"
#: Reductions that take the value at one month.
_AT_ONE_MONTH = ("final", "dissolved_share", *TABLE_REDUCTIONS)


class Reducer:
    """Reduction of one outcome over the months of ``R`` replicates, month by month."""

    def __init__(self, outcome: Outcome, r: int):
        self.o = outcome
        # Sums start at zero; a value taken at one month (or a first hit) starts unset.
        summed = outcome.reduce in ("mean", "auc")
        self.value = np.zeros(r) if summed else np.full(r, np.nan)

    def wants(self, month: int) -> bool:
        """Whether :meth:`observe` uses the value at ``month``."""
        o = self.o
        if o.reduce in _AT_ONE_MONTH:
            return month == o.end
        if o.reduce in ("mean", "auc"):
            return o.start <= month <= o.end
        return month >= o.start

    def observe(self, month: int, x: np.ndarray) -> None:
        """Take the value of every replicate at ``month``."""
        o = self.o
        if o.reduce in _AT_ONE_MONTH:
            if month == o.end:
                self.value = np.asarray(x, dtype=float).copy()
        elif o.reduce == "mean":
            if o.start <= month <= o.end:
                self.value += x
        elif o.reduce == "auc":
            if o.start <= month <= o.end:
                # Trapezoidal rule on a unit grid: the two ends count half.
                self.value += x * (0.5 if month in (o.start, o.end) else 1.0)
        elif month >= o.start:
            hit = (x >= o.threshold) if o.direction == "above" else (x <= o.threshold)
            fresh = np.isnan(self.value) & hit
            self.value[fresh] = month

    def result(self) -> np.ndarray:
        """The outcome of every replicate."""
        o = self.o
        if o.reduce == "mean":
            return self.value / (o.end - o.start + 1)
        if o.reduce == "time_to":
            return np.where(np.isnan(self.value), o.never, self.value)
        return self.value


def _label(o: Outcome) -> str:
    if o.reduce in TABLE_REDUCTIONS:
        return f":{o.name}"  # each its own reader (outcome names are unique)
    return _DISSOLVED if o.reduce == "dissolved_share" else str(o.metric)


def _reader(o: Outcome) -> Reader:
    """How an outcome's value is read from the simulation: a metric's name, or a
    function of the simulation with one value per replicate."""
    if o.reduce == "share":
        return partial(measures.share, of=o.of, event=o.event, among=o.among, empty=o.otherwise)
    if o.reduce == "median_months":
        return partial(
            measures.median_months,
            of=o.of,
            event=o.event,
            at_start=o.at_start,
            never=o.never,
            empty=o.otherwise,
        )
    if o.reduce == "corr":
        return partial(measures.rank_correlation, of=o.of, x=o.x, y=o.y, undefined=o.otherwise)
    return dissolved_share if o.reduce == "dissolved_share" else str(o.metric)


def reduce_runs(
    kwargs: Mapping[str, Any],
    seeds: Sequence[int],
    months: int,
    outcomes: Sequence[Outcome],
    keep: Sequence[str] = (),
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Run replicates of one system and reduce their series to outcomes.

    Args:
        kwargs: Model keywords of the row.
        seeds: One seed per replicate.
        months: Months to run.
        outcomes: The reductions to compute.
        keep: Metrics whose whole monthly series are returned.

    Returns:
        Each outcome's value per replicate, and each kept metric's series,
        shape (replicates, months + 1).

    Raises:
        FloatingPointError: If an outcome is not finite.
    """
    reducers = [Reducer(o, len(seeds)) for o in outcomes]
    readers: dict[str, Reader] = {}
    at: dict[str, set[int]] = {}
    for red in reducers:
        label = _label(red.o)
        readers.setdefault(label, _reader(red.o))
        at.setdefault(label, set()).update(m for m in range(months + 1) if red.wants(m))
    for name in keep:
        readers.setdefault(name, name)
        at[name] = set(range(months + 1))
    read = simulate(kwargs, seeds, months, readers, at=at)
    for red in reducers:
        label = _label(red.o)
        for j, month in enumerate(sorted(at[label])):
            if red.wants(month):
                red.observe(month, read[label][:, j])
    out = {red.o.name: red.result() for red in reducers}
    for name, v in out.items():
        if not np.all(np.isfinite(v)):
            raise FloatingPointError(f"outcome {name} is not finite: {v}")
    return out, {name: read[name] for name in keep}
