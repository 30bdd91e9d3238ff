"""The collaboration diagnostic survey: instrument, answer files, scores and model start.

The instrument (``ioc_sim/data/survey.toml``) has five-point items for ten
constructs; each item says which construct it measures and whether it is
reversed. This module:

* renders the questionnaire (Markdown or HTML) and a CSV answer template
  (:func:`render_markdown`, :func:`render_html`, :func:`template_rows`);
* reads an answer file strictly, naming the row and column of any problem
  (:func:`read_responses`);
* scores it: item -> respondent -> organisation -> collaboration, with the
  spread at each level, the maturity index (:mod:`ioc_sim.maturity`) and
  flags where partners disagree (:func:`score_responses`);
* turns the scores into the model's starting state
  (:func:`initial_relations_from_scores`, :func:`organisation_overrides_from_scores`)
  and asks which levers move the simulated collaboration (:func:`lever_effects`).

Scoring, in full (docs/survey.md explains the reasons):

* an answer ``a`` in 1..5 scores ``(a - 1) / 4``, or ``(5 - a) / 4`` for a
  reversed item, so every item score is on 0-1 with 0.5 neutral;
* a respondent's construct score is the mean of their answered items of that
  construct, provided they answered at least half of them (rounded up);
  otherwise it is missing for that respondent, and reported;
* an organisation's score is the mean over its respondents (each counts once);
  the collaboration's score is the mean over organisations (each partner
  counts once, however many people answered for it).
"""

from __future__ import annotations

import csv
import difflib
import html
import io
import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.model import maturity as mat

#: Columns an answer file may have besides the item ids; only ``organisation`` is required.
META_COLUMNS = ("organisation", "respondent", "role", "comment")
#: Cell texts read as "not answered" (besides an empty cell).
NOT_ANSWERED = frozenset({"na", "n/a", "-", "dk", "don't know", "dont know"})
#: A spread of this much (one answer step on the 0-1 scale) is flagged as disagreement.
DISAGREEMENT = 0.25
#: Keys of the dict the model's ``initial_relations`` keyword takes, and the construct each
#: is read from.
RELATION_KEYS = {"trust": "trust", "confidence": "confidence", "risk_threshold": "risk_tolerance",
                 "conflict": "conflict", "faith": "faith",
                 "perceived_progress": "perceived_progress"}


# ----------------------------------------------------------------- instrument
@dataclass(frozen=True)
class Construct:
    """One construct the survey measures."""

    key: str
    name: str
    abbreviation: str
    meaning: str
    state: str | None = None


@dataclass(frozen=True)
class Item:
    """One statement: its id (the CSV column), construct, text and direction."""

    id: str
    construct: str
    text: str
    reversed: bool = False

    def score(self, answer: float) -> float:
        """The 0-1 score of a 1-5 answer."""
        return (5.0 - answer) / 4.0 if self.reversed else (answer - 1.0) / 4.0


@dataclass(frozen=True)
class Instrument:
    """The questionnaire: constructs and items in asking order."""

    title: str
    version: str
    audience: str
    intro: str
    scale: tuple[str, ...]
    constructs: tuple[Construct, ...]
    items: tuple[Item, ...]

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    def items_of(self, construct: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.construct == construct)

    def construct(self, key: str) -> Construct:
        return next(c for c in self.constructs if c.key == key)


@lru_cache(maxsize=1)
def load_instrument() -> Instrument:
    """The bundled instrument, checked for consistency with the maturity constructs."""
    text = resources.files("ioc_sim").joinpath("data", "survey.toml").read_text("utf-8")
    data = tomllib.loads(text)
    head = data["instrument"]
    constructs = tuple(Construct(c["key"], c["name"], c["abbreviation"], c["meaning"],
                                 c.get("state")) for c in data["constructs"])
    items = tuple(Item(i["id"], i["construct"], i["text"], bool(i.get("reversed", False)))
                  for i in data["items"])
    keys = [c.key for c in constructs]
    # The instrument and the index must speak of the same ten constructs.
    assert tuple(keys) == mat.CONSTRUCTS, "survey constructs differ from maturity.CONSTRUCTS"
    assert len({i.id for i in items}) == len(items), "duplicate item id"
    assert all(i.construct in keys for i in items), "item of an unknown construct"
    return Instrument(head["title"], str(head["version"]), head["audience"],
                      head["intro"].strip(), tuple(head["scale"]), constructs, items)


