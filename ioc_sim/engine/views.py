"""What each pair, membership and collaboration derives from contexts, parameters
and organisation attributes: computed once, and again only when those change.

Most of what a pair or a membership takes from its collaboration's contexts, its
organisations' attributes and the parameters changes only on events, starts,
endings and deepening. :class:`SimulationViews` computes those per collaboration,
gathers them to pairs and memberships once, and recomputes them only when their
inputs have changed. Elementwise arithmetic gives the same bits before or after a
gather, so every number equals the direct computation. The kernels' parameter
packs (:func:`parameter_packs`) are kept the same way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ioc_sim.engine import kernels
from ioc_sim.engine.stages import ACTIVE, DEEPENING, DISSOLVING, FORMING

#: Organisation attributes the per-pair and per-membership views read.
_ORG_VIEWED = (
    "capacity",
    "vulnerability",
    "resolution_style",
    "finances",
    "flexibility",
    "workforce_stability",
    "intra_conflict",
)


def clip01(x: np.ndarray) -> np.ndarray:
    """Clip a freshly computed array to [0, 1] in place (``np.clip`` without the copy)."""
    return np.clip(x, 0.0, 1.0, out=x)


def parameter_packs(p: dict[str, Any]) -> dict[str, np.ndarray]:
    """The compiled kernels' parameter packs (:mod:`ioc_sim.engine.kernels.params`).

    Args:
        p: Parameter values (every declared name).

    Returns:
        The pack of each kernel that takes one, by kernel name.
    """
    fragile_trust = p["fragile"] in ("trust", "equal")
    make = kernels.make_pack
    return {
        "review": make(
            kernels.REVIEW_PARAMS,
            formed=FORMING if p["formation_months"] > 0 else ACTIVE,
            formation_months=p["formation_months"],
            dissolve_threshold=p["dissolve_threshold"],
            dissolve_patience=p["dissolve_patience"],
            dissolve_hazard=p["dissolve_hazard"],
            deepen_threshold=p["deepen_threshold"],
            deepen_patience=p["deepen_patience"],
            deepen_hazard=p["deepen_hazard"],
            policy_push=p["policy_push"],
            deepen_step=p["deepen_step"],
            dissolving_months=p["dissolving_months"],
            integration_keep=math.exp(-1.0 / p["integration_cost_months"]),
        ),
        "pair_acts": make(kernels.ACT_PARAMS, gate_softness=p["gate_softness"]),
        "pair_update": make(
            kernels.UPDATE_PARAMS,
            success_slope=p["success_slope"],
            distress_risk_effect=p["distress_risk_effect"],
            outcome_noise=p["outcome_noise"],
            expectation=p["expectation"],
            breach_signal=p["breach_signal"],
            failure_conflict=p["failure_conflict"],
            conflict_rate=p["conflict_rate"],
            trust_update=kernels.TRUST_SPECS[p["trust_update"]],
            trust_loss=p["trust_gain"] * (p["trust_asymmetry"] if fragile_trust else 1.0),
            damage_gain=p["damage_gain"],
            damage_decay=p["damage_decay"],
            conflict_trust_erosion=p["conflict_trust_erosion"],
            formal_prior_weight=p["formal_prior_weight"],
            substitutes=p["trust_confidence"] == "substitutes",
            trust_weight=p["trust_weight"],
            risk_rate=p["risk_rate"],
            relational_quality=p["relational_quality"],
        ),
        "progress_faith": make(
            kernels.PROGRESS_PARAMS,
            effectiveness_feedback=p["effectiveness_feedback"],
            progress_rate=p["progress_rate"],
            faith_rate=p["faith_rate"],
            ambition_rate=p["ambition_rate"],
            results_persistence=p["results_persistence"],
            results_noise=p["results_noise"],
        ),
        "mechanisms": make(
            kernels.MECHANISM_PARAMS, multiplicative=p["performance_form"] == "multiplicative"
        ),
        "performance": make(
            kernels.PERFORMANCE_PARAMS,
            communication_effect=p["communication_effect"],
            management_cost=p["management_cost"],
            integration_cost=p["integration_cost"],
            benefit_scale=p["benefit_scale"],
            admissions_effect=p["admissions_effect"],
        ),
        "regulator": make(
            kernels.REGULATOR_PARAMS,
            distress_entry=p["distress_entry"],
            distress_exit=p["distress_exit"],
            distress_exit_months=p["distress_exit_months"],
            inspection_rate=p["inspection_rate"],
            regulator_memory=p["regulator_memory"],
            finance_weight=p["finance_weight"],
            performance_noise=p["performance_noise"],
            performance_persistence=p["performance_persistence"],
            improvement_rate=p["improvement_rate"],
            regime_support=p["regime_support"],
            help_effect=p["help_effect"],
            improvement_target=p["improvement_target"],
            embedding_rate=p["embedding_rate"],
            fade_rate=p["fade_rate"],
        ),
    }


class SimulationViews:
    """The cached views of :class:`~ioc_sim.engine.simulation.Simulation` (its base
    class): per-collaboration member means, per-pair and per-membership contexts,
    the grouped means of the pairs' state, and the kernels' parameter packs.

    Everything here reads the simulation's state; nothing here changes it, except
    the caches themselves.
    """

    def _refresh_collab_statics(self) -> None:
        """Member means of organisation attributes, per collaboration.

        A group model shares its leadership (a group chair and chief executive): its
        leadership and persuasiveness are those of its strongest member's leaders, not
        the members' mean (``docs/ODD.md`` section 8).
        """
        st, o, r = self.st, self.org, self.R
        mean = self.by_collab_mem.mean
        org_of = st.mem_org

        def members(values: np.ndarray) -> np.ndarray:
            return np.broadcast_to(values[org_of], (r, len(org_of)))

        lead = 0.5 * (o["vulnerability"] + o["persuasiveness"])
        self.c_capacity = mean(members(o["capacity"]))
        self.c_digital = mean(members(o["digital_maturity"]))
        self.c_persuasion = mean(members(o["persuasiveness"]))
        self.c_leadership = mean(members(lead))
        self.c_resolution = mean(0.5 * (members(o["resolution_style"]) + 1.0))
        for c, spec in enumerate(st.collabs):
            if spec.form == "group_model" and spec.members:
                self.c_leadership[:, c] = lead[spec.members].max()
                self.c_persuasion[:, c] = o["persuasiveness"][spec.members].max()
        self._org_version += 1  # the member means changed: rebuild the views

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
        """What each pair's relationship takes from the deepest live collaboration it
        works in, its organisations and the parameters, shape (R, E) each.

        Computed per collaboration, then gathered to the pairs in one call;
        ``slot`` gives each pair's collaboration (see :meth:`_assign_edges`).
        """
        p, ctx, o, st = self.p, self.ctx, self.org, self.st
        assurance = self._formal_assurance()
        rows = {
            "history_harm": np.maximum(-ctx["history"], 0.0),
            "unaccountable_slow": (1.0 - ctx["accountability"]) + (1.0 - ctx["pace"]),
            "vision_gap": 1.0 - ctx["shared_vision"],
            "power_asymmetry": ctx["power_asymmetry"],
            "assurance": assurance,
            "prior": p["formal_prior_weight"] * assurance,
        }
        gathered = self._to_pairs(np.stack(list(rows.values())), slot)
        v = dict(zip(rows, gathered, strict=True))
        # Organisation attributes of the pair (org-level, gathered by source or target).
        v["gain"] = p["trust_gain"] * (
            1.0 + p["vulnerability_effect"] * (o["vulnerability"][st.dst] - 0.5)
        )
        if p["trust_confidence"] == "crowding_out":
            v["gain"] = v["gain"] * (1.0 - p["crowding"] * v["assurance"])
        style = 0.5 * (o["resolution_style"][st.src] + o["resolution_style"][st.dst])
        # Conflict always costs trust; destructive handling adds to the cost.
        v["resolution_harm"] = p["resolution_effect"] * 0.5 * (1.0 - style)
        v["appetite"] = 1.0 - p["finance_risk_effect"] * (1.0 - o["finances"][st.src])
        v["conflict_target"] = self._conflict_target(v)
        return v

    def _collab_contexts(self) -> dict[str, np.ndarray]:
        """What a tie takes from its collaboration's contexts, (R, C + 1) each; the
        rows its status sets come from :meth:`_status_views`, and the exposure and the
        effective support, which move every month, from :meth:`_tie_pack`."""
        ctx = self.ctx
        return {
            "slack": 1.0 - ctx["integration_depth"],
            "depth": ctx["integration_depth"],
            "accountability": ctx["accountability"],
        }

    def _status_views(self, v: dict[str, Any]) -> dict[str, np.ndarray]:
        """The views that the collaborations' lifecycle status sets, written into ``v``
        (which must hold ``engage``): the pairs' memory of evidence, which
        collaborations work, each organisation's working partners and the attention
        its collaborations ask of it, the live memberships. Returns the ties' rows it
        sets (intensity and the weights of evidence, (R, C + 1) each)."""
        p, st = self.p, self.st
        intensity = self._intensity()
        working = intensity > 0
        # Every working month is evidence; the mandate and contract act only through the
        # prior, so stronger formal assurance never lowers confidence for the same record.
        weight = working.astype(float)
        breach_weight = p["trust_asymmetry"] if p["fragile"] in ("confidence", "equal") else 1.0
        v["keep"] = self._to_pairs(np.where(working, p["confidence_memory"], 1.0))
        v["working_c"] = working
        # An organisation's working ties (its partners in every collaboration it works in)
        # and the attention its collaborations ask of it.
        working_ties = working[:, st.tie_collab]
        v["partners"] = np.maximum(self.by_org_ties.sum(working_ties.astype(float)), 1.0)
        v["demand"] = self.by_org_mem.sum((intensity * v["engage"])[:, self._mem_collab[:-1]])
        m_live = self._to_members(weight) > 0
        m_live[:, -1] = False
        v["m_live"] = m_live
        v["working_c_f"] = np.ascontiguousarray(working)
        return {"intensity": intensity, "weight": weight, "breach_weight": weight * breach_weight}

    def _restatus_views(self, old: dict[str, Any]) -> dict[str, Any]:
        """``old`` views after a change of status alone (a collaboration starting,
        beginning to dissolve): the parts :meth:`_status_views` sets are computed again,
        and written into copies of the blocks that hold them; the rest of what the last
        full build made is kept, and anything kept beside it since (the attention
        shares, say, which follow the demand) is dropped."""
        v = {k: old[k] for k in self._view_built}
        tie_pack = old["tie_pack"].copy()
        for name, row in self._status_views(v).items():
            tie_pack[kernels.TIE_ROWS.index(name)] = row
        pack, mpack = old["pack"].copy(), old["mpack"].copy()
        pack[kernels.PACK_ROWS.index("keep")] = v["keep"]
        mpack[kernels.MEMBER_ROWS.index("m_live")] = v["m_live"]
        v["tie_pack"], v["pack"], v["mpack"] = tie_pack, pack, mpack
        return v

    def _tie_pack(self) -> np.ndarray:
        """The per-collaboration pack the ties read this month (rows of
        :data:`ioc_sim.engine.kernels.pairs.TIE_ROWS`): the cached contexts, and the
        exposure and effective support, which move with ambition and embedded practice.

        Exposure (eq. B1 of the ODD) is that of the collaboration's joint acts,
        ``exposure_scale * (depth + ambition) / 2``, less the share dedicated support
        bears (``support_cover * support``); effective support is the larger of the
        support now and the practice embedded while support lasted (eq. E6).
        """
        v, p, ctx = self._views(), self.p, self.ctx
        support = np.maximum(ctx["support"], self.embedded)
        pack = v["tie_pack"]
        np.multiply(
            p["exposure_scale"] * 0.5 * (ctx["integration_depth"] + ctx["ambition"]),
            1.0 - p["support_cover"] * support,
            out=pack[kernels.C_EXPOSURE],
        )
        pack[kernels.C_SUPPORT] = support
        return pack

    def _intensity(self) -> np.ndarray:
        """How much joint work each collaboration's lifecycle stage allows, (R, C + 1)."""
        st = self.status
        out = np.where((st == ACTIVE) | (st == DEEPENING), 1.0, 0.0)
        out[st == FORMING] = self.p["forming_intensity"]
        out[st == DISSOLVING] = 0.5 * self.p["forming_intensity"]
        return out

    def _conflict_target(self, v: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """The conflict each pair's contexts imply, K* (eq. K1 of the ODD), (R, E)."""
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

    def _confidence(self, v: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Confidence from the evidence and the formal prior (eq. C3 of the ODD), (R, E)."""
        k = self.p["formal_prior_weight"]
        v = self._views() if v is None else v
        return (self.honoured + v["prior"] + 1.0) / (self.honoured + self.breached + k + 2.0)

    def _risk_target(self, v: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """The risk threshold trust and confidence imply, RT* (eqs. R1-R2 of the ODD),
        (R, E)."""
        p = self.p
        v = self._views() if v is None else v
        if p["trust_confidence"] == "substitutes":
            base = np.maximum(self.trust, self.confidence)
        else:
            base = p["trust_weight"] * self.trust + (1.0 - p["trust_weight"]) * self.confidence
        # (1 - finance effect * (1 - finances)) - distress effect * distressed, of the source.
        appetite = v["appetite"] - self._distress_views()["source_risk"]
        return clip01(base * appetite)

    # ----------------------------------------------------------------- caches
    def _refresh_views(self) -> dict[str, np.ndarray]:
        """Per-pair, per-membership and per-collaboration quantities that change only
        with contexts (except ambition, which moves every month), status, system
        contexts, parameters, organisation attributes or the assignment of pairs.

        Checked once a month, when acts are chosen: from then until the month's
        end only ambition moves. The key compares the inputs themselves, so direct
        edits of ``ctx``, ``status``, ``system`` or ``p`` between months are picked
        up; edits of organisation attributes through :meth:`_refresh_collab_statics`
        (which events call). When only a status has changed, only what the status sets
        is computed again (:meth:`_restatus_views`), with the same numbers.
        """
        ctx, o = self.ctx, self.org
        static = (
            b"".join(
                [ctx[k].tobytes() for k in ctx if k != "ambition"]
                + [o[k].tobytes() for k in _ORG_VIEWED]
            ),
            tuple(self.system.values()),
            tuple(self.p.values()),
            self._assignment,
            self._org_version,
        )
        key = (static, self.status.tobytes())
        if key == self._view_key:
            return self._view
        if self._view_key is not None and static == self._view_key[0]:
            # Only a status has changed (a collaboration started, or began to dissolve).
            self._view, self._view_key = self._restatus_views(self._view), key
            return self._view
        p, o, mo, st, r = self.p, self.org, self._mem_org, self.st, self.R
        v = self._pair_contexts(self._pair_slot)
        v["live"] = self.edge_collab < self.C
        engage = 0.5 + 0.5 * ctx["integration_depth"]
        v["engage"] = engage
        # Ties: what each reads from its collaboration (exposure and support monthly).
        tie_pack = np.zeros((len(kernels.TIE_ROWS), r, self.C + 1))
        collab = {**self._collab_contexts(), **self._status_views(v)}
        for name, row in collab.items():
            tie_pack[kernels.TIE_ROWS.index(name)] = row
        v["tie_pack"] = tie_pack
        v["tie_src"] = st.src[st.tie_pair]
        v["compat_c"] = self.by_collab_tie.mean(
            np.broadcast_to(st.compat[st.tie_pair], (r, st.n_ties))
        )
        # Memberships: the parts of progress and faith that only contexts set.
        sign = {"raises": 1.0, "lowers": -1.0, "neutral": 0.0}[p["mandate_faith"]]
        m = self._to_members(
            np.stack(
                [
                    ctx["role_clarity"] + ctx["evaluation"],
                    ctx["actors_present"],
                    p["persuasion_effect"] * (self.c_persuasion - 0.5),
                    sign * p["mandate_faith_effect"] * ctx["mandate"]
                    - p["competition_faith_effect"] * self.system["competition"]
                    - p["blocking_faith_effect"] * self.system["regulatory_blocking"],
                ]
            )
        )
        v["m_drivers"] = m[0] + o["flexibility"][mo]
        v["m_actors"] = m[1]
        v["m_stability"] = o["workforce_stability"][mo]
        v["m_calm"] = 1.0 - o["intra_conflict"][mo]
        v["m_harm"] = p["resolution_effect"] * 0.5 * (1.0 - o["resolution_style"][mo])
        v["m_persuasion"], v["m_mandate"] = m[2], m[3]
        # Collaborations: the static parts of the mechanisms.
        v["organisational"] = (
            ctx["accountability"]
            + ctx["role_clarity"]
            + ctx["formalisation"]
            + self.c_capacity
            + ctx["pace"]
        )
        v["technological"] = (
            self.system["data_sharing"] + self.c_digital + ctx["integration_depth"]
        ) / 3.0
        # Exchange drivers of each pair that its collaboration does not set.
        v["drivers"] = (o["capacity"][st.dst] + st.compat) + self.system["data_sharing"]
        # The per-pair inputs of the compiled monthly kernel, one contiguous block.
        pack = np.empty((len(kernels.PACK_ROWS), r, self.E))
        for i, name in enumerate(kernels.PACK_ROWS):
            pack[i] = v[name]
        v["pack"] = pack
        mpack = np.empty((len(kernels.MEMBER_ROWS), r, self.M + 1))
        for i, name in enumerate(kernels.MEMBER_ROWS):
            mpack[i] = v[name]
        v["mpack"] = mpack
        cpack = np.empty((len(kernels.COLLAB_ROWS), r, self.C + 1))
        for i, name in enumerate(kernels.COLLAB_ROWS):
            cpack[i] = getattr(self, name) if name.startswith("c_") else v[name]
        v["cpack"] = cpack
        v["lags"] = np.asarray(self.lags, dtype=float)
        v["engage_c"] = np.ascontiguousarray(np.broadcast_to(engage, (r, self.C + 1)), dtype=float)
        self._view, self._view_key, self._view_built = v, key, tuple(v)
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
        return {
            "healthy_target": 1.0 - d[:, st.dst],
            "source_risk": self.p["distress_risk_effect"] * d[:, st.src],
        }

    def _pair_means(self) -> tuple[np.ndarray, ...]:
        """Grouped means of the ties' and pairs' state: by collaboration (trust, acts,
        conflict, confidence, joint acts over its ties), by membership (trust,
        conflict, and the count) and by organisation (trust, conflict, and the number
        of acts). One compiled pass (:func:`ioc_sim.engine.kernels.pairs.pair_means`),
        shared by the month's later phases."""
        v, st = self._views(), self.st
        key = (self.trust, self.act, self.recip, self.conflict, self.confidence, v["pack"])
        hit = self._memo.get("pair_means")
        if hit is None or any(a is not b for a, b in zip(hit[0], key, strict=True)):
            hit = (
                key,
                kernels.pair_means(
                    self.trust,
                    self.conflict,
                    self.confidence,
                    self.act,
                    self.recip,
                    v["working_c_f"],
                    st.tie_pair,
                    st.tie_collab,
                    st.tie_mem,
                    st.src,
                    self.N,
                    self.M + 1,
                    self._alone_members,
                ),
            )
            self._memo["pair_means"] = hit
        return hit[1]

    def _params(self) -> dict[str, np.ndarray]:
        """The kernels' parameter packs (:func:`parameter_packs`) for the current
        parameters: built again only when a parameter has changed, which is checked
        once a month (and after an event or new relations), as ``_memo`` is cleared."""
        packs = self._memo.get("params")
        if packs is None:
            key = tuple(self.p.values())
            if key != self._params_key:
                self._packs, self._params_key = parameter_packs(self.p), key
            packs = self._memo["params"] = self._packs
        return packs
