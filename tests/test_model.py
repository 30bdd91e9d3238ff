"""Behaviour of CollaborationModel through its public API.

Exact values are derived by hand in each test from the equations of
``ioc_sim/engine/``, written out with the parameter values, on hand-built
two- and three-organisation systems.
"""

from __future__ import annotations

import math

import mesa
import numpy as np
import pandas as pd
import pytest

from ioc_sim import CollaborationModel, ConfigError
from ioc_sim.model.agents import ProviderAgent
from ioc_sim.spec.forms import STAGES

EXACT = {"abs": 1e-12}

# fmt: off
# Every organisation attribute given, so nothing is drawn from the population.
ORG_A = {
    "id": "A", "type": "acute", "name": "Alpha Hospitals", "size": 1.2, "capacity": 0.6,
    "finances": 0.7, "workforce_stability": 0.8, "flexibility": 0.55, "digital_maturity": 0.65,
    "culture": 0.3, "resolution_style": 0.8, "vulnerability": 0.7, "persuasiveness": 0.6,
    "intra_conflict": 0.2, "baseline_performance": 0.6, "distressed": False, "x": 0.1, "y": 0.2,
}
ORG_B = {
    "id": "B", "type": "community", "name": "Beta Community", "size": 0.4, "capacity": 0.5,
    "finances": 0.4, "workforce_stability": 0.6, "flexibility": 0.45, "digital_maturity": 0.35,
    "culture": 0.7, "resolution_style": -0.6, "vulnerability": 0.4, "persuasiveness": 0.3,
    "intra_conflict": 0.4, "baseline_performance": 0.5, "distressed": True, "x": 0.3, "y": 0.4,
}
ORG_C = {
    "id": "C", "type": "mental_health", "name": "Gamma Minds", "size": 0.5, "capacity": 0.45,
    "finances": 0.5, "workforce_stability": 0.7, "flexibility": 0.5, "digital_maturity": 0.5,
    "culture": 0.45, "resolution_style": 0.6, "vulnerability": 0.5, "persuasiveness": 0.5,
    "intra_conflict": 0.3, "baseline_performance": 0.55, "distressed": False, "x": 0.8,
    "y": 0.9,
}

# A two-organisation alliance with every context given.
PAIR = {
    "name": "pair", "form": "alliance", "members": ["A", "B"], "mandate": 0.5,
    "integration_depth": 0.4, "formalisation": 0.6, "accountability": 0.7, "pace": 0.35,
    "shared_vision": 0.8, "history": 0.5, "power_asymmetry": 0.25, "role_clarity": 0.6,
    "evaluation": 0.3, "ambition": 0.45, "actors_present": 0.9,
}
PAIR_PARAMS = {
    "initial_trust": 0.35, "history_trust_effect": 0.2, "formal_trust_effect": 0.15,
    "formal_prior_weight": 8.0, "regulator_weight": 0.4, "regulator_trust": 0.3,
    "conflict_slope": 0.7, "trust_weight": 0.6, "finance_risk_effect": 0.25,
    "distress_risk_effect": 0.2, "initial_faith": 0.45, "months": 12,
}
# Full competition that suppresses every collaborative act, and no shock: the act
# probability is exactly zero, so randomness cannot matter.
NO_ACTS = {"competition": 1.0, "competition_effect": 1.0}
# fmt: on


def pair_model(**extra) -> CollaborationModel:
    return CollaborationModel(
        rng=7, organisations=[ORG_A, ORG_B], collaborations=[PAIR], **{**PAIR_PARAMS, **extra}
    )


def status_of(model: CollaborationModel, name: str) -> str:
    return model.collaborations().set_index("name").loc[name, "status"]


def context_of(model: CollaborationModel, name: str, field: str) -> float:
    return float(model.collaborations().set_index("name").loc[name, field])


# --------------------------------------------------------------- exact values
def test_initial_state_of_two_organisations():
    model = pair_model()
    a, b = model.agent("A"), model.agent("B")
    # trust = clip(initial_trust + history_trust_effect*history + formal_trust_effect*formal)
    trust = 0.35 + 0.2 * 0.5 + 0.15 * 0.6
    # confidence = (k*prior + 1)/(k + 2), prior = (mandate+depth+formal)/3 discounted by
    # regulator_weight*(1 - regulator_trust)
    prior = (0.5 + 0.4 + 0.6) / 3 * (1 - 0.4 * (1 - 0.3))
    confidence = (8.0 * prior + 1) / (8.0 + 2)
    # conflict = slope * mean of (1-accountability, 1-pace, 1-compat, 1-vision, bad history,
    # power asymmetry); compat = 1 - |culture_A - culture_B|
    compat = 1 - abs(0.3 - 0.7)
    conflict = 0.7 * ((1 - 0.7) + (1 - 0.35) + (1 - compat) + (1 - 0.8) + 0.0 + 0.25) / 6
    # risk = (w*trust + (1-w)*confidence) * (1 - fre*(1-finances) - dre*distressed), own side
    base = 0.6 * trust + 0.4 * confidence
    risk_a = base * (1 - 0.25 * (1 - 0.7) - 0.2 * 0)
    risk_b = base * (1 - 0.25 * (1 - 0.4) - 0.2 * 1)

    for x, y in ((a, b), (b, a)):
        assert x.trust_in(y) == pytest.approx(trust, **EXACT)
        assert x.confidence_in(y) == pytest.approx(confidence, **EXACT)
        assert x.conflict_with(y) == pytest.approx(conflict, **EXACT)
    assert a.risk_threshold_with(b) == pytest.approx(risk_a, **EXACT)
    assert b.risk_threshold_with(a) == pytest.approx(risk_b, **EXACT)
    for agent in (a, b):
        # faith = clip(initial_faith + 0.2*history); perceived progress starts at 0.5
        assert agent.collaborations["pair"]["faith"] == pytest.approx(0.45 + 0.2 * 0.5, **EXACT)
        assert agent.collaborations["pair"]["perceived_progress"] == pytest.approx(0.5, **EXACT)
        assert agent.collaborative_behaviour == 0.0
    row = model.model_dataframe().loc[0]
    assert row["trust"] == pytest.approx(trust, **EXACT)
    assert row["risk_threshold"] == pytest.approx((risk_a + risk_b) / 2, **EXACT)


