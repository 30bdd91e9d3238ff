"""The maturity index reaches the places a user looks: run figure, summary, teaching app."""

from __future__ import annotations

import pandas as pd

from ioc_sim import CollaborationModel
from ioc_sim.app import maturity_html
from ioc_sim.cli.main import format_summary
from ioc_sim.experiments.plotting import plot_trajectories
from ioc_sim.experiments.runs import summarise
from ioc_sim.model.maturity import level_names


def _series(months: int = 24) -> pd.DataFrame:
    frames = []
    for r in range(2):
        d = CollaborationModel(rng=r, n_organisations=8).run(months).model_dataframe()
        frames.append(d.reset_index().assign(replicate=r))
    return pd.concat(frames, ignore_index=True)


def test_app_panel_names_the_current_maturity_level():
    model = CollaborationModel(rng=4, n_organisations=8).run(12)
    score = model.model_dataframe()["maturity_index"].iloc[-1]
    text = maturity_html(model)
    assert f"<b>{score:.0f}</b>/100" in text and level_names(score)[0] in text


def test_run_summary_and_figure_show_the_maturity_index(tmp_path):
    ts = _series()
    table = format_summary(summarise(ts, 24), "x", "q")
    assert "maturity_index" in table
    path = plot_trajectories(ts, tmp_path / "t.png")
    without = plot_trajectories(ts.drop(columns="maturity_index"), tmp_path / "u.png")
    # The panel is drawn only when the series exists, so the two figures differ.
    assert path.read_bytes() != without.read_bytes()
