"""The package's layers import one way (docs/architecture.md), and modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ioc_sim"

#: Each subpackage's layer; a module may import its own layer and those below it.
LAYER = {
    "errors": 0,
    "spec": 1,
    "engine": 2,
    "model": 3,
    "nhs": 3,
    "experiments": 4,
    "theory": 5,
    "validation": 5,
    "survey": 5,
    "calibration": 5,
    "report": 6,
    "app": 6,
    "cli": 6,
}
#: The package's own face (``ioc_sim/__init__.py``, ``__main__.py``) may reach any layer.
TOP = 7
#: Within one analysis layer, which packages may use which (never the other way round).
SIDEWAYS = {
    ("report", "theory"),
    ("report", "validation"),
    ("calibration", "validation"),
    ("cli", "app"),
    ("cli", "report"),
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _layer_of(path: Path) -> tuple[str, int]:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[0] in ("__init__", "__main__"):
        return "", TOP
    return parts[0], LAYER[parts[0]]


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level ioc_sim subpackage) of every import, inside functions too."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "ioc_sim" and len(parts) > 1 and parts[1] in LAYER:
                found.add((node.lineno, parts[1]))
    return sorted(found)


def test_every_subpackage_has_a_layer():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages - {"data"} <= set(LAYER), "give a new subpackage its layer here"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_never_reach_a_higher_layer(path):
    own, rank = _layer_of(path)
    wrong = [
        f"line {line}: imports ioc_sim.{target} (layer {LAYER[target]}, above {own}'s {rank})"
        for line, target in _imports(path)
        if target != own
        and (LAYER[target] > rank or (LAYER[target] == rank and (own, target) not in SIDEWAYS))
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_600_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 600, f"{lines} lines: split it by responsibility"
