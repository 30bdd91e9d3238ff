"""Named parameter sets: values for several parameters at once, with where they came from.

A *parameter set* is a TOML file with a ``[parameter_set]`` table (its name and
provenance: for a calibrated set, the calibration, its patterns files and their
SHA-256, the seed and the commit) and a ``[parameters]`` table of values.
``ioc-sim calibrate`` writes one (its posterior median, ``parameter_set.toml``);
bundled ones live in ``experiments/parameter_sets/``. A scenario names one with
``parameter_set = "NAME or PATH"`` in ``[scenario]``, an experiment in
``[experiment]``: its values apply under the scenario's own, which win.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.spec.files import package_data, read_toml, resolve_bundled
from ioc_sim.spec.parameters import PARAMETERS, unknown_name_error
from ioc_sim.spec.schema import check_keys

#: Provenance fields a parameter set may record.
HEAD_KEYS = (
    "name",
    "statistic",
    "calibration",
    "patterns",
    "patterns_sha256",
    "seed",
    "commit",
    "created",
    "description",
)


@dataclass(frozen=True)
class ParameterSet:
    """A loaded parameter set.

    Attributes:
        name: Its name.
        values: Parameter values, each checked by its declaration.
        provenance: The ``[parameter_set]`` table.
        path: The file it came from.
    """

    name: str
    values: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def record(self) -> dict[str, Any]:
        """What a manifest records of it: file, provenance and values."""
        return {"file": str(self.path), **self.provenance, "values": dict(self.values)}


def parameter_set_dir() -> Path:
    """The folder of bundled parameter sets (``experiments/parameter_sets/``)."""
    return package_data("experiments", "parameter_sets")


def load_parameter_set(ref: str | Path, base_dir: Path | None = None) -> ParameterSet:
    """Load a parameter set by path (relative to ``base_dir`` when found there) or by
    bundled name.

    Raises:
        ConfigError: Naming the file, the field and what is allowed.
    """
    p = Path(ref)
    if base_dir is not None and not p.is_absolute() and (base_dir / p).exists():
        p = base_dir / p
    p = resolve_bundled(p if p.exists() else ref, parameter_set_dir())
    folder = parameter_set_dir()  # none are bundled yet: calibrations write them
    names = ", ".join(sorted(f.stem for f in folder.glob("*.toml"))) or "none"
    data = read_toml(p, str(ref), f"no such parameter set (bundled: {names})")
    try:
        check_keys(data, ("parameter_set", "parameters"), "", "table")
        head, values = data.get("parameter_set", {}), data.get("parameters")
        if not isinstance(head, dict):
            raise ConfigError("parameter_set", "must be a table: [parameter_set]")
        check_keys(head, HEAD_KEYS, "parameter_set", "field")
        if not isinstance(values, dict) or not values:
            raise ConfigError("parameters", "missing; allowed: a [parameters] table of values")
        checked = {}
        for name, value in values.items():
            if name not in PARAMETERS:
                raise unknown_name_error(name, list(PARAMETERS), "parameter").with_prefix(
                    "parameters"
                )
            try:
                checked[name] = PARAMETERS[name].validate(value)
            except ConfigError as err:
                raise ConfigError(f"parameters.{name}", err.message) from None
    except ConfigError as err:
        raise err.with_source(str(ref)) from None
    return ParameterSet(str(head.get("name", p.stem)), checked, dict(head), p)


def with_parameter_set(scenario, ps: ParameterSet):
    """A copy of ``scenario`` with the set's values under its own (which win), the set
    recorded in its contents (so a manifest shows it, and an experiment's fingerprint
    changes with it)."""
    params = {**{k: v for k, v in ps.values.items() if k not in scenario.params}, **scenario.params}
    raw = {**scenario.raw, "parameter_set_applied": ps.record()}
    return replace(scenario, params=params, raw=raw)
