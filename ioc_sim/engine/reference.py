"""The numpy reference of the pairs' month: acts, exchange, and the updates of
conflict, trust, confidence and risk threshold, one readable function per phase of
``docs/ODD.md`` (sections 7.6 to 7.11), with the ODD's names.

The simulation runs these phases compiled
(:func:`ioc_sim.engine.kernels.pairs.pair_acts` and
:func:`~ioc_sim.engine.kernels.pairs.pair_update`); :func:`reference_step` runs a
month with these functions in their place, reading the same random streams in
the same order, and the tests require the same bits from both. Each function
reads and writes the simulation's state and its cached views directly: it is
the same model, written out phase by phase.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

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
    update_confidence(sim)
    update_risk_threshold(sim)
    sim.update_progress_and_faith()
    sim.grow_demand()
    sim.produce_performance()
    sim.update_distress()


def choose_acts(sim: Simulation) -> None:
    """Phase 3 (ODD 7.6): each organisation decides, per partner, whether to act
    collaboratively. Compiled: :func:`ioc_sim.engine.kernels.pairs.pair_acts`."""
    p, ctx = sim.p, sim.ctx
    v = sim._refresh_views()  # contexts are fixed from here to the month's end
    depth, intensity = v["depth"], v["intensity"]
    # Ambition moves every month, so exposure is gathered afresh.
    exposure = sim._to_pairs(
        p["exposure_scale"] * 0.5 * (ctx["integration_depth"] + ctx["ambition"])
    )
    if p["gate_softness"] > 1e-6:  # narrower than that is a hard threshold in practice
        gate = expit((sim.risk - exposure) / p["gate_softness"])
    else:
        gate = (sim.risk >= exposure).astype(float)
    # The source's faith in the collaboration the pair works under.
    faith = sim._to_pairs(sim.faith, sim._pair_mem_slot)
    shock = sim.shock_level()
    barrier = 1.0 - p["competition_effect"] * sim.system["competition"] * (1.0 - shock)
    # Regulatory blocking holds back the integrative (deep) part of the work.
    blocked = p["blocking_effect"] * sim.system["regulatory_blocking"] * (1.0 - shock)
    prob = v["slack"] * faith + depth * gate * 0.5 * (1.0 + faith) * (1.0 - blocked)
    if not v["all_working"]:  # otherwise intensity is exactly 1 for every pair
        prob = intensity * prob
    prob *= barrier
    if shock:  # the boost is exactly zero without a shock
        prob = prob + p["shock_boost"] * shock * (intensity > 0)
    prob = np.minimum(1.0, prob, out=prob)
    sim.act = act_uniforms(sim, intensity > 0.0) < prob
    sim.recip = sim.act.take(sim.st.rev, axis=1)


def act_uniforms(sim: Simulation, working: np.ndarray) -> np.ndarray:
    """The uniform stream's next numbers on the pairs ``working`` (R, E) is true, in
    pair order, and 1.0 elsewhere: a pair whose collaboration does no work
    (intensity 0) has probability 0 of acting, so it draws nothing."""
    u = np.ones((sim.R, sim.E))
    for r, w in enumerate(working):
        u[r, w] = sfc64_uniforms(sim.ustate, r, int(np.count_nonzero(w)))
    return u


def outcome_noise(sim: Simulation, where: np.ndarray) -> np.ndarray:
    """The noise stream's next numbers on the pairs ``where`` (R, E) is true, in pair
    order, and 0 elsewhere: only joint acts have an outcome, so only they draw
    its noise."""
    sim.noise.reserve(sim.E)
    z = np.zeros((sim.R, sim.E))
    for r, w in enumerate(where):
        z[r, w] = sim.noise.take(r, int(np.count_nonzero(w)))
    return z


def exchange(sim: Simulation) -> dict[str, np.ndarray]:
    """Phase 4 (ODD 7.7): quality of each joint act; a partner that does not
    reciprocate is a breach.

    Returns:
        Which acts trust observes, the quality each pair sees, which joint acts
        failed, and which acts were joint, (R, E) each.
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
    """Expected quality of each pair's joint acts, (R, E) (eqs. X1-X2 of the ODD;
    the compiled pair update computes it for the joint acts only)."""
    v, d = sim._views(), sim._distress_views()
    drivers = (v["drivers"] + d["healthy_target"] + v["support"] + (1.0 - sim._pressure())) / 7.0
    return expit(sim.p["success_slope"] * (drivers - 0.5) * 2.0)


