"""The theory scorecard: statistics on synthetic data with known answers, the theory file's
errors, and the command end to end on a tiny design."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from ioc_sim.cli.main import main
from ioc_sim.errors import ConfigError
from ioc_sim.theory import (
    association_effect,
    describe_box,
    load_theory,
    prim_box,
    rank_agreement,
    regression_effect,
    savage_scores,
    theory_features,
    top_down_concordance,
    verdict_of,
    wilson_interval,
)

ROOT = Path(__file__).resolve().parent.parent
THEORY = ROOT / "experiments" / "theories" / "programme_theory.toml"


# ----------------------------------------------------------------- verdicts
def _synthetic(relation: float, seed: int = 3, n: int = 300):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 3))
    y = relation * np.sqrt(X[:, 0]) + 0.5 * X[:, 1] + rng.normal(scale=0.2, size=n)
    return X, y


def test_monotone_relation_is_supported():
    X, y = _synthetic(+1.0)
    eff = regression_effect(X, y, 0, +1)
    assert eff.verdict == "supported"
    assert eff.low > 0


def test_null_relation_has_no_detectable_effect():
    X, y = _synthetic(0.0)
    assert regression_effect(X, y, 0, +1).verdict == "no detectable effect"


def test_reversed_relation_is_contradicted():
    X, y = _synthetic(-1.0)
    eff = regression_effect(X, y, 0, +1)
    assert eff.verdict == "contradicted"
    assert eff.high < 0


def test_association_verdicts():
    rng = np.random.default_rng(1)
    x = rng.uniform(size=200)
    assert association_effect(x, x**3 + rng.normal(scale=0.1, size=200), +1).verdict == "supported"
    assert association_effect(x, rng.normal(size=200), +1).verdict == "no detectable effect"
    assert association_effect(x, -x + rng.normal(scale=0.1, size=200), +1).verdict == "contradicted"


def test_verdict_from_interval():
    assert verdict_of(+1, 0.1, 0.3) == "supported"
    assert verdict_of(-1, 0.1, 0.3) == "contradicted"
    assert verdict_of(+1, -0.1, 0.3) == "no detectable effect"
    assert verdict_of(+1, math.nan, 0.3) == "no detectable effect"


# ----------------------------------------------------------------- rank measures
def test_wilson_interval_matches_formula():
    # Wilson (1927) by hand for 7 of 10 at 95%.
    k, n, z = 7, 10, stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(centre - half, abs=1e-9)
    assert hi == pytest.approx(centre + half, abs=1e-9)


def test_savage_scores_by_hand():
    # n = 3: ranks 1, 2, 3 score 1 + 1/2 + 1/3, 1/2 + 1/3, 1/3.
    s = savage_scores(np.array([0.9, 0.5, 0.1]))
    assert s == pytest.approx([11 / 6, 5 / 6, 1 / 3])
    # Ties share the mean of the scores of the ranks they span.
    t = savage_scores(np.array([0.9, 0.9, 0.1]))
    assert t == pytest.approx([4 / 3, 4 / 3, 1 / 3])


def test_top_down_concordance_by_hand():
    a = np.array([4.0, 3.0, 2.0, 1.0])
    assert top_down_concordance(a, a) == pytest.approx(1.0)
    # Swapping the two least important items: scores S = [25/12, 13/12, 7/12, 1/4].
    s = [25 / 12, 13 / 12, 7 / 12, 1 / 4]
    s1 = 25 / 12
    swapped = (s[0] ** 2 + s[1] ** 2 + 2 * s[2] * s[3] - 4) / (4 - s1)
    assert top_down_concordance(a, np.array([4.0, 3.0, 1.0, 2.0])) == pytest.approx(swapped)
    # Disagreement at the top costs more than at the bottom.
    top_swap = top_down_concordance(a, np.array([3.0, 4.0, 2.0, 1.0]))
    assert top_swap < swapped


def test_kendall_tau_by_hand_and_bootstrap_interval():
    theory = -np.array([1, 1, 2, 3], float)  # tiers, most important first
    st = np.array([0.5, 0.4, 0.3, 0.1])
    # Pairs: (1,2) tied in theory; 5 concordant, 0 discordant; tau-b = 5/sqrt(5*6).
    r = rank_agreement(theory, st, np.zeros(4), n_boot=50)
    assert r["kendall_tau"] == pytest.approx(5 / math.sqrt(30))
    assert r["tau_low"] == pytest.approx(r["kendall_tau"])  # no uncertainty, no spread
    wide = rank_agreement(theory, st, np.full(4, 0.5), n_boot=200, seed=1)
    assert wide["tau_low"] < wide["kendall_tau"] <= wide["tau_high"]


# ----------------------------------------------------------------- PRIM
def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(7)
    X = rng.uniform(size=(3000, 4))
    inside = (X[:, 1] < 0.3) & (X[:, 2] > 0.6)
    y = np.where(inside, rng.uniform(size=3000) < 0.9, rng.uniform(size=3000) < 0.05)
    box = prim_box(X, y.astype(float), min_support=0.05)
    assert sorted(box.restricted) == [1, 2]
    assert box.limits[1, 1] == pytest.approx(0.3, abs=0.05)
    assert box.limits[2, 0] == pytest.approx(0.6, abs=0.05)
    assert box.mean > 0.8
    words = describe_box(
        box,
        ["a", "data_sharing", "resource_pressure", "d"],
        {"data_sharing": "data sharing", "resource_pressure": "financial pressure"},
        {n: (0.0, 1.0) for n in ("a", "data_sharing", "resource_pressure", "d")},
    )
    assert "low data sharing" in words and "high financial pressure" in words


# ----------------------------------------------------------------- the theory file
def test_bundled_theory_loads():
    t = load_theory()
    assert len(t.hypotheses) >= 20
    assert {h.status for h in t.hypotheses} <= {"stated", "inferred"}
    assert t.tiers and t.interactions
    feats = theory_features(t, ["initial_trust", "data_sharing", "resource_pressure"])
    assert feats["data_sharing"] == 1 and feats["resource_pressure"] == -1


@pytest.mark.parametrize(
    "edit, field",
    [
        (('sign = "-"', 'sign = "down"', 1), "hypotheses[0].sign"),
        (('cause = "accountability"', 'cause = "acountability"', 1), "hypotheses[0].cause"),
        (('status = "stated"', 'status = "maybe"', 1), "hypotheses[0].status"),
        (
            ('parameters = ["initial_trust"]', 'parameters = ["initial_trusts"]', 1),
            "constructs.trust.parameters[0]",
        ),
        (("alpha = 0.05", "alpha = 2", 1), "theory.alpha"),
        (("\n[importance]\n", "\n[importanc]\n", 1), "importanc"),
    ],
)
def test_bad_theory_file_gives_one_line_error(tmp_path, capsys, edit, field):
    old, new, count = edit
    text = THEORY.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(old, new, count), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_theory(bad)
    assert err.value.field.startswith(field)
    assert main(["theory", "test", str(bad), "--results", str(tmp_path)]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and str(bad) in line and field in line and "allowed" in line


def test_missing_theory_file(capsys):
    assert main(["theory", "test", "no_such_theory.toml"]) == 2
    assert "no such theory file" in capsys.readouterr().err


# ----------------------------------------------------------------- end to end
TINY = """
[experiment]
name = "tiny_theory"
scenario = "default"
seed = 5
replicates = 1
months = 36

