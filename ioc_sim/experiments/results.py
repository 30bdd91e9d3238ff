"""An experiment's results folder, and reading it back.

The folder is written by :class:`~ioc_sim.experiments.writer.ResultsWriter`, one
writer at a time (:mod:`~ioc_sim.experiments.folders`). It holds::

    manifest.json          experiment as run, root seed, design size, versions, git commit,
                           platform, start/end times, finished and failed counts, sessions
    experiment.toml        a copy of the experiment file as run
    design.parquet         one row per design row: label, factor values, sampled numbers
    runs/part-sSSSS-TAG-NNNNNN.parquet   one row per finished run (ok or failed), as runs
                           finish; SSSS is the session, TAG is random, so that no two
                           writers ever name the same part (older folders: part-NNNNNN)
    timeseries/part-...parquet   kept monthly series (run_id, month, metrics), if asked
    analysis/              tables (CSV), figures (PNG), summary.md (``experiment analyse``)
    .lock, .writer.json    the writer's lock and who holds it

Parts are written to a temporary name and renamed, so a part is either
whole or absent: killing the process (even with ``kill -9``) loses at most
the runs buffered since the last part, which a re-run then computes again.
Re-running the same experiment into the same folder skips every run id
already recorded. :func:`load_results` reads everything back as pandas
DataFrames, keeping the latest record of each run. The parts of ``runs/`` (and
of ``timeseries/``) share one schema, so ``pd.read_parquet(folder / "runs")``
reads them all too, as they were written: a run retried after a failure
appears there once per try.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.experiment import Experiment
from ioc_sim.experiments.folders import record_stopped, stopped_status, writer_gone
from ioc_sim.experiments.kinds import MODEL, kind

# Writing moved to its own module; the names stay importable from here.
from ioc_sim.experiments.writer import PART_GLOB, ResultsWriter, part_order, read_parts

__all__ = [
    "PART_GLOB",
    "ExperimentResults",
    "ResultsWriter",
    "load_results",
    "part_order",
]


# ----------------------------------------------------------------- loading
@dataclass
class ExperimentResults:
    """A results folder loaded back as pandas DataFrames.

    Attributes:
        path: The folder.
        manifest: The manifest.
        design: One row per design row.
        runs: One row per recorded run (the latest record of each run id),
            sorted by run id.
        timeseries: Kept monthly series (run_id, month, metrics), or None.
    """

    path: Path
    manifest: dict[str, Any]
    design: pd.DataFrame
    runs: pd.DataFrame
    timeseries: pd.DataFrame | None

    @property
    def outcomes(self) -> list[str]:
        return [o["name"] for o in self.manifest["outcomes"]]

    @property
    def factors(self) -> list[str]:
        return [f["name"] for f in self.manifest["factors"]]

    @property
    def status(self) -> str:
        """The manifest's status, unless it says ``running`` while the runner that wrote
        it is gone (killed with ``kill -9``, or its machine restarted): then ``stopped
        (runner gone; last write at ...)``. :func:`load_results` also writes that into
        the manifest when it can. The recorded runs are kept either way, and re-running
        the same command finishes the rest. A runner on this machine is gone when its
        process is, or when the folder's lock it held is free (see
        :func:`~ioc_sim.experiments.folders.writer_gone`); a runner on another machine
        cannot be checked, so its word stands."""
        status = str(self.manifest.get("status"))
        last = (self.manifest.get("sessions") or [{}])[-1]
        if status == "running" and writer_gone(self.path, last):
            return stopped_status(last)
        return status

    @property
    def ok(self) -> pd.DataFrame:
        """Runs that finished without error."""
        return self.runs[self.runs["status"] == "ok"]

    @property
    def failed(self) -> pd.DataFrame:
        """Runs that raised, with their error."""
        return self.runs[self.runs["status"] == "failed"]

    def missing_runs(self) -> list[int]:
        """Run ids of the design that have no record yet."""
        total = int(self.manifest["total_runs"])
        have = set(self.runs["run_id"].astype(int))
        return [i for i in range(total) if i not in have]

    def row_means(self) -> pd.DataFrame:
        """Outcomes averaged over the successful replicates of each design row.

        Also gives ``n_ok``, the number of replicates averaged. Rows with no
        successful run are absent.
        """
        ok = self.ok
        g = ok.groupby("row")[self.outcomes]
        out = g.mean()
        out.insert(0, "n_ok", ok.groupby("row").size())
        return out.reset_index()

    def experiment(self) -> Experiment:
        """The experiment as run, rebuilt from the manifest.

        Raises:
            ConfigError: If the scenario files it refers to have changed since,
                so that its runs could no longer be replayed.
        """
        m = self.manifest
        try:
            exp = kind(m.get("model", MODEL)).rebuild(m)
        except ConfigError as err:
            raise err.with_source(str(self.path / "manifest.json")) from None
        if exp.fingerprint() != m["fingerprint"]:
            raise ConfigError(
                "fingerprint",
                "the experiment's scenario files have changed since "
                "these results were made; its runs cannot be replayed exactly",
                str(self.path / "manifest.json"),
            )
        return exp

    def replay(self, run_id: int):
        """The model of one stored run, rebuilt alone with its seed (not yet stepped)."""
        return self.experiment().replay(int(run_id))

    def analysis_tables(self) -> dict[str, pd.DataFrame]:
        """The tables ``ioc-sim experiment analyse`` wrote, by name (empty if none yet)."""
        folder = self.path / "analysis"
        return {p.stem: pd.read_csv(p) for p in sorted(folder.glob("*.csv"))}

    def code_versions(self) -> list[str]:
        """Distinct git commits and package versions the sessions ran with.

        More than one means the results were produced by different code (a
        resumed run after an update), which ``show`` points out.
        """
        seen = []
        for s in self.manifest.get("sessions", []):
            v = s.get("versions", {})
            key = (
                f"git {s.get('git_commit')}, ioc_sim {v.get('ioc_sim')}, numpy "
                f"{v.get('numpy')}, mesa {v.get('mesa')}"
            )
            if key not in seen:
                seen.append(key)
        return seen

    def incomplete_rows(self) -> list[int]:
        """Design rows with fewer successful replicates than the design asks for."""
        reps = int(self.manifest["replicates"])
        counts = self.ok.groupby("row").size()
        return [r for r in range(int(self.manifest["design_rows"])) if counts.get(r, 0) < reps]


def load_results(path: str | Path) -> ExperimentResults:
    """Load a results folder.

    A manifest that says ``running`` while its runner is gone (killed, so it could
    not say so) is rewritten to say ``stopped (runner gone; ...)`` if the folder can
    be written; reading never waits for, or needs, the folder's lock.

    Raises:
        ConfigError: If the folder has no manifest, or is not an experiment's.
    """
    p = Path(path)
    manifest_path = p / "manifest.json"
    if not manifest_path.is_file():
        raise ConfigError("", "not an experiment results folder (no manifest.json)", str(path))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if "outcomes" not in manifest:
        kind_ = "a scenario run's folder (ioc-sim run)" if "scenario" in manifest else "a folder"
        raise ConfigError(
            "",
            f"not an experiment results folder: {kind_} whose manifest names no outcomes; "
            "allowed: a folder written by `ioc-sim experiment run`",
            str(path),
        )
    if manifest.get("status") == "running":
        last = (manifest.get("sessions") or [{}])[-1]
        if writer_gone(p, last):
            # The runner was killed and could not say so: say it now, for every later
            # reader of the manifest (a read-only folder keeps its word; status still tells).
            record_stopped(p, manifest, last)
    design = (
        pd.read_parquet(p / "design.parquet")
        if (p / "design.parquet").exists()
        else pd.DataFrame({"row": []})
    )
    runs = read_parts(p / "runs")
    if runs is None:
        cols = ["run_id", "row", "replicate", "seed", "status", "error", "seconds"]
        runs = pd.DataFrame({c: [] for c in cols + [o["name"] for o in manifest["outcomes"]]})
        runs["status"] = runs["status"].astype(object)
    else:
        runs = runs.drop_duplicates("run_id", keep="last").sort_values("run_id")
        runs = runs.reset_index(drop=True)
    ts = read_parts(p / "timeseries")
    if ts is not None:
        ts = ts.drop_duplicates(["run_id", "month"], keep="last")
        ts = ts[ts["run_id"].isin(runs.loc[runs["status"] == "ok", "run_id"])]
        ts = ts.sort_values(["run_id", "month"]).reset_index(drop=True)
    return ExperimentResults(p, manifest, design, runs, ts)
