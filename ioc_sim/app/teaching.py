"""The teaching app's model: a bundled scenario with a teacher's changes.

:class:`TeachingModel` is a :class:`~ioc_sim.model.model.CollaborationModel`
built from keywords only (``scenario_name``, ``replicate``, ``shock_month``,
``shock_magnitude`` and any declared parameter), so SolaraViz's Reset rebuilds
it as it rebuilds any Mesa model. Its data collector is safe to read from the
thread that redraws the page while another steps the model.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import mesa

from ioc_sim.app.controls import APP_PARAMETERS, DEFAULT_SCENARIO, same_value, scenario_info
from ioc_sim.errors import ConfigError
from ioc_sim.experiments.runs import replicate_seeds
from ioc_sim.model import metrics
from ioc_sim.model.model import CollaborationModel
from ioc_sim.spec.parameters import PARAMETERS, unknown_name_error


class TeachingModel(CollaborationModel):
    """A bundled scenario with a teacher's changes, rebuilt from keywords alone.

    Args:
        scenario_name: Name of a bundled scenario, or a scenario file.
        scenario: The same as ``scenario_name`` when given as text. Mesa 3.5's
            SolaraViz passes a ``scenario`` of its own (a Mesa ``Scenario``) to every
            model it rebuilds on Reset; it carries none of this model's settings and
            is ignored, which is why the page names the scenario ``scenario_name``.
        replicate: Which replicate to show; replicate ``r`` has the seed that
            ``ioc-sim run`` gives its replicate ``r``.
        shock_month: Month of an extra pandemic-type shock (0 for none).
        shock_magnitude: Size of that shock.
        **kwargs: Any declared parameter (SolaraViz accepts only this name for the
            catch-all). A value equal to the scenario's own (what the control
            starts at) leaves the scenario unchanged; any other value overrides
            it, for every collaboration if it is a context.

    Attributes:
        info: The scenario and its baseline values.
        changes: The parameters that differ from the scenario, with their values.

    Raises:
        ConfigError: Naming the field, for an unknown name or an invalid value.
    """

    def __init__(
        self,
        *,
        scenario_name: str | None = None,
        scenario: Any = None,
        replicate: int = 0,
        shock_month: int = 0,
        shock_magnitude: float = 0.8,
        **kwargs: Any,
    ):
        info = scenario_info(_scenario_name(scenario_name, scenario))
        own = {
            "replicate": replicate,
            "shock_month": shock_month,
            "shock_magnitude": shock_magnitude,
        }
        own = {k: APP_PARAMETERS[k].validate(v) for k, v in own.items()}
        changes: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key not in PARAMETERS:
                raise unknown_name_error(key, list(PARAMETERS), "parameter")
            value = PARAMETERS[key].validate(value)
            if key not in info.baseline or not same_value(value, info.baseline[key]):
                changes[key] = value
        built = info.scenario.model_kwargs(**changes)
        if own["shock_month"] > 0:
            built["events"] = [
                *built.get("events", []),
                {"month": own["shock_month"], "kind": "shock", "magnitude": own["shock_magnitude"]},
            ]
        seed = replicate_seeds(info.scenario.seed, own["replicate"] + 1)[own["replicate"]]
        super().__init__(rng=seed, **built)
        self.info = info
        self.changes = changes
        self.replicate = own["replicate"]
        self.shock_month = own["shock_month"]
        self.shock_magnitude = own["shock_magnitude"]
        # The page is redrawn in one thread while the model steps in another (SolaraViz's
        # "Use Threads"), so month 0 is collected again into a collector that is safe for that.
        collector = SteadyDataCollector(model_reporters=metrics.model_reporters())
        collector.collect(self)
        self.datacollector = collector
        #: The month the app's page last drew; the page sets it (see ScenarioRun in page._ui).
        self.shown_month: int | None = None


def _scenario_name(name: str | None, scenario: Any) -> str:
    """The scenario asked for: ``scenario_name``, or ``scenario`` given as text."""
    if isinstance(scenario, str | os.PathLike):
        if name is not None and str(name) != str(scenario):
            raise ConfigError("scenario", "give scenario_name or scenario, not both")
        return str(scenario)
    if scenario is not None and not _is_mesa_scenario(scenario):
        raise ConfigError("scenario", f"got {scenario!r}; allowed: a scenario name or file")
    return DEFAULT_SCENARIO if name is None else str(name)


def _is_mesa_scenario(value: Any) -> bool:
    try:  # Mesa 3.5 and later
        from mesa.experimental.scenarios import Scenario
    except ImportError:
        return False
    return isinstance(value, Scenario)


class SteadyDataCollector(mesa.DataCollector):
    """A DataCollector whose table is never read halfway through a month's collection.

    Collection appends to one list per metric in turn; a reader in another thread
    at that moment would find columns of different lengths.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()

    def collect(self, model: mesa.Model) -> None:
        with self._lock:
            super().collect(model)

    def get_model_vars_dataframe(self):
        with self._lock:
            return super().get_model_vars_dataframe()
