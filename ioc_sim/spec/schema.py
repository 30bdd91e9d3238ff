"""Shared validators for every input file and keyword: one rule, one message.

Each returns the value converted, or raises :class:`~ioc_sim.errors.ConfigError`
naming the field and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.spec.parameters import unknown_name_error


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


def whole(value: Any, fld: str, low: int, high: int, what: str = "a whole number",
          note: str = "") -> int:
    """``value`` as a whole number from ``low`` to ``high``; otherwise an error naming ``fld``.

    Args:
        value: The value read.
        fld: Dotted name of the field, for the message.
        low: Smallest allowed value.
        high: Largest allowed value.
        what: What is allowed, as the message says it ("a whole month", "a power of two").
        note: Text added after the range, such as " (the experiment's months)".
    """
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(fld, f"got {value!r}; allowed: {what} from {low} to {high}{note}")
    return value


def check_keys(table: Mapping[str, Any], allowed: Sequence[str], fld: str, what: str) -> None:
    """Refuse a key of ``table`` outside ``allowed``, suggesting the nearest allowed name.

    Args:
        table: The table read.
        allowed: Its allowed keys.
        fld: Dotted name of the table (empty at the top of a file).
        what: What a key is, for the message ("field", "table", "key for a float factor").
    """
    for key in table:
        if key not in allowed:
            err = unknown_name_error(key, tuple(allowed), what)
            raise err.with_prefix(fld) if fld else err
