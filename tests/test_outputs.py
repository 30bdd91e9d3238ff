"""The tables of what happened in a run (ioc_sim.model.outputs), on small hand-built
systems whose events are known: a merger, an organisation in special measures from the
start, a collaboration wound down, a collaboration that starts late."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ioc_sim import CollaborationModel
from ioc_sim.experiments.replicates import advance, start
from ioc_sim.model import outputs

# A very weak trust: in special measures from the start, with nothing to recover with.
WEAK = {
    "id": "WEAK",
    "type": "acute",
    "distressed": True,
    "baseline_performance": 0.02,
    "capacity": 0.1,
    "finances": 0.05,
}
ORGANISATIONS = [
    {"id": "A", "type": "acute", "name": "Large acute trust", "size": 1.5},
    {"id": "B", "type": "acute", "name": "Small acute trust", "size": 0.5},
    {"id": "C", "type": "community"},
    {"id": "D", "type": "mental_health"},
    WEAK,
]
COLLABORATIONS = [
    {"name": "alliance", "form": "alliance", "members": ["A", "B", "WEAK"]},
    {"name": "programme", "form": "provider_collaborative", "members": ["A", "C", "D"]},
]
EVENTS = [
    {"month": 6, "kind": "merger", "organisations": ["A", "B"], "name": "Merged trust"},
    {"month": 4, "kind": "wind_down", "collaboration": "programme"},
]


def system(**kw):
    return {
        "organisations": ORGANISATIONS,
        "collaborations": COLLABORATIONS,
        "events": EVENTS,
        "months": 24,
        **kw,
    }


@pytest.fixture(scope="module")
def model():
    return CollaborationModel(rng=3, collect_organisations=True, **system()).run()


def test_a_merger_shows_its_completion_and_the_absorbed_organisation_stops(model):
    ep = model.episodes()
    merger = ep[ep["episode"] == "merger"]
    assert len(merger) == 1
    row = merger.iloc[0]
    assert (row["organisation"], row["name"], row["absorbed"]) == ("A", "Merged trust", "B")
    assert (row["start"], row["end"], row["outcome"]) == (6, 6, "completed")
    assert pd.isna(row["duration"])
    ev = model.organisation_events()
    rows = ev[["month", "organisation", "event", "other"]].values.tolist()
    assert [6, "B", "absorbed in a merger", "A"] in rows
    assert [6, "A", "merger completed (continuing organisation)", "B"] in rows
    assert ev.loc[ev["organisation"] == "B", "month"].max() == 6  # nothing happens to B after
    # B is a row of its own until the merger, and then is gone: not in being, no
    # measures, no pairs, no agent.
    now = model.organisations_now().set_index("organisation")
    assert not now.loc["B", "in_being"] and now.loc["B", "merged_into"] == "A"
    assert now.loc["B", ["emergency_admissions", "quality", "performance"]].isna().all()
    assert now.loc["A", "in_being"] and pd.isna(now.loc["A", "merged_into"])
    assert np.isfinite(now.loc["A", ["emergency_admissions", "quality", "performance"]]).all()
    pairs = model.pairs()
    assert "B" not in set(pairs["source"]) | set(pairs["target"])
    assert {"A", "WEAK"} <= set(pairs["source"])
    series = model.organisation_dataframe()
    last = series.groupby("code")["month"].max()
    assert last["B"] == 5 and last["A"] == 24
    assert series["emergency_admissions"].notna().all()


def test_an_organisation_in_special_measures_from_the_start_has_an_open_episode(model):
    ep = model.episodes()
    weak = ep[(ep["organisation"] == "WEAK") & (ep["episode"] == "special measures")]
    first = weak.iloc[0]
    assert first["start"] == 0 and bool(first["at_start"])
    # With nothing to recover with, it is still in special measures at month 24.
    assert (first["outcome"], first["duration"]) == ("still open", 24)
    assert pd.isna(first["end"])
    now = model.organisations_now().set_index("organisation")
    assert now.loc["WEAK", "in_special_measures"]
    assert now.loc["WEAK", "months_in_special_measures"] == 24
    events = model.organisation_events()
    assert events.iloc[0][["month", "organisation", "event"]].tolist() == [
        0,
        "WEAK",
        "in special measures at the start",
    ]


def test_a_wound_down_collaboration_shows_in_the_event_log(model):
    log = model.collaboration_events()
    programme = log[log["collaboration"] == "programme"]
    assert programme["form"].eq("provider_collaborative").all()
    rows = programme[["month", "event"]].values.tolist()
    assert rows[:2] == [[0, "started"], [4, "wind-down began"]]
    assert rows[2][1] == "dissolved" and rows[2][0] > 4
    assert (log["event"] == "started").sum() == 2  # both collaborations start at month 0


def test_relationship_age_counts_months_since_the_shared_collaboration_started():
    kw = {
        "organisations": [{"id": k, "type": "acute"} for k in "ABCD"],
        "collaborations": [
            {"name": "early", "form": "alliance", "members": ["A", "B", "C"]},
            {"name": "late", "form": "alliance", "members": ["C", "D"], "start": 5},
        ],
        "months": 12,
    }
    m = CollaborationModel(rng=1, **kw)
    m.run(3)
    at3 = m.pairs().set_index(["source", "target"])
    assert pd.isna(at3.loc[("C", "D"), "relationship_age"])  # not begun: no live collaboration
    assert pd.isna(at3.loc[("C", "D"), "began"]) and at3.loc[("C", "D"), "n_live"] == 0
    assert at3.loc[("A", "B"), "relationship_age"] == 3
    m.run()
    at12 = m.pairs().set_index(["source", "target"])
    assert at12.loc[("C", "D"), "began"] == 5
    assert at12.loc[("C", "D"), "relationship_age"] == 7 == at12.loc[("D", "C"), "relationship_age"]
    assert at12.loc[("A", "B"), "relationship_age"] == 12
    assert at12.loc[("C", "D"), "collaborations"] == "late"
    assert at12.loc[("A", "C"), "collaborations"] == "early"
    assert at12.loc[("C", "D"), ["trust", "confidence"]].tolist() == [
        m.agent("C").trust_in(m.agent("D")),
        m.agent("C").confidence_in(m.agent("D")),
    ]


def test_a_pair_in_two_collaborations_lists_both():
    kw = {
        "organisations": [{"id": k, "type": "acute"} for k in "ABC"],
        "collaborations": [
            {"name": "network", "form": "clinical_network", "members": "all"},
            {"name": "group", "form": "group_model", "members": ["A", "B"]},
        ],
        "months": 2,
    }
    pairs = CollaborationModel(rng=1, **kw).run().pairs().set_index(["source", "target"])
    assert pairs.loc[("A", "B"), "n_shared"] == 2
    assert set(pairs.loc[("A", "B"), "collaborations"].split("; ")) == {"network", "group"}
    assert pairs.loc[("A", "C"), "n_shared"] == 1


def test_batched_replicates_give_each_model_run_alone_its_own_tables():
    seeds = [11, 12, 13]
    kw = system(months=18)
    sim = start(kw, seeds)
    advance(sim, 18)
    for name, table in (
        ("episodes", outputs.episodes),
        ("pairs", outputs.pairs),
        ("collaboration_events", outputs.collaboration_events),
        ("organisation_events", outputs.organisation_events),
        ("organisations_now", outputs.organisations),
    ):
        batched = table(sim)
        for r, seed in enumerate(seeds):
            alone = getattr(CollaborationModel(rng=seed, **kw).run(), name)()
            mine = batched[batched["replicate"] == r].reset_index(drop=True)
            alone["replicate"] = r
            pd.testing.assert_frame_equal(mine, alone, obj=f"{name}, replicate {r}")


def test_tables_have_their_columns_even_when_nothing_happened():
    m = CollaborationModel(rng=1, n_organisations=4, months=1, distressed_share=0.0)
    assert list(m.episodes().columns) == list(outputs.EPISODE_COLUMNS)
    assert m.episodes().empty and m.organisation_events().empty
    assert list(m.collaboration_events().columns) == [
        "replicate",
        "month",
        "collaboration",
        "form",
        "event",
    ]
    assert set(outputs.PAIR_MEASURES) <= set(m.pairs().columns)
    assert set(outputs.ORGANISATION_MEASURES) <= set(m.organisations_now().columns)