[fixed]
n_organisations = 6

[design]
method = "sobol"
n = 8
second_order = true

[factors]
accountability = {}
initial_trust = {}
data_sharing = {}
mandate = {}

[outcomes]
conflict = { metric = "conflict", reduce = "mean", from = 12 }
trust = { metric = "trust", reduce = "mean", from = 12 }
collaborative_performance = { metric = "collaborative_performance", reduce = "mean", from = 12 }
"""

TINY_THEORY = """
[theory]
name = "tiny"
target = "collaborative_performance"

[constructs.trust]
parameters = ["initial_trust"]
outcome = "trust"

[constructs.conflict]
outcome = "conflict"

[constructs.collaborative_performance]
outcome = "collaborative_performance"

[constructs.accountability]
parameters = ["accountability"]

[constructs.data_sharing]
label = "data sharing"
parameters = ["data_sharing"]

[constructs.mandate]
parameters = ["mandate"]

[[hypotheses]]
id = "A1"
statement = "Accountability lowers conflict."
cause = "accountability"
effect = "conflict"
sign = "-"

[[hypotheses]]
id = "A2"
statement = "Trust raises performance."
cause = "trust"
effect = "collaborative_performance"
sign = "+"

[importance]
tiers = [["trust"], ["data_sharing", "accountability"], ["mandate"]]

