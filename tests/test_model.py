"""Behaviour of CollaborationModel through its public API.

Exact values are derived by hand in each test from the equations of
``ioc_sim/engine/``, written out with the parameter values, on hand-built
two- and three-organisation systems.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from model_cases import EXACT, NO_ACTS, ORG_A, ORG_B, ORG_C, context_of, pair_model, status_of

from ioc_sim import CollaborationModel, ConfigError


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
    # (0.05) * 1, and regulatory blocking (0.3 by default) by blocking_faith_effect (0.05).
    # Both then lose resolution_effect * (1 - own style) / 2 * conflict of
    # their own (old) value.
    faith_target = (
        0.5 * (0.5 + t1) + 0.3 * ((0.6 + 0.3) / 2 - 0.5) + 0.2 * 0.5 - 0.05 * 1.0 - 0.05 * 0.3
    )
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
    # Pressure on access: the system's 0.4, plus demand grown by a month of demand_growth
    # (0.03 a year) times demand_pressure (0.5).
    pressure = 0.4 + 0.5 * (0.03 / 12.0)
    assert b.access == pytest.approx(0.5 - 0.2 * pressure - 0.1, **EXACT)
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
