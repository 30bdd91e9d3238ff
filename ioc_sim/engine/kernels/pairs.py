"""The pairs' month, compiled: acts (:func:`pair_acts`), then exchange, conflict,
trust, confidence and risk threshold (:func:`pair_update`), then the grouped means
of the pairs' state that the later phases read (:func:`pair_means`).

``docs/ODD.md`` sections 7.6 to 7.11 have the equations; the readable numpy
version of each phase is in :mod:`ioc_sim.engine.reference`, and the tests
compare the two bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ioc_sim.engine.kernels.common import any_positive, clip01
from ioc_sim.engine.kernels.params import pack_dtype
from ioc_sim.engine.kernels.rng import sfc64_next, to_unit

#: Rows of the per-pair pack (see :func:`pair_acts` and :func:`pair_update`):
#: quantities that change only with contexts, parameters, organisation attributes or
#: the assignment of pairs.
PACK_ROWS = (
    "slack",
    "depth",
    "intensity",
    "gain",
    "conflict_target",
    "resolution_harm",
    "appetite",
    "keep",
    "weight",
    "breach_weight",
    "prior",
    "live",
)
(
    P_SLACK,
    P_DEPTH,
    P_INTENSITY,
    P_GAIN,
    P_CONFLICT_TARGET,
    P_RESOLUTION_HARM,
    P_APPETITE,
    P_KEEP,
    P_WEIGHT,
    P_BREACH_WEIGHT,
    P_PRIOR,
    P_LIVE,
) = range(len(PACK_ROWS))

#: Trust update specifications (parameter ``trust_update``).
TRUST_SPECS = {"asymmetric_ceiling": 0, "expectation_gap": 1, "ratchet": 2}

#: Parameters of :func:`pair_acts`: ``exposure_half_scale`` is half
#: ``exposure_scale`` (exposure = exposure_scale * (depth + ambition) / 2).
ACT_PARAMS = pack_dtype("exposure_half_scale", "gate_softness")

#: Parameters of :func:`pair_update`: ``trust_loss`` is the rate of trust's losses
#: (``trust_gain``, times ``trust_asymmetry`` where trust is the fragile one);
#: ``trust_update`` is a code of :data:`TRUST_SPECS`; ``substitutes`` whether
#: ``trust_confidence`` is "substitutes".
UPDATE_PARAMS = pack_dtype(
    "success_slope",
    "distress_risk_effect",
    "outcome_noise",
    "expectation",
    "breach_signal",
    "failure_conflict",
    "conflict_rate",
    "trust_loss",
    "damage_gain",
    "damage_decay",
    "conflict_trust_erosion",
    "formal_prior_weight",
    "trust_weight",
    "risk_rate",
    trust_update=np.int64,
    substitutes=np.bool_,
)


@njit(cache=True, inline="always")
def _act_probability(base, deep, gate, f, intensity, barrier, blocked, shock_add):
    """prob = (slack * faith + depth * gate * (1 + faith) / 2 * (1 - blocked))
    * intensity * barrier (+ the shock boost where the collaboration works), at most 1;
    ``base`` is slack * faith and ``deep`` the pair's depth."""
    prob = base + deep * gate * 0.5 * (1.0 + f) * (1.0 - blocked)
    prob = intensity * prob
    prob *= barrier
    if shock_add != 0.0 and intensity > 0.0:
        prob = prob + shock_add
    if prob > 1.0:
        prob = 1.0
    return prob


