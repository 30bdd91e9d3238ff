"""Reading an answer file strictly: every problem named by file, row and column.

Rows are numbered as a spreadsheet shows them (the header is row 1). What a
user can get wrong in a spreadsheet is caught with a message saying what is
allowed: an Excel workbook instead of CSV, semicolons, unknown or repeated
columns, answers outside 1-5, unknown organisation codes, the same respondent
twice, or too few respondents.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.spec.files import wide_encoding
from ioc_sim.survey.instrument import Instrument, load_instrument
from ioc_sim.survey.templates import META_COLUMNS

#: Cell texts read as "not answered" (besides an empty cell).
NOT_ANSWERED = frozenset({"na", "n/a", "-", "dk", "don't know", "dont know"})


@dataclass
class Responses:
    """Answers read from a file.

    Attributes:
        source: The file they came from.
        answers: One row per respondent, columns = item ids, values 1-5 or NaN.
        meta: ``organisation``, ``respondent``, ``role`` and ``row`` (line in the file)
            per respondent, same index as ``answers``.
        notes: What was skipped or is partial, one sentence each.
    """

    source: str
    answers: pd.DataFrame
    meta: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _decode(raw: bytes, source: str) -> str:
    wide = wide_encoding(raw)
    if wide:
        # Excel's "Unicode Text" and some exports write UTF-16, whose zero bytes would
        # otherwise pass for a binary file.
        raise ConfigError(
            "",
            f'the file is {wide} text (Excel\'s "Unicode Text", or an export in {wide}); '
            "allowed: CSV in UTF-8: in Excel, File > Save As > CSV UTF-8 (Comma delimited); "
            "in another editor, save it with the encoding UTF-8",
            source,
        )
    if raw[:4] == b"PK\x03\x04" or b"\x00" in raw[:4096]:
        raise ConfigError(
            "",
            "wrong file type: not a text CSV file (an Excel workbook or "
            "other binary file?); allowed: a .csv file, saved from Excel "
            "with File > Save As > CSV",
            source,
        )
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ConfigError("", "cannot decode the file as text; save it as CSV UTF-8", source)


def _answer(cell: str, where: str, source: str) -> float:
    text = cell.strip()
    if not text or text.lower() in NOT_ANSWERED:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value) or not value.is_integer() or not 1 <= value <= 5:
        raise ConfigError(
            where,
            f"got {text!r}; allowed: a whole number from 1 to 5, or blank for no answer",
            source,
        )
    return value


def read_responses(
    path: str | Path,
    known: Iterable[str] | None = None,
    min_respondents: int = 1,
    inst: Instrument | None = None,
) -> Responses:
    """Read an answer file strictly.

    Rows are numbered as a spreadsheet shows them (the header is row 1).
    Blank rows, and rows with an organisation but no answers, are skipped and
    noted; blank cells are partial answers.

    Args:
        path: A ``.csv`` file with the template's columns.
        known: Organisation codes allowed (for example a scenario's), or None to
            accept any code.
        min_respondents: Fewest respondents each organisation must have.

    Raises:
        ConfigError: One line naming the file, the row and the column: wrong file
            type, missing or unknown columns, unknown organisation codes,
            answers outside 1-5, duplicate respondents, or too few respondents
            or organisations.
    """
    inst = inst or load_instrument()
    p = Path(path)
    source = str(path)
    if p.suffix.lower() != ".csv":
        raise ConfigError(
            "",
            f"wrong file type {p.suffix or '(no extension)'!r}; allowed: a "
            ".csv file (in Excel: File > Save As > CSV UTF-8)",
            source,
        )
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError("", "no such file", source) from None
    except (IsADirectoryError, PermissionError) as err:
        raise ConfigError("", f"cannot read the file ({type(err).__name__})", source) from None
    text = _decode(raw, source)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ConfigError(
            "row 1",
            "the file is empty; allowed: the header of `ioc-sim survey "
            "template` and one row per respondent",
            source,
        ) from None
    except csv.Error as err:
        raise ConfigError("row 1", f"not readable as CSV ({err})", source) from None
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        sep = "semicolons" if ";" in header[0] else "tabs"
        raise ConfigError(
            "row 1",
            f"columns are separated by {sep}; allowed: commas (save as CSV, comma-separated)",
            source,
        )
    names = [h.strip() for h in header]
    items = {i.upper(): i for i in inst.item_ids}
    canonical = []
    for k, name in enumerate(names, start=1):
        if not name:
            raise ConfigError(f"row 1, column {k}", "empty column name", source)
        if name.lower() in META_COLUMNS:
            canonical.append(name.lower())
        elif name.upper() in items:
            canonical.append(items[name.upper()])
        else:
            allowed = [*META_COLUMNS, *inst.item_ids]
            close = difflib.get_close_matches(name.upper(), [a.upper() for a in allowed], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"row 1, column {name}",
                f"unknown column{hint}; allowed: "
                + ", ".join(META_COLUMNS)
                + " and the item ids "
                + f"{inst.item_ids[0]} ... "
                + inst.item_ids[-1],
                source,
            )
    for k, name in enumerate(canonical):
        if name in canonical[:k]:
            raise ConfigError(f"row 1, column {names[k]}", "appears twice", source)
    missing = [c for c in ("organisation", *inst.item_ids) if c not in canonical]
    if missing:
        shown = ", ".join(missing[:8]) + (
            f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        )
        raise ConfigError(
            "row 1",
            f"missing column(s) {shown}; allowed: the columns of "
            "`ioc-sim survey template` (blank answers are fine)",
            source,
        )
    col = {name: k for k, name in enumerate(canonical)}
    known_set = set(known) if known is not None else None
    records, meta, notes = [], [], []
    seen: dict[tuple[str, str], int] = {}
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            raise ConfigError(
                f"row {reader.line_num}", f"not readable as CSV ({err})", source
            ) from None
        row = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(canonical):
            raise ConfigError(
                f"row {row}",
                f"{len(cells)} cells but the header has {len(canonical)} columns (a stray comma?)",
                source,
            )
        cells = cells + [""] * (len(canonical) - len(cells))
        org = cells[col["organisation"]].strip()
        values = {
            i: _answer(cells[col[i]], f"row {row}, column {i}", source) for i in inst.item_ids
        }
        if not org:
            raise ConfigError(
                f"row {row}, column organisation",
                "missing; allowed: the code of a partner organisation",
                source,
            )
        if known_set is not None and org not in known_set:
            close = difflib.get_close_matches(org, sorted(known_set), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            shown = sorted(known_set)
            listed = ", ".join(shown[:12]) + (" ..." if len(shown) > 12 else "")
            raise ConfigError(
                f"row {row}, column organisation",
                f"unknown organisation {org!r}{hint}; allowed: {listed}",
                source,
            )
        who = cells[col["respondent"]].strip() if "respondent" in col else ""
        who = who or f"row {row}"
        if (org, who) in seen:
            raise ConfigError(
                f"row {row}, column respondent",
                f"{who!r} of {org} already answered in row {seen[(org, who)]}; "
                "allowed: a different respondent id per row",
                source,
            )
        seen[(org, who)] = row
        answered = sum(not math.isnan(v) for v in values.values())
        if answered == 0:
            notes.append(f"row {row} ({org}, respondent {who}): no answers; left out.")
            continue
        records.append(values)
        meta.append(
            {
                "organisation": org,
                "respondent": who,
                "role": cells[col["role"]].strip() if "role" in col else "",
                "row": row,
                "answered": answered,
            }
        )
    if not records:
        raise ConfigError(
            "",
            "no answers in the file; allowed: one row per respondent with answers from 1 to 5",
            source,
        )
    meta_df = pd.DataFrame(meta)
    orgs = list(dict.fromkeys(meta_df["organisation"]))
    if len(orgs) < 2:
        raise ConfigError(
            "column organisation",
            f"answers from only {len(orgs)} organisation "
            f"({orgs[0]}); allowed: at least 2 partner "
            "organisations, since a collaboration needs "
            "two",
            source,
        )
    counts = meta_df.groupby("organisation", sort=False)["row"].agg(list)
    for org, rows in counts.items():
        if len(rows) < min_respondents:
            where = ", ".join(str(r) for r in rows)
            raise ConfigError(
                f"row {where}, column organisation",
                f"{org} has {len(rows)} respondent(s); at least "
                f"{min_respondents} asked for (--min-respondents)",
                source,
            )
    n_items = len(inst.item_ids)
    for m in meta:
        if m["answered"] < n_items:
            notes.append(
                f"row {m['row']} ({m['organisation']}, respondent {m['respondent']}): "
                f"{n_items - m['answered']} of {n_items} statements blank."
            )
    answers = pd.DataFrame(records, columns=list(inst.item_ids), dtype=float)
    return Responses(source, answers, meta_df, notes)
