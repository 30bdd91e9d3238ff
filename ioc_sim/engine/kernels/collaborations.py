"""The collaborations' month, compiled: the lifecycle review (:func:`review`) and
the three performance mechanisms and how they combine (:func:`mechanisms`).

``docs/ODD.md`` sections 7.5, 7.13 and 10 have the rules and equations.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ioc_sim.engine.kernels.params import pack_dtype
from ioc_sim.engine.kernels.rng import sfc64_next, to_unit
from ioc_sim.engine.stages import (
    ACTIVE,
    DEEPENED,
    DEEPENING,
    DISSOLVED,
    DISSOLVING,
    ENDED,
    FORMING,
    IMPROPER,
    PLANNED,
    QUIT,
    STARTED,
)

#: Parameters of :func:`review`: the model parameters of the same names, and
#: ``formed``, the stage a collaboration starts in (forming, or active without a
#: formation period).
REVIEW_PARAMS = pack_dtype(
    "formation_months",
    "dissolve_threshold",
    "dissolve_patience",
    "dissolve_hazard",
    "deepen_threshold",
    "deepen_patience",
    "deepen_hazard",
    "policy_push",
    "deepen_step",
    "dissolving_months",
    "integration_keep",
    formed=np.int64,
)

#: What :func:`review` records of a collaboration in a month (0: nothing): the codes
#: of :mod:`ioc_sim.engine.stages`.


#: Rows of the per-collaboration pack (see :func:`mechanisms`).
COLLAB_ROWS = ("compat_c", "c_leadership", "c_resolution", "organisational", "technological")

#: Parameters of :func:`mechanisms`: whether ``performance_form`` is "multiplicative".
MECHANISM_PARAMS = pack_dtype(multiplicative=np.bool_)


@njit(cache=True)
def review(
    month,
    start,
    uniform_state,
    status,
    age,
    below,
    ready,
    left,
    ending,
    pending,
    mandate,
    support,
    depth,
    trust,
    tie_pair,
    tie_collab,
    faith,
    progress,
    mem_collab,
    params,
    ended,
    events,
):
    """Lifecycle of every collaboration, (R, C + 1) arrays updated in place:
    planned -> forming -> active <-> deepening -> dissolving -> dissolved.

    In this order: live collaborations age a month; those due start (``formed``:
    forming, or active without a formation period) at age 0, with their whole depth
    still to integrate (``pending``); forming ones become active at
    ``formation_months``; depth still to integrate fades by ``integration_keep``.
    Then, with the means over the collaboration's ties of its pairs' trust, and over
    its members of faith and perceived progress (added in order):

    * a working collaboration counts the months in a row its morale (mean of faith
      and progress) is below ``dissolve_threshold`` (``below``), and the months its
      readiness (mean of trust and faith) is a small win, at least
      ``deepen_threshold`` (``ready``);
    * a voluntary one (mandate < 0.5) whose morale has been low for
      ``dissolve_patience`` months quits with chance ``dissolve_hazard`` a month;
    * one that does not quit deepens with chance ``deepen_hazard`` a month once it
      has ``deepen_patience`` small wins in a row, plus ``policy_push * mandate *
      support`` (consolidation pushed by policy): depth grows by ``deepen_step`` (at
      most to 1), the added depth is still to integrate, and its small wins start
      again; it is *deepening* for that month;
    * a dissolving one counts ``left`` down and is dissolved at 0 (``ended``); one
      that quits starts dissolving with ``dissolving_months`` left, as an improper
      ending (``ending``).

    Each chance draws the next number of the replicate's uniform stream
    (``uniform_state`` (R, 4)), collaboration by collaboration, only where it is
    above 0. ``events`` (R, C + 1) records what happened to each collaboration this
    month (:data:`STARTED`, :data:`DEEPENED`, :data:`QUIT`, :data:`ENDED`).
    Returns whether any collaboration started or ended (pairs must be reassigned).
    """
    pars = params[0]
    formed, formation_months = pars.formed, pars.formation_months
    dissolve_threshold, patience = pars.dissolve_threshold, pars.dissolve_patience
    dissolve_hazard, deepen_threshold = pars.dissolve_hazard, pars.deepen_threshold
    deepen_patience, deepen_hazard = pars.deepen_patience, pars.deepen_hazard
    policy_push, deepen_step = pars.policy_push, pars.deepen_step
    dissolving_months, integration_keep = pars.dissolving_months, pars.integration_keep
    r_count, c_total = status.shape
    m_count = mem_collab.shape[0] - 1  # the last membership is the dummy
    trust_sum = np.zeros(c_total)
    trust_count = np.zeros(c_total)
    faith_sum = np.zeros(c_total)
    progress_sum = np.zeros(c_total)
    member_count = np.zeros(c_total)
    for m in range(m_count):
        member_count[mem_collab[m]] += 1.0
    for t in range(tie_pair.shape[0]):
        trust_count[tie_collab[t]] += 1.0
    changed = False
    for r in range(r_count):
        trust_sum[:] = 0.0
        faith_sum[:] = 0.0
        progress_sum[:] = 0.0
        # Morale and readiness are read only by a collaboration that works this month,
        # which none can once every one is dissolving or dissolved.
        could_work = False
        for c in range(c_total):
            could_work = could_work or status[r, c] < DISSOLVING
        if could_work:
            for m in range(m_count):
                faith_sum[mem_collab[m]] += faith[r, m]
                progress_sum[mem_collab[m]] += progress[r, m]
            # A running sum of the current collaboration, as in pairs.pair_means.
            cc, acc = -1, 0.0
            for t in range(tie_pair.shape[0]):
                c = tie_collab[t]
                if c != cc:
                    if cc >= 0:
                        trust_sum[cc] = acc
                    cc, acc = c, trust_sum[c]
                acc += trust[r, tie_pair[t]]
            if cc >= 0:
                trust_sum[cc] = acc
        state = uniform_state[r]
        s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
        for c in range(c_total):
            s = status[r, c]
            events[r, c] = 0
            if FORMING <= s <= DISSOLVING:
                age[r, c] += 1.0
            if s == PLANNED and start[c] <= month:
                s = formed
                age[r, c] = 0.0
                pending[r, c] = depth[r, c]
                events[r, c] = STARTED
                changed = True
            if s == FORMING and age[r, c] >= formation_months:
                s = ACTIVE
            pending[r, c] *= integration_keep
            if s == DEEPENING:
                s = ACTIVE  # deepening is the month it happens
            n_members = max(member_count[c], 1.0)
            faith_c = faith_sum[c] / n_members
            morale = 0.5 * (faith_c + progress_sum[c] / n_members)
            readiness = 0.5 * (trust_sum[c] / max(trust_count[c], 1.0) + faith_c)
            working = s == ACTIVE
            below[r, c] = below[r, c] + 1 if working and morale < dissolve_threshold else 0
            ready[r, c] = ready[r, c] + 1 if working and readiness >= deepen_threshold else 0
            quit_ = False
            if (
                working
                and mandate[r, c] < 0.5
                and below[r, c] >= patience
                and dissolve_hazard > 0.0
            ):
                s0, s1, s2, s3, bits = sfc64_next(s0, s1, s2, s3)
                quit_ = to_unit(bits) < dissolve_hazard
            if working and not quit_ and depth[r, c] < 1.0:
                chance = policy_push * mandate[r, c] * support[r, c]
                if ready[r, c] >= deepen_patience:
                    chance += deepen_hazard
                if chance > 0.0:
                    s0, s1, s2, s3, bits = sfc64_next(s0, s1, s2, s3)
                    if to_unit(bits) < chance:
                        added = min(deepen_step, 1.0 - depth[r, c])
                        depth[r, c] += added
                        pending[r, c] += added
                        ready[r, c] = 0
                        s = DEEPENING
                        events[r, c] = DEEPENED
            end = False
            if status[r, c] == DISSOLVING:
                left[r, c] -= 1
                end = left[r, c] <= 0
            if quit_:
                s = DISSOLVING
                left[r, c] = int(dissolving_months)
                ending[r, c] = IMPROPER
                events[r, c] = QUIT
            if end:
                s = DISSOLVED
                events[r, c] = ENDED
                changed = True
            ended[r, c] = end
            status[r, c] = s
        state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return changed


@njit(cache=True)
def mechanisms(
    collab, faith, mem_collab, collab_pack, working_c, loadings, params, mech, blend, combined
):
    """Cultural efficacy, organisational efficiency and technological effectiveness of
    each collaboration, written to ``mech`` (R, 3, C + 1)::

        cultural       = (trust + faith + compatibility + leadership + (1 - conflict)
                          + resolution) / 6
        organisational = (accountability + role clarity + formalisation + capacity + pace
                          + confidence) / 6
        technological  = (data sharing + digital maturity + integration depth) / 3

    each times 1 where the collaboration works and 0 elsewhere. ``collab`` is the
    first output of :func:`~ioc_sim.engine.kernels.pairs.pair_means`; faith is the mean
    over the collaboration's members (``faith`` (R, M + 1), the last slot a dummy),
    added in membership order.
    ``collab_pack`` (K, R, C + 1) has the rows of :data:`COLLAB_ROWS`; ``params`` is a
    :data:`MECHANISM_PARAMS` pack.

    Then how the three combine (``performance_form``), into ``blend`` (R, C + 1, K),
    the mechanisms weighted by ``loadings`` (K, 3) for each effectiveness component,
    and ``combined`` (R, C + 1), the collaboration's output::

        multiplicative: blend_k  = exp(sum_j loadings[k, j] * log(max(mech_j, 1e-9)))
                        combined = cbrt(cultural * organisational * technological)
        additive:       blend_k  = sum_j loadings[k, j] * mech_j
                        combined = (cultural + organisational + technological) / 3
    """
    multiplicative = params[0].multiplicative
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
            m0 = (
                (
                    collab[0, r, c]
                    + faith_c
                    + collab_pack[0, r, c]
                    + collab_pack[1, r, c]
                    + (1.0 - collab[2, r, c])
                    + collab_pack[2, r, c]
                )
                / 6.0
                * on
            )
            m1 = (collab_pack[3, r, c] + collab[3, r, c]) / 6.0 * on
            m2 = collab_pack[4, r, c] * on
            mech[r, 0, c], mech[r, 1, c], mech[r, 2, c] = m0, m1, m2
            if multiplicative:
                l0 = math.log(max(m0, 1e-9))
                l1 = math.log(max(m1, 1e-9))
                l2 = math.log(max(m2, 1e-9))
                for k in range(loadings.shape[0]):
                    blend[r, c, k] = math.exp(
                        loadings[k, 0] * l0 + loadings[k, 1] * l1 + loadings[k, 2] * l2
                    )
                combined[r, c] = np.cbrt(m0 * m1 * m2)
            else:
                for k in range(loadings.shape[0]):
                    blend[r, c, k] = loadings[k, 0] * m0 + loadings[k, 1] * m1 + loadings[k, 2] * m2
                combined[r, c] = (m0 + m1 + m2) / 3.0
