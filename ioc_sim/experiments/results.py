"""An experiment's results folder: Parquet parts, a manifest, resume.

A results folder holds::

    manifest.json          experiment as run, root seed, design size, versions, git commit,
                           platform, start/end times, finished and failed counts, sessions
    experiment.toml        a copy of the experiment file as run
    design.parquet         one row per design row: label, factor values, sampled numbers
    runs/part-NNNNNN.parquet   one row per finished run (ok or failed), as runs finish
    timeseries/part-NNNNNN.parquet   kept monthly series (run_id, month, metrics), if asked
    analysis/              tables (CSV), figures (PNG), summary.md (``experiment analyse``)

Parts are written to a temporary name and renamed, so a part is either
whole or absent: killing the process (even with ``kill -9``) loses at most
the runs buffered since the last part, which a re-run then computes again.
Re-running the same experiment into the same folder skips every run id
already recorded. :func:`load_results` reads everything back as pandas
DataFrames.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.experiment import Experiment
from ioc_sim.experiments.jsonfiles import write_json
from ioc_sim.experiments.kinds import MODEL, kind
from ioc_sim.experiments.provenance import git_commit, versions

PART_GLOB = "part-*.parquet"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name("." + path.name + ".tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _read_parts(folder: Path) -> pd.DataFrame | None:
    parts = sorted(folder.glob(PART_GLOB))
    if not parts:
        return None
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def _next_part(folder: Path) -> int:
    numbers = [int(p.stem.split("-")[1]) for p in folder.glob(PART_GLOB)]
    return max(numbers, default=0) + 1


class ResultsWriter:
    """Streams run records to Parquet parts and keeps the manifest current.

    Args:
        out: The results folder (created if needed).
        exp: The experiment being run.
        flush_runs: Write a part once this many runs are buffered.
        flush_seconds: ... or once this long has passed since the last part.
        executor: A description of the executor, for the manifest.

    Raises:
        ConfigError: If ``out`` holds the results of a different experiment.
    """

    def __init__(
        self,
        out: Path,
        exp: Experiment,
        *,
        flush_runs: int = 500,
        flush_seconds: float = 2.0,
        executor: str = "",
        retry_failed: bool = False,
    ):
        self.out = Path(out)
        self.exp = exp
        self.flush_runs = flush_runs
        self.flush_seconds = flush_seconds
        self.runs_dir = self.out / "runs"
        self.ts_dir = self.out / "timeseries"
        if self.out.exists() and not self.out.is_dir():
            raise ConfigError("--out", f"{self.out} exists and is not a folder")
        self.out.mkdir(parents=True, exist_ok=True)
        self.runs_dir.mkdir(exist_ok=True)
        for stale in self.out.glob("**/.part-*.tmp"):
            stale.unlink()  # a part cut short by a kill; its runs were never recorded
        manifest_path = self.out / "manifest.json"
        fingerprint = exp.fingerprint()
        if manifest_path.exists():
            old = json.loads(manifest_path.read_text(encoding="utf-8"))
            if old.get("fingerprint") != fingerprint:
                raise ConfigError(
                    "--out",
                    f"{self.out} holds results of a different experiment "
                    f"({old.get('experiment')!r}, fingerprint "
                    f"{old.get('fingerprint')}); allowed: a new or empty folder, "
                    "or the same experiment to resume it",
                )
            self.manifest = old
        else:
            self.manifest = self._new_manifest(fingerprint)
        records = _read_parts(self.runs_dir)
        self.recorded: dict[int, str] = {}
        if records is not None:
            # The last record of a run wins (a failed run retried later).
            for rid, status in zip(records["run_id"], records["status"], strict=True):
                self.recorded[int(rid)] = str(status)
        self.skip = {rid for rid, st in self.recorded.items() if st == "ok" or not retry_failed}
        session = {
            "started": _now(),
            "executor": executor,
            "already_finished": len(self.skip),
            "versions": versions(),
            "git_commit": git_commit(),
            "host": platform.node(),
            "pid": os.getpid(),
        }
        self.manifest.setdefault("sessions", []).append(session)
        self.manifest.update(status="running", ended=None)
        self._update_counts()
        write_json(manifest_path, self.manifest)
        if not (self.out / "design.parquet").exists():
            design = exp.design_frame()
            _write_parquet(design, self.out / "design.parquet")
        if exp.path is not None and not (self.out / "experiment.toml").exists():
            shutil.copyfile(exp.path, self.out / "experiment.toml")
        self._buffer: list[dict[str, Any]] = []
        self._series: list[pd.DataFrame] = []
        self._last = time.monotonic()

    def _new_manifest(self, fingerprint: str) -> dict[str, Any]:
        exp = self.exp
        return {
            "experiment": exp.name,
            "question": exp.question,
            # Absolute, so that the runs can be replayed from any working directory.
            "experiment_file": str(exp.path.resolve()) if exp.path else None,
            "experiment_contents": exp.raw,
            "scenarios": [
                {
                    "name": s.name,
                    "file": str(s.path.resolve()) if s.path else None,
                    "contents": s.raw,
                }
                for s in exp.scenarios
            ],
            "model": exp.model,
            "method": exp.method,
            "options": exp.options,
            "factors": [f.describe() for f in exp.factors],
            "outcomes": [
                {"name": o.name, "reduce": o.reduce, "metric": o.metric, "meaning": o.describe()}
                for o in exp.outcomes
            ],
            "keep_timeseries": list(exp.keep_timeseries),
            "root_seed": exp.root_seed,
            "replicates": exp.replicates,
            "replicate_seeds": exp.seeds,
            "seed_derivation": "numpy.random.SeedSequence(root_seed, spawn_key=(0, replicate))"
            ".generate_state(1)[0], the same for every design row (common "
            "random numbers); run_id = row * replicates + replicate; replay "
            "one with Experiment.replay(run_id) or CollaborationModel("
            "rng=seed, **row keywords)",
            "months": exp.months,
            "design_rows": exp.n_rows,
            "total_runs": exp.n_runs,
            "fingerprint": fingerprint,
            "versions": versions(),
            "git_commit": git_commit(),
            "platform": {
                "system": platform.platform(),
                "machine": platform.machine(),
                "processor": platform.processor(),
                "python": sys.version,
                "cpus": os.cpu_count(),
            },
            "started": _now(),
        }

    def _update_counts(self) -> None:
        statuses = list(self.recorded.values())
        self.manifest["finished"] = sum(s == "ok" for s in statuses)
        self.manifest["failed"] = sum(s == "failed" for s in statuses)
        self.manifest["missing"] = self.exp.n_runs - len(statuses)

    def add(self, result) -> None:
        """Buffer a task's results; write a part when enough have gathered."""
        self._buffer.extend(result.records)
        if result.series:
            months = next(iter(result.series.values())).shape[1]
            frame = {
                "run_id": np.repeat(result.series_ids, months),
                "month": np.tile(np.arange(months), len(result.series_ids)),
            }
            for name, arr in result.series.items():
                frame[name] = arr.ravel()
            self._series.append(pd.DataFrame(frame))
        if (
            len(self._buffer) >= self.flush_runs
            or time.monotonic() - self._last >= self.flush_seconds
        ):
            self.flush()

    def flush(self) -> None:
        """Write buffered runs as one part and update the manifest."""
        self._last = time.monotonic()
        if not self._buffer:
            return
        n = _next_part(self.runs_dir)
        if self._series:
            # Series first: a run is "recorded" only once its record exists, so a kill
            # between the two writes at worst leaves series that a re-run rewrites.
            self.ts_dir.mkdir(exist_ok=True)
            _write_parquet(
                pd.concat(self._series, ignore_index=True), self.ts_dir / f"part-{n:06d}.parquet"
            )
        df = pd.DataFrame(self._buffer)
        df["seed"] = df["seed"].astype(np.uint64)
        df["error"] = df["error"].astype(object)
        _write_parquet(df, self.runs_dir / f"part-{n:06d}.parquet")
        for rid, status in zip(df["run_id"], df["status"], strict=True):
            self.recorded[int(rid)] = str(status)
        self._buffer.clear()
        self._series.clear()
        self._update_counts()
        self.manifest["sessions"][-1]["last_write"] = _now()
        write_json(self.out / "manifest.json", self.manifest)

    def close(self, status: str | None = None) -> dict[str, Any]:
        """Flush, stamp the end time and status, and return the manifest."""
        self.flush()
        self._update_counts()
        if status is None:
            status = "complete" if self.manifest["missing"] == 0 else "incomplete"
            if status == "complete" and self.manifest["failed"]:
                status = "complete with failures"
        self.manifest.update(status=status, ended=_now())
        self.manifest["sessions"][-1]["ended"] = self.manifest["ended"]
        write_json(self.out / "manifest.json", self.manifest)
        return self.manifest


