"""The figure of a run over posterior draws: each outcome's median and 90% band."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ioc_sim.model.metrics import MAIN_TRAJECTORIES  # noqa: E402

_SHOWN = (*MAIN_TRAJECTORIES, "distressed_share", "emergency_admissions")


def plot_bands(bands: pd.DataFrame, arms, path: Path, draws: int, replicates: int, post) -> Path:
    """Draw the main trajectories: for each arm, the median over posterior draws of the
    replicates' mean, and its 90% band."""
    fig, axes = plt.subplots(3, 3, figsize=(14, 10), sharex=True, constrained_layout=True)
    colours = plt.get_cmap("tab10").colors
    for ax, name in zip(axes.flat, _SHOWN, strict=False):
        for k, a in enumerate(arms):
            b = bands[(bands["arm"] == a.name) & (bands["outcome"] == name)]
            c = colours[k % len(colours)]
            ax.plot(b["month"], b["median"], color=c, lw=1.8, label=a.name)
            ax.fill_between(b["month"], b["q05"], b["q95"], color=c, alpha=0.2, lw=0)
        ax.set_title(name.replace("_", " ").capitalize(), fontsize=11)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8, loc="best")
    for ax in axes[-1]:
        ax.set_xlabel("month")
    source = post.provenance.get("calibration", post.path)
    fig.suptitle(
        f"{' vs '.join(a.name for a in arms)}: median and 90% band over {draws} draws from "
        f"the posterior of calibration {source!s} (each the mean of {replicates} replicates)",
        fontsize=11,
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
