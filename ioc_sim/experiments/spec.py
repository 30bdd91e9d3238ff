"""Experiment files: a design of runs over a base scenario, in TOML.

An experiment file names a base scenario, a design, the factors it varies,
the number of replicates and the outcomes to compute::

    # Question: <what the experiment asks>
    [experiment]   name, question, scenario, seed, replicates, months, keep_timeseries
    [design]       method (compare | grid | latin | morris | sobol | fast) and its options;
                   include = "sensitivity" adds every parameter declared for sensitivity
                   analysis; exclude = [names] leaves some out
    [fixed]        parameter values set on every run (for example n_organisations = 200)
    [factors]      name = {} (the declared bounds or choices), {low, high}, {choices = [...]},
                   or {values = [...]} (grid only)
    [outcomes]     name = {metric, reduce, ...}: reductions of the monthly series

Design options: ``sobol`` takes ``n`` (a power of two) and ``second_order``;
``morris`` takes ``trajectories`` and ``levels``; ``fast`` takes ``n`` and
``m``; ``latin`` takes ``n``; ``grid`` takes ``levels`` for factors without
explicit values; ``compare`` takes ``scenarios``, a list of scenario names or
paths, or tables ``{name, scenario, set = {parameter = value}}``.

Outcome reductions: ``final`` (value at ``month``, default the end),
``mean`` and ``auc`` (over ``from``..``to``, inclusive, default the whole run;
the area uses the trapezoidal rule, in metric units times months),
``time_to`` (first month from ``from`` on when the metric is at or ``above``
(or ``below``) ``threshold``; a run that never gets there counts as ``never``,
default months + 1), and ``dissolved_share`` (share of collaborations
dissolved by ``month``, default the end).

Seeds: every design row uses the same replicate seeds,
``replicate_seeds(root, replicates, row=0)`` (common random numbers), so
differences between rows are not run-to-run noise. Each run has the id
``row * replicates + replicate`` and its seed is stored with its results, so
``CollaborationModel(rng=seed, **row_kwargs)`` replays it alone.

:func:`load_experiment` validates everything and raises
:class:`~ioc_sim.errors.ConfigError` naming the file, the field and what is
allowed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.design import (
    METHODS,
    SAMPLED,
    Design,
    design_size,
    make_design,
    parse_options,
    row_label,
)
from ioc_sim.experiments.factors import (
    NOT_FACTORS,
    Factor,
    Outcome,
    factor_from_param,
    parse_outcome,
)
from ioc_sim.experiments.provenance import replicate_seeds
from ioc_sim.experiments.replicates import metric_names
from ioc_sim.experiments.scenarios import Scenario, load_scenario
from ioc_sim.spec.files import bundled_dir, bundled_files, read_toml, resolve_bundled
from ioc_sim.spec.parameters import PARAMETERS, unknown_name_error
from ioc_sim.spec.schema import check_keys, whole

EXPERIMENT_KEYS = (
    "name",
    "question",
    "description",
    "scenario",
    "seed",
    "replicates",
    "months",
    "keep_timeseries",
)
TOP_LEVEL = ("experiment", "design", "fixed", "factors", "outcomes")
MAX_RUNS = 50_000_000


@dataclass
class Experiment:
    """A loaded, validated experiment.

    Attributes:
        name: Short name (defaults to the file stem).
        question: What the experiment asks.
        path: The file it came from (None if built in code).
        method: One of :data:`METHODS`.
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


def _scenario_ref(ref: Any, fld: str, base_dir: Path | None) -> Scenario:
    if not isinstance(ref, str) or not ref:
        raise ConfigError(fld, f"got {ref!r}; allowed: a scenario file or bundled name")
    p = Path(ref)
    if base_dir is not None and not p.is_absolute() and (base_dir / p).exists():
        p = base_dir / p
    try:
        return load_scenario(p if p.exists() else ref)
    except ConfigError as err:
        # Keep the scenario's own file and field, and say which experiment field led there.
        raise ConfigError(fld, f"{err}") from None


