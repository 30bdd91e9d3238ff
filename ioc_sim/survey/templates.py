"""What is sent out: the questionnaire (Markdown or HTML) and a CSV answer template.

The questionnaire carries a scoring key for whoever scores the answers; the
template has the answer file's columns (:func:`template_columns`), with rows
prefilled for each partner organisation if their codes are given.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence

from ioc_sim.survey.instrument import Instrument, load_instrument

#: Columns an answer file may have besides the item ids; only ``organisation`` is required.
META_COLUMNS = ("organisation", "respondent", "role", "comment")


def render_markdown(inst: Instrument | None = None, collaboration: str = "", level: int = 1) -> str:
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
        f"For each statement, mark one answer: {scale}. Leave it blank if you cannot judge.",
        "",
        f"{h2} Statements",
        "",
        "| # | Statement | 1 | 2 | 3 | 4 | 5 |",
        "|---|---|:-:|:-:|:-:|:-:|:-:|",
    ]
    lines += [f"| {it.id} | {it.text} | ( ) | ( ) | ( ) | ( ) | ( ) |" for it in inst.items]
    lines += [
        "",
        f"{h2} Scoring key",
        "",
        "For the person who scores the answers (`ioc-sim survey score`). An answer a "
        "scores (a - 1) / 4; a reversed item scores (5 - a) / 4, so every score runs "
        "from 0 to 1 with 0.5 neutral.",
        "",
        "| construct | what it means | items (R = reversed) |",
        "|---|---|---|",
    ]
    for c in inst.constructs:
        ids = ", ".join(i.id + (" (R)" if i.reversed else "") for i in inst.items_of(c.key))
        lines.append(f"| {c.name} | {c.meaning} | {ids} |")
    return "\n".join(lines) + "\n"


def render_html(inst: Instrument | None = None, collaboration: str = "") -> str:
    """The questionnaire as a self-contained, printable HTML page."""
    inst = inst or load_instrument()
    e = html.escape
    head = "".join(
        f"<th>{k}<br><small>{e(label)}</small></th>" for k, label in enumerate(inst.scale, start=1)
    )
    rows = []
    for it in inst.items:
        cells = "".join(
            f'<td><input type="radio" name="{e(it.id)}" value="{k}" '
            f'aria-label="{e(it.id)} {k}"></td>'
            for k in range(1, 6)
        )
        rows.append(
            f'<tr><th scope="row">{e(it.id)}</th><td class="s">{e(it.text)}</td>{cells}</tr>'
        )
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


def template_rows(
    organisations: Sequence[str] = (), respondents: int = 1, inst: Instrument | None = None
) -> str:
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
