"""Documentation that is generated from the code must match the code."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _load(script: str):
    spec = importlib.util.spec_from_file_location(script, DOCS / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_parameter_table_matches_the_declarations():
    table = _load("make_parameter_table")
    written = (DOCS / "parameters.md").read_text(encoding="utf-8")
    assert written == table.render(), (
        "docs/parameters.md is out of date with ioc_sim.spec.parameters; "
        "regenerate it with `python docs/make_parameter_table.py`"
    )
