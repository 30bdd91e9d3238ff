"""JSON files the package writes: manifests, summaries, scorecards.

One conversion serves them all: :func:`jsonable` turns numpy scalars and
arrays, paths and times into what :mod:`json` writes, and leaves the rest as
it is, so a manifest of plain values is written exactly as ``json.dumps``
would write it.
"""

from __future__ import annotations

import json
import math
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np


def jsonable(x: Any, *, finite: bool = False) -> Any:
    """A copy of ``x`` that :func:`json.dumps` can write.

    Dictionaries and lists are converted element by element (tuples become
    lists, as JSON has no tuples); numpy scalars become Python numbers, arrays
    lists, paths strings and times ISO 8601 text.

    Args:
        x: The value.
        finite: Write NaN and infinities as ``null``, for readers that take
            strict JSON only. Off by default: a manifest keeps the numbers it
            was given, and reads them back.

    Raises:
        TypeError: For a value that has no JSON form.
    """
    if isinstance(x, dict):
        return {_key(k): jsonable(v, finite=finite) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v, finite=finite) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist(), finite=finite)
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, datetime):
        return x.isoformat()
    if isinstance(x, float):
        return None if finite and not math.isfinite(x) else x
    if x is None or isinstance(x, str | int):
        return x
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def _key(k: Any) -> Any:
    # json writes str, int, float, bool and None keys itself; anything else becomes text.
    if isinstance(k, np.generic):
        k = k.item()
    return k if k is None or isinstance(k, str | int | float) else str(k)


def write_json(path: Path, data: Any, *, finite: bool = False) -> None:
    """Write ``data`` as indented JSON, atomically: a temporary file, then a rename.

    A reader (or a process killed mid-write) never sees half a file. The temporary
    name is hidden and unique to the writing process and thread, so that two writers
    of one file can never rename each other's half-written copy.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(jsonable(data, finite=finite), indent=2), encoding="utf-8")
    os.replace(tmp, path)
