"""The memberships' and organisations' month, compiled: perceived progress and
faith (:func:`progress_faith`), effectiveness and performance
(:func:`performance`), and the regulator's special measures with the improvement
and fluctuation of underlying performance (:func:`regulate`).

``docs/ODD.md`` sections 7.12 to 7.14 have the equations.
"""

from __future__ import annotations

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
    "effectiveness_feedback",
    "progress_rate",
    "faith_rate",
    "ambition_rate",
    "results_persistence",
    "results_noise",
)

#: Parameters of :func:`performance`: the model parameters of the same names.
PERFORMANCE_PARAMS = pack_dtype(
    "communication_effect",
    "management_cost",
    "integration_cost",
    "benefit_scale",
    "admissions_effect",
)

#: Parameters of :func:`regulate`: the model parameters of the same names.
REGULATOR_PARAMS = pack_dtype(
    "distress_entry",
    "distress_exit",
    "distress_exit_months",
    "inspection_rate",
    "regulator_memory",
    "finance_weight",
    "performance_noise",
    "performance_persistence",
    "improvement_rate",
    "regime_support",
    "help_effect",
    "improvement_target",
    "embedding_rate",
    "fade_rate",
)

#: What :func:`regulate` records of an organisation in a month (0: nothing).
ENTERED, LEFT = 1, 2


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
    results,
    fortunes,
    fortunes_pos,
    params,
    progress_out,
    faith_out,
):
    """Visible results, perceived progress and faith of every membership, then the
    ambition of joint aims.

    First, each working collaboration's visible results take this month's shock (eq.
    F2a of the ODD), the next normal of the fortunes stream (``fortunes``, read from
    ``fortunes_pos`` on, which advances by one per collaboration, working or not)::

        results = results_persistence * results + results_noise * z

    For membership ``m`` (``member`` from
    :func:`~ioc_sim.engine.kernels.pairs.pair_means`; a membership with no pair of its
    own reads its organisation's means over all its partners)::

        drivers  = (m_drivers + trust + ambition + actors + stability + calm) / 8
        target_p = (1 - feedback) * drivers + feedback * mean effectiveness of its collaboration
                   + results (the collaboration's visible results this month, (R, C + 1))
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
    persistence, shock = pars.results_persistence, pars.results_noise
    r_count, m_total = progress.shape
    c_count = ambition.shape[1] - 1  # the last collaboration is the dummy
    n_components = eff.shape[2]
    for r in range(r_count):
        first = fortunes_pos[r]
        fortunes_pos[r] = first + c_count
        if shock > 0.0:
            for c in range(c_count):
                if working_c[r, c]:
                    results[r, c] = persistence * results[r, c] + shock * fortunes[r, first + c]
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
            target_p = (1.0 - feedback) * drivers + feedback * eff_m + results[r, c]
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
    pending,
    working_c,
    mem_org,
    mem_collab,
    baseline,
    improvement,
    deviation,
    distress_penalty,
    merger_efficiency,
    merger_service,
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

    Per organisation, over its memberships in order: each of the six components
    combines its collaborations' with diminishing returns,
    ``benefit = 1 - prod(1 - eff_c)``; engagement sums ``behaviour_c * engage`` and
    integration sums the depth still to integrate (``pending``) of the working ones;
    then, with ``level = baseline + improvement + deviation`` its underlying
    performance::

        cost        = management_cost * engagement + integration_cost * integration
        quality     = level + scale * (b0 + b2 + b4) / 3 + service          - penalty
        efficiency  = level + scale * (b1 + b3) / 2 + merger efficiency - cost - penalty
        access      = level + scale * (b4 + b3) / 2 + service - pressure_term - penalty
        admissions  = demand * (1 - admissions_effect * b4) * shock_factor
        performance = (quality + efficiency + access) / 3

    (quality, efficiency and access clipped to [0, 1]) and ``behaviour`` = acts /
    partners. ``penalty`` is ``distress_penalty`` (R, N), the penalty of special
    measures; ``merger_efficiency`` and ``merger_service`` (R, N) a merged
    organisation's savings and service gains net of its integration's costs;
    ``pressure_term``, ``demand_factor`` and ``shock_factor`` are this month's; the
    other scalars come from ``params``, a :data:`PERFORMANCE_PARAMS` pack (``w`` is
    ``communication_effect``).
    """
    pars = params[0]
    communication = pars.communication_effect
    management_cost, integration_cost = pars.management_cost, pars.integration_cost
    benefit_scale, admissions_effect = pars.benefit_scale, pars.admissions_effect
    r_count, c_total = combined.shape
    n_orgs = baseline.shape[0]
    k_count = eff.shape[2]
    m_count = mem_org.shape[0]
    unmet = np.ones((n_orgs, k_count))  # the product of (1 - eff) over memberships
    sums = np.zeros((n_orgs, 2))
    per_collab = np.empty((c_total, 2))
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
            per_collab[c, 0] = behaviour_c * engage[r, c]
            per_collab[c, 1] = pending[r, c] if working_c[r, c] else 0.0
        unmet[:, :] = 1.0
        sums[:, :] = 0.0
        for m in range(m_count):
            i, c = mem_org[m], mem_collab[m]
            for k in range(k_count):
                unmet[i, k] *= 1.0 - min(1.0, max(0.0, eff[r, c, k]))
            sums[i, 0] += per_collab[c, 0]
            sums[i, 1] += per_collab[c, 1]
        for i in range(n_orgs):
            for k in range(k_count):
                benefit[r, i, k] = 1.0 - unmet[i, k]
            b0, b1, b2 = benefit[r, i, 0], benefit[r, i, 1], benefit[r, i, 2]
            b3, b4 = benefit[r, i, 3], benefit[r, i, 4]
            cst = management_cost * sums[i, 0] + integration_cost * sums[i, 1]
            cost[r, i] = cst
            penalty = distress_penalty[r, i]
            level = baseline[i] + improvement[r, i] + deviation[r, i]
            service = merger_service[r, i]
            q = (b0 + b2 + b4) * benefit_scale / 3.0 + level + service - penalty
            f = (b1 + b3) * benefit_scale / 2.0 + level + merger_efficiency[r, i] - cst - penalty
            a = (b4 + b3) * benefit_scale / 2.0 + level + service - pressure_term - penalty
            q, f, a = clip01(q), clip01(f), clip01(a)
            quality[r, i], efficiency[r, i], access[r, i] = q, f, a
            admissions[r, i] = demand_factor * (1.0 - admissions_effect * b4) * shock_factor
            performance_out[r, i] = (q + f + a) / 3.0
            behaviour[r, i] = acts[r, i] / partners[r, i]


