"""Figures drawn from results tables (plotting never runs a model)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ioc_sim.model.metrics import MAIN_TRAJECTORIES  # noqa: E402

_LABELS = {
    "trust": "Trust",
    "faith": "Faith",
    "confidence": "Confidence",
    "risk_threshold": "Risk threshold",
    "collaborative_behaviour": "Collaborative behaviour",
    "collaborative_performance": "Collaborative performance",
    "organisational_performance": "Organisational performance",
    "cultural_efficacy": "cultural efficacy",
    "organisational_efficiency": "organisational efficiency",
    "technological_effectiveness": "technological effectiveness",
}
_MECHANISMS = ("cultural_efficacy", "organisational_efficiency", "technological_effectiveness")


def _band(ax, ts: pd.DataFrame, col: str, colour: str, label: str | None = None) -> None:
    g = ts.groupby("month")[col]
    mean = g.mean()
    ax.plot(mean.index, mean.to_numpy(), color=colour, lw=1.8, label=label)
    if ts["replicate"].nunique() > 1:
        lo, hi = g.quantile(0.1), g.quantile(0.9)
        ax.fill_between(mean.index, lo.to_numpy(), hi.to_numpy(), color=colour, alpha=0.2, lw=0)


def _maturity_panel(ax, ts: pd.DataFrame) -> None:
    """The maturity index on its 0-100 scale, with its named levels as bands."""
    from ioc_sim.model.maturity import LEVELS

    edges = [level.lower for level in LEVELS] + [100.0]
    for k, level in enumerate(LEVELS):
        ax.axhspan(edges[k], edges[k + 1], color="0.5", alpha=0.04 + 0.05 * k, lw=0)
        ax.text(
            0.99,
            (edges[k] + edges[k + 1]) / 2,
            level.name,
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=7,
            color="0.35",
        )
    _band(ax, ts, "maturity_index", "black")
    ax.set_ylim(0, 100)
    ax.set_title("Collaboration maturity index", fontsize=11)
    ax.grid(alpha=0.3)


def plot_trajectories(
    ts: pd.DataFrame, path: str | Path, title: str = "", subtitle: str = ""
) -> Path:
    """Draw the main trajectories (mean, and 10-90% band across replicates).

    Args:
        ts: Time series with columns ``replicate``, ``month`` and the metrics.
        path: PNG file to write.
        title: Figure title.
        subtitle: A second line (for example the scenario's question).

    Returns:
        The path written.
    """
    fig, axes = plt.subplots(3, 3, figsize=(14, 10), sharex=True, constrained_layout=True)
    colours = plt.get_cmap("tab10").colors
    for ax, col, colour in zip(axes.flat, MAIN_TRAJECTORIES, colours, strict=False):
        _band(ax, ts, col, colour)
        ax.set_title(_LABELS.get(col, col), fontsize=11)
        ax.set_ylim(0, max(1.0, float(ts[col].max()) * 1.05))
        ax.grid(alpha=0.3)
    ax = axes.flat[len(MAIN_TRAJECTORIES)]
    for col, colour in zip(_MECHANISMS, colours[7:], strict=False):
        _band(ax, ts, col, colour, _LABELS[col])
    ax.set_title("Performance mechanisms", fontsize=11)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    ax = axes.flat[len(MAIN_TRAJECTORIES) + 1]
    if "maturity_index" in ts:
        _maturity_panel(ax, ts)
    else:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("month")
    if title or subtitle:
        fig.suptitle(title + (f"\n{subtitle}" if subtitle else ""), fontsize=12)
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
