"""Reading the project's input files, finding the bundled ones, parsing numeric options.

Scenario, experiment and theory files are read the same way: a missing,
unreadable or malformed file is a :class:`~ioc_sim.errors.ConfigError` that
names the file, so the command line can print one line and exit 2.
"""

from __future__ import annotations

import argparse
import tomllib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from ioc_sim.errors import ConfigError


def read_toml(path: Path, source: str, missing: str) -> dict[str, Any]:
    """Parse a TOML file.

    Args:
        path: The file to read.
        source: How the user named it (used in error messages).
        missing: What to say when it does not exist (for example which bundled
            files there are).

    Raises:
        ConfigError: For a missing, unreadable or malformed file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("", missing, source) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as err:
        raise ConfigError("", f"cannot read the file ({type(err).__name__})", source) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("", f"malformed TOML: {err}", source) from None


def bundled_dir(*parts: str) -> Path:
    """A folder of bundled files beside the package (a source checkout), else under the
    working directory."""
    here = Path(__file__).resolve().parents[2].joinpath(*parts)
    return here if here.is_dir() else Path.cwd().joinpath(*parts)


def package_data(*parts: str) -> Traversable:
    """A data file shipped inside the package, under ``ioc_sim/data``.

    Read through :mod:`importlib.resources`, so it is found wherever the package
    is installed (a wheel or a zip included), unlike the folders of
    :func:`bundled_dir`, which sit beside a source checkout.
    """
    return resources.files("ioc_sim").joinpath("data", *parts)


def bundled_files(folder: Path) -> list[Path]:
    """The TOML files in a folder, sorted by name."""
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


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
