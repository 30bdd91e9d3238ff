"""The Experiment object: a validated experiment, and the runs it stands for.

:class:`Experiment` holds an experiment as loaded from its file (see
:func:`ioc_sim.experiments.spec.load_experiment`) or built in code, and derives
from it everything a runner needs: the design rows, the replicate seeds shared
by every row, run ids, each row's model keywords, the tables stored with the
results, and a fingerprint that stops results of different experiments being
mixed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.design import Design, make_design
from ioc_sim.experiments.factors import Factor
from ioc_sim.experiments.outcomes import Outcome
from ioc_sim.experiments.provenance import replicate_seeds
from ioc_sim.experiments.scenarios import Scenario


@dataclass
class Experiment:
    """A loaded, validated experiment.

    Attributes:
        name: Short name (defaults to the file stem).
        question: What the experiment asks.
        path: The file it came from (None if built in code).
        method: One of :data:`~ioc_sim.experiments.design.METHODS`.
        options: The method's options (with defaults filled in).
        scenarios: The scenarios runs are built from: the base scenario, or
            one per compared scenario.
        fixed: Parameter values set on every run.
        labels: Row labels of a compare design.
        compare_overrides: Parameter values set on each compared scenario.
        factors: The varied inputs (not for compare).
        outcomes: What is computed from each run.
        replicates: Runs per design row.
        root_seed: Root of every run's seed.
        months: Months per run.
        keep_timeseries: Metrics whose monthly series are stored per run.
        raw: The parsed file, as run (stored in the manifest).
        model: The kind of model the runs run: "ioc_sim", or a test function
            such as "ishigami" (see :data:`ioc_sim.experiments.kinds.KINDS`).
    """

    name: str
    question: str
    path: Path | None
    method: str
    options: dict[str, Any]
    scenarios: list[Scenario]
    factors: list[Factor]
    outcomes: list[Outcome]
    replicates: int
    root_seed: int
    months: int
    fixed: dict[str, Any] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    compare_overrides: list[dict[str, Any]] = field(default_factory=list)
    keep_timeseries: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)
    model: str = "ioc_sim"

    # -------------------------------------------------------------- design
    @property
    def factor_names(self) -> list[str]:
        return [f.name for f in self.factors]

    def problem(self) -> dict[str, Any]:
        """The SALib problem: names and sampling bounds of the factors."""
        return {
            "num_vars": len(self.factors),
            "names": self.factor_names,
            "bounds": [f.bounds for f in self.factors],
        }

    @cached_property
    def design(self) -> Design:
        """The design rows (computed once; deterministic given the root seed)."""
        return make_design(
            self.method,
            self.options,
            self.factors,
            self.root_seed,
            self.labels,
            self.compare_overrides,
        )

    @property
    def n_rows(self) -> int:
        return len(self.design.rows)

    @property
    def n_runs(self) -> int:
        return self.n_rows * self.replicates

    @cached_property
    def seeds(self) -> list[int]:
        """Replicate seeds, the same for every row (common random numbers)."""
        return replicate_seeds(self.root_seed, self.replicates, row=0)

    def run_id(self, row: int, replicate: int) -> int:
        """The id of a run: stable for a given design, whatever the completion order."""
        return row * self.replicates + replicate

    def row_kwargs(self, row: int) -> dict[str, Any]:
        """Model keywords of one design row (pass to ``CollaborationModel`` with ``rng``)."""
        r = self.design.rows[row]
        if not self.scenarios:  # a test function: the row's values are its inputs
            return dict(r.overrides)
        sc = self.scenarios[r.scenario]
        return sc.model_kwargs(**{**self.fixed, **r.overrides, "months": self.months})

    def replay(self, run_id: int):
        """Build the model of one run alone, with its stored seed (not yet stepped)."""
        from ioc_sim.model.model import CollaborationModel

        if not self.scenarios:
            raise ConfigError(
                "model",
                f"runs of the {self.model!r} self-test are not models; "
                "only ioc_sim runs can be replayed",
            )
        if not 0 <= run_id < self.n_runs:
            raise ConfigError("run_id", f"got {run_id}; allowed: 0 to {self.n_runs - 1}")
        row, rep = divmod(run_id, self.replicates)
        return CollaborationModel(rng=self.seeds[rep], **self.row_kwargs(row))

    def design_frame(self) -> pd.DataFrame:
        """The design as a table: row, label, scenario, factor values and sampled numbers."""
        d = self.design
        data: dict[str, Any] = {
            "row": np.arange(len(d.rows)),
            "label": [r.label for r in d.rows],
            "scenario": [self.scenarios[r.scenario].name if self.scenarios else "" for r in d.rows],
        }
        names = self.factor_names or sorted({k for r in d.rows for k in r.overrides})
        for name in names:
            col = [r.overrides.get(name) for r in d.rows]
            kinds = {type(v) for v in col}
            data[name] = pd.Series(col, dtype=object if str in kinds or None in col else None)
        if d.X is not None:
            for j, name in enumerate(self.factor_names):
                data[f"x.{name}"] = d.X[:, j]
        return pd.DataFrame(data)

    def runs_frame(self) -> pd.DataFrame:
        """Every run: id, row, replicate and seed."""
        rows = np.repeat(np.arange(self.n_rows), self.replicates)
        reps = np.tile(np.arange(self.replicates), self.n_rows)
        return pd.DataFrame(
            {
                "run_id": rows * self.replicates + reps,
                "row": rows,
                "replicate": reps,
                "seed": np.tile(np.array(self.seeds, dtype=np.uint64), self.n_rows),
            }
        )

    def metrics_needed(self) -> tuple[str, ...]:
        """Metrics the outcome reductions and stored series read, in a stable order."""
        names = [o.metric for o in self.outcomes if o.metric] + list(self.keep_timeseries)
        return tuple(dict.fromkeys(names))

    def fingerprint(self) -> str:
        """A hash of everything that determines the runs, to refuse mixing experiments."""
        payload = {
            "raw": self.raw,
            "scenarios": [s.raw for s in self.scenarios],
            "seed": self.root_seed,
            "replicates": self.replicates,
            "months": self.months,
            "model": self.model,
            "rows": self.n_rows,
        }
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def iter_runs(self) -> Iterator[tuple[int, int, int, int]]:
        """(run_id, row, replicate, seed) of every run, in run-id order."""
        for row in range(self.n_rows):
            for rep, seed in enumerate(self.seeds):
                yield self.run_id(row, rep), row, rep, seed
