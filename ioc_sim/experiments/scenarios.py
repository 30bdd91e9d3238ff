"""Scenario files: one situation each, in TOML.

A scenario file has these tables (all optional but ``[scenario]``)::

    # Question: <what the scenario asks>
    [scenario]        name, question, months, seed, replicates
    [system]          system contexts, population and structure settings
    [parameters]      mechanism parameters
    [specifications]  named switches between functional forms
    [contexts]        collaboration contexts applied to every collaboration
    [[organisations]] explicit organisations (id, type, attributes)
    [[collaborations]] name, form, members, start, context overrides
    [[events]]        scheduled changes (month, kind, ...)
    [real_system]     a real NHS system: icb = "QOP" or ods = [...] (see ioc_sim.nhs);
                      ``system = "QOP"`` at the top of a file without [system] is short for it

:func:`load_scenario` checks every key and value against the declarations in
:mod:`ioc_sim.spec.parameters` and :mod:`ioc_sim.spec.contexts`, checks the
structure as the model would (:func:`~ioc_sim.experiments.replicates.validate_kwargs`,
without building one), and raises :class:`~ioc_sim.errors.ConfigError`
naming the file and field on any problem.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.replicates import validate_kwargs
from ioc_sim.spec.files import (
    bundled_files,
    bundled_names,
    package_data,
    read_toml,
    resolve_bundled,
)
from ioc_sim.spec.parameters import PARAMETERS, unknown_name_error
from ioc_sim.spec.schema import MAX_SEED, check_keys, whole
from ioc_sim.spec.tables import listed

#: Which parameter groups each table accepts.
TABLE_GROUPS = {
    "system": ("system", "population", "run"),
    "parameters": ("mechanism",),
    "specifications": ("specification",),
    "contexts": ("collaboration",),
}
SCENARIO_KEYS = ("name", "question", "description", "months", "seed", "replicates", "parameter_set")
TOP_LEVEL = ("scenario", *TABLE_GROUPS, "organisations", "collaborations", "events", "real_system")


@dataclass
class Scenario:
    """A loaded, validated scenario.

    Attributes:
        name: Short name (defaults to the file stem).
        question: The one-line question the scenario answers.
        path: The file it came from (None if built in code).
        seed: Root seed of the run.
        replicates: Default number of replicates.
        params: Explicit parameter values (flat), including ``months``.
        organisations: Organisation tables, or None for a synthetic system.
        collaborations: Collaboration tables, or None for one of ``form``.
        events: Scheduled events.
    """

    name: str
    question: str
    path: Path | None = None
    seed: int = 0
    replicates: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    organisations: list[dict[str, Any]] | None = None
    collaborations: list[dict[str, Any]] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    real_system: Any = None  # ioc_sim.nhs.RealSystem when the scenario names a real system

    @property
    def months(self) -> int:
        return int(self.params.get("months", PARAMETERS["months"].default))

    def model_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for :class:`~ioc_sim.model.CollaborationModel` (without rng)."""
        kw: dict[str, Any] = dict(self.params)
        kw.update(overrides)
        # Marked with their lists' lengths, so that mesa.batch_run, which sweeps a list, cannot
        # silently run one collaboration of several (see ioc_sim.spec.tables).
        if self.organisations:
            kw["organisations"] = listed(self.organisations)
        if self.collaborations:
            kw["collaborations"] = listed(self.collaborations)
        if self.events:
            kw["events"] = listed(self.events)
        return kw

    def build(self, seed: int | None = None, **overrides: Any):
        """Build a model of this scenario."""
        from ioc_sim.model.model import CollaborationModel

        return CollaborationModel(
            rng=self.seed if seed is None else seed, **self.model_kwargs(**overrides)
        )


def parse_scenario(
    data: dict[str, Any], name: str = "scenario", path: Path | None = None
) -> Scenario:
    """Validate parsed TOML data and return a :class:`Scenario`.

    Raises:
        ConfigError: Naming the field (without the file; see :func:`load_scenario`).
    """
    data, real_spec = _real_system_spec(data)
    check_keys(data, TOP_LEVEL, "", "table")
    head = data.get("scenario", {})
    if not isinstance(head, dict):
        raise ConfigError("scenario", "must be a table: [scenario]")
    check_keys(head, SCENARIO_KEYS, "scenario", "field")
    for key in ("name", "question", "description"):
        if key in head and not isinstance(head[key], str):
            raise ConfigError(f"scenario.{key}", f"got {head[key]!r}; allowed: text")
    params: dict[str, Any] = {}
    if "months" in head:
        params["months"] = whole(
            head["months"],
            "scenario.months",
            int(PARAMETERS["months"].low),
            int(PARAMETERS["months"].high),
        )
    seed = whole(head.get("seed", 0), "scenario.seed", 0, MAX_SEED)
    replicates = whole(head.get("replicates", 1), "scenario.replicates", 1, 100000)
    for table, groups in TABLE_GROUPS.items():
        values = data.get(table, {})
        if not isinstance(values, dict):
            raise ConfigError(table, f"must be a table: [{table}]")
        allowed = [p.name for p in PARAMETERS.values() if p.group in groups]
        if table == "system":
            allowed.remove("months")  # set in [scenario]
        for key, value in values.items():
            if key not in allowed:
                where = _home_of(key)
                if where:
                    raise ConfigError(f"{table}.{key}", f"belongs in [{where}], not [{table}]")
                raise unknown_name_error(key, allowed, f"key in [{table}]").with_prefix(table)
            try:
                params[key] = PARAMETERS[key].validate(value)
            except ConfigError as err:
                raise ConfigError(f"{table}.{key}", err.message) from None
    lists = {}
    for key in ("organisations", "collaborations", "events"):
        value = data.get(key)
        if value is not None and not isinstance(value, list):
            raise ConfigError(key, f"must be a list of tables: [[{key}]]")
        lists[key] = value
    if "months" not in params:
        params["months"] = PARAMETERS["months"].default
    real = None
    if real_spec is not None:
        from ioc_sim.nhs.scenario import apply_real_system

        if "n_organisations" in params:
            raise ConfigError(
                "system.n_organisations",
                "not used with a real system; add "
                "synthetic partners with real_system.add_primary_care or "
                "add_social_care",
            )
        real, lists["organisations"], lists["collaborations"] = apply_real_system(
            real_spec, lists["organisations"], lists["collaborations"], params
        )
    sc = Scenario(
        name=head.get("name", name),
        question=head.get("question", ""),
        path=path,
        seed=seed,
        replicates=replicates,
        params=params,
        organisations=lists["organisations"],
        collaborations=lists["collaborations"],
        events=lists["events"] or [],
        raw=data,
        real_system=real,
    )
    if "parameter_set" in head:
        sc = _apply_parameter_set(sc, head["parameter_set"], "scenario.parameter_set")
    # One rule for every scheduled month in a file, checked before the model's own (looser)
    # check: from 0 to the scenario's months, whichever side a month falls off.
    _check_timing(sc)
    # Structural mistakes surface now, with the file name, rather than at the first run.
    validate_kwargs(sc.model_kwargs(months=sc.months))
    return sc


