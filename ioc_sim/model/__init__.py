"""The Mesa face of the engine: :class:`CollaborationModel`, :class:`ProviderAgent`,
the named metrics it collects and the collaboration maturity index."""

from ioc_sim.model.agents import ProviderAgent
from ioc_sim.model.model import CollaborationModel

__all__ = ["CollaborationModel", "ProviderAgent"]
