"""Array core of the model: population, structure, state and the monthly update.

State is held in numpy arrays with a leading *replicate* axis ``R``: state
arrays have shape ``(R, E)`` for ordered pairs (edges), ``(R, M + 1)`` for
memberships (organisation in a collaboration, plus one dummy slot),
``(R, C + 1)`` for collaborations (plus a dummy "no collaboration" slot) and
``(R, N)`` for organisations. :class:`~ioc_sim.model.CollaborationModel`
advances one replicate (``R = 1``) and wraps it in Mesa agents; batch runners
can advance several replicates of one design row together.

The equations are described, with their status (stated by the theory,
implied by it, or our assumption), in ``docs/ODD.md``; the section names
there match the function names here. The monthly update runs in compiled
kernels (:mod:`ioc_sim.kernels`, numba), which give the same numbers as the
numpy phase methods; :meth:`Simulation.choose_acts` to
:meth:`Simulation.update_risk_threshold` are kept as the numpy reference of
the per-pair phases that :meth:`Simulation.pair_phases` fuses.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from scipy.special import expit

try:  # the ufunc np.clip ends in; calling it directly skips ~1.5 us of checks per call
    from numpy._core.umath import clip as _clip
except ImportError:  # numpy < 2
    from numpy.core.umath import clip as _clip

from ioc_sim.engine import kernels
from ioc_sim.spec.contexts import CollaborationSpec
from ioc_sim.spec.forms import ORG_TYPES, STAGES, SYSTEM_FIELDS, TYPE_NAMES

PLANNED, FORMING, ACTIVE, DEEPENING, DISSOLVING, DISSOLVED = range(6)
assert (kernels.PLANNED, kernels.FORMING, kernels.ACTIVE, kernels.DEEPENING,
        kernels.DISSOLVING, kernels.DISSOLVED) == (PLANNED, FORMING, ACTIVE, DEEPENING,
                                                   DISSOLVING, DISSOLVED)

#: The six components of effectiveness through collaboration (theory 2.4).
COMPONENTS = ("innovation", "less_duplication", "best_practice", "access_to_resources",
              "fewer_service_gaps", "influence")
#: Loadings of each component on (cultural efficacy, organisational
#: efficiency, technological effectiveness). Our reading; rows sum to one.
LOADINGS = np.array([
    [0.5, 0.0, 0.5],   # innovation: shared culture and shared platforms
    [0.0, 0.7, 0.3],   # less duplication: governance and shared systems
    [0.6, 0.0, 0.4],   # best practice shared: relationships and information flow
    [0.4, 0.6, 0.0],   # access to resources: pooled governance and goodwill
    [0.3, 0.4, 0.3],   # fewer service gaps: all three
    [0.7, 0.3, 0.0],   # influence: a united front
])
#: Back-office components arrive at ``benefit_lag``; service components are
#: slower by ``service_lag_ratio`` (theory 7, pattern 1).
BACK_OFFICE = np.array([False, True, False, True, False, False])

ORG_ATTRIBUTES = ("size", "capacity", "finances", "workforce_stability", "flexibility",
                  "digital_maturity", "culture", "resolution_style", "vulnerability",
                  "persuasiveness", "intra_conflict", "baseline_performance", "x", "y")


@dataclass
class Population:
    """Organisations of one system (shared by all replicates)."""

    ids: list[str]
    names: list[str]
    types: list[str]
    attrs: dict[str, np.ndarray]
    distressed: np.ndarray

    @property
    def n(self) -> int:
        return len(self.ids)


#: The parameters a population is drawn from (see :func:`draw_population`).
POPULATION_PARAMS = ("population_seed", "n_organisations", "capacity_mean", "finances_mean",
                     "workforce_stability_mean", "flexibility_mean", "digital_maturity_mean",
                     "culture_spread", "constructive_share", "leader_vulnerability",
                     "leader_persuasiveness", "intra_conflict_mean", "distressed_share",
                     "baseline_performance_mean")
#: Recently drawn populations by their inputs.
_POPULATIONS: OrderedDict[tuple, Population] = OrderedDict()
#: How many populations and structures are kept. A sweep of ``partners_per_org``
#: over 2 to 12 alone builds 11 structures, visited in random order.
_KEPT_POPULATIONS, _KEPT_STRUCTURES = 8, 32


def _recall(memo: OrderedDict, key: tuple, make: Any, kept: int) -> Any:
    """``memo[key]``, made by ``make()`` if absent; the last ``kept`` are kept."""
    value = memo.get(key)
    if value is None:
        value = memo[key] = make()
        if len(memo) > kept:
            memo.popitem(last=False)
    else:
        memo.move_to_end(key)
    return value


def draw_population(p: dict[str, Any], organisations: list[dict[str, Any]] | None) -> Population:
    """Draw a synthetic population, keeping any attribute a scenario gives.

    Every attribute is drawn for every organisation in a fixed order from
    ``population_seed`` so that fixing one value never shifts the others.

    The draw depends only on :data:`POPULATION_PARAMS` and ``organisations``; a
    sweep whose factors leave those alone draws the same population for every
    design row, so the last few are kept, and each caller gets its own copy.
    """
    q = {k: p[k] for k in POPULATION_PARAMS}
    key = (tuple(q.values()), repr(organisations))
    pop = _recall(_POPULATIONS, key, lambda: _draw_population(q, organisations),
                  _KEPT_POPULATIONS)
    return Population(list(pop.ids), list(pop.names), list(pop.types),
                      {k: v.copy() for k, v in pop.attrs.items()}, pop.distressed.copy())


def _draw_population(p: dict[str, Any], organisations: list[dict[str, Any]] | None
                     ) -> Population:
    rng = np.random.default_rng(p["population_seed"])
    if organisations:
        n = len(organisations)
        types = [o["type"] for o in organisations]
        ids = [o["id"] for o in organisations]
        names = [o.get("name", o["id"]) for o in organisations]
        rng.random(n)  # keep the draw order the same as for a synthetic system
    else:
        n = p["n_organisations"]
        shares = np.array([ORG_TYPES[t]["share"] for t in TYPE_NAMES])
        codes = rng.choice(len(TYPE_NAMES), size=n, p=shares / shares.sum())
        types = [TYPE_NAMES[c] for c in codes]
        width = max(2, len(str(n)))
        ids = [f"ORG{i + 1:0{width}d}" for i in range(n)]
        names = [f"{TYPE_NAMES[c].replace('_', ' ')} organisation {i + 1}"
                 for i, c in enumerate(codes)]

    def around(mean: float, sd: float, shift: np.ndarray | float = 0.0) -> np.ndarray:
        return np.clip(mean + shift + sd * rng.standard_normal(n), 0.0, 1.0)

    type_size = np.array([ORG_TYPES[t]["size"] for t in types])
    type_cap = np.array([ORG_TYPES[t]["capacity"] for t in types])
    a: dict[str, np.ndarray] = {}
    a["size"] = type_size * np.exp(0.4 * rng.standard_normal(n))
    a["capacity"] = around(p["capacity_mean"], 0.15, type_cap)
    a["finances"] = around(p["finances_mean"], 0.15)
    a["workforce_stability"] = around(p["workforce_stability_mean"], 0.12)
    a["flexibility"] = around(p["flexibility_mean"], 0.12)
    a["digital_maturity"] = around(p["digital_maturity_mean"], 0.15)
    a["culture"] = 0.5 + p["culture_spread"] * (rng.random(n) - 0.5)
    style = np.where(rng.random(n) < p["constructive_share"], 1.0, -1.0)
    a["resolution_style"] = style * (0.5 + 0.5 * rng.random(n))
    a["vulnerability"] = around(p["leader_vulnerability"], 0.15)
    a["persuasiveness"] = around(p["leader_persuasiveness"], 0.15)
    a["intra_conflict"] = around(p["intra_conflict_mean"], 0.12)
    distressed = rng.random(n) < p["distressed_share"]
    a["baseline_performance"] = around(p["baseline_performance_mean"], 0.1,
                                       np.where(distressed, -0.15, 0.0))
    a["x"] = rng.random(n)
    a["y"] = rng.random(n)
    if organisations:
        for i, o in enumerate(organisations):
            if "distressed" in o and o["distressed"] != distressed[i]:
                distressed[i] = o["distressed"]
                # A trust in special measures performs worse, as drawn ones do (unless given).
                shift = -0.15 if distressed[i] else 0.15
                a["baseline_performance"][i] = min(1.0, max(0.0, a["baseline_performance"][i]
                                                            + shift))
            for key in ORG_ATTRIBUTES:
                if key in o:
                    a[key][i] = o[key]
    return Population(ids, names, types, a, distressed)


@dataclass
class Structure:
    """Static indices of one system: who works with whom, in which collaboration."""

    n: int
    collabs: list[CollaborationSpec]
    src: np.ndarray          # (E,) source organisation of each ordered pair
    dst: np.ndarray          # (E,) target organisation
    rev: np.ndarray          # (E,) index of the reverse pair
    cands: np.ndarray        # (E, K) collaborations of the pair, deepest first, padded with C
    mem_org: np.ndarray      # (M,) organisation of each membership
    mem_collab: np.ndarray   # (M,) collaboration of each membership
    mem_lookup: np.ndarray   # (N, C + 1) membership index, M where none
    compat: np.ndarray       # (E,) cultural compatibility of the pair

    @property
    def n_edges(self) -> int:
        return len(self.src)

    @property
    def n_members(self) -> int:
        return len(self.mem_org)

    @property
    def n_collabs(self) -> int:
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
        kth = np.partition(d, k - 1, axis=1)[:, k - 1:k]
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

    A pair in several collaborations is one edge; it works under the deepest
    of them that is live (``cands`` holds them in order of depth).

    The structure depends only on the organisations' positions and cultures,
    the collaborations' members and depths, and ``k``. A sweep builds the same
    few structures over and over (a design row's factors rarely touch them),
    so the last few are kept by those inputs, and each caller gets its own
    copy of the arrays with its own collaborations.
    """
    a = pop.attrs
    key = (k, pop.n, a["x"].tobytes(), a["y"].tobytes(), a["culture"].tobytes(),
           tuple((tuple(spec.members), spec.contexts["integration_depth"]) for spec in collabs))
    st = _recall(_STRUCTURES, key, lambda: _build_structure(pop, collabs, k), _KEPT_STRUCTURES)
    return Structure(st.n, collabs, *(getattr(st, f.name).copy() for f in fields(Structure)
                                      if f.name not in ("n", "collabs")))


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
    mem_collab = np.array([c for c, spec in enumerate(collabs) for _ in spec.members],
                          dtype=np.intp)
    m = len(mem_org)
    lookup = np.full((n, c_count + 1), m, dtype=np.intp)
    lookup[mem_org, mem_collab] = np.arange(m)
    culture = pop.attrs["culture"]
    compat = 1.0 - np.abs(culture[src] - culture[dst]) if e else np.zeros(0)
    return Structure(n, collabs, src, dst, rev, cands, mem_org, mem_collab, lookup, compat)


