"""The diagnostic survey: instrument, scoring by hand, bad input, and the round trip
template -> answers -> scores -> initial state of a simulated collaboration."""

from __future__ import annotations

import csv
import json
import statistics
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ioc_sim import load_scenario, survey
from ioc_sim.cli.main import main
from ioc_sim.errors import ConfigError
from ioc_sim.model.maturity import CONSTRUCTS

ROOT = Path(__file__).resolve().parent.parent
INST = survey.load_instrument()
ITEMS = INST.item_ids


def write_answers(
    path: Path, rows: list[dict[str, object]], columns: list[str] | None = None
) -> Path:
    """Write an answer file; each row maps column -> value (items not given are blank)."""
    columns = columns or survey.template_columns()
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow([r.get(c, "") for c in columns])
    return path


def straight(org: str, respondent: str, answer: int, reverse_answer: int | None = None) -> dict:
    """One respondent giving ``answer`` to every item (``reverse_answer`` to reversed ones)."""
    row: dict[str, object] = {"organisation": org, "respondent": respondent}
    for it in INST.items:
        row[it.id] = reverse_answer if (it.reversed and reverse_answer is not None) else answer
    return row


# ---------------------------------------------------------------- instrument
def test_instrument_covers_every_construct_with_reversed_items():
    assert tuple(c.key for c in INST.constructs) == CONSTRUCTS
    for c in INST.constructs:
        items = INST.items_of(c.key)
        assert len(items) >= 3, c.key
        assert any(i.reversed for i in items) and any(not i.reversed for i in items), c.key
    assert len(set(ITEMS)) == len(ITEMS) == 34
    assert len({i.text for i in INST.items}) == len(ITEMS)
    assert INST.scale[0] == "Strongly disagree" and INST.scale[-1] == "Strongly agree"


def test_item_scores_run_from_zero_to_one_and_reverse():
    normal = next(i for i in INST.items if not i.reversed)
    rev = next(i for i in INST.items if i.reversed)
    assert [normal.score(a) for a in range(1, 6)] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [rev.score(a) for a in range(1, 6)] == [1.0, 0.75, 0.5, 0.25, 0.0]


# --------------------------------------------------------------- hand-made sets
def test_scores_of_a_hand_made_answer_set(tmp_path):
    # A1 answers 4 to everything: normal items 0.75, reversed items 0.25.
    # A2 answers 2 to everything: normal 0.25, reversed 0.75.
    # B1 agrees fully with every normal statement and rejects every reversed one: all 1.0.
    p = write_answers(
        tmp_path / "a.csv",
        [straight("A", "1", 4), straight("A", "2", 2), straight("B", "1", 5, reverse_answer=1)],
    )
    s = survey.score_file(p)
    four = {
        "trust": 0.625,
        "confidence": 0.625,
        "risk_tolerance": 0.625,
        "organisational_efficiency": 0.625,
    }  # 4 items: (3 * 0.75 + 0.25) / 4
    r = s.respondents.set_index("respondent")
    for c in CONSTRUCTS:
        a1 = four.get(c, (2 * 0.75 + 0.25) / 3)  # 3 items: (2 * 0.75 + 0.25) / 3
        a2 = 1.0 - a1
        assert r.loc["1"].query("organisation == 'A'")[c].item() == pytest.approx(a1)
        assert s.organisations.at["A", c] == pytest.approx(0.5)
        assert s.spread.at["A", c] == pytest.approx(statistics.stdev([a1, a2]))
        assert s.organisations.at["B", c] == pytest.approx(1.0)
        assert np.isnan(s.spread.at["B", c])  # one respondent: no spread
        assert s.collaboration[c] == pytest.approx(0.75)
        assert s.between_range[c] == pytest.approx(0.5)
    # Every construct differs by 0.5 between A and B: all ten flagged.
    assert sum(f.startswith("partners disagree on") for f in s.flags) == 10
    # B: domains 1, (1 - 1 + 1) / 2 = 0.5, 1 -> index 100 * cbrt(0.5), held at "established".
    b = s.organisation_maturity["B"]
    assert b.score == pytest.approx(100 * 0.5 ** (1 / 3)) and b.level == "established"
    assert b.capped
    # The collaboration: every construct 0.75 (conflict too, which counts as 0.25).
    m = s.maturity
    assert m.domains == pytest.approx(
        {"relational_foundation": 0.75, "handling_difference": 0.5, "delivery": 0.75}
    )
    assert m.score == pytest.approx(100 * (0.75 * 0.5 * 0.75) ** (1 / 3))


