"""The teaching app's controls, generated from the parameter declarations.

Each control is a Mesa ``model_params`` entry (a slider or a select) made from
a declared :class:`~ioc_sim.spec.parameters.Param`: its kind, bounds and
choices come from the declaration, its label from :data:`LABELS` or the name,
and its starting value from the chosen scenario (:func:`scenario_info`). The
app's own settings (:data:`APP_PARAMETERS`) are declared the same way, so they
are generated and validated alike.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from ioc_sim.engine.system import build_system, resolve_parameters
from ioc_sim.experiments.scenarios import Scenario, bundled_scenarios, load_scenario
from ioc_sim.spec.parameters import PARAMETERS, SPECIFICATIONS, Param

DEFAULT_SCENARIO = "default"

#: Declared parameters the teacher can adjust, in the order their controls appear.
CONTROLLED: tuple[str, ...] = (
    "form",
    "mandate",
    "shared_vision",
    "data_sharing",
    "resource_pressure",
    "leader_vulnerability",
    "leader_persuasiveness",
    "trust_asymmetry",
    *SPECIFICATIONS,
    "n_organisations",
)

#: Settings of the app itself, declared like the model's parameters so that their
#: controls are generated and validated the same way.
APP_PARAMETERS: dict[str, Param] = {
    p.name: p
    for p in (
        Param(
            "shock_month",
            0,
            0,
            1200,
            "month",
            "shock",
            "Month at which a pandemic-type shock hits; 0 for no extra shock.",
            "app",
            "structural",
            kind="int",
            sensitivity=False,
        ),
        Param(
            "shock_magnitude",
            0.8,
            0.0,
            1.0,
            "0-1 scale",
            "shock",
            "Size of that shock; it halves every 6 months.",
            "app",
            "assumption",
            sensitivity=False,
        ),
        Param(
            "replicate",
            0,
            0,
            99,
            "replicate",
            "randomness",
            "Which replicate to show: the seed of replicate r of `ioc-sim run`.",
            "app",
            "structural",
            kind="int",
            sensitivity=False,
        ),
    )
}

#: Upper bounds the app sets below the declared ones: thousands of organisations
#: cannot be drawn smoothly in a browser, and a teaching run needs no more than this.
APP_LIMITS = {"n_organisations": 400}

#: Label of a control where the parameter's name alone would not say what it is.
LABELS = {
    "resource_pressure": "Financial pressure (resource_pressure)",
    "leader_vulnerability": "Leadership: vulnerability shown",
    "leader_persuasiveness": "Leadership: persuasiveness",
    "trust_asymmetry": "Trust asymmetry (lost x times faster)",
    "n_organisations": "Organisations (synthetic systems)",
    "shock_month": "Shock at month (0 = none)",
    "replicate": "Replicate (random seed)",
}


# ----------------------------------------------------------------- scenarios
@dataclass(frozen=True)
class ScenarioInfo:
    """What the app needs to know about one scenario.

    Attributes:
        name: Name shown and passed back as the ``scenario_name`` keyword.
        scenario: The loaded scenario.
        baseline: The scenario's own value of every controlled parameter (for a
            collaboration context, that of its first collaboration).
        synthetic: Whether the organisations are drawn (so their number can change).
        collaborations: Names of its collaborations.
    """

    name: str
    scenario: Scenario
    baseline: dict[str, Any]
    synthetic: bool
    collaborations: tuple[str, ...]


def scenario_names() -> list[str]:
    """Names of the bundled scenarios, the default first."""
    names = [p.stem for p in bundled_scenarios()]
    return sorted(names, key=lambda n: (n != DEFAULT_SCENARIO, n))


@functools.lru_cache(maxsize=64)
def scenario_info(name: str) -> ScenarioInfo:
    """Load a scenario and read the values its controls start from.

    Raises:
        ConfigError: If there is no such scenario or it is invalid.
    """
    sc = load_scenario(name)
    params, explicit = resolve_parameters(sc.params)
    _, specs, _ = build_system(params, explicit, sc.organisations, sc.collaborations, sc.events)
    first = specs[0]
    baseline = {}
    for key in CONTROLLED:
        if key == "form":
            baseline[key] = first.form
        elif PARAMETERS[key].group == "collaboration":
            baseline[key] = first.contexts[key]
        else:
            baseline[key] = params[key]
    for key, p in APP_PARAMETERS.items():
        baseline[key] = p.default
    return ScenarioInfo(name, sc, baseline, not sc.organisations, tuple(s.name for s in specs))


def same_value(a: Any, b: Any) -> bool:
    """Whether a control's value is the scenario's own (a control left where it started)."""
    # Slider steps arrive as floats such as 0.30000000000000004.
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(float(a) - float(b)) < 1e-6


# ------------------------------------------------------------------ controls
def _step(p: Param) -> float:
    if p.kind == "int":
        return 1
    raw = (p.high - p.low) / 20.0
    # A round step (0.05, 0.25, ...) so that slider positions read as plain numbers.
    exponent = math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if mult * 10**exponent >= raw - 1e-12:
            return mult * 10**exponent
    return raw


def _label(p: Param) -> str:
    if p.name in LABELS:
        return LABELS[p.name]
    if p.group == "specification":
        return f"Specification: {p.name}"
    return p.name.replace("_", " ").capitalize()


def control_spec(p: Param, value: Any, high: float | None = None) -> dict[str, Any]:
    """A Mesa ``model_params`` entry for one declared parameter.

    Args:
        p: The declaration: kind, bounds and choices come from it.
        value: Where the control starts.
        high: An upper bound below the declared one, if any.

    Returns:
        A dict that Mesa's SolaraViz turns into a slider or a select.
    """
    if p.kind == "choice":
        return {"type": "Select", "value": value, "values": list(p.choices), "label": _label(p)}
    top = p.high if high is None else min(p.high, high)
    if p.kind == "int":
        return {
            "type": "SliderInt",
            "value": int(value),
            "min": int(p.low),
            "max": int(top),
            "step": 1,
            "label": _label(p),
        }
    return {
        "type": "SliderFloat",
        "value": float(value),
        "min": float(p.low),
        "max": float(top),
        "step": _step(p),
        "label": _label(p),
    }


def control_specs(scenario: str) -> dict[str, Any]:
    """SolaraViz ``model_params`` for one scenario: every control, at the scenario's values.

    The ``scenario_name`` entry is fixed (a plain value), so Reset rebuilds the
    same scenario with the controls' current values. (Not ``scenario``: Mesa 3.5's
    SolaraViz fills that keyword with a Mesa ``Scenario`` of its own on Reset.)
    """
    info = scenario_info(scenario)
    out: dict[str, Any] = {"scenario_name": info.name}
    for key in CONTROLLED:
        if key == "n_organisations" and not info.synthetic:
            continue  # the scenario lists its organisations
        out[key] = control_spec(PARAMETERS[key], info.baseline[key], APP_LIMITS.get(key))
    limits = {"shock_month": info.scenario.months}
    for key, p in APP_PARAMETERS.items():
        out[key] = control_spec(p, info.baseline[key], limits.get(key))
    return out