@njit(cache=True)
def pair_acts(
    uniform_state,
    edge_collab,
    edge_mem,
    reverse,
    depth_c,
    ambition_c,
    faith,
    pair_pack,
    risk,
    barrier,
    blocked,
    shock_add,
    params,
    act,
    recip,
):
    """This month's acts of every pair, the first half of the pairs' month.

    Inputs ``(R, E)`` unless said: ``uniform_state`` (R, 4) the uniform stream (each
    pair whose intensity is above 0 draws the next number, in pair order; the others
    have probability 0 of acting and draw none); ``edge_collab``/``edge_mem`` each
    pair's collaboration and membership; ``reverse`` (E,) the reverse pair;
    ``depth_c``, ``ambition_c`` (R, C + 1); ``faith`` (R, M + 1); ``pair_pack``
    (K, R, E) with the rows of :data:`PACK_ROWS`; ``risk`` the month's risk
    threshold. This month's conditions: ``barrier`` (what competition leaves of
    the probability), ``blocked`` (the share of deep work regulation blocks) and
    ``shock_add`` (the shock's boost); ``params`` an :data:`ACT_PARAMS` pack.
    Writes whether each pair acts and whether its act is reciprocated.

    A pair acts if ``u < prob`` (:func:`_act_probability`). The risk gate in ``prob``
    (a logistic, so an exponential) is the costly part, and most acts do not need
    it: the gate lies between 0 and 1, and where every factor that multiplies it is
    at least 0, each rounded operation is monotone in it, so ``u`` below the
    probability with the gate shut means an act, and ``u`` not below it with the
    gate fully open means none. A first pass settles those pairs and lists the
    others; a second computes the gate for the listed pairs only. The acts are
    exactly those of computing the gate everywhere.
    """
    pars = params[0]
    exposure_half_scale, gate_softness = pars.exposure_half_scale, pars.gate_softness
    r_count, e_count = act.shape
    soft = gate_softness > 1e-6
    rising = barrier >= 0.0 and 1.0 - blocked >= 0.0
    pending = np.empty(e_count, dtype=np.int64)
    u = np.empty(e_count)
    for r in range(r_count):
        if not any_positive(pair_pack[P_INTENSITY, r]):
            # No pair works (every collaboration has ended, say): the probability is
            # intensity (0) times the rest, and the shock boost needs intensity > 0.
            act[r, :] = False
            recip[r, :] = False
            continue
        k = 0
        state = uniform_state[r]
        s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
        for e in range(e_count):
            intensity = pair_pack[P_INTENSITY, r, e]
            f = faith[r, edge_mem[r, e]]
            base = pair_pack[P_SLACK, r, e] * f
            deep = pair_pack[P_DEPTH, r, e]
            if intensity > 0.0:
                s0, s1, s2, s3, bits = sfc64_next(s0, s1, s2, s3)
                x = to_unit(bits)
            else:
                x = 1.0
            u[e] = x
            shut = _act_probability(base, deep, 0.0, f, intensity, barrier, blocked, shock_add)
            full = _act_probability(base, deep, 1.0, f, intensity, barrier, blocked, shock_add)
            monotone = rising and deep >= 0.0 and intensity >= 0.0 and 1.0 + f >= 0.0
            act[r, e] = x < shut
            pending[k] = e
            k += not (monotone and (x < shut or not x < full))
        for j in range(k):
            e = pending[j]
            c = edge_collab[r, e]
            # exposure = exposure_scale * 0.5 * (depth + ambition) of the collaboration
            exposure = exposure_half_scale * (depth_c[r, c] + ambition_c[r, c])
            if soft:
                gate = 1.0 / (1.0 + math.exp(-((risk[r, e] - exposure) / gate_softness)))
            else:
                gate = 1.0 if risk[r, e] >= exposure else 0.0
            f = faith[r, edge_mem[r, e]]
            act[r, e] = u[e] < _act_probability(
                pair_pack[P_SLACK, r, e] * f,
                pair_pack[P_DEPTH, r, e],
                gate,
                f,
                pair_pack[P_INTENSITY, r, e],
                barrier,
                blocked,
                shock_add,
            )
        state[0], state[1], state[2], state[3] = s0, s1, s2, s3
        for e in range(e_count):
            recip[r, e] = act[r, reverse[e]]


