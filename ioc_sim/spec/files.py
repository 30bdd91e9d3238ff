"""Reading the project's input files, finding the bundled ones, parsing numeric options.

Scenario, experiment and theory files are read the same way: a missing,
unreadable or malformed file is a :class:`~ioc_sim.errors.ConfigError` that
names the file, so the command line can print one line and exit 2.
"""

from __future__ import annotations

import argparse
import codecs
import os
import tempfile
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from ioc_sim.errors import ConfigError


def read_toml(path: Path, source: str, missing: str | Callable[[], str]) -> dict[str, Any]:
    """Parse a TOML file.

    A UTF-8 byte-order mark (which Windows editors write) is accepted; text
    that is not UTF-8 is refused with the line and column of the first byte
    that is not.

    Args:
        path: The file to read.
        source: How the user named it (used in error messages).
        missing: What to say when it does not exist (for example which bundled
            files there are), or a function that says it, called only then.

    Raises:
        ConfigError: For a missing, unreadable, wrongly encoded or malformed file.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("", missing if isinstance(missing, str) else missing(), source) from None
    except OSError as err:
        raise ConfigError("", f"cannot read the file ({describe_os_error(err)})", source) from None
    text = decode_utf8(raw, source)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("", f"malformed TOML: {err}", source) from None


#: Byte-order marks of UTF-16 and UTF-32 text; UTF-32's little-endian mark starts with
#: UTF-16's, so it is tried first.
_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def wide_encoding(raw: bytes) -> str | None:
    """``"UTF-16"`` or ``"UTF-32"`` if ``raw`` looks like text in that encoding, else None.

    Recognised by its byte-order mark, or (for UTF-16 saved without one) by a zero
    byte in every other place, as plain Latin letters are written in UTF-16.
    """
    for bom, name in _WIDE_BOMS:
        if raw.startswith(bom):
            return name
    head = raw[:512]
    if len(head) >= 4 and len(head) % 2 == 0:
        for zeros in (head[1::2], head[0::2]):
            if zeros.count(0) >= 0.9 * len(zeros):
                return "UTF-16"
    return None


def decode_utf8(raw: bytes, source: str) -> str:
    """``raw`` decoded as UTF-8, with or without a byte-order mark.

    Raises:
        ConfigError: Naming the file, for UTF-16 or UTF-32 text, and for any other
            byte that is not UTF-8, with its line and column (counted from 1, as
            editors count them), so the user can find it.
    """
    wide = wide_encoding(raw)
    if wide:
        raise ConfigError(
            "",
            f"the file is {wide} text; allowed: UTF-8 text (in the editor, save it with "
            "the encoding UTF-8)",
            source,
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        start = err.start + (3 if raw.startswith(codecs.BOM_UTF8) else 0)
        line_start = raw.rfind(b"\n", 0, start) + 1
        line = raw.count(b"\n", 0, start) + 1
        column = len(raw[line_start:start].decode("utf-8", errors="replace")) + 1
        raise ConfigError(
            "",
            f"not UTF-8 text: byte 0x{raw[start]:02x} at line {line}, column {column} "
            "(saved as Latin-1 or Windows-1252?); allowed: UTF-8 text (in the editor, "
            "save it with the encoding UTF-8)",
            source,
        ) from None


def describe_os_error(err: OSError) -> str:
    """What went wrong in an operating-system error, in words (``Permission denied``)."""
    return err.strerror or type(err).__name__


def _check_writes(folder: Path) -> None:
    """Create ``folder`` if needed, and a file in it, then remove the file (OSError if not)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(prefix=".write-check-", dir=folder)
    os.close(fd)
    os.unlink(probe)


def _cannot_write(option: str, p: Path, err: OSError, what: str) -> ConfigError:
    return ConfigError(
        option, f"cannot write to {p} ({describe_os_error(err)}); allowed: {what} you can write to"
    )


def writable_folder(path: str | Path, option: str) -> Path:
    """Make sure output can be written into folder ``path`` before any work starts.

    The folder is created if needed, and a file is created and removed in it: the
    only test that answers for every reason a write can fail (permissions, a
    read-only or immutable folder, a path under a file or in ``/proc``), whoever
    runs it.

    Args:
        path: The folder.
        option: The option or argument that named it, for the message (``--out``).

    Returns:
        The folder, as a path.

    Raises:
        ConfigError: One line naming the option and the path, and what is wrong.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ConfigError(option, f"{p} exists and is not a folder; allowed: a folder")
    try:
        _check_writes(p)
    except OSError as err:
        raise _cannot_write(option, p, err, "a folder") from None
    return p


def writable_file(path: str | Path, option: str) -> Path:
    """Make sure file ``path`` can be written before any work starts.

    Its folder is created if needed; the file itself is not touched.

    Raises:
        ConfigError: One line naming the option and the path, and what is wrong.
    """
    p = Path(path)
    if p.is_dir():
        raise ConfigError(option, f"{p} is a folder; allowed: a file name")
    try:
        _check_writes(p.parent)
        if p.exists():
            with open(p, "a"):  # opened for appending, and closed: nothing written
                pass
    except OSError as err:
        raise _cannot_write(option, p, err, "a file") from None
    return p


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