def test_initial_trust_is_clipped_to_one():
    model = pair_model(initial_trust=0.9, history=1.0, formalisation=1.0)
    # 0.9 + 0.2*1 + 0.15*1 = 1.25 -> 1
    assert model.agent("A").trust_in(model.agent("B")) == 1.0
    assert model.agent("A").collaborations["pair"]["faith"] == pytest.approx(0.45 + 0.2)


def test_initial_state_of_three_organisations_uses_each_pairs_deepest_collaboration():
    collabs = [
        {"name": "ab", "form": "contractual", "members": ["A", "B"], "history": 1.0},
        {"name": "net", "form": "clinical_network", "members": ["A", "B", "C"], "history": -0.5},
    ]
    model = CollaborationModel(
        rng=1, organisations=[ORG_A, ORG_B, ORG_C], collaborations=collabs, months=6
    )
    a, b, c = (model.agent(k) for k in "ABC")
    # Defaults: initial_trust 0.4, history effect 0.2, formal effect 0.1, prior weight 10,
    # regulator_weight 0.5, regulator_trust 0.5, conflict_slope 0.6, initial_faith 0.5.
    # A-B works under "contractual" (depth 0.6 beats 0.1): mandate 0.3, depth 0.6,
    # formalisation 0.9, accountability 0.7, power 0.5; pace and vision default 0.5.
    trust_ab = 0.4 + 0.2 * 1.0 + 0.1 * 0.9
    conf_ab = (10 * ((0.3 + 0.6 + 0.9) / 3 * (1 - 0.5 * 0.5)) + 1) / 12
    conflict_ab = 0.6 * ((1 - 0.7) + (1 - 0.5) + abs(0.3 - 0.7) + (1 - 0.5) + 0.0 + 0.5) / 6
    # Pairs with C only share the clinical network: mandate 0, depth 0.1, formalisation 0.1,
    # power 0.1, accountability 0.5, history -0.5 (an improper ending adds 0.5).
    trust_net = 0.4 + 0.2 * -0.5 + 0.1 * 0.1
    conf_net = (10 * ((0.0 + 0.1 + 0.1) / 3 * (1 - 0.5 * 0.5)) + 1) / 12

    def conflict_net(x, y):
        compat = 1 - abs(x.culture - y.culture)
        return 0.6 * ((1 - 0.5) + (1 - 0.5) + (1 - compat) + (1 - 0.5) + 0.5 + 0.1) / 6

    assert {p.code for p in a.partners} == {"B", "C"}
    assert {p.code for p in c.partners} == {"A", "B"}
    for x, y in ((a, b), (b, a)):
        assert x.trust_in(y) == pytest.approx(trust_ab, **EXACT)
        assert x.confidence_in(y) == pytest.approx(conf_ab, **EXACT)
        assert x.conflict_with(y) == pytest.approx(conflict_ab, **EXACT)
    for x, y in ((a, c), (c, a), (b, c), (c, b)):
        assert x.trust_in(y) == pytest.approx(trust_net, **EXACT)
        assert x.confidence_in(y) == pytest.approx(conf_net, **EXACT)
        assert x.conflict_with(y) == pytest.approx(conflict_net(x, y), **EXACT)
    # risk = 0.5*trust + 0.5*confidence, times 1 - 0.3*(1 - finances) - 0.3*distressed
    assert b.risk_threshold_with(c) == pytest.approx(
        (0.5 * trust_net + 0.5 * conf_net) * (1 - 0.3 * (1 - 0.4) - 0.3 * 1), **EXACT
    )
    assert a.risk_threshold_with(b) == pytest.approx(
        (0.5 * trust_ab + 0.5 * conf_ab) * (1 - 0.3 * (1 - 0.7)), **EXACT
    )
    # Faith is per membership: 0.5 + 0.2*history of that collaboration.
    assert a.collaborations["ab"]["faith"] == pytest.approx(0.7, **EXACT)
    assert a.collaborations["net"]["faith"] == pytest.approx(0.4, **EXACT)
    assert a.faith == pytest.approx(0.55, **EXACT)
    assert set(c.collaborations) == {"net"}
    assert a.mean_trust == pytest.approx((trust_ab + trust_net) / 2, **EXACT)


