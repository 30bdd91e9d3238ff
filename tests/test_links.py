"""Direction of every causal link of the programme theory (docs/theory.md, section 3).

Each row of ``LINKS`` is one signed hypothesis: a *low* and a *high* setting of
the cause (model keywords, everything else at the declared defaults), the
outcome it should move, and the sign the theory states. A test runs both arms
on a small replicated design (12 organisations, 60 months, ``SEEDS`` common
seeds per arm, the shared synthetic population of ``population_seed``) and
asserts that the mean outcome in the high arm minus the mean in the low arm
has the stated sign. Outcomes are averaged over several months (``LATE``) so
that one noisy month cannot decide the test.

Where the cause is a stock (trust, conflict, faith ...) we move it through
its only driver (an "instrument") and say which in the comment.

Rows the code gets wrong, or does not implement, are marked
``xfail(strict=True)`` with the exact reason: they must keep failing until
the model changes, and then the mark has to go.

One row cannot be moved through a keyword alone: "communication | synergy".
Communication is two-way exchange (a collaborative act met by the partner's),
and any keyword that changes how often partners reciprocate also changes how
often they act. That row (``design=TWO_WAY``) takes each arm's state from the
same run and month and lays out the *same number* of acts in every
collaboration either as reciprocated pairs (high) or one way only (low), so
only the share of two-way exchange differs.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any, NamedTuple

import numpy as np
import pytest

from ioc_sim import CollaborationModel
from ioc_sim.model.metrics import METRICS

N_ORGS = 12
MONTHS = 60
#: Every arm keeps its collaboration from quitting: a link's direction is measured while
#: the collaboration works (dissolution would turn small effects into all-or-nothing
#: differences between arms; it has tests of its own).
KEEP = {"dissolve_hazard": 0.0}
SEEDS = tuple(range(1, 7))
LATE = tuple(range(24, MONTHS + 1, 6))  # months 24, 30, ..., 60
START = (0,)  # the initial state (for "initial trust")
AFTER_SHOCK = tuple(range(13, 25))
SHOCK = [{"month": 12, "kind": "shock", "magnitude": 1.0}]
FINAL_AMBITION = "ambition"  # mean ambition of the collaborations at the end (a context state)

#: Competition suppresses every collaborative act (no shock): nobody acts, in either arm.
NO_ACTS = {"competition": 1.0, "competition_effect": 1.0}
#: ``Link.design`` of the communication row (see the module docstring).
TWO_WAY = "two_way_acts"

DEPTH_LOWERS_CONFIDENCE = (
    "no effect of the stated sign under this design: a deeper collaboration raises the "
    "formal prior of confidence (engine.views.SimulationViews._formal_assurance) but also "
    "raises the exposure that the risk threshold must clear and shrinks the ungated share "
    "of acts, so collaborative behaviour falls by about 0.20 (months 24-60, every seed); "
    "every working month is evidence (engine.views.SimulationViews._collab_contexts: weight "
    "= working), and the unreciprocated months are breaches that cancel the prior: mean "
    "confidence changes by -0.001 (per seed -0.012 to +0.009). With no acts in either arm "
    "(integration_depth-confidence_same_record) the sign is right; over the theory test's "
    "Sobol' design (ioc-sim theory test) the effect is small and positive."
)


class Link(NamedTuple):
    """One signed hypothesis: moving the cause from ``low`` to ``high`` moves ``outcome``
    with ``sign``."""

    id: str
    low: dict[str, Any]
    high: dict[str, Any]
    outcome: str
    sign: int
    months: tuple[int, ...] = LATE
    xfail: str | None = None
    raises: type[Exception] | None = None
    design: str | None = None  # None: two arms of keywords; TWO_WAY: see the module docstring


# fmt: off
LINKS = [
    # "clear accountability arrangements | conflict | - | stated"
    Link("accountability-conflict", {"accountability": 0.1}, {"accountability": 0.9},
         "conflict", -1),
    # "slow pace of development | conflict | + | stated" (slow = low pace)
    Link("slow_pace-conflict", {"pace": 0.9}, {"pace": 0.1}, "conflict", +1),
    # "cultural compatibility | conflict | - | stated" (compatible = narrow culture spread)
    Link("cultural_compatibility-conflict", {"culture_spread": 1.0}, {"culture_spread": 0.0},
         "conflict", -1),
    # "shared vision | conflict | - | stated"
    Link("shared_vision-conflict", {"shared_vision": 0.1}, {"shared_vision": 0.9},
         "conflict", -1),
    # "improper ending of an earlier collaboration | conflict | + | stated"
    Link("improper_ending-conflict", {"history": 0.0}, {"history": -1.0}, "conflict", +1),
    # "task failure | conflict | + | stated" (instrument: low capacity makes joint acts fail)
    Link("task_failure-conflict", {"capacity_mean": 0.9}, {"capacity_mean": 0.1},
         "conflict", +1),
    # "power asymmetry | conflict | + | inferred"
    Link("power_asymmetry-conflict", {"power_asymmetry": 0.0}, {"power_asymmetry": 1.0},
         "conflict", +1),
    # "conflict | trust | - | stated" (instrument: conflict_slope scales every driver of
    # conflict; default mix of resolution styles)
    Link("conflict-trust", {"conflict_slope": 0.0}, {"conflict_slope": 1.0}, "trust", -1),
    # same row, partners who all resolve conflict constructively: conflict still costs trust
    # (constructive handling only spares the extra cost of destructive handling)
    Link("conflict-trust_among_constructive_partners",
         {"conflict_slope": 0.0, "constructive_share": 1.0},
         {"conflict_slope": 1.0, "constructive_share": 1.0}, "trust", -1),
    # "constructive conflict resolution | trust, faith, perceived progress | + | stated"
    Link("constructive_resolution-trust", {"constructive_share": 0.5},
         {"constructive_share": 1.0}, "trust", +1),
    Link("constructive_resolution-faith", {"constructive_share": 0.5},
         {"constructive_share": 1.0}, "faith", +1),
    Link("constructive_resolution-perceived_progress", {"constructive_share": 0.5},
         {"constructive_share": 1.0}, "perceived_progress", +1),
    # "destructive conflict resolution | trust, faith, perceived progress | - | stated"
    # (more destructive = a lower constructive share)
    Link("destructive_resolution-trust", {"constructive_share": 0.5},
         {"constructive_share": 0.0}, "trust", -1),
    Link("destructive_resolution-faith", {"constructive_share": 0.5},
         {"constructive_share": 0.0}, "faith", -1),
    Link("destructive_resolution-perceived_progress", {"constructive_share": 0.5},
         {"constructive_share": 0.0}, "perceived_progress", -1),
    # "history of successful collaboration | initial trust, ambition of aims | + | stated"
    Link("successful_history-initial_trust", {"history": 0.0}, {"history": 1.0},
         "trust", +1, months=START),
    Link("successful_history-ambition", {"history": 0.0}, {"history": 1.0},
         FINAL_AMBITION, +1),
    # "legal agreement / formalisation | initial trust, risk threshold, ambition | + | stated"
    Link("formalisation-initial_trust", {"formalisation": 0.1}, {"formalisation": 0.9},
         "trust", +1, months=START),
    Link("formalisation-risk_threshold", {"formalisation": 0.1}, {"formalisation": 0.9},
         "risk_threshold", +1),
    Link("formalisation-ambition", {"formalisation": 0.1}, {"formalisation": 0.9},
         FINAL_AMBITION, +1),
    # "mandate, integration depth, contracts | confidence | + | stated"
    Link("mandate-confidence", {"mandate": 0.0}, {"mandate": 1.0}, "confidence", +1),
    Link("integration_depth-confidence", {"integration_depth": 0.1},
         {"integration_depth": 0.9}, "confidence", +1, xfail=DEPTH_LOWERS_CONFIDENCE),
    # the same row for the same record of acts: nobody acts in either arm, so the evidence
    # is identical and only the formal prior can move confidence
    Link("integration_depth-confidence_same_record", {"integration_depth": 0.1, **NO_ACTS},
         {"integration_depth": 0.9, **NO_ACTS}, "confidence", +1),
    Link("contracts-confidence", {"formalisation": 0.1}, {"formalisation": 0.9},
         "confidence", +1),
    # "trust in regulators | confidence | + | inferred"
    Link("regulator_trust-confidence", {"regulator_trust": 0.0}, {"regulator_trust": 1.0},
         "confidence", +1),
    # "trust | risk threshold | + | stated" (instrument: initial_trust)
    Link("trust-risk_threshold", {"initial_trust": 0.1}, {"initial_trust": 0.8},
         "risk_threshold", +1),
    # "confidence | risk threshold | + | stated" (instrument: trust in regulators, which
    # moves nothing but confidence under the default additive specification)
    Link("confidence-risk_threshold", {"regulator_trust": 0.0}, {"regulator_trust": 1.0},
         "risk_threshold", +1),
    # "role clarity, ongoing evaluation, flexibility | perceived progress | + | stated"
    Link("role_clarity-perceived_progress", {"role_clarity": 0.1}, {"role_clarity": 0.9},
         "perceived_progress", +1),
    Link("evaluation-perceived_progress", {"evaluation": 0.1}, {"evaluation": 0.9},
         "perceived_progress", +1),
    Link("flexibility-perceived_progress", {"flexibility_mean": 0.1},
         {"flexibility_mean": 0.9}, "perceived_progress", +1),
    # "unambitious aims, absent actors, workforce instability, intra-organisational conflict |
    #  perceived progress | - | stated"
    Link("unambitious_aims-perceived_progress", {"ambition": 0.9}, {"ambition": 0.1},
         "perceived_progress", -1),
    Link("absent_actors-perceived_progress", {"actors_present": 0.9},
         {"actors_present": 0.1}, "perceived_progress", -1),
    Link("workforce_instability-perceived_progress", {"workforce_stability_mean": 0.9},
         {"workforce_stability_mean": 0.1}, "perceived_progress", -1),
    Link("intra_conflict-perceived_progress", {"intra_conflict_mean": 0.1},
         {"intra_conflict_mean": 0.9}, "perceived_progress", -1),
    # "perceived progress | faith | + | stated" (instrument: evaluation, which enters
    # nothing but perceived progress)
    Link("perceived_progress-faith", {"evaluation": 0.1}, {"evaluation": 0.9}, "faith", +1),
    # "trust | faith, perceived progress | + | stated" (instrument: initial_trust)
    Link("trust-faith", {"initial_trust": 0.1}, {"initial_trust": 0.8}, "faith", +1),
    Link("trust-perceived_progress", {"initial_trust": 0.1}, {"initial_trust": 0.8},
         "perceived_progress", +1),
    # "leader vulnerability | trust | + | inferred"
    Link("leader_vulnerability-trust", {"leader_vulnerability": 0.1},
         {"leader_vulnerability": 0.9}, "trust", +1),
    # "leader persuasiveness | faith | + | inferred"
    Link("leader_persuasiveness-faith", {"leader_persuasiveness": 0.1},
         {"leader_persuasiveness": 0.9}, "faith", +1),
    # "risk threshold | collaborative behaviour | + | stated" (instrument: finances, which
    # enter nothing but the risk appetite)
    Link("risk_threshold-collaborative_behaviour", {"finances_mean": 0.1},
         {"finances_mean": 0.9}, "collaborative_behaviour", +1),
    # "faith | collaborative behaviour | + | stated" (instrument: initial_faith)
    Link("faith-collaborative_behaviour", {"initial_faith": 0.1}, {"initial_faith": 0.9},
         "collaborative_behaviour", +1),
    # "communication | synergy | + | stated" (synergy read as collaborative performance;
    # communication as the share of acts that meet the partner's, at the default
    # communication_effect and the same number of acts: design TWO_WAY)
    Link("communication-synergy", {}, {}, "collaborative_performance", +1, design=TWO_WAY),
    # "collaborative behaviour | effectiveness through collaboration | + | stated"
    # (instrument: the competition barrier at full strength)
    Link("collaborative_behaviour-effectiveness",
         {"competition": 1.0, "competition_effect": 1.0},
         {"competition": 0.0, "competition_effect": 1.0}, "effectiveness", +1),
    # "competition regime, regulatory blocking | collaborative behaviour, future willingness |
    #  - | stated" (future willingness read as faith in the collaboration)
    Link("competition-collaborative_behaviour", {"competition": 0.0}, {"competition": 1.0},
         "collaborative_behaviour", -1),
    Link("competition-future_willingness", {"competition": 0.0}, {"competition": 1.0},
         "faith", -1),
    Link("regulatory_blocking-collaborative_behaviour", {"regulatory_blocking": 0.0},
         {"regulatory_blocking": 1.0}, "collaborative_behaviour", -1),
    Link("regulatory_blocking-future_willingness", {"regulatory_blocking": 0.0},
         {"regulatory_blocking": 1.0}, "faith", -1),
    # "missing data sharing | collaboration | - | stated" (collaboration read both as
    # behaviour and as collaborative performance)
    Link("missing_data_sharing-collaborative_behaviour", {"data_sharing": 0.9},
         {"data_sharing": 0.1}, "collaborative_behaviour", -1),
    Link("missing_data_sharing-collaborative_performance", {"data_sharing": 0.9},
         {"data_sharing": 0.1}, "collaborative_performance", -1),
    # "pandemic-type shock | collaborative behaviour | + (temporary) | stated"
    # (the year after a full shock at month 12; temporariness: test_shock_effect_is_temporary)
    Link("shock-collaborative_behaviour", {}, {"events": SHOCK}, "collaborative_behaviour",
         +1, months=AFTER_SHOCK),
    # "effectiveness | perceived progress | + | feedback loop implied by CMOC chains"
    # (instrument: a short benefit lag realises effectiveness sooner)
    Link("effectiveness-perceived_progress", {"benefit_lag": 60.0}, {"benefit_lag": 1.0},
         "perceived_progress", +1),
]
# fmt: on


def _params(link: Link) -> Any:
    marks = []
    if link.xfail:
        marks.append(
            pytest.mark.xfail(strict=True, reason=link.xfail, raises=link.raises or AssertionError)
        )
    return pytest.param(link, id=link.id, marks=marks)


@functools.cache
def _run(key: str, seed: int) -> CollaborationModel:
    # Arms are cached by their keywords, so rows that share an arm run it once.
    return CollaborationModel(
        rng=seed, n_organisations=N_ORGS, months=MONTHS, **{**KEEP, **json.loads(key)}
    ).run()


def _outcome(settings: dict[str, Any], seed: int, outcome: str, months: tuple[int, ...]) -> float:
    model = _run(json.dumps(settings, sort_keys=True), seed)
    if outcome == FINAL_AMBITION:
        return float(model.collaborations()["ambition"].mean())
    return float(model.model_dataframe().loc[list(months), outcome].mean())


def _lay_out_acts(sim, two_way: bool) -> None:
    """Replace this month's acts: in every collaboration, acts on an even number ``n`` of its
    ties' directions, either both directions of ``n / 2`` ties (every act reciprocated) or
    one direction of ``n`` ties (none reciprocated)."""
    st = sim.st
    act = np.zeros(sim.T, dtype=bool)
    forward_ties = st.src[st.tie_pair] < st.dst[st.tie_pair]
    for c in range(sim.C):
        forward = np.flatnonzero((st.tie_collab == c) & forward_ties)  # one per pair
        n = len(forward) // 2 * 2
        if two_way:
            act[forward[: n // 2]] = True
            act[st.tie_rev[forward[: n // 2]]] = True
        else:
            act[forward[:n]] = True
    sim.act = act[None, :]
    sim.recip = sim.act.take(st.tie_rev, axis=1)


def _two_way_outcome(
    settings: dict[str, Any], seed: int, outcome: str, months: tuple[int, ...], two_way: bool
) -> float:
    """``outcome`` after laying out the acts of each of ``months`` two-way or one-way (from
    the model's own state that month, on a copy, so the run itself goes on unchanged)."""
    model = CollaborationModel(
        rng=seed, n_organisations=N_ORGS, months=MONTHS, **{**KEEP, **settings}
    )
    values = []
    for month in months:
        model.run(month - model.steps)
        sim = copy.deepcopy(model.sim)
        _lay_out_acts(sim, two_way)
        sim.produce_performance()
        values.append(METRICS[outcome].func(sim)[0])
    return float(np.mean(values))


def _effects(link: Link, seeds: tuple[int, ...] = SEEDS) -> np.ndarray:
    """High-arm minus low-arm outcome, one value per common seed."""
    if link.design == TWO_WAY:
        return np.array(
            [
                _two_way_outcome(link.high, s, link.outcome, link.months, two_way=True)
                - _two_way_outcome(link.low, s, link.outcome, link.months, two_way=False)
                for s in seeds
            ]
        )
    return np.array(
        [
            _outcome(link.high, s, link.outcome, link.months)
            - _outcome(link.low, s, link.outcome, link.months)
            for s in seeds
        ]
    )


def test_link_ids_are_unique():
    assert len({link.id for link in LINKS}) == len(LINKS)


@pytest.mark.parametrize("link", [_params(link) for link in LINKS])
def test_link_direction(link: Link):
    effects = _effects(link)
    mean = effects.mean()
    assert np.sign(mean) == link.sign, (
        f"{link.id}: expected sign {link.sign:+d}, mean effect {mean:+.4f} "
        f"(per seed {np.round(effects, 4).tolist()})"
    )


def test_shock_effect_is_temporary():
    """docs/theory.md s3: "pandemic-type shock | collaborative behaviour | + (temporary)".

    A full shock at month 12 (half-life 6 months) should matter much less four
    years later than in the year after it.
    """
    early = _effects(
        Link("early", {}, {"events": SHOCK}, "collaborative_behaviour", +1, months=AFTER_SHOCK)
    )
    late = _effects(
        Link(
            "late",
            {},
            {"events": SHOCK},
            "collaborative_behaviour",
            +1,
            months=tuple(range(49, 61)),
        )
    )
    assert early.mean() > 0.05
    assert abs(late.mean()) < 0.25 * early.mean()


def test_common_seeds_make_arms_identical_without_a_change():
    """The design's premise: two arms with the same settings and seed do not differ, so
    every effect above comes from the cause alone."""
    a = CollaborationModel(rng=3, n_organisations=N_ORGS, months=24).run()
    b = CollaborationModel(rng=3, n_organisations=N_ORGS, months=24).run()
    assert a.model_dataframe().equals(b.model_dataframe())


def _laid_out(two_way: bool, **settings: Any):
    """The default system at month 24 (seed 1), on a copy with this month's acts laid out."""
    model = CollaborationModel(rng=1, n_organisations=N_ORGS, months=MONTHS, **{**KEEP, **settings})
    sim = copy.deepcopy(model.run(24).sim)
    _lay_out_acts(sim, two_way)
    sim.produce_performance()
    return sim


def test_two_way_design_changes_only_the_share_of_reciprocated_acts():
    """The premise of the communication row: both layouts put the same number of acts in
    every collaboration (so the same collaborative behaviour per collaboration), all of them
    reciprocated in one and none in the other."""
    two, one = _laid_out(True), _laid_out(False)
    for sim in (two, one):
        assert sim.live_collaborations().all()
    per_collab = [sim.by_collab_tie.sum(sim.act)[0, :-1] for sim in (two, one)]
    assert (per_collab[0] == per_collab[1]).all() and (per_collab[0] > 0).all()
    assert (two.act <= two.recip).all()  # every act met by the partner's
    assert not (one.act & one.recip).any()  # none
    # Everything the output multiplies besides the exchange is the same in both.
    assert np.array_equal(two.mech, one.mech)


def test_communication_effect_scales_output_by_the_two_way_share():
    """output = behaviour * (1 - w + w * reciprocated share) * combined mechanisms, the
    geometric mean of the three under the multiplicative form (engine.simulation.Simulation.
    produce_performance), so with all acts two-way the output is 1 / (1 - w) times the output
    with none, and with communication_effect 0 exchange makes no difference."""
    w = 0.3
    form = {"performance_form": "multiplicative"}
    two, one = (_laid_out(t, communication_effect=w, **form) for t in (True, False))
    live = two.output[0, :-1] > 0
    assert live.any()
    assert np.allclose(
        two.output[0, :-1][live] * (1 - w), one.output[0, :-1][live], rtol=1e-12, atol=0
    )
    behaviour_c = two.by_collab_tie.mean(two.act)[0, :-1]
    combined = np.cbrt(two.mech[0, :, :-1].prod(axis=0))
    assert np.allclose(two.output[0, :-1], behaviour_c * combined, rtol=1e-12, atol=0)
    two0, one0 = (_laid_out(t, communication_effect=0.0, **form) for t in (True, False))
    assert np.array_equal(two0.output, one0.output)
