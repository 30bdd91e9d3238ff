"""The teaching app (``ioc-sim app``), as a teacher meets it.

Fast checks first: the model the app rebuilds from keywords, the controls generated
from the parameter declarations, the plain-language explanations, the network
drawing, the page rendered as widgets (what a Jupyter notebook shows), a real
Jupyter kernel, and the command line. Then the real thing: ``ioc-sim app`` started
as a user would, opened in headless Chromium through Playwright, controls changed,
played, and checked for changing values and for errors; screenshots go to
``tests/artifacts/``.

Run ``python tests/test_app.py --speed 200`` to measure playback of a
200-organisation system in the browser (the README's numbers); timings are not
pass/fail checks.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from ioc_sim.app import (
    APP_LIMITS,
    APP_PARAMETERS,
    CONTROLLED,
    TeachingModel,
    control_specs,
    draw_network,
    events_now,
    explain,
    months_without_progress,
    network_caption,
    network_legend_html,
    network_png,
    node_colours,
    now_html,
    scenario_info,
    scenario_names,
    trend,
)
from ioc_sim.cli.main import main
from ioc_sim.engine import ACTIVE, DEEPENING
from ioc_sim.errors import ConfigError
from ioc_sim.experiments.runs import replicate_seeds
from ioc_sim.model.model import CollaborationModel
from ioc_sim.spec.parameters import PARAMETERS

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
# Flags for a closed network: without the background-networking ones Chromium keeps
# trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# ------------------------------------------------------------------- model
@pytest.mark.parametrize("name", scenario_names())
def test_controls_left_alone_give_the_scenario_as_written(name):
    """What SolaraViz rebuilds on Reset, with untouched controls, is the bundled scenario."""
    specs = control_specs(name)
    kwargs = {k: (v["value"] if isinstance(v, dict) else v) for k, v in specs.items()}
    app_model = TeachingModel(**kwargs)
    assert app_model.changes == {}
    sc = scenario_info(name).scenario
    plain = CollaborationModel(rng=replicate_seeds(sc.seed, 1)[0], **sc.model_kwargs())
    app_model.run(8)
    plain.run(8)
    assert app_model.model_dataframe().equals(plain.model_dataframe())


def test_a_moved_control_overrides_every_collaboration():
    m = TeachingModel(scenario="buddying", shared_vision=0.9, trust_update="ratchet")
    assert m.changes == {"shared_vision": 0.9, "trust_update": "ratchet"}
    assert np.allclose(m.sim.ctx["shared_vision"][0, :-1], 0.9)
    assert m.sim.p["trust_update"] == "ratchet"
    # A value equal to the scenario's own is no change: the buddying form's mandate stays.
    same = TeachingModel(scenario="buddying", mandate=scenario_info("buddying").baseline["mandate"])
    assert same.changes == {}


def test_form_control_changes_the_form_of_every_collaboration():
    m = TeachingModel(scenario="default", form="merger")
    assert set(m.collaborations()["form"]) == {"merger"}


def test_shock_at_a_chosen_month():
    m = TeachingModel(scenario="default", shock_month=3, shock_magnitude=0.6)
    m.run(5)
    shock = m.model_dataframe()["shock"]
    assert shock.iloc[2] == 0.0
    assert shock.iloc[3] == pytest.approx(0.6)
    assert 0 < shock.iloc[5] < 0.6
    assert any("Shock under way" in line for line in events_now(m))
    assert TeachingModel(scenario="default").model_dataframe()["shock"].iloc[0] == 0.0


def test_replicate_r_has_the_seed_of_replicate_r_of_a_run():
    sc = scenario_info("default").scenario
    m = TeachingModel(scenario="default", replicate=3)
    plain = CollaborationModel(rng=replicate_seeds(sc.seed, 4)[3], **sc.model_kwargs())
    m.run(5)
    plain.run(5)
    assert m.model_dataframe().equals(plain.model_dataframe())


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"shared_vision": 2.0}, "shared_vision"),
        ({"form": "cartel"}, "form"),
        ({"shock_month": -1}, "shock_month"),
        ({"sharedvision": 0.5}, "sharedvision"),
        ({"scenario": "no_such_scenario"}, ""),
    ],
)
def test_bad_keywords_name_the_field(kwargs, field):
    with pytest.raises(ConfigError) as err:
        TeachingModel(**kwargs)
    assert err.value.field == field


# ---------------------------------------------------------------- controls
def test_controls_are_generated_from_the_declarations():
    for name in scenario_names():
        info = scenario_info(name)
        specs = control_specs(name)
        assert specs["scenario_name"] == name  # fixed: Reset rebuilds the same scenario
        for key in CONTROLLED:
            if key == "n_organisations" and not info.synthetic:
                assert key not in specs  # the scenario lists its organisations
                continue
            p, spec = PARAMETERS[key], specs[key]
            assert spec["value"] == info.baseline[key]
            if p.kind == "choice":
                assert spec["type"] == "Select" and spec["values"] == list(p.choices)
            else:
                assert spec["type"] == ("SliderInt" if p.kind == "int" else "SliderFloat")
                assert spec["min"] == p.low
                assert spec["max"] == min(p.high, APP_LIMITS.get(key, p.high))
                assert 0 < spec["step"] <= (p.high - p.low) / 10
        for key, p in APP_PARAMETERS.items():
            assert specs[key]["value"] == p.default
        assert specs["shock_month"]["max"] == info.scenario.months


def test_the_issue_s_contexts_all_have_controls():
    wanted = {
        "mandate",
        "form",
        "shared_vision",
        "data_sharing",
        "resource_pressure",
        "leader_vulnerability",
        "leader_persuasiveness",
        "trust_asymmetry",
        "trust_update",
        "trust_confidence",
        "fragile",
        "mandate_faith",
        "performance_form",
        "shock_month",
    }
    assert wanted <= set(control_specs("default"))


def test_solaraviz_accepts_the_model_and_its_controls():
    pytest.importorskip("solara")
    from ioc_sim.app import page as teaching_app

    assert teaching_app.Page  # built as the app builds it, which imports SolaraViz
    from mesa.visualization.solara_viz import _check_model_params, split_model_params

    specs = control_specs("default")
    _check_model_params(TeachingModel.__init__, specs)  # raises on a mismatch
    adjustable, fixed = split_model_params(specs)
    assert fixed == {"scenario_name": "default"}
    assert set(adjustable) == set(specs) - {"scenario_name"}


# ------------------------------------------------------------- explanation
def test_trend_separates_movement_from_noise():
    rng = np.random.default_rng(0)
    noise = 0.5 + 0.04 * rng.standard_normal(40)
    assert trend(noise).direction == 0
    assert trend(np.linspace(0.2, 0.5, 40)).direction == 1
    assert trend(np.linspace(0.5, 0.2, 40)).direction == -1
    assert trend([0.3, 0.3]).direction == 0
    assert trend([0.3]).months == 0
    t = trend([0.1, 0.1, 0.1, 0.4, 0.4, 0.4], window=3)
    assert t.delta == pytest.approx(0.3) and t.months == 3 and t.now == 0.4


def test_months_without_progress_counts_back_from_now():
    assert months_without_progress([0.4, 0.5, 0.5, 0.49, 0.49]) == 3
    assert months_without_progress([0.4, 0.5]) == 0
    assert months_without_progress([0.5]) == 0


def test_explanation_at_the_start_says_how_to_begin():
    m = TeachingModel(scenario="default")
    assert "Press ▶" in explain(m)[-1]


def test_explanation_names_faith_falling_without_visible_progress():
    # Without shocks to its visible results, the alliance's perceived progress only sags.
    m = TeachingModel(scenario="default", results_noise=0.0)
    m.run(12)
    lines = explain(m)
    faith = [line for line in lines if line.startswith("Faith falling")]
    assert faith, lines
    stalled = months_without_progress(m.datacollector.model_vars["perceived_progress"])
    assert f"no visible progress for {stalled} months" in faith[0]


def test_explanation_puts_the_four_mechanisms_first_and_stays_short():
    for name in scenario_names():
        m = TeachingModel(scenario=name)
        for _ in range(4):
            m.run(9)
            lines = [line for line in explain(m) if not line.startswith(("Shock", "Collab", "..."))]
            order = [line.split(" ")[0].lower() for line in lines]
            mech = [o in ("trust", "confidence", "faith", "risk") for o in order]
            assert mech == sorted(mech, reverse=True), lines
            assert len(lines) <= 3
            assert all(
                line.endswith(".") and ": " in line
                for line in lines
                if not line.startswith("Steady")
            )


def test_panel_html_shows_month_values_and_changes():
    m = TeachingModel(scenario="default", shared_vision=0.8, shock_month=4)
    m.run(2)
    page = now_html(m)
    assert "Month 2 of 120" in page
    trust = m.datacollector.model_vars["trust"][-1]
    assert 'data-metric="trust" style="text-align: right; padding: 0 0 0 14px; ' in page
    assert f"{trust:.3f}" in page
    assert "shared_vision = 0.8 (scenario: 0.5)" in page
    assert "shock of 0.8 at month 4" in page
    assert "&lt;" not in now_html(TeachingModel(scenario="merger"))  # nothing double-escaped


# ----------------------------------------------------------------- network
def test_network_drawing_marks_links_by_trust_and_collaboration():
    m = TeachingModel(scenario="default")
    m.run(3)
    fig = draw_network(m)
    ax = fig.axes[0]
    s = m.sim
    pairs = int((s.st.src < s.st.dst).sum())
    drawn = sum(len(c.get_segments()) for c in ax.collections[:-1])
    assert drawn == pairs  # every partner pair once
    status = s.status[0][s.edge_collab[0][s.st.src < s.st.dst]]
    active = int(((status == ACTIVE) | (status == DEEPENING)).sum())
    solid = [c for c in ax.collections[:-1] if c.get_linestyle()[0][1] is None]
    assert sum(len(c.get_segments()) for c in solid) == active
    nodes = ax.collections[-1]
    assert len(nodes.get_offsets()) == s.N
    assert network_png(m).startswith(b"\x89PNG")
    assert network_caption(m) == "Month 3: 20 organisations, 1 live collaboration"


def test_node_colours_by_type_or_distress():
    m = TeachingModel(scenario="merger")
    by_type, legend = node_colours(m, "type")
    assert len(by_type) == m.sim.N and set(legend) == {"acute", "mental health", "community"}
    by_distress, legend = node_colours(m, "distress")
    assert sum(c == legend["in special measures"] for c in by_distress) == int(
        m.sim.distressed[0].sum()
    )
    assert "in special measures" in network_legend_html(m, "distress")
    with pytest.raises(ConfigError):
        node_colours(m, "size")


def test_network_draws_200_organisations():
    m = TeachingModel(scenario="default", n_organisations=200)
    m.run(2)
    assert len(draw_network(m).axes[0].collections[-1].get_offsets()) == 200


# ------------------------------------------------- the page, as in a notebook
@contextlib.contextmanager
def rendered_page():
    """The page rendered as widgets, as a notebook shows it; closed afterwards."""
    solara = pytest.importorskip("solara")
    from ioc_sim.app.page import Page

    # A notebook wraps what it displays in an app layout (solara's Jupyter hook); so do we.
    _, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    try:
        yield rc
    finally:
        rc.close()  # stops the page's threads


def _panel(rc, *expected: str, timeout: float = 20.0) -> str:
    """The panel's HTML, once it contains every ``expected`` text.

    Another thread (the page's own, or a page left by an earlier test) may be
    rendering when a button is clicked; the click's render then comes a moment later.
    """
    import solara.widgets

    deadline = time.monotonic() + timeout
    while True:
        html = [
            w.unsafe_innerHTML
            for w in rc.find(solara.widgets.HTML).widgets
            if w.unsafe_innerHTML and "ioc-now" in w.unsafe_innerHTML
        ]
        assert len(html) == 1
        if all(e in html[0] for e in expected) or time.monotonic() > deadline:
            return html[0]
        time.sleep(0.05)


def test_page_renders_controls_plots_and_panel_as_widgets():
    import ipyvuetify as v
    import ipywidgets

    with rendered_page() as rc:
        labels = {w.label for w in rc.find(v.Slider).widgets} | {
            w.label for w in rc.find(v.Select).widgets
        }
        wanted = {
            spec["label"] for spec in control_specs("default").values() if isinstance(spec, dict)
        }
        assert wanted <= labels
        assert {"Scenario", "Play Interval (ms)", "Render Interval (steps)"} <= labels
        images = rc.find(ipywidgets.Image).widgets
        assert len(images) == 3  # the network and Mesa's two time-series plots
        assert "Month 0 of 120" in _panel(rc)


def test_page_steps_resets_with_changed_controls_and_switches_scenario():
    import ipyvuetify as v

    with rendered_page() as rc:
        before = _panel(rc, "Month 0 of 120")
        rc.find(v.Btn, children=["Step"]).widget.click()
        _panel(rc, "Month 1 of 120")
        rc.find(v.Btn, children=["Step"]).widget.click()
        after = _panel(rc, "Month 2 of 120")
        assert "Month 2 of 120" in after and after != before
        shared = rc.find(v.Slider, label="Shared vision").widget
        shared.v_model = 0.9
        rc.find(v.Btn, children=["Reset"]).widget.click()
        panel = _panel(rc, "Month 0 of 120", "shared_vision = 0.9")
        assert "Month 0 of 120" in panel and "shared_vision = 0.9 (scenario: 0.5)" in panel
        pick = [w for w in rc.find(v.Select).widgets if w.label == "Scenario"][0]
        pick.v_model = "pandemic_shock"
        question = scenario_info("pandemic_shock").scenario.question
        panel = _panel(rc, question)
        assert question in panel
        assert "Your changes: none" in panel


def test_page_displays_in_a_jupyter_kernel():
    """What `from ioc_sim.app import Page; Page()` in a notebook cell sends to the notebook."""
    pytest.importorskip("solara")
    manager = pytest.importorskip("jupyter_client.manager")
    km, kc = manager.start_new_kernel(kernel_name="python3")
    try:
        messages = []
        reply = kc.execute_interactive(
            "from ioc_sim.app import Page\nPage()", timeout=120, output_hook=messages.append
        )
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok"
    views = [
        m
        for m in messages
        if m["msg_type"] == "display_data"
        and "application/vnd.jupyter.widget-view+json" in m["content"]["data"]
    ]
    assert views, "the page is displayed as a widget"
    assert not [m for m in messages if m["msg_type"] == "error"]
    stderr = "".join(
        m["content"]["text"]
        for m in messages
        if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"
    )
    assert "Traceback" not in stderr and "Warning" not in stderr, stderr


# ------------------------------------------------------------ command line
def test_app_command_refuses_a_port_in_use(capsys):
    pytest.importorskip("solara")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["app", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err == f"ioc-sim: error: --port: port {port} is in use; choose another, or --port 0 "
        "for a free one"
    )


def test_app_command_without_solara_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "solara", None)  # as if it were not installed
    assert main(["app", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install -e ".[app]"' in err


@pytest.mark.parametrize("port", ["abc", "70000", "-1"])
def test_app_command_checks_the_port(port, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["app", "--port", port])
    assert exit_.value.code == 2
    assert "port must be" in capsys.readouterr().err


# --------------------------------------------------------- in a real browser
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_app(timeout: float = 90.0):
    """Start ``ioc-sim app`` as a user does; yield its printed address; always stop it."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ioc_sim", "app", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError("ioc-sim app exited:\n" + "".join(lines))
            try:
                with urllib.request.urlopen(url, timeout=5) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("ioc-sim app did not answer:\n" + "".join(lines))
            time.sleep(0.3)
        assert any(f"ioc-sim teaching app: {url}" in line for line in lines), lines
        yield url, lines
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def _need_browser():
    """Playwright and Debian's Chromium: required in CI (.ci/run installs both)."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if not CHROMIUM.exists():
        missing.append(str(CHROMIUM))
    if missing:
        message = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@contextlib.contextmanager
def browser_page(url: str, problems: list[str]):
    """A Chromium page at ``url``; console errors and page errors are appended to problems."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.set_default_timeout(30_000)
            page.on(
                "console",
                lambda msg: msg.type == "error" and problems.append(f"console: {msg.text}"),
            )
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.goto(url, timeout=60_000)
            page.wait_for_selector(".ioc-month", timeout=90_000)
            yield page
        finally:
            browser.close()


def _month(page) -> int:
    return int(re.search(r"Month (\d+)", page.inner_text(".ioc-month")).group(1))


def _settled_month(page, quiet_ms: int = 800, timeout_s: float = 20.0) -> int:
    """The month shown, once it has stayed the same for ``quiet_ms``."""
    month = _month(page)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        page.wait_for_timeout(quiet_ms)
        now = _month(page)
        if now == month:
            return month
        month = now
    raise AssertionError("the month kept changing after pause")


def _set_slider(page, label: str, value: float):
    """Move a slider with the keyboard, as a user without a mouse would."""
    thumb = page.get_by_role("slider", name=label)
    thumb.focus()
    thumb.press("Home")
    for _ in range(2000):
        if float(thumb.get_attribute("aria-valuenow")) >= value - 1e-9:
            break
        thumb.press("ArrowRight")
    assert float(thumb.get_attribute("aria-valuenow")) == pytest.approx(value)


def _no_error_shown(page, problems: list[str]):
    shown = page.locator(".v-alert.error, .v-alert.red")
    assert shown.count() == 0, shown.all_inner_texts()
    body = page.inner_text("body")
    for marker in ("Traceback", "error in step", "Error:"):
        assert marker not in body
    assert problems == []


@pytest.mark.slow
def test_app_in_a_real_browser():
    """Start the app as a user, change controls, play, and watch the values move."""
    _need_browser()
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with serve_app() as (url, _), browser_page(url, problems) as page:
        drawer = page.locator(".v-navigation-drawer")
        page.screenshot(path=str(ARTIFACTS / "app-1-start.png"), full_page=True)
        # Controls: generated from the declarations, plus Mesa's own.
        for spec in control_specs("default").values():
            if isinstance(spec, dict):
                assert drawer.get_by_text(spec["label"], exact=True).count() >= 1, spec
        for button in ("Reset", "▶", "Step"):
            assert page.get_by_role("button", name=button).is_visible()
        for speed in ("Play Interval (ms)", "Render Interval (steps)"):
            assert drawer.get_by_text(speed, exact=True).is_visible()
            assert page.get_by_role("slider", name=speed).count() == 1
        question = scenario_info("default").scenario.question
        assert question in page.inner_text(".ioc-question")
        # Plots: the network and Mesa's two time series, all drawn.
        page.wait_for_function(
            "() => document.querySelectorAll('img.widget-image').length >= 3"
            " && [...document.querySelectorAll('img.widget-image')]"
            ".every(i => i.naturalWidth > 0)"
        )
        assert _month(page) == 0
        trust_0 = page.inner_text('[data-metric="trust"]')
        plots_0 = page.eval_on_selector_all("img.widget-image", "els => els.map(e => e.src)")

        # Change controls, apply them with Reset, then play.
        _set_slider(page, "Shared vision", 1.0)
        _set_slider(page, "Shock at month (0 = none)", 2)
        # ipywidgets sends a widget's state at most a message or two ahead of the server's
        # acknowledgements, so the last key's value can trail a click sent at once.
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Reset").click()
        page.wait_for_function(
            "() => document.querySelector('.ioc-changes')?.textContent"
            ".includes('shared_vision = 1 (scenario: 0.5)')"
        )
        assert "shock of 0.8 at month 2" in page.inner_text(".ioc-changes")
        page.get_by_role("button", name="▶").click()
        page.wait_for_function(
            "() => +document.querySelector('.ioc-month')?.textContent"
            ".match(/Month (\\d+)/)?.[1] >= 6",
            timeout=120_000,
        )
        page.get_by_role("button", name="❚❚").click()
        page.wait_for_selector("button:has-text('Step'):not([disabled])")
        # Mesa's play loop sleeps, then steps: a pause pressed during that sleep still gets
        # one last step (taken as a manual step), so wait until the month stands still.
        _settled_month(page)
        # The page skips redraws while playing; paused, it settles on the model's month.
        page.wait_for_function(
            "() => { const m = document.querySelector('.ioc-month')"
            "?.textContent.match(/Month (\\d+)/)?.[1]; return m && "
            "document.querySelector('.ioc-network-caption')?.textContent"
            ".startsWith(`Month ${m}:`); }"
        )
        month = _month(page)
        assert month >= 6
        page.screenshot(path=str(ARTIFACTS / "app-2-played.png"), full_page=True)
        assert page.inner_text('[data-metric="trust"]') != trust_0
        assert f"Month {month}:" in page.inner_text(".ioc-network-caption")
        plots = page.eval_on_selector_all("img.widget-image", "els => els.map(e => e.src)")
        assert len(plots) == len(plots_0)
        assert all(a != b for a, b in zip(plots, plots_0, strict=True))  # all redrawn
        drivers = page.inner_text(".ioc-drivers")
        assert "Shock under way" in drivers  # the shock set above, at month 2
        assert re.search(r"(rising|falling): ", drivers), drivers
        # Paused means paused.
        page.wait_for_timeout(800)
        assert _month(page) == month

        # Colour the organisations by distress.
        page.get_by_role("button", name="distress").click()
        page.wait_for_function(
            "() => document.querySelector('.ioc-network-legend')"
            "?.textContent.includes('in special measures')"
        )

        # Another scenario, with its question.
        page.locator(".v-navigation-drawer .v-select").first.click()
        page.locator(".v-menu__content .v-list-item", has_text="pandemic_shock").click()
        other = scenario_info("pandemic_shock").scenario.question
        page.wait_for_function(
            "q => document.querySelector('.ioc-question')?.textContent.includes(q)", arg=other
        )
        assert _month(page) == 0
        assert "scenario pandemic_shock" in page.inner_text(".ioc-now")
        # The new scenario plays too, drawing its months as it goes.
        page.get_by_role("button", name="▶").click()
        page.wait_for_function(
            "() => +document.querySelector('.ioc-month')?.textContent"
            ".match(/Month (\\d+)/)?.[1] >= 3",
            timeout=60_000,
        )
        page.get_by_role("button", name="❚❚").click()
        page.wait_for_selector("button:has-text('Step'):not([disabled])")
        assert 3 <= _month(page) < 60  # drawn on the way, not only at the end (96)
        page.screenshot(path=str(ARTIFACTS / "app-3-other-scenario.png"), full_page=True)
        _no_error_shown(page, problems)


# ------------------------------------------------------- playback speed (manual)
def measure_playback(
    n_organisations: int,
    render_interval: int = 1,
    seconds: float = 20.0,
    play_interval: int | None = None,
    threads: bool = False,
) -> dict[str, float]:
    """Play a synthetic system of ``n_organisations`` in the browser and time it.

    Returns:
        Months advanced per second, and frames (distinct months the page showed) per second.
    """
    problems: list[str] = []
    with serve_app() as (url, _), browser_page(url, problems) as page:
        _set_slider(page, "Organisations (synthetic systems)", 2)
        _set_slider(page, "Organisations (synthetic systems)", n_organisations)
        _set_slider(page, "Render Interval (steps)", 1)
        if render_interval > 1:
            _set_slider(page, "Render Interval (steps)", render_interval)
        if play_interval is not None:
            _set_slider(page, "Play Interval (ms)", play_interval)
        box = page.get_by_role("checkbox", name="Use Threads")
        if box.is_checked() != threads:
            box.click(force=True)  # Vuetify's ripple sits over the input
        page.wait_for_timeout(1000)  # see test_app_in_a_real_browser
        page.get_by_role("button", name="Reset").click()
        page.wait_for_function(
            "n => document.querySelector('.ioc-network-caption')"
            "?.textContent.includes(` ${n} organisations`)",
            arg=n_organisations,
        )
        page.evaluate(
            "() => { window.seen = []; setInterval(() => window.seen.push("
            "[performance.now(), document.querySelector('.ioc-month').textContent]),"
            " 10); }"
        )
        page.get_by_role("button", name="▶").click()
        page.wait_for_timeout(seconds * 1000)
        seen = page.evaluate("() => window.seen")
    frames = []
    for t, text in seen:
        m = int(re.search(r"Month (\d+)", text).group(1))
        if m > 0 and (not frames or frames[-1][1] != m):
            frames.append((t, m))
    if len(frames) < 2:  # the whole run went by between two redraws
        return {"months_per_s": float("inf"), "frames_per_s": 0.0, "problems": len(problems)}
    span = (frames[-1][0] - frames[0][0]) / 1000
    return {
        "months_per_s": (frames[-1][1] - frames[0][1]) / span,
        "frames_per_s": (len(frames) - 1) / span,
        "problems": len(problems),
    }


def measure_redraw(n_organisations: int, repeats: int = 20) -> dict[str, float]:
    """Server-side cost of one month and a full redraw of the page, in milliseconds.

    Renders the page as widgets in this process (no browser) and times the Step
    button, which advances one month and redraws every component.
    """
    import ipyvuetify as v

    with rendered_page() as rc:
        rc.find(
            v.Slider, label="Organisations (synthetic systems)"
        ).widget.v_model = n_organisations
        rc.find(v.Btn, children=["Reset"]).widget.click()
        import solara.widgets

        deadline = time.monotonic() + 30
        while not any(
            f" {n_organisations} organisations" in (w.unsafe_innerHTML or "")
            for w in rc.find(solara.widgets.HTML).widgets
        ):
            assert time.monotonic() < deadline, "the model was not rebuilt"
            time.sleep(0.05)
        step = rc.find(v.Btn, children=["Step"]).widget
        step.click()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            step.click()
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"min_ms": times[0], "median_ms": times[len(times) // 2]}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Measure the app's playback in Chromium.")
    parser.add_argument(
        "--speed", type=int, nargs="+", default=[20, 200], help="numbers of organisations"
    )
    parser.add_argument("--render-interval", type=int, nargs="+", default=[1])
    parser.add_argument("--play-interval", type=int, nargs="+", default=[None])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--threads",
        action="store_true",
        help="tick Use Threads: keep the play interval's pace, skip redraws",
    )
    parser.add_argument(
        "--redraw",
        action="store_true",
        help="also time one month and redraw in this process (no browser)",
    )
    args = parser.parse_args()
    if args.redraw:
        for n in args.speed:
            r = measure_redraw(n)
            print(
                f"{n} organisations: one month and a full redraw take {r['min_ms']:.0f} ms "
                f"(min), {r['median_ms']:.0f} ms (median) on the server"
            )
    for n in args.speed:
        for k in args.render_interval:
            for play in args.play_interval:
                r = measure_playback(n, k, args.seconds, play, args.threads)
                print(
                    f"{n} organisations, threads {'on' if args.threads else 'off'}, "
                    f"play interval {play or 'default'}, render interval "
                    f"{k}: {r['months_per_s']:.1f} months/s, {r['frames_per_s']:.1f} "
                    f"frames/s, {r['problems']} browser errors"
                )


def test_scenario_is_named_by_scenario_name_or_scenario_text():
    assert TeachingModel(scenario_name="merger").info.name == "merger"
    assert TeachingModel(scenario="merger").info.name == "merger"
    with pytest.raises(ConfigError) as err:
        TeachingModel(scenario=5)
    assert err.value.field == "scenario"


def test_reset_under_mesa_3_5_keeps_the_chosen_scenario():
    """Mesa 3.5's SolaraViz adds a Mesa Scenario of its own to the keywords of Reset."""
    solara_viz = pytest.importorskip("mesa.visualization.solara_viz")
    build = getattr(solara_viz, "_build_model_init_kwargs", None)
    if build is None:
        pytest.skip("this Mesa's Reset passes the controls as they are")
    model = TeachingModel(scenario_name="merger")
    params = {**control_specs("merger"), "shared_vision": 0.9}
    params = {k: v["value"] if isinstance(v, dict) else v for k, v in params.items()}
    kwargs = build(model, params, add_scenario_when_empty=True, require_model_accepts_scenario=True)
    again = TeachingModel(**kwargs)
    assert again.info.name == "merger" and again.changes == {"shared_vision": 0.9}