def test_one_month_without_acts_matches_hand_computation():
    rates = {
        "formation_months": 0,
        "deepen_threshold": 1.0,
        "conflict_rate": 0.25,
        "conflict_trust_erosion": 0.1,
        "resolution_effect": 0.08,
        "progress_rate": 0.2,
        "faith_rate": 0.3,
        "effectiveness_feedback": 0.4,
        "persuasion_effect": 0.3,
        "mandate_faith_effect": 0.2,
        "mandate_faith": "raises",
        "fragile": "confidence",
        "trust_asymmetry": 2.5,
        "ambition_rate": 0.1,
        "risk_rate": 0.4,
    }
    # Month 1 lowers the shared vision, so conflict has somewhere to go.
    vision = [{"month": 1, "kind": "set", "target": "pair", "field": "shared_vision", "value": 0.2}]
    model = pair_model(events=vision, **NO_ACTS, **rates)
    a, b = model.agent("A"), model.agent("B")
    assert status_of(model, "pair") == "active"  # formation_months = 0
    t0 = 0.35 + 0.2 * 0.5 + 0.15 * 0.6
    prior = (0.5 + 0.4 + 0.6) / 3 * (1 - 0.4 * (1 - 0.3))
    c0 = (8.0 * prior + 1) / 10.0
    compat = 1 - abs(0.3 - 0.7)
    k0 = 0.7 * ((1 - 0.7) + (1 - 0.35) + (1 - compat) + (1 - 0.8) + 0.25) / 6
    r0_a = (0.6 * t0 + 0.4 * c0) * (1 - 0.25 * 0.3)
    r0_b = (0.6 * t0 + 0.4 * c0) * (1 - 0.25 * 0.6 - 0.2)
    # An organisation's cost of integration is front-loaded: depth * exp(-age/24).
    assert a.efficiency == pytest.approx(0.6 - 0.05 * 0.4 * math.exp(0 / 24.0), **EXACT)
    # The ambition of the joint aims starts raised by history and the legal agreement:
    # 0.45 + history_ambition_effect (0.1) * 0.5 + formal_ambition_effect (0.1) * 0.6.
    amb0 = 0.45 + 0.1 * 0.5 + 0.1 * 0.6
    assert context_of(model, "pair", "ambition") == pytest.approx(amb0, **EXACT)

    model.step()

    # Conflict moves a quarter of the way to its new target (vision 0.2).
    k1_target = 0.7 * ((1 - 0.7) + (1 - 0.35) + (1 - compat) + (1 - 0.2) + 0.25) / 6
    k1 = k0 + 0.25 * (k1_target - k0)
    # No joint act, so nothing to learn from: trust only loses to conflict, the erosion
    # (0.1) plus the harm of the pair's mean resolution style,
    # resolution_effect * (1 - style) / 2, both times conflict times trust.
    style = 0.5 * (0.8 + -0.6)
    t1 = t0 - (0.1 + 0.08 * (1 - style) / 2) * k1 * t0
    # Confidence: the working month is one observation (weight 1, whatever the mandate or
    # contract), and the partner did not reciprocate, so it is a breach, counted
    # trust_asymmetry (2.5) times when confidence is the fragile one; the old evidence (none)
    # is kept at confidence_memory.
    c1 = (0 + 8.0 * prior + 1) / (0 + 1 * 2.5 + 8.0 + 2)
    r1_a = r0_a + 0.4 * ((0.6 * t1 + 0.4 * c1) * (1 - 0.25 * 0.3) - r0_a)
    r1_b = r0_b + 0.4 * ((0.6 * t1 + 0.4 * c1) * (1 - 0.25 * 0.6 - 0.2) - r0_b)
    for x, y in ((a, b), (b, a)):
        assert x.conflict_with(y) == pytest.approx(k1, **EXACT)
        assert x.trust_in(y) == pytest.approx(t1, **EXACT)
        assert x.confidence_in(y) == pytest.approx(c1, **EXACT)
    assert a.risk_threshold_with(b) == pytest.approx(r1_a, **EXACT)
    assert b.risk_threshold_with(a) == pytest.approx(r1_b, **EXACT)

    # Perceived progress: drivers (role, evaluation, flexibility, trust, ambition, actors,
    # workforce stability, 1 - intra conflict)/8, weighted 1 - 0.4 against effectiveness 0.
    # Faith: half old progress plus trust, persuasion 0.3*(mean persuasiveness - 0.5), the
    # mandate raises by 0.2*0.5 and full competition lowers by competition_faith_effect
    # (0.05) * 1. Both then lose resolution_effect * (1 - own style) / 2 * conflict of
    # their own (old) value.
    faith_target = 0.5 * (0.5 + t1) + 0.3 * ((0.6 + 0.3) / 2 - 0.5) + 0.2 * 0.5 - 0.05 * 1.0
    for agent, flex, stability, intra, own_style in (
        (a, 0.55, 0.8, 0.2, 0.8),
        (b, 0.45, 0.6, 0.4, -0.6),
    ):
        drivers = (0.6 + 0.3 + flex + t1 + amb0 + 0.9 + stability + (1 - intra)) / 8
        harm = 0.08 * (1 - own_style) / 2 * k1
        progress = 0.5 + 0.2 * ((1 - 0.4) * drivers - 0.5) - harm * 0.5
        faith = 0.55 + 0.3 * (faith_target - 0.55) - harm * 0.55
        view = agent.collaborations["pair"]
        assert view["perceived_progress"] == pytest.approx(progress, **EXACT)
        assert view["faith"] == pytest.approx(faith, **EXACT)
    # Small wins: ambition moves 0.1 of the way toward the pair's trust.
    assert context_of(model, "pair", "ambition") == pytest.approx(amb0 + 0.1 * (t1 - amb0), **EXACT)
    # Performance with no benefit yet: baseline, minus the front-loaded integration cost
    # (age 1), minus pressure on access (0.2 * 0.4), minus the distress penalty for B.
    assert a.collaborative_behaviour == 0.0
    assert a.quality == pytest.approx(0.6, **EXACT)
    assert b.quality == pytest.approx(0.5 - 0.1, **EXACT)
    assert a.efficiency == pytest.approx(0.6 - 0.05 * 0.4 * math.exp(-1 / 24.0), **EXACT)
    assert b.access == pytest.approx(0.5 - 0.2 * 0.4 - 0.1, **EXACT)
    row = model.model_dataframe().loc[1]
    assert row["collaborative_behaviour"] == 0.0
    assert row["conflict"] == pytest.approx(k1, **EXACT)


