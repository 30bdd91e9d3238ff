"""ioc-sim transitions: how often the bundled scenarios' structural events happen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ioc_sim import CollaborationModel
from ioc_sim.cli.main import main
from ioc_sim.experiments.provenance import replicate_seeds
from ioc_sim.experiments.replicates import advance, start
from ioc_sim.experiments.scenarios import load_scenario
from ioc_sim.experiments.transitions import (
    MEASURES,
    replicate_values,
    summarise_transitions,
    transition_table,
)


@pytest.fixture(scope="module")
def ten_years():
    names = ("default", "buddying", "merger", "national_programme", "provider_collaborative")
    table = transition_table([load_scenario(n) for n in names], months=120, replicates=8)
    return table.set_index(["scenario", "measure"])["estimate"]


def test_over_ten_years_the_bundled_scenarios_show_every_structural_event(ten_years):
    # Entries into and exits from special measures, deepening, dissolution, a merger.
    assert ten_years["default", "entries"] > 0 and ten_years["default", "exits"] > 0
    assert ten_years["provider_collaborative", "entries"] > 0
    assert ten_years["buddying", "exits"] > 0
    assert ten_years["default", "dissolved"] > 0
    assert ten_years["national_programme", "deepened"] > 0
    assert ten_years["merger", "mergers"] == 1.0
    # A mandated collaborative ends only by a policy event, and none is scheduled.
    assert ten_years["provider_collaborative", "dissolved"] == 0.0
    assert ten_years["provider_collaborative", "wound_down"] == 0.0


def test_each_replicate_counts_what_the_model_run_alone_shows():
    sc = load_scenario("default")
    seeds = replicate_seeds(sc.seed, 3)
    sim = start(sc.model_kwargs(months=72), seeds)
    advance(sim, 72, (), at=())
    values = replicate_values(sim).set_index("replicate")
    for r, seed in enumerate(seeds):
        alone = CollaborationModel(rng=seed, **sc.model_kwargs(months=72)).run()
        col = alone.collaboration_events()
        org = alone.organisation_events()
        n_collab = len(alone.collaborations())
        began = col.loc[col["event"] == "dissolution began", "collaboration"].nunique()
        assert values.loc[r, "dissolved"] == began / n_collab
        for name, event in (
            ("entries", "entered special measures"),
            ("exits", "left special measures"),
            ("at_start", "in special measures at the start"),
        ):
            assert values.loc[r, name] == (org["event"] == event).sum(), name


def test_intervals_come_from_resampling_and_repeat_with_the_seed():
    values = pd.DataFrame({"replicate": range(4)})
    for m in MEASURES:
        if m.name != "sm_months":
            values[m.name] = [0.0, 1.0, 1.0, 2.0]
    episodes = pd.DataFrame(
        {"replicate": [0, 1, 2, 3], "months": [10.0, 20.0, 30.0, 40.0], "ended": [True] * 4}
    )
    a = summarise_transitions(values, episodes, seed=5)
    assert a == summarise_transitions(values, episodes, seed=5)
    est, low, high = a["entries"]
    assert est == 1.0 and 0.0 <= low < est < high <= 2.0
    assert a["sm_months"][0] == 25.0  # the ordinary median when every episode ended
    # No replicate differs: no spread.
    same = values.assign(entries=1.0)
    assert summarise_transitions(same, episodes, seed=5)["entries"] == (1.0, 1.0, 1.0)


def test_a_median_not_reached_is_said_so():
    values = pd.DataFrame({"replicate": range(2)})
    for m in MEASURES:
        if m.name != "sm_months":
            values[m.name] = 0.0
    open_ = pd.DataFrame({"replicate": [0, 1], "months": [60.0, 60.0], "ended": [False, False]})
    assert np.isinf(summarise_transitions(values, open_, seed=1)["sm_months"][0])
    none = open_.iloc[:0]
    assert np.isnan(summarise_transitions(values, none, seed=1)["sm_months"][0])


def test_command_prints_the_table_and_writes_it(tmp_path, capsys):
    out = tmp_path / "t.csv"
    code = main(["transitions", "merger", "--months", "36", "--replicates", "3", "--quiet",
                 "--out", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert "| merger |" in printed and "months in SM" in printed
    table = pd.read_csv(out)
    assert set(table["measure"]) == {m.name for m in MEASURES}
    assert (table["scenario"] == "merger").all() and (table["months"] == 36).all()
    mergers = table.set_index("measure").loc["mergers"]
    assert mergers["estimate"] == 1.0  # the scenario's merger completes at month 24


def test_command_refuses_an_unknown_scenario_in_one_line(capsys):
    assert main(["transitions", "no_such_scenario", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no_such_scenario" in err[0]