def _process_exists(pid: int) -> bool:
    """Whether a process with this id exists on this machine (and is not a zombie).
    Only asked on POSIX systems; elsewhere (where ``os.kill`` would end the process)
    the answer is yes."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


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
        it is gone from this machine (killed with ``kill -9``, or the machine
        restarted): then ``stopped (runner gone; last write at ...)``. The recorded
        runs are kept either way, and re-running the same command finishes the rest.
        A runner on another machine cannot be checked, so its word stands."""
        status = str(self.manifest.get("status"))
        sessions = self.manifest.get("sessions") or [{}]
        last = sessions[-1]
        if (
            status != "running"
            or last.get("host") != platform.node()
            or not isinstance(last.get("pid"), int)
            or _process_exists(last["pid"])
        ):
            return status
        return f"stopped (runner gone; last write at {last.get('last_write') or last['started']})"

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

    Raises:
        ConfigError: If the folder has no manifest.
    """
    p = Path(path)
    manifest_path = p / "manifest.json"
    if not manifest_path.is_file():
        raise ConfigError("", "not an experiment results folder (no manifest.json)", str(path))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    design = (
        pd.read_parquet(p / "design.parquet")
        if (p / "design.parquet").exists()
        else pd.DataFrame({"row": []})
    )
    runs = _read_parts(p / "runs")
    if runs is None:
        cols = ["run_id", "row", "replicate", "seed", "status", "error", "seconds"]
        runs = pd.DataFrame({c: [] for c in cols + [o["name"] for o in manifest["outcomes"]]})
        runs["status"] = runs["status"].astype(object)
    else:
        runs = runs.drop_duplicates("run_id", keep="last").sort_values("run_id")
        runs = runs.reset_index(drop=True)
    ts = _read_parts(p / "timeseries")
    if ts is not None:
        ts = ts.drop_duplicates(["run_id", "month"], keep="last")
        ts = ts[ts["run_id"].isin(runs.loc[runs["status"] == "ok", "run_id"])]
        ts = ts.sort_values(["run_id", "month"]).reset_index(drop=True)
    return ExperimentResults(p, manifest, design, runs, ts)