def test_leadership_turnover_scales_trust_by_the_share_kept_exactly():
    turnover = [
        {
            "month": 6,
            "kind": "leadership_turnover",
            "organisation": "A",
            "vulnerability": 0.9,
            "persuasiveness": 0.1,
        }
    ]
    params = {
        "history": 1.0,
        "turnover_trust_loss": 0.3,
        "conflict_trust_erosion": 0.015,
        "resolution_effect": 0.03,
        "months": 12,
        **NO_ACTS,
    }
    model = CollaborationModel(
        rng=2, organisations=[ORG_A, ORG_B, ORG_C], events=turnover, **params
    )
    model.run(5)
    agents = model.organisations
    before = {(x.code, y.code): x.trust_in(y) for x in agents for y in x.partners}
    assert model.agent("A").vulnerability == 0.7
    model.step()
    a = model.agent("A")
    assert (a.vulnerability, a.persuasiveness) == (0.9, 0.1)
    touched = 0
    for x in agents:
        for y in x.partners:
            t5 = before[(x.code, y.code)]
            if "A" in (x.code, y.code):
                # New leaders keep 1 - turnover_trust_loss of the relation, both ways round.
                t5 *= 1 - 0.3
                touched += 1
            # Then month 6 without acts: trust only loses to conflict, erosion plus the
            # harm of the pair's mean resolution style.
            k6 = x.conflict_with(y)
            style = 0.5 * (x.resolution_style + y.resolution_style)
            expected = t5 - (0.015 + 0.03 * (1 - style) / 2) * k6 * t5
            assert x.trust_in(y) == pytest.approx(expected, **EXACT)
    assert touched == 4  # A-B, B-A, A-C, C-A; B-C and C-B only erode


def test_leadership_turnover_without_values_takes_population_means():
    turnover = [{"month": 2, "kind": "leadership_turnover", "organisation": "B"}]
    model = CollaborationModel(
        rng=2,
        organisations=[ORG_A, ORG_B],
        events=turnover,
        leader_vulnerability=0.25,
        leader_persuasiveness=0.85,
        months=4,
    ).run()
    b = model.agent("B")
    assert (b.vulnerability, b.persuasiveness) == (0.25, 0.85)


def test_leadership_turnover_with_dynamics_lowers_only_that_organisations_relations():
    # History of success puts trust well above initial_trust; new leaders at ORG03 keep only
    # 1 - turnover_trust_loss (0.7) of its relations, compared with the same seed without
    # turnover.
    def run(events):
        model = CollaborationModel(rng=4, n_organisations=10, history=1.0, months=12, events=events)
        return model.run(6).sim

    code = "ORG03"
    turned = run([{"month": 6, "kind": "leadership_turnover", "organisation": code}])
    same = run(None)
    i = turned.pop.ids.index(code)
    touched = (turned.st.src == i) | (turned.st.dst == i)
    assert touched.any() and not touched.all()
    t_turned, t_same = turned.trust[0], same.trust[0]
    # The month's acts and draws are the same, so every other relation is untouched ...
    np.testing.assert_array_equal(t_turned[~touched], t_same[~touched])
    # ... and ORG03's are lower. Erosion and losses are proportional to trust and gains are
    # larger from a lower trust, so no relation ends the month below 0.7 of its twin.
    assert t_turned[touched].mean() < 0.75 * t_same[touched].mean()
    ratio = t_turned[touched] / t_same[touched]
    assert (ratio >= 0.7 - 1e-12).all() and (ratio < 1).all()


# ----------------------------------------------------------- initial relations
def three_with(relations, **extra) -> CollaborationModel:
    """A, B and C in the default alliance "main", starting from ``relations``."""
    return CollaborationModel(
        rng=1,
        organisations=[ORG_A, ORG_B, ORG_C],
        initial_relations=relations,
        **{"months": 6, **extra},
    )


# The default alliance: mandate 0, depth 0.3, formalisation 0.3, history 0, so the model's own
# start is trust 0.4 + 0.1 * 0.3 and confidence (k * prior + 1) / (k + 2) with k = 10 and
# prior = (0 + 0.3 + 0.3) / 3 * (1 - regulator_weight 0.5 * (1 - regulator_trust 0.5)).
OWN_TRUST = 0.4 + 0.1 * 0.3
OWN_PRIOR = 10 * (0.0 + 0.3 + 0.3) / 3 * (1 - 0.5 * 0.5)
OWN_CONFIDENCE = (OWN_PRIOR + 1) / (10 + 2)
# 1 - finance_risk_effect 0.3 * (1 - finances) - distress_risk_effect 0.3 * distressed
RISK_APPETITE = {"A": 1 - 0.3 * (1 - 0.7), "B": 1 - 0.3 * (1 - 0.4) - 0.3, "C": 1 - 0.3 * 0.5}


def test_initial_relations_set_each_organisations_own_view():
    relations = {
        "trust": {"A": 0.9, "B": 0.2},
        "conflict": 0.1,
        "faith": {"B": 0.8},
        "perceived_progress": 0.3,
    }
    model = three_with(relations)
    a, b, c = (model.agent(k) for k in "ABC")
    # Pair values are the source's: A's trust in both partners, B's in both; C's is the
    # model's own. A number (conflict) applies to every pair.
    for x, y, trust in (
        (a, b, 0.9),
        (a, c, 0.9),
        (b, a, 0.2),
        (b, c, 0.2),
        (c, a, OWN_TRUST),
        (c, b, OWN_TRUST),
    ):
        assert x.trust_in(y) == pytest.approx(trust, **EXACT), (x.code, y.code)
        assert x.conflict_with(y) == pytest.approx(0.1, **EXACT)
        assert x.confidence_in(y) == pytest.approx(OWN_CONFIDENCE, **EXACT)
    # Risk thresholds are not given, so they follow the new trust and confidence:
    # (0.5 * trust + 0.5 * confidence) * (1 - 0.3 * (1 - finances) - 0.3 * distressed).
    for x, y in ((a, b), (a, c), (b, a), (b, c), (c, a), (c, b)):
        assert x.risk_threshold_with(y) == pytest.approx(
            (0.5 * x.trust_in(y) + 0.5 * OWN_CONFIDENCE) * RISK_APPETITE[x.code], **EXACT
        )
    # Membership values are the member's: B's faith; A's and C's are the model's own
    # 0.5 + 0.2 * history 0. Perceived progress is given for everyone.
    for agent, faith in ((a, 0.5), (b, 0.8), (c, 0.5)):
        view = agent.collaborations["main"]
        assert view["faith"] == pytest.approx(faith, **EXACT), agent.code
        assert view["perceived_progress"] == pytest.approx(0.3, **EXACT)
    # The month-0 record is taken after the replacement.
    row = model.model_dataframe().loc[0]
    assert row["trust"] == pytest.approx((2 * 0.9 + 2 * 0.2 + 2 * OWN_TRUST) / 6, **EXACT)
    assert row["faith"] == pytest.approx((0.5 + 0.8 + 0.5) / 3, **EXACT)
    assert row["conflict"] == pytest.approx(0.1, **EXACT)
    model.run()  # and the run goes on from there


