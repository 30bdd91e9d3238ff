"""Pattern-oriented validation: patterns files load and check, every pattern runs, writes
its matrix and can fail, and a user's own pattern needs no code."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from ioc_sim.cli.main import main
from ioc_sim.errors import ConfigError
from ioc_sim.validation import (
    Criterion,
    bundled,
    load_patterns,
    matrix,
    measure,
    resolve_patterns_path,
    run_check,
    specification_variants,
    validate,
)
from ioc_sim.validation.statistics import half_time

PATTERNS = bundled()
PATTERN_IDS = tuple(p.id for p in PATTERNS)
LITERATURE = resolve_patterns_path(None)


def test_ten_patterns_with_criteria_and_breakers():
    assert PATTERN_IDS == tuple(f"P{k}" for k in range(1, 11))
    assert LITERATURE.name == "literature.toml" and LITERATURE.parent.name == "patterns"
    for p in PATTERNS:
        assert p.criterion and p.scenario and p.breaker and p.criteria, p.id
        assert p.value in p.statistics and p.arms, p.id


def test_variants_cover_every_alternative_specification():
    labels = [v[0] for v in specification_variants()]
    assert labels[0] == "default"
    assert "trust_update=ratchet" in labels and "performance_form=additive" in labels
    assert len(labels) == len(set(labels))


def test_negative_events_pattern_passes_and_fails_on_a_broken_specification():
    """P5 holds for the default asymmetric trust update and fails once the update is made
    symmetric (expectation gap with an erosion-to-building ratio of 1)."""
    p5 = next(p for p in PATTERNS if p.id == "P5")
    ok = run_check(p5, {})
    broken = run_check(p5, p5.breaker)
    assert ok.passed, ok.detail
    assert not broken.passed, broken.detail
    assert broken.value < ok.value


@pytest.mark.slow
@pytest.mark.parametrize("pattern", PATTERNS, ids=PATTERN_IDS)
def test_every_pattern_check_can_fail(pattern):
    """Under its breaker (a deliberately broken setting) each check reports a failure."""
    result = run_check(pattern, pattern.breaker)
    assert not result.passed, f"{pattern.id} still passes when broken: {result.detail}"


def test_validate_writes_the_matrix(tmp_path):
    checks = validate(tmp_path, patterns=["P5", "P6"], specifications=False)
    assert list(checks["pattern"]) == ["P5", "P6"]
    m = matrix(checks)
    assert m.shape == (2, 1) and set(m.values.ravel()) <= {"pass", "FAIL"}
    for name in ("checks.csv", "matrix.csv", "matrix.md", "validation.json"):
        assert (tmp_path / name).exists()


def test_validate_command(tmp_path, capsys):
    assert (
        main(["validate", "--pattern", "P5", "--default-only", "--quiet", "--out", str(tmp_path)])
        == 0
    )
    out = capsys.readouterr().out
    assert "| P5 |" in out and "reproduced" in out


def test_validate_unknown_pattern_is_a_one_line_error(tmp_path, capsys):
    assert main(["validate", "--pattern", "P99", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "P99" in err and "allowed" in err


@pytest.mark.slow
@pytest.mark.parametrize("pattern", PATTERNS, ids=PATTERN_IDS)
def test_the_default_specification_reproduces_every_pattern(pattern):
    """The model as shipped reproduces each pattern of docs/patterns.md."""
    result = run_check(pattern, {})
    assert result.passed, f"{pattern.id}: {result.detail}"


def _edited(tmp_path, old: str, new: str, name: str = "mine.toml"):
    text = LITERATURE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_validate_command_fails_when_the_default_specification_fails(tmp_path, capsys):
    """A pattern the default specification does not reproduce makes the command exit 1,
    naming it and its file; one failing only under an alternative specification
    (P5 under fragile = confidence) does not."""
    strict = _edited(tmp_path, "at_least = 1.2\n", "at_least = 100.0\n")
    args = ["validate", "--patterns", str(strict), "--pattern", "P5", "--quiet"]
    assert main([*args, "--default-only", "--out", str(tmp_path / "a")]) == 1
    assert f"fails P5 ({strict})" in capsys.readouterr().out
    checks = validate(None, patterns=["P5"])
    assert checks.loc[checks["variant"] == "fragile=confidence", "passed"].item() is False
    assert main(["validate", "--pattern", "P5", "--quiet", "--out", str(tmp_path / "b")]) == 0


def test_validate_at_other_root_seeds_reports_how_firmly_each_verdict_holds(tmp_path):
    """--seeds K reruns the default specification's checks at K - 1 other root seeds (the
    same ones every time), and the matrix says at how many of the K each pattern held."""
    checks = validate(tmp_path, patterns=["P5"], specifications=False, seeds=3)
    variants = checks["variant"].tolist()
    assert variants[0] == "default" and len(variants) == 3
    assert all(v.startswith("default, seed ") for v in variants[1:])
    assert len({c["value"] for _, c in checks.iterrows()}) == 3  # other random numbers
    again = validate(None, patterns=["P5"], specifications=False, seeds=3)
    assert again["variant"].tolist() == variants
    text = (tmp_path / "matrix.md").read_text()
    assert f"| P5 | {int(checks['passed'].sum())}/3 seeds |" in text


def test_arms_two_patterns_share_run_once(monkeypatch):
    """P1 and P2 read the same two merger arms: checked together, each arm runs once,
    and each pattern gets the numbers it gets alone."""
    import ioc_sim.validation.checks as checks

    calls = []
    real = checks.arm
    monkeypatch.setattr(checks, "arm", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    p1, p2 = PATTERNS[0], PATTERNS[1]
    together = [m.result() for m in measure([p1, p2], {}, replicates=8)]
    assert calls == ["merger", "merger"]
    alone = [measure([p], {}, replicates=8)[0].result() for p in (p1, p2)]
    assert [r.value for r in together] == [r.value for r in alone]


# ---------------------------------------------------------------- user patterns
LOCAL = """
[[pattern]]
id = "LOCAL1"
claim = "In our system, alliances of twelve providers keep most of their trust for five years."
source = "our ICS's partnership survey, 2024"
scenario = "default"
value = "trust_kept"
detail = "trust at month 60 is {trust_kept:.0%} of its start (needs at least 70%)"

