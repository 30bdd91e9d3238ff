"""The state of ``R`` replicates of one system and their monthly cycle.

State is held in numpy arrays with a leading *replicate* axis ``R``: state
arrays have shape ``(R, E)`` for ordered pairs (one relationship each),
``(R, T)`` for ties (a pair in one collaboration: the unit of joint work),
``(R, M + 1)`` for memberships (organisation in a collaboration, plus one dummy
slot), ``(R, C + 1)`` for collaborations (plus a dummy "no collaboration" slot)
and ``(R, N)`` for organisations. :class:`~ioc_sim.model.CollaborationModel`
advances one replicate (``R = 1``) and wraps it in Mesa agents; batch runners
can advance several replicates of one design row together.

The equations are described, with their status (stated by the theory,
implied by it, or our assumption), in ``docs/ODD.md``; :meth:`Simulation.step`
runs its phases (section 3.1) by the names used there. Each phase runs in a
compiled kernel (:mod:`ioc_sim.engine.kernels`); the pairs' phases also have a
readable numpy version (:mod:`ioc_sim.engine.reference`), which the tests
compare with the kernels bit for bit.

What happens to collaborations (started, deepened, quit, wound down, ended,
completed by a merger) and to organisations (entered or left special measures,
merged) is logged as it happens (:attr:`Simulation.collab_log`,
:attr:`Simulation.org_log`); :mod:`ioc_sim.model.outputs` turns the logs into
tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ioc_sim.engine import kernels
from ioc_sim.engine.consolidation import Consolidation
from ioc_sim.engine.effectiveness import BACK_OFFICE, COMPONENTS
from ioc_sim.engine.organisations import OrganisationPhases
from ioc_sim.engine.population import Population
from ioc_sim.engine.relations import StartingRelations
from ioc_sim.engine.schedule import ScheduledChanges
from ioc_sim.engine.stages import (
    ACTIVE,
    DISSOLVED,
    DISSOLVING,
    FORMING,
    IMPROPER,
    IN_AT_START,
    PLANNED,
    STARTED,
)
from ioc_sim.engine.streams import open_streams
from ioc_sim.engine.structure import Groups, build_structure
from ioc_sim.engine.views import SimulationViews, clip01
from ioc_sim.spec.contexts import CollaborationSpec
from ioc_sim.spec.forms import SYSTEM_FIELDS


class Simulation(
    StartingRelations, ScheduledChanges, Consolidation, OrganisationPhases, SimulationViews
):
    """State and monthly update of ``R`` replicates of one system.

    Scheduled changes (events, support windows, shocks) come from
    :class:`~ioc_sim.engine.schedule.ScheduledChanges`, mergers from
    :class:`~ioc_sim.engine.consolidation.Consolidation`, and the quantities that
    change only with contexts and parameters are cached by
    :class:`~ioc_sim.engine.views.SimulationViews`.

    Args:
        params: Validated parameter values (every declared name).
        pop: The organisations.
        collabs: Resolved collaborations.
        events: Normalised events, sorted by month.
        rngs: One numpy Generator per replicate. Each seeds two SFC64 streams
            of its own (:mod:`ioc_sim.engine.streams`): uniforms (the lifecycle's
            chances, acts, the regulator's inspections), stepped by the kernels, and
            standard normals (the outcome noise of joint acts, then the shocks to
            underlying performance), drawn ahead by numpy. All dynamic randomness
            comes from these, drawn in the same order whatever ``R`` is, so a
            replicate run alone gives the same numbers as in a batch; the generators
            themselves are not drawn from.

    Attributes:
        collab_log: ``(replicate, month, collaboration, code)`` for every event of a
            collaboration's life (codes of :mod:`ioc_sim.engine.kernels.collaborations`:
            started, deepened, quit, ended; and wound down, completed by a merger).
        org_log: ``(replicate, month, organisation, code, other)`` for every entry
            into and exit from special measures and every merger (``other`` is the merger's
            partner, or -1; codes of :mod:`ioc_sim.engine.stages`).
    """

    def __init__(
        self,
        params: dict[str, Any],
        pop: Population,
        collabs: list[CollaborationSpec],
        events: list[dict[str, Any]],
        rngs: list[np.random.Generator],
    ):
        self.p = p = dict(params)
        self.pop = pop
        self.rngs = rngs
        self.R = len(rngs)
        self.month = 0
        self.events = events
        self.st = build_structure(pop, collabs, p["partners_per_org"])
        self.N, self.C = self.st.n, self.st.n_collabs
        # At most a normal per tie a month (mergers only remove ties, so the first structure
        # bounds them); fortunes: one per collaboration and one per organisation.
        self.ustate, self.noise, self.fortunes = open_streams(rngs, self.st.n_ties, self.C + self.N)
        self.collab_log: list[tuple[int, int, int, int]] = []
        self.org_log: list[tuple[int, int, int, int, int]] = []
        self._init_contexts(collabs)
        self._init_state()
        self._init_caches()
        self._install_structure()
        self._init_month_zero()

    # ------------------------------------------------------------------ setup
    def _init_contexts(self, collabs: list[CollaborationSpec]) -> None:
        """Organisation attributes, system and collaboration contexts, and the
        collaborations' start months."""
        p, pop, r, c = self.p, self.pop, self.R, self.C
        # Organisation attributes (events and mergers may change them; shared by
        # replicates).
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
            amb += (
                p["history_ambition_effect"] * self.ctx["history"]
                + p["formal_ambition_effect"] * self.ctx["formalisation"]
            )
            clip01(amb)
            amb[:, c] = 0.0
        self.start = np.array([cs.start for cs in collabs] + [10**9])
        # Support windows: the latest-started open window sets a collaboration's support;
        # with none open it returns to its own level (set events change that level).
        self._support_base = self.ctx["support"].copy() if collabs else np.zeros((r, 1))
        self._support_windows: list[tuple[int, int, int, float]] = []

    def _init_state(self) -> None:
        """The collaborations' and organisations' state before month 0 is set up:
        collaborations planned, nobody merged, no fluctuation or improvement yet
        (pairs, ties and memberships come with the structure, :meth:`_install_structure`;
        relations in :meth:`_initialise_relations`)."""
        r, n, c = self.R, self.N, self.C
        self.status = np.full((r, c + 1), PLANNED, dtype=np.int8)
        self.status[:, c] = DISSOLVED
        self.age = np.zeros((r, c + 1))
        self.below = np.zeros((r, c + 1), dtype=np.int32)
        self.ready = np.zeros((r, c + 1), dtype=np.int32)
        self.left = np.zeros((r, c + 1), dtype=np.int32)
        self.ending = np.zeros((r, c + 1), dtype=np.int8)
        self.pending = np.zeros((r, c + 1))  # depth still to integrate
        self.embedded = np.zeros((r, c + 1))  # practice embedded while support lasted
        self.results = np.zeros((r, c + 1))  # visible results of the joint projects
        self.eff = np.zeros((r, c + 1, len(COMPONENTS)))
        self.mech = np.zeros((r, 3, c + 1))
        self.output = np.zeros((r, c + 1))
        # Organisations: who is still in being (mergers absorb), special measures, the
        # regulator's view, and the course of underlying performance.
        self.alive = np.ones(n, dtype=bool)
        self.merged_into = np.full(n, -1)
        self.distressed = np.tile(self.pop.distressed, (r, 1))
        self.ok_months = np.zeros((r, n), dtype=np.int32)
        self.rating = np.zeros((r, n))
        self.deviation = np.zeros((r, n))
        self.improvement = np.zeros((r, n))
        self.embedded_improvement = np.zeros((r, n))
        self.attention = np.ones((r, n))
        self.merger_efficiency = np.zeros((r, n))
        self.merger_service = np.zeros((r, n))
        self.behaviour = np.zeros((r, n))
        self.cost = np.zeros((r, n))
        zeros = np.zeros((r, n))
        self.quality, self.efficiency, self.access = zeros.copy(), zeros.copy(), zeros.copy()
        self.admissions = np.ones((r, n))
        self.benefit = np.zeros((r, n, len(COMPONENTS)))
        for rep, i in zip(*np.nonzero(self.distressed), strict=True):
            self.org_log.append((int(rep), 0, int(i), IN_AT_START, -1))

    def _init_caches(self) -> None:
        """What does not depend on who works with whom: benefit lags, replicate rows,
        and the caches of :mod:`ioc_sim.engine.views`."""
        p, r = self.p, self.R
        self.lags = np.where(
            BACK_OFFICE, p["benefit_lag"], p["benefit_lag"] * p["service_lag_ratio"]
        )
        self._ridx = np.arange(r)[:, None]
        # Counters of changes to organisation attributes and to the assignment of pairs:
        # part of the views' keys.
        self._org_version = 0
        self._assignment = 0
        self._view: dict[str, np.ndarray] = {}
        self._view_key: tuple | None = None
        self._view_built: tuple[str, ...] = ()  # the names the last full build made
        self._memo: dict[str, Any] = {}
        self._packs: dict[str, np.ndarray] = {}
        self._params_key: tuple | None = None

    def _install_structure(self) -> None:
        """Grouped sums and gather positions of the current structure (again after a
        merger changes it), and the per-pair and per-tie state it sizes, where
        missing."""
        st, r, n, c = self.st, self.R, self.N, self.C
        self.E, self.M, self.T = st.n_edges, st.n_members, st.n_ties
        tie_src = st.src[st.tie_pair]
        self.by_org_ties = Groups(r, tie_src, n)
        self.by_collab_tie = Groups(r, st.tie_collab, c + 1)
        self.by_collab_mem = Groups(r, st.mem_collab, c + 1)
        self.by_org_mem = Groups(r, st.mem_org, n)
        self._incompat = 1.0 - st.compat
        self._mem_collab = np.append(st.mem_collab, c)  # membership -> collaboration, + dummy
        self._mem_org = np.append(st.mem_org, 0)
        self._member_slot = (self._mem_collab + self._ridx * (c + 1)).ravel()
        # A membership without ties reads its organisation's relations with all partners.
        self._alone_members = bool((np.bincount(st.tie_mem, minlength=self.M) == 0).any())
        # Each organisation's incoming ties (partners' acts toward it), in tie order.
        self._in_ties = np.argsort(st.dst[st.tie_pair], kind="stable").astype(np.intp)
        self._in_start = np.searchsorted(
            st.dst[st.tie_pair][self._in_ties], np.arange(n + 1)
        ).astype(np.intp)
        for name in ("scar", "damage", "honoured", "breached"):
            if getattr(self, name, None) is None or getattr(self, name).shape[1] != self.E:
                setattr(self, name, np.zeros((r, self.E)))
        if getattr(self, "first_month", None) is None or self.first_month.shape[1] != self.E:
            self.first_month = np.full((r, self.E), -1, dtype=np.int32)
        self.act = np.zeros((r, self.T), dtype=bool)
        self.recip = np.zeros((r, self.T), dtype=bool)
        self._refresh_collab_statics()
        self._view, self._view_key = {}, None

    def _init_month_zero(self) -> None:
        """Month 0 (``docs/ODD.md`` section 3.2): its events, the collaborations that
        start, the pairs' assignment, relations, a first performance, and the
        regulator's first view."""
        # Month-0 events shape the starting contexts; leadership changes act on relations,
        # so they wait until relations exist.
        at_start = [ev for ev in self.events if ev["month"] == 0]
        for ev in at_start:
            if ev["kind"] not in ("leadership_turnover", "merger"):
                self.apply_event(ev)
        self._start_due()
        self._assign_edges()
        self._initialise_relations()
        for ev in at_start:
            if ev["kind"] in ("leadership_turnover", "merger"):
                self.apply_event(ev)
        self._refresh_views()
        self.produce_performance()
        w = self.p["finance_weight"]
        self.rating = (1.0 - w) * self.performance + w * self.org["finances"]

    def _start_due(self) -> bool:
        """Start the collaborations due by now (forming, or active without a formation
        period) at age 0; whether any started."""
        due = (self.status == PLANNED) & (self.start[None, :] <= self.month)
        if not due.any():
            return False
        formed = FORMING if self.p["formation_months"] > 0 else ACTIVE
        self.status[due] = formed
        self.age[due] = 0.0
        self.pending[due] = self.ctx["integration_depth"][due]
        for rep, c in zip(*np.nonzero(due), strict=True):
            self.collab_log.append((int(rep), self.month, int(c), STARTED))
        return True

    def _assign_edges(self) -> None:
        """Give every pair the deepest live collaboration it shares: its relationship
        takes its contexts from it (a pair with none keeps its relationship as it is).
        A pair's relationship dates from the first month it had one."""
        st, r, e = self.st, self.R, self.E
        live = (self.status >= FORMING) & (self.status <= DISSOLVING)
        live[:, self.C] = True  # the padding slot always "wins" last
        first = live[:, st.cands].argmax(axis=2) if e else np.zeros((r, 0), dtype=np.intp)
        self.edge_collab = (
            st.cands[np.arange(e)[None, :], first] if e else np.zeros((r, 0), dtype=np.intp)
        )
        self.edge_mem = st.mem_lookup[st.src[None, :], self.edge_collab]
        new = (self.first_month < 0) & (self.edge_collab < self.C)
        self.first_month[new] = self.month
        # Flat positions of each pair's collaboration and membership, for one-call gathers.
        self._pair_slot = (self.edge_collab + self._ridx * (self.C + 1)).ravel()
        self._pair_mem_slot = (self.edge_mem + self._ridx * (self.M + 1)).ravel()
        self._assignment += 1

    # -------------------------------------------------------------- the month
    def step(self) -> None:
        """Advance every replicate by one month: the phases of ``docs/ODD.md``
        section 3.1, in order."""
        self.start_month()
        self.apply_scheduled_changes()  # 1
        self.review_collaborations()  # 2
        self.choose_acts()  # 3
        self.update_relations()  # 4-8
        self.update_progress_and_faith()  # 9
        self.grow_demand()  # 10
        self.produce_performance()  # 11
        self.embed_practice()  # 12
        self.regulate()  # 13

    def start_month(self) -> None:
        """Count the new month, and forget what was kept from the last one: the state
        may have been edited since."""
        self.month += 1
        self._memo.clear()

    def review_collaborations(self) -> None:
        """Lifecycle: planned -> forming -> active <-> deepening -> dissolving -> dissolved.

        Compiled: :func:`ioc_sim.engine.kernels.collaborations.review` has the rules.
        Age first, then start what is due: a collaboration starting this month is
        forming at age 0, as one that starts at month 0 is in the initial state.
        """
        for name in ("age", "below", "ready", "left", "pending"):  # updated in place
            a = getattr(self, name)
            if not a.flags.c_contiguous or not a.flags.writeable:
                setattr(self, name, np.ascontiguousarray(a).copy())
        ended = np.empty(self.status.shape, dtype=bool)
        events = np.empty(self.status.shape, dtype=np.int8)
        support = np.maximum(self.ctx["support"], self.embedded)
        st = self.st
        changed = kernels.review(
            self.month,
            self.start,
            self.ustate,
            self.status,
            self.age,
            self.below,
            self.ready,
            self.left,
            self.ending,
            self.pending,
            self.ctx["mandate"],
            support,
            self.ctx["integration_depth"],
            self.trust,
            st.tie_pair,
            st.tie_collab,
            self.faith,
            self.progress,
            self._mem_collab,
            self._params()["review"],
            ended,
            events,
        )
        if np.count_nonzero(events):
            reps, cs = np.nonzero(events[:, :-1])
            month = self.month
            self.collab_log.extend(
                (rep, month, c, code)
                for rep, c, code in zip(
                    reps.tolist(), cs.tolist(), events[reps, cs].tolist(), strict=True
                )
            )
        if changed:
            # An improper ending scars the pairs whose relationship it governed (path
            # dependence); a collaboration wound down by a policy decision does not.
            bad = ended & (self.ending == IMPROPER)
            if bad.any():
                self.scar = np.maximum(self.scar, bad[self._ridx, self.edge_collab])
            self._assign_edges()

    def choose_acts(self) -> None:
        """Each organisation decides, in every collaboration and per partner, whether to
        act collaboratively, within the attention its collaborations leave it.

        Compiled: :func:`ioc_sim.engine.kernels.pairs.pair_acts`, which steps the
        uniform stream; the numpy reference is
        :func:`ioc_sim.engine.reference.choose_acts`.
        """
        p, st = self.p, self.st
        v = self._refresh_views()  # contexts are fixed from here to the month's end
        shock = self.shock_level()
        barrier = 1.0 - p["competition_effect"] * self.system["competition"] * (1.0 - shock)
        # Regulatory blocking holds back the integrative (deep) part of the work.
        blocked = p["blocking_effect"] * self.system["regulatory_blocking"] * (1.0 - shock)
        shock_add = p["shock_boost"] * shock if shock else 0.0
        self.attention = self._attention(v)
        self.act = np.empty((self.R, self.T), dtype=bool)
        self.recip = np.empty((self.R, self.T), dtype=bool)
        kernels.pair_acts(
            self.ustate,
            st.tie_pair,
            st.tie_collab,
            st.tie_mem,
            st.tie_rev,
            st.src,
            self._tie_pack(),
            self.faith,
            self.risk,
            self.attention,
            barrier,
            blocked,
            shock_add,
            self._params()["pair_acts"],
            self.act,
            self.recip,
        )

    def _attention(self, v: dict[str, np.ndarray]) -> np.ndarray:
        """The share of its collaborative work each organisation's management attention
        allows, (R, N) (eq. B0 of the ODD): ``min(1, attention_budget / demand)``, where
        demand sums the intensity times engagement (0.5 + depth / 2) of its working
        memberships, and a merger's integration load while it lasts."""
        load = self.integration_load()
        if "attention" not in v or not np.isscalar(load) or load:
            budget = self.p["attention_budget"]
            share = np.minimum(1.0, budget / np.maximum(v["demand"] + load, budget))
            if np.isscalar(load) and not load:
                v["attention"] = share  # the same every month until the views change
            return share
        return v["attention"]

    def update_relations(self) -> None:
        """The outcome of this month's acts, then conflict, trust, confidence and risk
        threshold: phases 4 to 8 (``exchange``, ``update_conflict``,
        ``update_trust``, ``update_confidence``, ``update_risk_threshold``).

        Compiled in one pass: :func:`ioc_sim.engine.kernels.pairs.pair_update`, which
        reads the outcome noise from its drawn-ahead block
        (:class:`~ioc_sim.engine.streams.NoiseBlock`). It gives the same numbers as
        the numpy reference phases of :mod:`ioc_sim.engine.reference` called in that
        order, with the same random draws.
        """
        v, r, e, st = self._views(), self.R, self.E, self.st
        self.noise.reserve(self.T)  # at most one joint act per tie
        for name in ("damage", "honoured", "breached"):  # updated in place by the kernel
            a = getattr(self, name)
            if not a.flags.c_contiguous or not a.flags.writeable:
                setattr(self, name, np.ascontiguousarray(a).copy())
        conflict, trust = np.empty((r, e)), np.empty((r, e))
        confidence, risk = np.empty((r, e)), np.empty((r, e))
        kernels.pair_update(
            self.noise.buf,
            self.noise.pos,
            self.act,
            self.recip,
            st.tie_start,
            st.tie_collab,
            v["tie_pack"],
            v["drivers"],
            self.results,
            self.distressed,
            st.src,
            st.dst,
            v["pack"],
            self.trust,
            self.conflict,
            self.risk,
            self.damage,
            self.honoured,
            self.breached,
            1.0 - self._pressure(),
            self._params()["pair_update"],
            conflict,
            trust,
            confidence,
            risk,
        )
        self.conflict, self.trust, self.confidence, self.risk = conflict, trust, confidence, risk

    def update_progress_and_faith(self) -> None:
        """Visible results take this month's shocks; perceived progress follows its
        drivers, realised effectiveness and visible results; faith follows progress and
        trust, lifted by persuasive leaders, moved by the mandate; then the ambition of
        joint aims follows the partners' trust (small wins).

        Compiled: :func:`ioc_sim.engine.kernels.organisations.progress_faith` has the
        equations. The fortunes stream gives one normal per collaboration here and one
        per organisation to the regulator later in the month, whatever their state, so
        both are reserved now.
        """
        v = self._views()
        collab, member, member_count, org, _ = self._pair_means()
        self.fortunes.reserve(self.C + self.N)  # this month's results, then performance
        progress, faith = np.empty_like(self.progress), np.empty_like(self.faith)
        # Memberships read by index: any layout of progress and faith is fine here.
        kernels.progress_faith(
            member,
            member_count,
            org,
            self._mem_org,
            self._mem_collab,
            self.ctx["ambition"],
            self.eff,
            v["mpack"],
            np.ascontiguousarray(self.progress),
            np.ascontiguousarray(self.faith),
            collab[0],
            v["working_c_f"],
            self.results,
            self.fortunes.buf,
            self.fortunes.pos,
            self._params()["progress_faith"],
            progress,
            faith,
        )
        self.progress, self.faith = progress, faith

    # ------------------------------------------------------------- read-outs
    def live_collaborations(self) -> np.ndarray:
        """Boolean (R, C) of collaborations forming, active, deepening or dissolving."""
        st = self.status[:, :-1]
        return (st >= FORMING) & (st <= DISSOLVING)
