"""Running a scenario's replicates and writing a results folder.

A results folder holds:

* ``timeseries.csv`` - every model-level metric, one row per replicate and
  month (written as each replicate finishes, so an interrupted run keeps
  what it finished);
* ``summary.csv`` - per metric, the mean, standard deviation and range
  across replicates at the start, at month 12 and at the end;
* ``collaborations.csv`` - each collaboration's final status per replicate;
* ``episodes.csv``, ``collaboration_events.csv``, ``organisation_events.csv`` - what
  happened: special-measures episodes and mergers, and the events of collaborations and
  organisations, with their months; ``pairs.csv`` and ``organisations.csv`` - every pair
  and every organisation at the end (:mod:`ioc_sim.model.outputs`), per replicate and
  written as each finishes;
* ``manifest.json`` - scenario, root seed and every replicate seed, all
  parameter values, package versions, git commit, platform and times;
* ``trajectories.png`` - the main trajectories with their spread.

One run writes a folder at a time (it holds the folder's lock, see
:mod:`~ioc_sim.experiments.folders`), and a folder holds one run: running
into a folder that holds an earlier run is refused unless asked to replace
it, and replacing removes every file above first, so no file of the earlier
run is left beside the new one.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.folders import (
    FolderLock,
    now,
    record_stopped,
    stopped_status,
    writer_gone,
)
from ioc_sim.experiments.jsonfiles import write_json
from ioc_sim.experiments.provenance import (
    git_commit,
    package_versions,
    platform_info,
    replicate_seeds,
)
from ioc_sim.experiments.replicates import (
    advance,
    collaboration_table,
    metric_names,
    start,
    validate_kwargs,
)
from ioc_sim.experiments.scenarios import Scenario
from ioc_sim.experiments.warmup import compile_kernels
from ioc_sim.model import outputs
from ioc_sim.spec.files import writable_folder

__all__ = ["ReplicateResult", "iter_replicates", "replicate_seeds", "run_scenario", "summarise"]

SUMMARY_MONTHS = (0, 12)

#: The tables of what happened in a replicate, by the stem of the file each goes to.
RUN_TABLES = {
    "episodes": outputs.episodes,
    "pairs": outputs.pairs,
    "collaboration_events": outputs.collaboration_events,
    "organisation_events": outputs.organisation_events,
    "organisations": outputs.organisations,
}


@dataclass
class ReplicateResult:
    """One finished replicate.

    Attributes:
        tables: The tables of :data:`RUN_TABLES` at the end of the replicate, by name.
    """

    replicate: int
    seed: int
    timeseries: pd.DataFrame
    collaborations: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


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
        tables = {}
        for name, table in RUN_TABLES.items():
            tables[name] = df = table(sim)
            df["replicate"] = r  # the run's replicate, not the simulation's only one
        yield ReplicateResult(r, seed, ts, collabs, tables)


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


#: The files a run writes into its folder, and so replaces when it runs there again.
RUN_FILES = (
    "timeseries.csv",
    "summary.csv",
    "collaborations.csv",
    "manifest.json",
    "trajectories.png",
    *(f"{name}.csv" for name in RUN_TABLES),
)
#: What a run over a calibration's posterior writes besides (``ioc-sim run --posterior``,
#: :func:`ioc_sim.calibration.bands.run_posterior`): a run folder holds one or the other.
POSTERIOR_RUN_FILES = ("draws.csv", "trajectories.csv", "differences.csv")


def default_out_dir(scenario: Scenario) -> Path:
    """``results/<name>-<time>``, with ``-2``, ``-3``... if a run started in the same second."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path("results") / f"{scenario.name}-{stamp}"
    k = 2
    while out.exists():
        out = Path("results") / f"{scenario.name}-{stamp}-{k}"
        k += 1
    return out


