"""The pairs' month, compiled: acts in every tie (:func:`pair_acts`), then exchange,
conflict, trust, confidence and risk threshold of every pair (:func:`pair_update`),
then the grouped means of the pairs' state that the later phases read
(:func:`pair_means`).

A *pair* is an ordered pair of organisations and holds one relationship; a *tie*
is a pair in one collaboration (:class:`~ioc_sim.engine.structure.Structure`).
Organisations act tie by tie, so a pair in several collaborations works in each,
and every joint act teaches the one relationship.

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

#: Rows of the per-pair pack (see :func:`pair_update`): what a pair's relationship
#: takes from the deepest live collaboration it works in, its organisations and the
#: parameters; it changes only with those.
PACK_ROWS = (
    "gain",
    "conflict_target",
    "resolution_harm",
    "appetite",
    "keep",
    "prior",
    "live",
)
(
    P_GAIN,
    P_CONFLICT_TARGET,
    P_RESOLUTION_HARM,
    P_APPETITE,
    P_KEEP,
    P_PRIOR,
    P_LIVE,
) = range(len(PACK_ROWS))

#: Rows of the per-collaboration pack a tie reads (see :func:`pair_acts` and
#: :func:`pair_update`): how much work the collaboration's stage allows, its loose
#: and integrative shares, the exposure of its joint acts, its accountability and
#: effective support, and the evidence weights of a reciprocated or unreciprocated act.
TIE_ROWS = (
    "intensity",
    "slack",
    "depth",
    "exposure",
    "accountability",
    "support",
    "weight",
    "breach_weight",
)
(
    C_INTENSITY,
    C_SLACK,
    C_DEPTH,
    C_EXPOSURE,
    C_ACCOUNTABILITY,
    C_SUPPORT,
    C_WEIGHT,
    C_BREACH_WEIGHT,
) = range(len(TIE_ROWS))

#: Trust update specifications (parameter ``trust_update``).
TRUST_SPECS = {"asymmetric_ceiling": 0, "expectation_gap": 1, "ratchet": 2}

#: Parameters of :func:`pair_acts`.
ACT_PARAMS = pack_dtype("gate_softness")

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
    "relational_quality",
    trust_update=np.int64,
    substitutes=np.bool_,
)


@njit(cache=True, inline="always")
def _act_probability(base, deep, gate, f, intensity, attention, barrier, blocked, shock_add):
    """prob = intensity * attention * (slack * faith + depth * gate * (1 + faith) / 2
    * (1 - blocked)) * barrier (+ the shock boost where the collaboration works), at
    most 1; ``base`` is slack * faith and ``deep`` the collaboration's depth."""
    prob = base + deep * gate * 0.5 * (1.0 + f) * (1.0 - blocked)
    prob = intensity * attention * prob
    prob *= barrier
    if shock_add != 0.0 and intensity > 0.0:
        prob = prob + shock_add
    if prob > 1.0:
        prob = 1.0
    return prob


