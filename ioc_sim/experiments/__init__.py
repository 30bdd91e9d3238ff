"""Scenarios and experiments: files, seeds, runs on executors, results on disk, analysis.

The layer's public names, each loaded on first use so that ``import ioc_sim``
stays light:

* scenarios: :func:`load_scenario`, :class:`Scenario`, :func:`run_scenario`,
  :func:`replicate_seeds`;
* the runner every other one is built on: :func:`simulate` (build a system
  once, advance replicates together, read metrics month by month);
* experiments: :func:`load_experiment`, :class:`Experiment`,
  :func:`run_experiment`, :func:`load_results`, :class:`ExperimentResults`,
  :func:`analyse`, and :func:`selftest` (the pipeline checked on the
  Ishigami function).

Modules, from the bottom up: ``replicates`` (:func:`simulate`), ``scenarios``,
``provenance``, ``runs``; ``factors``, ``outcomes``, ``design``, ``experiment`` (the
:class:`Experiment` object), ``experiment_tables`` (checking a file's tables),
``spec`` (finding and loading files); ``reductions``, ``ishigami``, ``kinds``,
``tasks``, ``executors``, ``results``, ``execution``; ``analysers`` (one per
design method), ``sensitivity`` (:func:`analyse` and its summary), ``figures``,
``plotting``, ``pipeline_check`` (:func:`selftest`); ``transitions`` (how often
scenarios' structural events happen); ``jsonfiles``. No module
is named after a function it exports, so ``ioc_sim.experiments.simulate`` is
always the function.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public names, and the module of this package that defines each.
_LAZY = {
    "load_scenario": "scenarios",
    "Scenario": "scenarios",
    "run_scenario": "runs",
    "replicate_seeds": "provenance",
    "simulate": "replicates",
    "load_experiment": "spec",
    "Experiment": "experiment",
    "run_experiment": "execution",
    "load_results": "results",
    "ExperimentResults": "results",
    "analyse": "sensitivity",
    "selftest": "pipeline_check",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
