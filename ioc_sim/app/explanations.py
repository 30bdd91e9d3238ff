"""The teaching app's words: trends, their reasons, and the "what is driving change" panel.

A measure counts as moving when its 6-month mean has changed beyond the
month-to-month scatter (:class:`Trend`); :func:`explain` names the movers, the
theory's four mechanisms first, with the reason the model's state suggests;
:func:`now_html` lays that out with a table of every measure, the maturity
index and the teacher's changes. Plain functions of a model, so they can be
checked without a browser.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ioc_sim.engine import DEEPENING, DISSOLVING, FORMING, WOUND_DOWN
from ioc_sim.model.maturity import level_names
from ioc_sim.model.model import CollaborationModel
from ioc_sim.spec.parameters import PARAMETERS

if TYPE_CHECKING:
    from ioc_sim.app.teaching import TeachingModel

#: The time series shown, in two panels: the mechanisms and what they do.
MECHANISM_SERIES = {
    "trust": "#1f77b4",
    "confidence": "#2ca02c",
    "faith": "#9467bd",
    "risk_threshold": "#ff7f0e",
    "collaborative_behaviour": "#7f7f7f",
}
PERFORMANCE_SERIES = {
    "cultural_efficacy": "#e377c2",
    "organisational_efficiency": "#8c564b",
    "technological_effectiveness": "#17becf",
    "collaborative_performance": "#000000",
    "organisational_performance": "#bcbd22",
}

#: Colour of every series, for the panel's swatches (the plots' legend).
SERIES_COLOURS = {**MECHANISM_SERIES, **PERFORMANCE_SERIES}

#: Plain names of the metrics, for the panel.
PLAIN = {
    "trust": "trust",
    "confidence": "confidence",
    "faith": "faith",
    "risk_threshold": "risk tolerance",
    "collaborative_behaviour": "collaborative behaviour",
    "cultural_efficacy": "cultural efficacy",
    "organisational_efficiency": "organisational efficiency",
    "technological_effectiveness": "technological effectiveness",
    "collaborative_performance": "collaborative performance",
    "organisational_performance": "organisational performance",
}
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
    recent, before = xs[-w:], xs[-2 * w : -w]
    steps = np.diff(xs[-2 * w :])
    # First differences of independent monthly noise have twice its variance.
    sigma = float(steps.std()) / math.sqrt(2.0) if len(steps) > 1 else 0.0
    return Trend(float(xs[-1]), float(recent.mean() - before.mean()), sigma * math.sqrt(2.0 / w), w)


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
    now = {
        k: _series(model, k)[-1]
        for k in (
            "perceived_progress",
            "conflict",
            "shock",
            "distressed_share",
            "collaboration_cost",
        )
    }
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
            return (
                f"no visible progress for {stalled} months "
                f"(perceived progress {now['perceived_progress']:.2f})"
            )
        if _trend(model, "trust").direction < 0:
            return "it follows falling trust"
        return f"perceived progress is low ({now['perceived_progress']:.2f})"
    if name == "trust":
        if rising:
            return (
                f"joint work is meeting expectations ({joint:.0%} of partner pairs worked "
                "together this month); trust is built slowly"
            )
        if now["conflict"] >= 0.25:
            return f"conflict between partners ({now['conflict']:.2f}) is eroding it"
        if unreturned >= 0.25:
            return (
                f"partners did not return {unreturned:.0%} of collaborative acts this "
                "month, and each breach costs trust"
            )
        return (
            f"joint work is falling short of expectations, and trust is lost "
            f"{p['trust_asymmetry']:g} times faster than it is built"
        )
    if name == "confidence":
        if rising:
            return "partners are honouring their obligations under mandate and contract"
        return "partners are not returning collaborative acts, so obligations look less certain"
    if name == "risk_threshold":
        if rising:
            return "it follows trust and confidence: partners accept deeper, riskier joint work"
        if now["distressed_share"] >= 0.1:
            return (
                f"{now['distressed_share']:.0%} of organisations are in special measures, "
                "which makes them cautious"
            )
        return "it follows trust and confidence down: partners expose themselves less"
    if name == "collaborative_behaviour":
        if rising:
            if now["shock"] > 0.05:
                return (
                    f"a shock (level {now['shock']:.2f}) relaxes the barriers to working together"
                )
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
        mech = {
            k: _series(model, k)[-1]
            for k in (
                "cultural_efficacy",
                "organisational_efficiency",
                "technological_effectiveness",
            )
        }
        weakest = min(mech, key=mech.get)
        return (
            f"less collaborative behaviour, and {PLAIN[weakest]} ({mech[weakest]:.2f}) "
            "is the weakest of the three mechanisms"
        )
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
        return (
            f"the costs of collaborating ({now['collaboration_cost']:.3f} a month) come "
            "before the benefits"
        )
    return "pressure on services outweighs the benefits of collaboration"


def events_now(model: CollaborationModel) -> list[str]:
    """Plain-language notes on what is happening this month (shocks, lifecycle)."""
    s, p = model.sim, model.sim.p
    notes = []
    shock = s.shock_level()
    if shock > 0.05:
        notes.append(
            f"Shock under way (level {shock:.2f}): pressure rises and the barriers "
            "to working together relax."
        )
    status = s.status[0, :-1]
    names = [c.name for c in s.st.collabs]
    for c in np.flatnonzero(status == DISSOLVING):
        if s.ending[0, c] == WOUND_DOWN:
            why = "a policy decision is winding it down."
        else:
            why = (
                f"its members' faith and sense of progress stayed below "
                f"{p['dissolve_threshold']:g} for {p['dissolve_patience']} months or more."
            )
        notes.append(f"Collaboration '{names[c]}' is dissolving: {why}")
    for c in np.flatnonzero(status == DEEPENING):
        notes.append(
            f"Collaboration '{names[c]}' deepened this month (integration depth "
            f"{s.ctx['integration_depth'][0, c]:.2f}): small wins built up, or policy "
            "pushed it."
        )
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
        return lines + [
            "Press ▶ to play, or Step to advance one month. This panel will "
            "name the mechanism driving change."
        ]
    moves = []
    for name in SHOWN:
        t = _trend(model, name)
        if t.direction:
            moves.append((name not in MECHANISMS, -abs(t.delta), name, t.direction > 0))
    if not moves:
        return lines + [
            "Steady: no measure has moved beyond month-to-month chance over the "
            f"last {min(WINDOW, model.steps)} months."
        ]
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
    score = float(model.datacollector.model_vars["maturity_index"][-1])
    return (
        f'<div class="ioc-maturity" style="margin-top: 4px">Collaboration maturity: '
        f"<b>{score:.0f}</b>/100 ({html.escape(level_names(score)[0])})</div>"
    )


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
        swatch = (
            f'<span style="display:inline-block;width:16px;border-top:3px solid '
            f'{SERIES_COLOURS[name]};margin:0 6px 4px 0"></span>'
        )
        rows.append(
            f'<tr><td>{swatch}{esc(PLAIN[name])}</td><td class="ioc-value" '
            f'data-metric="{name}" '
            f'style="{cell}">{t.now:.3f}</td><td style="{cell}">{arrow} {t.delta:+.3f}'
            "</td></tr>"
        )
    return (
        f'<div class="ioc-now" style="font-size: 13px; line-height: 1.35" '
        f'title="{esc(info.scenario.question)}">'
        f'<div><b class="ioc-month">Month {model.steps} of {model.months}</b> — scenario '
        f"<i>{esc(info.name)}</i></div>"
        f'<div style="margin-top: 4px"><b>What is driving change now</b></div>'
        f'<ul class="ioc-drivers" style="margin: 2px 0 4px 0">{drivers}</ul>'
        f'<table class="ioc-status" style="border-collapse: collapse; font-size: 12px; '
        f'line-height: 1.25">'
        f'<tr><th style="text-align: left">measure</th><th style="{cell}">now</th>'
        f'<th style="{cell}">{WINDOW}-month trend</th></tr>{"".join(rows)}</table>'
        f"{maturity_html(model)}"
        f'<div class="ioc-changes" style="margin-top: 4px; font-size: 12px">Your changes: '
        f"{esc(describe_changes(model))}</div></div>"
    )