class _Groups:
    """Fast grouped sums and means over the last axis of ``(R, X)`` arrays via bincount.

    bincount adds the members of each group in index order, so summing several
    columns in one call (:meth:`sum_columns`) gives the same bits as one call
    per column.
    """

    def __init__(self, r: int, index: np.ndarray, size: int):
        self.r, self.size = r, size
        self.set(index)

    def set(self, index: np.ndarray) -> None:
        index = np.broadcast_to(index, (self.r, index.shape[-1]))
        self.flat = (index + (np.arange(self.r) * self.size)[:, None]).ravel()
        self.count = np.bincount(self.flat, minlength=self.r * self.size).reshape(self.r,
                                                                                 self.size)
        self.safe = np.maximum(self.count, 1)
        self._wide: dict[int, np.ndarray] = {}

    def sum(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.flat, weights=values.ravel(),
                           minlength=self.r * self.size).reshape(self.r, self.size)

    def mean(self, values: np.ndarray) -> np.ndarray:
        return self.sum(values) / self.safe

    def sum_columns(self, values: np.ndarray) -> np.ndarray:
        """Group sums of each column of ``(R, X, K)`` values, shape ``(R, size, K)``."""
        k = values.shape[-1]
        flat = self._wide.get(k)
        if flat is None:
            flat = self._wide[k] = (self.flat[:, None] * k + np.arange(k)).ravel()
        return np.bincount(flat, weights=values.ravel(),
                           minlength=self.r * self.size * k).reshape(self.r, self.size, k)

    def mean_columns(self, *columns: np.ndarray) -> np.ndarray:
        """Group means of several ``(R, X)`` arrays at once, shape ``(K, R, size)``.

        Faster than one mean per column only with few groups, where bincount waits
        on the previous addition to the same group; interleaving the columns gives
        it independent additions to overlap.
        """
        values = np.concatenate([c[..., None] for c in columns], axis=-1)
        return (self.sum_columns(values) / self.safe[..., None]).transpose(2, 0, 1)


#: Organisation attributes the per-pair and per-membership views read.
_ORG_VIEWED = ("capacity", "vulnerability", "resolution_style", "finances", "flexibility",
               "workforce_stability", "intra_conflict")

#: Divisors of the benefit sums for quality, efficiency and access (see produce_performance).
_QEA_FIRST, _QEA_SECOND = np.array([0, 1, 4]), np.array([2, 3, 3])
_QEA_DIVISORS = np.array([3.0, 2.0, 2.0])[:, None, None]


#: Spawn-key suffixes of the two streams each replicate's generator seeds.
UNIFORM_STREAM, NOISE_STREAM = 0x10C0, 0x10C1

#: How many months' worth of normals the noise stream draws at a time (a month reads
#: at most one per pair): fewer calls against fewer numbers drawn and never read.
NOISE_BLOCK_MONTHS = 2


def _child_bits(g: np.random.Generator, key: int) -> np.random.SFC64:
    """An SFC64 bit generator seeded by ``g``'s seed sequence with ``key`` appended to its
    spawn key: a function of ``g``'s seed alone, whatever has been drawn from or
    spawned by ``g``. A generator without a seed sequence (on a legacy bit
    generator, such as ``RandomState``'s) seeds it from its next draw instead.

    SFC64 rather than numpy's default PCG64: it passes the same statistical test
    batteries, draws normals faster here (8.6 against 12.0 ns), and its step is
    simple enough for the compiled kernels to take the uniforms themselves
    (:func:`ioc_sim.kernels.sfc64_uniforms`); a benchmark row draws about 840,000
    uniforms and 110,000 normals."""
    ss = g.bit_generator.seed_seq
    if isinstance(ss, np.random.SeedSequence):
        child = np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, key),
                                       pool_size=ss.pool_size)
    else:
        child = np.random.SeedSequence(int(g.integers(2**63)), spawn_key=(key,))
    return np.random.SFC64(child)


def _uniform_state(g: np.random.Generator) -> np.ndarray:
    """The SFC64 state (a, b, c, counter) of the uniform stream ``g`` seeds, which the
    kernels step themselves (:func:`ioc_sim.kernels.sfc64_uniforms`)."""
    return np.array(_child_bits(g, UNIFORM_STREAM).state["state"]["state"], dtype=np.uint64)


