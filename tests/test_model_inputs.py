"""Behaviour of CollaborationModel through its public API: invalid inputs and the
errors they raise, scheduled events, and the collaborations' lifecycle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from model_cases import EXACT, ORG_A, ORG_B, ORG_C, context_of, status_of

from ioc_sim import CollaborationModel, ConfigError
from ioc_sim.spec.forms import STAGES

# ---------------------------------------------------------------------- errors
# fmt: off
BAD_INPUT = [
    ({"shared_visoin": 0.5}, "shared_visoin", "did you mean 'shared_vision'"),
    ({"trust_asymetry": 2.0}, "trust_asymetry", "did you mean 'trust_asymmetry'"),
    ({"shared_vision": 1.5}, "shared_vision", "a number from 0 to 1"),
    ({"history": -2}, "history", "a number from -1 to 1"),
    ({"trust_asymmetry": 0.5}, "trust_asymmetry", "a number from 1 to 6"),
    ({"n_organisations": 1}, "n_organisations", "an integer from 2 to 5000"),
    ({"shared_vision": float("nan")}, "shared_vision", "a number from 0 to 1"),
    ({"shared_vision": "high"}, "shared_vision", "(str)"),
    ({"competition": True}, "competition", "(bool)"),
    ({"months": 2.5}, "months", "an integer"),
    ({"mandate": "compulsory"}, "mandate", "'voluntary'"),
    ({"form": "cartel"}, "form", "'merger'"),
    ({"trust_update": "linear"}, "trust_update", "'asymmetric_ceiling'"),
    ({"trust_confidence": "multiplies"}, "trust_confidence", "'crowding_out'"),
    ({"mandate_faith": "doubles"}, "mandate_faith", "'raises'"),
    ({"performance_form": 3}, "performance_form", "'additive'"),
]
# fmt: on


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    BAD_INPUT,
    ids=[f"{k}={v!r}" for k, v in (next(iter(b[0].items())) for b in BAD_INPUT)],
)
def test_bad_keyword_raises_config_error_naming_the_field(kwargs, field, fragment):
    with pytest.raises(ConfigError) as err:
        CollaborationModel(rng=1, **{"n_organisations": 4, **kwargs})
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")
    assert fragment in str(err.value)


def test_mandate_accepts_level_words():
    model = CollaborationModel(rng=1, n_organisations=4, mandate="expected", months=2)
    assert list(model.collaborations()["mandate"]) == [0.5]


# fmt: off
BAD_TABLES = [
    ({"organisations": [{**ORG_A, "colour": "red"}, ORG_B]}, "organisations[0].colour",
     "unknown organisation field"),
    ({"organisations": [ORG_A, {**ORG_B, "type": "hospice"}]}, "organisations[1].type",
     "one of acute, mental_health"),
    ({"organisations": [ORG_A, {**ORG_B, "id": "A"}]}, "organisations[1].id", "duplicate"),
    ({"organisations": [ORG_A, {**ORG_B, "capacity": 1.3}]}, "organisations[1].capacity",
     "a number from 0 to 1"),
    ({"organisations": [ORG_A, {**ORG_B, "distressed": 1}]}, "organisations[1].distressed",
     "true or false"),
    ({"organisations": [ORG_A]}, "organisations", "at least 2"),
    ({"organisations": [ORG_A, ORG_B], "collaborations": [{"name": "x", "members": ["A", "Z"]}]},
     "collaborations[0].members", "unknown organisation 'Z'"),
    ({"organisations": [ORG_A, ORG_B],
      "collaborations": [{"name": "x", "members": ["A", "B"], "vison": 0.5}]},
     "collaborations[0].vison", "unknown collaboration field"),
    ({"organisations": [ORG_A, ORG_B],
      "collaborations": [{"name": "x", "form": "cartel", "members": ["A", "B"]}]},
     "collaborations[0].form", "unknown form 'cartel'"),
    ({"organisations": [ORG_A, ORG_B],
      "collaborations": [{"name": "x", "members": ["A", "B"], "pace": 2}]},
     "collaborations[0].pace", "a number from 0 to 1"),
    ({"organisations": [ORG_A, ORG_B],
      "collaborations": [{"name": "x", "members": ["A", "B"], "start": 1201}]},
     "collaborations[0].start", "a whole month from 0 to"),
    ({"organisations": [ORG_A, ORG_B],
      "collaborations": [{"name": "x", "members": ["A"]}]},
     "collaborations[0].members", "at least 2"),
    ({"events": [{"month": 1201, "kind": "shock", "magnitude": 0.5}]}, "events[0].month",
     "a whole month from 0 to"),
    ({"events": [{"month": -1, "kind": "shock", "magnitude": 0.5}]}, "events[0].month",
     "a whole month from 0 to"),
    ({"events": [{"month": 2.5, "kind": "shock", "magnitude": 0.5}]}, "events[0].month",
     "a whole month from 0 to"),
    ({"events": [{"month": 3, "kind": "earthquake"}]}, "events[0].kind",
     "shock, support"),
    ({"events": [{"month": 3, "kind": "shock"}]}, "events[0].magnitude", "missing"),
    ({"events": [{"month": 3, "kind": "shock", "magnitude": 0.5, "size": 1}]},
     "events[0].size", "not a field of a 'shock' event"),
    ({"events": [{"month": 3, "kind": "merger", "organisations": ["A", "Q"]}]},
     "events[0].organisations", "two or more different known organisation ids"),
    ({"events": [{"month": 3, "kind": "merger", "organisations": ["A", "A"]}]},
     "events[0].organisations", "two or more different known organisation ids"),
    ({"events": [{"month": 3, "kind": "leadership_turnover", "organisation": "Q"}]},
     "events[0].organisation", "unknown organisation 'Q'"),
    ({"events": [{"month": 3, "kind": "support", "collaboration": "nope", "level": 0.5}]},
     "events[0].collaboration", "unknown collaboration 'nope'"),
    ({"events": [{"month": 5, "kind": "support", "collaboration": "main", "level": 0.5,
                  "until": 5}]}, "events[0].until", "a month after 5"),
    ({"events": [{"month": 2, "kind": "set", "target": "system", "field": "pace",
                  "value": 0.5}]}, "events[0].field", "competition"),
    ({"events": [{"month": 2, "kind": "set", "target": "main", "field": "pace",
                  "value": 4.0}]}, "events[0].value", "a number from 0 to 1"),
]
# fmt: on


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"), BAD_TABLES, ids=[b[1] for b in BAD_TABLES]
)
def test_bad_tables_raise_config_error_naming_the_field(kwargs, field, fragment):
    kwargs = {"organisations": [ORG_A, ORG_B], **kwargs}
    with pytest.raises(ConfigError) as err:
        CollaborationModel(rng=1, months=12, **kwargs)
    assert err.value.field == field
    assert fragment in err.value.message


# ---------------------------------------------------------------------- events
def _behaviour(events, seed, **params):
    model = CollaborationModel(rng=seed, n_organisations=12, months=36, events=events, **params)
    return model.run().model_dataframe()


def test_shock_raises_collaborative_behaviour_after_it():
    shock = [{"month": 12, "kind": "shock", "magnitude": 0.8}]
    for seed in (1, 2, 3):
        with_shock, without = _behaviour(shock, seed), _behaviour(None, seed)
        # Identical until the shock (same seed, same draws) ...
        pd.testing.assert_frame_equal(with_shock.loc[:11], without.loc[:11])
        assert with_shock.loc[12, "shock"] == pytest.approx(0.8)
        assert with_shock.loc[18, "shock"] == pytest.approx(0.4)  # half-life 6 months
        # ... then more collaborative.
        after = slice(12, 24)
        assert (
            with_shock.loc[after, "collaborative_behaviour"].mean()
            > without.loc[after, "collaborative_behaviour"].mean() + 0.05
        )


def test_regime_switch_to_low_competition_raises_collaborative_behaviour():
    switch = [{"month": 12, "kind": "regime_switch", "competition": 0.0}]
    # The alliance is kept from quitting, so that behaviour is compared while it works.
    for seed in (1, 2, 3):
        switched = _behaviour(switch, seed, competition=1.0, dissolve_hazard=0.0)
        stayed = _behaviour(None, seed, competition=1.0, dissolve_hazard=0.0)
        pd.testing.assert_frame_equal(switched.loc[:11], stayed.loc[:11])
        after = slice(12, 36)
        assert (
            switched.loc[after, "collaborative_behaviour"].mean()
            > stayed.loc[after, "collaborative_behaviour"].mean() + 0.05
        )


def test_support_starts_and_ends_restoring_the_previous_level():
    support = [{"month": 3, "kind": "support", "collaboration": "main", "level": 0.9, "until": 8}]
    model = CollaborationModel(
        rng=1, n_organisations=6, months=12, events=support, form="improvement_collaborative"
    )
    levels = [context_of(model, "main", "support")]
    for _ in range(10):
        model.step()
        levels.append(context_of(model, "main", "support"))
    # The improvement collaborative preset gives support 0.3.
    assert levels == [0.3] * 3 + [0.9] * 5 + [0.3] * 3


def test_set_event_changes_a_system_context():
    events = [
        {"month": 2, "kind": "set", "target": "system", "field": "data_sharing", "value": 1.0}
    ]
    model = CollaborationModel(rng=1, n_organisations=6, months=4, events=events)
    model.run(1)
    # technological effectiveness = (data sharing + mean digital maturity + depth)/3
    before = model.model_dataframe().loc[1, "technological_effectiveness"]
    model.run(1)
    after = model.model_dataframe().loc[2, "technological_effectiveness"]
    assert after - before == pytest.approx((1.0 - 0.5) / 3, abs=1e-12)


def test_leadership_turnover_at_month_zero():
    # Month-0 turnover acts once relations exist: new leaders at A keep 1 -
    # turnover_trust_loss (0.3) of the starting trust, 0.4 + 0.1 * formalisation 0.3 by the
    # defaults, in both directions; the persuasiveness not given is the population mean.
    turnover = [
        {"month": 0, "kind": "leadership_turnover", "organisation": "A", "vulnerability": 0.9}
    ]
    model = CollaborationModel(rng=1, organisations=[ORG_A, ORG_B], events=turnover, months=3)
    a, b = model.agent("A"), model.agent("B")
    assert (a.vulnerability, a.persuasiveness) == (0.9, 0.5)
    t0 = (0.4 + 0.1 * 0.3) * (1 - 0.3)
    assert a.trust_in(b) == pytest.approx(t0, **EXACT)
    assert b.trust_in(a) == pytest.approx(t0, **EXACT)
    assert model.model_dataframe().loc[0, "trust"] == pytest.approx(t0, **EXACT)
    model.run()  # and the run goes on from there


def test_merger_at_month_zero_removes_the_acquired_agent_from_the_start():
    merger = [{"month": 0, "kind": "merger", "organisations": ["A", "B"]}]
    model = CollaborationModel(
        rng=1,
        organisations=[ORG_A, ORG_B, ORG_C],
        events=merger,
        months=3,
        collect_organisations=True,
    )
    assert model.agent("B").merged_into == "A"
    assert model.agent("B") not in model.agents
    assert len(model.agents) == 2
    model.run()
    df = model.organisation_dataframe()
    for month in range(4):  # the month-0 rows as well as the later ones
        assert set(df[df["month"] == month]["code"]) == {"A", "C"}, month


def test_overlapping_support_windows_restore_the_original_level():
    # The latest-started open window sets the level; with none open support returns to the
    # collaboration's own level (the default alliance's 0).
    support = [
        {"month": 3, "kind": "support", "collaboration": "main", "level": 0.9, "until": 8},
        {"month": 5, "kind": "support", "collaboration": "main", "level": 0.5, "until": 12},
    ]
    model = CollaborationModel(rng=1, n_organisations=6, months=14, events=support)
    levels = [context_of(model, "main", "support")]
    while model.running:
        model.step()
        levels.append(context_of(model, "main", "support"))
    assert levels[:3] == [0.0] * 3  # before either window
    assert levels[3:5] == [0.9] * 2  # the first window alone
    assert levels[5:8] == [0.5] * 3  # both open: the later one sets the level
    assert levels[8:12] == [0.5] * 4  # the second window is still running
    assert levels[12:] == [0.0, 0.0, 0.0]  # both windows over: back to the alliance's 0


def test_set_support_inside_a_window_applies_after_the_window():
    # A "set" of support changes the collaboration's own level; an open window keeps its
    # level until it ends, and then the new own level (not the one before) returns.
    events = [
        {"month": 2, "kind": "support", "collaboration": "main", "level": 0.9, "until": 6},
        {"month": 4, "kind": "set", "target": "main", "field": "support", "value": 0.2},
    ]
    model = CollaborationModel(rng=1, n_organisations=6, months=8, events=events)
    levels = [context_of(model, "main", "support")]
    while model.running:
        model.step()
        levels.append(context_of(model, "main", "support"))
    assert levels == [0.0, 0.0, 0.9, 0.9, 0.9, 0.9, 0.2, 0.2, 0.2]


def test_a_merger_makes_two_organisations_one_from_its_completion_month():
    """From the completion month the continuing organisation carries the combined size
    and the size-weighted attributes of both, the acquired one leaves the model's agents
    and every metric, and relationships with a third party are pooled by size."""
    merger = [{"month": 4, "kind": "merger", "organisations": ["A", "B"], "name": "A and B"}]
    model = CollaborationModel(
        rng=1,
        organisations=[ORG_A, ORG_B, ORG_C],
        months=8,
        events=merger,
        collect_organisations=True,
        results_noise=0.0,
        performance_noise=0.0,
    )
    model.run(3)
    a, b, c = model.agent("A"), model.agent("B"), model.agent("C")
    assert b in model.agents and b.merged_into is None
    before = {x: (a.trust_in(x), b.trust_in(x)) for x in (c,)}
    into_c = c.trust_in(a), c.trust_in(b)
    model.step()  # month 4: the merger completes
    assert b not in model.agents and a in model.agents and len(model.agents) == 2
    assert b.merged_into == "A"
    wa, wb = ORG_A["size"], ORG_B["size"]
    assert a.size == pytest.approx(wa + wb)
    for key in ("capacity", "finances", "baseline_performance"):
        pooled = (wa * ORG_A[key] + wb * ORG_B[key]) / (wa + wb)
        assert getattr(a, key) == pytest.approx(pooled)
    assert a.vulnerability == ORG_A["vulnerability"]  # one board: A's leaders stay
    assert a.name == "A and B"
    assert model.sim.alive.tolist() == [True, False, True]
    # Relationships with C were pooled at completion (size-weighted), then took a month.
    pooled_out = (wa * before[c][0] + wb * before[c][1]) / (wa + wb)
    pooled_in = (wa * into_c[0] + wb * into_c[1]) / (wa + wb)
    assert abs(a.trust_in(c) - pooled_out) < 0.1 and abs(c.trust_in(a) - pooled_in) < 0.1
    assert {p.code for p in a.partners} == {"C"}
    model.run()
    df = model.organisation_dataframe()
    assert set(df[df["month"] == 3]["code"]) == {"A", "B", "C"}
    assert set(df[df["month"] == 8]["code"]) == {"A", "C"}
    row = model.model_dataframe().iloc[-1]
    assert row["organisational_performance"] == pytest.approx((a.performance + c.performance) / 2)


def test_a_merger_brings_integration_costs_first_and_savings_after():
    """The merged organisation's efficiency net of its merger effects: one-off costs at
    completion (transition_cost), then back-office savings ramping up; service gains
    only as far as the predecessors trusted each other."""
    merger = [{"month": 1, "kind": "merger", "organisations": ["A", "B"]}]
    model = CollaborationModel(rng=1, organisations=[ORG_A, ORG_B, ORG_C], months=120,
                               events=merger, results_noise=0.0, performance_noise=0.0)  # fmt: skip
    effects = []
    while model.running:
        model.step()
        effects.append((model.sim.merger_efficiency[0, 0], model.sim.merger_service[0, 0]))
    eff = np.array(effects)
    assert eff[0, 0] < 0 < eff[-1, 0]  # costs first, savings later
    assert eff[-1, 0] == pytest.approx(0.02 * model.agent("A").baseline_performance, rel=0.05)
    cohesion = model.sim._mergers[0]["cohesion"][0]
    assert 0 < cohesion < 1
    assert eff[-1, 1] == pytest.approx(0.02 * cohesion, rel=0.05)


# ------------------------------------------------------------------- lifecycle
def _statuses(model: CollaborationModel, name: str) -> list[str]:
    out = [status_of(model, name)]
    while model.running:
        model.step()
        out.append(status_of(model, name))
    return out


def test_collaboration_starting_at_month_zero_forms_for_formation_months():
    model = CollaborationModel(rng=1, n_organisations=6, months=10, formation_months=4)
    seen = _statuses(model, "main")
    assert seen[:4] == ["forming"] * 4
    assert seen[4] == "active"


def test_later_collaboration_also_forms_for_formation_months():
    model = CollaborationModel(
        rng=1,
        n_organisations=6,
        months=16,
        formation_months=4,
        collaborations=[{"name": "late", "start": 5}],
    )
    seen = _statuses(model, "late")
    assert seen[:5] == ["planned"] * 5
    assert seen[5:9] == ["forming"] * 4  # months 5, 6, 7, 8, as main's months 0-3
    assert seen[9] == "active"
    assert all(s in ("active", "deepening") for s in seen[9:])


BAD_CONTEXTS = {
    "shared_vision": 0.0,
    "accountability": 0.0,
    "pace": 0.0,
    "history": -1.0,
    "power_asymmetry": 1.0,
    "actors_present": 0.0,
    "role_clarity": 0.0,
    "evaluation": 0.0,
    "ambition": 0.0,
    "initial_faith": 0.1,
    "initial_trust": 0.1,
    "constructive_share": 0.0,
    "n_organisations": 8,
    "months": 60,
}


def test_voluntary_collaboration_in_bad_contexts_dissolves():
    model = CollaborationModel(rng=2, mandate=0.0, **BAD_CONTEXTS)
    seen = _statuses(model, "main")
    assert seen[-1] == "dissolved"
    first = seen.index("dissolving")
    # dissolving_months (3) of winding down, then dissolved for good.
    assert seen[first : first + 3] == ["dissolving"] * 3
    assert set(seen[first + 3 :]) == {"dissolved"}
    df = model.model_dataframe()
    assert df["dissolved_collaborations"].iloc[-1] == 1
    assert df["live_collaborations"].iloc[-1] == 0
    assert df.loc[first + 3, "dissolved_collaborations"] == 1


def test_pairs_of_a_dissolved_collaboration_stop_changing():
    # Its only collaboration gone, every pair falls back to no collaboration: no acts, and
    # trust, confidence, risk threshold, conflict, faith and progress stay where they were.
    model = CollaborationModel(rng=2, mandate=0.0, **BAD_CONTEXTS)
    sim = model.sim
    while status_of(model, "main") != "dissolved":
        model.step()
    month = model.steps
    assert month < 50  # months left to see any change
    assert (sim.edge_collab == sim.C).all()
    names = ("trust", "confidence", "risk", "conflict", "faith", "progress", "honoured", "breached")
    frozen = {name: getattr(sim, name).copy() for name in names}
    ambition = context_of(model, "main", "ambition")
    model.run()
    for name, before in frozen.items():
        np.testing.assert_array_equal(getattr(sim, name), before, err_msg=name)
    assert context_of(model, "main", "ambition") == ambition
    after = model.model_dataframe().loc[month:]
    assert (after["trust"] == after["trust"].iloc[0]).all()
    assert (after["collaborative_behaviour"] == 0).all()


def test_mandated_collaboration_in_the_same_bad_contexts_does_not_dissolve():
    model = CollaborationModel(rng=2, mandate=1.0, **BAD_CONTEXTS)
    seen = _statuses(model, "main")
    assert not {"dissolving", "dissolved"} & set(seen)
    assert (model.model_dataframe()["dissolved_collaborations"] == 0).all()
    assert model.model_dataframe()["faith"].iloc[-1] < 0.3  # faith is as low as above


def test_good_contexts_deepen_the_collaboration():
    """With a year of small wins behind it (trust and faith high), a collaboration
    deepens by deepen_step at a time; under poor contexts it does not."""
    good = {
        "shared_vision": 1.0,
        "accountability": 1.0,
        "pace": 1.0,
        "history": 1.0,
        "power_asymmetry": 0.0,
        "actors_present": 1.0,
        "role_clarity": 1.0,
        "evaluation": 1.0,
        "initial_faith": 0.9,
        "initial_trust": 0.8,
        "constructive_share": 1.0,
        "culture_spread": 0.0,
        "deepen_hazard": 0.2,
    }
    model = CollaborationModel(rng=3, n_organisations=8, months=60, **good)
    depth = [context_of(model, "main", "integration_depth")]
    seen = [status_of(model, "main")]
    while model.running:
        model.step()
        depth.append(context_of(model, "main", "integration_depth"))
        seen.append(status_of(model, "main"))
    deep_months = [t for t, s in enumerate(seen) if s == "deepening"]
    assert deep_months and deep_months[0] >= 12  # not before a year of small wins
    assert depth[0] == 0.3
    assert all(b >= a for a, b in zip(depth, depth[1:], strict=False))
    assert depth[-1] == pytest.approx(0.3 + 0.1 * len(deep_months), abs=1e-9)
    poor = CollaborationModel(rng=3, n_organisations=8, months=60, shared_vision=0.0,
                              history=-1.0, deepen_hazard=0.2)  # fmt: skip
    poor.run()
    assert context_of(poor, "main", "integration_depth") == 0.3


def test_status_names_are_the_lifecycle():
    assert STAGES == ("planned", "forming", "active", "deepening", "dissolving", "dissolved")
