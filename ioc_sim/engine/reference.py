"""The numpy reference of the pairs' month: acts in every tie, exchange, and the
updates of conflict, trust, confidence and risk threshold, one readable function per
phase of ``docs/ODD.md`` (sections 7.6 to 7.11), with the ODD's names.

The simulation runs these phases compiled
(:func:`ioc_sim.engine.kernels.pairs.pair_acts` and
:func:`~ioc_sim.engine.kernels.pairs.pair_update`); :func:`reference_step` runs a
month with these functions in their place, reading the same random streams in
the same order, and the tests require the same bits from both. Each function
reads and writes the simulation's state and its cached views directly: it is
the same model, written out phase by phase.

A pair's ties are handled in layers: its first tie, then (for pairs with more) its
second, and so on, so that what each outcome teaches trust builds on what the ones
before it taught, in the order the compiled kernel takes them.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from ioc_sim.engine import kernels
from ioc_sim.engine.kernels.rng import sfc64_uniforms
from ioc_sim.engine.simulation import Simulation
from ioc_sim.engine.views import clip01


def reference_step(sim: Simulation) -> None:
    """Advance every replicate by one month, as :meth:`Simulation.step` does, with the
    pairs' phases 3 to 8 in numpy instead of the compiled kernels.

    Args:
        sim: The simulation to advance.
    """
    sim.start_month()
    sim.apply_scheduled_changes()
    sim.review_collaborations()
    choose_acts(sim)
    outcome = exchange(sim)
    update_conflict(sim, outcome)
    update_trust(sim, outcome)
    update_confidence(sim, outcome)
    update_risk_threshold(sim)
    sim.update_progress_and_faith()
    sim.grow_demand()
    sim.produce_performance()
    sim.embed_practice()
    sim.regulate()


def _per_tie(sim: Simulation, row: int) -> np.ndarray:
    """Row ``row`` of the tie pack (:data:`~ioc_sim.engine.kernels.pairs.TIE_ROWS`) as
    each tie sees it, (R, T)."""
    return sim._views()["tie_pack"][row][:, sim.st.tie_collab]


def choose_acts(sim: Simulation) -> None:
    """Phase 3 (ODD 7.6): each organisation decides, in every collaboration and per
    partner, whether to act collaboratively. Compiled:
    :func:`ioc_sim.engine.kernels.pairs.pair_acts`."""
    p, st = sim.p, sim.st
    v = sim._refresh_views()  # contexts are fixed from here to the month's end
    sim.attention = sim._attention(v)
    sim._tie_pack()  # this month's exposure and effective support
    intensity = _per_tie(sim, kernels.pairs.C_INTENSITY)
    slack = _per_tie(sim, kernels.pairs.C_SLACK)
    depth = _per_tie(sim, kernels.pairs.C_DEPTH)
    exposure = _per_tie(sim, kernels.pairs.C_EXPOSURE)
    gap = sim.risk[:, st.tie_pair] - exposure
    if p["gate_softness"] > 1e-6:  # narrower than that is a hard threshold in practice
        gate = expit(gap / p["gate_softness"])
    else:
        gate = (gap >= 0.0).astype(float)
    # The source's faith in the tie's collaboration, and the attention it has to give.
    faith = sim.faith[:, st.tie_mem]
    attention = sim.attention[:, st.src[st.tie_pair]]
    shock = sim.shock_level()
    barrier = 1.0 - p["competition_effect"] * sim.system["competition"] * (1.0 - shock)
    # Regulatory blocking holds back the integrative (deep) part of the work.
    blocked = p["blocking_effect"] * sim.system["regulatory_blocking"] * (1.0 - shock)
    prob = slack * faith + depth * gate * 0.5 * (1.0 + faith) * (1.0 - blocked)
    prob = intensity * attention * prob
    prob *= barrier
    if shock:  # the boost is exactly zero without a shock
        prob = np.where(intensity > 0.0, prob + p["shock_boost"] * shock, prob)
    prob = np.minimum(1.0, prob, out=prob)
    sim.act = act_uniforms(sim, intensity > 0.0) < prob
    sim.recip = sim.act.take(st.tie_rev, axis=1)


def act_uniforms(sim: Simulation, working: np.ndarray) -> np.ndarray:
    """The uniform stream's next numbers on the ties ``working`` (R, T) is true, in
    tie order, and 1.0 elsewhere: a tie whose collaboration does no work
    (intensity 0) has probability 0 of acting, so it draws nothing."""
    u = np.ones((sim.R, sim.T))
    for r, w in enumerate(working):
        u[r, w] = sfc64_uniforms(sim.ustate, r, int(np.count_nonzero(w)))
    return u


def outcome_noise(sim: Simulation, where: np.ndarray) -> np.ndarray:
    """The noise stream's next numbers on the ties ``where`` (R, T) is true, in tie
    order, and 0 elsewhere: only joint acts have an outcome, so only they draw
    its noise."""
    sim.noise.reserve(sim.T)
    z = np.zeros((sim.R, sim.T))
    for r, w in enumerate(where):
        z[r, w] = sim.noise.take(r, int(np.count_nonzero(w)))
    return z


def exchange(sim: Simulation) -> dict[str, np.ndarray]:
    """Phase 4 (ODD 7.7): quality of each joint act; a partner that does not
    reciprocate is a breach.

    Returns:
        Which acts trust observes, the quality each tie's act is seen to have, which
        joint acts failed, and which acts were joint, (R, T) each.
    """
    p = sim.p
    joint = sim.act & sim.recip
    quality = clip01(expected_quality(sim) + p["outcome_noise"] * outcome_noise(sim, joint))
    seen = np.where(joint, quality, p["expectation"] - p["breach_signal"])
    failed = joint & (quality < p["expectation"])
    # A partner not reciprocating teaches trust something only if it reads as a breach.
    observed = sim.act if p["breach_signal"] > 0 else joint
    return {"observed": observed, "quality": seen, "failed": failed, "joint": joint}


def expected_quality(sim: Simulation) -> np.ndarray:
    """Expected quality of each tie's joint acts, (R, T) (eqs. X1-X2 of the ODD; the
    compiled pair update computes it for the joint acts only)."""
    v, d, st = sim._views(), sim._distress_views(), sim.st
    drivers = (
        (
            v["drivers"][st.tie_pair]
            + _per_tie(sim, kernels.pairs.C_ACCOUNTABILITY)
            + d["healthy_target"][:, st.tie_pair]
            + _per_tie(sim, kernels.pairs.C_SUPPORT)
            + (1.0 - sim._pressure())
        )
        / 7.0
        + sim.p["relational_quality"] * (sim.trust[:, st.tie_pair] - 0.5)
        + sim.results[:, st.tie_collab]
    )
    return expit(sim.p["success_slope"] * (drivers - 0.5) * 2.0)


def _where_live(sim: Simulation, values: np.ndarray) -> np.ndarray:
    """``values`` on pairs whose relationship is live, 0 elsewhere."""
    return np.where(sim._views()["live"], values, 0.0)


def _layers(sim: Simulation):
    """For each position j in a pair's list of ties: the pairs with more than j ties
    and the tie at position j of each."""
    st = sim.st
    start, count = st.tie_start[:-1], np.diff(st.tie_start)
    for j in range(int(count.max()) if len(count) else 0):
        pairs = np.flatnonzero(count > j)
        yield pairs, start[pairs] + j


def update_conflict(sim: Simulation, outcome: dict[str, np.ndarray]) -> None:
    """Phase 5 (ODD 7.8): conflict moves toward what its contexts imply; each failed
    joint act adds to it."""
    p = sim.p
    failures = np.zeros((sim.R, sim.E))
    for pairs, ties in _layers(sim):
        failures[:, pairs] += outcome["failed"][:, ties]
    step = p["conflict_rate"] * (sim._views()["conflict_target"] - sim.conflict)
    step += p["failure_conflict"] * failures
    sim.conflict = clip01(sim.conflict + _where_live(sim, step))


def _learn(sim, seen, t, damage, gain, observed):
    """What one outcome per pair teaches trust (eqs. T1-T5): the change and the
    damage after it, as :func:`ioc_sim.engine.kernels.pairs._learn` has them."""
    p = sim.p
    loss = p["trust_gain"] * (p["trust_asymmetry"] if p["fragile"] in ("trust", "equal") else 1.0)
    s = 2.0 * (seen - p["expectation"])
    np.clip(s, -1.0, 1.0, out=s)
    good = s >= 0
    spec = p["trust_update"]
    if spec == "asymmetric_ceiling":
        delta = np.where(good, gain * s * (1.0 - t) * (1.0 - damage), loss * s * t)
        hurt = observed & ~good
        damage = np.where(hurt, np.minimum(damage - p["damage_gain"] * s, 1.0), damage)
    elif spec == "expectation_gap":  # linear in the gap, no ceiling or hysteresis
        delta = gain * np.maximum(0.0, s) - loss * np.maximum(0.0, -s)
    else:  # ratchet: never down after a good episode, never up after a bad one
        delta = np.where(
            good, np.maximum(0.0, gain * (seen - t)), np.minimum(0.0, loss * (seen - t))
        )
    return delta, damage


def update_trust(sim: Simulation, outcome: dict[str, np.ndarray]) -> None:
    """Phase 6 (ODD 7.9): asymmetric learning from each observed act, in the order of
    the pair's ties; erosion by conflict, more so when it is handled destructively."""
    p, v = sim.p, sim._views()
    t = sim.trust
    learned = np.zeros((sim.R, sim.E))
    damage = sim.damage.copy()
    gain = np.broadcast_to(v["gain"], t.shape)  # includes crowding out, if chosen
    for pairs, ties in _layers(sim):
        observed = outcome["observed"][:, ties]
        delta, dmg = _learn(
            sim,
            outcome["quality"][:, ties],
            t[:, pairs] + learned[:, pairs],
            damage[:, pairs],
            gain[:, pairs],
            observed,
        )
        learned[:, pairs] += np.where(observed, delta, 0.0)
        damage[:, pairs] = dmg
    sim.damage = damage * (1.0 - p["damage_decay"])
    k = sim.conflict
    change = _where_live(sim, -(p["conflict_trust_erosion"] + v["resolution_harm"]) * k * t)
    change = change + learned
    sim.trust = clip01(t + change)