def parse_experiment(
    data: dict[str, Any], name: str = "experiment", path: Path | None = None
) -> Experiment:
    """Validate parsed TOML data and return an :class:`Experiment`.

    Raises:
        ConfigError: Naming the field (without the file; see :func:`load_experiment`).
    """
    metrics = metric_names()
    check_keys(data, TOP_LEVEL, "", "table")
    for key in TOP_LEVEL:
        if key in data and not isinstance(data[key], dict):
            raise ConfigError(key, f"must be a table: [{key}]")
    head = data.get("experiment")
    if head is None:
        raise ConfigError(
            "experiment", "missing; allowed: an [experiment] table naming at least the scenario"
        )
    check_keys(head, EXPERIMENT_KEYS, "experiment", "field")
    for key in ("name", "question", "description"):
        if key in head and not isinstance(head[key], str):
            raise ConfigError(f"experiment.{key}", f"got {head[key]!r}; allowed: text")
    # The name is the default results folder, so it must be a plain folder name.
    if "name" in head and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", head["name"]):
        raise ConfigError(
            "experiment.name",
            f"got {head['name']!r}; allowed: letters, digits, "
            "'_', '.' and '-' (it names the results folder)",
        )
    base_dir = path.parent if path is not None else None
    design = data.get("design")
    if design is None or "method" not in design:
        raise ConfigError(
            "design.method", "missing; allowed: one of " + ", ".join(repr(m) for m in METHODS)
        )
    method = design["method"]
    if method not in METHODS:
        raise ConfigError(
            "design.method",
            f"got {method!r}; allowed: one of " + ", ".join(repr(m) for m in METHODS),
        )
    opt = parse_options(method, design)

    if "scenario" not in head and method != "compare":
        raise ConfigError(
            "experiment.scenario",
            "missing; allowed: a scenario file or the name of a bundled scenario",
        )
    base = (
        _scenario_ref(head["scenario"], "experiment.scenario", base_dir)
        if "scenario" in head
        else None
    )
    months_p = PARAMETERS["months"]
    months = whole(
        head.get("months", base.months if base else months_p.default),
        "experiment.months",
        int(months_p.low),
        int(months_p.high),
    )
    replicates = whole(head.get("replicates", 1), "experiment.replicates", 1, 100000)
    root = whole(head.get("seed", base.seed if base else 0), "experiment.seed", 0, 2**63 - 1)

    fixed: dict[str, Any] = {}
    for key, value in data.get("fixed", {}).items():
        if key not in PARAMETERS or key in NOT_FACTORS:
            if key in NOT_FACTORS:
                raise ConfigError(f"fixed.{key}", "set the run length with experiment.months")
            raise unknown_name_error(key, list(PARAMETERS), "parameter").with_prefix("fixed")
        try:
            fixed[key] = PARAMETERS[key].validate(value)
        except ConfigError as err:
            raise ConfigError(f"fixed.{key}", err.message) from None
    scenarios: list[Scenario] = [base] if base else []
    labels: list[str] = []
    compare_overrides: list[dict[str, Any]] = []
    factors: list[Factor] = []
    if method == "compare":
        if data.get("factors"):
            raise ConfigError(
                "factors",
                "a compare design has no factors; set values per "
                "scenario with design.scenarios = [{name, scenario, set}]",
            )
        entries = design.get("scenarios")
        if not isinstance(entries, list) or len(entries) < 2:
            raise ConfigError(
                "design.scenarios",
                f"got {entries!r}; allowed: a list of two or "
                "more scenario names, files or tables {name, scenario, set}",
            )
        scenarios = []
        for k, entry in enumerate(entries):
            fld = f"design.scenarios[{k}]"
            if isinstance(entry, str):
                entry = {"scenario": entry}
            if not isinstance(entry, dict):
                raise ConfigError(
                    fld,
                    f"got {entry!r}; allowed: a scenario name or file, or a "
                    "table {name, scenario, set}",
                )
            for key in entry:
                if key not in ("name", "scenario", "set"):
                    raise unknown_name_error(key, ("name", "scenario", "set"), "key").with_prefix(
                        fld
                    )
            if "scenario" in entry:
                sc = _scenario_ref(entry["scenario"], f"{fld}.scenario", base_dir)
            elif base is not None:
                sc = base
            else:
                raise ConfigError(
                    f"{fld}.scenario",
                    "missing, and there is no experiment.scenario to fall back on",
                )
            overrides = entry.get("set", {})
            if not isinstance(overrides, dict):
                raise ConfigError(
                    f"{fld}.set", f"got {overrides!r}; allowed: a table of parameter values"
                )
            checked = {}
            for key, value in overrides.items():
                if key not in PARAMETERS or key in NOT_FACTORS:
                    raise unknown_name_error(
                        key, [n for n in PARAMETERS if n not in NOT_FACTORS], "parameter"
                    ).with_prefix(f"{fld}.set")
                try:
                    checked[key] = PARAMETERS[key].validate(value)
                except ConfigError as err:
                    raise ConfigError(f"{fld}.set.{key}", err.message) from None
            label = entry.get("name", sc.name if not checked else row_label(checked))
            if not isinstance(label, str) or not label:
                raise ConfigError(f"{fld}.name", f"got {label!r}; allowed: text")
            if label in labels:
                raise ConfigError(
                    f"{fld}.name",
                    f"{label!r} is used twice; allowed: a distinct name per compared scenario",
                )
            scenarios.append(sc)
            labels.append(label)
            compare_overrides.append(checked)
        # Each row refers to its own scenario.
    else:
        declared = data.get("factors", {})
        chosen: dict[str, Any] = {}
        for key, spec in declared.items():
            if key not in PARAMETERS or key in NOT_FACTORS:
                if key in NOT_FACTORS:
                    raise ConfigError(
                        f"factors.{key}",
                        "cannot be a factor: outcome windows "
                        "are defined on the run length; set experiment.months",
                    )
                raise unknown_name_error(key, list(PARAMETERS), "parameter").with_prefix("factors")
            if key in fixed:
                raise ConfigError(
                    f"fixed.{key}",
                    "is also a factor; allowed: a parameter in [fixed] or in [factors], not both",
                )
            chosen[key] = spec
        include = design.get("include")
        if include is not None and include != "sensitivity":
            raise ConfigError(
                "design.include",
                f"got {include!r}; allowed: 'sensitivity' "
                "(every parameter declared for sensitivity analysis)",
            )
        exclude = design.get("exclude", [])
        if not isinstance(exclude, list):
            raise ConfigError(
                "design.exclude", f"got {exclude!r}; allowed: a list of parameter names"
            )
        for k, name_ in enumerate(exclude):
            if name_ not in PARAMETERS:
                raise unknown_name_error(str(name_), list(PARAMETERS), "parameter").with_prefix(
                    f"design.exclude[{k}]"
                )
        if include == "sensitivity":
            for p in PARAMETERS.values():
                # A value held fixed on purpose is not varied by a blanket include.
                if (
                    p.sensitivity
                    and p.name not in chosen
                    and p.name not in NOT_FACTORS
                    and p.name not in fixed
                ):
                    chosen[p.name] = {}
        for name_ in exclude:
            chosen.pop(name_, None)
        if not chosen:
            raise ConfigError(
                "factors",
                "no factors; allowed: one or more parameter names in "
                "[factors], or design.include = 'sensitivity'",
            )
        for key, spec in chosen.items():
            factors.append(factor_from_param(PARAMETERS[key], spec, f"factors.{key}", method))
        if method in SAMPLED:
            for f in factors:
                if f.kind == "choice" and method == "morris" and len(f.choices) > opt["levels"]:
                    raise ConfigError(
                        f"factors.{f.name}",
                        f"has {len(f.choices)} choices but "
                        f"design.levels is {opt['levels']}; allowed: levels at "
                        "least the number of choices, so every choice is sampled",
                    )
        if method == "sobol" and len(factors) < 2:
            raise ConfigError("factors", "Sobol' analysis needs two or more factors")
    outcomes_raw = data.get("outcomes")
    if not outcomes_raw:
        raise ConfigError(
            "outcomes",
            "missing; allowed: one or more entries such as "
            'final_trust = {metric = "trust", reduce = "final"}',
        )
    outcomes = [
        parse_outcome(k, v, months, f"outcomes.{k}", metrics) for k, v in outcomes_raw.items()
    ]
    reserved = {"run_id", "row", "replicate", "seed", "status", "error", "seconds"}
    for o in outcomes:
        if o.name in reserved:
            raise ConfigError(
                f"outcomes.{o.name}", "is a reserved column name; allowed: any other name"
            )
    keep = head.get("keep_timeseries", False)
    if keep is True:
        keep_names = tuple(dict.fromkeys(o.metric for o in outcomes if o.metric))
    elif keep is False:
        keep_names = ()
    elif isinstance(keep, list):
        for k, m in enumerate(keep):
            if m not in metrics:
                raise unknown_name_error(str(m), list(metrics), "metric").with_prefix(
                    f"experiment.keep_timeseries[{k}]"
                )
        keep_names = tuple(dict.fromkeys(keep))
    else:
        raise ConfigError(
            "experiment.keep_timeseries",
            f"got {keep!r}; allowed: true, false or a list of metric names",
        )
    n_rows = design_size(method, opt, factors, len(labels))
    if n_rows * replicates > MAX_RUNS:
        raise ConfigError(
            "design",
            f"{n_rows} rows x {replicates} replicates = "
            f"{n_rows * replicates} runs; allowed: at most {MAX_RUNS}",
        )
    return Experiment(
        name=head.get("name", name),
        question=head.get("question", ""),
        path=path,
        method=method,
        options=opt,
        scenarios=scenarios,
        factors=factors,
        outcomes=outcomes,
        replicates=replicates,
        root_seed=root,
        months=months,
        fixed=fixed,
        labels=labels,
        compare_overrides=compare_overrides,
        keep_timeseries=keep_names,
        raw=data,
    )


def load_experiment(path: str | Path) -> Experiment:
    """Load and validate an experiment file.

    ``path`` may also be the name of a bundled experiment (``"morris_all"``).

    Raises:
        ConfigError: Naming the file and the field, for a missing file,
            malformed TOML, unknown keys, wrong types or out-of-range values.
    """
    p = resolve_experiment_path(path)
    source = str(path)
    names = ", ".join(s.stem for s in bundled_experiments()) or "none"
    data = read_toml(p, source, f"no such experiment file; bundled experiments: {names}")
    try:
        return parse_experiment(data, name=p.stem, path=p)
    except ConfigError as err:
        raise err.with_source(source) from None


def experiment_dir() -> Path:
    """The folder of bundled experiments (``experiments/`` beside the package)."""
    return bundled_dir("experiments")


def bundled_experiments() -> list[Path]:
    """Paths of the bundled experiment files, sorted by name."""
    return bundled_files(experiment_dir())


def resolve_experiment_path(path: str | Path) -> Path:
    """A path as given, or the bundled experiment of that name."""
    return resolve_bundled(path, experiment_dir())
