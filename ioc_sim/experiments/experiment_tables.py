"""Checking the tables of a parsed experiment file and building an :class:`Experiment`.

:func:`parse_experiment` reads the tables in this order, and the first problem
found is the one reported: the file's tables and ``[experiment]``, the design's
method and options, the base scenario and run settings, ``[fixed]``, then
either the compared scenarios (``compare``) or ``[factors]``, then
``[outcomes]`` and ``keep_timeseries``, and last the total number of runs. The
file format itself is described in :mod:`ioc_sim.experiments.spec`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.design import METHODS, SAMPLED, design_size, parse_options, row_label
from ioc_sim.experiments.experiment import Experiment
from ioc_sim.experiments.factors import NOT_FACTORS, Factor, factor_from_param
from ioc_sim.experiments.outcomes import Outcome, parse_outcome
from ioc_sim.experiments.replicates import metric_names
from ioc_sim.experiments.scenarios import Scenario, load_scenario
from ioc_sim.spec.parameters import PARAMETERS, unknown_name_error
from ioc_sim.spec.schema import MAX_SEED, check_keys, whole

EXPERIMENT_KEYS = (
    "name",
    "question",
    "description",
    "scenario",
    "seed",
    "replicates",
    "months",
    "keep_timeseries",
    "parameter_set",
)
TOP_LEVEL = ("experiment", "design", "fixed", "factors", "outcomes")
MAX_RUNS = 50_000_000


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


def _head(data: dict[str, Any]) -> dict[str, Any]:
    """The ``[experiment]`` table, once the file's tables and its own fields are checked."""
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
    return head


def _method(design: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The ``[design]`` table's method and its options, with defaults filled in."""
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
    return method, parse_options(method, design)


def _fixed(data: dict[str, Any]) -> dict[str, Any]:
    """The ``[fixed]`` table: parameter values set on every run, validated."""
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
    return fixed


def _compared(
    data: dict[str, Any], design: dict[str, Any], base: Scenario | None, base_dir: Path | None
) -> tuple[list[Scenario], list[str], list[dict[str, Any]]]:
    """A compare design's scenarios, row labels and per-scenario parameter values.

    Each row refers to its own scenario, so the lists run in row order.
    """
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
    scenarios: list[Scenario] = []
    labels: list[str] = []
    compare_overrides: list[dict[str, Any]] = []
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
                raise unknown_name_error(key, ("name", "scenario", "set"), "key").with_prefix(fld)
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
    return scenarios, labels, compare_overrides


def _factors(
    data: dict[str, Any],
    design: dict[str, Any],
    fixed: dict[str, Any],
    method: str,
    opt: dict[str, Any],
) -> list[Factor]:
    """The factors a sampled or grid design varies: ``[factors]``, include and exclude."""
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
        raise ConfigError("design.exclude", f"got {exclude!r}; allowed: a list of parameter names")
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
    factors = [
        factor_from_param(PARAMETERS[key], spec, f"factors.{key}", method)
        for key, spec in chosen.items()
    ]
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
    return factors


def _outcomes(data: dict[str, Any], months: int, metrics: tuple[str, ...]) -> list[Outcome]:
    """The ``[outcomes]`` table: reductions of the monthly series, none named like a column."""
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
    return outcomes


def _keep_timeseries(
    head: dict[str, Any], outcomes: list[Outcome], metrics: tuple[str, ...]
) -> tuple[str, ...]:
    """The metrics whose monthly series are stored: none, the outcomes' own, or a list."""
    keep = head.get("keep_timeseries", False)
    if keep is True:
        return tuple(dict.fromkeys(o.metric for o in outcomes if o.metric))
    if keep is False:
        return ()
    if isinstance(keep, list):
        for k, m in enumerate(keep):
            if m not in metrics:
                raise unknown_name_error(str(m), list(metrics), "metric").with_prefix(
                    f"experiment.keep_timeseries[{k}]"
                )
        return tuple(dict.fromkeys(keep))
    raise ConfigError(
        "experiment.keep_timeseries",
        f"got {keep!r}; allowed: true, false or a list of metric names",
    )


def _with_parameter_set(scenarios: list[Scenario], ref: Any, base_dir: Path | None):
    """Every scenario of the experiment with a parameter set's values under its own."""
    from ioc_sim.experiments.parameter_sets import load_parameter_set, with_parameter_set

    fld = "experiment.parameter_set"
    if not isinstance(ref, str) or not ref:
        raise ConfigError(fld, f"got {ref!r}; allowed: a parameter set file or bundled name")
    try:
        ps = load_parameter_set(ref, base_dir)
    except ConfigError as err:
        raise ConfigError(fld, str(err)) from None
    return [with_parameter_set(s, ps) for s in scenarios]


def parse_experiment(
    data: dict[str, Any], name: str = "experiment", path: Path | None = None
) -> Experiment:
    """Validate parsed TOML data and return an :class:`Experiment`.

    Raises:
        ConfigError: Naming the field (without the file; see
            :func:`~ioc_sim.experiments.spec.load_experiment`).
    """
    metrics = metric_names()
    head = _head(data)
    base_dir = path.parent if path is not None else None
    design = data.get("design")
    method, opt = _method(design)

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
    root = whole(head.get("seed", base.seed if base else 0), "experiment.seed", 0, MAX_SEED)

    fixed = _fixed(data)
    if method == "compare":
        scenarios, labels, compare_overrides = _compared(data, design, base, base_dir)
        factors: list[Factor] = []
    else:
        scenarios = [base] if base else []
        labels, compare_overrides = [], []
        factors = _factors(data, design, fixed, method, opt)
    if "parameter_set" in head:
        scenarios = _with_parameter_set(scenarios, head["parameter_set"], base_dir)
    outcomes = _outcomes(data, months, metrics)
    keep_names = _keep_timeseries(head, outcomes, metrics)
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