@njit(cache=True)
def regulate(
    uniform_state,
    noise_block,
    noise_pos,
    performance,
    finances,
    capacity,
    baseline,
    alive,
    act,
    in_start,
    in_ties,
    tie_pair,
    src,
    distressed,
    ok_months,
    rating,
    deviation,
    improvement,
    embedded,
    params,
    changes,
):
    """The regulator's month, and the course of underlying performance: (R, N) state
    updated in place.

    For every organisation still in being (``alive``), in order (an absorbed one only
    takes its normal, unused):

    * the regulator's rating moves toward this month's score,
      ``(1 - finance_weight) * performance + finance_weight * finances``, with time
      constant ``regulator_memory`` (a moving view of sustained performance);
    * one not in special measures whose rating is below the line
      (``distress_entry``) is inspected with chance ``inspection_rate`` a month, and
      enters special measures if so (``changes`` :data:`ENTERED`);
    * one in special measures counts the months in a row its rating holds at or above
      ``distress_exit`` (``ok_months``); after ``distress_exit_months`` of them it is
      inspected with chance ``inspection_rate`` a month, and leaves if so
      (:data:`LEFT`);
    * in special measures its improvement grows with its effort, closing
      ``improvement_rate * effort`` of its headroom ``improvement_target - level`` a
      month (the standard it works toward), where
      ``effort = regime_support * capacity + help_effect * help``; ``help`` is the
      spare capacity (``capacity`` above its own) of each partner that acted toward
      it this month, summed over its incoming ties (``act`` (R, T); organisation
      ``i``'s are ``in_ties[in_start[i]:in_start[i + 1]]``) and capped at 1;
      improvement embeds at ``embedding_rate``; outside special measures the part not
      embedded fades at ``fade_rate`` a month;
    * its deviation from baseline follows
      ``deviation = performance_persistence * deviation + performance_noise * z``,
      with ``z`` the next normal of the fortunes stream (every organisation takes
      one, in order, still in being or not).

    Each chance draws the next number of the replicate's uniform stream, only where
    the organisation could enter or has recovered long enough to leave. Returns how
    many organisations entered or left.
    """
    pars = params[0]
    entry, exit_level = pars.distress_entry, pars.distress_exit
    exit_months, inspection = pars.distress_exit_months, pars.inspection_rate
    memory, finance_weight = pars.regulator_memory, pars.finance_weight
    noise_sd, persistence = pars.performance_noise, pars.performance_persistence
    improvement_rate, regime_support = pars.improvement_rate, pars.regime_support
    help_effect, target = pars.help_effect, pars.improvement_target
    embedding_rate, fade_rate = pars.embedding_rate, pars.fade_rate
    r_count, n_count = performance.shape
    n_changes = 0
    for r in range(r_count):
        state = uniform_state[r]
        s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
        zi = noise_pos[r]
        for i in range(n_count):
            changes[r, i] = 0
            if not alive[i]:
                # An absorbed organisation still takes its normal, so that the others keep
                # theirs (common random numbers across arms with and without a merger).
                zi += 1
                continue
            score = (1.0 - finance_weight) * performance[r, i] + finance_weight * finances[i]
            x = rating[r, i]
            x = x + (score - x) / memory
            rating[r, i] = x
            was = distressed[r, i]
            if not was:
                if x < entry:
                    s0, s1, s2, s3, bits = sfc64_next(s0, s1, s2, s3)
                    if to_unit(bits) < inspection:
                        distressed[r, i] = True
                        ok_months[r, i] = 0
                        changes[r, i] = ENTERED
                        n_changes += 1
            else:
                ok = ok_months[r, i] + 1 if x >= exit_level else 0
                if ok >= exit_months:
                    s0, s1, s2, s3, bits = sfc64_next(s0, s1, s2, s3)
                    if to_unit(bits) < inspection:
                        distressed[r, i] = False
                        ok = 0
                        changes[r, i] = LEFT
                        n_changes += 1
                ok_months[r, i] = ok
            gain = improvement[r, i]
            if was:
                # Partners' help: the spare capacity of each that acted toward it.
                help_ = 0.0
                for j in range(in_start[i], in_start[i + 1]):
                    t = in_ties[j]
                    k = src[tie_pair[t]]
                    if act[r, t] and capacity[k] > capacity[i]:
                        help_ += capacity[k] - capacity[i]
                effort = regime_support * capacity[i] + help_effect * min(1.0, help_)
                headroom = target - (baseline[i] + gain + deviation[r, i])
                if headroom > 0.0:
                    gain += improvement_rate * effort * headroom
            held = embedded[r, i]
            if gain > held:
                held += embedding_rate * (gain - held)
                if not was:
                    gain -= fade_rate * (gain - held)
            improvement[r, i] = gain
            embedded[r, i] = held
            deviation[r, i] = persistence * deviation[r, i] + noise_sd * noise_block[r, zi]
            zi += 1
        noise_pos[r] = zi
        state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return n_changes
