"""Reading the project's input files, finding the bundled ones, parsing numeric options.

Scenario, experiment and theory files are read the same way: a missing,
unreadable or malformed file is a :class:`~ioc_sim.errors.ConfigError` that
names the file, so the command line can print one line and exit 2.
"""

from __future__ import annotations

import argparse
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from ioc_sim.errors import ConfigError


def read_toml(path: Path, source: str, missing: str | Callable[[], str]) -> dict[str, Any]:
    """Parse a TOML file.

    Args:
        path: The file to read.
        source: How the user named it (used in error messages).
        missing: What to say when it does not exist (for example which bundled
            files there are), or a function that says it, called only then.

    Raises:
        ConfigError: For a missing, unreadable or malformed file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("", missing if isinstance(missing, str) else missing(), source) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as err:
        raise ConfigError("", f"cannot read the file ({type(err).__name__})", source) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("", f"malformed TOML: {err}", source) from None


def package_data(*parts: str) -> Path:
    """A file or folder shipped inside the package, under ``ioc_sim/data``: the one place
    every bundled file is found (the survey, NHS reference data, scenarios, experiments,
    theories).

    Found through :mod:`importlib.resources`, so the same lookup works in a source
    checkout, an editable install and an installed wheel. In a checkout,
    ``ioc_sim/data/scenarios`` and ``ioc_sim/data/experiments`` are links to the
    top-level ``scenarios/`` and ``experiments/`` folders, which users read and edit; a
    wheel carries copies of them.

    Raises:
        ConfigError: If the package is not installed as files on disk (a zip archive),
            which the model's compiled kernels need anyway.
    """
    found = resources.files("ioc_sim").joinpath("data", *parts)
    if not isinstance(found, Path):
        raise ConfigError(
            "", "ioc_sim must be installed as files (pip install), not run from an archive"
        )
    # Resolved, so that in a checkout messages and manifests name the folder users see.
    return found.resolve()


def bundled_names(folder: Path, what: str) -> str:
    """What to say when a named file is missing: the bundled files' names, or why there
    are none."""
    try:
        return f"bundled {what}: " + ", ".join(p.stem for p in bundled_files(folder, what))
    except ConfigError as err:
        return err.message


def bundled_files(folder: Path, what: str) -> list[Path]:
    """The TOML files in a folder of bundled files, sorted by name.

    Args:
        folder: The folder (from :func:`package_data`).
        what: What the files are, for the message ("scenarios").

    Raises:
        ConfigError: If there are none: the package always ships some, so an empty
            list means a broken installation, never a valid answer.
    """
    found = folder.is_dir() and [p for p in folder.iterdir() if p.suffix == ".toml"]
    if not found:
        raise ConfigError(
            "",
            f"no bundled {what} in {folder}: this installation of ioc_sim is incomplete; "
            "reinstall it (in a source checkout, that folder links to the top-level one)",
        )
    return sorted(found)


def resolve_bundled(path: str | Path, folder: Path) -> Path:
    """A path as given, or the bundled file of that name in ``folder``."""
    p = Path(path)
    if p.exists() or p.suffix:
        return p
    candidate = folder / f"{p.name}.toml"
    return candidate if candidate.exists() else p


def whole_number(name: str, low: int, high: int):
    """An argparse type: a whole number from ``low`` to ``high``, with a message naming
    the option otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be a whole number, got {text!r}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be from {low} to {high}, got {value}")
        return value

    return parse
