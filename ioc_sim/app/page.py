"""Teaching app: a browser view of how trust, faith, confidence and risk tolerance move.

``ioc-sim app`` serves it on localhost; in a Jupyter notebook the same page is::

    from ioc_sim.app.page import Page
    Page()

It is Mesa's :class:`~mesa.visualization.SolaraViz` (play, pause, step, reset,
speed, parameter controls, plots) around :class:`TeachingModel`, with three
components of ours where Mesa has none: the organisations as a network with
links shaded by trust, a plain-language panel naming what drives change now,
and a scenario picker that shows each bundled scenario's question.

Design:

* :class:`TeachingModel` is a :class:`~ioc_sim.model.CollaborationModel`
  built from keywords only (``scenario``, ``replicate``, ``shock_month``,
  ``shock_magnitude`` and any declared parameter), so SolaraViz's Reset
  rebuilds it as it rebuilds any Mesa model.
* The controls are generated from the declarations in
  :mod:`ioc_sim.parameters` (:func:`control_specs`), and start at the chosen
  scenario's own values. A control left at that value changes nothing; a moved
  one overrides the scenario (a collaboration context then applies to every
  collaboration). Choosing another scenario rebuilds the page with its values.
* Playing draws every month by default, as fast as the page can be redrawn
  (about 3 months a second, for 20 or 200 organisations alike: drawing, not the
  model, takes the time). To go faster, *Render Interval* redraws every few
  months, or Mesa's *Use Threads* lets the model keep the *Play Interval*'s pace
  while the page redraws when it can; the model's data collector is made safe
  for that, and a small thread of ours brings the page up to date when a
  threaded run is paused or ends.
* solara and Mesa's visualisation are imported only when the page is built
  (``Page`` is created on first access), so the rest of the package, and this
  module's model, controls and explanations, work without them.
"""

from __future__ import annotations

import functools
import html
import io
import math
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np

from ioc_sim.engine import (
    ACTIVE,
    DEEPENING,
    DISSOLVING,
    FORMING,
    build_system,
    resolve_parameters,
)
from ioc_sim.errors import ConfigError
from ioc_sim.experiments.scenarios import Scenario, bundled_scenarios, load_scenario
from ioc_sim.model import metrics
from ioc_sim.model.model import CollaborationModel
from ioc_sim.spec.forms import TYPE_NAMES
from ioc_sim.spec.parameters import PARAMETERS, SPECIFICATIONS, Param, unknown_name_error

DEFAULT_SCENARIO = "default"
DEFAULT_PORT = 8765

#: Declared parameters the teacher can adjust, in the order their controls appear.
CONTROLLED: tuple[str, ...] = (
    "form", "mandate", "shared_vision", "data_sharing", "resource_pressure",
    "leader_vulnerability", "leader_persuasiveness", "trust_asymmetry", *SPECIFICATIONS,
    "n_organisations",
)

#: Settings of the app itself, declared like the model's parameters so that their
#: controls are generated and validated the same way.
APP_PARAMETERS: dict[str, Param] = {p.name: p for p in (
    Param("shock_month", 0, 0, 1200, "month", "shock",
          "Month at which a pandemic-type shock hits; 0 for no extra shock.", "app",
          "structural", kind="int", sensitivity=False),
    Param("shock_magnitude", 0.8, 0.0, 1.0, "0-1 scale", "shock",
          "Size of that shock; it halves every 6 months.", "app", "assumption",
          sensitivity=False),
    Param("replicate", 0, 0, 99, "replicate", "randomness",
          "Which replicate to show: the seed of replicate r of `ioc-sim run`.", "app",
          "structural", kind="int", sensitivity=False),
)}

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

#: The time series shown, in two panels: the mechanisms and what they do.
MECHANISM_SERIES = {"trust": "#1f77b4", "confidence": "#2ca02c", "faith": "#9467bd",
                    "risk_threshold": "#ff7f0e", "collaborative_behaviour": "#7f7f7f"}
PERFORMANCE_SERIES = {"cultural_efficacy": "#e377c2", "organisational_efficiency": "#8c564b",
                      "technological_effectiveness": "#17becf",
                      "collaborative_performance": "#000000",
                      "organisational_performance": "#bcbd22"}

#: Colour of every series, for the panel's swatches (the plots' legend).
SERIES_COLOURS = {**MECHANISM_SERIES, **PERFORMANCE_SERIES}

#: Node colours by organisation type (the palette repeats if types are added).
_PALETTE = ("#1f77b4", "#9467bd", "#2ca02c", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
            "#bcbd22")