class _Draws:
    """The noise stream: standard normals of each replicate's own generator, drawn
    ahead in blocks and read in order.

    A numpy Generator gives the same numbers whether they are drawn a few at a time
    or many at once (``standard_normal`` reads the bit stream in order and keeps no
    state between calls), so reading the block in order gives exactly the numbers
    that drawing on demand would: the block size changes the speed, never the
    result. The compiled kernels read ``buf[r, pos[r]:]`` and advance ``pos``
    themselves; :meth:`reserve` first makes sure each row holds enough.
    """

    def __init__(self, gens: list[np.random.Generator], block: int):
        self.gens = gens
        self.buf = np.empty((len(gens), max(block, 1)))
        self.pos = np.full(len(gens), self.buf.shape[1], dtype=np.int64)  # nothing drawn yet

    def reserve(self, need: int) -> None:
        """Make every row hold at least ``need`` unread numbers (at most the block)."""
        cap = self.buf.shape[1]
        if int(self.pos.max()) <= cap - need:
            return
        for r in np.flatnonzero(self.pos > cap - need):
            row, rest = self.buf[r], cap - int(self.pos[r])
            row[:rest] = row[cap - rest:].copy()
            self.gens[r].standard_normal(out=row[rest:])
            self.pos[r] = 0

    def take(self, r: int, n: int) -> np.ndarray:
        """The next ``n`` numbers of replicate ``r`` (call :meth:`reserve` first)."""
        i = int(self.pos[r])
        self.pos[r] = i + n
        return self.buf[r, i:i + n]


def _clip01(x: np.ndarray) -> np.ndarray:
    """Clip a freshly computed array to [0, 1] in place (``np.clip`` without the copy)."""
    return _clip(x, 0.0, 1.0, out=x)


