"""Shared validators for every input file and keyword: one rule, one message.

Each returns the value converted (or, for a check, nothing), or raises
:class:`~ioc_sim.errors.ConfigError` naming the field and what is allowed.
"""

from __future__ import annotations

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


def text(value: Any, fld: str) -> str:
    """``value`` if it is non-empty text; otherwise an error naming ``fld``."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(fld, f"got {value!r}; allowed: non-empty text")
    return value


_SIGNS = {"+": 1, "-": -1}


def sign(value: Any, fld: str, allow_zero: bool = False) -> int:
    """``"+"`` or ``"-"`` (and ``"0"`` if ``allow_zero``) as 1, -1 or 0; otherwise an error
    naming ``fld``."""
    allowed = ("+", "-", "0") if allow_zero else ("+", "-")
    if value not in allowed:
        raise ConfigError(fld, f"got {value!r}; allowed: one of "
                          + ", ".join(repr(a) for a in allowed))
    return _SIGNS.get(value, 0)


def known_keys(table: dict[str, Any], allowed: tuple[str, ...], fld: str, what: str) -> None:
    """Refuse the first key of ``table`` not in ``allowed``, suggesting the nearest one.

    Args:
        table: A parsed TOML table.
        allowed: Its allowed keys.
        fld: Where the table is (empty at the top level of a file).
        what: What a key is, for the message ("field", "table").
    """
    for key in table:
        if key not in allowed:
            err = unknown_name_error(key, allowed, what)
            raise err.with_prefix(fld) if fld else err


def declared_name(value: Any, declared: dict[str, Any] | list[str], fld: str, what: str,
                  table: str) -> str:
    """``value`` if it names an entry declared elsewhere in the file; otherwise an error.

    Args:
        value: The reference as written.
        declared: The names declared.
        fld: Where the reference is.
        what: What the names are ("construct").
        table: Where they are declared ("[constructs]"), for the message.
    """
    if not isinstance(value, str):
        raise ConfigError(fld, f"got {value!r}; allowed: a {what} name")
    if value not in declared:
        raise unknown_name_error(value, list(declared), f"{what} (declare it under {table})"
                                 ).with_prefix(fld)
    return value
