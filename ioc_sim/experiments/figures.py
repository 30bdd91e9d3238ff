"""Figures of an experiment's analysis: index bars, Morris screening, comparisons.

Each function draws one PNG from an analysis table and returns its path
(see :func:`ioc_sim.experiments.sensitivity.analyse`). Matplotlib is loaded
when the first figure is drawn, so an analysis without figures never loads it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ioc_sim.experiments.results import ExperimentResults


def bar_figure(table: pd.DataFrame, outcome: str, cols: list[str], path: Path, title: str) -> Path:
    """Indices of one outcome as horizontal bars (with their confidence intervals)."""
    from ioc_sim.experiments.plotting import plt  # the files-only backend, set in one place

    t = table[table["outcome"] == outcome].sort_values(cols[-1], ascending=True).tail(25)
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(t) + 1.5))
    y = np.arange(len(t))
    h = 0.8 / len(cols)
    for k, c in enumerate(cols):
        err = t.get(f"{c}_conf")
        ax.barh(y + k * h, t[c], height=h, xerr=None if err is None else err, label=c, capsize=2)
    ax.set_yticks(y + h * (len(cols) - 1) / 2, t["factor"])
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def morris_figure(table: pd.DataFrame, outcome: str, path: Path) -> Path:
    """Morris screening of one outcome: mu* against sigma, the leading factors named."""
    from ioc_sim.experiments.plotting import plt  # the files-only backend, set in one place

    t = table[table["outcome"] == outcome]
    fig, ax = plt.subplots(figsize=(6.5, 5))
    ax.scatter(t["mu_star"], t["sigma"], s=14)
    for _, r in t.nlargest(8, "mu_star").iterrows():
        ax.annotate(r["factor"], (r["mu_star"], r["sigma"]), fontsize=7)
    ax.set_xlabel("mu* (mean absolute elementary effect)")
    ax.set_ylabel("sigma (non-linearity and interactions)")
    ax.set_title(f"Morris screening: {outcome}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def compare_figure(table: pd.DataFrame, outcome: str, path: Path) -> Path:
    """Compared scenarios: means, and paired differences from the first scenario."""
    from ioc_sim.experiments.plotting import plt  # the files-only backend, set in one place

    t = table[table["outcome"] == outcome]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 0.35 * len(t) + 1.6), sharey=True)
    y = np.arange(len(t))
    left.barh(y, t["mean"], xerr=t["ci95"].fillna(0), capsize=3)
    left.set_yticks(y, t["scenario"])
    left.invert_yaxis()  # the first scenario on top, as listed in the experiment
    left.set_title(f"{outcome}: mean, 95% CI", fontsize=10)
    # Common random numbers make replicate-by-replicate differences the sharper comparison.
    right.barh(
        y, t["diff_from_first"], xerr=t["diff_ci95"].fillna(0), capsize=3, color="tab:orange"
    )
    right.axvline(0, color="grey", lw=0.5)
    right.set_title(f"paired difference from {t['scenario'].iloc[0]}, 95% CI", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def trajectories_figure(res: ExperimentResults, path: Path) -> Path:
    """Mean monthly trajectory of each kept metric, one line per design row (compare)."""
    from ioc_sim.experiments.plotting import plt  # the files-only backend, set in one place

    ts = res.timeseries.merge(res.ok[["run_id", "row"]], on="run_id")
    labels = res.design.set_index("row")["label"]
    metrics = [c for c in ts.columns if c not in ("run_id", "month", "row")]
    cols = min(2, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 3.2 * rows), squeeze=False)
    means = ts.groupby(["row", "month"])[metrics].mean()
    for ax, metric in zip(axes.ravel(), metrics, strict=False):
        ax.set_prop_cycle(color=plt.cm.tab20.colors)  # up to 20 distinguishable rows
        for row, grp in means[metric].groupby(level="row"):
            ax.plot(
                grp.index.get_level_values("month"), grp.to_numpy(), lw=1.2, label=str(labels[row])
            )
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel("month")
    for ax in axes.ravel()[len(metrics) :]:
        ax.axis("off")
    handles, names = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="center right", fontsize=8, frameon=False)
    fig.suptitle(f"{res.manifest['experiment']}: mean across replicates", fontsize=11)
    fig.tight_layout(rect=(0, 0, 0.8, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
