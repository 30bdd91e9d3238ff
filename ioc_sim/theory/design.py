"""What every scoring step shares: the results as the steps read them, and the scorecard.

:func:`read_design` reads an experiment's results once into a :class:`Design`
(design-row means joined to the numeric factors, scaled to their sampled
ranges); each step of :func:`~ioc_sim.theory.scorecard.build_scorecard` reads
that and adds its tables, headline numbers and notes to a :class:`Scorecard`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.experiments.results import ExperimentResults

#: Sobol' first- and total-order indices, and second-order ones when the design has them.
SobolTables = tuple[pd.DataFrame, pd.DataFrame | None]


@dataclass
class Scorecard:
    """The tables and headline numbers of a theory test (also written to disk)."""

    out: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    headline: dict[str, Any] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Design:
    """An experiment's results as the scoring steps read them.

    Attributes:
        res: The results folder, loaded.
        frame: Design-row means of the outcomes joined to the factors' values.
        X: The numeric factors scaled to their sampled ranges (0 to 1), one row per
            row of ``frame``.
        names: The numeric factors, in the columns' order.
        bounds: Each numeric factor's sampled range.
        outcomes: The experiment's outcomes.
        method: The design's sampling method ("sobol", "latin", ...).
        text: The design in words, for the tables.
        seed: The analysis seed (from the experiment's root seed).
    """

    res: ExperimentResults
    frame: pd.DataFrame
    X: np.ndarray
    names: list[str]
    bounds: dict[str, tuple[float, float]]
    outcomes: set[str]
    method: str
    text: str
    seed: int


def read_design(res: ExperimentResults) -> Design:
    """Row means joined to numeric factor values scaled to their sampled ranges."""
    means = res.row_means()
    design = res.design.set_index("row")
    bounds, names = {}, []
    for f in res.manifest["factors"]:
        if f.get("kind") in ("float", "int"):
            names.append(f["name"])
            bounds[f["name"]] = (float(f["low"]), float(f["high"]))
    frame = means.join(design[names], on="row")
    X = (
        np.column_stack(
            [
                (frame[n].astype(float) - lo) / ((hi - lo) or 1.0)
                for n, (lo, hi) in ((n, bounds[n]) for n in names)
            ]
        )
        if names
        else np.empty((len(frame), 0))
    )
    method = res.manifest.get("method", "")
    text = (
        f"{method} design, {len(frame)} rows x {res.manifest.get('replicates')} "
        f"replicates (row means)"
    )
    return Design(
        res,
        frame,
        X,
        names,
        bounds,
        set(res.outcomes),
        method,
        text,
        int(res.manifest.get("root_seed", 0)) % (2**32),
    )