def test_initial_relations_per_organisation_faith_in_every_collaboration_of_it():
    collabs = [{"name": "ab", "members": ["A", "B"]}, {"name": "abc", "members": ["A", "B", "C"]}]
    model = CollaborationModel(
        rng=1,
        organisations=[ORG_A, ORG_B, ORG_C],
        collaborations=collabs,
        months=3,
        initial_relations={"faith": {"A": 0.9}, "perceived_progress": {"C": 0.1}},
    )
    a, b, c = (model.agent(k) for k in "ABC")
    assert a.collaborations["ab"]["faith"] == a.collaborations["abc"]["faith"] == 0.9
    assert b.collaborations["ab"]["faith"] == b.collaborations["abc"]["faith"] == 0.5
    assert c.collaborations["abc"]["perceived_progress"] == 0.1
    assert a.collaborations["abc"]["perceived_progress"] == 0.5


def test_initial_risk_threshold_given_is_kept():
    model = three_with({"trust": 0.6, "risk_threshold": {"C": 0.05, "A": 0.7}})
    a, b, c = (model.agent(k) for k in "ABC")
    assert c.risk_threshold_with(a) == c.risk_threshold_with(b) == 0.05
    assert a.risk_threshold_with(b) == a.risk_threshold_with(c) == 0.7
    model = three_with({"risk_threshold": 0.2})
    assert all(x.risk_threshold_with(y) == 0.2 for x in model.organisations for y in x.partners)


def test_initial_risk_threshold_not_given_follows_the_new_trust_when_others_are_given():
    model = three_with({"trust": 0.9, "risk_threshold": {"C": 0.05}})
    a, b, c = (model.agent(k) for k in "ABC")
    assert c.risk_threshold_with(a) == 0.05
    for x in (a, b):
        for y in x.partners:
            assert x.risk_threshold_with(y) == pytest.approx(
                (0.5 * 0.9 + 0.5 * OWN_CONFIDENCE) * RISK_APPETITE[x.code], **EXACT
            )


def test_initial_confidence_is_evidence_that_fades_like_the_models_own():
    # No acts (full competition) and trust the fragile one: every working month (forming
    # counts) keeps confidence_memory 0.9 of the evidence and adds one breach of weight 1.
    model = three_with({"confidence": {"A": 0.9}}, months=24, fragile="trust", **NO_ACTS)
    a, b, c = (model.agent(k) for k in "ABC")
    # confidence = (honoured + prior + 1) / (honoured + breached + k + 2). For 0.9 from at
    # least ten observations: total = max(10, (0.9 * 12 - prior - 1) / (1 - 0.9),
    # (prior + 1) / 0.9 - 12) = 83 with prior 1.5, and honoured = 0.9 * (83 + 12) - 2.5 = 83.
    total = (0.9 * 12 - OWN_PRIOR - 1) / (1 - 0.9)
    honoured = 0.9 * (total + 12) - OWN_PRIOR - 1
    assert (total, honoured) == (pytest.approx(83), pytest.approx(83))
    for y in (b, c):
        assert a.confidence_in(y) == pytest.approx(0.9, **EXACT)
    assert b.confidence_in(a) == pytest.approx(OWN_CONFIDENCE, **EXACT)
    # A's risk threshold follows: (0.5 * trust + 0.5 * 0.9) * (1 - 0.3 * (1 - 0.7)).
    assert a.risk_threshold_with(b) == pytest.approx((0.5 * OWN_TRUST + 0.5 * 0.9) * 0.91, **EXACT)
    breached = 0.0
    gaps = [0.9 - OWN_CONFIDENCE]
    for _ in range(24):
        model.step()
        honoured, breached = 0.9 * honoured, 0.9 * breached + 1.0
        mine = (honoured + OWN_PRIOR + 1) / (honoured + breached + 12)
        own = (OWN_PRIOR + 1) / (breached + 12)
        assert a.confidence_in(b) == pytest.approx(mine, **EXACT)
        assert a.confidence_in(c) == pytest.approx(mine, **EXACT)
        assert b.confidence_in(a) == pytest.approx(own, **EXACT)
        gaps.append(a.confidence_in(b) - b.confidence_in(a))
    assert status_of(model, "main") in ("forming", "active")
    # It fades: the survey's confidence loses its lead on the model's own month by month.
    assert all(later < earlier for earlier, later in zip(gaps, gaps[1:], strict=False))
    assert gaps[-1] < 0.35 * gaps[0]


