"""The organisations' month: performance (from collaboration, underlying level,
costs and mergers), the embedding of supported practice, and the regulator with its
special measures (``docs/ODD.md`` sections 7.13 to 7.16). A base class of
:class:`~ioc_sim.engine.simulation.Simulation`, kept apart so that each module
reads on its own.
"""

from __future__ import annotations

import numpy as np

from ioc_sim.engine import kernels
from ioc_sim.engine.effectiveness import COMPONENTS, LOADINGS
from ioc_sim.engine.stages import ENTERED, LEFT


class OrganisationPhases:
    """Phases 10 to 13 of the month (section 3.1 of the ODD)."""

    def grow_demand(self) -> None:
        """Emergency demand grows month by month at the current yearly rate."""
        self.demand_level += self.system["demand_growth"] / 12.0

    def produce_performance(self) -> None:
        """Cultural efficacy, organisational efficiency and technological effectiveness turn
        collaborative behaviour into effectiveness, and that into organisational
        performance, net of the costs of collaborating and of a merger's integration.

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
        self.update_merger_effects()
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
            self.pending,
            v["working_c_f"],
            st.mem_org,
            st.mem_collab,
            o["baseline_performance"],
            self.improvement,
            self.deviation,
            p["distress_penalty"] * self.distressed,
            self.merger_efficiency,
            self.merger_service,
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

    def embed_practice(self) -> None:
        """Practice that dedicated support brings becomes routine as the collaboration
        uses it, and fades when support has gone and it is not used (eqs. E5-E6 of the
        ODD)::

            embedded += embedding_rate * behaviour * (support - embedded)   below support
            embedded -= fade_rate * (1 - behaviour) * (embedded - support)   above it

        with ``behaviour`` the share of the collaboration's ties acting this month.
        """
        p = self.p
        support, held = self.ctx["support"], self.embedded
        if not (np.count_nonzero(support) or np.count_nonzero(held)):  # cheaper than any()
            return
        behaviour = self._pair_means()[0][1]
        gap = support - held
        self.embedded = np.where(
            gap > 0.0,
            held + p["embedding_rate"] * behaviour * gap,
            held + p["fade_rate"] * (1.0 - behaviour) * gap,
        )

    def regulate(self) -> None:
        """The regulator's view, entries into and exits from special measures, and the
        course of underlying performance: improvement in special measures, with the
        help of partners that have capacity to spare, embedding or fading, and monthly
        fluctuation (:func:`ioc_sim.engine.kernels.organisations.regulate`)."""
        st, o = self.st, self.org
        # This month's normals of the fortunes stream were reserved with the visible
        # results (update_progress_and_faith), which come first every month.
        changes = np.empty((self.R, self.N), dtype=np.int8)
        changed = kernels.regulate(
            self.ustate,
            self.fortunes.buf,
            self.fortunes.pos,
            self.performance,
            o["finances"],
            o["capacity"],
            o["baseline_performance"],
            self.alive,
            self.act,
            self._in_start,
            self._in_ties,
            st.tie_pair,
            st.src,
            self.distressed,
            self.ok_months,
            self.rating,
            self.deviation,
            self.improvement,
            self.embedded_improvement,
            self._params()["regulator"],
            changes,
        )
        if changed:
            reps, orgs = np.nonzero(changes)
            codes = [
                ENTERED if c == kernels.ENTERED else LEFT for c in changes[reps, orgs].tolist()
            ]
            month = self.month
            self.org_log.extend(
                (rep, month, i, code, -1)
                for rep, i, code in zip(reps.tolist(), orgs.tolist(), codes, strict=True)
            )
