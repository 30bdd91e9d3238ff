"""Scheduled changes of a simulation: events, support windows and shocks
(``docs/ODD.md`` sections 6 and 7.4), the first phase of every month.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ioc_sim.engine.stages import DISSOLVED, DISSOLVING, FORMING, PLANNED, WINDING_DOWN, WOUND_DOWN


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
        """Resource pressure now, capped at 1: the system's, the shocks', and that of
        emergency demand grown beyond its level at the start (eq. Q13a of the ODD),
        ``demand_pressure * (demand - 1)``."""
        demand = self.p["demand_pressure"] * max(0.0, self.demand_level - 1.0)
        return min(1.0, self.system["resource_pressure"] + self.shock_pressure() + demand)

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
        elif kind == "wind_down":
            self.wind_down(self._collab_index(ev["collaboration"]))
        elif kind == "merger":
            self.merge(ev["organisations"], ev.get("name"))

    def wind_down(self, c: int) -> None:
        """End collaboration ``c`` by a policy decision: it winds down over
        ``dissolving_months`` as a proper ending, which leaves no scar on its pairs.
        A collaboration not yet started never starts; one already ending is left alone.

        Args:
            c: The collaboration's index.
        """
        status = self.status[:, c]
        planned = status == PLANNED
        going = (status >= FORMING) & (status < DISSOLVING)
        status[planned] = DISSOLVED
        status[going] = DISSOLVING
        self.left[going, c] = int(self.p["dissolving_months"])
        self.ending[planned | going, c] = WOUND_DOWN
        # A collaboration not yet started is cancelled: its wind-down begins and ends now.
        for rep in np.flatnonzero(going | planned):
            self.collab_log.append((int(rep), self.month, c, WINDING_DOWN))