def read_run_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest of a run's folder, with the truth recorded if its runner was killed.

    A manifest that says ``running`` while the folder's lock is free (its runner was
    killed and could not say so) is rewritten to say ``stopped (runner gone; ...)``,
    so that every later reader sees the truth. None if there is no readable manifest.
    """
    path = Path(out) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    if manifest.get("status") == "running" and writer_gone(Path(out), manifest):
        if not record_stopped(Path(out), manifest, manifest):
            manifest["status"] = stopped_status(manifest)
    return manifest


def claim_run_folder(out: Path, force: bool) -> None:
    """Make ``out`` ready for a run: refuse to mix with what is there, or clear it.

    A folder holding an earlier run is refused unless ``force`` is given; then every
    file a run writes is removed first, so nothing of the earlier run (a figure the new
    run does not draw, say) is left beside the new one. An experiment's folder is never
    a run's.
    """
    manifest = read_run_manifest(out)
    if manifest is not None and ("fingerprint" in manifest or "outcomes" in manifest):
        raise ConfigError(
            "--out",
            f"{out} holds an experiment's results; allowed: a new folder, or one "
            "written by ioc-sim run",
        )
    present = [name for name in RUN_FILES + POSTERIOR_RUN_FILES if (out / name).exists()]
    if not present:
        return
    if not force:
        what = (
            f"a run of {manifest['scenario']!r} ({manifest.get('status')})"
            if manifest and "scenario" in manifest
            else f"a run of {', '.join(map(str, manifest['scenarios']))} over a posterior"
            if manifest and "scenarios" in manifest
            else f"files of an earlier run ({', '.join(present)})"
        )
        raise ConfigError(
            "--out",
            f"{out} already holds {what}; allowed: another folder, or --force to replace that run",
        )
    for name in present:
        (out / name).unlink()


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
    force: bool = False,
    wait: bool = False,
) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """Run a scenario's replicates and write a results folder.

    Before anything runs, the scenario is checked, the folder is found writable
    and locked against a second writer (see :mod:`~ioc_sim.experiments.folders`),
    and an earlier run there is refused, or with ``force`` cleared.

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
        force: Replace an earlier run in ``out`` (every file a run writes is
            removed first) instead of refusing.
        wait: If another run is writing ``out``, wait for it rather than refuse.

    Returns:
        The folder, the time series of every replicate, and the summary.
        If interrupted (Ctrl-C), what finished is written and the manifest
        says so before ``KeyboardInterrupt`` propagates.

    Raises:
        ConfigError: For an invalid scenario or option, a folder that cannot be
            written, is being written by another run (named), holds an earlier run
            (without ``force``) or an experiment's results.
    """
    root = scenario.seed if seed is None else seed
    months = scenario.months if months is None else months
    n = scenario.replicates if replicates is None else replicates
    resolved = validate_kwargs(scenario.model_kwargs(months=months, **(model_options or {})))
    out = default_out_dir(scenario) if out is None else Path(out)
    writable_folder(out, "--out")
    compile_kernels(notice=show_progress)  # the first run of an installation compiles them
    lock = FolderLock(out).acquire(wait)
    try:
        claim_run_folder(out, force)
        seeds = replicate_seeds(root, n)
        manifest: dict[str, Any] = {
            "scenario": scenario.name,
            "question": scenario.question,
            "scenario_file": str(scenario.path) if scenario.path else None,
            "scenario_contents": scenario.raw,
            "root_seed": root,
            "replicates": n,
            "replicate_seeds": seeds,
            "seed_derivation": "numpy.random.SeedSequence(root_seed, spawn_key=(0, "
            "replicate)).generate_state(1)[0]; replay one with "
            "CollaborationModel(rng=seed, **scenario params)",
            "months": months,
            "parameters": resolved,
            "versions": package_versions(),
            "git_commit": git_commit(),
            "platform": platform_info(),
            "started": now(),
            "status": "running",
            "finished_replicates": 0,
            # Who writes the folder, so that a reader can tell whether it still runs.
            "host": platform.node(),
            "pid": os.getpid(),
            "locked": lock.held,
        }
        if model_options:
            manifest["model_options"] = model_options
        return _run_into(out, scenario, manifest, seeds, months, show_progress, figure)
    finally:
        lock.release()


def _run_into(
    out: Path,
    scenario: Scenario,
    manifest: dict[str, Any],
    seeds: list[int],
    months: int,
    show_progress: bool,
    figure: bool,
) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """Run the replicates into ``out`` (claimed and locked), keeping the manifest true."""
    from tqdm import tqdm

    n = len(seeds)
    model_options = manifest.get("model_options")
    _write_manifest(out, manifest)
    ts_path = out / "timeseries.csv"
    co_path = out / "collaborations.csv"
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
            for name, table in res.tables.items():
                table.to_csv(
                    out / f"{name}.csv", mode="w" if first else "a", header=first, index=False
                )
            manifest["finished_replicates"] = res.replicate + 1
            manifest["last_write"] = now()
            _write_manifest(out, manifest)
        bar.close()
        ts = pd.concat(frames, ignore_index=True)
        summary = summarise(ts, months)
        summary.to_csv(out / "summary.csv", index=False)
        if figure:
            from ioc_sim.experiments.plotting import plot_trajectories

            plot_trajectories(
                ts,
                out / "trajectories.png",
                title=f"{scenario.name}: {n} replicate(s), seed {manifest['root_seed']}",
                subtitle=scenario.question,
            )
    except BaseException as err:
        bar.close()
        stopped = "interrupted" if isinstance(err, KeyboardInterrupt) else "stopped by an error"
        manifest.update(status=stopped, ended=now())
        _write_manifest(out, manifest)
        raise
    manifest.update(status="complete", ended=now(), seconds=round(time.perf_counter() - t0, 3))
    _write_manifest(out, manifest)
    return out, ts, summary


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    write_json(out / "manifest.json", manifest)