def _where_live(sim: Simulation, values: np.ndarray) -> np.ndarray:
    """``values`` on pairs in a live collaboration, 0 elsewhere."""
    v = sim._views()
    return values if v["all_live"] else np.where(v["live"], values, 0.0)


def update_conflict(sim: Simulation, outcome: dict[str, np.ndarray]) -> None:
    """Phase 5 (ODD 7.8): conflict moves toward what its contexts imply; failed tasks
    add to it."""
    p = sim.p
    step = p["conflict_rate"] * (sim._views()["conflict_target"] - sim.conflict)
    np.add(step, p["failure_conflict"], out=step, where=outcome["failed"])
    sim.conflict = clip01(sim.conflict + _where_live(sim, step))


def update_trust(sim: Simulation, outcome: dict[str, np.ndarray]) -> None:
    """Phase 6 (ODD 7.9): asymmetric learning from joint acts; erosion by conflict,
    more so when it is handled destructively."""
    p = sim.p
    v = sim._views()
    spec = p["trust_update"]
    t = sim.trust
    q = outcome["quality"]
    # Signal strength on [-1, 1]: how far the act fell short of or beat expectation.
    s = 2.0 * (q - p["expectation"])
    np.clip(s, -1.0, 1.0, out=s)
    gain = v["gain"]  # includes crowding out by formal assurance, if chosen
    loss = p["trust_gain"] * (p["trust_asymmetry"] if p["fragile"] in ("trust", "equal") else 1.0)
    good = s >= 0
    if spec == "asymmetric_ceiling":
        delta = np.where(good, gain * s * (1.0 - t) * (1.0 - sim.damage), loss * s * t)
        # Unmet expectations in observed acts deepen the damage (capped at 1).
        hurt = outcome["observed"] & ~good
        np.subtract(sim.damage, p["damage_gain"] * s, out=sim.damage, where=hurt)
        np.minimum(sim.damage, 1.0, out=sim.damage, where=hurt)
    elif spec == "expectation_gap":  # linear in the gap, no ceiling or hysteresis
        delta = gain * np.maximum(0.0, s) - loss * np.maximum(0.0, -s)
    else:  # ratchet: never down after a good episode, never up after a bad one
        delta = np.where(good, np.maximum(0.0, gain * (q - t)), np.minimum(0.0, loss * (q - t)))
    sim.damage *= 1.0 - p["damage_decay"]
    k = sim.conflict
    change = _where_live(sim, -(p["conflict_trust_erosion"] + v["resolution_harm"]) * k * t)
    np.add(change, delta, out=change, where=outcome["observed"])  # learning if observed
    sim.trust = clip01(t + change)


def update_confidence(sim: Simulation) -> None:
    """Phase 7 (ODD 7.10): beta-reputation evidence that obligations are honoured,
    with forgetting."""
    v = sim._views()
    # honoured = keep * honoured + weight * reciprocated
    # breached = keep * breached + weight * breach weight * (not reciprocated)
    # weight: 1 where the collaboration works, else 0 (formal assurance is the prior);
    # keep: confidence_memory where it works, else 1 (no forgetting).
    evidence = np.concatenate([sim.honoured, sim.breached]).reshape(2, sim.R, sim.E)
    evidence *= v["keep"]
    evidence += np.where(sim.recip, v["if_honoured"], v["if_breached"])
    sim.honoured, sim.breached = evidence
    sim.confidence = sim._confidence(v)


def update_risk_threshold(sim: Simulation) -> None:
    """Phase 8 (ODD 7.11): the risk threshold follows trust and confidence, discounted
    by weak finances."""
    step = sim.p["risk_rate"] * (sim._risk_target() - sim.risk)
    sim.risk = clip01(sim.risk + _where_live(sim, step))