def test_respondents_who_disagree_within_an_organisation_are_flagged(tmp_path):
    a1 = straight("A", "1", 3) | {"TR1": 5, "TR2": 5, "TR3": 5, "TR4": 1}  # trust 1.0
    a2 = straight("A", "2", 3) | {"TR1": 1, "TR2": 1, "TR3": 1, "TR4": 5}  # trust 0.0
    p = write_answers(tmp_path / "a.csv", [a1, a2, straight("B", "1", 3)])
    s = survey.score_file(p)
    assert s.organisations.at["A", "trust"] == pytest.approx(0.5)
    assert s.spread.at["A", "trust"] == pytest.approx(np.sqrt(0.5))
    assert any(f.startswith("respondents in A disagree on trust") for f in s.flags)
    assert not any(f.startswith("partners disagree") for f in s.flags)
    assert s.maturity.score == pytest.approx(50.0) and s.maturity.level == "developing"


def test_partial_answers_are_scored_and_reported(tmp_path):
    half = straight("A", "1", 4)
    half["FA1"] = ""  # faith: 2 of 3 answered -> mean of the two
    half["CF1"] = "NA"  # conflict: NA counts as blank
    half["CF2"] = ""  # conflict: 1 of 3 answered -> unscored for this respondent
    rows = [
        half,
        straight("A", "2", 4),
        straight("B", "1", 2),
        {"organisation": "B", "respondent": "2"},  # nothing answered
        {},
    ]  # a blank row
    p = write_answers(tmp_path / "p.csv", rows)
    s = survey.score_file(p)
    r = s.respondents.set_index(["organisation", "respondent"])
    assert r.at[("A", "1"), "faith"] == pytest.approx((0.75 + 0.25) / 2)  # FA2 4, FA3 (R) 4
    assert np.isnan(r.at[("A", "1"), "conflict"])
    assert s.counts.at["A", "conflict"] == 1 and s.counts.at["A", "faith"] == 2
    assert ("B", "2") not in r.index
    notes = " ".join(s.notes)
    assert "row 2 (A, respondent 1): conflict left unscored (1 of 3" in notes
    assert "row 2 (A, respondent 1): 3 of 34 statements blank" in notes
    assert "row 5 (B, respondent 2): no answers; left out" in notes


def test_an_organisation_without_answers_for_a_construct_keeps_the_model_start(tmp_path):
    b = straight("B", "1", 3)
    for i in ("TE1", "TE2", "TE3"):
        b[i] = ""
    p = write_answers(tmp_path / "t.csv", [straight("A", "1", 4), b])
    s = survey.score_file(p)
    assert np.isnan(s.organisations.at["B", "technological_effectiveness"])
    assert any("B: no usable answers for technological_effectiveness" in n for n in s.notes)
    assert s.collaboration["technological_effectiveness"] == pytest.approx(0.5 + 0.25 / 3)
    overrides = survey.organisation_overrides_from_scores(s)
    assert "digital_maturity" not in overrides["B"] and "digital_maturity" in overrides["A"]


def test_decimal_answers_that_are_whole_numbers_are_accepted(tmp_path):
    a = straight("A", "1", 3) | {"TR1": "5.0", "TR2": " 4 "}
    p = write_answers(tmp_path / "d.csv", [a, straight("B", "1", 3)])
    s = survey.score_file(p)
    assert s.organisations.at["A", "trust"] == pytest.approx((1.0 + 0.75 + 0.5 + 0.5) / 4)


# ------------------------------------------------------------------ bad input
def header(*drop: str, extra: tuple[str, ...] = ()) -> list[str]:
    return [c for c in survey.template_columns() if c not in drop] + list(extra)


def good_rows() -> list[dict]:
    return [straight("A", "1", 3), straight("B", "1", 3)]


