"""The state of ``R`` replicates of one system and their monthly cycle.

State is held in numpy arrays with a leading *replicate* axis ``R``: state
arrays have shape ``(R, E)`` for ordered pairs (edges), ``(R, M + 1)`` for
memberships (organisation in a collaboration, plus one dummy slot),
``(R, C + 1)`` for collaborations (plus a dummy "no collaboration" slot) and
``(R, N)`` for organisations. :class:`~ioc_sim.model.CollaborationModel`
advances one replicate (``R = 1``) and wraps it in Mesa agents; batch runners
can advance several replicates of one design row together.

The equations are described, with their status (stated by the theory,
implied by it, or our assumption), in ``docs/ODD.md``; :meth:`Simulation.step`
runs its phases (section 3.1) by the names used there. Each phase runs in a
compiled kernel (:mod:`ioc_sim.engine.kernels`); the pairs' phases also have a
readable numpy version (:mod:`ioc_sim.engine.reference`), which the tests
compare with the kernels bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ioc_sim.engine import kernels
from ioc_sim.engine.effectiveness import BACK_OFFICE, COMPONENTS, LOADINGS
from ioc_sim.engine.population import Population
from ioc_sim.engine.relations import StartingRelations
from ioc_sim.engine.schedule import ScheduledChanges
from ioc_sim.engine.stages import ACTIVE, DISSOLVED, DISSOLVING, FORMING, PLANNED
from ioc_sim.engine.streams import open_streams
from ioc_sim.engine.structure import Groups, build_structure
from ioc_sim.engine.views import SimulationViews, clip01
from ioc_sim.spec.contexts import CollaborationSpec
from ioc_sim.spec.forms import SYSTEM_FIELDS


class Simulation(StartingRelations, ScheduledChanges, SimulationViews):
    """State and monthly update of ``R`` replicates of one system.

    Scheduled changes (events, support windows, shocks) come from
    :class:`~ioc_sim.engine.schedule.ScheduledChanges`, and the quantities that
    change only with contexts and parameters are cached by
    :class:`~ioc_sim.engine.views.SimulationViews`.

    Args:
        params: Validated parameter values (every declared name).
        pop: The organisations.
        collabs: Resolved collaborations (including scheduled mergers).
        events: Normalised events, sorted by month.
        rngs: One numpy Generator per replicate. Each seeds two SFC64 streams
            of its own (:mod:`ioc_sim.engine.streams`): uniforms (acts, then entry
            into distress), stepped by the kernels, and standard normals (the
            outcome noise of joint acts), drawn ahead by numpy.
            All dynamic randomness comes from these, drawn in the same order
            whatever ``R`` is, so a replicate run alone gives the same numbers
            as in a batch; the generators themselves are not drawn from.
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
        st = self.st = build_structure(pop, collabs, p["partners_per_org"])
        self.N, self.E, self.M, self.C = st.n, st.n_edges, st.n_members, st.n_collabs
        self.ustate, self.noise = open_streams(rngs, self.E)
        self._init_contexts(collabs)
        self._init_state()
        self._init_caches()
        self._init_month_zero()

    # ------------------------------------------------------------------ setup
    def _init_contexts(self, collabs: list[CollaborationSpec]) -> None:
        """Organisation attributes, system and collaboration contexts, and the
        collaborations' start months."""
        p, pop, r, c = self.p, self.pop, self.R, self.C
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
        """The dynamic state before month 0 is set up: collaborations planned, no
        evidence, no acts, no benefits (relations come in :meth:`_initialise_relations`)."""
        r, n, e, c = self.R, self.N, self.E, self.C
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
        self.distressed = np.tile(self.pop.distressed, (r, 1))
        self.ok_months = np.zeros((r, n), dtype=np.int32)
        self.behaviour = np.zeros((r, n))
        self.cost = np.zeros((r, n))
        zeros = np.zeros((r, n))
        self.quality, self.efficiency, self.access = zeros.copy(), zeros.copy(), zeros.copy()
        self.admissions = np.ones((r, n))
        self.benefit = np.zeros((r, n, len(COMPONENTS)))

    def _init_caches(self) -> None:
        """Grouped sums, gather positions and the caches of :mod:`ioc_sim.engine.views`."""
        p, st, r, n, c = self.p, self.st, self.R, self.N, self.C
        self.lags = np.where(
            BACK_OFFICE, p["benefit_lag"], p["benefit_lag"] * p["service_lag_ratio"]
        )
        self.by_org_edges = Groups(r, st.src, n)
        self.by_collab_mem = Groups(r, st.mem_collab, c + 1)
        self._ridx = np.arange(r)[:, None]
        self._incompat = 1.0 - st.compat
        self._mem_collab = np.append(st.mem_collab, c)  # membership -> collaboration, + dummy
        self._mem_org = np.append(st.mem_org, 0)
        self._member_slot = (self._mem_collab + self._ridx * (c + 1)).ravel()
        # Counters of changes to organisation attributes and to the assignment of pairs:
        # part of the views' keys.
        self._org_version = 0
        self._assignment = 0
        self._view: dict[str, np.ndarray] = {}
        self._view_key: tuple | None = None
        self._memo: dict[str, Any] = {}
        self._packs: dict[str, np.ndarray] = {}
        self._params_key: tuple | None = None
        self._refresh_collab_statics()

    def _init_month_zero(self) -> None:
        """Month 0 (``docs/ODD.md`` section 3.2): its events, the collaborations that
        start, the pairs' assignment, relations, and a first performance."""
        # Month-0 events shape the starting contexts; leadership changes act on relations,
        # so they wait until relations exist.
        at_start = [ev for ev in self.events if ev["month"] == 0]
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

    def _start_due(self) -> bool:
        """Start the collaborations due by now (forming, or active without a formation
        period) at age 0; whether any started."""
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
        self.edge_collab = (
            st.cands[np.arange(e)[None, :], first] if e else np.zeros((r, 0), dtype=np.intp)
        )
        self.edge_mem = st.mem_lookup[st.src[None, :], self.edge_collab]
        self.by_mem = Groups(r, self.edge_mem, self.M + 1)
        # Whether a membership has no pair of its own (it then reads its organisation's
        # relations across all its partners, see kernels.organisations.progress_faith).
        self._alone_members = bool((self.by_mem.count[:, :-1] == 0).any())
        self.by_collab_edge = Groups(r, self.edge_collab, self.C + 1)
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
        self.update_distress()  # 12

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
        ended = np.empty(self.status.shape, dtype=bool)
        for name in ("age", "below", "left"):  # updated in place by the kernel
            a = getattr(self, name)
            if not a.flags.c_contiguous or not a.flags.writeable:
                setattr(self, name, np.ascontiguousarray(a).copy())
        changed = kernels.review(
            self.month,
            self.start,
            self.status,
            self.age,
            self.below,
            self.left,
            self.ctx["mandate"],
            self.ctx["integration_depth"],
            self.trust,
            self.edge_collab,
            self.faith,
            self._mem_collab,
            self._params()["review"],
            ended,
        )
        if changed:
            if ended.any():  # an improper ending scars the pairs involved (path dependence)
                self.scar = np.maximum(self.scar, ended[self._ridx, self.edge_collab])
            self._assign_edges()

    def choose_acts(self) -> None:
        """Each organisation decides, per partner, whether to act collaboratively.

        Compiled: :func:`ioc_sim.engine.kernels.pairs.pair_acts`, which steps the
        uniform stream; the numpy reference is
        :func:`ioc_sim.engine.reference.choose_acts`.
        """
        p, ctx = self.p, self.ctx
        v = self._refresh_views()  # contexts are fixed from here to the month's end
        shock = self.shock_level()
        barrier = 1.0 - p["competition_effect"] * self.system["competition"] * (1.0 - shock)
        # Regulatory blocking holds back the integrative (deep) part of the work.
        blocked = p["blocking_effect"] * self.system["regulatory_blocking"] * (1.0 - shock)
        shock_add = p["shock_boost"] * shock if shock else 0.0
        self.act = np.empty((self.R, self.E), dtype=bool)
        self.recip = np.empty((self.R, self.E), dtype=bool)
        kernels.pair_acts(
            self.ustate,
            self.edge_collab,
            self.edge_mem,
            self.st.rev,
            ctx["integration_depth"],
            ctx["ambition"],
            self.faith,
            v["pack"],
            self.risk,
            barrier,
            blocked,
            shock_add,
            self._params()["pair_acts"],
            self.act,
            self.recip,
        )

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
        v, r, e = self._views(), self.R, self.E
        self.noise.reserve(e)  # at most one joint act per pair
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
            v["drivers"],
            v["support"],
            self.distressed,
            self.st.src,
            self.st.dst,
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
        """Perceived progress follows its drivers and realised effectiveness; faith follows
        progress and trust, lifted by persuasive leaders, moved by the mandate; then the
        ambition of joint aims follows the partners' trust (small wins).

        Compiled: :func:`ioc_sim.engine.kernels.organisations.progress_faith` has the
        equations.
        """
        v = self._views()
        collab, member, member_count, org, _ = self._pair_means()
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
            self._params()["progress_faith"],
            progress,
            faith,
        )
        self.progress, self.faith = progress, faith

    def grow_demand(self) -> None:
        """Emergency demand grows month by month at the current yearly rate."""
        self.demand_level += self.system["demand_growth"] / 12.0

    def produce_performance(self) -> None:
        """Cultural efficacy, organisational efficiency and technological effectiveness turn
        collaborative behaviour into effectiveness, and that into organisational
        performance, net of the costs of collaborating.

        Compiled: :func:`ioc_sim.engine.kernels.collaborations.mechanisms` and
        :func:`ioc_sim.engine.kernels.organisations.performance` have the equations.
        """
        p, st, o, r, n, c = self.p, self.st, self.org, self.R, self.N, self.C
        v, packs = self._views(), self._params()
        collab, _, _, _, acts = self._pair_means()
        mech = np.empty((r, 3, c + 1))  # cultural, organisational, technological
        blend, combined = np.empty((r, c + 1, len(COMPONENTS))), np.empty((r, c + 1))
        kernels.mechanisms(
            collab,
            self.faith,
            self._mem_collab,
            v["cpack"],
            v["working_c_f"],
            LOADINGS,
            packs["mechanisms"],
            mech,
            blend,
            combined,
        )
        self.mech = mech
        self.behaviour, self.output = np.empty((r, n)), np.empty((r, c + 1))
        self.benefit, self.cost = np.empty((r, n, len(COMPONENTS))), np.empty((r, n))
        self.quality, self.efficiency = np.empty((r, n)), np.empty((r, n))
        self.access, self.admissions = np.empty((r, n)), np.empty((r, n))
        self.performance = np.empty((r, n))
        kernels.performance(
            collab,
            acts,
            v["partners"],
            blend,
            combined,
            self.eff,
            v["lags"],
            v["engage_c"],
            v["fading_c"],
            self.age,
            st.mem_org,
            st.mem_collab,
            o["baseline_performance"],
            p["distress_penalty"] * self.distressed,
            p["pressure_effect"] * self._pressure(),
            float(self.demand_level),
            1.0 + 0.2 * self.shock_pressure(),
            packs["performance"],
            self.behaviour,
            self.output,
            self.benefit,
            self.cost,
            self.quality,
            self.efficiency,
            self.access,
            self.admissions,
            self.performance,
        )

    def update_distress(self) -> None:
        """Entry into special measures when performance is poor; exit after a sustained
        recovery (:func:`ioc_sim.engine.kernels.organisations.distress` has the rules)."""
        distressed = np.empty_like(self.distressed)
        ok_months = np.empty_like(self.ok_months)
        kernels.distress(
            self.ustate,
            self.performance,
            self.distressed,
            self.ok_months,
            self._params()["distress"],
            distressed,
            ok_months,
        )
        self.distressed, self.ok_months = distressed, ok_months

    # ------------------------------------------------------------- read-outs
    def live_collaborations(self) -> np.ndarray:
        """Boolean (R, C) of collaborations forming, active, deepening or dissolving."""
        st = self.status[:, :-1]
        return (st >= FORMING) & (st <= DISSOLVING)