def update_confidence(sim: Simulation, outcome: dict[str, np.ndarray]) -> None:
    """Phase 7 (ODD 7.10): beta-reputation evidence that obligations are honoured, with
    forgetting: every tie whose collaboration works adds its evidence."""
    v = sim._views()
    honoured = sim.honoured * v["keep"]
    breached = sim.breached * v["keep"]
    weight = _per_tie(sim, kernels.pairs.C_WEIGHT)
    breach_weight = _per_tie(sim, kernels.pairs.C_BREACH_WEIGHT)
    for pairs, ties in _layers(sim):
        back = sim.recip[:, ties]
        honoured[:, pairs] = np.where(back, honoured[:, pairs] + weight[:, ties],
                                      honoured[:, pairs])  # fmt: skip
        breached[:, pairs] = np.where(back, breached[:, pairs],
                                      breached[:, pairs] + breach_weight[:, ties])  # fmt: skip
    sim.honoured, sim.breached = honoured, breached
    sim.confidence = sim._confidence(v)


def update_risk_threshold(sim: Simulation) -> None:
    """Phase 8 (ODD 7.11): the risk threshold follows trust and confidence, discounted
    by weak finances."""
    step = sim.p["risk_rate"] * (sim._risk_target() - sim.risk)
    sim.risk = clip01(sim.risk + _where_live(sim, step))
