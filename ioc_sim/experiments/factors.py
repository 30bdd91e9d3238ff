"""The factors an experiment varies.

A :class:`Factor` maps a sampled number to a parameter's value. The outcomes an
experiment computes from each run are in :mod:`~ioc_sim.experiments.outcomes`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ioc_sim.errors import ConfigError
from ioc_sim.spec.parameters import Param
from ioc_sim.spec.schema import check_keys

__all__ = ["NOT_FACTORS", "Factor", "factor_from_param"]

#: Parameters that cannot be factors: outcome windows are defined on the run length.
NOT_FACTORS = ("months",)


@dataclass(frozen=True)
class Factor:
    """One varied input and how a sampled number maps to its value.

    Samplers work on numbers: a float factor is sampled in ``[low, high]``; an
    integer factor in ``[low, high + 1)`` and rounded down, so every integer is
    equally likely; a categorical factor in ``[0, k)`` and rounded down to the
    index of a choice.

    Attributes:
        name: Parameter name.
        kind: "float", "int" or "choice".
        low: Lowest value (numbers).
        high: Highest value (numbers).
        choices: The categories (choice factors).
        values: Explicit levels for a grid design.
    """

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    values: tuple[Any, ...] | None = None

    @property
    def bounds(self) -> list[float]:
        """Bounds of the sampling space, as SALib expects them."""
        if self.kind == "choice":
            return [0.0, float(len(self.choices))]
        if self.kind == "int":
            return [float(self.low), float(self.high) + 1.0]
        return [float(self.low), float(self.high)]

    def to_value(self, x: float) -> Any:
        """Map a sampled number to the parameter's value."""
        if self.kind == "choice":
            return self.choices[min(int(math.floor(x)), len(self.choices) - 1)]
        if self.kind == "int":
            return int(min(max(math.floor(x), self.low), self.high))
        return float(x)

    def grid_values(self, levels: int) -> list[Any]:
        """The grid levels: explicit values, every choice, or evenly spaced numbers."""
        if self.values is not None:
            return list(self.values)
        if self.kind == "choice":
            return list(self.choices)
        points = np.linspace(self.low, self.high, levels)
        if self.kind == "int":
            return sorted({int(round(v)) for v in points})
        return [float(v) for v in points]

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly description for the manifest."""
        d: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == "choice":
            d["choices"] = list(self.choices)
        else:
            d.update(low=self.low, high=self.high)
        if self.values is not None:
            d["values"] = list(self.values)
        d["sample_bounds"] = self.bounds
        return d


def factor_from_param(p: Param, spec: Any, fld: str, method: str) -> Factor:
    """Build a factor from a parameter declaration and its ``[factors]`` entry.

    Raises:
        ConfigError: Naming ``fld`` for anything outside the declaration.
    """
    if not isinstance(spec, dict):
        raise ConfigError(
            fld,
            f"got {spec!r}; allowed: a table such as {{}} (declared "
            "bounds), {low = .., high = ..}, {choices = [..]} or {values = [..]}",
        )
    allowed = ("values",) if method == "grid" else ()
    allowed += ("choices",) if p.kind == "choice" else ("low", "high")
    check_keys(spec, allowed, fld, f"key for a {p.kind} factor")
    values = None
    if "values" in spec:
        vals = spec["values"]
        if not isinstance(vals, list) or not vals:
            raise ConfigError(
                f"{fld}.values",
                f"got {vals!r}; allowed: a non-empty list of values, each {p.allowed()}",
            )
        if len(spec) > 1:
            raise ConfigError(fld, "give either values or a range, not both")
        checked = []
        for k, v in enumerate(vals):
            try:
                checked.append(p.validate(v))
            except ConfigError as err:
                raise ConfigError(f"{fld}.values[{k}]", err.message) from None
        if len(set(checked)) != len(checked):
            raise ConfigError(f"{fld}.values", "values repeat; allowed: distinct values")
        values = tuple(checked)
    if p.kind == "choice":
        choices = spec.get("choices", list(p.choices))
        if not isinstance(choices, list) or len(choices) < 2:
            raise ConfigError(
                f"{fld}.choices",
                f"got {choices!r}; allowed: a list of two or "
                f"more of {p.allowed()[len('one of ') :]}",
            )
        for k, c in enumerate(choices):
            try:
                p.validate(c)
            except ConfigError as err:
                raise ConfigError(f"{fld}.choices[{k}]", err.message) from None
        if len(set(choices)) != len(choices):
            raise ConfigError(f"{fld}.choices", "choices repeat; allowed: distinct choices")
        return Factor(p.name, "choice", choices=tuple(choices), values=values)
    low = spec.get("low", p.low)
    high = spec.get("high", p.high)
    for key, v in (("low", low), ("high", high)):
        try:
            p.validate(v)
        except ConfigError:
            raise ConfigError(
                f"{fld}.{key}", f"got {v!r}; allowed: {p.allowed()} (the declared bounds)"
            ) from None
    if p.kind == "int":
        low, high = int(low), int(high)
    if not low < high:
        raise ConfigError(fld, f"low {low!r} must be below high {high!r}")
    return Factor(
        p.name,
        p.kind,
        float(low) if p.kind == "float" else low,
        float(high) if p.kind == "float" else high,
        values=values,
    )