TYPE_COLOURS = {t: _PALETTE[i % len(_PALETTE)] for i, t in enumerate(TYPE_NAMES)}
DISTRESS_COLOURS = {False: "#9e9e9e", True: "#d62728"}


# ----------------------------------------------------------------- scenarios
@dataclass(frozen=True)
class ScenarioInfo:
    """What the app needs to know about one scenario.

    Attributes:
        name: Name shown and passed back as the ``scenario`` keyword.
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
    _, specs, _ = build_system(params, explicit, sc.organisations, sc.collaborations,
                               sc.events)
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
    return ScenarioInfo(name, sc, baseline, not sc.organisations,
                        tuple(s.name for s in specs))


def _same(a: Any, b: Any) -> bool:
    # Slider steps arrive as floats such as 0.30000000000000004.
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(float(a) - float(b)) < 1e-6


# --------------------------------------------------------------------- model
class TeachingModel(CollaborationModel):
    """A bundled scenario with a teacher's changes, rebuilt from keywords alone.

    Args:
        scenario: Name of a bundled scenario, or a scenario file.
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

    def __init__(self, *, scenario: str = DEFAULT_SCENARIO, replicate: int = 0,
                 shock_month: int = 0, shock_magnitude: float = 0.8, **kwargs: Any):
        info = scenario_info(str(scenario))
        own = {"replicate": replicate, "shock_month": shock_month,
               "shock_magnitude": shock_magnitude}
        own = {k: APP_PARAMETERS[k].validate(v) for k, v in own.items()}
        changes: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key not in PARAMETERS:
                raise unknown_name_error(key, list(PARAMETERS), "parameter")
            value = PARAMETERS[key].validate(value)
            if key not in info.baseline or not _same(value, info.baseline[key]):
                changes[key] = value
        built = info.scenario.model_kwargs(**changes)
        if own["shock_month"] > 0:
            built["events"] = [*built.get("events", []),
                                {"month": own["shock_month"], "kind": "shock",
                                 "magnitude": own["shock_magnitude"]}]
        from ioc_sim.experiments.runs import replicate_seeds

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
        #: The month the app's page last drew; the page sets it (see ScenarioRun in _ui).
        self.shown_month: int | None = None


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
        return {"type": "SliderInt", "value": int(value), "min": int(p.low), "max": int(top),
                "step": 1, "label": _label(p)}
    return {"type": "SliderFloat", "value": float(value), "min": float(p.low),
            "max": float(top), "step": _step(p), "label": _label(p)}


def control_specs(scenario: str) -> dict[str, Any]:
    """SolaraViz ``model_params`` for one scenario: every control, at the scenario's values.

    The ``scenario`` entry is fixed (a plain value), so Reset rebuilds the same
    scenario with the controls' current values.
    """
    info = scenario_info(scenario)
    out: dict[str, Any] = {"scenario": info.name}
    for key in CONTROLLED:
        if key == "n_organisations" and not info.synthetic:
            continue  # the scenario lists its organisations
        out[key] = control_spec(PARAMETERS[key], info.baseline[key], APP_LIMITS.get(key))
    limits = {"shock_month": info.scenario.months}
    for key, p in APP_PARAMETERS.items():
        out[key] = control_spec(p, info.baseline[key], limits.get(key))
    return out


# --------------------------------------------------------------- explanation
#: Plain names of the metrics, for the panel.
PLAIN = {"trust": "trust", "confidence": "confidence", "faith": "faith",
         "risk_threshold": "risk tolerance", "collaborative_behaviour": "collaborative behaviour",
         "cultural_efficacy": "cultural efficacy",
         "organisational_efficiency": "organisational efficiency",
         "technological_effectiveness": "technological effectiveness",
         "collaborative_performance": "collaborative performance",
         "organisational_performance": "organisational performance"}
#: What the panel tabulates, in order.
SHOWN = tuple(PLAIN)
#: The mechanisms of the theory, which the panel names first when they move.
MECHANISMS = ("trust", "confidence", "faith", "risk_threshold")
#: Smallest change of a 6-month mean that counts as movement (on the 0-1 scales).
MOVING = 0.01
#: Months over which the panel judges movement.
WINDOW = 6


@dataclass(frozen=True)
class Trend:
    """How a metric has moved lately.

    Attributes:
        now: Its value this month.
        delta: Mean of the last ``months`` months minus the mean of the ``months``
            before them. Comparing means, not two single months, keeps the
            month-to-month chance of individual joint acts from reading as a trend.
        noise: Standard error of ``delta`` implied by the month-to-month scatter.
        months: The length of each of the two spans compared.
    """

    now: float
    delta: float
    noise: float
    months: int

    @property
    def direction(self) -> int:
        """+1 rising, -1 falling, 0 steady (a change within noise or under MOVING)."""
        if abs(self.delta) < max(MOVING, 2.0 * self.noise):
            return 0
        return 1 if self.delta > 0 else -1