[[interactions]]
id = "X1"
context = "mandate"
mechanism = "trust"
outcome = "collaborative_performance"
sign = "-"
"""


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("theory")
    (d / "tiny.toml").write_text(TINY, encoding="utf-8")
    (d / "theory.toml").write_text(TINY_THEORY, encoding="utf-8")
    out = d / "out"
    assert (
        main(
            [
                "theory",
                "test",
                str(d / "theory.toml"),
                "--experiment",
                str(d / "tiny.toml"),
                "--out",
                str(out),
                "--workers",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    return d, out


def test_theory_test_end_to_end(tiny_run):
    d, out = tiny_run
    for name in (
        "hypotheses.csv",
        "importance.csv",
        "interactions.csv",
        "surrogates.csv",
        "regional_sensitivity.csv",
        "prim_boxes.csv",
        "summary.md",
        "scorecard.json",
        "hypotheses.png",
    ):
        assert (out / name).exists(), name
    summary = (out / "summary.md").read_text()
    for head in (
        "Directional agreement",
        "Hypotheses",
        "Kendall",
        "Predictive accuracy",
        "Where the theory fails",
    ):
        assert head in summary


def test_edited_theory_is_reflected_and_reproducible(tiny_run, tmp_path):
    """Adding a CMOC to the file and re-scoring the same results shows it; scoring twice
    gives identical tables (everything from the results folder and the seed)."""
    d, out = tiny_run
    edited = (
        TINY_THEORY
        + """
[[hypotheses]]
id = "MINE"
statement = "Data sharing raises collaborative performance."
cause = "data_sharing"
effect = "collaborative_performance"
sign = "+"
"""
    )
    (tmp_path / "mine.toml").write_text(edited, encoding="utf-8")
    out2 = tmp_path / "again"
    assert (
        main(
            [
                "theory",
                "test",
                str(tmp_path / "mine.toml"),
                "--results",
                str(out / "experiment"),
                "--out",
                str(out2),
                "--quiet",
                "--no-figures",
            ]
        )
        == 0
    )
    text = (out2 / "hypotheses.csv").read_text()
    assert "MINE" in text
    first = (out / "hypotheses.csv").read_text().splitlines()
    assert text.splitlines()[: len(first)] == first
    shutil.rmtree(out2)
    assert (
        main(
            [
                "theory",
                "test",
                str(tmp_path / "mine.toml"),
                "--results",
                str(out / "experiment"),
                "--out",
                str(out2),
                "--quiet",
                "--no-figures",
            ]
        )
        == 0
    )
    assert (out2 / "hypotheses.csv").read_text() == text


def test_non_sobol_design_scores_what_it_can(tmp_path):
    """A Latin hypercube has no Sobol' indices: hypotheses, interactions, prediction and
    failure regions are still scored, and the importance ranking says why it is not."""
    (tmp_path / "lat.toml").write_text(
        TINY.replace('method = "sobol"\nn = 8\nsecond_order = true', 'method = "latin"\nn = 40'),
        encoding="utf-8",
    )
    (tmp_path / "theory.toml").write_text(TINY_THEORY, encoding="utf-8")
    out = tmp_path / "out"
    assert (
        main(
            [
                "theory",
                "test",
                str(tmp_path / "theory.toml"),
                "--experiment",
                str(tmp_path / "lat.toml"),
                "--out",
                str(out),
                "--workers",
                "1",
                "--quiet",
                "--no-figures",
            ]
        )
        == 0
    )
    summary = (out / "summary.md").read_text()
    assert "latin design" in summary and "need a Sobol' design" in summary
    assert (out / "prim_boxes.csv").exists() and not (out / "importance.csv").exists()


def test_theory_features_follow_chains_and_drop_contested_signs():
    from ioc_sim.theory import parse_theory

    data = {
        "theory": {"target": "perf"},
        "constructs": {
            "a": {"parameters": ["pace"]},
            "b": {"parameters": ["competition"], "outcome": "b"},
            "c": {"parameters": ["mandate"]},
            "perf": {"outcome": "perf"},
        },
        "hypotheses": [
            {"id": "1", "statement": "s", "cause": "a", "effect": "perf", "sign": "+"},
            {"id": "2", "statement": "s", "cause": "a", "effect": "b", "sign": "+"},
            {"id": "3", "statement": "s", "cause": "b", "effect": "perf", "sign": "-"},
            {"id": "4", "statement": "s", "cause": "c", "effect": "b", "sign": "-"},
        ],
    }
    feats = theory_features(parse_theory(data), ["pace", "competition", "mandate"])
    # a: + directly, - through b -> contested; b: -; c: - then - -> +.
    assert feats == {"pace": 0, "competition": -1, "mandate": 1}


def test_scorecard_module_still_names_what_moved_out_of_it():
    from ioc_sim.theory import design, scorecard

    assert scorecard.Scorecard is design.Scorecard
    assert scorecard.read_design is design.read_design
