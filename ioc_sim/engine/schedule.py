"""Scheduled changes of a simulation: events, support windows and shocks
(``docs/ODD.md`` sections 6 and 7.4), the first phase of every month.
"""

from __future__ import annotations

from typing import Any


class ScheduledChanges:
    """Events and their lasting effects, for
    :class:`~ioc_sim.engine.simulation.Simulation` (its base class).

    Reads and changes the simulation's contexts, organisation attributes, shocks,
    support windows, trust and damage (leadership turnover) and ``merged_into``.
    """

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
            open_ = [
                (start, level)
                for start, until, cc, level in self._support_windows
                if cc == c and start <= t < until
            ]
            level = max(open_)[1] if open_ else None
            self.ctx["support"][:, c] = self._support_base[:, c] if level is None else level

    def shock_level(self, month: int | None = None) -> float:
        """Sum of decaying pandemic-type shocks at ``month`` (default: now), capped at 1."""
        t = self.month if month is None else month
        level = sum(mag * 0.5 ** ((t - m0) / half) for m0, mag, half, _ in self.shocks if t >= m0)
        return min(1.0, level)

    def shock_pressure(self) -> float:
        """Sum of the decaying shocks' extra resource pressure now, capped at 1."""
        t = self.month
        return min(
            1.0,
            sum(
                pr * mag * 0.5 ** ((t - m0) / half) for m0, mag, half, pr in self.shocks if t >= m0
            ),
        )

    def _pressure(self) -> float:
        """Resource pressure now: the system's, plus the shocks', capped at 1."""
        return min(1.0, self.system["resource_pressure"] + self.shock_pressure())

    def _collab_index(self, name: str) -> int:
        return next(i for i, cs in enumerate(self.st.collabs) if cs.name == name)

    def apply_event(self, ev: dict[str, Any]) -> None:
        """Apply one scheduled change of context.

        Args:
            ev: A normalised event (:func:`ioc_sim.spec.events.normalise_events`).
        """
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
            for key, mean in (
                ("vulnerability", "leader_vulnerability"),
                ("persuasiveness", "leader_persuasiveness"),
            ):
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
