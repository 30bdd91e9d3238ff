"""Experiment outcomes read from what happened (share, median_months, corr): their
fields, their errors, and their values, which must be what one computes by hand from the
tables of a model run alone with the same seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from ioc_sim import CollaborationModel
from ioc_sim.cli.main import main
from ioc_sim.errors import ConfigError
from ioc_sim.experiments.execution import run_experiment
from ioc_sim.experiments.reductions import reduce_runs
from ioc_sim.experiments.results import load_results
from ioc_sim.experiments.spec import load_experiment
from ioc_sim.model.measures import kaplan_meier_median

# A small system where things happen: a merger at month 6, a programme wound down at
# month 4, a collaboration starting at month 5, two trusts weak enough for special
# measures (one from the start), two that start in special measures but can recover.
SCENARIO = """# Question: what happens in a small system with a merger and a wind-down?
[scenario]
name = "events"
months = 36

[[organisations]]
id = "A"
type = "acute"
size = 1.5

[[organisations]]
id = "B"
type = "acute"
size = 0.5

[[organisations]]
id = "C"
type = "community"

[[organisations]]
id = "D"
type = "mental_health"

[[organisations]]
id = "WEAK"
type = "acute"
distressed = true
baseline_performance = 0.02
capacity = 0.1
finances = 0.05

[[organisations]]
id = "SLIP"
type = "acute"
baseline_performance = 0.05
capacity = 0.1
finances = 0.1

[[organisations]]
id = "RECOVERING"
type = "community"
distressed = true
baseline_performance = 0.8
capacity = 0.8

[[organisations]]
id = "BOUNCING"
type = "acute"
distressed = true
baseline_performance = 0.7
capacity = 0.7

[[collaborations]]
name = "alliance"
form = "alliance"
members = ["A", "B", "WEAK", "SLIP", "RECOVERING", "BOUNCING"]

[[collaborations]]
name = "programme"
form = "provider_collaborative"
members = ["A", "C", "D"]

[[collaborations]]
name = "late"
form = "alliance"
members = ["C", "D", "SLIP"]
start = 5

[[events]]
month = 6
kind = "merger"
organisations = ["A", "B"]

[[events]]
month = 4
kind = "wind_down"
collaboration = "programme"
"""

OUTCOMES = """
[outcomes]
wound_down = { reduce = "share", of = "collaborations", event = "wind-down began" }
started_by_3 = { reduce = "share", of = "collaborations", event = "started", month = 3 }
entered = { reduce = "share", of = "organisations", event = "entered special measures" }
sm_months = { reduce = "median_months", of = "special measures" }
to_dissolved = { reduce = "median_months", of = "collaborations", event = "dissolved" }
to_start = { reduce = "median_months", of = "collaborations", event = "started" }
to_entry = { reduce = "median_months", of = "organisations", event = "entered special measures" }
age_confidence = { reduce = "corr", of = "pairs", x = "relationship_age", y = "confidence" }
trust_confidence_24 = { reduce = "corr", of = "pairs", x = "trust", y = "confidence", month = 24 }

[outcomes.left_of_weak]
reduce = "share"
of = "organisations"
event = "left special measures"
among = "in special measures at the start"
empty = -1

[outcomes.sm_months_entered]
reduce = "median_months"
of = "special measures"
at_start = false
month = 30
never = 99
empty = -1