# ------------------------------------------------------------------ rendering
def render_markdown(inst: Instrument | None = None, collaboration: str = "",
                    level: int = 1) -> str:
    """The questionnaire as Markdown, with a scoring key for whoever scores it.

    Args:
        inst: The instrument (default: the bundled one).
        collaboration: Name printed at the top.
        level: Heading level of the title (sections are one deeper), so that the
            questionnaire can sit inside another document.
    """
    inst = inst or load_instrument()
    h1, h2 = "#" * level, "#" * (level + 1)
    scale = ", ".join(f"{k} = {label}" for k, label in enumerate(inst.scale, start=1))
    lines = [
        f"{h1} {inst.title}",
        "",
        f"Version {inst.version}, for {inst.audience}.",
        "",
        *inst.intro.splitlines(),
        "",
        f"- Collaboration: {collaboration or '____________________________'}",
        "- Your organisation (its code, as given by whoever runs the survey): ____________",
        "- Your role: ____________________________",
        "",
        f"{h2} How to answer",
        "",
        f"For each statement, mark one answer: {scale}. Leave it blank if you cannot "
        "judge.",
        "",
        f"{h2} Statements",
        "",
        "| # | Statement | 1 | 2 | 3 | 4 | 5 |",
        "|---|---|:-:|:-:|:-:|:-:|:-:|",
    ]
    lines += [f"| {it.id} | {it.text} | ( ) | ( ) | ( ) | ( ) | ( ) |" for it in inst.items]
    lines += ["", f"{h2} Scoring key", "",
              "For the person who scores the answers (`ioc-sim survey score`). An answer a "
              "scores (a - 1) / 4; a reversed item scores (5 - a) / 4, so every score runs "
              "from 0 to 1 with 0.5 neutral.", "",
              "| construct | what it means | items (R = reversed) |", "|---|---|---|"]
    for c in inst.constructs:
        ids = ", ".join(i.id + (" (R)" if i.reversed else "") for i in inst.items_of(c.key))
        lines.append(f"| {c.name} | {c.meaning} | {ids} |")
    return "\n".join(lines) + "\n"


