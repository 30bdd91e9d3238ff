"""What a pattern can read from a simulated arm, month by month, by name.

A patterns file names what a statistic reads with ``of``:

* any model metric (``ioc-sim`` metrics, :data:`ioc_sim.model.metrics.METRICS`),
  one value per replicate and month;
* with ``organisations = ["ID", ...]``, one of :data:`ORGANISATION_MEASURES` for those
  organisations taken together (their size-weighted mean over those still in being:
  after a merger, the merged organisation; before it, or without it, the predecessors
  combined);
* one of :data:`READERS`: quantities no metric gives, such as the confidence share of
  live relationships, or every pair's trust.

:func:`reader` turns a name (and organisations) into a function of the simulation
for :func:`ioc_sim.experiments.replicates.simulate`; :func:`check_reader` refuses an
unknown name with the names allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ioc_sim.errors import ConfigError
from ioc_sim.model.metrics import METRICS
from ioc_sim.spec.parameters import unknown_name_error

#: Organisation-level state that can be read for organisations taken together, by the
#: name a patterns file uses and the simulation's own attribute.
ORGANISATION_MEASURES = {
    "quality": "quality",
    "efficiency": "efficiency",
    "access": "access",
    "performance": "performance",
    "emergency_admissions": "admissions",
    "rating": "rating",
    "collaborative_behaviour": "behaviour",
}


def combined(attr: str, ids: Sequence[str]) -> Callable:
    """A reader of ``attr`` for the organisations ``ids`` taken together: their
    size-weighted mean over those still in being, so that after a merger it reads the
    merged organisation and before it (or without it) the predecessors combined."""
    ids = tuple(ids)

    def read(sim) -> np.ndarray:
        group = [sim.pop.ids.index(i) for i in ids]
        w = sim.org["size"][group] * sim.alive[group]
        return getattr(sim, attr)[:, group] @ (w / w.sum())

    return read


def live_confidence_share(sim) -> np.ndarray:
    """Confidence / (trust + confidence) summed over the pairs whose relationship is
    live (its collaboration has not ended), per replicate; NaN where none is."""
    live = sim.edge_collab < sim.C
    t = np.where(live, sim.trust, 0.0).sum(axis=1)
    c = np.where(live, sim.confidence, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(live.any(axis=1), c / (t + c), np.nan)


@dataclass(frozen=True)
class Reader:
    """A named quantity read from the simulation that no model metric gives.

    Attributes:
        name: The name a patterns file uses.
        read: Function of the simulation, one value (or one array) per replicate.
        meaning: What it is, in words.
        per_pair: It reads one value per pair of partners (shape (replicates, pairs)).
    """

    name: str
    read: Callable
    meaning: str
    per_pair: bool = False


READERS: dict[str, Reader] = {
    r.name: r
    for r in (
        Reader(
            "live_confidence_share",
            live_confidence_share,
            "confidence / (trust + confidence), summed over pairs in live relationships; "
            "missing where none is live",
        ),
        Reader("pair_trust", lambda sim: sim.trust, "every pair's trust", per_pair=True),
        Reader(
            "pair_confidence", lambda sim: sim.confidence, "every pair's confidence", per_pair=True
        ),
    )
}


def reader_names() -> list[str]:
    """Every name ``of`` may take without ``organisations``."""
    return [*METRICS, *READERS]


def check_reader(of: object, organisations: Sequence[str] | None, fld: str) -> None:
    """Refuse what cannot be read, naming ``fld`` and what is allowed.

    Raises:
        ConfigError: For an unknown name, or one that cannot be read for organisations.
    """
    if not isinstance(of, str):
        raise ConfigError(fld, f"got {of!r}; allowed: the name of a metric or reader")
    if organisations is not None:
        if of not in ORGANISATION_MEASURES:
            raise ConfigError(
                fld,
                f"got {of!r}; allowed with organisations: one of "
                + ", ".join(ORGANISATION_MEASURES),
            )
        return
    if of not in METRICS and of not in READERS:
        raise unknown_name_error(
            of, reader_names(), "metric or reader (`ioc-sim validate --statistics` lists them)"
        ).with_prefix(fld)


def is_per_pair(of: str) -> bool:
    """Whether ``of`` reads one value per pair rather than per replicate."""
    return of in READERS and READERS[of].per_pair


def reader(of: str, organisations: Sequence[str] | None = None) -> str | Callable:
    """What :func:`~ioc_sim.experiments.replicates.simulate` reads for ``of``: a metric's
    name, or a function of the simulation."""
    if organisations is not None:
        return combined(ORGANISATION_MEASURES[of], organisations)
    if of in READERS:
        return READERS[of].read
    return of
