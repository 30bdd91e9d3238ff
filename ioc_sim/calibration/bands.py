"""A what-if over posterior draws: ``ioc-sim run SCENARIO --posterior FILE --draws N``.

Each of ``N`` draws from a calibration's posterior sets the fitted parameters (a
scenario's own explicit values win, and the run says which those are), and runs the
scenario's replicates; every arm of a comparison (``--compare``) runs the same draws
with the same replicate seeds, so the difference between arms is paired draw by draw
and carries its own interval. For each outcome, the mean over a draw's replicates is
one value per draw; the report gives its median and 90% interval across draws: the
spread the calibration leaves in the answer.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from ioc_sim.calibration.posterior import Posterior, posterior_draws
from ioc_sim.experiments.executors import open_executor
from ioc_sim.experiments.folders import FolderLock
from ioc_sim.experiments.jsonfiles import write_json
from ioc_sim.experiments.provenance import git_commit, package_versions, replicate_seeds
from ioc_sim.experiments.replicates import simulate, validate_kwargs
from ioc_sim.experiments.runs import claim_run_folder
from ioc_sim.model.metrics import SUMMARY_METRICS
from ioc_sim.spec.files import writable_folder

#: The outcomes reported (those of ``ioc-sim run``'s summary).
OUTCOMES = SUMMARY_METRICS
LOW, HIGH = 0.05, 0.95


def run_draw(kwargs: dict[str, Any], seeds: Sequence[int], months: int) -> np.ndarray:
    """One draw: every outcome's mean over the replicates, month by month, shape
    (outcomes, months + 1). Module-level: it runs on workers."""
    out = simulate(kwargs, list(seeds), months, list(OUTCOMES))
    return np.stack([out[m].mean(axis=0) for m in OUTCOMES])


def _kwargs(scenario, draw: pd.Series, names: list[str], months: int) -> dict[str, Any]:
    values = {n: float(draw[n]) for n in names if n not in scenario.params}
    return scenario.model_kwargs(**values, months=months)


def _quantiles(x: np.ndarray) -> tuple[float, float, float]:
    return float(np.median(x)), float(np.quantile(x, LOW)), float(np.quantile(x, HIGH))


def run_posterior(
    scenario,
    post: Posterior,
    draws: int,
    *,
    compare: Sequence = (),
    seed: int | None = None,
    months: int | None = None,
    replicates: int | None = None,
    out: Path | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    show_progress: bool = True,
    figure: bool = True,
    force: bool = False,
    wait: bool = False,
) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """Run a scenario (and those compared with it) over posterior draws.

    Returns:
        The results folder, the outcomes table (arm, outcome, month, median, q05,
        q95) and the differences table (each compared arm minus the first).

    Like any run, it holds ``out`` alone (``wait`` for another writer, or be refused)
    and refuses to mix with an earlier run there unless ``force`` clears it.
    """
    arms = [scenario, *compare]
    root = scenario.seed if seed is None else seed
    months = scenario.months if months is None else months
    n_rep = scenario.replicates if replicates is None else replicates
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path("results") / f"{scenario.name}-posterior-{stamp}" if out is None else Path(out)
    writable_folder(out, "--out")
    lock = FolderLock(out).acquire(wait)  # one writer at a time, as for any run
    try:
        claim_run_folder(out, force)  # an earlier run there: refused, or cleared with force
        return _run_posterior(
            arms, post, draws, root, months, n_rep, out, workers, scheduler, show_progress, figure
        )
    finally:
        lock.release()


def _run_posterior(
    arms, post, draws, root, months, n_rep, out, workers, scheduler, show_progress, figure
) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """:func:`run_posterior` into its claimed and locked folder."""
    scenario = arms[0]
    names = post.names
    table = posterior_draws(post, draws, root)
    seeds = replicate_seeds(root, n_rep)
    kwargs = [[_kwargs(a, row, names, months) for _, row in table.iterrows()] for a in arms]
    for kw in kwargs:
        validate_kwargs(kw[0])  # a mistake surfaces before any run
    fixed = {a.name: sorted(set(names) & set(a.params)) for a in arms}
    t0 = time.perf_counter()
    results = np.empty((len(arms), draws, len(OUTCOMES), months + 1))
    with open_executor(workers, scheduler) as executor:
        futures = {
            executor.submit(run_draw, kwargs[i][d], seeds, months): (i, d)
            for i in range(len(arms))
            for d in range(draws)
        }
        bar = tqdm(
            total=len(futures),
            unit="draw",
            desc=scenario.name,
            delay=1.0,
            disable=not show_progress,
            file=sys.stderr,
        )
        for fut, (i, d) in futures.items():
            results[i, d] = fut.result()
            bar.update(1)
        bar.close()
    table.insert(0, "draw", range(draws))
    table.to_csv(out / "draws.csv", index=False)
    bands = _bands(arms, results, months)
    bands.to_csv(out / "trajectories.csv", index=False)
    summary = bands[bands["month"].isin(sorted({0, min(12, months), months}))]
    summary.to_csv(out / "summary.csv", index=False)
    diffs = _differences(arms, results, months)
    if len(diffs):
        diffs.to_csv(out / "differences.csv", index=False)
    if figure:
        from ioc_sim.calibration.band_figure import plot_bands

        plot_bands(bands, arms, out / "trajectories.png", draws, n_rep, post)
    write_json(
        out / "manifest.json",
        {
            "scenarios": [a.name for a in arms],
            "scenario_files": [str(a.path) if a.path else None for a in arms],
            "posterior": str(post.path),
            "posterior_provenance": post.provenance,
            "draws": draws,
            "draw_seed": root,
            "replicates": n_rep,
            "replicate_seeds": seeds,
            "months": months,
            "set_by_the_scenario": fixed,
            "versions": package_versions(),
            "git_commit": git_commit(),
            "seconds": round(time.perf_counter() - t0, 2),
            "ended": datetime.now(UTC).isoformat(),
        },
    )
    return out, summary.reset_index(drop=True), diffs


def _bands(arms, results: np.ndarray, months: int) -> pd.DataFrame:
    q = np.quantile(results, [0.5, LOW, HIGH], axis=1)  # (3, arms, outcomes, months + 1)
    rows = []
    for i, a in enumerate(arms):
        for j, name in enumerate(OUTCOMES):
            rows.append(
                pd.DataFrame(
                    {
                        "arm": a.name,
                        "outcome": name,
                        "month": np.arange(months + 1),
                        "median": q[0, i, j],
                        "q05": q[1, i, j],
                        "q95": q[2, i, j],
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def _differences(arms, results: np.ndarray, months: int) -> pd.DataFrame:
    rows = []
    for i in range(1, len(arms)):
        for j, name in enumerate(OUTCOMES):
            d = results[i, :, j, months] - results[0, :, j, months]
            med, lo, hi = _quantiles(d)
            rows.append(
                {
                    "arm": arms[i].name,
                    "versus": arms[0].name,
                    "outcome": name,
                    "month": months,
                    "median": med,
                    "q05": lo,
                    "q95": hi,
                    "share_above_zero": float((d > 0).mean()),
                }
            )
    return pd.DataFrame(rows)


def format_bands(
    summary: pd.DataFrame, diffs: pd.DataFrame, months: int, draws: int, replicates: int
) -> str:
    """The outcomes at the end (and each difference) as median [90% interval]."""
    end = summary[summary["month"] == months]
    arms = list(dict.fromkeys(end["arm"]))
    heads = [*arms, *(f"{a} - {arms[0]}" for a in arms[1:] if len(diffs))]
    rows = []
    for name in OUTCOMES:
        row = end[end["outcome"] == name].set_index("arm")
        cells = [
            f"{row.loc[a, 'median']:.3f} [{row.loc[a, 'q05']:.3f}, {row.loc[a, 'q95']:.3f}]"
            for a in arms
        ]
        if len(diffs):
            d = diffs[diffs["outcome"] == name].set_index("arm")
            cells += [
                f"{d.loc[a, 'median']:+.3f} [{d.loc[a, 'q05']:+.3f}, {d.loc[a, 'q95']:+.3f}]"
                for a in arms[1:]
            ]
        rows.append((name, cells))
    widths = [max(len(h), *(len(c[k]) for _, c in rows)) + 2 for k, h in enumerate(heads)]
    head = f"{'outcome':<28}" + "".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True))
    lines = [
        f"at month {months}: median [90% interval] over {draws} posterior draws of the mean "
        f"of {replicates} replicate(s)",
        head,
        "-" * len(head),
    ]
    for name, cells in rows:
        lines.append(
            f"{name:<28}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))
        )
    return "\n".join(lines)
