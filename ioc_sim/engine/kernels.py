"""Compiled kernels for the monthly update of :class:`ioc_sim.core.Simulation`.

Why: with about 1,400 ordered pairs (200 organisations) a month of the model
made about 230 numpy calls on small arrays, so numpy's per-call overhead, not
arithmetic, set the pace. These numba kernels fuse the per-pair phases (and
the grouped means that follow them) into single loops over replicates and
pairs.

Rules the kernels keep, so that their numbers equal the numpy reference:

* Uniform numbers come from numpy's SFC64 algorithm, stepped here on each
  replicate's state (``ustate`` (R, 4), :func:`sfc64_uniforms`): the same
  numbers as ``numpy.random.Generator(SFC64)`` from that state gives with
  ``random()``, without a call into numpy per draw. Normal numbers are drawn
  outside, by numpy, and passed in as drawn-ahead blocks (``buf`` (R, B)) with
  each replicate's read position (``pos`` (R,)); a kernel reads them in order
  from ``buf[r, pos[r]]`` and leaves ``pos`` past them. The numpy reference
  reads both streams in the same order. A replicate's numbers never depend on
  the other replicates of a batch (every loop runs replicate by replicate).
* Each equation is written with the same operations in the same order as the
  numpy code it replaces (``docs/ODD.md`` has the equations and their status),
  so elementwise results are equal bit for bit; grouped sums add members in
  index order, as ``np.bincount`` does, and means of whole rows add as
  ``np.add.reduce`` does (:func:`pairwise_sum`).
* numpy's SIMD exponentials, logarithms and cube roots round differently
  from the C library's, which numba calls. The soft gate's ``math.exp``
  matches ``scipy.special.expit`` of the numpy reference, which uses the C
  library too; the mechanisms' blend and the fading of integration costs use
  the C library's ``exp``, ``log`` and ``cbrt`` (they have no separate numpy
  reference); the maturity index's cube root stays in numpy, so that it equals
  :func:`ioc_sim.maturity.index_of_simulated`.
* Compiled with ``cache=True``: the first call on a machine compiles (about
  8 s for all of them), later processes load the cache (about 0.3 s).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Rows of the per-pair "pack" (see :func:`pair_acts` and :func:`pair_update`):
#: quantities that change only with contexts, parameters, organisation attributes or
#: the assignment of pairs.
PACK_ROWS = ("slack", "depth", "intensity", "gain", "conflict_target", "resolution_harm",
             "appetite", "keep", "weight", "breach_weight", "prior", "live")
(P_SLACK, P_DEPTH, P_INTENSITY, P_GAIN, P_CONFLICT_TARGET, P_RESOLUTION_HARM, P_APPETITE,
 P_KEEP, P_WEIGHT, P_BREACH_WEIGHT, P_PRIOR, P_LIVE) = range(len(PACK_ROWS))

#: Trust update specifications (parameter ``trust_update``).
TRUST_SPECS = {"asymmetric_ceiling": 0, "expectation_gap": 1, "ratchet": 2}


@njit(cache=True, inline="always")
def _clip01(x: float) -> float:
    if x < 0.0:
        return 0.0
    if x > 1.0:
        return 1.0
    return x


_U1, _U3, _U11, _U24, _U40 = (np.uint64(k) for k in (1, 3, 11, 24, 40))
#: 2 ** -53: a 53-bit integer times this is a double in [0, 1).
_TO_UNIT = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def _sfc64(a, b, c, w):
    """One step of SFC64 (Chris Doty-Humphrey's Small Fast Chaotic generator, as
    numpy's ``sfc64_next`` in numpy/random/src/sfc64/sfc64.h): the new state
    ``(a, b, c, counter)`` and the next 64-bit output."""
    out = a + b + w
    return b ^ (b >> _U11), c + (c << _U3), ((c << _U24) | (c >> _U40)) + out, w + _U1, out


@njit(cache=True)
def sfc64_uniforms(ustate, r, n):
    """The next ``n`` uniform numbers on [0, 1) of replicate ``r``'s SFC64 state
    ``ustate[r]`` (advanced in place): numpy's ``random()``, which keeps the top 53
    bits of each output (``(x >> 11) * 2**-53``)."""
    a, b, c, w = ustate[r, 0], ustate[r, 1], ustate[r, 2], ustate[r, 3]
    out = np.empty(n)
    for i in range(n):
        a, b, c, w, x = _sfc64(a, b, c, w)
        out[i] = float(x >> _U11) * _TO_UNIT
    ustate[r, 0], ustate[r, 1], ustate[r, 2], ustate[r, 3] = a, b, c, w
    return out


@njit(cache=True)
def _any_positive(values) -> bool:
    for x in values:
        if x > 0.0:
            return True
    return False


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
def pair_acts(ustate, edge_collab, edge_mem, rev, depth_c, ambition_c, faith, pack, risk,
              es05, gate_softness, barrier, blocked, shock_add, act, recip):
    """This month's acts of every pair, the first half of the pairs' month.

    Inputs ``(R, E)`` unless said: ``ustate`` (R, 4) the uniform stream (each pair
    whose intensity is above 0 draws the next number, in pair order; the others
    have probability 0 of acting and draw none); ``edge_collab``/``edge_mem`` each
    pair's collaboration and membership; ``rev`` (E,) the reverse pair;
    ``depth_c``, ``ambition_c`` (R, C + 1); ``faith`` (R, M + 1); ``pack`` (K, R, E)
    with the rows of :data:`PACK_ROWS`; ``risk`` the month's risk threshold. Writes
    whether each pair acts and whether its act is reciprocated.

    A pair acts if ``u < prob`` (:func:`_act_probability`). The risk gate in ``prob``
    (a logistic, so an exponential) is the costly part, and most acts do not need
    it: the gate lies between 0 and 1, and where every factor that multiplies it is
    at least 0, each rounded operation is monotone in it, so ``u`` below the
    probability with the gate shut means an act, and ``u`` not below it with the
    gate fully open means none. A first pass settles those pairs and lists the
    others; a second computes the gate for the listed pairs only. The acts are
    exactly those of computing the gate everywhere.
    """
    r_count, e_count = act.shape
    soft = gate_softness > 1e-6
    rising = barrier >= 0.0 and 1.0 - blocked >= 0.0
    pending = np.empty(e_count, dtype=np.int64)
    u = np.empty(e_count)
    for r in range(r_count):
        if not _any_positive(pack[P_INTENSITY, r]):
            # No pair works (every collaboration has ended, say): the probability is
            # intensity (0) times the rest, and the shock boost needs intensity > 0.
            act[r, :] = False
            recip[r, :] = False
            continue
        k = 0
        s0, s1, s2, s3 = ustate[r, 0], ustate[r, 1], ustate[r, 2], ustate[r, 3]
        for e in range(e_count):
            intensity = pack[P_INTENSITY, r, e]
            f = faith[r, edge_mem[r, e]]
            base = pack[P_SLACK, r, e] * f
            deep = pack[P_DEPTH, r, e]
            if intensity > 0.0:
                s0, s1, s2, s3, bits = _sfc64(s0, s1, s2, s3)
                x = float(bits >> _U11) * _TO_UNIT
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
            exposure = es05 * (depth_c[r, c] + ambition_c[r, c])
            if soft:
                gate = 1.0 / (1.0 + math.exp(-((risk[r, e] - exposure) / gate_softness)))
            else:
                gate = 1.0 if risk[r, e] >= exposure else 0.0
            f = faith[r, edge_mem[r, e]]
            act[r, e] = u[e] < _act_probability(
                pack[P_SLACK, r, e] * f, pack[P_DEPTH, r, e], gate, f, pack[P_INTENSITY, r, e],
                barrier, blocked, shock_add)
        ustate[r, 0], ustate[r, 1], ustate[r, 2], ustate[r, 3] = s0, s1, s2, s3
        for e in range(e_count):
            recip[r, e] = act[r, rev[e]]


@njit(cache=True)
def pair_update(zbuf, zpos, act, recip, drivers, support, distressed, src, dst, calm, slope,
                risk_effect, pack, trust, conflict, risk, damage, honoured, breached,
                outcome_noise, expectation, breach_signal, failure_conflict, conflict_rate,
                trust_spec, loss, damage_gain, damage_decay, erosion, prior_weight,
                substitutes, trust_weight, risk_rate, conflict_out, trust_out, confidence_out,
                risk_out):
    """The second half of the pairs' month: exchange, conflict, trust, confidence and
    risk threshold, after :func:`pair_acts`.

    ``zbuf``, ``zpos`` are the noise stream: each joint act reads the next standard
    normal, in pair order (the caller reserves one per pair). A joint act's expected
    quality is computed here, for the joint acts only (eqs. X1-X2 of the ODD)::

        x    = (drivers + (1 - distressed[target]) + support + calm) / 7
        qbar = 1 / (1 + exp(-(slope * (x - 0.5) * 2)))

    with ``drivers`` and ``support`` (R, E) from the views, ``distressed`` (R, N)
    and ``calm`` = 1 - pressure; a distressed source lowers the pair's appetite for
    risk by ``risk_effect``. The month's state ``trust``, ``conflict``, ``risk`` is
    read only; ``damage``, ``honoured``, ``breached`` are updated in place; the new
    state is written to the last four arrays. With ``live`` the pair's
    collaboration is live (1.0) or not (0.0); elsewhere the state does not move
    except by learning from observed acts, as in the numpy phases.
    """
    r_count, e_count = act.shape
    for r in range(r_count):
        if not _any_positive(pack[P_LIVE, r]):
            # No pair is in a live collaboration, so none acted (:func:`pair_acts`):
            # the loop below with ``live``, ``acted`` and ``back`` false.
            _idle_pairs(r, pack, trust, conflict, risk, damage, honoured, breached,
                        damage_decay, prior_weight, conflict_out, trust_out, confidence_out,
                        risk_out)
            continue
        zi = zpos[r]
        for e in range(e_count):
            acted, back = act[r, e], recip[r, e]
            live = pack[P_LIVE, r, e] != 0.0
            # --- exchange: quality of a joint act; not reciprocating reads as a breach.
            joint = acted and back
            if joint:
                healthy = 0.0 if distressed[r, dst[e]] else 1.0
                x = (drivers[r, e] + healthy + support[r, e] + calm) / 7.0
                mean_quality = 1.0 / (1.0 + math.exp(-(slope * (x - 0.5) * 2.0)))
                quality = _clip01(mean_quality + outcome_noise * zbuf[r, zi])
                zi += 1
                seen = quality
                failed = quality < expectation
            else:
                seen = expectation - breach_signal
                failed = False
            observed = acted if breach_signal > 0.0 else joint
            # --- update_conflict: toward the contexts' target; failed tasks add to it.
            k = conflict[r, e]
            step = conflict_rate * (pack[P_CONFLICT_TARGET, r, e] - k)
            if failed:
                step += failure_conflict
            k = _clip01(k + (step if live else 0.0))
            conflict_out[r, e] = k
            # --- update_trust: asymmetric learning, erosion by conflict, repair.
            t = trust[r, e]
            s = 2.0 * (seen - expectation)  # signal strength on [-1, 1]
            if s < -1.0:
                s = -1.0
            elif s > 1.0:
                s = 1.0
            gain = pack[P_GAIN, r, e]
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
            change = -(erosion + pack[P_RESOLUTION_HARM, r, e]) * k * t if live else 0.0
            if observed:
                change = change + delta
            t = _clip01(t + change)
            trust_out[r, e] = t
            # --- update_confidence: beta-reputation evidence with forgetting.
            keep = pack[P_KEEP, r, e]
            h = honoured[r, e] * keep
            b = breached[r, e] * keep
            if back:
                h += pack[P_WEIGHT, r, e]
            else:
                b += pack[P_BREACH_WEIGHT, r, e]
            honoured[r, e] = h
            breached[r, e] = b
            conf = (h + pack[P_PRIOR, r, e] + 1.0) / (h + b + prior_weight + 2.0)
            confidence_out[r, e] = conf
            # --- update_risk_threshold: toward trust and confidence, times appetite.
            if substitutes:
                base = max(t, conf)
            else:
                base = trust_weight * t + (1.0 - trust_weight) * conf
            source_risk = risk_effect * (1.0 if distressed[r, src[e]] else 0.0)
            target = _clip01(base * (pack[P_APPETITE, r, e] - source_risk))
            x = risk[r, e]
            risk_out[r, e] = _clip01(x + (risk_rate * (target - x) if live else 0.0))
        zpos[r] = zi


@njit(cache=True, inline="always")
def _idle_pairs(r, pack, trust, conflict, risk, damage, honoured, breached, damage_decay,
                prior_weight, conflict_out, trust_out, confidence_out, risk_out):
    """:func:`pair_update` of replicate ``r`` when none of its pairs is live: conflict,
    trust and risk stay (plus 0.0, clipped, as there), damage fades and the evidence
    is kept and added to as there, with the same operations in the same order."""
    for e in range(trust.shape[1]):
        conflict_out[r, e] = _clip01(conflict[r, e] + 0.0)
        damage[r, e] = damage[r, e] * (1.0 - damage_decay)
        trust_out[r, e] = _clip01(trust[r, e] + 0.0)
        keep = pack[P_KEEP, r, e]
        h = honoured[r, e] * keep
        b = breached[r, e] * keep
        b += pack[P_BREACH_WEIGHT, r, e]
        honoured[r, e] = h
        breached[r, e] = b
        confidence_out[r, e] = (h + pack[P_PRIOR, r, e] + 1.0) / (h + b + prior_weight + 2.0)
        risk_out[r, e] = _clip01(risk[r, e] + 0.0)


#: Rows of the per-membership pack (see :func:`progress_faith`).
MEMBER_ROWS = ("m_drivers", "m_actors", "m_stability", "m_calm", "m_harm", "m_persuasion",
               "m_mandate", "m_live")
(M_DRIVERS, M_ACTORS, M_STABILITY, M_CALM, M_HARM, M_PERSUASION, M_MANDATE,
 M_LIVE) = range(len(MEMBER_ROWS))


@njit(cache=True)
def pair_means(trust, conflict, confidence, act, recip, live, edge_collab, edge_mem, src,
               n_orgs, n_members, n_collabs, need_org):
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


@njit(cache=True)
def progress_faith(member, member_count, org, mem_org, mem_collab, ambition, eff, mpack,
                   progress, faith, w, progress_rate, faith_rate, trust_c, working_c,
                   ambition_rate, progress_out, faith_out):
    """Perceived progress and faith of every membership, then the ambition of joint aims.

    For membership ``m`` (``member`` from :func:`pair_means`; a membership with no pair
    of its own reads its organisation's means over all its partners)::

        drivers  = (m_drivers + trust + ambition + actors + stability + calm) / 8
        target_p = (1 - w) * drivers + w * mean effectiveness of the collaboration
        target_f = 0.5 * (progress + trust) + persuasion + mandate
        x       += rate * (target - x) - harm * conflict * x     (where live; clipped)

    then, per collaboration, ``ambition += ambition_rate * (trust_c - ambition)`` where
    it works (in place). ``eff`` is (R, C + 1, 6); ``mpack`` (K, R, M + 1) has the rows
    of :data:`MEMBER_ROWS`.
    """
    r_count, m_total = progress.shape
    n_components = eff.shape[2]
    for r in range(r_count):
        for m in range(m_total):
            c = mem_collab[m]
            t, k = member[0, r, m], member[1, r, m]
            if member_count[r, m] == 0.0 and m < m_total - 1:
                t, k = org[0, r, mem_org[m]], org[1, r, mem_org[m]]
            eff_sum = 0.0
            for j in range(n_components):
                eff_sum += eff[r, c, j]
            eff_m = eff_sum / n_components
            drivers = (mpack[M_DRIVERS, r, m] + t + ambition[r, c] + mpack[M_ACTORS, r, m]
                       + mpack[M_STABILITY, r, m] + mpack[M_CALM, r, m]) / 8.0
            target_p = (1.0 - w) * drivers + w * eff_m
            p, f = progress[r, m], faith[r, m]
            target_f = 0.5 * (p + t) + mpack[M_PERSUASION, r, m] + mpack[M_MANDATE, r, m]
            harm = mpack[M_HARM, r, m] * k
            step_p = progress_rate * (target_p - p)
            step_p -= harm * p
            step_f = faith_rate * (target_f - f)
            step_f -= harm * f
            live = mpack[M_LIVE, r, m] != 0.0
            progress_out[r, m] = _clip01(p + (step_p if live else 0.0))
            faith_out[r, m] = _clip01(f + (step_f if live else 0.0))
        for c in range(ambition.shape[1]):
            a = ambition[r, c]
            ambition[r, c] = a + (ambition_rate * (trust_c[r, c] - a) if working_c[r, c]
                                  else 0.0)


#: Rows of the per-collaboration pack (see :func:`mechanisms`).
COLLAB_ROWS = ("compat_c", "c_leadership", "c_resolution", "organisational", "technological")


@njit(cache=True)
def mechanisms(collab, faith, mem_collab, cpack, working_c, loadings, multiplicative, mech,
               blend, combined):
    """Cultural efficacy, organisational efficiency and technological effectiveness of
    each collaboration, written to ``mech`` (R, 3, C + 1)::

        cultural       = (trust + faith + compatibility + leadership + (1 - conflict)
                          + resolution) / 6
        organisational = (accountability + role clarity + formalisation + capacity + pace
                          + confidence) / 6
        technological  = (data sharing + digital maturity + integration depth) / 3

    each times 1 where the collaboration works and 0 elsewhere. ``collab`` is the
    first output of :func:`pair_means`; faith is the mean over the collaboration's
    members (``faith`` (R, M + 1), the last slot a dummy), added in membership order.
    ``cpack`` (K, R, C + 1) has the rows of :data:`COLLAB_ROWS`.

    Then how the three combine (``performance_form``), into ``blend`` (R, C + 1, K),
    the mechanisms weighted by ``loadings`` (K, 3) for each effectiveness component,
    and ``combined`` (R, C + 1), the collaboration's output::

        multiplicative: blend_k  = exp(sum_j loadings[k, j] * log(max(mech_j, 1e-9)))
                        combined = cbrt(cultural * organisational * technological)
        additive:       blend_k  = sum_j loadings[k, j] * mech_j
                        combined = (cultural + organisational + technological) / 3
    """
    r_count, c_total = working_c.shape
    m_count = mem_collab.shape[0] - 1  # the last membership is the dummy
    faith_sum = np.zeros(c_total)
    count = np.zeros(c_total)
    for m in range(m_count):
        count[mem_collab[m]] += 1.0
    for r in range(r_count):
        faith_sum[:] = 0.0
        for m in range(m_count):
            faith_sum[mem_collab[m]] += faith[r, m]
        for c in range(c_total):
            faith_c = faith_sum[c] / max(count[c], 1.0)
            on = 1.0 if working_c[r, c] else 0.0
            m0 = (collab[0, r, c] + faith_c + cpack[0, r, c] + cpack[1, r, c]
                  + (1.0 - collab[2, r, c]) + cpack[2, r, c]) / 6.0 * on
            m1 = (cpack[3, r, c] + collab[3, r, c]) / 6.0 * on
            m2 = cpack[4, r, c] * on
            mech[r, 0, c], mech[r, 1, c], mech[r, 2, c] = m0, m1, m2
            if multiplicative:
                l0 = math.log(max(m0, 1e-9))
                l1 = math.log(max(m1, 1e-9))
                l2 = math.log(max(m2, 1e-9))
                for k in range(loadings.shape[0]):
                    blend[r, c, k] = math.exp(loadings[k, 0] * l0 + loadings[k, 1] * l1
                                              + loadings[k, 2] * l2)
                combined[r, c] = np.cbrt(m0 * m1 * m2)
            else:
                for k in range(loadings.shape[0]):
                    blend[r, c, k] = loadings[k, 0] * m0 + loadings[k, 1] * m1 + loadings[k, 2] * m2
                combined[r, c] = (m0 + m1 + m2) / 3.0


@njit(cache=True)
def performance(collab, acts, partners, blend, combined, communication, eff, lags, engage,
                fading, age, cost_months, mem_org, mem_collab, management_cost, integration_cost,
                benefit_scale, baseline, pressure_term, penalty, demand_factor, shock_factor,
                admissions_effect, behaviour, output, benefit, cost, quality, efficiency,
                access, admissions, performance_out):
    """Effectiveness through collaboration, and organisational performance.

    Per collaboration (``collab`` from :func:`pair_means`; ``blend`` (R, C + 1, 6) and
    ``combined`` (R, C + 1) come from :func:`mechanisms`)::

        effective = behaviour_c * (1 - w + w * joint_c / behaviour_c)   (w: communication)
        output    = effective * combined
        eff      += (effective * blend - eff) / lags                       (in place)

    Per organisation, summed over its memberships in order: the six components
    (``benefit``, capped at 1), engagement ``behaviour_c * engage`` and integration
    ``fading * exp(-age / cost_months)`` (integration costs fade as the collaboration
    ages); then::

        cost        = management_cost * engagement + integration_cost * integration
        quality     = base + scale * (b0 + b2 + b4) / 3                     - penalty
        efficiency  = base + scale * (b1 + b3) / 2      - cost              - penalty
        access      = base + scale * (b4 + b3) / 2      - pressure_term     - penalty
        admissions  = demand * (1 - admissions_effect * b4) * shock_factor
        performance = (quality + efficiency + access) / 3

    (quality, efficiency and access clipped to [0, 1]) and ``behaviour`` = acts / partners.
    """
    r_count, c_total = combined.shape
    n_orgs = baseline.shape[0]
    k_count = eff.shape[2]
    m_count = mem_org.shape[0]
    sums = np.zeros((n_orgs, k_count + 2))
    per_collab = np.empty((c_total, k_count + 2))
    for r in range(r_count):
        for c in range(c_total):
            behaviour_c = collab[1, r, c]
            if communication > 0.0:
                mutual = collab[4, r, c] / behaviour_c if behaviour_c > 0.0 else 0.0
                effective = behaviour_c * (1.0 - communication + communication * mutual)
            else:
                effective = behaviour_c
            output[r, c] = effective * combined[r, c]
            for k in range(k_count):
                x = eff[r, c, k]
                x = x + (effective * blend[r, c, k] - x) / lags[k]
                eff[r, c, k] = x
                per_collab[c, k] = x
            per_collab[c, k_count] = behaviour_c * engage[r, c]
            per_collab[c, k_count + 1] = fading[r, c] * math.exp(-age[r, c] / cost_months)
        sums[:, :] = 0.0
        for m in range(m_count):
            i, c = mem_org[m], mem_collab[m]
            for k in range(k_count + 2):
                sums[i, k] += per_collab[c, k]
        for i in range(n_orgs):
            for k in range(k_count):
                benefit[r, i, k] = min(1.0, sums[i, k])
            b0, b1, b2 = benefit[r, i, 0], benefit[r, i, 1], benefit[r, i, 2]
            b3, b4 = benefit[r, i, 3], benefit[r, i, 4]
            cst = management_cost * sums[i, k_count] + integration_cost * sums[i, k_count + 1]
            cost[r, i] = cst
            q = (b0 + b2 + b4) * benefit_scale / 3.0 + baseline[i] - penalty[r, i]
            f = (b1 + b3) * benefit_scale / 2.0 + baseline[i] - cst - penalty[r, i]
            a = (b4 + b3) * benefit_scale / 2.0 + baseline[i] - pressure_term - penalty[r, i]
            q, f, a = _clip01(q), _clip01(f), _clip01(a)
            quality[r, i], efficiency[r, i], access[r, i] = q, f, a
            admissions[r, i] = demand_factor * (1.0 - admissions_effect * b4) * shock_factor
            performance_out[r, i] = (q + f + a) / 3.0
            behaviour[r, i] = acts[r, i] / partners[r, i]


@njit(cache=True)
def _block_sum(a, lo, n):
    """numpy's sum of at most 128 values: sequential below 8, else 8 interleaved sums."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def pairwise_sum(a, lo, n):
    """Sum of ``a[lo:lo + n]`` in numpy's order (``np.add.reduce`` of a contiguous row).

    numpy sums blocks of at most 128 values (:func:`_block_sum`) and above that adds
    the sums of two halves (the first a multiple of 8 long), recursively. The
    recursion is unrolled here with an explicit stack (numba's cache does not
    handle recursive functions).
    """
    if n <= 128:
        return _block_sum(a, lo, n)
    los = np.empty(64, dtype=np.int64)  # pending nodes: start, length, stage
    lens = np.empty(64, dtype=np.int64)
    stage = np.empty(64, dtype=np.int64)
    vals = np.empty(64)  # sums of finished nodes, left before right
    los[0], lens[0], stage[0] = lo, n, 0
    sp, vp = 1, 0
    while sp > 0:
        top = sp - 1
        start, length = los[top], lens[top]
        if length <= 128:
            vals[vp] = _block_sum(a, start, length)
            vp += 1
            sp -= 1
            continue
        half = length // 2
        half -= half % 8
        if stage[top] == 0:  # first the left half
            stage[top] = 1
            los[sp], lens[sp], stage[sp] = start, half, 0
            sp += 1
        elif stage[top] == 1:  # then the right half
            stage[top] = 2
            los[sp], lens[sp], stage[sp] = start + half, length - half, 0
            sp += 1
        else:  # left + right
            vals[vp - 2] = vals[vp - 2] + vals[vp - 1]
            vp -= 1
            sp -= 1
    return vals[0]


@njit(cache=True, error_model="numpy")
def metric_rows(trust, confidence, risk, conflict, faith, progress, behaviour, quality,
                efficiency, access, admissions, performance, cost, distressed, mech, output,
                eff, status, out):
    """The first 29 rows of ``metrics._TOGETHER`` (everything but the shock and the
    maturity index) for each replicate, written to ``out`` (29, R).

    Each mean adds its values as numpy does (:func:`pairwise_sum`), so every value
    equals the metric's own numpy function bit for bit: pair means over all pairs,
    membership means over the real memberships (not the dummy slot), organisation
    means, the means of the mechanisms and output over live collaborations (0 with
    none live), effectiveness, its six components, the lifecycle counts and inertia.
    """
    r_count, e_count = trust.shape
    m_count = faith.shape[1] - 1
    n_count = behaviour.shape[1]
    c_count = output.shape[1] - 1
    k_count = eff.shape[2]
    live_x = np.empty(c_count)
    column = np.empty(c_count)
    for r in range(r_count):
        if e_count:
            out[0, r] = pairwise_sum(trust[r], 0, e_count) / e_count
            out[1, r] = pairwise_sum(confidence[r], 0, e_count) / e_count
            out[2, r] = pairwise_sum(risk[r], 0, e_count) / e_count
            out[3, r] = pairwise_sum(conflict[r], 0, e_count) / e_count
        else:
            out[0:4, r] = 0.0
        out[4, r] = pairwise_sum(faith[r], 0, m_count) / m_count
        out[5, r] = pairwise_sum(progress[r], 0, m_count) / m_count
        out[6, r] = pairwise_sum(behaviour[r], 0, n_count) / n_count
        out[7, r] = pairwise_sum(quality[r], 0, n_count) / n_count
        out[8, r] = pairwise_sum(efficiency[r], 0, n_count) / n_count
        out[9, r] = pairwise_sum(access[r], 0, n_count) / n_count
        out[10, r] = pairwise_sum(admissions[r], 0, n_count) / n_count
        out[11, r] = pairwise_sum(performance[r], 0, n_count) / n_count
        out[12, r] = pairwise_sum(cost[r], 0, n_count) / n_count
        n_distressed = 0
        for i in range(n_count):
            n_distressed += distressed[r, i]
        out[13, r] = n_distressed / n_count
        n_live = n_deep = n_gone = n_slow = 0
        for c in range(c_count):
            s = status[r, c]
            live = 1 <= s <= 4  # forming, active, deepening or dissolving
            live_x[c] = 1.0 if live else 0.0
            n_live += live
            n_deep += s == 3
            n_gone += s == 5
            n_slow += live and output[r, c] < 0.1
        per_live = max(n_live, 1)
        for row in range(4):  # the three mechanisms, then output
            for c in range(c_count):
                column[c] = (mech[r, row, c] if row < 3 else output[r, c]) * live_x[c]
            out[14 + row, r] = pairwise_sum(column, 0, c_count) / per_live
        out[18, r] = pairwise_sum(eff[r].ravel(), 0, c_count * k_count) / (c_count * k_count)
        for k in range(k_count):
            for c in range(c_count):
                column[c] = eff[r, c, k]
            out[19 + k, r] = pairwise_sum(column, 0, c_count) / c_count
        out[25, r] = n_live
        out[26, r] = n_deep
        out[27, r] = n_gone
        out[28, r] = n_slow / per_live


@njit(cache=True)
def distress(ustate, performance, distressed, ok_months, entry, entry_rate, exit_level,
             exit_months, distressed_out, ok_out):
    """Special measures: an organisation not in them enters when its performance is
    below ``entry`` and its uniform draw ``u`` is below ``entry_rate``; one in them
    counts months of performance above ``exit_level`` (the count restarts otherwise)
    and leaves after ``exit_months`` of them, its count reset to 0. Only an
    organisation that could enter (not in special measures, performance below
    ``entry``) draws a number of the uniform stream ``ustate``, in order."""
    r_count, n_count = performance.shape
    for r in range(r_count):
        s0, s1, s2, s3 = ustate[r, 0], ustate[r, 1], ustate[r, 2], ustate[r, 3]
        for i in range(n_count):
            was = distressed[r, i]
            perf = performance[r, i]
            enter = False
            if not was and perf < entry:
                s0, s1, s2, s3, bits = _sfc64(s0, s1, s2, s3)
                enter = float(bits >> _U11) * _TO_UNIT < entry_rate
            ok = ok_months[r, i] + 1 if was and perf > exit_level else 0
            leave = was and ok >= exit_months
            distressed_out[r, i] = (was or enter) and not leave
            ok_out[r, i] = 0 if leave else ok
        ustate[r, 0], ustate[r, 1], ustate[r, 2], ustate[r, 3] = s0, s1, s2, s3


@njit(cache=True)
def domain_product(out, sources, reverse, domain, n_domains, resolution, prod):
    """Product of the maturity domains' scores, per replicate, written to ``prod`` (R,).

    Construct ``j`` is row ``sources[j]`` of ``out`` (or ``resolution`` where
    ``sources[j]`` is -1), clipped to [0, 1] and reversed (``1 - x``) where
    ``reverse[j]``; a domain's score is the mean of its constructs, added in order.
    The index is then ``100 * cbrt(prod)`` (the cube root in numpy, see
    ``maturity.index_of_simulated``).
    """
    r_count = out.shape[1]
    sums = np.zeros(n_domains)
    counts = np.zeros(n_domains)
    for j in range(sources.shape[0]):
        counts[domain[j]] += 1.0
    for r in range(r_count):
        sums[:] = 0.0
        for j in range(sources.shape[0]):
            x = _clip01(resolution if sources[j] < 0 else out[sources[j], r])
            sums[domain[j]] += 1.0 - x if reverse[j] else x
        p = sums[0] / counts[0]
        for d in range(1, n_domains):
            p = p * (sums[d] / counts[d])
        prod[r] = p


PLANNED, FORMING, ACTIVE, DEEPENING, DISSOLVING, DISSOLVED = range(6)  # as in core


@njit(cache=True)
def review(month, start, formed, formation_months, status, age, below, left, mandate, depth,
           trust, edge_collab, faith, mem_collab, dissolve_threshold, patience,
           deepen_threshold, deepen_rate, dissolving_months, ended):
    """Lifecycle of every collaboration, (R, C + 1) arrays updated in place:
    planned -> forming -> active <-> deepening -> dissolving -> dissolved.

    In this order: live collaborations age a month; those due start (``formed``:
    forming, or active without a formation period) at age 0; forming ones become
    active at ``formation_months``. Then, with the mean trust of the collaboration's
    pairs and the mean faith of its members (added in order, as ``np.bincount``):

    * working ones count the months their faith is below ``dissolve_threshold``
      (``below``); voluntary ones (mandate < 0.5) quit after ``patience`` of them;
    * working ones that do not quit stop deepening, unless trust and faith both
      exceed ``deepen_threshold``: then they deepen (depth + ``deepen_rate``, at most 1);
    * dissolving ones count ``left`` down and are dissolved at 0 (``ended``);
      quitting ones start dissolving with ``dissolving_months`` left.

    Returns whether any collaboration started or ended (pairs must be reassigned).
    """
    r_count, c_total = status.shape
    m_count = mem_collab.shape[0] - 1  # the last membership is the dummy
    trust_sum = np.zeros(c_total)
    trust_count = np.zeros(c_total)
    faith_sum = np.zeros(c_total)
    faith_count = np.zeros(c_total)
    for m in range(m_count):
        faith_count[mem_collab[m]] += 1.0
    changed = False
    for r in range(r_count):
        trust_sum[:] = 0.0
        trust_count[:] = 0.0
        faith_sum[:] = 0.0
        for m in range(m_count):
            faith_sum[mem_collab[m]] += faith[r, m]
        # Trust is read only where a collaboration that may work this month (planned to
        # forming, active or deepening) has faith above the deepening threshold; without
        # one, the pass over the pairs is skipped.
        need_trust = False
        for c in range(c_total):
            if (status[r, c] <= DEEPENING
                    and faith_sum[c] / max(faith_count[c], 1.0) > deepen_threshold):
                need_trust = True
        cc, acc, n = -1, 0.0, 0.0  # running sum of the current collaboration (pair_means)
        for e in range(trust.shape[1] if need_trust else 0):
            c = edge_collab[r, e]
            if c != cc:
                if cc >= 0:
                    trust_sum[cc], trust_count[cc] = acc, n
                cc, acc, n = c, trust_sum[c], trust_count[c]
            acc += trust[r, e]
            n += 1.0
        if cc >= 0:
            trust_sum[cc], trust_count[cc] = acc, n
        for c in range(c_total):
            s = status[r, c]
            if FORMING <= s <= DISSOLVING:
                age[r, c] += 1.0
            if s == PLANNED and start[c] <= month:
                s = formed
                age[r, c] = 0.0
                changed = True
            if s == FORMING and age[r, c] >= formation_months:
                s = ACTIVE
            faith_c = faith_sum[c] / max(faith_count[c], 1.0)
            trust_c = trust_sum[c] / max(trust_count[c], 1.0)
            working = s == ACTIVE or s == DEEPENING
            dissolving = s == DISSOLVING
            below[r, c] = below[r, c] + 1 if working and faith_c < dissolve_threshold else 0
            quit_ = working and mandate[r, c] < 0.5 and below[r, c] >= patience
            deep = (working and trust_c > deepen_threshold and faith_c > deepen_threshold
                    and not quit_)
            if working and not quit_:
                s = ACTIVE  # deepening stops unless renewed
            if deep:
                s = DEEPENING
                depth[r, c] = min(1.0, depth[r, c] + deepen_rate)
            end = False
            if dissolving:
                left[r, c] -= 1
                end = left[r, c] <= 0
            if quit_:
                s = DISSOLVING
                left[r, c] = int(dissolving_months)
            if end:
                s = DISSOLVED
                changed = True
            ended[r, c] = end
            status[r, c] = s
    return changed
