"""Figures of a calibration, drawn from its tables (plotting never runs a model)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ioc_sim.calibration.posterior import Posterior  # noqa: E402

_COLOURS = {"identified": "tab:green", "constrained": "tab:orange", "left at its prior": "0.5"}


def _grid(n: int) -> tuple[int, int]:
    cols = min(4, n)
    return (n + cols - 1) // cols, cols


def plot_marginals(
    populations: pd.DataFrame, bounds, ident: pd.DataFrame, path: Path, name: str
) -> Path:
    """Each parameter's marginal posterior (weighted histogram of the last generation),
    the first generation's for comparison, and the uniform prior."""
    names = list(bounds)
    verdict = dict(zip(ident["parameter"], ident["verdict"], strict=True))
    rows, cols = _grid(len(names))
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.4 * cols, 2.6 * rows), squeeze=False, constrained_layout=True
    )
    first = populations[populations["generation"] == populations["generation"].min()]
    last = populations[populations["generation"] == populations["generation"].max()]
    for ax, n in zip(axes.flat, names, strict=False):
        low, high = bounds[n]
        bins = np.linspace(low, high, 21)
        ax.hist(
            first[n],
            bins=bins,
            weights=first["weight"],
            density=True,
            color="0.8",
            label="generation 0",
        )
        ax.hist(
            last[n],
            bins=bins,
            weights=last["weight"],
            density=True,
            histtype="step",
            lw=2,
            color=_COLOURS[verdict[n]],
            label="posterior",
        )
        ax.axhline(1.0 / (high - low), color="k", ls=":", lw=1, label="prior")
        ax.set_title(f"{n}\n({verdict[n]})", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"Calibration {name}: marginal posteriors against uniform priors", fontsize=12)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_pairs(
    post: Posterior, bounds, ident: pd.DataFrame, path: Path, name: str, most: int = 8
) -> Path:
    """Pairwise scatter of the posterior particles (size by weight) for the ``most``
    parameters the patterns narrow most, each axis over its prior range."""
    order = ident.sort_values("contraction", ascending=False)["parameter"].tolist()[:most]
    k = len(order)
    fig, axes = plt.subplots(
        k, k, figsize=(1.9 * k + 1, 1.9 * k + 1), squeeze=False, constrained_layout=True
    )
    w = post.weights / post.weights.max()
    for i, a in enumerate(order):
        for j, b in enumerate(order):
            ax = axes[i, j]
            if i == j:
                ax.hist(
                    post.particles[a],
                    bins=np.linspace(*bounds[a], 16),
                    weights=post.weights,
                    color="tab:blue",
                    alpha=0.7,
                )
                ax.set_yticks([])
            elif i > j:
                ax.scatter(
                    post.particles[b],
                    post.particles[a],
                    s=6 * w + 1,
                    alpha=0.5,
                    color="tab:blue",
                    lw=0,
                )
                ax.set_ylim(*bounds[a])
            else:
                ax.set_visible(False)
                continue
            ax.set_xlim(*bounds[b])
            ax.tick_params(labelsize=6)
            if i == k - 1:
                ax.set_xlabel(b, fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(a, fontsize=7)
    fig.suptitle(f"Calibration {name}: pairs of the {k} most narrowed parameters", fontsize=11)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_generations(gens: pd.DataFrame, path: Path, name: str) -> Path:
    """Epsilon and acceptance rate per generation."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2), constrained_layout=True)
    a.plot(gens["generation"], gens["epsilon"], "o-")
    a.set_xlabel("generation")
    a.set_ylabel("epsilon (distance accepted)")
    b.plot(gens["generation"], gens["acceptance_rate"], "o-", color="tab:orange")
    b.set_xlabel("generation")
    b.set_ylabel("acceptance rate")
    b.set_ylim(0, 1)
    for ax in (a, b):
        ax.grid(alpha=0.3)
        ax.set_xticks(gens["generation"])
    fig.suptitle(f"Calibration {name}: ABC-SMC generations", fontsize=11)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
