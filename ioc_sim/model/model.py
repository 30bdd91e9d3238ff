"""The Mesa model: a system of NHS provider organisations that collaborate.

One step is one month. ``CollaborationModel(rng=42, **params)`` builds the
system from keyword parameters (see :mod:`ioc_sim.spec.parameters`) plus optional
structure (organisations, collaborations, scheduled events), and each
``step()`` runs the monthly cycle of :class:`ioc_sim.engine.Simulation`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import mesa
import numpy as np
import pandas as pd

from ioc_sim.engine import (
    Simulation,
    build_system,
    normalise_relations,
    resolve_parameters,
    status_name,
)
from ioc_sim.errors import ConfigError
from ioc_sim.model import metrics, outputs
from ioc_sim.model.agents import ProviderAgent
from ioc_sim.spec.parameters import CONTEXT_FIELDS
from ioc_sim.spec.schema import MAX_SEED
from ioc_sim.spec.tables import as_table_list

#: Organisation-level variables collected when ``collect_organisations=True``.
ORGANISATION_REPORTERS = {
    "code": "code",
    "type": "org_type",
    "distressed": "distressed",
    "collaborative_behaviour": "collaborative_behaviour",
    "mean_trust": "mean_trust",
    "faith": "faith",
    "quality": "quality",
    "efficiency": "efficiency",
    "access": "access",
    "emergency_admissions": "emergency_admissions",
    "performance": "performance",
    "collaboration_cost": "collaboration_cost",
}


class CollaborationModel(mesa.Model):
    """Collaboration between NHS provider organisations, one step per month.

    Args:
        rng: Seed or generator for all dynamic randomness (Mesa's convention): a
            whole number from 0 to 2**63 - 1 (the range ``ioc-sim run --seed``
            takes), a numpy ``Generator``, ``BitGenerator`` or ``SeedSequence``, or
            None for fresh entropy.
        seed: The same as ``rng`` (Mesa's older name, which Mesa models and
            ``mesa.batch_run`` still use); give one or the other.
        organisations: Optional list of organisation tables (id, type and any
            attribute); otherwise ``n_organisations`` are drawn.
        collaborations: Optional list of collaboration tables (name, form,
            members, start and context overrides); otherwise one collaboration
            of ``form`` joins everyone.
        events: Optional scheduled changes (see :mod:`ioc_sim.spec.events`).
            For these three, a single table is read as a list of one.
        collect_organisations: Also collect organisation-level variables
            every month (slower).
        collect_pairs: Also keep pair-level trust, confidence, risk threshold
            and conflict every month.
        initial_relations: Optional starting relations that replace the model's
            own (for example from a diagnostic survey): keys ``trust``,
            ``confidence``, ``risk_threshold``, ``conflict`` (pairs) and
            ``faith``, ``perceived_progress`` (memberships); each value a number
            in [0, 1] for everyone, or ``{organisation id: number}`` applied to
            that organisation's own view (its outgoing pairs, its memberships).
        **parameters: Any declared parameter; collaboration contexts given
            here override every collaboration.

    Raises:
        ConfigError: Naming the field, for any unknown or invalid input.
    """

    def __init__(
        self,
        *,
        rng: Any = None,
        seed: Any = None,
        organisations: Sequence[Mapping[str, Any]] | None = None,
        collaborations: Sequence[Mapping[str, Any]] | None = None,
        events: Sequence[Mapping[str, Any]] | None = None,
        collect_organisations: bool = False,
        collect_pairs: bool = False,
        initial_relations: Mapping[str, Any] | None = None,
        **parameters: Any,
    ):
        super().__init__(rng=_seed_or_rng(rng, seed))
        params, explicit = resolve_parameters(parameters)
        self.params = params
        self.months = params["months"]
        # A single table is a list of one (how mesa.batch_run hands over a one-item list).
        organisations = as_table_list("organisations", organisations)
        collaborations = as_table_list("collaborations", collaborations)
        events = as_table_list("events", events)
        pop, specs, evs = build_system(params, explicit, organisations, collaborations, events)
        self.sim = Simulation(params, pop, specs, evs, [self.rng])
        if initial_relations:
            self.sim.set_relations(normalise_relations(initial_relations, pop.ids))
        self.organisations: list[ProviderAgent] = [ProviderAgent(self, i) for i in range(pop.n)]
        # Mesa 3.3 keeps every model in a class-level table of agent id counters (mesa#3179),
        # so no model built in a process is ever freed; ours creates no agents after this.
        getattr(mesa.Agent, "_ids", {}).pop(self, None)
        self._remove_merged()
        self.collect_pairs = collect_pairs
        self._pairs: list[np.ndarray] = []
        self.datacollector = mesa.DataCollector(
            model_reporters=metrics.model_reporters(),
            agent_reporters=dict(ORGANISATION_REPORTERS) if collect_organisations else None,
        )
        self.running = True
        self._collect()

    def _collect(self) -> None:
        # Every model-level metric in one vectorised pass; the reporters read its floats.
        floats = metrics.snapshot(self.sim)
        dc = self.datacollector
        if (
            dc.agent_reporters
            or dc.agenttype_reporters
            or dc.tables
            or not dc.model_vars.keys() <= floats.keys()
        ):
            dc.collect(self)
        else:  # what collect would store, without its per-metric calls and deep copies
            for name, values in dc.model_vars.items():
                values.append(floats[name])
            # Mesa 3.4.2 and later also record when each row was collected (model.time);
            # mesa.batch_run reads its rows through that list.
            steps = getattr(dc, "_collection_steps", None)
            if steps is not None:
                steps.append(self.time)
        if self.collect_pairs:
            s = self.sim
            self._pairs.append(np.stack([s.trust[0], s.confidence[0], s.risk[0], s.conflict[0]]))

    def step(self) -> None:
        """Run one month: scheduled changes, lifecycle review, acts, outcomes, updates of
        conflict, trust, confidence, risk threshold, progress and faith, performance,
        distress; then collect."""
        self.sim.step()
        self._remove_merged()
        self._collect()
        if self.steps >= self.months:
            self.running = False

    def _remove_merged(self) -> None:
        for i in np.flatnonzero(self.sim.merged_into >= 0):  # usually none
            agent = self.organisations[i]
            if agent in self.agents:
                agent.remove()  # the acquired trust no longer acts as an organisation

    def run(self, months: int | None = None) -> CollaborationModel:
        """Run ``months`` more months (default: to the end of the run)."""
        target = self.months if months is None else self.steps + months
        if months is not None and months < 0:
            raise ConfigError("months", f"got {months}; allowed: a whole number of 0 or more")
        while self.steps < target:
            self.step()
        return self

    # ----------------------------------------------------------------- output
    def model_dataframe(self) -> pd.DataFrame:
        """Model-level metrics, one row per month (month 0 is the initial state)."""
        df = self.datacollector.get_model_vars_dataframe()
        df.index.name = "month"
        return df

    def organisation_dataframe(self) -> pd.DataFrame:
        """Organisation-level variables per month (needs ``collect_organisations=True``)."""
        if not self.datacollector.agent_reporters:
            raise ConfigError(
                "collect_organisations",
                "organisation data were not collected; "
                "create the model with collect_organisations=True",
            )
        df = self.datacollector.get_agent_vars_dataframe().reset_index()
        return df.rename(columns={"Step": "month", "AgentID": "agent_id"})

    def pair_dataframe(self) -> pd.DataFrame:
        """Pair-level state per month (needs ``collect_pairs=True``)."""
        if not self.collect_pairs:
            raise ConfigError(
                "collect_pairs",
                "pair data were not collected; create the model with collect_pairs=True",
            )
        s = self.sim
        ids = np.array(s.pop.ids)
        months = len(self._pairs)
        data = np.stack(self._pairs)  # (T, 4, E)
        return pd.DataFrame(
            {
                "month": np.repeat(np.arange(months), s.E),
                "source": np.tile(ids[s.st.src], months),
                "target": np.tile(ids[s.st.dst], months),
                "trust": data[:, 0].ravel(),
                "confidence": data[:, 1].ravel(),
                "risk_threshold": data[:, 2].ravel(),
                "conflict": data[:, 3].ravel(),
            }
        )

    def collaborations(self) -> pd.DataFrame:
        """One row per collaboration: form, members, status, age and current contexts."""
        s = self.sim
        rows = []
        for c, spec in enumerate(s.st.collabs):
            row = {
                "name": spec.name,
                "form": spec.form,
                "members": ", ".join(s.pop.ids[i] for i in spec.members),
                "status": status_name(int(s.status[0, c])),
                "age": int(s.age[0, c]),
                "start": spec.start,
            }
            row.update({f: float(s.ctx[f][0, c]) for f in CONTEXT_FIELDS})
            rows.append(row)
        return pd.DataFrame(rows)

    # What happened, as tables (:mod:`ioc_sim.model.outputs`; each has a replicate
    # column, 0 here, so that a model's tables stack with a batch runner's).
    def episodes(self) -> pd.DataFrame:
        """Each special-measures episode (start, end, duration, whether under way at
        month 0, how it ended) and each merger completion, up to now."""
        return outputs.episodes(self.sim)

    def pairs(self) -> pd.DataFrame:
        """Each ordered pair now: relationship age (months since its first shared
        collaboration), trust, confidence, and the collaborations it shares."""
        return outputs.pairs(self.sim)

    def collaboration_events(self) -> pd.DataFrame:
        """Every event of a collaboration's life (started, deepened, dissolution began,
        dissolved, wound down, completed by a merger), with its month."""
        return outputs.collaboration_events(self.sim)

    def organisation_events(self) -> pd.DataFrame:
        """Every entry into and exit from special measures, and every merger, with its
        month."""
        return outputs.organisation_events(self.sim)

    def organisations_now(self) -> pd.DataFrame:
        """Every organisation now: emergency admissions, quality, efficiency, access,
        performance, special measures, and whether it is still in being."""
        return outputs.organisations(self.sim)

    def agent(self, code: str) -> ProviderAgent:
        """The organisation with id ``code``."""
        for a in self.organisations:
            if a.code == code:
                return a
        raise KeyError(code)


def _seed_or_rng(rng: Any, seed: Any) -> Any:
    """The one seed or generator given, checked as ``ioc-sim run --seed`` checks a seed.

    Raises:
        ConfigError: Naming ``rng`` or ``seed``, for both given or an unusable value.
    """
    if rng is not None and seed is not None:
        raise ConfigError("seed", "give rng or seed, not both (they mean the same)")
    name, value = ("seed", seed) if seed is not None else ("rng", rng)
    if value is None or isinstance(
        value, np.random.Generator | np.random.BitGenerator | np.random.SeedSequence
    ):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if 0 <= value <= MAX_SEED:
            return int(value)
    raise ConfigError(
        name,
        f"got {value!r}; allowed: a whole number from 0 to {MAX_SEED} (2**63 - 1), "
        "a numpy Generator, BitGenerator or SeedSequence, or None",
    )


__all__ = ["CollaborationModel"]