def render_html(inst: Instrument | None = None, collaboration: str = "") -> str:
    """The questionnaire as a self-contained, printable HTML page."""
    inst = inst or load_instrument()
    e = html.escape
    head = "".join(f"<th>{k}<br><small>{e(label)}</small></th>"
                   for k, label in enumerate(inst.scale, start=1))
    rows = []
    for it in inst.items:
        cells = "".join(f'<td><input type="radio" name="{e(it.id)}" value="{k}" '
                        f'aria-label="{e(it.id)} {k}"></td>' for k in range(1, 6))
        rows.append(f"<tr><th scope=\"row\">{e(it.id)}</th><td class=\"s\">{e(it.text)}</td>"
                    f"{cells}</tr>")
    key_rows = []
    for c in inst.constructs:
        ids = ", ".join(i.id + (" (R)" if i.reversed else "") for i in inst.items_of(c.key))
        key_rows.append(f"<tr><td>{e(c.name)}</td><td>{e(c.meaning)}</td><td>{e(ids)}</td></tr>")
    intro = "".join(f"<p>{e(p.replace(chr(10), ' '))}</p>" for p in inst.intro.split("\n\n"))
    blank = "&nbsp;" * 40
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(inst.title)}</title>
<style>
body {{ font-family: Arial, sans-serif; max-width: 60em; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin: 1em 0; }}
th, td {{ border: 1px solid #bbb; padding: .35em .5em; vertical-align: top; }}
td {{ text-align: center; }} td.s, .key td {{ text-align: left; }}
thead th {{ background: #eef; font-weight: normal; }}
.fill {{ border-bottom: 1px solid #444; display: inline-block; min-width: 20em; }}
@media print {{ body {{ margin: 0; }} tr {{ page-break-inside: avoid; }} }}
</style></head><body>
<h1>{e(inst.title)}</h1>
<p>Version {e(inst.version)}, for {e(inst.audience)}.</p>
{intro}
<p>Collaboration: <span class="fill">{e(collaboration) or blank}</span></p>
<p>Your organisation (its code): <span class="fill">{blank}</span></p>
<p>Your role: <span class="fill">{blank}</span></p>
<h2>How to answer</h2>
<p>Mark one answer per statement. Leave it blank if you cannot judge.</p>
<table><thead><tr><th>#</th><th>Statement</th>{head}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<h2>Scoring key</h2>
<p>An answer a scores (a - 1) / 4; a reversed item (R) scores (5 - a) / 4.</p>
<table class="key"><thead><tr><th>Construct</th><th>What it means</th><th>Items</th></tr>
</thead><tbody>
{chr(10).join(key_rows)}
</tbody></table>
</body></html>
"""


def template_columns(inst: Instrument | None = None) -> list[str]:
    """Columns of an answer file, in order."""
    inst = inst or load_instrument()
    return [*META_COLUMNS, *inst.item_ids]


def template_rows(organisations: Sequence[str] = (), respondents: int = 1,
                  inst: Instrument | None = None) -> str:
    """A CSV answer template: the header, and one blank row per respondent to be.

    Args:
        organisations: Organisation codes to prefill (none: header only).
        respondents: Rows per organisation, numbered 1, 2, ...
    """
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    cols = template_columns(inst)
    w.writerow(cols)
    for org in organisations:
        for k in range(1, respondents + 1):
            w.writerow([org, str(k)] + [""] * (len(cols) - 2))
    return out.getvalue()


# ------------------------------------------------------------------- reading
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
    if raw[:4] == b"PK\x03\x04" or b"\x00" in raw[:4096]:
        raise ConfigError("", "wrong file type: not a text CSV file (an Excel workbook or "
                              "other binary file?); allowed: a .csv file, saved from Excel "
                              "with File > Save As > CSV", source)
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
        raise ConfigError(where, f"got {text!r}; allowed: a whole number from 1 to 5, or blank "
                                 "for no answer", source)
    return value


def read_responses(path: str | Path, known: Iterable[str] | None = None,
                   min_respondents: int = 1, inst: Instrument | None = None) -> Responses:
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
        raise ConfigError("", f"wrong file type {p.suffix or '(no extension)'!r}; allowed: a "
                              ".csv file (in Excel: File > Save As > CSV UTF-8)", source)
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
        raise ConfigError("row 1", "the file is empty; allowed: the header of `ioc-sim survey "
                                   "template` and one row per respondent", source) from None
    except csv.Error as err:
        raise ConfigError("row 1", f"not readable as CSV ({err})", source) from None
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        sep = "semicolons" if ";" in header[0] else "tabs"
        raise ConfigError("row 1", f"columns are separated by {sep}; allowed: commas (save as "
                                   "CSV, comma-separated)", source)
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
            raise ConfigError(f"row 1, column {name}", f"unknown column{hint}; allowed: "
                                                       + ", ".join(META_COLUMNS)
                                                       + " and the item ids "
                                                       + f"{inst.item_ids[0]} ... "
                                                       + inst.item_ids[-1], source)
    for k, name in enumerate(canonical):
        if name in canonical[:k]:
            raise ConfigError(f"row 1, column {names[k]}", "appears twice", source)
    missing = [c for c in ("organisation", *inst.item_ids) if c not in canonical]
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8
                                          else "")
        raise ConfigError("row 1", f"missing column(s) {shown}; allowed: the columns of "
                                   "`ioc-sim survey template` (blank answers are fine)", source)
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
            raise ConfigError(f"row {reader.line_num}", f"not readable as CSV ({err})",
                              source) from None
        row = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(canonical):
            raise ConfigError(f"row {row}", f"{len(cells)} cells but the header has "
                                            f"{len(canonical)} columns (a stray comma?)", source)
        cells = cells + [""] * (len(canonical) - len(cells))
        org = cells[col["organisation"]].strip()
        values = {i: _answer(cells[col[i]], f"row {row}, column {i}", source)
                  for i in inst.item_ids}
        if not org:
            raise ConfigError(f"row {row}, column organisation", "missing; allowed: the code "
                                                                 "of a partner organisation",
                              source)
        if known_set is not None and org not in known_set:
            close = difflib.get_close_matches(org, sorted(known_set), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            shown = sorted(known_set)
            listed = ", ".join(shown[:12]) + (" ..." if len(shown) > 12 else "")
            raise ConfigError(f"row {row}, column organisation",
                              f"unknown organisation {org!r}{hint}; allowed: {listed}", source)
        who = cells[col["respondent"]].strip() if "respondent" in col else ""
        who = who or f"row {row}"
        if (org, who) in seen:
            raise ConfigError(f"row {row}, column respondent",
                              f"{who!r} of {org} already answered in row {seen[(org, who)]}; "
                              "allowed: a different respondent id per row", source)
        seen[(org, who)] = row
        answered = sum(not math.isnan(v) for v in values.values())
        if answered == 0:
            notes.append(f"row {row} ({org}, respondent {who}): no answers; left out.")
            continue
        records.append(values)
        meta.append({"organisation": org, "respondent": who,
                     "role": cells[col["role"]].strip() if "role" in col else "",
                     "row": row, "answered": answered})
    if not records:
        raise ConfigError("", "no answers in the file; allowed: one row per respondent with "
                              "answers from 1 to 5", source)
    meta_df = pd.DataFrame(meta)
    orgs = list(dict.fromkeys(meta_df["organisation"]))
    if len(orgs) < 2:
        raise ConfigError("column organisation", f"answers from only {len(orgs)} organisation "
                                                 f"({orgs[0]}); allowed: at least 2 partner "
                                                 "organisations, since a collaboration needs "
                                                 "two", source)
    counts = meta_df.groupby("organisation", sort=False)["row"].agg(list)
    for org, rows in counts.items():
        if len(rows) < min_respondents:
            where = ", ".join(str(r) for r in rows)
            raise ConfigError(f"row {where}, column organisation",
                              f"{org} has {len(rows)} respondent(s); at least "
                              f"{min_respondents} asked for (--min-respondents)", source)
    n_items = len(inst.item_ids)
    for m in meta:
        if m["answered"] < n_items:
            notes.append(f"row {m['row']} ({m['organisation']}, respondent {m['respondent']}): "
                         f"{n_items - m['answered']} of {n_items} statements blank.")
    answers = pd.DataFrame(records, columns=list(inst.item_ids), dtype=float)
    return Responses(source, answers, meta_df, notes)


# ------------------------------------------------------------------- scoring
@dataclass
class SurveyScores:
    """Scored answers.

    Attributes:
        source: The answer file.
        respondents: One row per respondent: organisation, respondent, row and the
            construct scores (NaN where too few items were answered).
        organisations: Mean construct score per organisation (rows) and construct.
        spread: Standard deviation across each organisation's respondents (NaN with one).
        counts: Respondents contributing to each organisation's construct score.
        collaboration: Mean over organisations, per construct.
        between_sd: Standard deviation of the organisation means, per construct.
        between_range: Highest minus lowest organisation mean, per construct.
        maturity: The collaboration's maturity (None if a whole domain is missing).
        organisation_maturity: Each organisation's own view, as a maturity.
        flags: Where partners, or respondents within a partner, disagree.
        notes: Partial answers and what was left out.
    """

    source: str
    respondents: pd.DataFrame
    organisations: pd.DataFrame
    spread: pd.DataFrame
    counts: pd.DataFrame
    collaboration: pd.Series
    between_sd: pd.Series
    between_range: pd.Series
    maturity: mat.Maturity | None
    organisation_maturity: dict[str, mat.Maturity | None]
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def organisation_ids(self) -> list[str]:
        return list(self.organisations.index)

    def long_table(self) -> pd.DataFrame:
        """Every score in one long table: level, organisation, respondent, construct, value."""
        rows = []
        for _, r in self.respondents.iterrows():
            for c in mat.CONSTRUCTS:
                rows.append({"level": "respondent", "organisation": r["organisation"],
                             "respondent": r["respondent"], "construct": c, "score": r[c],
                             "sd": np.nan, "n": 1})
        for org in self.organisations.index:
            for c in mat.CONSTRUCTS:
                rows.append({"level": "organisation", "organisation": org, "respondent": "",
                             "construct": c, "score": self.organisations.at[org, c],
                             "sd": self.spread.at[org, c], "n": self.counts.at[org, c]})
            m = self.organisation_maturity.get(org)
            rows.append({"level": "organisation", "organisation": org, "respondent": "",
                         "construct": "maturity_index", "score": m.score if m else np.nan,
                         "sd": np.nan, "n": np.nan})
        for c in mat.CONSTRUCTS:
            rows.append({"level": "collaboration", "organisation": "", "respondent": "",
                         "construct": c, "score": self.collaboration[c],
                         "sd": self.between_sd[c], "n": int(self.counts[c].gt(0).sum())})
        rows.append({"level": "collaboration", "organisation": "", "respondent": "",
                     "construct": "maturity_index",
                     "score": self.maturity.score if self.maturity else np.nan, "sd": np.nan,
                     "n": len(self.organisations)})
        return pd.DataFrame(rows)


def _present(values: Mapping[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if not pd.isna(v)}


def _assess(values: Mapping[str, float]) -> mat.Maturity | None:
    try:
        return mat.assess(_present(values))
    except ValueError:
        return None


def score_responses(resp: Responses, inst: Instrument | None = None) -> SurveyScores:
    """Score answers: respondent, organisation and collaboration construct scores,
    their spread, the maturity index and disagreement flags."""
    inst = inst or load_instrument()
    notes = list(resp.notes)
    item_scores = pd.DataFrame({it.id: resp.answers[it.id].map(it.score) for it in inst.items})
    per = pd.DataFrame(index=resp.answers.index)
    for c in inst.constructs:
        ids = [i.id for i in inst.items_of(c.key)]
        need = math.ceil(len(ids) / 2)
        answered = item_scores[ids].notna().sum(axis=1)
        per[c.key] = item_scores[ids].mean(axis=1).where(answered >= need)
        for k in per.index[(answered > 0) & (answered < need)]:
            m = resp.meta.loc[k]
            notes.append(f"row {m['row']} ({m['organisation']}, respondent {m['respondent']}): "
                         f"{c.key} left unscored ({int(answered[k])} of {len(ids)} statements "
                         f"answered; needs {need}).")
    respondents = pd.concat([resp.meta[["organisation", "respondent", "row"]], per], axis=1)
    groups = respondents.groupby("organisation", sort=False)[list(mat.CONSTRUCTS)]
    orgs = groups.mean()
    spread = groups.std(ddof=1)
    counts = groups.count()
    for org in orgs.index:
        for c in mat.CONSTRUCTS:
            if counts.at[org, c] == 0:
                notes.append(f"{org}: no usable answers for {c}; it is left out of {org}'s "
                             "scores and of the collaboration's mean for it.")
    collab = orgs.mean(axis=0, skipna=True)
    between_sd = orgs.std(axis=0, ddof=1)
    between_range = orgs.max(axis=0) - orgs.min(axis=0)
    flags = []
    for c in mat.CONSTRUCTS:
        if between_range[c] >= DISAGREEMENT - 1e-12:
            hi, lo = orgs[c].idxmax(), orgs[c].idxmin()
            flags.append(f"partners disagree on {c}: {lo} {orgs.at[lo, c]:.2f} vs {hi} "
                         f"{orgs.at[hi, c]:.2f} (range {between_range[c]:.2f})")
    for org in orgs.index:
        for c in mat.CONSTRUCTS:
            sd = spread.at[org, c]
            if not pd.isna(sd) and sd >= DISAGREEMENT - 1e-12:
                flags.append(f"respondents in {org} disagree on {c}: sd {sd:.2f} over "
                             f"{int(counts.at[org, c])} respondents")
    overall = _assess(collab.to_dict())
    if overall is None:
        notes.append("The maturity index cannot be computed: a whole domain has no answers.")
    elif overall.missing:
        notes.append("The maturity index leaves out " + ", ".join(overall.missing)
                     + " (no answers).")
    per_org = {org: _assess(orgs.loc[org].to_dict()) for org in orgs.index}
    return SurveyScores(resp.source, respondents, orgs, spread, counts, collab, between_sd,
                        between_range, overall, per_org, flags, notes)


def score_file(path: str | Path, known: Iterable[str] | None = None,
               min_respondents: int = 1) -> SurveyScores:
    """Read and score an answer file (see :func:`read_responses`)."""
    return score_responses(read_responses(path, known, min_respondents))


def format_report(scores: SurveyScores, inst: Instrument | None = None) -> str:
    """A plain-text report: scores by organisation, spread, maturity, flags and notes."""
    inst = inst or load_instrument()
    abbr = {c.key: c.abbreviation for c in inst.constructs}
    n_resp = len(scores.respondents)
    n_org = len(scores.organisations)
    width = max(12, *(len(o) for o in scores.organisations.index))
    head = f"{'':<{width}}" + "".join(f"{abbr[c]:>6}" for c in mat.CONSTRUCTS) + \
        f"{'index':>8}  level"
    lines = [f"Survey {scores.source}: {n_resp} respondent(s) from {n_org} organisations",
             "Construct scores 0-1 (mean over respondents; 0.5 is neutral; CF is conflict, so "
             "lower is better)", "", head, "-" * len(head)]

    def cell(v: float) -> str:
        return f"{v:>6.2f}" if not pd.isna(v) else f"{'-':>6}"

    for org in scores.organisations.index:
        m = scores.organisation_maturity.get(org)
        tail = f"{m.score:>8.1f}  {m.level}" if m else f"{'-':>8}"
        lines.append(f"{org:<{width}}" + "".join(cell(scores.organisations.at[org, c])
                                                  for c in mat.CONSTRUCTS) + tail)
    lines.append("-" * len(head))
    m = scores.maturity
    tail = f"{m.score:>8.1f}  {m.level}" if m else f"{'-':>8}"
    lines.append(f"{'all (mean)':<{width}}" + "".join(cell(scores.collaboration[c])
                                                       for c in mat.CONSTRUCTS) + tail)
    lines.append(f"{'sd between':<{width}}" + "".join(cell(scores.between_sd[c])
                                                       for c in mat.CONSTRUCTS))
    lines.append(f"{'sd within':<{width}}" + "".join(cell(scores.spread[c].mean())
                                                      for c in mat.CONSTRUCTS))
    lines.append("")
    lines.append("Key: " + ", ".join(f"{abbr[c]} {c.replace('_', ' ')}" for c in mat.CONSTRUCTS))
    if m:
        doms = ", ".join(f"{d.replace('_', ' ')} {v:.2f}" for d, v in m.domains.items())
        cap = (f" (held at {m.level} by the weakest domain, {m.weakest.replace('_', ' ')})"
               if m.capped else "")
        lines += ["", f"Maturity index {m.score:.1f} of 100: {m.level}{cap}.", f"Domains: {doms}."]
    lines += ["", "Disagreement (a spread of one answer step, 0.25, or more):"]
    lines += [f"  - {f}" for f in scores.flags] or ["  none"]
    if scores.notes:
        lines += ["", "Partial answers and exclusions:"]
        lines += [f"  - {n}" for n in scores.notes]
    return "\n".join(lines)


# ---------------------------------------------------- from scores to the model
def _table(scores: SurveyScores | pd.DataFrame | Mapping[str, Mapping[str, float]],
           ) -> pd.DataFrame:
    if isinstance(scores, SurveyScores):
        return scores.organisations
    if isinstance(scores, pd.DataFrame):
        return scores
    return pd.DataFrame.from_dict(scores, orient="index")


def initial_relations_from_scores(
    scores: SurveyScores | pd.DataFrame | Mapping[str, Mapping[str, float]],
    organisations: Iterable[str] | None = None,
) -> dict[str, dict[str, float]]:
    """The model's ``initial_relations`` keyword from scored answers.

    Each organisation's construct score (0-1) becomes its own starting value:
    its trust in, confidence in, risk threshold with and conflict with each of
    its partners (its outgoing pairs), and its faith in and perceived progress
    of its collaborations. The survey's 0-1 score is used as the model's 0-1
    state unchanged (an assumption: both are read as "how far along the
    scale"). Organisations without a score for a construct are left out of
    that entry, so the model keeps its own starting value for them.

    Args:
        scores: Scored answers, or a table of organisation (rows) x construct.
        organisations: If given, only these organisations are included.

    Returns:
        ``{"trust": {id: value}, "confidence": ..., "risk_threshold": ...,
        "conflict": ..., "faith": ..., "perceived_progress": ...}``; entries
        with no organisation are omitted.
    """
    table = _table(scores)
    keep = None if organisations is None else set(organisations)
    out: dict[str, dict[str, float]] = {}
    for key, construct in RELATION_KEYS.items():
        if construct not in table.columns:
            continue
        values = {str(org): float(v) for org, v in table[construct].items()
                  if not pd.isna(v) and (keep is None or org in keep)}
        if values:
            out[key] = values
    return out


def organisation_overrides_from_scores(
    scores: SurveyScores | pd.DataFrame | Mapping[str, Mapping[str, float]],
) -> dict[str, dict[str, float]]:
    """Organisation attributes the survey measures directly.

    Conflict resolution sets the leaders' ``resolution_style`` (rescaled from
    0-1 to -1..1, so a neutral answer is neither constructive nor destructive)
    and technological effectiveness sets ``digital_maturity`` (our reading:
    partners' data systems are the organisation-level part of technological
    effectiveness).
    """
    table = _table(scores)
    out: dict[str, dict[str, float]] = {}
    for org, row in table.iterrows():
        attrs = {}
        if "conflict_resolution" in row and not pd.isna(row["conflict_resolution"]):
            attrs["resolution_style"] = round(2.0 * float(row["conflict_resolution"]) - 1.0, 6)
        if ("technological_effectiveness" in row
                and not pd.isna(row["technological_effectiveness"])):
            attrs["digital_maturity"] = round(float(row["technological_effectiveness"]), 6)
        if attrs:
            out[str(org)] = attrs
    return out


def scenario_organisations(scenario: Any) -> list[dict[str, Any]]:
    """The organisation tables of a scenario, drawing a synthetic system's ids and types.

    Listing a synthetic system's organisations by id and type draws every other
    attribute exactly as before (the population draw keeps its order), so
    overriding one attribute of one organisation leaves the rest unchanged.
    """
    if scenario.organisations:
        return [dict(o) for o in scenario.organisations]
    model = scenario.build(seed=0, months=1)
    pop = model.sim.pop
    return [{"id": i, "name": n, "type": t}
            for i, n, t in zip(pop.ids, pop.names, pop.types, strict=True)]


def apply_survey(scenario: Any, scores: SurveyScores) -> tuple[Any, dict[str, Any]]:
    """A copy of ``scenario`` started from the survey, and the model keywords to pass.

    The organisation attributes of :func:`organisation_overrides_from_scores`
    are written into the copy's organisations (and recorded in its ``raw``
    contents, so the manifest shows them); the relations go to the model as
    ``initial_relations`` (returned in the keyword dict).
    """
    orgs = scenario_organisations(scenario)
    ids = [o["id"] for o in orgs]
    overrides = organisation_overrides_from_scores(scores)
    for o in orgs:
        o.update(overrides.get(o["id"], {}))
    relations = initial_relations_from_scores(scores, ids)
    raw = dict(scenario.raw)
    raw["survey"] = {"source": scores.source, "organisation_overrides": overrides,
                     "initial_relations": relations}
    return replace(scenario, organisations=orgs, raw=raw), {"initial_relations": relations}


# ------------------------------------------------------------------- levers
#: Levers a lever analysis tries: (name, kind, change). Collaboration contexts move
#: every collaboration's own value; system and population settings move the one value.
LEVERS: tuple[tuple[str, str, float], ...] = (
    ("shared_vision", "collaboration", 0.2),
    ("accountability", "collaboration", 0.2),
    ("role_clarity", "collaboration", 0.2),
    ("pace", "collaboration", 0.2),
    ("evaluation", "collaboration", 0.2),
    ("support", "collaboration", 0.2),
    ("formalisation", "collaboration", 0.2),
    ("data_sharing", "system", 0.2),
    ("competition", "system", -0.2),
    ("resource_pressure", "system", -0.2),
    ("leader_vulnerability", "system", 0.2),
)


def _final(model_kwargs: dict[str, Any], seeds: Sequence[int], months: int,
           ) -> tuple[np.ndarray, np.ndarray]:
    from ioc_sim.model.model import CollaborationModel

    index, perf = [], []
    for seed in seeds:
        m = CollaborationModel(rng=seed, **model_kwargs)
        m.run(months)
        index.append(float(mat.maturity_from_simulation(m.sim)[0]))
        perf.append(float(m.model_dataframe()["collaborative_performance"].iloc[-1]))
    return np.array(index), np.array(perf)


def maturity_paths(scenario: Any, seeds: Sequence[int], months: int,
                   extra: Mapping[str, Any] | None = None) -> np.ndarray:
    """Simulated maturity index for each seed (rows) and month 0..months (columns)."""
    from ioc_sim.model.model import CollaborationModel

    kw = {**scenario.model_kwargs(months=months), **(extra or {})}
    out = np.empty((len(seeds), months + 1))
    for r, seed in enumerate(seeds):
        m = CollaborationModel(rng=seed, **kw)
        out[r, 0] = mat.maturity_from_simulation(m.sim)[0]
        for t in range(1, months + 1):
            m.step()
            out[r, t] = mat.maturity_from_simulation(m.sim)[0]
    return out


def lever_effects(scenario: Any, seeds: Sequence[int], months: int,
                  extra: Mapping[str, Any] | None = None,
                  levers: Sequence[tuple[str, str, float]] = LEVERS) -> pd.DataFrame:
    """Which levers move the simulated collaboration: one-at-a-time changes.

    Each lever is changed by its step from the scenario's own value (clipped
    to the declared range) in a run with the same seeds (common random
    numbers); the table reports the change in the final maturity index and in
    the final collaborative performance, averaged over seeds. One-at-a-time
    changes ignore interactions between levers; use an experiment (Sobol or
    Morris designs) for those.

    Args:
        scenario: A loaded scenario.
        seeds: Replicate seeds.
        months: Months to run.
        extra: Further model keywords (for example ``initial_relations``).
        levers: (name, "collaboration" or "system", change).

    Returns:
        One row per lever, largest effect on the index first.
    """
    from ioc_sim.model.model import CollaborationModel
    from ioc_sim.spec.parameters import PARAMETERS

    base_kw = {**scenario.model_kwargs(months=months), **(extra or {})}
    probe = CollaborationModel(rng=0, **base_kw)
    contexts = probe.collaborations().set_index("name")
    targets = [c["name"] for c in (scenario.collaborations or []) if isinstance(c, Mapping)] \
        or ["main"]
    base_index, base_perf = _final(base_kw, seeds, months)
    rows = []
    for name, kind, step in levers:
        p = PARAMETERS[name]
        kw = dict(base_kw)
        if kind == "collaboration":
            events = list(kw.get("events", []))
            for target in targets:
                old = float(contexts.at[target, name])
                new = float(np.clip(old + step, p.low, p.high))
                events.append({"month": 0, "kind": "set", "target": target, "field": name,
                               "value": new})
            kw["events"] = events
            change = f"{step:+g} in every collaboration"
        else:
            old = float(probe.params[name])
            new = float(np.clip(old + step, p.low, p.high))
            kw[name] = new
            change = f"{old:g} -> {new:g}"
        index, perf = _final(kw, seeds, months)
        rows.append({"lever": name, "change": change,
                     "maturity_change": float((index - base_index).mean()),
                     "performance_change": float((perf - base_perf).mean())})
    out = pd.DataFrame(rows)
    out.attrs["base_maturity"] = float(base_index.mean())
    return out.reindex(out["maturity_change"].abs().sort_values(ascending=False).index)
