"""Named parameter packs for the compiled kernels.

A kernel's scalar parameters travel together as a *pack*: a numpy structured
array of one record with a field for each parameter, which the kernel reads as
``params[0].name``. The caller names every value it passes
(:func:`make_pack` refuses a missing or unknown name), and the kernel's
signature stays short as parameters are added.

A record array rather than a namedtuple: numba recognises an array's type in
its fast path, so passing a pack costs about as much as passing one number,
where a namedtuple costs several times a whole call (benchmarks/README.md has
the figures). A pack depends on parameter values only, so it is built when
they change, not every month.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def pack_dtype(*floats: str, **others: Any) -> np.dtype:
    """The record type of a pack: ``floats`` as float64 fields, then ``others``
    (name=type, such as ``np.bool_`` or ``np.int64``).

    Args:
        *floats: Names of the float fields.
        **others: Names and numpy types of the other fields.

    Returns:
        An aligned structured dtype with those fields, in that order.
    """
    return np.dtype(
        [(name, np.float64) for name in floats] + [(name, kind) for name, kind in others.items()],
        align=True,
    )


def make_pack(dtype: np.dtype, **values: Any) -> np.ndarray:
    """A pack of ``dtype`` holding ``values``, one for every field.

    Args:
        dtype: The pack's record type (from :func:`pack_dtype`).
        **values: The value of each field, by name.

    Returns:
        A structured array of one record.

    Raises:
        ValueError: If a field is missing or a name is not a field.
    """
    names = dtype.names or ()
    missing = [n for n in names if n not in values]
    unknown = [n for n in values if n not in names]
    if missing or unknown:
        raise ValueError(f"pack fields: missing {missing}, unknown {unknown}")
    pack = np.zeros(1, dtype=dtype)
    for name, value in values.items():
        pack[name] = value
    return pack
