"""The array model: population, interaction structure, random streams, the monthly
cycle and its compiled kernels, with the readable numpy reference they are tested
against. Imports only :mod:`ioc_sim.spec` (and :mod:`ioc_sim.errors`).

Modules, by what they hold:

* :mod:`~ioc_sim.engine.system`: parameters, organisations, collaborations and
  events resolved and checked before a run;
* :mod:`~ioc_sim.engine.population`: the organisations and their attributes;
* :mod:`~ioc_sim.engine.structure`: who works with whom, in which collaboration;
* :mod:`~ioc_sim.engine.streams`: the random streams of each replicate;
* :mod:`~ioc_sim.engine.simulation`: the state and the monthly cycle, phase by
  phase, with :mod:`~ioc_sim.engine.schedule` (events, support windows, shocks)
  and :mod:`~ioc_sim.engine.views` (what is cached between months);
* :mod:`~ioc_sim.engine.kernels`: the compiled phases;
* :mod:`~ioc_sim.engine.reference`: the pairs' phases in plain numpy;
* :mod:`~ioc_sim.engine.stages` and :mod:`~ioc_sim.engine.effectiveness`: the
  lifecycle codes, and the components of effectiveness.

Other layers import these names from here, not from the modules.
"""

from ioc_sim.engine.effectiveness import COMPONENTS
from ioc_sim.engine.population import Population, draw_population
from ioc_sim.engine.simulation import Simulation
from ioc_sim.engine.stages import (
    ACTIVE,
    COLLAB_EVENTS,
    DEEPENING,
    DISSOLVED,
    DISSOLVING,
    FORMING,
    IMPROPER,
    ORG_EVENTS,
    PLANNED,
    WOUND_DOWN,
    status_name,
)
from ioc_sim.engine.system import build_system, normalise_relations, resolve_parameters

__all__ = [
    "ACTIVE",
    "COLLAB_EVENTS",
    "COMPONENTS",
    "DEEPENING",
    "DISSOLVED",
    "DISSOLVING",
    "FORMING",
    "IMPROPER",
    "ORG_EVENTS",
    "PLANNED",
    "Population",
    "Simulation",
    "WOUND_DOWN",
    "build_system",
    "draw_population",
    "normalise_relations",
    "resolve_parameters",
    "status_name",
]
