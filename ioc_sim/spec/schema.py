"""Shared validators for every input file and keyword: one rule, one message.

Each returns the value converted (or, for a check, nothing), or raises
:class:`~ioc_sim.errors.ConfigError` naming the field and what is allowed.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.spec.parameters import PARAMETERS, unknown_name_error

#: Largest whole-number seed, wherever a seed is given: ``ioc-sim run --seed``, scenario and
#: experiment files, and ``CollaborationModel(rng=...)`` (numpy's SeedSequence takes any).
MAX_SEED = 2**63 - 1


def number(value: Any, fld: str, low: float, high: float) -> float:
    """``value`` as a float from ``low`` to ``high``; otherwise an error naming ``fld``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(fld, f"got {value!r}; allowed: a number from {low:g} to {high:g}")
    if not (low <= float(value) <= high):
        raise ConfigError(fld, f"got {value!r}; allowed: a number from {low:g} to {high:g}")
    return float(value)


def month(value: Any, fld: str, months: int) -> int:
    """``value`` as a whole month from 0 to ``months``; otherwise an error naming ``fld``.

    Models built in code check scheduled months against the longest run (a month after
    a run's end simply never comes), and the message says so; scenario files are held
    to their own months before this check (``experiments.scenarios``).
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not (0 <= value <= months)
    ):
        note = " (the longest run)" if months == int(PARAMETERS["months"].high) else ""
        raise ConfigError(fld, f"got {value!r}; allowed: a whole month from 0 to {months}{note}")
    return int(value)


def unit(x: Any, where: str) -> float:
    """``x`` as a float from 0 to 1; otherwise an error naming ``where``."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not 0.0 <= float(x) <= 1.0:
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
        raise ConfigError(
            fld, f"got {value!r}; allowed: one of " + ", ".join(repr(a) for a in allowed)
        )
    return _SIGNS.get(value, 0)


def whole(
    value: Any, fld: str, low: int, high: int, what: str = "a whole number", note: str = ""
) -> int:
    """``value`` as a whole number from ``low`` to ``high``; otherwise an error naming ``fld``.

    Args:
        value: The value read.
        fld: Dotted name of the field, for the message.
        low: Smallest allowed value.
        high: Largest allowed value.
        what: What is allowed, as the message says it ("a whole month", "a power of two").
        note: Text added after the range, such as " (the experiment's months)".
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not low <= value <= high
    ):
        raise ConfigError(fld, f"got {value!r}; allowed: {what} from {low} to {high}{note}")
    return int(value)


def one_of(value: Any, fld: str, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``; otherwise an error listing them quoted."""
    if value not in choices:
        raise ConfigError(
            fld, f"got {value!r}; allowed: one of " + ", ".join(repr(c) for c in choices)
        )
    return value


def either(value: Any, fld: str, first: Any, second: Any) -> Any:
    """``value`` if it is ``first`` or ``second``; otherwise an error naming the two."""
    if value not in (first, second):
        raise ConfigError(fld, f"got {value!r}; allowed: {first!r} or {second!r}")
    return value


def text_list(value: Any, fld: str, what: str) -> list[str]:
    """``value`` as a list of strings (``what`` they are, for the message)."""
    if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
        raise ConfigError(fld, f"got {value!r}; allowed: a list of {what}")
    return list(value)


def choice_list(value: Any, fld: str, choices: Sequence[str]) -> list[str]:
    """``value`` as a non-empty list whose every entry is one of ``choices``."""
    if not isinstance(value, list) or not value or any(v not in choices for v in value):
        raise ConfigError(fld, f"got {value!r}; allowed: a list of " + ", ".join(choices))
    return list(value)


def check_keys(table: Mapping[str, Any], allowed: Sequence[str], fld: str, what: str) -> None:
    """Refuse a key of ``table`` not in ``allowed``, suggesting the nearest allowed one.

    Args:
        table: The table read from a file.
        allowed: Its allowed keys.
        fld: Where the table is (the error's field is nested under it); empty at top level.
        what: What a key is, for the message ("key in [real_system]").
    """
    for key in table:
        if key not in allowed:
            err = unknown_name_error(key, tuple(allowed), what)
            raise err.with_prefix(fld) if fld else err


def declared_name(
    value: Any, declared: dict[str, Any] | list[str], fld: str, what: str, table: str
) -> str:
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
        raise unknown_name_error(
            value, list(declared), f"{what} (declare it under {table})"
        ).with_prefix(fld)
    return value