BAD = [
    (
        "missing item column",
        lambda p: write_answers(p, good_rows(), header("TR2", "FA3")),
        "row 1: missing column(s) TR2, FA3",
    ),
    (
        "missing organisation column",
        lambda p: write_answers(p, good_rows(), header("organisation")),
        "row 1: missing column(s) organisation",
    ),
    (
        "unknown column",
        lambda p: write_answers(p, good_rows(), header(extra=("TR01",))),
        "row 1, column TR01: unknown column (did you mean 'TR1'?)",
    ),
    (
        "duplicate column",
        lambda p: write_answers(p, good_rows(), header(extra=("tr1",))),
        "row 1, column tr1: appears twice",
    ),
    (
        "answer above 5",
        lambda p: write_answers(p, [straight("A", "1", 3) | {"FA2": 7}, straight("B", "1", 3)]),
        "row 2, column FA2: got '7'; allowed: a whole number from 1 to 5, or blank",
    ),
    (
        "answer 0",
        lambda p: write_answers(p, [straight("A", "1", 3), straight("B", "1", 3) | {"OE4": 0}]),
        "row 3, column OE4: got '0'",
    ),
    (
        "half point",
        lambda p: write_answers(p, [straight("A", "1", 3) | {"CE1": "3.5"}, straight("B", "1", 3)]),
        "row 2, column CE1: got '3.5'",
    ),
    (
        "text answer",
        lambda p: write_answers(
            p, [straight("A", "1", 3) | {"TR1": "agree"}, straight("B", "1", 3)]
        ),
        "row 2, column TR1: got 'agree'",
    ),
    (
        "missing organisation code",
        lambda p: write_answers(
            p, [straight("A", "1", 3), straight("", "2", 3), straight("B", "1", 3)]
        ),
        "row 3, column organisation: missing",
    ),
    (
        "duplicate respondent",
        lambda p: write_answers(
            p, [straight("A", "1", 3), straight("B", "1", 3), straight("A", "1", 4)]
        ),
        "row 4, column respondent: '1' of A already answered in row 2",
    ),
    (
        "one organisation",
        lambda p: write_answers(p, [straight("A", "1", 3), straight("A", "2", 3)]),
        "column organisation: answers from only 1 organisation (A); allowed: at least 2",
    ),
    (
        "no answers",
        lambda p: write_answers(p, [{"organisation": "A"}, {"organisation": "B"}]),
        "no answers in the file",
    ),
    ("empty file", lambda p: p.write_text(""), "row 1: the file is empty"),
    (
        "semicolons",
        lambda p: p.write_text(";".join(survey.template_columns()) + "\n"),
        "row 1: columns are separated by semicolons",
    ),
    (
        "stray comma",
        lambda p: p.write_text(
            ",".join(survey.template_columns()) + "\n" + "A,1,,," + ",".join(["3"] * 34) + ",3\n"
        ),
        "row 2: 39 cells but the header has 38 columns",
    ),
    (
        "excel workbook named csv",
        lambda p: p.write_bytes(b"PK\x03\x04\x14\x00rest"),
        "wrong file type: not a text CSV file",
    ),
]


@pytest.mark.parametrize("make,expected", [(m, e) for _, m, e in BAD], ids=[n for n, _, _ in BAD])
def test_bad_answer_file_gives_one_line_naming_row_and_column(tmp_path, make, expected):
    p = tmp_path / "answers.csv"
    make(p)
    with pytest.raises(ConfigError) as info:
        survey.read_responses(p)
    message = str(info.value)
    assert message.startswith(str(p)), message
    assert expected in message, message
    assert "\n" not in message


def test_wrong_file_type_and_missing_file(tmp_path):
    x = tmp_path / "answers.xlsx"
    x.write_bytes(b"PK\x03\x04")
    with pytest.raises(ConfigError, match=r"wrong file type '\.xlsx'; allowed: a \.csv file"):
        survey.read_responses(x)
    with pytest.raises(ConfigError, match="no such file"):
        survey.read_responses(tmp_path / "none.csv")


def test_unknown_organisation_codes_and_too_few_respondents(tmp_path):
    p = write_answers(tmp_path / "a.csv", [straight("RXW", "1", 3), straight("RZZ", "1", 3)])
    with pytest.raises(
        ConfigError,
        match=r"row 3, column organisation: unknown organisation "
        r"'RZZ'.*allowed: R1D, RL1, RXW",
    ):
        survey.read_responses(p, known=["RXW", "R1D", "RL1"])
    p = write_answers(
        tmp_path / "b.csv",
        [straight("RXW", "1", 3), straight("RXW", "2", 3), straight("R1D", "1", 3)],
    )
    with pytest.raises(
        ConfigError,
        match=r"row 4, column organisation: R1D has 1 respondent\(s\); "
        r"at least 2 asked for",
    ):
        survey.read_responses(p, min_respondents=2)