def _apply_parameter_set(sc: Scenario, ref: Any, fld: str) -> Scenario:
    """The scenario with a named parameter set's values under its own (which win)."""
    from ioc_sim.experiments.parameter_sets import load_parameter_set, with_parameter_set

    if not isinstance(ref, str) or not ref:
        raise ConfigError(fld, f"got {ref!r}; allowed: a parameter set file or bundled name")
    try:
        ps = load_parameter_set(ref, sc.path.parent if sc.path else None)
    except ConfigError as err:
        raise ConfigError(fld, str(err)) from None
    return with_parameter_set(sc, ps)


def _real_system_spec(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Split off the real system a scenario names, if any.

    ``system = "QOP"`` (an ICB code) or ``system = ["RXW", "R1D"]`` (ODS codes) at the
    top of a file is short for a ``[real_system]`` table with ``icb`` or ``ods``.
    """
    short = data.get("system")
    if not isinstance(short, str | list):
        return data, data.get("real_system")
    if "real_system" in data:
        raise ConfigError(
            "system", "name the real system once: either system = ... or a [real_system] table"
        )
    rest = {k: v for k, v in data.items() if k != "system"}
    rest["real_system"] = {"icb": short} if isinstance(short, str) else {"ods": short}
    return rest, rest["real_system"]


def _check_timing(sc: Scenario) -> None:
    """Scheduled months must fall within the scenario's own run: from 0 to its months.

    A month before 0, one after the end and one that is not a whole number all get
    the same message. The model itself accepts months up to the longest run, so that a
    shortened run of a longer scenario is allowed; a file is held to its own length.
    """
    months = sc.months
    timed = [(f"events[{k}]", ev, ("month", "until")) for k, ev in enumerate(sc.events or [])]
    timed += [
        (f"collaborations[{k}]", c, ("start",)) for k, c in enumerate(sc.collaborations or [])
    ]
    for where, table, keys in timed:
        for key in keys:
            if isinstance(table, dict) and key in table:
                whole(
                    table[key],
                    f"{where}.{key}",
                    0,
                    months,
                    "a whole month",
                    " (the scenario's months)",
                )


def _home_of(key: str) -> str | None:
    if key == "months":
        return "scenario"
    if key in PARAMETERS:
        group = PARAMETERS[key].group
        for table, groups in TABLE_GROUPS.items():
            if group in groups:
                return table
    return None


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file.

    ``path`` may also be the name of a bundled scenario (``"default"``).

    Raises:
        ConfigError: Naming the file and the field, for a missing or empty file,
            text that is not UTF-8, malformed TOML, unknown keys, wrong types or
            out-of-range values.
    """
    p = resolve_scenario_path(path)
    source = str(path)
    data = read_toml(
        p,
        source,
        lambda: "no such scenario file; " + bundled_names(scenario_dir(), "scenarios"),
    )
    if not data:
        # Almost always a mistake (a file saved before it was written, or the wrong file);
        # running the defaults in silence would pass it off as a result.
        raise ConfigError(
            "",
            "the file is empty (no tables or values); allowed: a scenario with at least a "
            "[scenario] table; to run the defaults, name the bundled scenario: default",
            source,
        )
    try:
        return parse_scenario(data, name=p.stem, path=p)
    except ConfigError as err:
        raise err.with_source(source) from None


def scenario_dir() -> Path:
    """The folder of bundled scenarios (in a checkout, the top-level ``scenarios/``)."""
    return package_data("scenarios")


def bundled_scenarios() -> list[Path]:
    """Paths of the bundled scenario files, sorted by name."""
    return bundled_files(scenario_dir(), "scenarios")


def resolve_scenario_path(path: str | Path) -> Path:
    """A path as given, or the bundled scenario of that name."""
    return resolve_bundled(path, scenario_dir())


def scenario_question(path: Path) -> str:
    """The one-line question of a scenario file, without a full validation."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        return str(data.get("scenario", {}).get("question", ""))
    except (OSError, tomllib.TOMLDecodeError):
        return "(unreadable)"
