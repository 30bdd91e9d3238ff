"""ioc_sim: an agent-based simulation of collaboration between NHS provider organisations.

It makes executable the realist programme theory of Millar et al. (2023,
NIHR HS&DR 11(6), doi:10.3310/KPLT1423): collaboration runs on trust, faith,
confidence and risk tolerance, and becomes performance through cultural
efficacy, organisational efficiency and technological effectiveness.
"""

from ioc_sim.errors import ConfigError
from ioc_sim.spec.parameters import PARAMETERS

__version__ = "0.1.0"

__all__ = [
    "CollaborationModel",
    "ConfigError",
    "PARAMETERS",
    "__version__",
    "load_experiment",
    "load_results",
    "load_scenario",
    "run_experiment",
]

#: Names imported on first use (module that defines them), so that ``import ioc_sim`` (and
#: with it every ``ioc-sim`` command) does not load Mesa, pandas and the compiled kernels
#: until something needs them.
_LAZY = {
    "CollaborationModel": "model.model",
    "ProviderAgent": "model.agents",
    "load_scenario": "experiments.scenarios",
    "Scenario": "experiments.scenarios",
    "load_experiment": "experiments.spec",
    "Experiment": "experiments.experiment",
    "run_experiment": "experiments.execution",
    "load_results": "experiments.results",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"ioc_sim.{_LAZY[name]}"), name)
    raise AttributeError(name)
