"""The collaborations' month, compiled: the lifecycle review (:func:`review`) and
the three performance mechanisms and how they combine (:func:`mechanisms`).

``docs/ODD.md`` sections 7.5, 7.13 and 10 have the rules and equations.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ioc_sim.engine.kernels.params import pack_dtype
from ioc_sim.engine.stages import ACTIVE, DEEPENING, DISSOLVED, DISSOLVING, FORMING, PLANNED

#: Parameters of :func:`review`: the model parameters of the same names, and
#: ``formed``, the stage a collaboration starts in (forming, or active without a
#: formation period).
REVIEW_PARAMS = pack_dtype(
    "formation_months",
    "dissolve_threshold",
    "dissolve_patience",
    "deepen_threshold",
    "deepen_rate",
    "dissolving_months",
    formed=np.int64,
)

#: Rows of the per-collaboration pack (see :func:`mechanisms`).
COLLAB_ROWS = ("compat_c", "c_leadership", "c_resolution", "organisational", "technological")

#: Parameters of :func:`mechanisms`: whether ``performance_form`` is "multiplicative".
MECHANISM_PARAMS = pack_dtype(multiplicative=np.bool_)


@njit(cache=True)
def review(
    month,
    start,
    status,
    age,
    below,
    left,
    mandate,
    depth,
    trust,
    edge_collab,
    faith,
    mem_collab,
    params,
    ended,
):
    """Lifecycle of every collaboration, (R, C + 1) arrays updated in place:
    planned -> forming -> active <-> deepening -> dissolving -> dissolved.

    ``start`` (C + 1,) is each collaboration's first month; ``mandate`` and
    ``depth`` are its contexts; ``trust`` and ``edge_collab`` (R, E) the pairs'
    trust and collaboration, ``faith`` (R, M + 1) the memberships' faith and
    ``mem_collab`` (M + 1,) their collaborations; ``params`` a
    :data:`REVIEW_PARAMS` pack.

    In this order: live collaborations age a month; those due start (``formed``:
    forming, or active without a formation period) at age 0; forming ones become
    active at ``formation_months``. Then, with the mean trust of the collaboration's
    pairs and the mean faith of its members (added in order, as ``np.bincount``):

    * working ones count the months their faith is below ``dissolve_threshold``
      (``below``); voluntary ones (mandate < 0.5) quit after ``dissolve_patience``
      of them;
    * working ones that do not quit stop deepening, unless trust and faith both
      exceed ``deepen_threshold``: then they deepen (depth + ``deepen_rate``, at most 1);
    * dissolving ones count ``left`` down and are dissolved at 0 (``ended``);
      quitting ones start dissolving with ``dissolving_months`` left.

    Returns whether any collaboration started or ended (pairs must be reassigned).
    """
    pars = params[0]
    formed, formation_months = pars.formed, pars.formation_months
    dissolve_threshold, patience = pars.dissolve_threshold, pars.dissolve_patience
    deepen_threshold, deepen_rate = pars.deepen_threshold, pars.deepen_rate
    dissolving_months = pars.dissolving_months
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
            if (
                status[r, c] <= DEEPENING
                and faith_sum[c] / max(faith_count[c], 1.0) > deepen_threshold
            ):
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
            deep = (
                working and trust_c > deepen_threshold and faith_c > deepen_threshold and not quit_
            )
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
