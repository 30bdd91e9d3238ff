"""Who works with whom: the ordered pairs of partners, the collaborations each
pair shares, the memberships, and grouped sums over them (``docs/ODD.md``
sections 5 and 7.2). The last few structures are kept by their inputs.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, fields

import numpy as np

from ioc_sim.engine.population import Population, recall
from ioc_sim.spec.contexts import CollaborationSpec

#: How many structures are kept. A sweep of ``partners_per_org`` over 2 to 12
#: alone builds 11 structures, visited in random order.
KEPT_STRUCTURES = 32


@dataclass
class Structure:
    """Static indices of one system: who works with whom, in which collaboration."""

    n: int
    collabs: list[CollaborationSpec]
    src: np.ndarray  # (E,) source organisation of each ordered pair
    dst: np.ndarray  # (E,) target organisation
    rev: np.ndarray  # (E,) index of the reverse pair
    cands: np.ndarray  # (E, K) collaborations of the pair, deepest first, padded with C
    mem_org: np.ndarray  # (M,) organisation of each membership
    mem_collab: np.ndarray  # (M,) collaboration of each membership
    mem_lookup: np.ndarray  # (N, C + 1) membership index, M where none
    compat: np.ndarray  # (E,) cultural compatibility of the pair
    # Ties: a pair in one collaboration. Joint work happens per tie; a pair in
    # several collaborations works in each. Ties are grouped by pair, deepest first.
    tie_pair: np.ndarray  # (T,) the pair of each tie
    tie_collab: np.ndarray  # (T,) its collaboration
    tie_rev: np.ndarray  # (T,) the reverse tie (the reverse pair, the same collaboration)
    tie_mem: np.ndarray  # (T,) the source organisation's membership of the collaboration
    tie_start: np.ndarray  # (E + 1,) the ties of pair e are tie_start[e]:tie_start[e + 1]

    @property
    def n_ties(self) -> int:
        """The number of ties, T (at least E)."""
        return len(self.tie_pair)

    @property
    def n_edges(self) -> int:
        """The number of ordered pairs, E."""
        return len(self.src)

    @property
    def n_members(self) -> int:
        """The number of memberships, M."""
        return len(self.mem_org)

    @property
    def n_collabs(self) -> int:
        """The number of collaborations, C."""
        return len(self.collabs)


def _nearest(xy: np.ndarray, k: int, chunk: int = 256) -> np.ndarray:
    """The ``k`` nearest other points of each point, nearest first, ties by index.

    Equals ``np.argsort(distances, kind="stable")[:, :k]`` with the diagonal at
    infinity, but selects with a partition instead of sorting whole rows, and
    works on blocks of rows so memory stays O(chunk * n).
    """
    n = len(xy)
    out = np.empty((n, k), dtype=np.intp)
    x, y = xy[:, 0], xy[:, 1]
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        dx = x[lo:hi, None] - x[None, :]
        dy = y[lo:hi, None] - y[None, :]
        d = np.sqrt(dx * dx + dy * dy)  # the same bits as np.linalg.norm(..., axis=2)
        d[np.arange(hi - lo), np.arange(lo, hi)] = np.inf
        kth = np.partition(d, k - 1, axis=1)[:, k - 1 : k]
        chosen = d <= kth
        tied_rows = np.flatnonzero(chosen.sum(axis=1) > k)
        if len(tied_rows):  # keep everything closer than the k-th distance, then ties by index
            dt, kt = d[tied_rows], kth[tied_rows]
            tied = dt == kt
            room = k - (dt < kt).sum(axis=1, keepdims=True)
            chosen[tied_rows] = (dt < kt) | (tied & (np.cumsum(tied, axis=1) <= room))
        cols = np.nonzero(chosen)[1].reshape(hi - lo, k)  # ascending index in each row
        order = np.argsort(np.take_along_axis(d, cols, 1), axis=1, kind="stable")
        out[lo:hi] = np.take_along_axis(cols, order, 1)
    return out


#: Recently built structures by what they depend on (see :func:`build_structure`).
_STRUCTURES: OrderedDict[tuple, Structure] = OrderedDict()


def build_structure(pop: Population, collabs: list[CollaborationSpec], k: int) -> Structure:
    """Link each member to its ``k`` nearest fellow members, in every collaboration.

    A pair in several collaborations is one edge, holding one relationship
    (trust, confidence, conflict, risk threshold), and one tie per collaboration,
    in each of which its organisations work together. Its relationship takes its
    contexts from the deepest live one (``cands`` holds them in order of depth).

    The structure depends only on the organisations' positions and cultures,
    the collaborations' members and depths, and ``k``. A sweep builds the same
    few structures over and over (a design row's factors rarely touch them),
    so the last few are kept by those inputs, and each caller gets its own
    copy of the arrays with its own collaborations.

    Args:
        pop: The organisations (positions and cultures are read).
        collabs: The resolved collaborations.
        k: How many nearest fellow members each member links to.

    Returns:
        The structure, with arrays of its own.
    """
    a = pop.attrs
    key = (
        k,
        pop.n,
        a["x"].tobytes(),
        a["y"].tobytes(),
        a["culture"].tobytes(),
        tuple((tuple(spec.members), spec.contexts["integration_depth"]) for spec in collabs),
    )
    st = recall(_STRUCTURES, key, lambda: _build_structure(pop, collabs, k), KEPT_STRUCTURES)
    return Structure(
        st.n,
        collabs,
        *(getattr(st, f.name).copy() for f in fields(Structure) if f.name not in ("n", "collabs")),
    )


def _build_structure(pop: Population, collabs: list[CollaborationSpec], k: int) -> Structure:
    xy = np.column_stack([pop.attrs["x"], pop.attrs["y"]])
    n, c_count = pop.n, len(collabs)
    # Directed (source, target, collaboration) links, both ways round.
    a_parts, b_parts, c_parts = [], [], []
    for c, spec in enumerate(collabs):
        members = np.array(spec.members, dtype=np.intp)
        size = len(members)
        if size <= k + 1:
            i = np.repeat(members, size)
            j = np.tile(members, size)
            i, j = i[i != j], j[i != j]
        else:
            i = np.repeat(members, k)
            j = members[_nearest(xy[members], k)].ravel()
        a_parts += [i, j]
        b_parts += [j, i]
        c_parts += [np.full(2 * len(i), c, dtype=np.intp)]
    a = np.concatenate(a_parts) if a_parts else np.zeros(0, dtype=np.intp)
    b = np.concatenate(b_parts) if b_parts else np.zeros(0, dtype=np.intp)
    cc = np.concatenate(c_parts) if c_parts else np.zeros(0, dtype=np.intp)
    # Each pair once, in (source, target) order; each collaboration once per pair.
    pair_key = a.astype(np.int64) * n + b
    link = np.unique(pair_key * (c_count + 1) + cc)
    link_pair, link_collab = link // (c_count + 1), (link % (c_count + 1)).astype(np.intp)
    pairs = np.unique(link_pair)
    e = len(pairs)
    src = (pairs // n).astype(np.intp)
    dst = (pairs % n).astype(np.intp)
    rev = np.searchsorted(pairs, dst.astype(np.int64) * n + src).astype(np.intp)
    # A pair's collaborations, deepest first (ties by index), padded with C.
    depth = np.array([spec.contexts["integration_depth"] for spec in collabs])
    which = np.searchsorted(pairs, link_pair)
    order = np.lexsort((link_collab, -depth[link_collab], which)) if e else link_collab
    which, ordered = which[order], link_collab[order]
    starts = np.searchsorted(which, np.arange(e))
    slot = np.arange(len(which)) - starts[which]
    # One column more than any pair needs: the padding (C, "no collaboration") is what a
    # pair falls back to when none of its collaborations is live.
    width = int(slot.max()) + 2 if e else 1
    cands = np.full((e, width), c_count, dtype=np.intp)
    cands[which, slot] = ordered
    mem_org = np.array([i for spec in collabs for i in spec.members], dtype=np.intp)
    mem_collab = np.array(
        [c for c, spec in enumerate(collabs) for _ in spec.members], dtype=np.intp
    )
    m = len(mem_org)
    lookup = np.full((n, c_count + 1), m, dtype=np.intp)
    lookup[mem_org, mem_collab] = np.arange(m)
    culture = pop.attrs["culture"]
    compat = 1.0 - np.abs(culture[src] - culture[dst]) if e else np.zeros(0)
    # Ties in the order of the candidates: by pair, deepest collaboration first.
    tie_pair, tie_collab = which.astype(np.intp), ordered.astype(np.intp)
    tie_key = tie_pair.astype(np.int64) * (c_count + 1) + tie_collab
    by_key = np.argsort(tie_key, kind="stable")
    rev_key = rev[tie_pair].astype(np.int64) * (c_count + 1) + tie_collab
    tie_rev = by_key[np.searchsorted(tie_key[by_key], rev_key)].astype(np.intp)
    tie_mem = lookup[src[tie_pair], tie_collab].astype(np.intp)
    tie_start = np.searchsorted(tie_pair, np.arange(e + 1)).astype(np.intp)
    return Structure(
        n, collabs, src, dst, rev, cands, mem_org, mem_collab, lookup, compat,
        tie_pair, tie_collab, tie_rev, tie_mem, tie_start,
    )  # fmt: skip


class Groups:
    """Grouped sums and means over the last axis of ``(R, X)`` arrays, via bincount.

    bincount adds the members of each group in index order, the order the compiled
    kernels keep too.

    Args:
        r: The number of replicates.
        index: The group of each column, ``(X,)`` or ``(R, X)``.
        size: The number of groups.
    """

    def __init__(self, r: int, index: np.ndarray, size: int):
        self.r, self.size = r, size
        index = np.broadcast_to(index, (r, index.shape[-1]))
        self.flat = (index + (np.arange(r) * size)[:, None]).ravel()
        self.count = np.bincount(self.flat, minlength=r * size).reshape(r, size)
        self.safe = np.maximum(self.count, 1)

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Sums of each group's values, ``(R, size)``."""
        return np.bincount(self.flat, weights=values.ravel(), minlength=self.r * self.size).reshape(
            self.r, self.size
        )

    def mean(self, values: np.ndarray) -> np.ndarray:
        """Means of each group's values (0 for an empty group), ``(R, size)``."""
        return self.sum(values) / self.safe
