"""The model's metrics, compiled: the one-pass means of a month's state
(:func:`metric_rows`), summed as numpy sums (:func:`pairwise_sum`), and the
maturity index's product of domain scores (:func:`domain_product`). They are
read by :mod:`ioc_sim.model.metrics`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ioc_sim.engine.kernels.common import clip01


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
def metric_rows(
    trust,
    confidence,
    risk,
    conflict,
    faith,
    progress,
    behaviour,
    quality,
    efficiency,
    access,
    admissions,
    performance,
    cost,
    distressed,
    alive,
    mech,
    output,
    eff,
    status,
    out,
):
    """The first 29 rows of ``metrics._TOGETHER`` (everything but the shock and the
    maturity index) for each replicate, written to ``out`` (29, R).

    Each mean adds its values as numpy does (:func:`pairwise_sum`), so every value
    equals the metric's own numpy function bit for bit: pair means over all pairs,
    membership means over the real memberships (not the dummy slot), organisation
    means over the organisations still in being (``alive`` (N,): not absorbed by a
    merger), the means of the mechanisms and output over live collaborations (0 with
    none live), effectiveness, its six components, the lifecycle counts and inertia.
    """
    r_count, e_count = trust.shape
    m_count = faith.shape[1] - 1
    c_count = output.shape[1] - 1
    k_count = eff.shape[2]
    live_x = np.empty(c_count)
    column = np.empty(c_count)
    being = np.flatnonzero(alive)
    n_count = being.shape[0]
    org_rows = np.empty((7, n_count))
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
        n_distressed = 0
        for j in range(n_count):
            i = being[j]
            org_rows[0, j] = behaviour[r, i]
            org_rows[1, j] = quality[r, i]
            org_rows[2, j] = efficiency[r, i]
            org_rows[3, j] = access[r, i]
            org_rows[4, j] = admissions[r, i]
            org_rows[5, j] = performance[r, i]
            org_rows[6, j] = cost[r, i]
            n_distressed += distressed[r, i]
        for row in range(7):
            out[6 + row, r] = pairwise_sum(org_rows[row], 0, n_count) / n_count
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
            x = clip01(resolution if sources[j] < 0 else out[sources[j], r])
            sums[domain[j]] += 1.0 - x if reverse[j] else x
        p = sums[0] / counts[0]
        for d in range(1, n_domains):
            p = p * (sums[d] / counts[d])
        prod[r] = p
