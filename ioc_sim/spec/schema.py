"""Shared validators for every input file and keyword: one rule, one message.

Each returns the value converted, or raises :class:`~ioc_sim.errors.ConfigError`
naming the field and what is allowed.
"""

from __future__ import annotations

from typing import Any

from ioc_sim.errors import ConfigError


def number(value: Any, fld: str, low: float, high: float) -> float:
    """``value`` as a float from ``low`` to ``high``; otherwise an error naming ``fld``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(fld, f"got {value!r}; allowed: a number from {low:g} to {high:g}")
    if not (low <= float(value) <= high):
        raise ConfigError(fld, f"got {value!r}; allowed: a number from {low:g} to {high:g}")
    return float(value)


def month(value: Any, fld: str, months: int) -> int:
    """``value`` as a whole month from 0 to ``months``; otherwise an error naming ``fld``."""
    if isinstance(value, bool) or not isinstance(value, int) or not (0 <= value <= months):
        raise ConfigError(fld, f"got {value!r}; allowed: a whole month from 0 to {months}")
    return int(value)


def unit(x: Any, where: str) -> float:
    """``x`` as a float from 0 to 1; otherwise an error naming ``where``."""
    if isinstance(x, bool) or not isinstance(x, int | float) or not 0.0 <= float(x) <= 1.0:
        raise ConfigError(where, f"got {x!r}; allowed: a number from 0 to 1")
    return float(x)