@pytest.mark.parametrize(
    "argv_tail,expected",
    [
        (["--organisations", "A,C"], "column organisation: unknown organisation 'B'"),
        (["--min-respondents", "3"], "A has 1 respondent(s); at least 3 asked for"),
        (["--system", "QOC"], "unknown organisation 'A'"),
    ],
)
def test_cli_score_errors_are_one_line_and_exit_2(tmp_path, argv_tail, expected):
    p = write_answers(tmp_path / "a.csv", good_rows())
    proc = subprocess.run(
        [sys.executable, "-m", "ioc_sim", "survey", "score", str(p), *argv_tail],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------ rendering
class _Radios(HTMLParser):
    def __init__(self):
        super().__init__()
        self.radios = 0

    def handle_starttag(self, tag, attrs):
        if tag == "input" and dict(attrs).get("type") == "radio":
            self.radios += 1


def test_questionnaire_renders_every_item_in_markdown_and_html():
    md = survey.render_markdown(collaboration="Test collaborative")
    html = survey.render_html()
    for it in INST.items:
        assert f"| {it.id} | {it.text} |" in md
        assert it.text.replace("'", "&#x27;") in html
    assert "Test collaborative" in md
    assert "TR4 (R)" in md and "FA3 (R)" in md and "TR1 (R)" not in md
    parser = _Radios()
    parser.feed(html)
    assert parser.radios == 5 * len(ITEMS)


def test_docs_carry_the_generated_questionnaire():
    text = (ROOT / "docs" / "survey.md").read_text()
    start, end = "<!-- questionnaire:start -->\n", "<!-- questionnaire:end -->"
    assert start in text and end in text
    body = text.split(start)[1].split(end)[0]
    generated = survey.render_markdown(level=3)
    assert body.strip() == generated.strip(), "regenerate with python docs/make_survey_doc.py"


def test_template_command_writes_questionnaire_and_prefilled_template(tmp_path, capsys):
    out = tmp_path / "survey"
    assert (
        main(
            [
                "survey",
                "template",
                "--out",
                str(out),
                "--system",
                "QOC",
                "--respondents",
                "2",
                "--collaboration",
                "Shropshire",
            ]
        )
        == 0
    )
    assert {p.name for p in out.iterdir()} == {
        "questionnaire.md",
        "questionnaire.html",
        "responses_template.csv",
    }
    t = pd.read_csv(out / "responses_template.csv", dtype=str)
    assert list(t.columns) == survey.template_columns()
    assert t["organisation"].tolist() == ["R1D", "R1D", "RL1", "RL1", "RXW", "RXW"]
    assert t[list(ITEMS)].isna().all().all()
    assert "Shropshire" in (out / "questionnaire.md").read_text()
    # A second run refuses to overwrite without --force.
    assert main(["survey", "template", "--out", str(out)]) == 2
    assert "already exists; use --force" in capsys.readouterr().err
    assert main(["survey", "template", "--out", str(out), "--force", "--format", "md"]) == 0
    # The blank template is not yet an answer file: scoring it says so.
    assert main(["survey", "score", str(out / "responses_template.csv")]) == 2
    assert "no answers in the file" in capsys.readouterr().err


# ------------------------------------------------------------------ round trip
SCENARIO = "nhs_shropshire_group_model"


def answer(org: int, resp: int, item: int) -> int:
    """A deterministic, varied answer pattern."""
    return 1 + (3 * org + 2 * resp + item * (1 + org)) % 5


def expected_scores(orgs: list[str], respondents: int) -> dict[str, dict[str, float]]:
    """Organisation construct means computed by hand, independently of the scorer."""
    out = {}
    for o, org in enumerate(orgs):
        per_construct: dict[str, list[float]] = {c: [] for c in CONSTRUCTS}
        for r in range(respondents):
            for c in CONSTRUCTS:
                scores = []
                for k, it in enumerate(INST.items):
                    if it.construct == c:
                        a = answer(o, r, k)
                        scores.append((5 - a) / 4 if it.reversed else (a - 1) / 4)
                per_construct[c].append(sum(scores) / len(scores))
        out[org] = {c: sum(v) / len(v) for c, v in per_construct.items()}
    return out


def fill_template(template: Path, answers_file: Path) -> list[str]:
    t = pd.read_csv(template, dtype=str).fillna("")
    orgs = list(dict.fromkeys(t["organisation"]))
    for k, row in t.iterrows():
        o, r = orgs.index(row["organisation"]), int(row["respondent"]) - 1
        for j, item in enumerate(ITEMS):
            t.at[k, item] = str(answer(o, r, j))
    t.to_csv(answers_file, index=False)
    return orgs


def test_round_trip_template_answers_scores_initial_state(tmp_path):
    out = tmp_path / "survey"
    assert (
        main(
            [
                "survey",
                "template",
                "--out",
                str(out),
                "--scenario",
                SCENARIO,
                "--respondents",
                "3",
                "--format",
                "md",
            ]
        )
        == 0
    )
    answers = tmp_path / "answers.csv"
    orgs = fill_template(out / "responses_template.csv", answers)
    assert orgs[:3] == ["R1D", "RL1", "RXW"] and "PCN01" in orgs
    sc = load_scenario(SCENARIO)
    scores = survey.score_file(answers, known=[o["id"] for o in sc.organisations])
    expected = expected_scores(orgs, 3)
    for org in orgs:
        for c in CONSTRUCTS:
            assert scores.organisations.at[org, c] == pytest.approx(expected[org][c]), (org, c)
    relations = survey.initial_relations_from_scores(scores)
    assert set(relations) == {
        "trust",
        "confidence",
        "risk_threshold",
        "conflict",
        "faith",
        "perceived_progress",
    }
    for key, construct in survey.RELATION_KEYS.items():
        assert relations[key] == pytest.approx({o: expected[o][construct] for o in orgs})
    attrs = survey.organisation_overrides_from_scores(scores)
    for org in orgs:
        assert attrs[org]["resolution_style"] == pytest.approx(
            2 * expected[org]["conflict_resolution"] - 1, abs=1e-6
        )
        assert attrs[org]["digital_maturity"] == pytest.approx(
            expected[org]["technological_effectiveness"], abs=1e-6
        )
    # Only organisations asked for are kept.
    assert set(survey.initial_relations_from_scores(scores, ["RXW"])["trust"]) == {"RXW"}


def assert_started_from(model, relations, attrs):
    sim = model.sim
    ids = sim.pop.ids
    arrays = {
        "trust": sim.trust,
        "confidence": sim.confidence,
        "risk_threshold": sim.risk,
        "conflict": sim.conflict,
    }
    for key, arr in arrays.items():
        for org, value in relations[key].items():
            out = sim.st.src == ids.index(org)
            assert out.any()
            assert np.allclose(arr[0, out], value), (key, org)
    for key, arr in (("faith", sim.faith), ("perceived_progress", sim.progress)):
        for org, value in relations[key].items():
            mine = sim.st.mem_org == ids.index(org)
            assert np.allclose(arr[0, :-1][mine], value), (key, org)
    for org, a in attrs.items():
        i = ids.index(org)
        assert sim.org["resolution_style"][i] == pytest.approx(a["resolution_style"])
        assert sim.org["digital_maturity"][i] == pytest.approx(a["digital_maturity"])


def stand_in_model():
    """A model that takes ``initial_relations`` the way the model's own keyword is specified
    (each organisation's value on its outgoing pairs and on its memberships, after the
    model's own start), to test the survey plumbing before the model has the keyword."""
    from ioc_sim.model.model import CollaborationModel

    class WithRelations(CollaborationModel):
        def __init__(self, *, initial_relations=None, **kw):
            super().__init__(**kw)
            sim = self.sim
            arrays = {
                "trust": sim.trust,
                "confidence": sim.confidence,
                "risk_threshold": sim.risk,
                "conflict": sim.conflict,
            }
            for key, values in (initial_relations or {}).items():
                for org, v in values.items():
                    i = sim.pop.ids.index(org)
                    if key in arrays:
                        arrays[key][:, sim.st.src == i] = v
                    else:
                        state = sim.faith if key == "faith" else sim.progress
                        state[:, :-1][:, sim.st.mem_org == i] = v

    return WithRelations


def survey_file(tmp_path: Path) -> Path:
    rows = []
    for o, org in enumerate(["RXW", "R1D", "RL1", "SC01"]):
        for r in range(2):
            rows.append(
                {
                    "organisation": org,
                    "respondent": str(r + 1),
                    **{item: answer(o, r, j) for j, item in enumerate(ITEMS)},
                }
            )
    return write_answers(tmp_path / "answers.csv", rows)


def test_survey_start_with_a_stand_in_model(tmp_path, monkeypatch, capsys):
    import ioc_sim.model.model

    monkeypatch.setattr(ioc_sim.model, "CollaborationModel", stand_in_model())
    answers = survey_file(tmp_path)
    sc = load_scenario(SCENARIO)
    scores = survey.score_file(answers, [o["id"] for o in sc.organisations])
    started, options = survey.apply_survey(sc, scores)
    assert started.raw["survey"]["initial_relations"] == options["initial_relations"]
    model = started.build(months=6, **options)
    assert_started_from(
        model, options["initial_relations"], survey.organisation_overrides_from_scores(scores)
    )
    # Untouched organisations keep the values they would have had without the survey.
    plain = sc.build(months=6)
    i = plain.sim.pop.ids.index("PCN01")
    assert model.sim.org["capacity"][i] == plain.sim.org["capacity"][i]
    # The command line end to end: survey reading, simulated path, levers, manifest.
    out = tmp_path / "run"
    assert (
        main(
            [
                "run",
                SCENARIO,
                "--survey",
                str(answers),
                "--months",
                "6",
                "--replicates",
                "2",
                "--out",
                str(out),
                "--no-figure",
                "--levers",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert f"Survey {answers}: 8 respondent(s) in 4 organisations; maturity index" in text
    assert "Simulated maturity index (mean of 2 replicate(s)): month 0:" in text
    assert "Which levers move the collaboration" in text and "shared_vision" in text
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model_options"]["initial_relations"] == options["initial_relations"]
    assert manifest["scenario_contents"]["survey"]["source"] == str(answers)


def test_survey_start_of_a_synthetic_system_keeps_every_other_draw():
    sc = load_scenario("default")
    listed = survey.scenario_organisations(sc)
    a = sc.build(months=3).run().model_dataframe()
    from dataclasses import replace

    b = replace(sc, organisations=listed).build(months=3).run().model_dataframe()
    pd.testing.assert_frame_equal(a, b)


def test_run_with_survey_starts_the_model_from_the_answers(tmp_path, capsys):
    answers = survey_file(tmp_path)
    sc = load_scenario(SCENARIO)
    scores = survey.score_file(answers, [o["id"] for o in sc.organisations])
    started, options = survey.apply_survey(sc, scores)
    model = started.build(months=6, **options)
    assert_started_from(
        model, options["initial_relations"], survey.organisation_overrides_from_scores(scores)
    )
    out = tmp_path / "run"
    assert (
        main(
            [
                "run",
                SCENARIO,
                "--survey",
                str(answers),
                "--months",
                "6",
                "--replicates",
                "2",
                "--out",
                str(out),
                "--no-figure",
            ]
        )
        == 0
    )
    assert "Simulated maturity index" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model_options"]["initial_relations"] == options["initial_relations"]


def test_score_command_prints_report_and_writes_scores(tmp_path, capsys):
    p = write_answers(
        tmp_path / "a.csv",
        [straight("A", "1", 4), straight("A", "2", 2), straight("B", "1", 5, reverse_answer=1)],
    )
    out = tmp_path / "scores.csv"
    assert main(["survey", "score", str(p), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 organisations" in text and "Maturity index" in text
    assert "partners disagree on trust" in text
    table = pd.read_csv(out)
    assert set(table["level"]) == {"respondent", "organisation", "collaboration"}
    row = table[(table["level"] == "collaboration") & (table["construct"] == "trust")]
    assert row["score"].item() == pytest.approx(0.75)


def test_lever_effects_use_common_seeds_and_sort_by_size():
    sc = load_scenario("nhs_norfolk_suffolk_whole_icb")
    none = survey.lever_effects(
        sc,
        [1, 2],
        12,
        levers=[("shared_vision", "collaboration", 0.0), ("competition", "system", 0.0)],
    )
    assert (none["maturity_change"] == 0).all() and (none["performance_change"] == 0).all()
    table = survey.lever_effects(sc, [1, 2], 12)
    assert list(table["lever"]) != [] and set(table["lever"]) == {n for n, _, _ in survey.LEVERS}
    sizes = table["maturity_change"].abs().tolist()
    assert sizes == sorted(sizes, reverse=True)
    row = table.set_index("lever").loc["competition"]
    assert row["change"] == "0.2 -> 0"
    assert table.attrs["base_maturity"] > 0


def test_levers_without_a_survey_from_the_command_line(tmp_path, capsys):
    assert (
        main(
            [
                "run",
                "nhs_shropshire_provider_collaborative",
                "--months",
                "6",
                "--replicates",
                "1",
                "--out",
                str(tmp_path / "r"),
                "--no-figure",
                "--quiet",
                "--levers",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Which levers move the collaboration (change at month 6" in out
    assert "Survey" not in out
