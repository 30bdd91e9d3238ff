"""The memberships' and organisations' month, compiled: perceived progress and
faith (:func:`progress_faith`), effectiveness and performance
(:func:`performance`), and entry into and exit from special measures
(:func:`distress`).

``docs/ODD.md`` sections 7.12 to 7.14 have the equations.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ioc_sim.engine.kernels.common import clip01
from ioc_sim.engine.kernels.params import pack_dtype
from ioc_sim.engine.kernels.rng import sfc64_next, to_unit

#: Rows of the per-membership pack (see :func:`progress_faith`).
MEMBER_ROWS = (
    "m_drivers",
    "m_actors",
    "m_stability",
    "m_calm",
    "m_harm",
    "m_persuasion",
    "m_mandate",
    "m_live",
)
(M_DRIVERS, M_ACTORS, M_STABILITY, M_CALM, M_HARM, M_PERSUASION, M_MANDATE, M_LIVE) = range(
    len(MEMBER_ROWS)
)

#: Parameters of :func:`progress_faith`: the model parameters of the same names.
PROGRESS_PARAMS = pack_dtype(
    "effectiveness_feedback", "progress_rate", "faith_rate", "ambition_rate"
)

#: Parameters of :func:`performance`: the model parameters of the same names.
PERFORMANCE_PARAMS = pack_dtype(
    "communication_effect",
    "integration_cost_months",
    "management_cost",
    "integration_cost",
    "benefit_scale",
    "admissions_effect",
)

#: Parameters of :func:`distress`: the model parameters of the same names.
DISTRESS_PARAMS = pack_dtype(
    "distress_entry", "distress_entry_rate", "distress_exit", "distress_exit_months"
)


@njit(cache=True)
def progress_faith(
    member,
    member_count,
    org,
    mem_org,
    mem_collab,
    ambition,
    eff,
    member_pack,
    progress,
    faith,
    trust_c,
    working_c,
    params,
    progress_out,
    faith_out,
):
    """Perceived progress and faith of every membership, then the ambition of joint aims.

    For membership ``m`` (``member`` from
    :func:`~ioc_sim.engine.kernels.pairs.pair_means`; a membership with no pair of its
    own reads its organisation's means over all its partners)::

        drivers  = (m_drivers + trust + ambition + actors + stability + calm) / 8
        target_p = (1 - feedback) * drivers + feedback * mean effectiveness of its collaboration
        target_f = 0.5 * (progress + trust) + persuasion + mandate
        x       += rate * (target - x) - harm * conflict * x     (where live; clipped)

    then, per collaboration, ``ambition += ambition_rate * (trust_c - ambition)`` where
    it works (in place). ``eff`` is (R, C + 1, 6); ``member_pack`` (K, R, M + 1) has the
    rows of :data:`MEMBER_ROWS`; ``params`` is a :data:`PROGRESS_PARAMS` pack
    (``feedback`` is ``effectiveness_feedback``).
    """
    pars = params[0]
    feedback, ambition_rate = pars.effectiveness_feedback, pars.ambition_rate
    progress_rate, faith_rate = pars.progress_rate, pars.faith_rate
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
            drivers = (
                member_pack[M_DRIVERS, r, m]
                + t
                + ambition[r, c]
                + member_pack[M_ACTORS, r, m]
                + member_pack[M_STABILITY, r, m]
                + member_pack[M_CALM, r, m]
            ) / 8.0
            target_p = (1.0 - feedback) * drivers + feedback * eff_m
            p, f = progress[r, m], faith[r, m]
            target_f = (
                0.5 * (p + t) + member_pack[M_PERSUASION, r, m] + member_pack[M_MANDATE, r, m]
            )
            harm = member_pack[M_HARM, r, m] * k
            step_p = progress_rate * (target_p - p)
            step_p -= harm * p
            step_f = faith_rate * (target_f - f)
            step_f -= harm * f
            live = member_pack[M_LIVE, r, m] != 0.0
            progress_out[r, m] = clip01(p + (step_p if live else 0.0))
            faith_out[r, m] = clip01(f + (step_f if live else 0.0))
        for c in range(ambition.shape[1]):
            a = ambition[r, c]
            ambition[r, c] = a + (ambition_rate * (trust_c[r, c] - a) if working_c[r, c] else 0.0)


@njit(cache=True)
def performance(
    collab,
    acts,
    partners,
    blend,
    combined,
    eff,
    lags,
    engage,
    fading,
    age,
    mem_org,
    mem_collab,
    baseline,
    distress_penalty,
    pressure_term,
    demand_factor,
    shock_factor,
    params,
    behaviour,
    output,
    benefit,
    cost,
    quality,
    efficiency,
    access,
    admissions,
    performance_out,
):
    """Effectiveness through collaboration, and organisational performance.

    Per collaboration (``collab`` from :func:`~ioc_sim.engine.kernels.pairs.pair_means`;
    ``blend`` (R, C + 1, 6) and ``combined`` (R, C + 1) come from
    :func:`~ioc_sim.engine.kernels.collaborations.mechanisms`)::

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
    ``penalty`` is ``distress_penalty`` (R, N), the penalty of special measures;
    ``pressure_term``, ``demand_factor`` and ``shock_factor`` are this month's; the
    other scalars come from ``params``, a :data:`PERFORMANCE_PARAMS` pack (``w`` is
    ``communication_effect``).
    """
    pars = params[0]
    communication, cost_months = pars.communication_effect, pars.integration_cost_months
    management_cost, integration_cost = pars.management_cost, pars.integration_cost
    benefit_scale, admissions_effect = pars.benefit_scale, pars.admissions_effect
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
            penalty = distress_penalty[r, i]
            q = (b0 + b2 + b4) * benefit_scale / 3.0 + baseline[i] - penalty
            f = (b1 + b3) * benefit_scale / 2.0 + baseline[i] - cst - penalty
            a = (b4 + b3) * benefit_scale / 2.0 + baseline[i] - pressure_term - penalty
            q, f, a = clip01(q), clip01(f), clip01(a)
            quality[r, i], efficiency[r, i], access[r, i] = q, f, a
            admissions[r, i] = demand_factor * (1.0 - admissions_effect * b4) * shock_factor
            performance_out[r, i] = (q + f + a) / 3.0
            behaviour[r, i] = acts[r, i] / partners[r, i]


@njit(cache=True)
def distress(uniform_state, performance, distressed, ok_months, params, distressed_out, ok_out):
    """Special measures: an organisation not in them enters when its performance is
    below ``entry`` and its uniform draw ``u`` is below ``entry_rate``; one in them
    counts months of performance above ``exit_level`` (the count restarts otherwise)
    and leaves after ``exit_months`` of them, its count reset to 0. Only an
    organisation that could enter (not in special measures, performance below
    ``entry``) draws a number of the uniform stream ``uniform_state``, in order.
    ``params`` is a :data:`DISTRESS_PARAMS` pack: ``entry``, ``entry_rate``,
    ``exit_level`` and ``exit_months`` are ``distress_entry``,
    ``distress_entry_rate``, ``distress_exit`` and ``distress_exit_months``."""
    pars = params[0]
    entry, entry_rate = pars.distress_entry, pars.distress_entry_rate
    exit_level, exit_months = pars.distress_exit, pars.distress_exit_months
    r_count, n_count = performance.shape
    for r in range(r_count):
        state = uniform_state[r]
        s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
        for i in range(n_count):
            was = distressed[r, i]
            perf = performance[r, i]
            enter = False
            if not was and perf < entry:
                s0, s1, s2, s3, bits = sfc64_next(s0, s1, s2, s3)
                enter = to_unit(bits) < entry_rate
            ok = ok_months[r, i] + 1 if was and perf > exit_level else 0
            leave = was and ok >= exit_months
            distressed_out[r, i] = (was or enter) and not leave
            ok_out[r, i] = 0 if leave else ok
        state[0], state[1], state[2], state[3] = s0, s1, s2, s3