[outcomes.capacity_performance]
reduce = "corr"
of = "organisations"
x = "capacity"
y = "performance"
undefined = 9
"""


def experiment(tmp_path: Path, outcomes: str = OUTCOMES, replicates: int = 3) -> Path:
    (tmp_path / "events.toml").write_text(SCENARIO)
    text = (
        '[experiment]\nname = "events"\nscenario = "events.toml"\nseed = 4\n'
        f"replicates = {replicates}\nmonths = 36\n\n"
        '[design]\nmethod = "latin"\nn = 2\n\n[factors]\ntrust_gain = {}\n' + outcomes
    )
    path = tmp_path / "exp.toml"
    path.write_text(text)
    return path


# ----------------------------------------------------------------- by hand
def km_by_hand(durations: list[int], ended: list[bool]) -> float | None:
    """Kaplan-Meier median month by month: survival drops at month t by the share of
    those still in (duration >= t) that end at t; the median is the first month below
    one half, or the midpoint to the next drop when it sits exactly at one half."""
    durations, ended = np.array(durations), np.array(ended, bool)
    survival, drops = 1.0, []
    for t in range(int(durations.max()) + 1 if len(durations) else 0):
        d = np.sum(ended & (durations == t))
        if d:
            survival *= 1 - d / np.sum(durations >= t)
            drops.append((t, survival))
    for k, (t, s) in enumerate(drops):
        if s < 0.5 - 1e-9:
            return t
        if abs(s - 0.5) <= 1e-9:
            return (t + drops[k + 1][0]) / 2 if k + 1 < len(drops) else t
    return None


def first_months(events: pd.DataFrame, key: str, event: str) -> dict[str, int]:
    hits = events[events["event"] == event]
    return hits.groupby(key)["month"].min().to_dict()


def by_hand(model: CollaborationModel, month_24: CollaborationModel, month_30) -> dict:
    """Every outcome of OUTCOMES from the tables of models run alone (at month 36, 24
    and 30)."""
    out = {}
    names = [c.name for c in model.sim.st.collabs]
    ids = model.sim.pop.ids
    ce, oe = model.collaboration_events(), model.organisation_events()
    out["wound_down"] = len(first_months(ce, "collaboration", "wind-down began")) / len(names)
    early = ce[ce["month"] <= 3]
    out["started_by_3"] = len(first_months(early, "collaboration", "started")) / len(names)
    out["entered"] = len(first_months(oe, "organisation", "entered special measures")) / len(ids)
    weak = set(first_months(oe, "organisation", "in special measures at the start"))
    left = set(first_months(oe, "organisation", "left special measures"))
    out["left_of_weak"] = len(weak & left) / len(weak) if weak else -1

    def median(durations, ended, never, empty):
        if not len(durations):
            return empty
        m = km_by_hand(durations, ended)
        return never if m is None else m

    ep = model.episodes().query("episode == 'special measures'")
    out["sm_months"] = median(
        ep["duration"].tolist(), (ep["outcome"] != "still open").tolist(), 37, 0
    )
    ep30 = month_30.episodes().query("episode == 'special measures' and not at_start")
    out["sm_months_entered"] = median(
        ep30["duration"].tolist(), (ep30["outcome"] != "still open").tolist(), 99, -1
    )
    started = first_months(ce, "collaboration", "started")
    dissolved = first_months(ce, "collaboration", "dissolved")
    out["to_dissolved"] = median(
        [dissolved.get(c, 36) - s for c, s in started.items()],
        [c in dissolved for c in started],
        37,
        0,
    )
    out["to_start"] = median(
        [started.get(c, 36) for c in names], [c in started for c in names], 37, 0
    )
    entered = first_months(oe, "organisation", "entered special measures")
    out["to_entry"] = median([entered.get(i, 36) for i in ids], [i in entered for i in ids], 37, 0)

    def rho(table, x, y, undefined):
        t = table[[x, y]].dropna().astype(float)
        if len(t) < 2 or t[x].nunique() < 2 or t[y].nunique() < 2:
            return undefined
        return spearmanr(t[x], t[y]).statistic

    out["age_confidence"] = rho(model.pairs(), "relationship_age", "confidence", 0)
    out["trust_confidence_24"] = rho(month_24.pairs(), "trust", "confidence", 0)
    orgs = model.organisations_now().query("in_being")
    out["capacity_performance"] = rho(orgs, "capacity", "performance", 9)
    return out


def test_outcomes_equal_what_the_tables_of_each_run_alone_give(tmp_path):
    exp = load_experiment(experiment(tmp_path))
    run_experiment(exp, tmp_path / "out", workers=1, show_progress=False)
    runs = load_results(tmp_path / "out").runs
    assert len(runs) == 6 and (runs["status"] == "ok").all()
    seen = set()
    for _, run in runs.iterrows():
        kwargs = exp.row_kwargs(int(run["row"]))
        seed = int(run["seed"])
        model = CollaborationModel(rng=seed, **kwargs).run()
        at24 = CollaborationModel(rng=seed, **kwargs).run(24)
        at30 = CollaborationModel(rng=seed, **kwargs).run(30)
        for name, value in by_hand(model, at24, at30).items():
            assert run[name] == pytest.approx(value, rel=1e-12, abs=1e-12), (run["run_id"], name)
            seen.add((name, float(value)))
    values = {name: {v for n, v in seen if n == name} for name, _ in seen}
    # The system is built so that each outcome measures something.
    assert values["wound_down"] == {1 / 3} and values["started_by_3"] == {2 / 3}
    # Two of the three in special measures at the start recover; WEAK cannot.
    assert all(0 < v < 1 for v in values["left_of_weak"])
    assert min(values["entered"]) > 0  # SLIP enters
    assert any(0 < v < 37 for v in values["sm_months"])  # over half the episodes end
    assert values["to_start"] == {0.0}  # two of three start at month 0
    assert all(-1 <= v <= 1 for v in values["age_confidence"] | values["trust_confidence_24"])
    assert values["age_confidence"] != {0.0} and values["capacity_performance"] != {9.0}


def test_a_batch_gives_each_replicate_the_numbers_of_its_run_alone(tmp_path):
    exp = load_experiment(experiment(tmp_path, replicates=4))
    kwargs = exp.row_kwargs(1)
    together, _ = reduce_runs(kwargs, exp.seeds, 36, exp.outcomes)
    for i, seed in enumerate(exp.seeds):
        alone, _ = reduce_runs(kwargs, [seed], 36, exp.outcomes)
        for o in exp.outcomes:
            assert together[o.name][i] == alone[o.name][0], o.name


def test_the_kaplan_meier_median_is_the_ordinary_median_without_open_ones():
    for xs in ([4], [1, 2, 3], [1, 2, 3, 4], [3, 3, 5, 7, 7, 10], [5, 9]):
        assert kaplan_meier_median(xs, [True] * len(xs)) == np.median(xs)
    # Freireich et al. (1963), 6-MP arm, weeks in remission (False: still in remission):
    # the textbook Kaplan-Meier median is 23 weeks.
    weeks = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    ended = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    assert kaplan_meier_median(weeks, [bool(e) for e in ended]) == 23
    assert kaplan_meier_median([2, 5, 8], [True, False, False]) is None
    assert kaplan_meier_median([], []) is None


BAD = [
    (
        "share without of",
        'x = { reduce = "share", event = "deepened" }',
        "outcomes.x.of: missing; allowed: one of 'collaborations', 'organisations'",
    ),
    (
        "share with an organisation's event for collaborations",
        'x = { reduce = "share", of = "collaborations", event = "entered special measures" }',
        "outcomes.x.event: got 'entered special measures'; allowed: one of 'started'",
    ),
    (
        "share with a bad among",
        'x = { reduce = "share", of = "organisations", event = "left special measures", '
        'among = "distressed" }',
        "outcomes.x.among: got 'distressed'; allowed: one of 'in special measures at the start'",
    ),
    (
        "share with a metric",
        'x = { reduce = "share", of = "collaborations", event = "deepened", metric = "trust" }',
        "outcomes.x.metric: unknown key for reduce = 'share'",
    ),
    (
        "share month past the end",
        'x = { reduce = "share", of = "collaborations", event = "deepened", month = 40 }',
        "outcomes.x.month: got 40; allowed: a whole month from 0 to 36",
    ),
    (
        "median of special measures with an event",
        'x = { reduce = "median_months", of = "special measures", event = "deepened" }',
        "outcomes.x.event: unknown key for of = 'special measures'",
    ),
    (
        "median of collaborations without an event",
        'x = { reduce = "median_months", of = "collaborations" }',
        "outcomes.x.event: missing; allowed: one of 'started', 'deepened'",
    ),
    (
        "median of collaborations with at_start",
        'x = { reduce = "median_months", of = "collaborations", event = "deepened", '
        "at_start = true }",
        "outcomes.x.at_start: unknown key for of = 'collaborations'",
    ),
    (
        "median with a non-boolean at_start",
        'x = { reduce = "median_months", of = "special measures", at_start = 1 }',
        "outcomes.x.at_start: got 1; allowed: true or false",
    ),
    (
        "median of pairs",
        'x = { reduce = "median_months", of = "pairs" }',
        "outcomes.x.of: got 'pairs'; allowed: one of 'special measures', 'collaborations'",
    ),
    (
        "median with a text never",
        'x = { reduce = "median_months", of = "special measures", never = "never" }',
        "outcomes.x.never: got 'never'; allowed: a number",
    ),
    (
        "corr with an unknown column",
        'x = { reduce = "corr", of = "pairs", x = "age", y = "trust" }',
        "outcomes.x.x: got 'age'; allowed: one of 'relationship_age', 'trust'",
    ),
    (
        "corr of a column with itself",
        'x = { reduce = "corr", of = "pairs", x = "trust", y = "trust" }',
        "outcomes.x.y: got 'trust', the same as x; allowed: another column",
    ),
    (
        "corr of an organisation column across pairs",
        'x = { reduce = "corr", of = "pairs", x = "trust", y = "emergency_admissions" }',
        "outcomes.x.y: got 'emergency_admissions'; allowed: one of 'relationship_age'",
    ),
    (
        "corr with a text undefined",
        'x = { reduce = "corr", of = "organisations", x = "capacity", y = "quality", '
        'undefined = "nan" }',
        "outcomes.x.undefined: got 'nan'; allowed: a number",
    ),
]


@pytest.mark.parametrize("entry,expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_mistaken_outcome_names_its_field_in_one_line(tmp_path, capsys, entry, expected):
    path = experiment(tmp_path, "[outcomes]\n" + entry + "\n")
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert str(info.value).startswith(f"{path}: ")
    assert expected in str(info.value)
    assert main(["experiment", "run", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0] == f"ioc-sim: error: {info.value}"


def test_outcomes_describe_themselves(tmp_path):
    exp = load_experiment(experiment(tmp_path))
    meaning = {o.name: o.describe() for o in exp.outcomes}
    assert meaning["left_of_weak"] == (
        "share of organisations among those with 'in special measures at the start' with "
        "'left special measures' by month 36 (-1 if none)"
    )
    assert meaning["sm_months_entered"] == (
        "median months in special measures (episodes entered) by month 30; open ones count "
        "as running (Kaplan-Meier); 99 if fewer than half ended, -1 if none"
    )
    assert meaning["to_dissolved"].startswith(
        "median months from a collaboration's start to 'dissolved' by month 36"
    )
    assert meaning["age_confidence"] == (
        "Spearman rank correlation of relationship_age and confidence across pairs at month 36 "
        "(0 if undefined)"
    )
