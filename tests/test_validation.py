"""Pattern-oriented validation: every pattern check runs, writes its matrix, and can fail."""

from __future__ import annotations

import pytest

from ioc_sim.cli.main import main
from ioc_sim.validation import (
    PATTERN_IDS,
    PATTERNS,
    matrix,
    run_check,
    specification_variants,
    validate,
)


def test_ten_patterns_with_criteria_and_breakers():
    assert PATTERN_IDS == tuple(f"P{k}" for k in range(1, 11))
    for p in PATTERNS:
        assert p.criterion and p.scenario and p.breaker, p.id


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