# fmt: off
BAD_RELATIONS = [
    ({"trsut": 0.5}, "initial_relations.trsut", "unknown relation (did you mean 'trust'?)"),
    ({"trust": {"Z": 0.5}}, "initial_relations.trust.Z", "unknown organisation id"),
    ({"trust": 1.5}, "initial_relations.trust", "a number from 0 to 1"),
    ({"faith": {"B": -0.1}}, "initial_relations.faith.B", "a number from 0 to 1"),
    ({"conflict": True}, "initial_relations.conflict", "a number from 0 to 1"),
    ({"confidence": {"A": "high"}}, "initial_relations.confidence.A", "a number from 0 to 1"),
    ([("trust", 0.5)], "initial_relations", "a table of relation names to values"),
]
# fmt: on


@pytest.mark.parametrize(
    ("relations", "field", "fragment"), BAD_RELATIONS, ids=[b[1] for b in BAD_RELATIONS]
)
def test_bad_initial_relations_raise_config_error_naming_the_field(relations, field, fragment):
    with pytest.raises(ConfigError) as err:
        three_with(relations)
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")
    assert fragment in err.value.message


# ----------------------------------------------------------------- determinism
def test_same_seed_gives_identical_output():
    a = CollaborationModel(rng=11, n_organisations=10, months=24).run()
    b = CollaborationModel(rng=11, n_organisations=10, months=24).run()
    pd.testing.assert_frame_equal(a.model_dataframe(), b.model_dataframe())
    assert len(a.model_dataframe()) == 25
    assert a.model_dataframe().index.name == "month"


def test_different_seeds_give_different_output():
    a = CollaborationModel(rng=11, n_organisations=10, months=24).run().model_dataframe()
    b = CollaborationModel(rng=12, n_organisations=10, months=24).run().model_dataframe()
    # Same population and start, different dynamics.
    pd.testing.assert_series_equal(a.loc[0], b.loc[0], check_names=False)
    assert not np.allclose(a["collaborative_behaviour"], b["collaborative_behaviour"])
    assert not np.allclose(a["trust"], b["trust"])


def test_the_random_streams_are_a_function_of_the_seed_alone():
    """The model's two streams are seeded from its generator's seed, not drawn from
    it (Mesa itself takes one number from it, to seed its ``random``): drawing
    from or spawning off the generator first changes nothing. A generator
    without a seed sequence (a legacy
    bit generator) seeds them from its next draw, so the same legacy seed still
    gives the same run."""
    base = CollaborationModel(rng=np.random.default_rng(21), n_organisations=10,
                              months=12).run().model_dataframe()
    g = np.random.default_rng(21)
    g.random(7)
    g.spawn(2)
    used = CollaborationModel(rng=g, n_organisations=10, months=12).run().model_dataframe()
    pd.testing.assert_frame_equal(used, base)

    def legacy(seed: int) -> pd.DataFrame:
        rng = np.random.Generator(np.random.RandomState(seed)._bit_generator)
        assert rng.bit_generator.seed_seq is None
        return CollaborationModel(rng=rng, n_organisations=10, months=12).run().model_dataframe()

    pd.testing.assert_frame_equal(legacy(5), legacy(5))
    assert not legacy(5)["trust"].equals(legacy(6)["trust"])


def test_population_seed_changes_the_population():
    a = CollaborationModel(rng=1, n_organisations=10, population_seed=1)
    b = CollaborationModel(rng=1, n_organisations=10, population_seed=2)
    assert a.agents.get("capacity") != b.agents.get("capacity")


def test_kept_populations_and_structures_are_fresh_copies_for_each_model():
    """Populations and interaction structures are kept by their inputs (a sweep builds
    the same few again and again): a later model gets equal values in arrays of its
    own, so edits to an earlier model's never reach it, and its own collaborations."""
    from ioc_sim.engine import structure

    a = CollaborationModel(rng=1, n_organisations=12, formalisation=0.9)
    st_a, pop_a = a.sim.st, a.sim.pop
    fresh = structure._build_structure(pop_a, st_a.collabs, a.params["partners_per_org"])
    for arr in (st_a.src, st_a.dst, st_a.rev, st_a.cands, st_a.mem_org, st_a.mem_collab,
                st_a.mem_lookup, st_a.compat, pop_a.attrs["culture"], pop_a.distressed):
        arr[...] = 0
    pop_a.ids[0] = "changed"
    b = CollaborationModel(rng=1, n_organisations=12, formalisation=0.1)
    for f in ("src", "dst", "rev", "cands", "mem_org", "mem_collab", "mem_lookup", "compat"):
        np.testing.assert_array_equal(getattr(b.sim.st, f), getattr(fresh, f), err_msg=f)
    assert b.sim.pop.ids[0] == "ORG01" and b.sim.pop.attrs["culture"].std() > 0
    assert b.sim.st.collabs[0].contexts["formalisation"] == 0.1
    assert st_a.collabs[0].contexts["formalisation"] == 0.9


@pytest.mark.parametrize("name, value", [("capacity_mean", 0.2), ("culture_spread", 0.9),
                                         ("distressed_share", 0.5), ("n_organisations", 13)])
def test_each_population_parameter_changes_the_kept_population(name, value):
    base = CollaborationModel(rng=1, n_organisations=12).sim.pop
    other = CollaborationModel(rng=1, **{"n_organisations": 12, name: value}).sim.pop
    same = CollaborationModel(rng=1, n_organisations=12, trust_gain=0.3).sim.pop
    assert any(len(base.attrs[k]) != len(other.attrs[k])
               or not np.array_equal(base.attrs[k], other.attrs[k]) for k in base.attrs)
    for k in base.attrs:
        np.testing.assert_array_equal(base.attrs[k], same.attrs[k])


def test_a_sweep_of_partners_per_org_builds_each_structure_once(monkeypatch):
    """The sobol benchmark sweeps partners_per_org over 2 to 12 in random order: all 11
    structures stay kept, so revisiting any of them builds nothing."""
    from ioc_sim.engine import structure

    built = []
    real = structure._build_structure
    monkeypatch.setattr(structure, "_build_structure",
                        lambda pop, collabs, k: built.append(k) or real(pop, collabs, k))
    ks = list(range(2, 13))
    for k in ks + ks[::-1]:
        CollaborationModel(rng=1, n_organisations=15, population_seed=977, partners_per_org=k)
    assert sorted(built) == ks