@njit(cache=True)
def pair_acts(
    uniform_state,
    tie_pair,
    tie_collab,
    tie_mem,
    tie_rev,
    src,
    tie_pack,
    faith,
    risk,
    attention,
    barrier,
    blocked,
    shock_add,
    params,
    act,
    recip,
):
    """This month's acts in every tie, the first half of the pairs' month.

    ``uniform_state`` (R, 4) is the uniform stream: each tie whose collaboration
    does any work draws the next number, in tie order (the others have probability
    0 of acting and draw none). ``tie_pair``, ``tie_collab``, ``tie_mem``,
    ``tie_rev`` (T,) are each tie's pair, collaboration, the source's membership and
    the reverse tie; ``src`` (E,) each pair's source. ``tie_pack`` (K, R, C + 1) has
    the rows of :data:`TIE_ROWS`; ``faith`` (R, M + 1) the members' faith; ``risk``
    (R, E) the pairs' risk thresholds; ``attention`` (R, N) the share of its
    collaborative work an organisation's management attention allows. This month's
    conditions: ``barrier`` (what competition leaves of the probability),
    ``blocked`` (the share of deep work regulation blocks) and ``shock_add`` (the
    shock's boost); ``params`` an :data:`ACT_PARAMS` pack. Writes whether each tie
    acts and whether its act is reciprocated, ``act`` and ``recip`` (R, T).

    A tie acts if ``u < prob`` (:func:`_act_probability`), with the gate
    ``logistic((risk - exposure) / gate_softness)`` of its pair's risk threshold
    against its collaboration's exposure. The gate (an exponential) is the costly
    part, and most acts do not need it: the gate lies between 0 and 1, and where
    every factor that multiplies it is at least 0, each rounded operation is
    monotone in it, so ``u`` below the probability with the gate shut means an
    act, and ``u`` not below it with the gate fully open means none. A first pass
    settles those ties and lists the others; a second computes the gate for the
    listed ties only. The acts are exactly those of computing the gate everywhere.
    """
    gate_softness = params[0].gate_softness
    r_count, t_count = act.shape
    soft = gate_softness > 1e-6
    rising = barrier >= 0.0 and 1.0 - blocked >= 0.0
    pending = np.empty(t_count, dtype=np.int64)
    u = np.empty(t_count)
    for r in range(r_count):
        if not any_positive(tie_pack[C_INTENSITY, r]):
            # No collaboration works (every one has ended, say): the probability is
            # intensity (0) times the rest, and the shock boost needs intensity > 0.
            act[r, :] = False
            recip[r, :] = False
            continue
        k = 0
        state = uniform_state[r]
        s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
        for t in range(t_count):
            c = tie_collab[t]
            intensity = tie_pack[C_INTENSITY, r, c]
            f = faith[r, tie_mem[t]]
            base = tie_pack[C_SLACK, r, c] * f
            deep = tie_pack[C_DEPTH, r, c]
            share = attention[r, src[tie_pair[t]]]
            if intensity > 0.0:
                s0, s1, s2, s3, bits = sfc64_next(s0, s1, s2, s3)
                x = to_unit(bits)
            else:
                x = 1.0
            u[t] = x
            shut = _act_probability(
                base, deep, 0.0, f, intensity, share, barrier, blocked, shock_add
            )
            full = _act_probability(
                base, deep, 1.0, f, intensity, share, barrier, blocked, shock_add
            )
            monotone = (
                rising and deep >= 0.0 and intensity >= 0.0 and share >= 0.0 and 1.0 + f >= 0.0
            )
            act[r, t] = x < shut
            pending[k] = t
            k += not (monotone and (x < shut or not x < full))
        for j in range(k):
            t = pending[j]
            c = tie_collab[t]
            gap = risk[r, tie_pair[t]] - tie_pack[C_EXPOSURE, r, c]
            if soft:
                gate = 1.0 / (1.0 + math.exp(-(gap / gate_softness)))
            else:
                gate = 1.0 if gap >= 0.0 else 0.0
            f = faith[r, tie_mem[t]]
            act[r, t] = u[t] < _act_probability(
                tie_pack[C_SLACK, r, c] * f,
                tie_pack[C_DEPTH, r, c],
                gate,
                f,
                tie_pack[C_INTENSITY, r, c],
                attention[r, src[tie_pair[t]]],
                barrier,
                blocked,
                shock_add,
            )
        state[0], state[1], state[2], state[3] = s0, s1, s2, s3
        for t in range(t_count):
            recip[r, t] = act[r, tie_rev[t]]


@njit(cache=True, inline="always")
def _learn(trust_spec, seen, expectation, t, dmg, gain, loss, damage_gain, observed):
    """What one outcome teaches trust ``t`` (eqs. T1-T5 of the ODD): the change of
    trust, and the lasting damage after it (deepened by an observed disappointment
    under the asymmetric-ceiling update)."""
    s = 2.0 * (seen - expectation)  # signal strength on [-1, 1]
    if s < -1.0:
        s = -1.0
    elif s > 1.0:
        s = 1.0
    good = s >= 0.0
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
    return delta, dmg


