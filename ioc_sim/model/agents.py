"""NHS provider organisations as Mesa agents.

The hot state lives in the model's arrays (:mod:`ioc_sim.engine`); a
:class:`ProviderAgent` is a readable view of one organisation in the model's
single replicate, so ``model.agents`` can be listed, filtered and
aggregated with Mesa's AgentSet verbs.
"""

from __future__ import annotations

import mesa
import numpy as np

from ioc_sim.engine import status_name


class ProviderAgent(mesa.Agent):
    """One provider organisation (a trust, a primary care network, a council's care arm).

    Args:
        model: The :class:`~ioc_sim.model.CollaborationModel` the organisation belongs to
            (its array state is ``model.sim``).
        index: Its row in the model's organisation arrays.
    """

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        self.index = index
        pop = model.sim.pop
        self.code: str = pop.ids[index]
        self.org_type: str = pop.types[index]

    @property
    def name(self) -> str:
        """The organisation's name (a merger may give the merged organisation a new one)."""
        return self.model.sim.pop.names[self.index]

    def _org(self, key: str) -> float:
        return float(self.model.sim.org[key][self.index])

    # Organisation attributes -------------------------------------------------
    @property
    def size(self) -> float:
        """Relative size (an average acute trust is about 1)."""
        return self._org("size")

    @property
    def capacity(self) -> float:
        return self._org("capacity")

    @property
    def finances(self) -> float:
        return self._org("finances")

    @property
    def workforce_stability(self) -> float:
        return self._org("workforce_stability")

    @property
    def flexibility(self) -> float:
        return self._org("flexibility")

    @property
    def digital_maturity(self) -> float:
        return self._org("digital_maturity")

    @property
    def culture(self) -> float:
        return self._org("culture")

    @property
    def resolution_style(self) -> float:
        """From -1 (destructive) to +1 (constructive)."""
        return self._org("resolution_style")

    @property
    def vulnerability(self) -> float:
        return self._org("vulnerability")

    @property
    def persuasiveness(self) -> float:
        return self._org("persuasiveness")

    @property
    def baseline_performance(self) -> float:
        return self._org("baseline_performance")

    # State ------------------------------------------------------------------
    @property
    def distressed(self) -> bool:
        """Whether the organisation is in special measures."""
        return bool(self.model.sim.distressed[0, self.index])

    @property
    def merged_into(self) -> str | None:
        target = int(self.model.sim.merged_into[self.index])
        return None if target < 0 else self.model.sim.pop.ids[target]

    @property
    def collaborative_behaviour(self) -> float:
        return float(self.model.sim.behaviour[0, self.index])

    @property
    def performance(self) -> float:
        return float(self.model.sim.performance[0, self.index])

    @property
    def quality(self) -> float:
        return float(self.model.sim.quality[0, self.index])

    @property
    def efficiency(self) -> float:
        return float(self.model.sim.efficiency[0, self.index])

    @property
    def access(self) -> float:
        return float(self.model.sim.access[0, self.index])

    @property
    def emergency_admissions(self) -> float:
        """Emergency admissions index (1 at the start)."""
        return float(self.model.sim.admissions[0, self.index])

    @property
    def collaboration_cost(self) -> float:
        return float(self.model.sim.cost[0, self.index])

    def _own_edges(self) -> np.ndarray:
        return np.flatnonzero(self.model.sim.st.src == self.index)

    @property
    def partners(self) -> list[ProviderAgent]:
        """Organisations this one works with directly (in any collaboration)."""
        agents = self.model.organisations
        return [agents[j] for j in self.model.sim.st.dst[self._own_edges()]]

    def _pair(self, other: ProviderAgent) -> int:
        sim = self.model.sim
        hit = np.flatnonzero((sim.st.src == self.index) & (sim.st.dst == other.index))
        if not len(hit):
            raise KeyError(f"{self.code} does not work directly with {other.code}")
        return int(hit[0])

    def trust_in(self, other: ProviderAgent) -> float:
        """This organisation's trust in ``other``."""
        return float(self.model.sim.trust[0, self._pair(other)])

    def confidence_in(self, other: ProviderAgent) -> float:
        return float(self.model.sim.confidence[0, self._pair(other)])

    def risk_threshold_with(self, other: ProviderAgent) -> float:
        return float(self.model.sim.risk[0, self._pair(other)])

    def conflict_with(self, other: ProviderAgent) -> float:
        return float(self.model.sim.conflict[0, self._pair(other)])

    @property
    def mean_trust(self) -> float:
        """Mean trust in direct partners (0 with none)."""
        edges = self._own_edges()
        return float(self.model.sim.trust[0, edges].mean()) if len(edges) else 0.0

    @property
    def collaborations(self) -> dict[str, dict[str, float | str]]:
        """Faith, perceived progress and status for each collaboration it belongs to."""
        sim = self.model.sim
        out = {}
        for m in np.flatnonzero(sim.st.mem_org == self.index):
            c = int(sim.st.mem_collab[m])
            out[sim.st.collabs[c].name] = {
                "faith": float(sim.faith[0, m]),
                "perceived_progress": float(sim.progress[0, m]),
                "status": status_name(int(sim.status[0, c])),
            }
        return out

    @property
    def faith(self) -> float:
        """Mean faith across its collaborations."""
        sim = self.model.sim
        members = np.flatnonzero(sim.st.mem_org == self.index)
        return float(sim.faith[0, members].mean()) if len(members) else 0.0

    def __repr__(self) -> str:
        return f"ProviderAgent({self.code!r}, {self.org_type}, size={self.size:.2f})"
