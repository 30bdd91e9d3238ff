"""ioc_sim: an agent-based simulation of collaboration between NHS provider organisations.

It makes executable the realist programme theory of Millar et al. (2023,
NIHR HS&DR 11(6), doi:10.3310/KPLT1423): collaboration runs on trust, faith,
confidence and risk tolerance, and becomes performance through cultural
efficacy, organisational efficiency and technological effectiveness.
"""

from ioc_sim.errors import ConfigError
from ioc_sim.model import CollaborationModel
from ioc_sim.parameters import PARAMETERS

__version__ = "0.1.0"

__all__ = ["CollaborationModel", "ConfigError", "PARAMETERS", "__version__", "load_scenario"]


def __getattr__(name: str):
    # Scenario loading pulls in TOML parsing; import it on first use.
    if name in ("load_scenario", "Scenario"):
        from ioc_sim import scenarios

        return getattr(scenarios, name)
    raise AttributeError(name)