class Simulation:
    """State and monthly update of ``R`` replicates of one system.

    Args:
        params: Validated parameter values (every declared name).
        pop: The organisations.
        collabs: Resolved collaborations (including scheduled mergers).
        events: Normalised events, sorted by month.
        rngs: One numpy Generator per replicate. Each seeds two SFC64 streams
            of its own (:func:`_child_bits`): uniforms (acts, then entry
            into distress), stepped by the kernels, and standard normals (the
            outcome noise of joint acts), drawn ahead by numpy.
            All dynamic randomness comes from these, drawn in the same order
            whatever ``R`` is, so a replicate run alone gives the same numbers
            as in a batch; the generators themselves are not drawn from.

    Speed: most of what a pair or a membership derives from its collaboration's
    contexts, its organisations' attributes and the parameters changes only on
    events, starts, endings and deepening. :meth:`_views` computes those per
    collaboration, gathers them to pairs and memberships once, and recomputes
    them only when their inputs have changed. Elementwise arithmetic gives the
    same bits before or after a gather, so every number equals the direct
    computation.
    """

    def __init__(self, params: dict[str, Any], pop: Population,
                 collabs: list[CollaborationSpec], events: list[dict[str, Any]],
                 rngs: list[np.random.Generator]):
        self.p = p = dict(params)
        self.pop = pop
        self.rngs = rngs
        self.R = r = len(rngs)
        self.month = 0
        self.events = events
        st = self.st = build_structure(pop, collabs, p["partners_per_org"])
        n, e, m, c = st.n, st.n_edges, st.n_members, st.n_collabs
        self.N, self.E, self.M, self.C = n, e, m, c
        self.ustate = np.array([_uniform_state(g) for g in rngs], dtype=np.uint64)
        self.noise = _Draws([np.random.Generator(_child_bits(g, NOISE_STREAM)) for g in rngs],
                            NOISE_BLOCK_MONTHS * e)

        # Organisation attributes (events may change them; shared by replicates).
        self.org = {k: v.astype(float).copy() for k, v in pop.attrs.items()}
        # System contexts (deterministic in time, shared by replicates).
        self.system = {k: float(p[k]) for k in SYSTEM_FIELDS}
        self.demand_level = 1.0  # emergency demand index before collaborative effects
        self.shocks: list[tuple[int, float, float, float]] = []
        # Collaboration contexts (R, C + 1); the last slot is "no collaboration".
        self.ctx: dict[str, np.ndarray] = {}
        for name in collabs[0].contexts if collabs else ():
            col = np.array([cs.contexts[name] for cs in collabs] + [0.0])
            self.ctx[name] = np.tile(col, (r, 1))
        if collabs:  # history and a legal agreement raise the ambition of joint aims
            amb = self.ctx["ambition"]
            amb += (p["history_ambition_effect"] * self.ctx["history"]
                    + p["formal_ambition_effect"] * self.ctx["formalisation"])
            _clip01(amb)
            amb[:, c] = 0.0
        self.start = np.array([cs.start for cs in collabs] + [10**9])
        self.status = np.full((r, c + 1), PLANNED, dtype=np.int8)
        self.status[:, c] = DISSOLVED
        self.age = np.zeros((r, c + 1))
        self.below = np.zeros((r, c + 1), dtype=np.int32)
        self.left = np.zeros((r, c + 1), dtype=np.int32)
        self.eff = np.zeros((r, c + 1, len(COMPONENTS)))
        self.mech = np.zeros((r, 3, c + 1))
        self.output = np.zeros((r, c + 1))
        self.merged_into = np.full(n, -1)
        # Per-edge state.
        self.scar = np.zeros((r, e))
        self.damage = np.zeros((r, e))
        self.honoured = np.zeros((r, e))
        self.breached = np.zeros((r, e))
        self.act = np.zeros((r, e), dtype=bool)
        self.recip = np.zeros((r, e), dtype=bool)
        # Per-organisation state.
        self.distressed = np.tile(pop.distressed, (r, 1))
        self.ok_months = np.zeros((r, n), dtype=np.int32)
        self.behaviour = np.zeros((r, n))
        self.cost = np.zeros((r, n))
        zeros = np.zeros((r, n))
        self.quality, self.efficiency, self.access = zeros.copy(), zeros.copy(), zeros.copy()
        self.admissions = np.ones((r, n))
        self.benefit = np.zeros((r, n, len(COMPONENTS)))

        self.lags = np.where(BACK_OFFICE, p["benefit_lag"],
                             p["benefit_lag"] * p["service_lag_ratio"])
        self.by_org_edges = _Groups(r, st.src, n)
        self.by_org_mem = _Groups(r, st.mem_org, n)
        self.by_collab_mem = _Groups(r, st.mem_collab, c + 1)
        # Caches (see the class docstring); the counters are part of their keys.
        self._ridx = np.arange(r)[:, None]
        self._incompat = 1.0 - st.compat
        self._mem_collab = np.append(st.mem_collab, c)  # membership -> collaboration, + dummy
        self._mem_org = np.append(st.mem_org, 0)
        self._member_slot = (self._mem_collab + self._ridx * (c + 1)).ravel()
        self._org_version = 0
        self._assignment = 0
        self._view: dict[str, np.ndarray] = {}
        self._view_key: tuple | None = None
        self._memo: dict[str, tuple] = {}
        self._refresh_collab_statics()
        # Support windows: the latest-started open window sets a collaboration's support;
        # with none open it returns to its own level (set events change that level).
        self._support_base = self.ctx["support"].copy() if collabs else np.zeros((r, 1))
        self._support_windows: list[tuple[int, int, int, float]] = []

        # Month-0 events shape the starting contexts; leadership changes act on relations,
        # so they wait until relations exist.
        at_start = [ev for ev in events if ev["month"] == 0]
        for ev in at_start:
            if ev["kind"] != "leadership_turnover":
                self.apply_event(ev)
        self._start_due()
        self._assign_edges()
        self._initialise_relations()
        for ev in at_start:
            if ev["kind"] == "leadership_turnover":
                self.apply_event(ev)
        self._refresh_views()
        self.produce_performance()

    # ------------------------------------------------------------------ setup
    def _refresh_collab_statics(self) -> None:
        """Member means of organisation attributes, per collaboration."""
        st, o, r = self.st, self.org, self.R
        mean = self.by_collab_mem.mean
        org_of = st.mem_org

        def members(values: np.ndarray) -> np.ndarray:
            return np.broadcast_to(values[org_of], (r, len(org_of)))

        self.c_capacity = mean(members(o["capacity"]))
        self.c_digital = mean(members(o["digital_maturity"]))
        self.c_persuasion = mean(members(o["persuasiveness"]))
        lead = 0.5 * (o["vulnerability"] + o["persuasiveness"])
        self.c_leadership = mean(members(lead))
        self.c_resolution = mean(0.5 * (members(o["resolution_style"]) + 1.0))
        self._org_version += 1  # the member means changed: rebuild the views

    def _start_due(self) -> bool:
        due = (self.status == PLANNED) & (self.start[None, :] <= self.month)
        if not due.any():
            return False
        formed = FORMING if self.p["formation_months"] > 0 else ACTIVE
        self.status[due] = formed
        self.age[due] = 0.0
        return True

    def _assign_edges(self) -> None:
        """Give every pair the deepest live collaboration it shares."""
        st, r, e = self.st, self.R, self.E
        live = (self.status >= FORMING) & (self.status <= DISSOLVING)
        live[:, self.C] = True  # the padding slot always "wins" last
        first = live[:, st.cands].argmax(axis=2) if e else np.zeros((r, 0), dtype=np.intp)
        self.edge_collab = st.cands[np.arange(e)[None, :], first] if e else \
            np.zeros((r, 0), dtype=np.intp)
        self.edge_mem = st.mem_lookup[st.src[None, :], self.edge_collab]
        self.by_mem = _Groups(r, self.edge_mem, self.M + 1)
        # Whether a membership has no pair of its own (it then reads its organisation's
        # relations across all its partners, see kernels.progress_faith).
        self._alone_members = bool((self.by_mem.count[:, :-1] == 0).any())
        self.by_collab_edge = _Groups(r, self.edge_collab, self.C + 1)
        # Flat positions of each pair's collaboration and membership, for one-call gathers.
        self._pair_slot = (self.edge_collab + self._ridx * (self.C + 1)).ravel()
        self._pair_mem_slot = (self.edge_mem + self._ridx * (self.M + 1)).ravel()
        self._assignment += 1

    def _to_pairs(self, values: np.ndarray, slot: np.ndarray | None = None) -> np.ndarray:
        """Per-collaboration values ``(..., R, C + 1)`` as each pair sees them, ``(..., R, E)``.

        With ``slot=self._pair_mem_slot``, per-membership values ``(..., R, M + 1)`` instead.
        """
        slot = self._pair_slot if slot is None else slot
        lead = values.shape[:-2]
        flat = values.reshape(*lead, -1).take(slot, axis=-1)
        return flat.reshape(*lead, self.R, self.E)

    def _to_members(self, values: np.ndarray) -> np.ndarray:
        """Per-collaboration values ``(..., R, C + 1)`` per membership, ``(..., R, M + 1)``."""
        lead = values.shape[:-2]
        flat = values.reshape(*lead, -1).take(self._member_slot, axis=-1)
        return flat.reshape(*lead, self.R, self.M + 1)

    def _formal_assurance(self) -> np.ndarray:
        """Prior evidence that partners are obliged to act (mandate, depth, contract)."""
        p, ctx = self.p, self.ctx
        base = (ctx["mandate"] + ctx["integration_depth"] + ctx["formalisation"]) / 3.0
        return base * (1.0 - p["regulator_weight"] * (1.0 - self.system["regulator_trust"]))

    def _pair_contexts(self, slot: np.ndarray) -> dict[str, np.ndarray]:
        """What each pair takes from its collaboration's contexts, shape (R, E) each.

        Computed per collaboration, then gathered to the pairs in one call;
        ``slot`` gives each pair's collaboration (see :meth:`_assign_edges`).
        """
        p, ctx, o, st = self.p, self.ctx, self.org, self.st
        intensity = self._intensity()
        working = intensity > 0
        assurance = self._formal_assurance()
        # Every working month is evidence; the mandate and contract act only through the
        # prior, so stronger formal assurance never lowers confidence for the same record.
        weight = working.astype(float)
        breach_weight = p["trust_asymmetry"] if p["fragile"] in ("confidence", "equal") else 1.0
        rows = {
            "depth": ctx["integration_depth"],
            "slack": 1.0 - ctx["integration_depth"],
            "intensity": intensity,
            "accountability": ctx["accountability"],
            "support": ctx["support"],
            "history_harm": np.maximum(-ctx["history"], 0.0),
            "unaccountable_slow": (1.0 - ctx["accountability"]) + (1.0 - ctx["pace"]),
            "vision_gap": 1.0 - ctx["shared_vision"],
            "power_asymmetry": ctx["power_asymmetry"],
            "assurance": assurance,
            "prior": p["formal_prior_weight"] * assurance,
            "weight": weight,
            "breach_weight": weight * breach_weight,
            "keep": np.where(working, p["confidence_memory"], 1.0),
        }
        gathered = self._to_pairs(np.stack(list(rows.values())), slot)
        v = dict(zip(rows, gathered, strict=True))
        # Organisation attributes of the pair (org-level, gathered by source or target).
        v["capacity_compat"] = o["capacity"][st.dst] + st.compat
        v["gain"] = p["trust_gain"] * (1.0 + p["vulnerability_effect"] * (o["vulnerability"][st.dst]
                                                                          - 0.5))
        if p["trust_confidence"] == "crowding_out":
            v["gain"] = v["gain"] * (1.0 - p["crowding"] * v["assurance"])
        style = 0.5 * (o["resolution_style"][st.src] + o["resolution_style"][st.dst])
        # Conflict always costs trust; destructive handling adds to the cost.
        v["resolution_harm"] = p["resolution_effect"] * 0.5 * (1.0 - style)
        v["appetite"] = 1.0 - p["finance_risk_effect"] * (1.0 - o["finances"][st.src])
        v["conflict_target"] = self._conflict_target(v)
        return v

    def _initialise_relations(self) -> None:
        """Initial trust, confidence, risk threshold, conflict, faith and progress."""
        p, st, r = self.p, self.st, self.R
        # Relations start from the collaboration each pair works under now, or, for pairs
        # whose collaborations have not started, the deepest of them.
        now = self.edge_collab[0] if self.E else np.zeros(0, dtype=np.intp)
        first = np.where(now < self.C, now, st.cands[:, 0]) if self.E else now
        # take, not fancy indexing: row-major for any R, so each replicate's values are
        # summed (by the metrics) in the same order as when it runs alone.
        hist = self.ctx["history"].take(first, axis=1)
        formal = self.ctx["formalisation"].take(first, axis=1)
        self.trust = np.clip(p["initial_trust"] + p["history_trust_effect"] * hist
                             + p["formal_trust_effect"] * formal, 0.0, 1.0)
        v = self._pair_contexts((first[None, :] + self._ridx * (self.C + 1)).ravel())
        self.conflict = v["conflict_target"]
        self.confidence = self._confidence(v)
        self.risk = self._risk_target(v)
        mh = self.ctx["history"].take(self._mem_collab, axis=1)
        self.faith = np.clip(p["initial_faith"] + 0.2 * mh, 0.0, 1.0)
        self.progress = np.full((r, self.M + 1), 0.5)
        self.progress[:, self.M] = 0.0
        self.faith[:, self.M] = 0.0

    def set_relations(self, values: dict[str, Any]) -> None:
        """Replace starting relations (see ``CollaborationModel(initial_relations=...)``).

        Values are floats for everyone or ``{organisation index: float}`` for
        that organisation's outgoing pairs or memberships. Confidence is set as
        evidence (at least ten months' worth, split between honoured and breached)
        so that it fades as the model's own evidence would; the risk threshold follows
        the new trust and confidence unless it is given too.
        """
        pairs = {"trust": "trust", "conflict": "conflict"}
        members = {"faith": "faith", "perceived_progress": "progress"}

        def assign(array: np.ndarray, owner: np.ndarray, value: Any) -> None:
            # Membership arrays carry a dummy last slot that belongs to nobody.
            if array.shape[1] > len(owner):
                owner = np.append(owner, -1)
            if isinstance(value, dict):
                for i, x in value.items():
                    array[:, owner == i] = x
            else:
                array[:, owner >= 0] = value

        for key, attr in pairs.items():
            if key in values:
                assign(getattr(self, attr), self.st.src, values[key])
        for key, attr in members.items():
            if key in values:
                assign(getattr(self, attr), self.st.mem_org, values[key])
        if "confidence" in values:
            target = np.full((self.R, self.E), np.nan)
            assign(target, self.st.src, values["confidence"])
            given = ~np.isnan(target)
            v = self._refresh_views()
            k, c = self.p["formal_prior_weight"], np.clip(target, 0.01, 0.99)
            # Enough evidence (at least ten months') that the record alone reaches the target.
            total = np.maximum.reduce([np.full_like(c, 10.0),
                                       (c * (k + 2.0) - v["prior"] - 1.0) / (1.0 - c),
                                       (v["prior"] + 1.0) / c - k - 2.0])
            honoured = np.clip(c * (total + k + 2.0) - v["prior"] - 1.0, 0.0, total)
            self.honoured = np.where(given, honoured, self.honoured)
            self.breached = np.where(given, total - honoured, self.breached)
            self.confidence = self._confidence(v)
        # The risk threshold follows the new trust and confidence, except where given.
        self.risk = self._risk_target()
        if "risk_threshold" in values:
            assign(self.risk, self.st.src, values["risk_threshold"])
        self._memo.clear()
        self.produce_performance()

    # ----------------------------------------------------------------- caches
    def _refresh_views(self) -> dict[str, np.ndarray]:
        """Per-pair, per-membership and per-collaboration quantities that change only
        with contexts (except ambition, which moves every month), status, system
        contexts, parameters, organisation attributes or the assignment of pairs.

        Checked once a month, when acts are chosen: from then until the month's
        end only ambition moves. The key compares the inputs themselves, so direct
        edits of ``ctx``, ``status``, ``system`` or ``p`` between months are picked
        up; organisation attributes are tracked through
        :meth:`_refresh_collab_statics`, as before.
        """
        ctx, o = self.ctx, self.org
        key = (b"".join([ctx[k].tobytes() for k in ctx if k != "ambition"]
                        + [o[k].tobytes() for k in _ORG_VIEWED] + [self.status.tobytes()]),
               tuple(self.system.values()), tuple(self.p.values()), self._assignment,
               self._org_version)
        if key == self._view_key:
            return self._view
        p, o, mo = self.p, self.org, self._mem_org
        v = self._pair_contexts(self._pair_slot)
        live = self.edge_collab < self.C
        v["live"] = live
        v["all_working"] = bool((v["intensity"] == 1.0).all())
        # Evidence a pair adds to (honoured, breached) when the partner reciprocates or not.
        zero = np.zeros_like(v["weight"])
        v["if_honoured"] = np.stack([v["weight"], zero])
        v["if_breached"] = np.stack([zero, v["breach_weight"]])
        v["all_live"] = bool(live.all())
        v["partners"] = np.maximum(self.by_org_edges.sum(live), 1.0)
        v["compat_c"] = self.by_collab_edge.mean(np.broadcast_to(self.st.compat,
                                                                 (self.R, self.E)))
        intensity = self._intensity()
        v["working_c"] = intensity > 0
        # Memberships: the parts of progress and faith that only contexts set.
        sign = {"raises": 1.0, "lowers": -1.0, "neutral": 0.0}[p["mandate_faith"]]
        m = self._to_members(np.stack([
            ctx["role_clarity"] + ctx["evaluation"],
            ctx["actors_present"],
            p["persuasion_effect"] * (self.c_persuasion - 0.5),
            sign * p["mandate_faith_effect"] * ctx["mandate"]
            - p["competition_faith_effect"] * self.system["competition"],
            v["working_c"].astype(float),
        ]))
        v["m_drivers"] = m[0] + o["flexibility"][mo]
        v["m_actors"] = m[1]
        v["m_stability"] = o["workforce_stability"][mo]
        v["m_calm"] = (1.0 - o["intra_conflict"][mo])
        v["m_harm"] = p["resolution_effect"] * 0.5 * (1.0 - o["resolution_style"][mo])
        v["m_persuasion"], v["m_mandate"] = m[2], m[3]
        v["m_live"] = m[4] > 0
        v["m_live"][:, -1] = False
        v["m_rates"] = np.array([p["progress_rate"], p["faith_rate"]])[:, None, None]
        # Collaborations: the static parts of the mechanisms and of the costs.
        v["organisational"] = (ctx["accountability"] + ctx["role_clarity"]
                               + ctx["formalisation"] + self.c_capacity + ctx["pace"])
        v["technological"] = (self.system["data_sharing"] + self.c_digital
                              + ctx["integration_depth"]) / 3.0
        v["engage"] = 0.5 + 0.5 * ctx["integration_depth"]
        v["fading_c"] = np.ascontiguousarray(v["working_c"] * ctx["integration_depth"],
                                             dtype=float)
        # Exchange drivers up to the distress term (the sum keeps the original order).
        v["drivers"] = v["capacity_compat"] + v["accountability"] + self.system["data_sharing"]
        # The per-pair inputs of the compiled monthly kernel, one contiguous block.
        pack = np.empty((len(kernels.PACK_ROWS), self.R, self.E))
        for i, name in enumerate(kernels.PACK_ROWS):
            pack[i] = v[name]
        v["pack"] = pack
        mpack = np.empty((len(kernels.MEMBER_ROWS), self.R, self.M + 1))
        for i, name in enumerate(kernels.MEMBER_ROWS):
            mpack[i] = v[name]
        v["mpack"] = mpack
        v["working_c_f"] = np.ascontiguousarray(v["working_c"])
        cpack = np.empty((len(kernels.COLLAB_ROWS), self.R, self.C + 1))
        for i, name in enumerate(kernels.COLLAB_ROWS):
            cpack[i] = getattr(self, name) if name.startswith("c_") else v[name]
        v["cpack"] = cpack
        v["lags"] = np.asarray(self.lags, dtype=float)
        v["engage_c"] = np.ascontiguousarray(np.broadcast_to(v["engage"], (self.R, self.C + 1)),
                                             dtype=float)
        self._view, self._view_key = v, key
        return v

    def _views(self) -> dict[str, np.ndarray]:
        """This month's views (see :meth:`_refresh_views`)."""
        return self._view or self._refresh_views()

    def _distress_views(self) -> dict[str, np.ndarray]:
        """Terms of the pairs that depend on which organisations are distressed, (R, E):
        whether the target is healthy, and the source's lost appetite for risk. For
        the numpy reference phases; the compiled pair update reads ``distressed``
        itself, for the pairs that need it."""
        d, st = self.distressed, self.st
        return {"healthy_target": 1.0 - d[:, st.dst],
                "source_risk": self.p["distress_risk_effect"] * d[:, st.src]}

    def _acts(self) -> np.ndarray:
        """This month's collaborative acts on pairs in a live collaboration."""
        v = self._views()
        return self.act if v["all_live"] else self.act & v["live"]

    def _pair_means(self) -> tuple[np.ndarray, ...]:
        """Grouped means of the pairs' state (:func:`ioc_sim.kernels.pair_means`): by
        collaboration (trust, acts, conflict, confidence, joint acts), by membership
        (trust, conflict, and the count) and by organisation (trust, conflict, and the
        number of acts). One compiled pass, shared by the month's last two phases."""
        v = self._views()
        key = (self.edge_collab, self.edge_mem, self.trust, self.act, self.recip, self.conflict,
               self.confidence, v["pack"])
        hit = self._memo.get("pair_means")
        if hit is None or any(a is not b for a, b in zip(hit[0], key, strict=True)):
            hit = key, kernels.pair_means(
                self.trust, self.conflict, self.confidence, self.act, self.recip,
                v["pack"][kernels.P_LIVE], self.edge_collab, self.edge_mem, self.st.src,
                self.N, self.M + 1, self.C + 1, self._alone_members)
            self._memo["pair_means"] = hit
        return hit[1]

    def _collab_pair_means(self) -> np.ndarray:
        """Mean trust, behaviour, conflict and confidence of each collaboration's pairs,
        shape (4, R, C + 1)."""
        return self._pair_means()[0][:4]

    # -------------------------------------------------------------- the month
    def step(self) -> None:
        """Advance every replicate by one month."""
        self.month += 1
        self._memo.clear()  # state may have been edited between months
        self.apply_scheduled_changes()
        self.review_collaborations()
        self.pair_phases()
        self.update_progress_and_faith()
        self._grow_demand()
        self.produce_performance()
        self.update_distress()

    def apply_scheduled_changes(self) -> None:
        """Apply the events due this month and close support windows that end now."""
        for ev in self.events:
            if ev["month"] == self.month:
                self.apply_event(ev)
        if any(until == self.month for _, until, _, _ in self._support_windows):
            self._apply_support()

    def _apply_support(self) -> None:
        """Set each supported collaboration's support from its open windows."""
        t = self.month
        for c in {c for _, _, c, _ in self._support_windows}:
            open_ = [(start, level) for start, until, cc, level in self._support_windows
                     if cc == c and start <= t < until]
            level = max(open_)[1] if open_ else None
            self.ctx["support"][:, c] = self._support_base[:, c] if level is None else level

    def shock_level(self, month: int | None = None) -> float:
        """Sum of decaying pandemic-type shocks at ``month`` (default: now), capped at 1."""
        t = self.month if month is None else month
        level = sum(mag * 0.5 ** ((t - m0) / half) for m0, mag, half, _ in self.shocks if t >= m0)
        return min(1.0, level)

    def shock_pressure(self) -> float:
        t = self.month
        return min(1.0, sum(pr * mag * 0.5 ** ((t - m0) / half)
                            for m0, mag, half, pr in self.shocks if t >= m0))

    def _collab_index(self, name: str) -> int:
        return next(i for i, cs in enumerate(self.st.collabs) if cs.name == name)

    def apply_event(self, ev: dict[str, Any]) -> None:
        """Apply one scheduled change of context."""
        kind = ev["kind"]
        self._memo.clear()
        if kind == "set":
            target, fld, value = ev["target"], ev["field"], ev["value"]
            if target == "system":
                self.system[fld] = value
            elif isinstance(target, int):
                self.org[fld][target] = value
                self._refresh_collab_statics()
            else:
                c = self._collab_index(target)
                self.ctx[fld][:, c] = value
                if fld == "support":
                    self._support_base[:, c] = value
                    self._apply_support()
        elif kind == "regime_switch":
            self.system["competition"] = ev["competition"]
        elif kind == "shock":
            self.shocks.append((ev["month"], ev["magnitude"], ev["half_life"], ev["pressure"]))
        elif kind == "support":
            c = self._collab_index(ev["collaboration"])
            until = ev.get("until", 10**9)
            self._support_windows.append((ev["month"], until, c, ev["level"]))
            self._apply_support()
        elif kind == "leadership_turnover":
            i = ev["organisation"]
            for key, mean in (("vulnerability", "leader_vulnerability"),
                              ("persuasiveness", "leader_persuasiveness")):
                self.org[key][i] = ev.get(key, self.p[mean])
            self._refresh_collab_statics()
            # New leaders inherit only part of the relationship their predecessors built.
            touched = (self.st.src == i) | (self.st.dst == i)
            loss = self.p["turnover_trust_loss"]
            self.trust[:, touched] *= 1.0 - loss
            self.damage[:, touched] *= 1.0 - loss
        elif kind == "merger":
            a, b = ev["organisations"]
            self.merged_into[b] = a

    def review_collaborations(self) -> None:
        """Lifecycle: planned -> forming -> active <-> deepening -> dissolving -> dissolved.

        Compiled: :func:`ioc_sim.kernels.review` has the rules. Age first, then start
        what is due: a collaboration starting this month is forming at age 0, as one
        that starts at month 0 is in the initial state.
        """
        p = self.p
        ended = np.empty(self.status.shape, dtype=bool)
        for name in ("age", "below", "left"):  # updated in place by the kernel
            a = getattr(self, name)
            if not a.flags.c_contiguous or not a.flags.writeable:
                setattr(self, name, np.ascontiguousarray(a).copy())
        changed = kernels.review(
            self.month, self.start, FORMING if p["formation_months"] > 0 else ACTIVE,
            float(p["formation_months"]), self.status, self.age, self.below, self.left,
            self.ctx["mandate"], self.ctx["integration_depth"], self.trust, self.edge_collab,
            self.faith, self._mem_collab, float(p["dissolve_threshold"]),
            float(p["dissolve_patience"]), float(p["deepen_threshold"]),
            float(p["deepen_rate"]), float(p["dissolving_months"]), ended)
        if changed:
            if ended.any():  # an improper ending scars the pairs involved (path dependence)
                self.scar = np.maximum(self.scar, ended[self._ridx, self.edge_collab])
            self._assign_edges()

    def _intensity(self) -> np.ndarray:
        """How much joint work each collaboration's lifecycle stage allows, (R, C + 1)."""
        st = self.status
        out = np.where((st == ACTIVE) | (st == DEEPENING), 1.0, 0.0)
        out[st == FORMING] = self.p["forming_intensity"]
        out[st == DISSOLVING] = 0.5 * self.p["forming_intensity"]
        return out

    def choose_acts(self) -> None:
        """Each organisation decides, per partner, whether to act collaboratively."""
        p, ctx = self.p, self.ctx
        v = self._refresh_views()  # contexts are fixed from here to the month's end
        depth, intensity = v["depth"], v["intensity"]
        # Ambition moves every month, so exposure is gathered afresh.
        exposure = self._to_pairs(p["exposure_scale"] * 0.5 * (ctx["integration_depth"]
                                                               + ctx["ambition"]))
        if p["gate_softness"] > 1e-6:  # narrower than that is a hard threshold in practice
            gate = expit((self.risk - exposure) / p["gate_softness"])
        else:
            gate = (self.risk >= exposure).astype(float)
        # The source's faith in the collaboration the pair works under.
        faith = self._to_pairs(self.faith, self._pair_mem_slot)
        shock = self.shock_level()
        barrier = 1.0 - p["competition_effect"] * self.system["competition"] * (1.0 - shock)
        # Regulatory blocking holds back the integrative (deep) part of the work.
        blocked = p["blocking_effect"] * self.system["regulatory_blocking"] * (1.0 - shock)
        prob = v["slack"] * faith + depth * gate * 0.5 * (1.0 + faith) * (1.0 - blocked)
        if not v["all_working"]:  # otherwise intensity is exactly 1 for every pair
            prob = intensity * prob
        prob *= barrier
        if shock:  # the boost is exactly zero without a shock
            prob = prob + p["shock_boost"] * shock * (intensity > 0)
        prob = np.minimum(1.0, prob, out=prob)
        self.act = self._act_uniforms(intensity > 0.0) < prob
        self.recip = self.act.take(self.st.rev, axis=1)

    def _act_uniforms(self, working: np.ndarray) -> np.ndarray:
        """The uniform stream's next numbers on the pairs ``working`` (R, E) is true, in
        pair order, and 1.0 elsewhere: a pair whose collaboration does no work
        (intensity 0) has probability 0 of acting, so it draws nothing."""
        u = np.ones((self.R, self.E))
        for r, w in enumerate(working):
            u[r, w] = kernels.sfc64_uniforms(self.ustate, r, int(np.count_nonzero(w)))
        return u

    def _normal(self, where: np.ndarray) -> np.ndarray:
        """The noise stream's next numbers on the pairs ``where`` (R, E) is true, in pair
        order, and 0 elsewhere: only joint acts have an outcome, so only they draw
        its noise."""
        self.noise.reserve(self.E)
        z = np.zeros((self.R, self.E))
        for r, w in enumerate(where):
            z[r, w] = self.noise.take(r, int(np.count_nonzero(w)))
        return z

    def exchange(self) -> dict[str, np.ndarray]:
        """Quality of each joint act; a partner that does not reciprocate is a breach."""
        p = self.p
        joint = self.act & self.recip
        quality = _clip01(self._expected_quality() + p["outcome_noise"] * self._normal(joint))
        seen = np.where(joint, quality, p["expectation"] - p["breach_signal"])
        failed = joint & (quality < p["expectation"])
        # A partner not reciprocating teaches trust something only if it reads as a breach.
        observed = self.act if p["breach_signal"] > 0 else joint
        return {"observed": observed, "quality": seen, "failed": failed, "joint": joint}

    def _expected_quality(self) -> np.ndarray:
        """Expected quality of each pair's joint acts, (R, E) (eqs. X1-X2 of the ODD;
        the compiled pair update computes it for the joint acts only)."""
        v, d = self._views(), self._distress_views()
        drivers = (v["drivers"] + d["healthy_target"] + v["support"]
                   + (1.0 - self._pressure())) / 7.0
        return expit(self.p["success_slope"] * (drivers - 0.5) * 2.0)

    def pair_phases(self) -> None:
        """This month's acts, exchange and updates of conflict, trust, confidence and risk
        threshold, compiled in two passes (:func:`ioc_sim.kernels.pair_acts`, then
        :func:`ioc_sim.kernels.pair_update`), which step the uniform stream and read
        the outcome noise from its drawn-ahead block (:class:`_Draws`).

        Gives the same numbers as :meth:`choose_acts`, :meth:`exchange`,
        :meth:`update_conflict`, :meth:`update_trust`, :meth:`update_confidence` and
        :meth:`update_risk_threshold` called in that order (the numpy reference,
        which the tests compare it with), with the same random draws.
        """
        p, ctx, r, e = self.p, self.ctx, self.R, self.E
        v = self._refresh_views()  # contexts are fixed from here to the month's end
        self.noise.reserve(e)  # at most one joint act per pair
        shock = self.shock_level()
        barrier = 1.0 - p["competition_effect"] * self.system["competition"] * (1.0 - shock)
        blocked = p["blocking_effect"] * self.system["regulatory_blocking"] * (1.0 - shock)
        self.act = np.empty((r, e), dtype=bool)
        self.recip = np.empty((r, e), dtype=bool)
        kernels.pair_acts(
            self.ustate, self.edge_collab, self.edge_mem, self.st.rev,
            ctx["integration_depth"], ctx["ambition"], self.faith, v["pack"], self.risk,
            p["exposure_scale"] * 0.5, float(p["gate_softness"]), barrier, blocked,
            p["shock_boost"] * shock if shock else 0.0, self.act, self.recip)
        loss = p["trust_gain"] * (p["trust_asymmetry"] if p["fragile"] in ("trust", "equal")
                                  else 1.0)
        for name in ("damage", "honoured", "breached"):  # updated in place by the kernel
            a = getattr(self, name)
            if not a.flags.c_contiguous or not a.flags.writeable:
                setattr(self, name, np.ascontiguousarray(a).copy())
        conflict, trust = np.empty((r, e)), np.empty((r, e))
        confidence, risk = np.empty((r, e)), np.empty((r, e))
        kernels.pair_update(
            self.noise.buf, self.noise.pos, self.act, self.recip, v["drivers"], v["support"],
            self.distressed, self.st.src, self.st.dst, 1.0 - self._pressure(),
            float(p["success_slope"]), float(p["distress_risk_effect"]), v["pack"], self.trust,
            self.conflict, self.risk, self.damage, self.honoured, self.breached,
            float(p["outcome_noise"]), float(p["expectation"]), float(p["breach_signal"]),
            float(p["failure_conflict"]), float(p["conflict_rate"]),
            kernels.TRUST_SPECS[p["trust_update"]], float(loss), float(p["damage_gain"]),
            float(p["damage_decay"]), float(p["conflict_trust_erosion"]),
            float(p["formal_prior_weight"]), p["trust_confidence"] == "substitutes",
            float(p["trust_weight"]), float(p["risk_rate"]), conflict, trust, confidence, risk)
        self.conflict, self.trust, self.confidence, self.risk = conflict, trust, confidence, risk

    def _pressure(self) -> float:
        return min(1.0, self.system["resource_pressure"] + self.shock_pressure())

    def _conflict_target(self, v: dict[str, np.ndarray] | None = None) -> np.ndarray:
        p = self.p
        v = self._views() if v is None else v
        bad_history = np.maximum(v["history_harm"], self.scar)
        drivers = (
            v["unaccountable_slow"]  # (1 - accountability) + (1 - pace)
            + self._incompat
            + v["vision_gap"]
            + bad_history
            + v["power_asymmetry"]
        ) / 6.0
        return p["conflict_slope"] * drivers

    def _where_live(self, values: np.ndarray) -> np.ndarray:
        """``values`` on pairs in a live collaboration, 0 elsewhere."""
        v = self._views()
        return values if v["all_live"] else np.where(v["live"], values, 0.0)

    def update_conflict(self, outcome: dict[str, np.ndarray]) -> None:
        """Conflict moves toward what its contexts imply; failed tasks add to it."""
        p = self.p
        step = p["conflict_rate"] * (self._views()["conflict_target"] - self.conflict)
        np.add(step, p["failure_conflict"], out=step, where=outcome["failed"])
        self.conflict = _clip01(self.conflict + self._where_live(step))

    def update_trust(self, outcome: dict[str, np.ndarray]) -> None:
        """Asymmetric learning from joint acts; erosion by conflict, more so when it is
        handled destructively."""
        p = self.p
        v = self._views()
        spec = p["trust_update"]
        t = self.trust
        q = outcome["quality"]
        # Signal strength on [-1, 1]: how far the act fell short of or beat expectation.
        s = 2.0 * (q - p["expectation"])
        _clip(s, -1.0, 1.0, out=s)
        gain = v["gain"]  # includes crowding out by formal assurance, if chosen
        loss = p["trust_gain"] * (p["trust_asymmetry"] if p["fragile"] in ("trust", "equal")
                                  else 1.0)
        good = s >= 0
        if spec == "asymmetric_ceiling":
            delta = np.where(good, gain * s * (1.0 - t) * (1.0 - self.damage), loss * s * t)
            # Unmet expectations in observed acts deepen the damage (capped at 1).
            hurt = outcome["observed"] & ~good
            np.subtract(self.damage, p["damage_gain"] * s, out=self.damage, where=hurt)
            np.minimum(self.damage, 1.0, out=self.damage, where=hurt)
        elif spec == "expectation_gap":  # linear in the gap, no ceiling or hysteresis
            delta = gain * np.maximum(0.0, s) - loss * np.maximum(0.0, -s)
        else:  # ratchet: never down after a good episode, never up after a bad one
            delta = np.where(good, np.maximum(0.0, gain * (q - t)),
                             np.minimum(0.0, loss * (q - t)))
        self.damage *= 1.0 - p["damage_decay"]
        k = self.conflict
        change = self._where_live(-(p["conflict_trust_erosion"] + v["resolution_harm"]) * k * t)
        np.add(change, delta, out=change, where=outcome["observed"])  # learning if observed
        self.trust = _clip01(t + change)

    def _confidence(self, v: dict[str, np.ndarray] | None = None) -> np.ndarray:
        k = self.p["formal_prior_weight"]
        v = self._views() if v is None else v
        return (self.honoured + v["prior"] + 1.0) / (self.honoured + self.breached + k + 2.0)

    def update_confidence(self) -> None:
        """Beta-reputation evidence that obligations are honoured, with forgetting."""
        v = self._views()
        # honoured = keep * honoured + weight * reciprocated
        # breached = keep * breached + weight * breach weight * (not reciprocated)
        # weight: 1 where the collaboration works, else 0 (formal assurance is the prior);
        # keep: confidence_memory where it works, else 1 (no forgetting).
        evidence = np.concatenate([self.honoured, self.breached]).reshape(2, self.R, self.E)
        evidence *= v["keep"]
        evidence += np.where(self.recip, v["if_honoured"], v["if_breached"])
        self.honoured, self.breached = evidence
        self.confidence = self._confidence(v)

    def _risk_target(self, v: dict[str, np.ndarray] | None = None) -> np.ndarray:
        p = self.p
        v = self._views() if v is None else v
        if p["trust_confidence"] == "substitutes":
            base = np.maximum(self.trust, self.confidence)
        else:
            base = p["trust_weight"] * self.trust + (1.0 - p["trust_weight"]) * self.confidence
        # (1 - finance effect * (1 - finances)) - distress effect * distressed, of the source.
        appetite = v["appetite"] - self._distress_views()["source_risk"]
        return _clip01(base * appetite)

    def update_risk_threshold(self) -> None:
        """The risk threshold follows trust and confidence, discounted by weak finances."""
        step = self.p["risk_rate"] * (self._risk_target() - self.risk)
        self.risk = _clip01(self.risk + self._where_live(step))

    def update_progress_and_faith(self) -> None:
        """Perceived progress follows its drivers and realised effectiveness; faith follows
        progress and trust, lifted by persuasive leaders, moved by the mandate; then the
        ambition of joint aims follows the partners' trust (small wins). Compiled:
        :func:`ioc_sim.kernels.progress_faith` has the equations."""
        p, v = self.p, self._views()
        collab, member, member_count, org, _ = self._pair_means()
        progress, faith = np.empty_like(self.progress), np.empty_like(self.faith)
        # Memberships read by index: any layout of progress and faith is fine here.
        kernels.progress_faith(
            member, member_count, org, self._mem_org, self._mem_collab, self.ctx["ambition"],
            self.eff, v["mpack"], np.ascontiguousarray(self.progress),
            np.ascontiguousarray(self.faith), float(p["effectiveness_feedback"]),
            float(p["progress_rate"]), float(p["faith_rate"]), collab[0], v["working_c_f"],
            float(p["ambition_rate"]), progress, faith)
        self.progress, self.faith = progress, faith

    def produce_performance(self) -> None:
        """Cultural efficacy, organisational efficiency and technological effectiveness turn
        collaborative behaviour into effectiveness, and that into organisational
        performance, net of the costs of collaborating.

        Compiled: :func:`ioc_sim.kernels.mechanisms` and :func:`ioc_sim.kernels.performance`
        have the equations.
        """
        p, st, o, r = self.p, self.st, self.org, self.R
        v = self._views()
        collab, _, _, _, acts = self._pair_means()
        mech = np.empty((r, 3, self.C + 1))  # cultural, organisational, technological
        blend, combined = np.empty((r, self.C + 1, len(COMPONENTS))), np.empty((r, self.C + 1))
        kernels.mechanisms(collab, self.faith, self._mem_collab, v["cpack"], v["working_c_f"],
                           LOADINGS, p["performance_form"] == "multiplicative", mech, blend,
                           combined)
        self.mech = mech
        n = self.N
        self.behaviour, self.output = np.empty((r, n)), np.empty((r, self.C + 1))
        self.benefit, self.cost = np.empty((r, n, len(COMPONENTS))), np.empty((r, n))
        self.quality, self.efficiency = np.empty((r, n)), np.empty((r, n))
        self.access, self.admissions = np.empty((r, n)), np.empty((r, n))
        self.performance = np.empty((r, n))
        kernels.performance(
            collab, acts, v["partners"], blend, combined, float(p["communication_effect"]),
            self.eff, v["lags"], v["engage_c"], v["fading_c"], self.age,
            float(p["integration_cost_months"]), st.mem_org, st.mem_collab,
            float(p["management_cost"]), float(p["integration_cost"]), float(p["benefit_scale"]),
            o["baseline_performance"], p["pressure_effect"] * self._pressure(),
            p["distress_penalty"] * self.distressed,
            float(self.demand_level), 1.0 + 0.2 * self.shock_pressure(),
            float(p["admissions_effect"]), self.behaviour, self.output, self.benefit, self.cost,
            self.quality, self.efficiency, self.access, self.admissions, self.performance)

    def _grow_demand(self) -> None:
        """Emergency demand grows month by month at the current yearly rate."""
        self.demand_level += self.system["demand_growth"] / 12.0

    def update_distress(self) -> None:
        """Entry into special measures when performance is poor; exit after a sustained
        recovery (:func:`ioc_sim.kernels.distress` has the rules)."""
        p = self.p
        distressed = np.empty_like(self.distressed)
        ok_months = np.empty_like(self.ok_months)
        kernels.distress(self.ustate, self.performance,
                         self.distressed, self.ok_months,
                         float(p["distress_entry"]), float(p["distress_entry_rate"]),
                         float(p["distress_exit"]), float(p["distress_exit_months"]),
                         distressed, ok_months)
        self.distressed, self.ok_months = distressed, ok_months

    # ------------------------------------------------------------- read-outs
    def live_collaborations(self) -> np.ndarray:
        """Boolean (R, C) of collaborations forming, active, deepening or dissolving."""
        st = self.status[:, :-1]
        return (st >= FORMING) & (st <= DISSOLVING)


def status_name(code: int) -> str:
    """Name of a collaboration status code."""
    return STAGES[code]
