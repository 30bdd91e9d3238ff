"""The teaching app: a SolaraViz page over :class:`~ioc_sim.app.teaching.TeachingModel`.

Modules, by what they do:

* :mod:`~ioc_sim.app.controls`: the scenarios offered and the sliders and selects,
  generated from the parameter declarations;
* :mod:`~ioc_sim.app.teaching`: :class:`TeachingModel`, a scenario with a teacher's
  changes, rebuilt from keywords alone;
* :mod:`~ioc_sim.app.explanations`: trends, their reasons and the "what is driving
  change now" panel;
* :mod:`~ioc_sim.app.network`: the network drawing and its legend;
* :mod:`~ioc_sim.app.page`: the SolaraViz page (``Page``), built on first access;
* :mod:`~ioc_sim.app.serve`: the ``ioc-sim app`` command (its :func:`serve` is
  reached as ``ioc_sim.app.serve.serve``: the module has the function's name).

Every name below is imported on first use, so importing this package needs
neither solara nor Mesa; ``from ioc_sim.app import Page`` is what a notebook
cell and ``ioc-sim app`` use.
"""

import importlib

#: Names offered here, and the module that defines each.
_LAZY = {
    "Page": "page",
    "TeachingModel": "teaching",
    "SteadyDataCollector": "teaching",
    "APP_LIMITS": "controls",
    "APP_PARAMETERS": "controls",
    "CONTROLLED": "controls",
    "DEFAULT_SCENARIO": "controls",
    "ScenarioInfo": "controls",
    "control_spec": "controls",
    "control_specs": "controls",
    "scenario_info": "controls",
    "scenario_names": "controls",
    "Trend": "explanations",
    "describe_changes": "explanations",
    "events_now": "explanations",
    "explain": "explanations",
    "maturity_html": "explanations",
    "months_without_progress": "explanations",
    "now_html": "explanations",
    "status_rows": "explanations",
    "trend": "explanations",
    "draw_network": "network",
    "network_caption": "network",
    "network_legend_html": "network",
    "network_png": "network",
    "node_colours": "network",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"ioc_sim.app.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'ioc_sim.app' has no attribute {name!r}")