@njit(cache=True)
def pair_update(
    noise_block,
    noise_pos,
    act,
    recip,
    tie_start,
    tie_collab,
    tie_pack,
    drivers,
    results,
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
    """The second half of the pairs' month: exchange in every tie, then conflict,
    trust, confidence and risk threshold of every pair, after :func:`pair_acts`.

    ``noise_block``, ``noise_pos`` are the noise stream: each joint act reads the
    next standard normal, in tie order (the caller reserves one per tie). A joint
    act's expected quality is computed here, for the joint acts only (eqs. X1-X2 of
    the ODD)::

        x    = (drivers + accountability + (1 - distressed[target]) + support + calm) / 7
               + relational_quality * (trust - 0.5) + results
        qbar = 1 / (1 + exp(-(success_slope * (x - 0.5) * 2)))

    with ``drivers`` (E,) the pair's target capacity, compatibility and the data
    sharing of the system, accountability and effective support those of the tie's
    collaboration (``tie_pack`` (K, R, C + 1), rows of :data:`TIE_ROWS`), the pair's
    trust (relationships turn joint work into effective joint action), the
    collaboration's visible results (``results`` (R, C + 1)), ``distressed`` (R, N)
    and ``calm`` = 1 - pressure. A pair's ties are
    ``tie_start[e]:tie_start[e + 1]`` in ``act``, ``recip`` (R, T) and
    ``tie_collab`` (T,); their outcomes teach its trust in turn, each failed joint
    act adds to its conflict, and each tie whose collaboration works is evidence
    for its confidence. A distressed source lowers the pair's appetite for risk by
    ``distress_risk_effect``. ``src``, ``dst`` (E,) are each pair's organisations
    and ``pair_pack`` (K, R, E) has the rows of :data:`PACK_ROWS`; ``params`` is an
    :data:`UPDATE_PARAMS` pack. The month's state ``trust``, ``conflict``, ``risk``
    is read only; ``damage``, ``honoured``, ``breached`` are updated in place; the
    new state is written to the last four arrays. Where the pair's relationship is
    not live (``live`` 0.0), it does not move except by learning from observed acts.
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
    relational = pars.relational_quality
    r_count, e_count = trust.shape
    for r in range(r_count):
        if not (any_positive(pair_pack[P_LIVE, r]) or _any_true(act[r]) or _any_true(recip[r])):
            # No pair is live and no tie acted (every collaboration has ended, say): the
            # loop below with ``live``, ``acted`` and ``back`` false.
            _idle_pairs(
                r,
                tie_start,
                tie_collab,
                tie_pack,
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
            live = pair_pack[P_LIVE, r, e] != 0.0
            t = trust[r, e]
            dmg = damage[r, e]
            gain = pair_pack[P_GAIN, r, e]
            keep = pair_pack[P_KEEP, r, e]
            h = honoured[r, e] * keep
            b = breached[r, e] * keep
            failures = 0.0
            learned = 0.0  # the sum of what this month's outcomes teach, in tie order
            for tt in range(tie_start[e], tie_start[e + 1]):
                acted, back = act[r, tt], recip[r, tt]
                c = tie_collab[tt]
                # --- exchange: quality of a joint act; not reciprocating reads as a breach.
                joint = acted and back
                if joint:
                    healthy = 0.0 if distressed[r, dst[e]] else 1.0
                    x = (
                        (
                            drivers[e]
                            + tie_pack[C_ACCOUNTABILITY, r, c]
                            + healthy
                            + tie_pack[C_SUPPORT, r, c]
                            + calm
                        )
                        / 7.0
                        + relational * (trust[r, e] - 0.5)
                        + results[r, c]
                    )
                    mean_quality = 1.0 / (1.0 + math.exp(-(slope * (x - 0.5) * 2.0)))
                    quality = clip01(mean_quality + outcome_noise * noise_block[r, zi])
                    zi += 1
                    seen = quality
                    if quality < expectation:
                        failures += 1.0
                else:
                    seen = expectation - breach_signal
                observed = acted if breach_signal > 0.0 else joint
                if observed:
                    delta, dmg = _learn(
                        trust_spec,
                        seen,
                        expectation,
                        t + learned,
                        dmg,
                        gain,
                        loss,
                        damage_gain,
                        True,
                    )
                    learned += delta
                # --- evidence for confidence: each tie whose collaboration works.
                if back:
                    h += tie_pack[C_WEIGHT, r, c]
                else:
                    b += tie_pack[C_BREACH_WEIGHT, r, c]
            # --- update_conflict: toward the contexts' target; failed tasks add to it.
            k = conflict[r, e]
            step = conflict_rate * (pair_pack[P_CONFLICT_TARGET, r, e] - k)
            step += failure_conflict * failures
            k = clip01(k + (step if live else 0.0))
            conflict_out[r, e] = k
            # --- update_trust: what the outcomes taught, erosion by conflict.
            damage[r, e] = dmg * (1.0 - damage_decay)
            change = -(erosion + pair_pack[P_RESOLUTION_HARM, r, e]) * k * t if live else 0.0
            change = change + learned
            t = clip01(t + change)
            trust_out[r, e] = t
            # --- update_confidence: beta-reputation evidence with forgetting.
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
def _any_true(flags) -> bool:
    """Whether any of the booleans ``flags`` is set."""
    for x in flags:
        if x:
            return True
    return False


@njit(cache=True)
def _idle_pairs(
    r,
    tie_start,
    tie_collab,
    tie_pack,
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
    """:func:`pair_update` of replicate ``r`` when no pair is live and no tie acted:
    conflict, trust and risk stay (plus 0.0, clipped, as there), damage fades, and
    the evidence is kept and each tie's breach weight added to it, with the same
    operations in the same order."""
    for e in range(trust.shape[1]):
        conflict_out[r, e] = clip01(conflict[r, e] + 0.0)
        damage[r, e] = damage[r, e] * (1.0 - damage_decay)
        trust_out[r, e] = clip01(trust[r, e] + 0.0)
        keep = pair_pack[P_KEEP, r, e]
        h = honoured[r, e] * keep
        b = breached[r, e] * keep
        for tt in range(tie_start[e], tie_start[e + 1]):
            b += tie_pack[C_BREACH_WEIGHT, r, tie_collab[tt]]
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
    working_c,
    tie_pair,
    tie_collab,
    tie_mem,
    src,
    n_orgs,
    n_members,
    need_org,
):
    """Grouped sums and means of the ties' and pairs' state, in one pass per replicate.

    Returns, for ``R`` replicates:

    * ``collab`` (5, R, C + 1): mean trust, acts, conflict, confidence and joint acts
      (act and reciprocated) over each collaboration's ties, where an act counts
      only if its collaboration works (``working_c`` (R, C + 1));
    * ``member`` (2, R, M + 1) mean trust and conflict over each membership's ties,
      and ``member_count`` (R, M + 1) their number;
    * ``org`` (2, R, N) mean trust and conflict of each organisation's outgoing pairs
      (only if ``need_org``: a membership without ties of its own reads them; zeros
      otherwise), and ``acts`` (R, N) the number of its collaborative acts.

    Members of a group are added in tie (or pair) order starting from 0.0, as
    ``np.bincount`` does; a mean divides by the count, or by 1 for an empty group.
    """
    r_count, e_count = trust.shape
    t_count = tie_pair.shape[0]
    n_collabs = working_c.shape[1]
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
        # Running sums of the current collaboration and membership: consecutive ties
        # mostly share them, so the sums stay in registers; they are stored when the
        # group changes and reloaded when it comes back, so every group still adds its
        # members in tie order (the same numbers as adding in place).
        cc, c0, c1, c2, c3, c4, cn = -1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
        cm, m0, m1, mn = -1, 0.0, 0.0, 0.0
        for t in range(t_count):
            e, c, m = tie_pair[t], tie_collab[t], tie_mem[t]
            tr, k = trust[r, e], conflict[r, e]
            a = 1.0 if act[r, t] and working_c[r, c] else 0.0
            if c != cc:
                if cc >= 0:
                    collab[0, r, cc], collab[1, r, cc], collab[2, r, cc] = c0, c1, c2
                    collab[3, r, cc], collab[4, r, cc], collab_count[cc] = c3, c4, cn
                cc = c
                c0, c1, c2 = collab[0, r, c], collab[1, r, c], collab[2, r, c]
                c3, c4, cn = collab[3, r, c], collab[4, r, c], collab_count[c]
            c0 += tr
            c1 += a
            c2 += k
            c3 += confidence[r, e]
            c4 += 1.0 if a != 0.0 and recip[r, t] else 0.0
            cn += 1.0
            if m != cm:
                if cm >= 0:
                    member[0, r, cm], member[1, r, cm], member_count[r, cm] = m0, m1, mn
                cm = m
                m0, m1, mn = member[0, r, m], member[1, r, m], member_count[r, m]
            m0 += tr
            m1 += k
            mn += 1.0
            acts[r, src[e]] += a
        if cc >= 0:
            collab[0, r, cc], collab[1, r, cc], collab[2, r, cc] = c0, c1, c2
            collab[3, r, cc], collab[4, r, cc], collab_count[cc] = c3, c4, cn
        if cm >= 0:
            member[0, r, cm], member[1, r, cm], member_count[r, cm] = m0, m1, mn
        if need_org:
            for e in range(e_count):
                i = src[e]
                org[0, r, i] += trust[r, e]
                org[1, r, i] += conflict[r, e]
                org_count[i] += 1.0
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