@njit(cache=True)
def pair_update(
    noise_block,
    noise_pos,
    act,
    recip,
    drivers,
    support,
    distressed,
    src,
    dst,
    pair_pack,
    trust,
    conflict,
    risk,
    damage,
    honoured,
    breached,
    calm,
    params,
    conflict_out,
    trust_out,
    confidence_out,
    risk_out,
):
    """The second half of the pairs' month: exchange, conflict, trust, confidence and
    risk threshold, after :func:`pair_acts`.

    ``noise_block``, ``noise_pos`` are the noise stream: each joint act reads the
    next standard normal, in pair order (the caller reserves one per pair). A joint
    act's expected quality is computed here, for the joint acts only (eqs. X1-X2 of
    the ODD)::

        x    = (drivers + (1 - distressed[target]) + support + calm) / 7
        qbar = 1 / (1 + exp(-(success_slope * (x - 0.5) * 2)))

    with ``drivers`` and ``support`` (R, E) from the views, ``distressed`` (R, N)
    and ``calm`` = 1 - pressure; a distressed source lowers the pair's appetite for
    risk by ``distress_risk_effect``. ``src``, ``dst`` (E,) are each pair's
    organisations and ``pair_pack`` (K, R, E) has the rows of :data:`PACK_ROWS`;
    ``params`` is an :data:`UPDATE_PARAMS` pack. The month's state ``trust``,
    ``conflict``, ``risk`` is read only; ``damage``, ``honoured``, ``breached`` are
    updated in place; the new state is written to the last four arrays. With
    ``live`` the pair's collaboration is live (1.0) or not (0.0); elsewhere the
    state does not move except by learning from observed acts, as in the numpy
    phases.
    """
    pars = params[0]
    slope, risk_effect = pars.success_slope, pars.distress_risk_effect
    outcome_noise, expectation = pars.outcome_noise, pars.expectation
    breach_signal = pars.breach_signal
    failure_conflict, conflict_rate = pars.failure_conflict, pars.conflict_rate
    trust_spec, loss = pars.trust_update, pars.trust_loss
    damage_gain, damage_decay = pars.damage_gain, pars.damage_decay
    erosion, prior_weight = pars.conflict_trust_erosion, pars.formal_prior_weight
    substitutes, trust_weight, risk_rate = pars.substitutes, pars.trust_weight, pars.risk_rate
    r_count, e_count = act.shape
    for r in range(r_count):
        if not any_positive(pair_pack[P_LIVE, r]):
            # No pair is in a live collaboration, so none acted (:func:`pair_acts`):
            # the loop below with ``live``, ``acted`` and ``back`` false.
            _idle_pairs(
                r,
                pair_pack,
                trust,
                conflict,
                risk,
                damage,
                honoured,
                breached,
                damage_decay,
                prior_weight,
                conflict_out,
                trust_out,
                confidence_out,
                risk_out,
            )
            continue
        zi = noise_pos[r]
        for e in range(e_count):
            acted, back = act[r, e], recip[r, e]
            live = pair_pack[P_LIVE, r, e] != 0.0
            # --- exchange: quality of a joint act; not reciprocating reads as a breach.
            joint = acted and back
            if joint:
                healthy = 0.0 if distressed[r, dst[e]] else 1.0
                x = (drivers[r, e] + healthy + support[r, e] + calm) / 7.0
                mean_quality = 1.0 / (1.0 + math.exp(-(slope * (x - 0.5) * 2.0)))
                quality = clip01(mean_quality + outcome_noise * noise_block[r, zi])
                zi += 1
                seen = quality
                failed = quality < expectation
            else:
                seen = expectation - breach_signal
                failed = False
            observed = acted if breach_signal > 0.0 else joint
            # --- update_conflict: toward the contexts' target; failed tasks add to it.
            k = conflict[r, e]
            step = conflict_rate * (pair_pack[P_CONFLICT_TARGET, r, e] - k)
            if failed:
                step += failure_conflict
            k = clip01(k + (step if live else 0.0))
            conflict_out[r, e] = k
            # --- update_trust: asymmetric learning, erosion by conflict, repair.
            t = trust[r, e]
            s = 2.0 * (seen - expectation)  # signal strength on [-1, 1]
            if s < -1.0:
                s = -1.0
            elif s > 1.0:
                s = 1.0
            gain = pair_pack[P_GAIN, r, e]
            good = s >= 0.0
            dmg = damage[r, e]
            if trust_spec == 0:  # asymmetric ceiling, with damage
                if good:
                    delta = gain * s * (1.0 - t) * (1.0 - dmg)
                else:
                    delta = loss * s * t
                if observed and not good:  # unmet expectations deepen the damage
                    dmg = dmg - damage_gain * s
                    if dmg > 1.0:
                        dmg = 1.0
            elif trust_spec == 1:  # expectation gap: linear, no ceiling
                delta = gain * max(0.0, s) - loss * max(0.0, -s)
            else:  # ratchet
                if good:
                    delta = max(0.0, gain * (seen - t))
                else:
                    delta = min(0.0, loss * (seen - t))
            damage[r, e] = dmg * (1.0 - damage_decay)
            change = -(erosion + pair_pack[P_RESOLUTION_HARM, r, e]) * k * t if live else 0.0
            if observed:
                change = change + delta
            t = clip01(t + change)
            trust_out[r, e] = t
            # --- update_confidence: beta-reputation evidence with forgetting.
            keep = pair_pack[P_KEEP, r, e]
            h = honoured[r, e] * keep
            b = breached[r, e] * keep
            if back:
                h += pair_pack[P_WEIGHT, r, e]
            else:
                b += pair_pack[P_BREACH_WEIGHT, r, e]
            honoured[r, e] = h
            breached[r, e] = b
            conf = (h + pair_pack[P_PRIOR, r, e] + 1.0) / (h + b + prior_weight + 2.0)
            confidence_out[r, e] = conf
            # --- update_risk_threshold: toward trust and confidence, times appetite.
            if substitutes:
                base = max(t, conf)
            else:
                base = trust_weight * t + (1.0 - trust_weight) * conf
            source_risk = risk_effect * (1.0 if distressed[r, src[e]] else 0.0)
            target = clip01(base * (pair_pack[P_APPETITE, r, e] - source_risk))
            x = risk[r, e]
            risk_out[r, e] = clip01(x + (risk_rate * (target - x) if live else 0.0))
        noise_pos[r] = zi