# ---------------------------------------------------------------------- agents
def test_agents_are_provider_agents_selectable_with_agentset_verbs():
    model = CollaborationModel(rng=3, n_organisations=20, months=6)
    assert len(model.agents) == 20
    assert all(isinstance(a, ProviderAgent) for a in model.agents)
    assert sorted(model.agents.get("code")) == [f"ORG{i:02d}" for i in range(1, 21)]
    acute = model.agents.select(lambda a: a.org_type == "acute")
    assert 0 < len(acute) < 20
    assert all(a.org_type == "acute" for a in acute)
    types = model.agents.get("org_type")
    assert len(acute) == types.count("acute")
    for name in ("capacity", "finances", "culture", "digital_maturity", "vulnerability"):
        values = model.agents.get(name)
        assert all(0.0 <= v <= 1.0 for v in values), name
    assert all(-1.0 <= v <= 1.0 for v in model.agents.get("resolution_style"))
    assert all(v > 0 for v in model.agents.get("size"))
    by_type = model.agents.groupby("org_type").count()
    assert sum(by_type.values()) == 20
    model.run()
    assert all(0.0 <= v <= 1.0 for v in model.agents.get("collaborative_behaviour"))


def test_agent_lookup_and_hand_built_attributes():
    model = CollaborationModel(rng=1, organisations=[ORG_A, ORG_B], months=3)
    a = model.agent("A")
    assert (a.name, a.org_type, a.size, a.capacity, a.culture) == (
        "Alpha Hospitals",
        "acute",
        1.2,
        0.6,
        0.3,
    )
    assert model.agent("B").distressed is True
    assert a.merged_into is None
    assert "A" in repr(a)
    with pytest.raises(KeyError):
        model.agent("Z")


def test_trust_in_partner_and_keyerror_for_non_partner():
    collabs = [{"name": "ab", "members": ["A", "B"]}, {"name": "bc", "members": ["B", "C"]}]
    model = CollaborationModel(
        rng=1, organisations=[ORG_A, ORG_B, ORG_C], collaborations=collabs, months=3
    )
    a, b, c = (model.agent(k) for k in "ABC")
    assert 0.0 <= a.trust_in(b) <= 1.0
    assert {p.code for p in b.partners} == {"A", "C"}
    assert [p.code for p in a.partners] == ["B"]
    for method in (a.trust_in, a.confidence_in, a.risk_threshold_with, a.conflict_with):
        with pytest.raises(KeyError, match="A does not work directly with C"):
            method(c)