def trend(values: Sequence[float], window: int = WINDOW) -> Trend:
    """The :class:`Trend` of a series (oldest first) over the last ``window`` months."""
    xs = np.asarray(values, dtype=float)
    w = min(window, len(xs) // 2)
    if w == 0:
        return Trend(float(xs[-1]), 0.0, 0.0, 0)
    recent, before = xs[-w:], xs[-2 * w:-w]
    steps = np.diff(xs[-2 * w:])
    # First differences of independent monthly noise have twice its variance.
    sigma = float(steps.std()) / math.sqrt(2.0) if len(steps) > 1 else 0.0
    return Trend(float(xs[-1]), float(recent.mean() - before.mean()),
                 sigma * math.sqrt(2.0 / w), w)


def _series(model: CollaborationModel, name: str) -> list[float]:
    return model.datacollector.model_vars[name]


def _trend(model: CollaborationModel, name: str) -> Trend:
    return trend(_series(model, name))


def months_without_progress(progress: Sequence[float], eps: float = 0.002) -> int:
    """Months, counted back from now, in which perceived progress did not visibly rise."""
    n = 0
    for k in range(len(progress) - 1, 0, -1):
        if progress[k] - progress[k - 1] > eps:
            break
        n += 1
    return n


def _reason(model: CollaborationModel, name: str, rising: bool) -> str:
    """Why ``name`` is rising or falling, read off the model's state.

    Each reason names a link of the theory as the model implements it
    (docs/ODD.md): faith follows perceived progress and trust; trust is built by
    joint work that meets expectations and lost, faster, to breaches and
    conflict; confidence counts obligations honoured; the risk threshold follows
    trust and confidence, discounted by weak finances and distress.
    """
    s, p = model.sim, model.sim.p
    now = {k: _series(model, k)[-1] for k in ("perceived_progress", "conflict", "shock",
                                            "distressed_share", "collaboration_cost")}
    acts = s.act[0]
    joint = float((acts & s.recip[0]).mean()) if s.E else 0.0
    unreturned = float((acts & ~s.recip[0]).sum() / max(int(acts.sum()), 1)) if s.E else 0.0
    if name == "faith":
        if rising:
            if _trend(model, "perceived_progress").direction > 0:
                return f"members see progress (perceived progress {now['perceived_progress']:.2f})"
            return "growing trust in partners lifts it"
        stalled = months_without_progress(_series(model, "perceived_progress"))
        if stalled >= 3:
            return (f"no visible progress for {stalled} months "
                    f"(perceived progress {now['perceived_progress']:.2f})")
        if _trend(model, "trust").direction < 0:
            return "it follows falling trust"
        return f"perceived progress is low ({now['perceived_progress']:.2f})"
    if name == "trust":
        if rising:
            return (f"joint work is meeting expectations ({joint:.0%} of partner pairs worked "
                    "together this month); trust is built slowly")
        if now["conflict"] >= 0.25:
            return f"conflict between partners ({now['conflict']:.2f}) is eroding it"
        if unreturned >= 0.25:
            return (f"partners did not return {unreturned:.0%} of collaborative acts this "
                    "month, and each breach costs trust")
        return (f"joint work is falling short of expectations, and trust is lost "
                f"{p['trust_asymmetry']:g} times faster than it is built")
    if name == "confidence":
        if rising:
            return "partners are honouring their obligations under mandate and contract"
        return "partners are not returning collaborative acts, so obligations look less certain"
    if name == "risk_threshold":
        if rising:
            return "it follows trust and confidence: partners accept deeper, riskier joint work"
        if now["distressed_share"] >= 0.1:
            return (f"{now['distressed_share']:.0%} of organisations are in special measures, "
                    "which makes them cautious")
        return "it follows trust and confidence down: partners expose themselves less"
    if name == "collaborative_behaviour":
        if rising:
            if now["shock"] > 0.05:
                return (f"a shock (level {now['shock']:.2f}) relaxes the barriers to working "
                        "together")
            if (s.status[0, :-1] == FORMING).any():
                return "a collaboration is forming, so joint work begins"
            return "faith and risk tolerance let organisations act together more often"
        if now["shock"] > 0.05 and _trend(model, "shock").direction < 0:
            return "the shock is fading, and with it the push to work together"
        if _trend(model, "live_collaborations").delta < 0:
            return "collaborations have ended"
        if s.system["competition"] >= 0.6:
            return f"competition ({s.system['competition']:.2f}) holds organisations back"
        return "lower faith and risk tolerance mean fewer joint acts"
    if name == "collaborative_performance":
        if rising:
            return "more collaborative behaviour is turned into performance"
        mech = {k: _series(model, k)[-1] for k in ("cultural_efficacy",
                                                    "organisational_efficiency",
                                                    "technological_effectiveness")}
        weakest = min(mech, key=mech.get)
        return (f"less collaborative behaviour, and {PLAIN[weakest]} ({mech[weakest]:.2f}) "
                "is the weakest of the three mechanisms")
    if name == "cultural_efficacy":
        return "it moves with trust, faith and conflict"
    if name == "organisational_efficiency":
        return "it moves with confidence and the governance of the collaborations"
    if name == "technological_effectiveness":
        return "it moves with data sharing and integration"
    # organisational_performance
    if rising:
        return "benefits of collaboration are arriving, after a lag"
    if now["collaboration_cost"] > 0.02:
        return (f"the costs of collaborating ({now['collaboration_cost']:.3f} a month) come "
                "before the benefits")
    return "pressure on services outweighs the benefits of collaboration"


def events_now(model: CollaborationModel) -> list[str]:
    """Plain-language notes on what is happening this month (shocks, lifecycle)."""
    s, p = model.sim, model.sim.p
    notes = []
    shock = s.shock_level()
    if shock > 0.05:
        notes.append(f"Shock under way (level {shock:.2f}): pressure rises and the barriers "
                     "to working together relax.")
    status = s.status[0, :-1]
    names = [c.name for c in s.st.collabs]
    for c in np.flatnonzero(status == DISSOLVING):
        notes.append(f"Collaboration '{names[c]}' is dissolving: its members' faith stayed "
                     f"below {p['dissolve_threshold']:g} for {p['dissolve_patience']} months.")
    for c in np.flatnonzero(status == DEEPENING):
        notes.append(f"Collaboration '{names[c]}' is deepening: trust and faith are above "
                     f"{p['deepen_threshold']:g}.")
    for c in np.flatnonzero(status == FORMING):
        notes.append(f"Collaboration '{names[c]}' is forming.")
    if len(notes) > 4:  # a system of many collaborations: keep the panel short
        notes = [*notes[:3], f"... and {len(notes) - 3} more changes of collaborations."]
    return notes


def explain(model: CollaborationModel, top: int = 3) -> list[str]:
    """Name what drives change now, in plain language.

    Finds the measures whose 6-month mean moved beyond noise (:class:`Trend`),
    the theory's four mechanisms first, and for the ``top`` of them gives the
    reason the model's state suggests, for example ``"Faith falling: no visible
    progress for 6 months (perceived progress 0.31)."``.

    Args:
        model: The running model.
        top: How many movements to name.

    Returns:
        Lines of text: this month's events first, then the movements.
    """
    lines = events_now(model)
    if model.steps == 0:
        return lines + ["Press ▶ to play, or Step to advance one month. This panel will "
                        "name the mechanism driving change."]
    moves = []
    for name in SHOWN:
        t = _trend(model, name)
        if t.direction:
            moves.append((name not in MECHANISMS, -abs(t.delta), name, t.direction > 0))
    if not moves:
        return lines + ["Steady: no measure has moved beyond month-to-month chance over the "
                        f"last {min(WINDOW, model.steps)} months."]
    for _, _, name, rising in sorted(moves)[:top]:
        word = "rising" if rising else "falling"
        lines.append(f"{PLAIN[name].capitalize()} {word}: {_reason(model, name, rising)}.")
    return lines


def status_rows(model: CollaborationModel) -> list[tuple[str, Trend]]:
    """Each shown measure with its :class:`Trend`."""
    return [(name, _trend(model, name)) for name in SHOWN]


def describe_changes(model: TeachingModel) -> str:
    """One line on what differs from the scenario as written."""
    parts = []
    for key, value in model.changes.items():
        base = model.info.baseline.get(key, PARAMETERS[key].default)
        shown = value if isinstance(value, str) else f"{value:g}"
        was = base if isinstance(base, str) else f"{base:g}"
        parts.append(f"{key} = {shown} (scenario: {was})")
    if model.shock_month:
        parts.append(f"shock of {model.shock_magnitude:g} at month {model.shock_month}")
    if model.replicate:
        parts.append(f"replicate {model.replicate}")
    return "; ".join(parts) if parts else "none: the scenario as written"


def maturity_html(model: CollaborationModel) -> str:
    """The collaboration maturity index now, with its named level (docs/maturity.md)."""
    from ioc_sim.model.maturity import level_names

    score = float(model.datacollector.model_vars["maturity_index"][-1])
    return (f'<div class="ioc-maturity" style="margin-top: 4px">Collaboration maturity: '
            f'<b>{score:.0f}</b>/100 ({html.escape(level_names(score)[0])})</div>')


def now_html(model: TeachingModel) -> str:
    """The panel's content as HTML: month, scenario, what drives change, values, changes.

    Plain HTML rather than solara's Markdown, which fetches a maths renderer from
    a CDN that a classroom machine may not reach.
    """
    esc = html.escape
    info = model.info
    drivers = "".join(f"<li>{esc(line)}</li>" for line in explain(model))
    rows = []
    cell = "text-align: right; padding: 0 0 0 14px; font-variant-numeric: tabular-nums"
    for name, t in status_rows(model):
        arrow = {1: "↑", -1: "↓", 0: "→"}[t.direction]
        swatch = (f'<span style="display:inline-block;width:16px;border-top:3px solid '
                  f'{SERIES_COLOURS[name]};margin:0 6px 4px 0"></span>')
        rows.append(f'<tr><td>{swatch}{esc(PLAIN[name])}</td><td class="ioc-value" '
                    f'data-metric="{name}" '
                    f'style="{cell}">{t.now:.3f}</td><td style="{cell}">{arrow} {t.delta:+.3f}'
                    "</td></tr>")
    return (
        f'<div class="ioc-now" style="font-size: 13px; line-height: 1.35" '
        f'title="{esc(info.scenario.question)}">'
        f'<div><b class="ioc-month">Month {model.steps} of {model.months}</b> — scenario '
        f'<i>{esc(info.name)}</i></div>'
        f'<div style="margin-top: 4px"><b>What is driving change now</b></div>'
        f'<ul class="ioc-drivers" style="margin: 2px 0 4px 0">{drivers}</ul>'
        f'<table class="ioc-status" style="border-collapse: collapse; font-size: 12px; '
        f'line-height: 1.25">'
        f'<tr><th style="text-align: left">measure</th><th style="{cell}">now</th>'
        f'<th style="{cell}">{WINDOW}-month trend</th></tr>{"".join(rows)}</table>'
        f'{maturity_html(model)}'
        f'<div class="ioc-changes" style="margin-top: 4px; font-size: 12px">Your changes: '
        f'{esc(describe_changes(model))}</div></div>'
    )


# ------------------------------------------------------------------- network
#: Colour map of links by trust (red low, green high), and its CSS twin for the legend.
TRUST_CMAP = "RdYlGn"


def _link_classes(model: CollaborationModel):
    """Each partner pair once: end points, mean trust, and whether it is active or partial."""
    s = model.sim
    keep = s.st.src < s.st.dst  # every pair appears in both directions
    src, dst = s.st.src[keep], s.st.dst[keep]
    trust = 0.5 * (s.trust[0][keep] + s.trust[0][s.st.rev[keep]])
    collab = s.edge_collab[0][keep]
    status = s.status[0][collab]
    live = collab < s.C
    active = live & ((status == ACTIVE) | (status == DEEPENING))
    return src, dst, trust, live, active, live & ~active


def node_colours(model: CollaborationModel, colour_by: str = "type") -> tuple[list[str],
                                                                             dict[str, str]]:
    """Colour of each organisation, and the legend (label -> colour) of those in use.

    Raises:
        ConfigError: If ``colour_by`` is neither ``"type"`` nor ``"distress"``.
    """
    s = model.sim
    if colour_by == "type":
        present = set(s.pop.types)
        return ([TYPE_COLOURS[t] for t in s.pop.types],
                {t.replace("_", " "): TYPE_COLOURS[t] for t in TYPE_NAMES if t in present})
    if colour_by == "distress":
        return ([DISTRESS_COLOURS[bool(d)] for d in s.distressed[0]],
                {"in special measures": DISTRESS_COLOURS[True],
                 "not in special measures": DISTRESS_COLOURS[False]})
    raise ConfigError("colour_by", f"got {colour_by!r}; allowed: 'type', 'distress'")


def draw_network(model: CollaborationModel, colour_by: str = "type", size_px: int = 480):
    """Draw the organisations and their partner links as a matplotlib figure.

    Nodes sit at the organisations' positions, sized by organisation size and
    coloured by type or by distress (special measures). Each partner link is
    shaded by the mean trust of its two directions (:data:`TRUST_CMAP`); solid
    when the pair works in an active or deepening collaboration, dashed while
    its collaboration forms or dissolves, faint and dotted when it has none.
    The figure holds no text: title and legend are cheaper to draw as HTML,
    and that keeps a 200-organisation network quick to redraw.

    Args:
        model: The model to draw.
        colour_by: ``"type"`` or ``"distress"``.
        size_px: Width and height of the image at 80 dpi.

    Returns:
        A matplotlib Figure.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    s = model.sim
    colours, _ = node_colours(model, colour_by)
    fig = Figure(figsize=(size_px / 80, size_px / 80), dpi=80)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    x, y = s.org["x"], s.org["y"]
    src, dst, trust, live, active, partial = _link_classes(model)
    segs = np.stack([np.column_stack([x[src], y[src]]), np.column_stack([x[dst], y[dst]])],
                    axis=1)
    # Thinner lines and smaller nodes as the system grows, so 200 organisations stay legible.
    scale = 1.0 if s.N <= 30 else max(0.35, math.sqrt(30.0 / s.N))
    norm = Normalize(0.0, 1.0)
    if (~live).any():
        ax.add_collection(LineCollection(segs[~live], colors="#c8c8c8", linestyles=":",
                                         linewidths=0.8 * scale, zorder=1))
    for mask, style, width in ((partial, "--", 1.2), (active, "-", 2.0)):
        if mask.any():
            lc = LineCollection(segs[mask], cmap=TRUST_CMAP, norm=norm, linestyles=style,
                                linewidths=width * scale, zorder=2)
            lc.set_array(trust[mask])
            ax.add_collection(lc)
    merged = s.merged_into >= 0
    size = (30.0 + 140.0 * s.org["size"]) * scale
    colours = np.array(colours, dtype=object)
    ax.scatter(x[~merged], y[~merged], s=size[~merged], c=list(colours[~merged]),
               edgecolors="black", linewidths=0.6, zorder=3)
    if merged.any():  # an acquired organisation no longer acts on its own
        ax.scatter(x[merged], y[merged], s=size[merged], facecolors="none",
                   edgecolors="#777777", linewidths=0.8, zorder=3)
    ax.set_xlim(-0.04, 1.04)
    ax.set_ylim(-0.04, 1.04)
    ax.set_axis_off()
    return fig


def network_png(model: CollaborationModel, colour_by: str = "type") -> bytes:
    """The network drawing as PNG bytes (what the app shows)."""
    fig = draw_network(model, colour_by)
    out = io.BytesIO()
    # Light compression: encoding at the default level costs more than the drawing.
    fig.savefig(out, format="png", pil_kwargs={"compress_level": 1})
    return out.getvalue()


def network_caption(model: CollaborationModel) -> str:
    """The line above the network: month, organisations, live collaborations."""
    s = model.sim
    n_orgs = int((s.merged_into < 0).sum())
    n_live = int(s.live_collaborations()[0].sum())
    return (f"Month {s.month}: {n_orgs} organisations, {n_live} live "
            f"collaboration{'s' if n_live != 1 else ''}")


def network_legend_html(model: CollaborationModel, colour_by: str = "type") -> str:
    """The network's legend as HTML: node colours, link styles and the trust scale."""
    _, legend = node_colours(model, colour_by)
    dot = ('<div><span style="display:inline-block;width:11px;height:11px;border-radius:50%;'
           'border:1px solid #000;background:{c};margin:0 6px -1px 0"></span>{t}</div>')
    nodes = "".join(dot.format(c=c, t=html.escape(t)) for t, c in legend.items())
    line = ('<div><span style="display:inline-block;width:24px;border-top:{w}px {s} {c};'
            'margin:0 6px 3px 0"></span>{t}</div>')
    links = (line.format(w=3, s="solid", c="#1a9850", t="active collaboration")
             + line.format(w=2, s="dashed", c="#1a9850", t="forming or dissolving")
             + line.format(w=2, s="dotted", c="#aaaaaa", t="no live collaboration"))
    stops = ", ".join(_cmap_css(TRUST_CMAP, k / 10) for k in range(11))
    scale = ('<div>link trust</div><div>0 <span style="display:inline-block;width:100px;'
             f'height:10px;background:linear-gradient(to right, {stops});margin:0 3px -1px 3px">'
             "</span> 1</div>")
    return (f'<div class="ioc-network-legend" style="font-size:12px;line-height:1.6;'
            f'width:160px">{nodes}<div style="margin-top:4px">node size: organisation size'
            f'</div><div style="margin-top:6px">{links}</div>'
            f'<div style="margin-top:6px">{scale}</div></div>')


@functools.lru_cache(maxsize=32)
def _cmap_css(name: str, at: float) -> str:
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    return to_hex(colormaps[name](at))


# ------------------------------------------------------------------- the page
def _timeseries_post_process(title: str):
    """Trim Mesa's time-series figure so that it redraws quickly.

    The legend goes (it costs more than the rest of the figure put together);
    the panel's table, whose swatches have the lines' colours, serves as legend.
    """
    from matplotlib.ticker import FixedLocator

    def post(ax) -> None:
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
        ax.set_ylim(0.0, 1.0)
        ax.yaxis.set_major_locator(FixedLocator([0.0, 0.25, 0.5, 0.75, 1.0]))
        ax.set_title(title, fontsize=10)
        ax.figure.set_size_inches(6.2, 3.6)
        ax.grid(alpha=0.3)

    return post


@functools.cache
def _ui():
    """Build the solara components (imports solara and Mesa's visualisation)."""
    import warnings

    # solara's hook linter flags a line inside Mesa's SolaraViz that works as written; the
    # warning would only puzzle a teacher (in the terminal or under a notebook cell).
    warnings.filterwarnings("ignore", message=r".*ComponentsView: `use_state` found despite",
                            category=UserWarning)
    import solara
    from mesa.visualization import SolaraViz
    from mesa.visualization.components.matplotlib_components import PlotMatplotlib
    from mesa.visualization.utils import force_update, update_counter

    @solara.component
    def NowPanel(model: TeachingModel):
        update_counter.get()
        model.shown_month = model.steps  # what the page shows (see ScenarioRun)
        # Scrolls inside its grid cell when a long explanation would not fit.
        solara.HTML(tag="div", unsafe_innerHTML=now_html(model),
                    style="height: 100%; overflow-y: auto")

    @solara.component
    def NetworkView(model: TeachingModel):
        update_counter.get()
        colour_by, set_colour_by = solara.use_state("type")

        def render() -> bytes:
            return network_png(model, colour_by)

        # Redraw only when the month or the colouring changes, not on every page render.
        png = solara.use_memo(render, [id(model), model.steps, colour_by])
        with solara.Column(gap="4px", style={"height": "100%"}):
            with solara.Row(justify="space-between", style={"align-items": "center"}):
                solara.HTML(tag="div", unsafe_innerHTML=html.escape(network_caption(model)),
                            classes=["ioc-network-caption"], style="font-weight: bold")
                solara.ToggleButtonsSingle(value=colour_by, values=["type", "distress"],
                                           on_value=set_colour_by, dense=True)
            with solara.Row(gap="8px", style={"flex": "1 1 auto", "min-height": "0",
                                              "align-items": "flex-start"}):
                solara.Image(png, format="png", classes=["ioc-network"])
                solara.HTML(tag="div", unsafe_innerHTML=network_legend_html(model, colour_by))

    mech_post = _timeseries_post_process(
        "Mechanisms and behaviour (colours as in the table; one step = one month)")
    perf_post = _timeseries_post_process(
        "Collaborative performance, its three mechanisms, organisational performance")

    # Mesa's plot component, in components of ours rather than through make_plot_component:
    # SolaraViz wraps a plain function in one more subscriber to every update, and each
    # subscriber costs a pass over the whole page per frame.
    @solara.component
    def MechanismPlot(model: TeachingModel):
        PlotMatplotlib(model, MECHANISM_SERIES, post_process=mech_post, save_format="svg")

    @solara.component
    def PerformancePlot(model: TeachingModel):
        PlotMatplotlib(model, PERFORMANCE_SERIES, post_process=perf_post, save_format="svg")

    components = [(NowPanel, 0), (NetworkView, 0), (MechanismPlot, 0), (PerformancePlot, 0)]

    @solara.component
    def ScenarioRun(name: str):
        # A reactive of our own, so that we see the model SolaraViz's Reset puts in it.
        first = solara.use_memo(lambda: TeachingModel(scenario=name), [])
        model = solara.use_reactive(first)

        def settle(cancel: threading.Event) -> None:
            # With threads, Mesa stops redrawing the moment a run is paused or ends, which
            # can leave the page a few months behind the model. Once the model has stood
            # still for a moment, redraw it if the page shows another month.
            last = -1
            while not cancel.wait(SETTLE_SECONDS):
                current = model.value
                steps = current.steps
                if steps == last and current.shown_month != steps:
                    force_update()
                last = steps

        solara.use_thread(settle, dependencies=[], intrusive_cancel=False)
        # Without threads every month is drawn; measured in Chromium, that gives about twice
        # the redraws a second of Mesa's threaded mode, whose back-to-back redraws starve the
        # server's sending of them (README, Teaching app: speed).
        SolaraViz(model, components=components, model_params=control_specs(name),
                  play_interval=PLAY_INTERVAL_MS, render_interval=1, use_threads=False,
                  name="ioc_sim teaching app")

    @solara.component
    def Page():
        names = scenario_names()
        start = DEFAULT_SCENARIO if DEFAULT_SCENARIO in names else names[0]
        name, set_name = solara.use_state(start)
        info = scenario_info(name)
        solara.Style(APP_CSS)
        with solara.Sidebar():
            with solara.Card("Scenario"):
                solara.Select("Scenario", values=names, value=name, on_value=set_name)
                solara.HTML(tag="div", unsafe_innerHTML=(
                    f'<p class="ioc-question"><i>{html.escape(info.scenario.question)}</i></p>'
                    "<p style=\"font-size: 90%\">Move the controls under <i>Model "
                    "Parameters</i>, then press <b>Reset</b> to rebuild the run with them. "
                    "Every month is drawn; to play faster, raise <i>Render Interval</i> "
                    "(redraw every few months) or tick <i>Use Threads</i> (keep the <i>Play "
                    "Interval</i>'s pace, redraw when possible).</p>"))
        # A new scenario starts afresh: its own model, controls and SolaraViz state.
        ScenarioRun(name).key(name)

    return Page


#: How long the model must stand still before the page is brought up to date (ScenarioRun).
SETTLE_SECONDS = 0.4

#: Page styles. Mesa's sliders show their value only while dragged, and a teacher needs
#: to see it always; the network image shrinks to fit its grid cell (which can be resized).
APP_CSS = """
div:has(> img.ioc-network) { flex: 1 1 0; min-width: 0; height: 100%; }
img.ioc-network { max-width: 100%; max-height: 100%; object-fit: contain; }
.v-navigation-drawer .v-input__slider { margin-top: 16px; }
.v-navigation-drawer .v-slider__thumb-label-container { display: block !important; }
.v-navigation-drawer .v-slider__thumb-label { width: 30px !important; height: 30px !important;
                                              font-size: 11px; }
"""

#: Pause after each redraw while playing, on the slider's grid (1, 11, 21, ...). Short, since
#: the redraw itself takes longer; but not nothing: with no pause the server is too busy
#: to send the frames, and the page shows only the end of a run.
PLAY_INTERVAL_MS = 51


def __getattr__(name: str):
    # Page is built on first access, so importing this module needs no solara.
    if name == "Page":
        return _ui()
    raise AttributeError(name)


# -------------------------------------------------------------------- serving
def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def serve(port: int = DEFAULT_PORT, host: str = "localhost") -> int:
    """Serve the app until interrupted; prints the address first.

    Args:
        port: TCP port; 0 picks a free one.
        host: Interface to listen on (localhost by default: a teacher's machine).

    Returns:
        Exit status 0.

    Raises:
        ConfigError: If solara is not installed or the port is taken.
    """
    # Read by solara's settings when it is first imported, so set before that.
    # No usage reports from a teacher's machine (and none get out of a closed network).
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    try:
        import solara  # noqa: F401
    except ImportError:
        raise ConfigError("app", "the teaching app needs solara; install it with "
                          "python -m pip install -e \".[app]\"") from None
    if port == 0:
        port = free_port()
    elif _port_in_use(port):
        raise ConfigError("--port", f"port {port} is in use; choose another, or --port 0 for "
                          "a free one")
    from solara.__main__ import run

    print(f"ioc-sim teaching app: http://{host}:{port}  (Ctrl-C stops it)", flush=True)
    run.main(["ioc_sim.app", "--host", host, "--port", str(port), "--no-open",
              "--production", "--no-check-version", "--log-level", "warning"],
             prog_name="ioc-sim app", standalone_mode=False)
    return 0


def _port(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a whole number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be from 0 to 65535, got {value}")
    return value


def add_parser(subparsers) -> None:
    """Add ``app`` to ``ioc-sim``'s subcommands."""
    app = subparsers.add_parser(
        "app", help="start the teaching app (an interactive browser view of the dynamics)",
        description="Serve the teaching app on localhost and print its address. Open it in a "
                    "browser; Ctrl-C stops it.")
    app.add_argument("--port", type=_port, default=DEFAULT_PORT,
                     help=f"port to serve on (default {DEFAULT_PORT}; 0 picks a free one)")


def cmd_app(args) -> int:
    """Run ``ioc-sim app``."""
    return serve(port=args.port)


__all__ = ["APP_PARAMETERS", "CONTROLLED", "TeachingModel", "control_spec", "control_specs",
           "draw_network", "explain", "scenario_info", "scenario_names", "serve"]
