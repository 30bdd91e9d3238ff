"""Mergers and acquisitions: from the completion month, several organisations are one
(``docs/ODD.md`` section 7.15).

A merger event names its organisations, the continuing one (the acquirer, or the
organisation a merger is built around) first. At completion:

* the continuing organisation takes the others' size (summed), and the
  size-weighted mean of their capacity, finances, workforce stability,
  flexibility, digital maturity, baseline performance, culture, internal conflict
  and position: its performance comes from the combined services. Its leaders
  stay (one board); so does its special-measures status, while the absorbed
  organisations' episodes end with the merger;
* it takes over every collaboration the others were in, and their relationships
  with third parties: a third party's relationship with the merged organisation
  (trust, conflict, confidence evidence, risk threshold, lasting damage) is the
  size-weighted mean of its relationships with the predecessors, each way round;
  a collaboration left with one member is complete;
* the absorbed organisations stop: no state, no acts, not counted in any metric;
  their history up to completion stays in the outputs.

Then an integration period (time constant ``integration_months``) loads the
merged organisation: management attention turned inward (``integration_attention``
of its attention budget), one-off costs (``transition_cost`` off efficiency),
disruption of services (``merger_disruption`` off quality and access) and staff
turnover (``turnover_effect`` off workforce stability), each fading as
``exp(-months since completion / integration_months)``. Back-office savings
(``merger_savings`` of its efficiency) ramp up with time constant
``savings_months``; service gains (``service_gain``) come later, slower by
``service_lag_ratio``, and only as far as the predecessors trusted each other
when they merged (relationship building): an acquisition without it gains none.

A group model (shared chair and chief executive, a group board) is a
collaboration of sovereign organisations, not a merger: each keeps its own
finances, performance and regulator; its members share leadership
(:meth:`~ioc_sim.engine.views.SimulationViews._refresh_collab_statics`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ioc_sim.engine.population import Population
from ioc_sim.engine.stages import (
    ABSORBED,
    COMPLETED,
    DISSOLVED,
    FORMING,
    LEFT_BY_MERGER,
    MERGED,
    WOUND_DOWN,
)
from ioc_sim.engine.structure import build_structure
from ioc_sim.spec.contexts import CollaborationSpec

#: Attributes the merged organisation takes as the size-weighted mean of its
#: predecessors'; its leaders' attributes (vulnerability, persuasiveness, conflict
#: resolution style) stay the continuing organisation's.
POOLED_ATTRIBUTES = (
    "capacity",
    "finances",
    "workforce_stability",
    "flexibility",
    "digital_maturity",
    "baseline_performance",
    "culture",
    "intra_conflict",
    "x",
    "y",
)
#: Per-replicate organisation state pooled the same way.
POOLED_STATE = ("rating", "deviation", "improvement", "embedded_improvement")
#: Per-pair state pooled over the predecessors' relationships with a third party.
PAIR_STATE = ("trust", "conflict", "confidence", "risk", "damage", "honoured", "breached", "scar")


class Consolidation:
    """Mergers for :class:`~ioc_sim.engine.simulation.Simulation` (its base class)."""

    #: Completed mergers: continuing organisation, month, cohesion per replicate,
    #: workforce stability after pooling.
    _mergers: list[dict[str, Any]]

    def merge(self, organisations: list[int], name: str | None = None) -> None:
        """Make ``organisations`` one, the first continuing, from this month.

        Args:
            organisations: Organisation indices, the continuing one first. An
                organisation absorbed earlier stands for the one that absorbed it.
            name: A new name for the merged organisation, if any.
        """
        if not hasattr(self, "_mergers"):
            self._mergers = []
        group = list(dict.fromkeys(self._continuing(i) for i in organisations))
        if len(group) < 2:
            return
        lead, others = group[0], group[1:]
        o, r = self.org, self.R
        size = o["size"][group]
        weight = size / size.sum()
        cohesion = self._cohesion(group)
        # The predecessors' per-replicate state, pooled by size.
        for name_ in POOLED_STATE:
            a = getattr(self, name_)
            a[:, lead] = a[:, group] @ weight
        for i in others:
            for rep in np.flatnonzero(self.distressed[:, i]):
                self.org_log.append((int(rep), self.month, int(i), LEFT_BY_MERGER, lead))
            self.distressed[:, i] = False
            self.org_log.extend((rep, self.month, int(i), ABSORBED, lead) for rep in range(r))
        self.org_log.extend((rep, self.month, lead, MERGED, others[0]) for rep in range(r))
        for key in POOLED_ATTRIBUTES:
            o[key][lead] = float(o[key][group] @ weight)
        o["size"][lead] = float(size.sum())
        if name:
            self.pop.names[lead] = name
        self.alive[others] = False
        self.merged_into[others] = lead
        self._mergers.append(
            {
                "lead": lead,
                "month": self.month,
                "cohesion": cohesion,
                "stability": float(o["workforce_stability"][lead]),
            }
        )
        self._restructure({i: lead for i in others})

    def _continuing(self, i: int) -> int:
        while self.merged_into[i] >= 0:
            i = int(self.merged_into[i])
        return i

    def _cohesion(self, group: list[int]) -> np.ndarray:
        """Mean trust between the predecessors when they merge, per replicate (0 where
        they had no relationship): how far relationships were built beforehand."""
        st = self.st
        inside = np.isin(st.src, group) & np.isin(st.dst, group)
        if not inside.any():
            return np.zeros(self.R)
        return self.trust[:, inside].mean(axis=1)

    def _restructure(self, into: dict[int, int]) -> None:
        """Rebuild who works with whom after the organisations in ``into`` were
        absorbed, and carry each pair's and membership's state over."""
        old = self.st
        rep = np.arange(self.N)
        for i, lead in into.items():
            rep[i] = lead
        collabs = []
        for spec in old.collabs:
            members = list(dict.fromkeys(int(rep[i]) for i in spec.members))
            collabs.append(CollaborationSpec(spec.name, spec.form, members, spec.start,
                                             spec.contexts))  # fmt: skip
        size = self.org["size"]
        pair_values = {name: getattr(self, name) for name in PAIR_STATE}
        first_month = self.first_month
        faith, progress = self.faith, self.progress
        self.st = new = build_structure(self.pop_view(), collabs, self.p["partners_per_org"])
        # Each new pair's predecessors: old pairs whose ends map onto its ends.
        old_key = rep[old.src].astype(np.int64) * self.N + rep[old.dst]
        keep = rep[old.src] != rep[old.dst]
        w = (size[old.src] * size[old.dst])[keep]
        keys, inverse = np.unique(old_key[keep], return_inverse=True)
        total = np.bincount(inverse, weights=w, minlength=len(keys))
        new_key = new.src.astype(np.int64) * self.N + new.dst
        slot = np.searchsorted(keys, new_key)
        slot = np.minimum(slot, max(len(keys) - 1, 0))
        found = (keys[slot] == new_key) if len(keys) else np.zeros(len(new_key), bool)
        self._install_structure()
        self._assign_edges_after_merger()
        fresh = self._fresh_relations()
        for name, values in pair_values.items():
            pooled = np.empty((self.R, self.E))
            for rr in range(self.R):
                sums = np.bincount(inverse, weights=values[rr, keep] * w, minlength=len(keys))
                pooled[rr] = np.where(found, sums[slot] / np.maximum(total[slot], 1e-300), 0.0)
            setattr(self, name, np.where(found, pooled, fresh[name]))
        # A relationship dates from its predecessors' earliest month (-1: none yet).
        never = np.iinfo(np.int32).max
        dated = np.where(first_month[:, keep] < 0, never, first_month[:, keep])
        months = np.full((self.R, self.E), -1, dtype=np.int32)
        for rr in range(self.R):
            earliest = np.full(len(keys), never, dtype=np.int64)
            np.minimum.at(earliest, inverse, dated[rr])
            got = np.where(found, earliest[slot], never)
            months[rr] = np.where(got == never, -1, got)
        self.first_month = months
        # Memberships: the continuing organisation's in each collaboration pools its
        # predecessors' faith and perceived progress by size.
        mem_weight = size[old.mem_org]
        mem_key = rep[old.mem_org].astype(np.int64) * (self.C + 1) + old.mem_collab
        for name, values in (("faith", faith), ("progress", progress)):
            out = np.zeros((self.R, self.M + 1))
            new_mem_key = new.mem_org.astype(np.int64) * (self.C + 1) + new.mem_collab
            for j, key in enumerate(new_mem_key):
                sel = mem_key == key
                out[:, j] = values[:, :-1][:, sel] @ (mem_weight[sel] / mem_weight[sel].sum())
            setattr(self, name, out)
        self.confidence = self._confidence(self._refresh_views())
        # A collaboration whose members are now one organisation is complete.
        for c, spec in enumerate(collabs):
            if len(spec.members) < 2:
                live = self.status[:, c] < DISSOLVED
                for rr in np.flatnonzero(live & (self.status[:, c] >= FORMING)):
                    self.collab_log.append((int(rr), self.month, c, COMPLETED))
                self.status[live, c] = DISSOLVED
                self.ending[live, c] = WOUND_DOWN
        self._assign_edges()
        self._view, self._view_key = {}, None

    def pop_view(self) -> Population:
        """The population as it stands now (attributes after any merger)."""
        return Population(self.pop.ids, self.pop.names, self.pop.types, self.org,
                          self.pop.distressed)  # fmt: skip

    def _assign_edges_after_merger(self) -> None:
        """The pairs' governing collaborations on the new structure, so that fresh
        relationships can read their contexts."""
        self._assign_edges()

    def _fresh_relations(self) -> dict[str, np.ndarray]:
        """Starting relations for pairs that had no predecessor (as at month 0), from each
        replicate's own governing collaboration of the pair."""
        st = self.st
        first = np.where(self.edge_collab < self.C, self.edge_collab, st.cands[None, :, 0])
        hist = np.take_along_axis(self.ctx["history"], first, axis=1)
        formal = np.take_along_axis(self.ctx["formalisation"], first, axis=1)
        saved = {name: getattr(self, name, None) for name in ("trust", "honoured", "breached")}
        self.trust = self._starting_trust(hist, formal)
        zeros = np.zeros((self.R, self.E))
        self.honoured, self.breached = zeros, zeros.copy()
        v = self._pair_contexts((first + self._ridx * (self.C + 1)).ravel())
        out = {
            "trust": self.trust,
            "conflict": v["conflict_target"],
            "confidence": self._confidence(v),
            "damage": zeros,
            "honoured": zeros,
            "breached": zeros,
            "scar": zeros,
        }
        self.confidence = out["confidence"]
        out["risk"] = self._risk_target(v)
        for name, value in saved.items():
            if value is not None:
                setattr(self, name, value)
        return out

    # ------------------------------------------------------------ integration
    def _integration(self) -> list[tuple[int, float, np.ndarray]]:
        """(continuing organisation, months since completion, cohesion) of each merger."""
        return [(m["lead"], self.month - m["month"], m["cohesion"]) for m in self.__dict__.get(
            "_mergers", ())]  # fmt: skip

    def integration_load(self) -> np.ndarray | float:
        """The management attention each organisation's merger integration takes this
        month, (N,) (0 without one)."""
        mergers = self.__dict__.get("_mergers")
        if not mergers:
            return 0.0
        p = self.p
        load = np.zeros(self.N)
        for m in mergers:
            load[m["lead"]] += p["integration_attention"] * np.exp(
                -(self.month - m["month"]) / p["integration_months"]
            )
        return load

    def update_merger_effects(self) -> None:
        """This month's savings, service gains and integration costs of every merged
        organisation (``merger_efficiency``, ``merger_service``), and its workforce
        stability during integration."""
        mergers = self.__dict__.get("_mergers")
        if not mergers:
            return
        p, o = self.p, self.org
        eff = np.zeros((self.R, self.N))
        service = np.zeros((self.R, self.N))
        changed = False
        for m in mergers:
            i, since = m["lead"], self.month - m["month"]
            load = np.exp(-since / p["integration_months"])
            savings = 1.0 - np.exp(-since / p["savings_months"])
            gains = 1.0 - np.exp(-since / (p["savings_months"] * p["service_lag_ratio"]))
            eff[:, i] += (
                p["merger_savings"] * savings * o["baseline_performance"][i]
                - p["transition_cost"] * load
            )
            service[:, i] += (
                p["service_gain"] * gains * m["cohesion"] - p["merger_disruption"] * load
            )
            stability = max(0.0, m["stability"] - p["turnover_effect"] * load)
            if abs(o["workforce_stability"][i] - stability) > 1e-3:
                o["workforce_stability"][i] = stability
                changed = True
        self.merger_efficiency, self.merger_service = eff, service
        if changed:
            self._refresh_collab_statics()