@njit(cache=True, inline="always")
def _idle_pairs(
    r,
    pair_pack,
    trust,
    conflict,
    risk,
    damage,
    honoured,
    breached,
    damage_decay,
    prior_weight,
    conflict_out,
    trust_out,
    confidence_out,
    risk_out,
):
    """:func:`pair_update` of replicate ``r`` when none of its pairs is live: conflict,
    trust and risk stay (plus 0.0, clipped, as there), damage fades and the evidence
    is kept and added to as there, with the same operations in the same order."""
    for e in range(trust.shape[1]):
        conflict_out[r, e] = clip01(conflict[r, e] + 0.0)
        damage[r, e] = damage[r, e] * (1.0 - damage_decay)
        trust_out[r, e] = clip01(trust[r, e] + 0.0)
        keep = pair_pack[P_KEEP, r, e]
        h = honoured[r, e] * keep
        b = breached[r, e] * keep
        b += pair_pack[P_BREACH_WEIGHT, r, e]
        honoured[r, e] = h
        breached[r, e] = b
        confidence_out[r, e] = (h + pair_pack[P_PRIOR, r, e] + 1.0) / (h + b + prior_weight + 2.0)
        risk_out[r, e] = clip01(risk[r, e] + 0.0)


@njit(cache=True)
def pair_means(
    trust,
    conflict,
    confidence,
    act,
    recip,
    live,
    edge_collab,
    edge_mem,
    src,
    n_orgs,
    n_members,
    n_collabs,
    need_org,
):
    """Grouped sums and means of the pairs' state, in one pass per replicate.

    Returns, for ``R`` replicates:

    * ``collab`` (5, R, C + 1): mean trust, acts, conflict, confidence and joint acts
      (act and reciprocated) of each collaboration's pairs, where a pair's act counts
      only if its collaboration is live (``live`` (R, E) is 1.0 or 0.0);
    * ``member`` (2, R, M + 1) mean trust and conflict of each membership's pairs, and
      ``member_count`` (R, M + 1) their number;
    * ``org`` (2, R, N) mean trust and conflict of each organisation's outgoing pairs
      (only if ``need_org``: a membership without pairs of its own reads them; zeros
      otherwise), and ``acts`` (R, N) the number of its collaborative acts.

    Members of a group are added in pair order starting from 0.0, as ``np.bincount``
    does; a mean divides by the count, or by 1 for an empty group.
    """
    r_count, e_count = trust.shape
    collab = np.zeros((5, r_count, n_collabs))
    collab_count = np.zeros(n_collabs)
    member = np.zeros((2, r_count, n_members))
    member_count = np.zeros((r_count, n_members))
    org = np.zeros((2, r_count, n_orgs))
    org_count = np.zeros(n_orgs)
    acts = np.zeros((r_count, n_orgs))
    for r in range(r_count):
        collab_count[:] = 0.0
        org_count[:] = 0.0
        # Running sums of the current collaboration and membership: consecutive pairs
        # mostly share them, so the sums stay in registers; they are stored when the
        # group changes and reloaded when it comes back, so every group still adds its
        # members in pair order (the same numbers as adding in place).
        cc, c0, c1, c2, c3, c4, cn = -1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
        cm, m0, m1, mn = -1, 0.0, 0.0, 0.0
        for e in range(e_count):
            c, m, i = edge_collab[r, e], edge_mem[r, e], src[e]
            t, k = trust[r, e], conflict[r, e]
            a = 1.0 if act[r, e] and live[r, e] != 0.0 else 0.0
            if c != cc:
                if cc >= 0:
                    collab[0, r, cc], collab[1, r, cc], collab[2, r, cc] = c0, c1, c2
                    collab[3, r, cc], collab[4, r, cc], collab_count[cc] = c3, c4, cn
                cc = c
                c0, c1, c2 = collab[0, r, c], collab[1, r, c], collab[2, r, c]
                c3, c4, cn = collab[3, r, c], collab[4, r, c], collab_count[c]
            c0 += t
            c1 += a
            c2 += k
            c3 += confidence[r, e]
            c4 += 1.0 if a != 0.0 and recip[r, e] else 0.0
            cn += 1.0
            if m != cm:
                if cm >= 0:
                    member[0, r, cm], member[1, r, cm], member_count[r, cm] = m0, m1, mn
                cm = m
                m0, m1, mn = member[0, r, m], member[1, r, m], member_count[r, m]
            m0 += t
            m1 += k
            mn += 1.0
            if need_org:
                org[0, r, i] += t
                org[1, r, i] += k
                org_count[i] += 1.0
            acts[r, i] += a
        if cc >= 0:
            collab[0, r, cc], collab[1, r, cc], collab[2, r, cc] = c0, c1, c2
            collab[3, r, cc], collab[4, r, cc], collab_count[cc] = c3, c4, cn
        if cm >= 0:
            member[0, r, cm], member[1, r, cm], member_count[r, cm] = m0, m1, mn
        for c in range(n_collabs):
            d = max(collab_count[c], 1.0)
            for row in range(5):
                collab[row, r, c] /= d
        for m in range(n_members):
            d = max(member_count[r, m], 1.0)
            member[0, r, m] /= d
            member[1, r, m] /= d
        for i in range(n_orgs):
            d = max(org_count[i], 1.0)
            org[0, r, i] /= d
            org[1, r, i] /= d
    return collab, member, member_count, org, acts