# ------------------------------------------------------------------- batch run
def test_mesa_batch_run_returns_reporter_columns():
    rows = mesa.batch_run(
        CollaborationModel,
        parameters={"n_organisations": 8, "shared_vision": [0.2, 0.8], "months": 12},
        iterations=2,
        max_steps=12,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 4  # 2 settings x 2 iterations, last step only
    df = pd.DataFrame(rows)
    for column in (
        "trust",
        "faith",
        "confidence",
        "risk_threshold",
        "conflict",
        "collaborative_behaviour",
        "organisational_performance",
        "live_collaborations",
        "shared_vision",
        "RunId",
        "iteration",
        "Step",
    ):
        assert column in df.columns, column
    assert sorted(df["shared_vision"]) == [0.2, 0.2, 0.8, 0.8]
    assert df[["trust", "faith", "conflict"]].notna().all().all()


def test_batch_run_stops_at_months():
    # max_steps allows 13 steps; the model stops itself after `months` = 5.
    rows = mesa.batch_run(
        CollaborationModel,
        parameters={"rng": 9, "n_organisations": 6, "months": 5},
        iterations=1,
        max_steps=12,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 1
    # Mesa 3.3 reports step index model.steps - 1 (mesa issue #2514: batch_run drops the
    # last collected row), so a run that stopped at 5 months reports step 4 ...
    assert rows[0]["Step"] in (4, 5)
    # ... and the reported values are the model's own for that month, same seed.
    alone = CollaborationModel(rng=9, n_organisations=6, months=5).run().model_dataframe()
    for name in ("trust", "faith", "collaborative_behaviour", "organisational_performance"):
        assert rows[0][name] == alone.loc[rows[0]["Step"], name]
    model = CollaborationModel(rng=1, n_organisations=6, months=5)
    while model.running:
        model.step()
    assert model.steps == 5
    assert len(model.model_dataframe()) == 6


def test_run_continues_by_months_and_rejects_negative():
    model = CollaborationModel(rng=1, n_organisations=6, months=10)
    model.run(3)
    assert model.steps == 3 and model.running
    model.run()
    assert model.steps == 10 and not model.running
    with pytest.raises(ConfigError) as err:
        model.run(-1)
    assert err.value.field == "months"


# --------------------------------------------------------------- data frames
def test_organisation_dataframe_when_collected():
    model = CollaborationModel(rng=5, n_organisations=7, months=4, collect_organisations=True).run()
    df = model.organisation_dataframe()
    assert len(df) == 7 * 5
    assert {
        "month",
        "agent_id",
        "code",
        "type",
        "collaborative_behaviour",
        "mean_trust",
        "faith",
        "quality",
        "efficiency",
        "access",
        "performance",
        "collaboration_cost",
        "distressed",
    } <= set(df.columns)
    assert sorted(df["month"].unique()) == [0, 1, 2, 3, 4]
    last = df[df["month"] == 4].set_index("code")
    for agent in model.agents:
        assert last.loc[agent.code, "collaborative_behaviour"] == agent.collaborative_behaviour
        assert last.loc[agent.code, "mean_trust"] == agent.mean_trust
        assert last.loc[agent.code, "type"] == agent.org_type
    assert (
        df[["quality", "efficiency", "access", "performance"]]
        .apply(lambda s: s.between(0, 1).all())
        .all()
    )


def test_pair_dataframe_when_collected():
    model = CollaborationModel(
        rng=5, organisations=[ORG_A, ORG_B, ORG_C], months=3, collect_pairs=True
    ).run()
    df = model.pair_dataframe()
    assert list(df.columns) == [
        "month",
        "source",
        "target",
        "trust",
        "confidence",
        "risk_threshold",
        "conflict",
    ]
    assert len(df) == 4 * 6  # 4 months (0..3) x 6 ordered pairs
    last = df[df["month"] == 3]
    for row in last.itertuples():
        x, y = model.agent(row.source), model.agent(row.target)
        assert row.trust == x.trust_in(y)
        assert row.confidence == x.confidence_in(y)
        assert row.risk_threshold == x.risk_threshold_with(y)
        assert row.conflict == x.conflict_with(y)
    first = df[df["month"] == 0]
    # Default contexts: 0.4 + 0.2*0 + 0.1*0.3 for every pair at the start.
    assert np.allclose(first["trust"], 0.43, atol=1e-12, rtol=0)
    monthly_mean = df.groupby("month")["trust"].mean()
    assert np.allclose(
        monthly_mean.values, model.model_dataframe()["trust"].values, atol=1e-12, rtol=0
    )


def test_uncollected_dataframes_raise_config_error():
    model = CollaborationModel(rng=5, n_organisations=5, months=2).run()
    with pytest.raises(ConfigError, match="collect_organisations=True") as err:
        model.organisation_dataframe()
    assert err.value.field == "collect_organisations"
    with pytest.raises(ConfigError, match="collect_pairs=True") as err:
        model.pair_dataframe()
    assert err.value.field == "collect_pairs"
    assert issubclass(ConfigError, ValueError)


def test_collaborations_table():
    model = CollaborationModel(
        rng=1,
        organisations=[ORG_A, ORG_B, ORG_C],
        collaborations=[PAIR, {"name": "all3", "form": "buddying", "start": 2}],
        months=3,
    )
    df = model.collaborations().set_index("name")
    assert list(df.index) == ["pair", "all3"]
    assert df.loc["pair", "members"] == "A, B"
    assert df.loc["all3", "members"] == "A, B, C"
    assert df.loc["all3", "form"] == "buddying"
    assert df.loc["all3", "mandate"] == 1.0  # the buddying preset
    assert df.loc["pair", "shared_vision"] == 0.8  # the table's own override
    assert df.loc["all3", "start"] == 2
    assert df.loc["all3", "status"] == "planned"


def test_model_keyword_context_overrides_every_collaboration():
    model = CollaborationModel(
        rng=1,
        organisations=[ORG_A, ORG_B, ORG_C],
        collaborations=[PAIR, {"name": "all3", "form": "buddying"}],
        shared_vision=0.1,
        months=3,
    )
    assert list(model.collaborations()["shared_vision"]) == [0.1, 0.1]


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
     "events[0].organisations", "two different known organisation ids"),
    ({"events": [{"month": 3, "kind": "merger", "organisations": ["A", "A"]}]},
     "events[0].organisations", "two different known organisation ids"),
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
    for seed in (1, 2, 3):
        switched = _behaviour(switch, seed, competition=1.0)
        stayed = _behaviour(None, seed, competition=1.0)
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


def test_merger_creates_a_merger_collaboration_and_removes_the_acquired_agent():
    merger = [{"month": 4, "kind": "merger", "organisations": ["A", "B"], "name": "ab"}]
    model = CollaborationModel(
        rng=1,
        organisations=[ORG_A, ORG_B, ORG_C],
        months=8,
        events=merger,
        collect_organisations=True,
    )
    row = model.collaborations().set_index("name").loc["ab"]
    assert (row["form"], row["start"], row["members"]) == ("merger", 4, "A, B")
    assert row["integration_depth"] == 1.0 and row["formalisation"] == 1.0
    model.run(3)
    assert status_of(model, "ab") == "planned"
    assert model.agent("B") in model.agents
    assert model.agent("B").merged_into is None
    model.step()  # month 4
    assert status_of(model, "ab") == "forming"
    assert model.agent("B") not in model.agents
    assert model.agent("A") in model.agents
    assert len(model.agents) == 2
    assert model.agent("B").merged_into == "A"
    model.run()
    assert model.agent("B") not in model.agents
    df = model.organisation_dataframe()
    assert set(df[df["month"] == 3]["code"]) == {"A", "B", "C"}
    assert set(df[df["month"] == 8]["code"]) == {"A", "C"}


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
    }
    model = CollaborationModel(rng=3, n_organisations=8, months=36, **good)
    depth = [context_of(model, "main", "integration_depth")]
    seen = [status_of(model, "main")]
    while model.running:
        model.step()
        depth.append(context_of(model, "main", "integration_depth"))
        seen.append(status_of(model, "main"))
    assert seen[-1] == "deepening"
    assert depth[0] == 0.3
    assert depth[-1] > 0.5
    assert all(b >= a for a, b in zip(depth, depth[1:], strict=False))
    deep_months = [t for t, s in enumerate(seen) if s == "deepening"]
    # Depth grows by deepen_rate (0.01) in each deepening month.
    assert depth[-1] == pytest.approx(0.3 + 0.01 * len(deep_months), abs=1e-9)
    assert model.model_dataframe()["deepening_collaborations"].iloc[-1] == 1


def test_status_names_are_the_lifecycle():
    assert STAGES == ("planned", "forming", "active", "deepening", "dissolving", "dissolved")
