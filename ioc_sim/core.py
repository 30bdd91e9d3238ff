"""Array core of the model: population, structure, state and the monthly update.

Everything here is plain numpy with a leading *replicate* axis ``R``: state
arrays have shape ``(R, E)`` for ordered pairs (edges), ``(R, M + 1)`` for
memberships (organisation in a collaboration, plus one dummy slot),
``(R, C + 1)`` for collaborations (plus a dummy "no collaboration" slot) and
``(R, N)`` for organisations. :class:`~ioc_sim.model.CollaborationModel`
advances one replicate (``R = 1``) and wraps it in Mesa agents; batch runners
can advance several replicates of one design row together.

The equations are described, with their status (stated by the theory,
implied by it, or our assumption), in ``docs/ODD.md``; the section names
there match the function names here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit

from ioc_sim.context import ORG_TYPES, STATUS, TYPE_NAMES, CollaborationSpec

PLANNED, FORMING, ACTIVE, DEEPENING, DISSOLVING, DISSOLVED = range(6)

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


def draw_population(p: dict[str, Any], organisations: list[dict[str, Any]] | None) -> Population:
    """Draw a synthetic population, keeping any attribute a scenario gives.

    Every attribute is drawn for every organisation in a fixed order from
    ``population_seed`` so that fixing one value never shifts the others.
    """
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
            for key in ORG_ATTRIBUTES:
                if key in o:
                    a[key][i] = o[key]
            if "distressed" in o:
                distressed[i] = o["distressed"]
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


def build_structure(pop: Population, collabs: list[CollaborationSpec], k: int) -> Structure:
    """Link each member to its ``k`` nearest fellow members, in every collaboration.

    A pair in several collaborations is one edge; it works under the deepest
    of them that is live (``cands`` holds them in order of depth).
    """
    xy = np.column_stack([pop.attrs["x"], pop.attrs["y"]])
    n, c_count = pop.n, len(collabs)
    pair_collabs: dict[tuple[int, int], list[int]] = {}
    for c, spec in enumerate(collabs):
        members = np.array(spec.members)
        if len(members) <= k + 1:
            neigh = [[j for j in members if j != i] for i in members]
        else:
            d = np.linalg.norm(xy[members, None, :] - xy[None, members, :], axis=2)
            np.fill_diagonal(d, np.inf)
            order = np.argsort(d, axis=1, kind="stable")[:, :k]
            neigh = [members[row] for row in order]
        for i, row in zip(members, neigh, strict=True):
            for j in row:
                for a, b in ((int(i), int(j)), (int(j), int(i))):
                    lst = pair_collabs.setdefault((a, b), [])
                    if c not in lst:
                        lst.append(c)
    pairs = sorted(pair_collabs)
    e = len(pairs)
    src = np.array([a for a, _ in pairs], dtype=np.intp)
    dst = np.array([b for _, b in pairs], dtype=np.intp)
    position = {pair: i for i, pair in enumerate(pairs)}
    rev = np.array([position[(b, a)] for a, b in pairs], dtype=np.intp)
    width = max((len(v) for v in pair_collabs.values()), default=1)
    cands = np.full((e, width), c_count, dtype=np.intp)
    depth = [spec.contexts["integration_depth"] for spec in collabs]
    for i, pair in enumerate(pairs):
        ordered = sorted(pair_collabs[pair], key=lambda c: (-depth[c], c))
        cands[i, : len(ordered)] = ordered
    mem_org, mem_collab = [], []
    for c, spec in enumerate(collabs):
        for i in spec.members:
            mem_org.append(i)
            mem_collab.append(c)
    m = len(mem_org)
    lookup = np.full((n, c_count + 1), m, dtype=np.intp)
    lookup[mem_org, mem_collab] = np.arange(m)
    culture = pop.attrs["culture"]
    compat = 1.0 - np.abs(culture[src] - culture[dst]) if e else np.zeros(0)
    return Structure(n, collabs, src, dst, rev, cands, np.array(mem_org, dtype=np.intp),
                     np.array(mem_collab, dtype=np.intp), lookup, compat)


class _Groups:
    """Fast grouped means over the last axis of ``(R, X)`` arrays via bincount."""

    def __init__(self, r: int, index: np.ndarray, size: int):
        self.r, self.size = r, size
        self.set(index)

    def set(self, index: np.ndarray) -> None:
        index = np.broadcast_to(index, (self.r, index.shape[-1]))
        self.flat = (index + (np.arange(self.r) * self.size)[:, None]).ravel()
        self.count = np.bincount(self.flat, minlength=self.r * self.size).reshape(self.r,
                                                                                 self.size)
        self.safe = np.maximum(self.count, 1)

    def sum(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.flat, weights=values.ravel(),
                           minlength=self.r * self.size).reshape(self.r, self.size)

    def mean(self, values: np.ndarray) -> np.ndarray:
        return self.sum(values) / self.safe


class Simulation:
    """State and monthly update of ``R`` replicates of one system.

    Args:
        params: Validated parameter values (every declared name).
        pop: The organisations.
        collabs: Resolved collaborations (including scheduled mergers).
        events: Normalised events, sorted by month.
        rngs: One numpy Generator per replicate; all dynamic randomness
            comes from these, drawn in the same order whatever ``R`` is,
            so a replicate run alone gives the same numbers as in a batch.
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

        # Organisation attributes (events may change them; shared by replicates).
        self.org = {k: v.astype(float).copy() for k, v in pop.attrs.items()}
        # System contexts (deterministic in time, shared by replicates).
        self.system = {k: float(p[k]) for k in ("competition", "regulator_trust", "data_sharing",
                                                 "resource_pressure", "demand_growth")}
        self.shocks: list[tuple[int, float, float, float]] = []
        # Collaboration contexts (R, C + 1); the last slot is "no collaboration".
        self.ctx: dict[str, np.ndarray] = {}
        for name in collabs[0].contexts if collabs else ():
            col = np.array([cs.contexts[name] for cs in collabs] + [0.0])
            self.ctx[name] = np.tile(col, (r, 1))
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
        self._refresh_collab_statics()

        for ev in [ev for ev in events if ev["month"] == 0]:
            self.apply_event(ev)
        self._start_due()
        self._assign_edges()
        self._initialise_relations()
        self.produce_performance()

    # ------------------------------------------------------------------ setup
    def _refresh_collab_statics(self) -> None:
        """Member means of organisation attributes, per collaboration."""
        st, o = self.st, self.org
        mean = self.by_collab_mem.mean
        org_of = st.mem_org
        self.c_capacity = mean(o["capacity"][org_of][None, :])
        self.c_digital = mean(o["digital_maturity"][org_of][None, :])
        self.c_persuasion = mean(o["persuasiveness"][org_of][None, :])
        lead = 0.5 * (o["vulnerability"] + o["persuasiveness"])
        self.c_leadership = mean(lead[org_of][None, :])
        self.c_resolution = mean(0.5 * (o["resolution_style"][org_of][None, :] + 1.0))

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
        st = self.st
        live = (self.status >= FORMING) & (self.status <= DISSOLVING)
        live[:, self.C] = True  # the padding slot always "wins" last
        cand_live = np.take_along_axis(live[:, None, :].repeat(self.E, 1), st.cands[None], 2) \
            if self.E else np.zeros((self.R, 0, 1), dtype=bool)
        first = cand_live.argmax(axis=2) if self.E else np.zeros((self.R, 0), dtype=np.intp)
        self.edge_collab = np.take_along_axis(np.broadcast_to(st.cands, (self.R, *st.cands.shape)),
                                              first[..., None], 2)[..., 0]
        self.edge_mem = st.mem_lookup[st.src[None, :], self.edge_collab]
        self.by_mem = _Groups(self.R, self.edge_mem, self.M + 1)
        self.by_collab_edge = _Groups(self.R, self.edge_collab, self.C + 1)
        self._ridx = np.arange(self.R)[:, None]

    def _gather(self, name: str) -> np.ndarray:
        """A collaboration context as seen by each edge, shape (R, E)."""
        return self.ctx[name][self._ridx, self.edge_collab]

    def _formal_assurance(self) -> np.ndarray:
        """Prior evidence that partners are obliged to act (mandate, depth, contract)."""
        p, ctx = self.p, self.ctx
        base = (ctx["mandate"] + ctx["integration_depth"] + ctx["formalisation"]) / 3.0
        return base * (1.0 - p["regulator_weight"] * (1.0 - self.system["regulator_trust"]))

    def _initialise_relations(self) -> None:
        """Initial trust, confidence, risk threshold, conflict, faith and progress."""
        p, st, r = self.p, self.st, self.R
        first = st.cands[:, 0] if self.E else np.zeros(0, dtype=np.intp)
        hist = self.ctx["history"][:, first]
        formal = self.ctx["formalisation"][:, first]
        self.trust = np.clip(p["initial_trust"] + p["history_trust_effect"] * hist
                             + p["formal_trust_effect"] * formal, 0.0, 1.0)
        saved = self.edge_collab
        self.edge_collab = np.broadcast_to(first, (r, self.E)).copy()
        self.conflict = self._conflict_target()
        self.confidence = self._confidence()
        self.risk = self._risk_target()
        self.edge_collab = saved
        mh = self.ctx["history"][:, np.append(st.mem_collab, self.C)]
        self.faith = np.clip(p["initial_faith"] + 0.2 * mh, 0.0, 1.0)
        self.progress = np.full((r, self.M + 1), 0.5)
        self.progress[:, self.M] = 0.0
        self.faith[:, self.M] = 0.0

    # -------------------------------------------------------------- the month
    def step(self) -> None:
        """Advance every replicate by one month."""
        self.month += 1
        self.apply_scheduled_changes()
        self.review_collaborations()
        self.choose_acts()
        outcome = self.exchange()
        self.update_conflict(outcome)
        self.update_trust(outcome)
        self.update_confidence()
        self.update_risk_threshold()
        self.update_progress_and_faith()
        self.produce_performance()
        self.update_distress()

    def apply_scheduled_changes(self) -> None:
        for ev in self.events:
            if ev["month"] == self.month:
                self.apply_event(ev)
            elif ev["kind"] == "support" and ev.get("until") == self.month:
                c = self._collab_index(ev["collaboration"])
                self.ctx["support"][:, c] = ev["_previous"]

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
        if kind == "set":
            target, fld, value = ev["target"], ev["field"], ev["value"]
            if target == "system":
                self.system[fld] = value
            elif isinstance(target, int):
                self.org[fld][target] = value
                self._refresh_collab_statics()
            else:
                self.ctx[fld][:, self._collab_index(target)] = value
        elif kind == "regime_switch":
            self.system["competition"] = ev["competition"]
        elif kind == "shock":
            self.shocks.append((ev["month"], ev["magnitude"], ev["half_life"], ev["pressure"]))
        elif kind == "support":
            c = self._collab_index(ev["collaboration"])
            ev["_previous"] = self.ctx["support"][:, c].copy()
            self.ctx["support"][:, c] = ev["level"]
        elif kind == "leadership_turnover":
            i = ev["organisation"]
            for key, mean in (("vulnerability", "leader_vulnerability"),
                              ("persuasiveness", "leader_persuasiveness")):
                self.org[key][i] = ev.get(key, self.p[mean])
            self._refresh_collab_statics()
            touched = (self.st.src == i) | (self.st.dst == i)
            loss = self.p["turnover_trust_loss"]
            self.trust[:, touched] += loss * (self.p["initial_trust"] - self.trust[:, touched])
            self.damage[:, touched] *= 1.0 - loss
        elif kind == "merger":
            a, b = ev["organisations"]
            self.merged_into[b] = a

    def review_collaborations(self) -> None:
        """Lifecycle: planned -> forming -> active <-> deepening -> dissolving -> dissolved."""
        p = self.p
        changed = self._start_due()
        st = self.status
        live = (st >= FORMING) & (st <= DISSOLVING)
        self.age[live] += 1.0
        grown = (st == FORMING) & (self.age >= p["formation_months"])
        st[grown] = ACTIVE
        faith_c = self.by_collab_mem.mean(self.faith[:, :-1])
        trust_c = self.by_collab_edge.mean(self.trust)
        working = (st == ACTIVE) | (st == DEEPENING)
        low = working & (faith_c < p["dissolve_threshold"])
        self.below = np.where(low, self.below + 1, 0)
        voluntary = self.ctx["mandate"] < 0.5
        quit_ = working & voluntary & (self.below >= p["dissolve_patience"])
        deep = working & ~quit_ & (trust_c > p["deepen_threshold"]) & \
            (faith_c > p["deepen_threshold"])
        st[working & ~quit_] = ACTIVE
        st[deep] = DEEPENING
        depth = self.ctx["integration_depth"]
        depth[deep] = np.minimum(1.0, depth[deep] + p["deepen_rate"])
        ending = st == DISSOLVING
        self.left[ending] -= 1
        ended = ending & (self.left <= 0)
        st[quit_] = DISSOLVING
        self.left[quit_] = p["dissolving_months"]
        if ended.any():
            st[ended] = DISSOLVED
            # An improper ending scars the pairs involved (path dependence).
            self.scar = np.maximum(self.scar, ended[self._ridx, self.edge_collab])
            changed = True
        if changed:
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
        p = self.p
        depth = self._gather("integration_depth")
        exposure = p["exposure_scale"] * 0.5 * (depth + self._gather("ambition"))
        if p["gate_softness"] > 0:
            gate = expit((self.risk - exposure) / p["gate_softness"])
        else:
            gate = (self.risk >= exposure).astype(float)
        faith = self.faith[self._ridx, self.edge_mem]
        shock = self.shock_level()
        barrier = 1.0 - p["competition_effect"] * self.system["competition"] * (1.0 - shock)
        intensity = self._intensity()[self._ridx, self.edge_collab]
        prob = intensity * ((1.0 - depth) * faith + depth * gate * 0.5 * (1.0 + faith)) * barrier
        prob = np.minimum(1.0, prob + p["shock_boost"] * shock * (intensity > 0))
        self.act_prob = prob
        self.act = self._uniform() < prob
        self.recip = self.act[:, self.st.rev]

    def _uniform(self) -> np.ndarray:
        return np.stack([g.random(self.E) for g in self.rngs])

    def _normal(self) -> np.ndarray:
        return np.stack([g.standard_normal(self.E) for g in self.rngs])

    def exchange(self) -> dict[str, np.ndarray]:
        """Quality of each joint act; a partner that does not reciprocate is a breach."""
        p, o, st = self.p, self.org, self.st
        drivers = (
            o["capacity"][st.dst]
            + st.compat
            + self._gather("accountability")
            + self.system["data_sharing"]
            + (1.0 - self.distressed[:, st.dst])
            + self._gather("support")
            + (1.0 - self._pressure())
        ) / 7.0
        mean_quality = expit(p["success_slope"] * (drivers - 0.5) * 2.0)
        quality = np.clip(mean_quality + p["outcome_noise"] * self._normal(), 0.0, 1.0)
        joint = self.act & self.recip
        seen = np.where(joint, quality, p["expectation"] - p["breach_signal"])
        failed = joint & (quality < p["expectation"])
        return {"observed": self.act, "quality": seen, "failed": failed}

    def _pressure(self) -> float:
        return min(1.0, self.system["resource_pressure"] + self.shock_pressure())

    def _conflict_target(self) -> np.ndarray:
        p, st = self.p, self.st
        hist = self._gather("history")
        bad_history = np.maximum(np.maximum(-hist, 0.0), self.scar)
        drivers = (
            (1.0 - self._gather("accountability"))
            + (1.0 - self._gather("pace"))
            + (1.0 - st.compat)
            + (1.0 - self._gather("shared_vision"))
            + bad_history
            + self._gather("power_asymmetry")
        ) / 6.0
        return p["conflict_slope"] * drivers

    def _live_edges(self) -> np.ndarray:
        return self.edge_collab < self.C

    def update_conflict(self, outcome: dict[str, np.ndarray]) -> None:
        """Conflict moves toward what its contexts imply; failed tasks add to it."""
        p = self.p
        live = self._live_edges()
        step = p["conflict_rate"] * (self._conflict_target() - self.conflict)
        step += p["failure_conflict"] * outcome["failed"]
        self.conflict = np.clip(self.conflict + np.where(live, step, 0.0), 0.0, 1.0)

    def update_trust(self, outcome: dict[str, np.ndarray]) -> None:
        """Asymmetric learning from joint acts, erosion by conflict, repair by resolution."""
        p, o, st = self.p, self.org, self.st
        spec = p["trust_update"]
        t = self.trust
        q = outcome["quality"]
        # Signal strength on [-1, 1]: how far the act fell short of or beat expectation.
        s = np.clip(2.0 * (q - p["expectation"]), -1.0, 1.0)
        gain = p["trust_gain"] * (1.0 + p["vulnerability_effect"] * (o["vulnerability"][st.dst]
                                                                     - 0.5))
        if p["trust_confidence"] == "crowding_out":
            gain = gain * (1.0 - p["crowding"] * self._formal_assurance()[self._ridx,
                                                                          self.edge_collab])
        loss = p["trust_gain"] * (p["trust_asymmetry"] if p["fragile"] in ("trust", "equal")
                                  else 1.0)
        good = s >= 0
        if spec == "asymmetric_ceiling":
            delta = np.where(good, gain * s * (1.0 - t) * (1.0 - self.damage), loss * s * t)
            self.damage = np.where(outcome["observed"] & ~good,
                                   np.minimum(1.0, self.damage - p["damage_gain"] * s),
                                   self.damage)
        elif spec == "expectation_gap":
            delta = gain * np.maximum(0.0, q - t) - loss * np.maximum(0.0, t - q)
        else:  # ratchet: never down after a good episode, never up after a bad one
            delta = np.where(good, np.maximum(0.0, gain * (q - t)),
                             np.minimum(0.0, loss * (q - t)))
        delta = np.where(outcome["observed"], delta, 0.0)
        self.damage *= 1.0 - p["damage_decay"]
        k = self.conflict
        style = 0.5 * (o["resolution_style"][st.src] + o["resolution_style"][st.dst])
        drift = -p["conflict_trust_erosion"] * k * t + p["resolution_effect"] * style * k
        delta += np.where(self._live_edges(), drift, 0.0)
        self.trust = np.clip(t + delta, 0.0, 1.0)

    def _confidence(self) -> np.ndarray:
        k = self.p["formal_prior_weight"]
        prior = self._formal_assurance()[self._ridx, self.edge_collab]
        return (self.honoured + k * prior + 1.0) / (self.honoured + self.breached + k + 2.0)

    def update_confidence(self) -> None:
        """Beta-reputation evidence that obligations are honoured, with forgetting."""
        p = self.p
        obliged = np.maximum(self._gather("formalisation"), self._gather("mandate"))
        working = self._intensity()[self._ridx, self.edge_collab] > 0
        weight = np.where(working, obliged, 0.0)
        breach_weight = p["trust_asymmetry"] if p["fragile"] in ("confidence", "equal") else 1.0
        keep = np.where(working, p["confidence_memory"], 1.0)
        self.honoured = keep * self.honoured + weight * self.recip
        self.breached = keep * self.breached + weight * breach_weight * ~self.recip
        self.confidence = self._confidence()

    def _risk_target(self) -> np.ndarray:
        p, o, st = self.p, self.org, self.st
        if p["trust_confidence"] == "substitutes":
            base = np.maximum(self.trust, self.confidence)
        else:
            base = p["trust_weight"] * self.trust + (1.0 - p["trust_weight"]) * self.confidence
        appetite = (1.0 - p["finance_risk_effect"] * (1.0 - o["finances"][st.src])
                    - p["distress_risk_effect"] * self.distressed[:, st.src])
        return np.clip(base * appetite, 0.0, 1.0)

    def update_risk_threshold(self) -> None:
        """The risk threshold follows trust and confidence, discounted by weak finances."""
        live = self._live_edges()
        step = self.p["risk_rate"] * (self._risk_target() - self.risk)
        self.risk = np.clip(self.risk + np.where(live, step, 0.0), 0.0, 1.0)

    def update_progress_and_faith(self) -> None:
        """Perceived progress follows its drivers and realised effectiveness; faith follows
        progress and trust, lifted by persuasive leaders, moved by the mandate."""
        p, st, o = self.p, self.st, self.org
        mc = np.append(st.mem_collab, self.C)
        mo = np.append(st.mem_org, 0)
        trust_m = self.by_mem.mean(self.trust)
        conflict_m = self.by_mem.mean(self.conflict)
        ctx = self.ctx
        drivers = (
            ctx["role_clarity"][:, mc] + ctx["evaluation"][:, mc] + o["flexibility"][mo]
            + trust_m + ctx["ambition"][:, mc] + ctx["actors_present"][:, mc]
            + o["workforce_stability"][mo] + (1.0 - o["intra_conflict"][mo])
        ) / 8.0
        eff = self.eff.mean(axis=2)[:, mc]
        w = p["effectiveness_feedback"]
        target_p = (1.0 - w) * drivers + w * eff
        repair = p["resolution_effect"] * o["resolution_style"][mo] * conflict_m
        sign = {"raises": 1.0, "lowers": -1.0, "neutral": 0.0}[p["mandate_faith"]]
        target_f = (0.5 * (self.progress + trust_m)
                    + p["persuasion_effect"] * (self.c_persuasion[:, mc] - 0.5)
                    + sign * p["mandate_faith_effect"] * ctx["mandate"][:, mc])
        live = self._intensity()[:, mc] > 0
        live[:, -1] = False
        self.progress = np.clip(self.progress + np.where(
            live, p["progress_rate"] * (target_p - self.progress) + repair, 0.0), 0.0, 1.0)
        self.faith = np.clip(self.faith + np.where(
            live, p["faith_rate"] * (target_f - self.faith) + repair, 0.0), 0.0, 1.0)
        # Small wins: the ambition of joint aims follows the partners' trust.
        trust_c = self.by_collab_edge.mean(self.trust)
        working = self._intensity() > 0
        amb = ctx["ambition"]
        amb += np.where(working, p["ambition_rate"] * (trust_c - amb), 0.0)

    def produce_performance(self) -> None:
        """Cultural efficacy, organisational efficiency and technological effectiveness turn
        collaborative behaviour into effectiveness, and that into organisational
        performance, net of the costs of collaborating."""
        p, st, o, ctx = self.p, self.st, self.org, self.ctx
        r = self.R
        live = self._live_edges()
        acts = self.act & live
        self.behaviour = self.by_org_edges.sum(acts) / np.maximum(
            self.by_org_edges.sum(live), 1.0)
        behaviour_c = self.by_collab_edge.mean(acts)
        trust_c = self.by_collab_edge.mean(self.trust)
        conflict_c = self.by_collab_edge.mean(self.conflict)
        conf_c = self.by_collab_edge.mean(self.confidence)
        compat_c = self.by_collab_edge.mean(np.broadcast_to(st.compat, (r, self.E)))
        faith_c = self.by_collab_mem.mean(self.faith[:, :-1])
        cultural = (trust_c + faith_c + compat_c + self.c_leadership + (1.0 - conflict_c)
                    + self.c_resolution) / 6.0
        organisational = (ctx["accountability"] + ctx["role_clarity"] + ctx["formalisation"]
                          + self.c_capacity + ctx["pace"] + conf_c) / 6.0
        technological = (self.system["data_sharing"] + self.c_digital
                         + ctx["integration_depth"]) / 3.0
        mech = np.stack([cultural, organisational, technological], axis=1)  # (R, 3, C+1)
        intensity = self._intensity()
        mech *= (intensity > 0)[:, None, :]
        self.mech = mech
        if p["performance_form"] == "multiplicative":
            blend = np.exp(np.einsum("km,rmc->rck", LOADINGS, np.log(np.maximum(mech, 1e-9))))
            combined = np.cbrt(mech.prod(axis=1))
        else:
            blend = np.einsum("km,rmc->rck", LOADINGS, mech)
            combined = mech.mean(axis=1)
        self.output = behaviour_c * combined
        target = behaviour_c[..., None] * blend
        self.eff += (target - self.eff) / self.lags
        # Organisations gain the effectiveness of the collaborations they belong to.
        mem_eff = self.eff[:, st.mem_collab, :]
        self.benefit = np.minimum(1.0, np.stack(
            [self.by_org_mem.sum(mem_eff[..., k]) for k in range(len(COMPONENTS))], axis=2))
        mc = st.mem_collab
        engage = behaviour_c[:, mc] * (0.5 + 0.5 * ctx["integration_depth"][:, mc])
        fading = (intensity[:, mc] > 0) * ctx["integration_depth"][:, mc] * np.exp(
            -self.age[:, mc] / p["integration_cost_months"])
        self.cost = (p["management_cost"] * self.by_org_mem.sum(engage)
                     + p["integration_cost"] * self.by_org_mem.sum(fading))
        b = self.benefit
        base = o["baseline_performance"][None, :]
        penalty = p["distress_penalty"] * self.distressed
        scale = p["benefit_scale"]
        self.quality = np.clip(base + scale * (b[..., 0] + b[..., 2] + b[..., 4]) / 3.0
                               - penalty, 0.0, 1.0)
        self.efficiency = np.clip(base + scale * (b[..., 1] + b[..., 3]) / 2.0 - self.cost
                                  - penalty, 0.0, 1.0)
        self.access = np.clip(base + scale * (b[..., 4] + b[..., 3]) / 2.0
                              - p["pressure_effect"] * self._pressure() - penalty, 0.0, 1.0)
        growth = 1.0 + self.system["demand_growth"] * self.month / 12.0
        self.admissions = growth * (1.0 - p["admissions_effect"] * b[..., 4]) * (
            1.0 + 0.2 * self.shock_pressure())
        self.performance = (self.quality + self.efficiency + self.access) / 3.0

    def update_distress(self) -> None:
        """Entry into special measures when performance is poor; exit after a sustained
        recovery."""
        p = self.p
        u = np.stack([g.random(self.N) for g in self.rngs])
        poor = self.performance < p["distress_entry"]
        enter = ~self.distressed & poor & (u < p["distress_entry_rate"])
        good = self.performance > p["distress_exit"]
        self.ok_months = np.where(self.distressed & good, self.ok_months + 1, 0)
        leave = self.distressed & (self.ok_months >= p["distress_exit_months"])
        self.distressed = (self.distressed | enter) & ~leave
        self.ok_months[leave] = 0

    # ------------------------------------------------------------- read-outs
    def live_collaborations(self) -> np.ndarray:
        """Boolean (R, C) of collaborations forming, active, deepening or dissolving."""
        st = self.status[:, :-1]
        return (st >= FORMING) & (st <= DISSOLVING)


def status_name(code: int) -> str:
    """Name of a collaboration status code."""
    return next(k for k, v in STATUS.items() if v == code)
