"""Starting relations: the model's own at month 0, or ones a user (or a survey) gives.

A base class of :class:`~ioc_sim.engine.simulation.Simulation`, kept apart so
that the monthly cycle reads on its own; docs/ODD.md section 5 has the equations.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class StartingRelations:
    """Trust, confidence, risk threshold, conflict, faith and progress at month 0."""

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
        self.trust = self._starting_trust(hist, formal)
        v = self._pair_contexts((first[None, :] + self._ridx * (self.C + 1)).ravel())
        self.conflict = v["conflict_target"]
        self.confidence = self._confidence(v)
        self.risk = self._risk_target(v)
        mh = self.ctx["history"].take(self._mem_collab, axis=1)
        self.faith = np.clip(p["initial_faith"] + 0.2 * mh, 0.0, 1.0)
        self.progress = np.full((r, self.M + 1), 0.5)
        self.progress[:, self.M] = 0.0
        self.faith[:, self.M] = 0.0

    def _starting_trust(self, hist: np.ndarray, formal: np.ndarray) -> np.ndarray:
        """Trust a new relationship starts from: the prior, raised by the collaboration's
        history and formalisation (docs/ODD.md section 5)."""
        p = self.p
        return np.clip(
            p["initial_trust"]
            + p["history_trust_effect"] * hist
            + p["formal_trust_effect"] * formal,
            0.0,
            1.0,
        )

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
            total = np.maximum.reduce(
                [
                    np.full_like(c, 10.0),
                    (c * (k + 2.0) - v["prior"] - 1.0) / (1.0 - c),
                    (v["prior"] + 1.0) / c - k - 2.0,
                ]
            )
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
