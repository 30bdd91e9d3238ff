"""Running a scenario's replicates and writing a results folder.

A results folder holds:

* ``timeseries.csv`` - every model-level metric, one row per replicate and
  month (written as each replicate finishes, so an interrupted run keeps
  what it finished);
* ``summary.csv`` - per metric, the mean, standard deviation and range
  across replicates at the start, at month 12 and at the end;
* ``collaborations.csv`` - each collaboration's final status per replicate;
* ``manifest.json`` - scenario, root seed and every replicate seed, all
  parameter values, package versions, git commit, platform and times;
* ``trajectories.png`` - the main trajectories with their spread.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.experiments.jsonfiles import write_json
from ioc_sim.experiments.provenance import git_commit, package_versions, replicate_seeds
from ioc_sim.experiments.replicates import (
    advance,
    collaboration_table,
    metric_names,
    start,
    validate_kwargs,
)
from ioc_sim.experiments.scenarios import Scenario
from ioc_sim.experiments.warmup import compile_kernels

__all__ = ["ReplicateResult", "iter_replicates", "replicate_seeds", "run_scenario", "summarise"]

SUMMARY_MONTHS = (0, 12)


@dataclass
class ReplicateResult:
    """One finished replicate."""

    replicate: int
    seed: int
    timeseries: pd.DataFrame
    collaborations: pd.DataFrame


def iter_replicates(
    scenario: Scenario,
    seeds: list[int],
    months: int,
    progress: Any = None,
    model_options: dict[str, Any] | None = None,
) -> Iterator[ReplicateResult]:
    """Run the replicates one by one, yielding each as it finishes.

    ``model_options`` are further model keywords (for example ``initial_relations``
    from a survey) passed to every replicate.
    """
    kwargs = scenario.model_kwargs(months=months, **(model_options or {}))
    names = metric_names()
    for r, seed in enumerate(seeds):
        # One replicate at a time, so that an interrupted run keeps those it finished.
        sim = start(kwargs, [seed])
        series = advance(sim, months, names, progress=progress)
        ts = pd.DataFrame(
            {"month": np.arange(months + 1), **{name: series[name][0] for name in names}}
        )
        ts.insert(0, "seed", seed)
        ts.insert(0, "replicate", r)
        collabs = collaboration_table(sim)
        collabs.insert(0, "replicate", r)
        yield ReplicateResult(r, seed, ts, collabs)


def summarise(ts: pd.DataFrame, months: int) -> pd.DataFrame:
    """Mean, sd, min and max across replicates at the start, month 12 and the end."""
    metric_cols = [c for c in ts.columns if c not in ("replicate", "seed", "month")]
    rows = []
    for month in sorted({m for m in (*SUMMARY_MONTHS, months) if m <= months}):
        at = ts[ts["month"] == month]
        for col in metric_cols:
            v = at[col].to_numpy(dtype=float)
            rows.append(
                {
                    "metric": col,
                    "month": month,
                    "mean": v.mean(),
                    "sd": v.std(ddof=1) if len(v) > 1 else 0.0,
                    "min": v.min(),
                    "max": v.max(),
                    "replicates": len(v),
                }
            )
    return pd.DataFrame(rows)


def default_out_dir(scenario: Scenario) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"{scenario.name}-{stamp}"


def run_scenario(
    scenario: Scenario,
    *,
    seed: int | None = None,
    months: int | None = None,
    replicates: int | None = None,
    out: Path | None = None,
    show_progress: bool = True,
    figure: bool = True,
    model_options: dict[str, Any] | None = None,
) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """Run a scenario's replicates and write a results folder.

    Args:
        scenario: The loaded scenario.
        seed: Root seed (default: the scenario's).
        months: Months to run (default: the scenario's).
        replicates: Number of replicates (default: the scenario's).
        out: Output folder (default: ``results/<name>-<timestamp>``).
        show_progress: Show a progress bar on stderr for work over a second.
        figure: Also draw ``trajectories.png``.
        model_options: Further model keywords for every replicate (for example
            ``initial_relations`` from ``--survey``); recorded in the manifest.

    Returns:
        The folder, the time series of every replicate, and the summary.
        If interrupted (Ctrl-C), what finished is written and the manifest
        says so before ``KeyboardInterrupt`` propagates.
    """
    from tqdm import tqdm

    root = scenario.seed if seed is None else seed
    months = scenario.months if months is None else months
    n = scenario.replicates if replicates is None else replicates
    out = default_out_dir(scenario) if out is None else Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = replicate_seeds(root, n)
    resolved = validate_kwargs(scenario.model_kwargs(months=months, **(model_options or {})))
    compile_kernels(notice=show_progress)  # the first run of an installation compiles them
    manifest: dict[str, Any] = {
        "scenario": scenario.name,
        "question": scenario.question,
        "scenario_file": str(scenario.path) if scenario.path else None,
        "scenario_contents": scenario.raw,
        "root_seed": root,
        "replicates": n,
        "replicate_seeds": seeds,
        "seed_derivation": "numpy.random.SeedSequence(root_seed, spawn_key=(0, replicate))"
        ".generate_state(1)[0]; replay one with "
        "CollaborationModel(rng=seed, **scenario params)",
        "months": months,
        "parameters": resolved,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "platform": {
            "system": platform.platform(),
            "machine": platform.machine(),
            "processor": platform.processor(),
            "python": sys.version,
        },
        "started": datetime.now(UTC).isoformat(),
        "status": "running",
        "finished_replicates": 0,
    }
    if model_options:
        manifest["model_options"] = model_options
    _write_manifest(out, manifest)
    ts_path = out / "timeseries.csv"
    co_path = out / "collaborations.csv"
    for p in (ts_path, co_path):
        p.unlink(missing_ok=True)
    frames, collabs = [], []
    t0 = time.perf_counter()
    bar = tqdm(
        total=n * months,
        unit="month",
        desc=scenario.name,
        delay=1.0,
        disable=not show_progress,
        file=sys.stderr,
    )
    try:
        for res in iter_replicates(scenario, seeds, months, bar, model_options):
            frames.append(res.timeseries)
            collabs.append(res.collaborations)
            first = res.replicate == 0
            res.timeseries.to_csv(ts_path, mode="w" if first else "a", header=first, index=False)
            res.collaborations.to_csv(
                co_path, mode="w" if first else "a", header=first, index=False
            )
            manifest["finished_replicates"] = res.replicate + 1
            _write_manifest(out, manifest)
    except KeyboardInterrupt:
        manifest["status"] = "interrupted"
        manifest["ended"] = datetime.now(UTC).isoformat()
        _write_manifest(out, manifest)
        bar.close()
        raise
    bar.close()
    ts = pd.concat(frames, ignore_index=True)
    summary = summarise(ts, months)
    summary.to_csv(out / "summary.csv", index=False)
    if figure:
        from ioc_sim.experiments.plotting import plot_trajectories

        plot_trajectories(
            ts,
            out / "trajectories.png",
            title=f"{scenario.name}: {n} replicate(s), seed {root}",
            subtitle=scenario.question,
        )
    manifest.update(
        status="complete",
        ended=datetime.now(UTC).isoformat(),
        seconds=round(time.perf_counter() - t0, 3),
    )
    _write_manifest(out, manifest)
    return out, ts, summary


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    write_json(out / "manifest.json", manifest)
