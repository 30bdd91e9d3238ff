"""Put the rendered questionnaire into docs/survey.md, between its two marker comments.

The questionnaire is rendered from the instrument file
(``ioc_sim/data/survey.toml``) so the documentation cannot drift from what
``ioc-sim survey template`` writes; a test checks that they agree. Run it after
any change to the instrument::

    python docs/make_survey_doc.py
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Import the package from this source tree even when it is not installed.
sys.path.insert(0, str(HERE.parent))

from ioc_sim.survey import render_markdown  # noqa: E402

START, END = "<!-- questionnaire:start -->\n", "<!-- questionnaire:end -->"


def main() -> None:
    path = HERE / "survey.md"
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        sys.exit(f"{path}: the markers {START.strip()} and {END} are missing")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(
        head + START + "\n" + render_markdown(level=3) + "\n" + END + tail, encoding="utf-8"
    )
    print(path)


if __name__ == "__main__":
    main()
