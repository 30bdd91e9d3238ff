"""Teaching app: a browser view of how trust, faith, confidence and risk tolerance move.

``ioc-sim app`` serves it on localhost (:mod:`ioc_sim.app.serve`); in a Jupyter
notebook the same page is::

    from ioc_sim.app import Page
    Page()

It is Mesa's :class:`~mesa.visualization.SolaraViz` (play, pause, step, reset,
speed, parameter controls, plots) around
:class:`~ioc_sim.app.teaching.TeachingModel`, with three components of ours
where Mesa has none: the organisations as a network with links shaded by trust
(:mod:`ioc_sim.app.network`), a plain-language panel naming what drives change
now (:mod:`ioc_sim.app.explanations`), and a scenario picker that shows each
bundled scenario's question.

Design:

* The controls are generated from the parameter declarations
  (:func:`~ioc_sim.app.controls.control_specs`), and start at the chosen
  scenario's own values. A control left at that value changes nothing; a moved
  one overrides the scenario (a collaboration context then applies to every
  collaboration). Choosing another scenario rebuilds the page with its values.
* Playing draws every month by default, as fast as the page can be redrawn
  (drawing, not the model, takes the time, for 20 or 200 organisations alike).
  To go faster, *Render Interval* redraws every few months, or Mesa's *Use
  Threads* lets the model keep the *Play Interval*'s pace while the page redraws
  when it can; the model's data collector is made safe for that, and a small
  thread of ours brings the page up to date when a threaded run is paused or ends.
* solara and Mesa's visualisation are imported only when the page is built
  (``Page`` is created on first access), so the rest of the package, and the
  app's model, controls and explanations, work without them.
"""

from __future__ import annotations

import functools
import html
import threading

from ioc_sim.app.controls import DEFAULT_SCENARIO, control_specs, scenario_info, scenario_names
from ioc_sim.app.explanations import MECHANISM_SERIES, PERFORMANCE_SERIES, now_html
from ioc_sim.app.network import network_caption, network_legend_html, network_png
from ioc_sim.app.teaching import TeachingModel

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
    warnings.filterwarnings(
        "ignore", message=r".*ComponentsView: `use_state` found despite", category=UserWarning
    )
    import solara
    from mesa.visualization import SolaraViz
    from mesa.visualization.components.matplotlib_components import PlotMatplotlib
    from mesa.visualization.utils import force_update, update_counter

    @solara.component
    def NowPanel(model: TeachingModel):
        update_counter.get()
        model.shown_month = model.steps  # what the page shows (see ScenarioRun)
        # Scrolls inside its grid cell when a long explanation would not fit.
        solara.HTML(
            tag="div", unsafe_innerHTML=now_html(model), style="height: 100%; overflow-y: auto"
        )

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
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=html.escape(network_caption(model)),
                    classes=["ioc-network-caption"],
                    style="font-weight: bold",
                )
                solara.ToggleButtonsSingle(
                    value=colour_by, values=["type", "distress"], on_value=set_colour_by, dense=True
                )
            with solara.Row(
                gap="8px",
                style={"flex": "1 1 auto", "min-height": "0", "align-items": "flex-start"},
            ):
                solara.Image(png, format="png", classes=["ioc-network"])
                solara.HTML(tag="div", unsafe_innerHTML=network_legend_html(model, colour_by))

    mech_post = _timeseries_post_process(
        "Mechanisms and behaviour (colours as in the table; one step = one month)"
    )
    perf_post = _timeseries_post_process(
        "Collaborative performance, its three mechanisms, organisational performance"
    )

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
        first = solara.use_memo(lambda: TeachingModel(scenario_name=name), [])
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
        SolaraViz(
            model,
            components=components,
            model_params=control_specs(name),
            play_interval=PLAY_INTERVAL_MS,
            render_interval=1,
            use_threads=False,
            name="ioc_sim teaching app",
        )

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
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=(
                        f'<p class="ioc-question"><i>{html.escape(info.scenario.question)}</i></p>'
                        '<p style="font-size: 90%">Move the controls under <i>Model '
                        "Parameters</i>, then press <b>Reset</b> to rebuild the run with them. "
                        "Every month is drawn; to play faster, raise <i>Render Interval</i> "
                        "(redraw every few months) or tick <i>Use Threads</i> (keep the <i>Play "
                        "Interval</i>'s pace, redraw when possible).</p>"
                    ),
                )
        # A new scenario starts afresh: its own model, controls and SolaraViz state.
        ScenarioRun(name).key(name)

    return Page


def __getattr__(name: str):
    # Page is built on first access, so importing this module needs no solara.
    if name == "Page":
        return _ui()
    raise AttributeError(name)