[pattern.arms]
alliance = { set = { n_organisations = 12 }, months = 60 }

[pattern.statistics]
trust_60 = { kind = "path_mean", arm = "alliance", of = "trust", months = [60, 60] }
trust_0 = { kind = "path_mean", arm = "alliance", of = "trust", months = [0, 0] }
trust_kept = { kind = "ratio", numerator = "trust_60", denominator = "trust_0" }

[[pattern.criteria]]
statistic = "trust_kept"
at_least = 0.7
source = "partnership survey: trust scores fell by under a third"
"""


def test_a_users_own_pattern_runs_without_code(tmp_path, capsys):
    """A local fact, written as a patterns file, is checked beside the literature's."""
    (tmp_path / "local.toml").write_text(LOCAL, encoding="utf-8")
    args = ["validate", "--patterns", "literature", "--patterns", str(tmp_path / "local.toml")]
    out = tmp_path / "out"
    code = main(
        [
            *args,
            "--pattern",
            "P5",
            "--pattern",
            "LOCAL1",
            "--default-only",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert "| LOCAL1 |" in text and "| P5 |" in text and "trust at month 60 is" in text
    checks = (out / "checks.csv").read_text()
    assert "LOCAL1" in checks
    (p,) = load_patterns(tmp_path / "local.toml")
    (m,) = measure([p], {})
    assert m.stats["trust_kept"] == pytest.approx(m.stats["trust_60"] / m.stats["trust_0"])
    assert code == (0 if m.passed else 1)


def test_the_example_pattern_of_the_docs_loads(tmp_path):
    """The whole pattern shown in docs/patterns.md is a valid patterns file."""
    import re

    docs = (Path(__file__).resolve().parent.parent / "docs" / "patterns.md").read_text("utf-8")
    (block,) = re.findall(r"```toml\n(\[\[pattern\]\].*?)```", docs, flags=re.S)
    (tmp_path / "example.toml").write_text(block, encoding="utf-8")
    (p,) = load_patterns(tmp_path / "example.toml")
    assert p.id == "ICS1" and p.breaker


@pytest.mark.parametrize(
    "old, new, field",
    [
        (
            'kind = "largest_moves_ratio"',
            'kind = "largest_move"',
            "pattern[4].statistics.ratio.kind",
        ),
        ('of = "pair_trust"', 'of = "pair_trusts"', "pattern[4].statistics.ratio.of"),
        ('of = "pair_trust"', 'of = "trust"', "pattern[4].statistics.ratio.of"),
        (
            'arm = "alliance", of = "pair_trust"',
            'arm = "base", of = "pair_trust"',
            "pattern[4].statistics.ratio.arm",
        ),
        ("at_least = 1.2\n", 'at_least = "ratios"\n', "pattern[4].criteria[0].at_least"),
        ("at_least = 1.2\n", "at_least = 1.2\nat_most = 3\n", "pattern[4].criteria[0]"),
        (
            'statistic = "ratio"\nat_least',
            'statistic = "ratoi"\nat_least',
            "pattern[4].criteria[0].statistic",
        ),
        ("between = [0.005, 0.07]", "between = [0.07, 0.005]", "pattern[0].criteria[0].between"),
        (
            'drop_events = ["merger"] }\n\n# The',
            'drop_events = ["mergers"] }\n\n# The',
            "pattern[0].arms.without.drop_events[0]",
        ),
        (
            "HELPER = { capacity = 0.8 }",
            "HELPR = { capacity = 0.8 }",
            "pattern[7].arms.capable.organisations.HELPR",
        ),
        (
            "set = { n_organisations = 12 }, months = 36",
            "set = { n_organisations = 1 }, months = 36",
            "pattern[2].arms.pilots.set.n_organisations",
        ),
        (
            "breaker = { help_effect = 0.0 }",
            "breaker = { help_efect = 0.0 }",
            "pattern[7].breaker.help_efect",
        ),
        ('id = "P2"', 'id = "P1"', "pattern[1].id"),
        ("{ratio:.2f} times", "{ratios:.2f} times", "pattern[4].detail"),
        ('numerator = "late"', 'numerator = "kept"', "pattern[3].statistics.kept.numerator"),
        (
            'from_event = "shock", months = [1, 6] }\nrel',
            'from_event = "merger", months = [1, 6] }\nrel',
            "pattern[9].statistics.calm.from_event",
        ),
        (
            'tolerance = 0.02\nsource = "Beaulieu',
            'tolerance = -0.02\nsource = "Beaulieu',
            "pattern[1].criteria[0].tolerance",
        ),
        ("months = [12, 36]", "months = [36, 12]", "pattern[2].statistics.behaviour.months"),
    ],
)
def test_bad_patterns_file_gives_one_line_error(tmp_path, capsys, old, new, field):
    bad = _edited(tmp_path, old, new, "bad.toml")
    with pytest.raises(ConfigError) as err:
        load_patterns(bad)
    assert err.value.field.startswith(field), str(err.value)
    assert (
        main(["validate", "--patterns", str(bad), "--default-only", "--out", str(tmp_path / "out")])
        == 2
    )
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and str(bad) in line and field in line and "allowed" in line, line


def test_missing_or_malformed_patterns_file(tmp_path, capsys):
    assert main(["validate", "--patterns", "no_such_patterns"]) == 2
    assert "no such patterns file (bundled: literature)" in capsys.readouterr().err
    (tmp_path / "x.toml").write_text("[[pattern]\n", encoding="utf-8")
    assert main(["validate", "--patterns", str(tmp_path / "x.toml")]) == 2
    assert "malformed TOML" in capsys.readouterr().err


def test_statistics_catalogue_lists_every_kind_and_reader(capsys):
    from ioc_sim.validation.readers import READERS
    from ioc_sim.validation.statistics import KINDS

    assert main(["validate", "--statistics"]) == 0
    out = capsys.readouterr().out
    assert all(f"{k}:" in out for k in KINDS) and all(r in out for r in READERS)


# ---------------------------------------------------------------- criteria and statistics
def _stat(values):
    return values.__getitem__


@pytest.mark.parametrize(
    "target, bound, tol, s, holds, miss",
    [
        ("at_least", 1.0, 0.0, 1.0, True, 0.0),
        ("above", 1.0, 0.0, 1.0, False, 0.0),
        ("above", 1.0, 0.0, 0.5, False, 0.5),
        ("at_most", 0.0, 0.02, 0.02, True, 0.0),
        ("at_most", 0.0, 0.02, 0.05, False, 0.03),
        ("below", 2.0, 0.0, 1.0, True, 0.0),
        ("between", (0.1, 0.2), 0.0, 0.25, False, 0.05),
        ("between", (0.1, 0.2), 0.1, 0.25, True, 0.0),
        ("target", 3.0, 0.5, 3.4, True, 0.4),
        ("target", 3.0, 0.5, 2.0, False, 1.0),
    ],
)
def test_criterion_verdicts_and_distances(target, bound, tol, s, holds, miss):
    c = Criterion("s", target, bound, tolerance=tol)
    assert c.holds(s, _stat({})) is holds
    assert c.miss(s, _stat({})) == pytest.approx(miss)


def test_criterion_against_another_statistic():
    c = Criterion("capable", "at_most", "weak", times=0.8)
    assert c.holds(0.16, _stat({"weak": 0.2})) and not c.holds(0.17, _stat({"weak": 0.2}))
    assert c.miss(0.2, _stat({"weak": 0.2})) == pytest.approx(0.04)
    assert not c.holds(math.nan, _stat({"weak": 0.2}))


def test_half_time_and_smoothed_difference_by_hand():
    from ioc_sim.validation import statistics as st

    assert half_time(np.array([0.0, 1.0, 2.0, 4.0, 3.0]), 1) == 2.0  # half of 4 at month 2
    assert half_time(np.array([0.0, -1.0]), 0) == math.inf

    class Fake:  # two replicates, a counterfactual of zeros
        def series(self, arm, of, organisations=None):
            if arm == "b":
                return np.full((2, 5), 2.0)
            return np.array([[2.0, 2.0, 4.0, 6.0, 4.0], [2.0, 2.0, 6.0, 6.0, 6.0]])

        def event_month(self, spec):
            return 1

    spec = {"kind": "smoothed_difference", "arm": "a", "versus": "b", "of": "x", "smooth": 1}
    # differences: [0, 0, 2, 4, 2] and [0, 0, 4, 4, 4]; mean path [0, 0, 3, 4, 3]
    assert st.compute(Fake(), {**spec, "read": "peak"}) == 4.0
    assert st.compute(Fake(), {**spec, "read": "peak_month"}) == 3.0
    assert st.compute(Fake(), {**spec, "read": "gain"}) == 2.0  # 4 over the base 2
    assert st.compute(Fake(), {**spec, "read": "standard_error"}) == 0.0
    assert st.compute(Fake(), {**spec, "read": "z"}) == math.inf
    assert st.compute(Fake(), {**spec, "read": "half_time"}) == 2.0
