"""An experiment's results folder: Parquet parts, a manifest, resume.

A results folder holds::

    manifest.json          experiment as run, root seed, design size, versions, git commit,
                           platform, start/end times, finished and failed counts, sessions
    experiment.toml        a copy of the experiment file as run
    design.parquet         one row per design row: label, factor values, sampled numbers
    runs/part-sSSSS-TAG-NNNNNN.parquet   one row per finished run (ok or failed), as runs
                           finish; SSSS is the session, TAG is random, so that no two
                           writers ever name the same part (older folders: part-NNNNNN)
    timeseries/part-...parquet   kept monthly series (run_id, month, metrics), if asked
    analysis/              tables (CSV), figures (PNG), summary.md (``experiment analyse``)
    .lock, .writer.json    the writer's lock and who holds it (see ``folders``)

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
import os
import platform
import secrets
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.experiment import Experiment
from ioc_sim.experiments.folders import (
    HOLDER_NAME,
    LOCK_NAME,
    FolderLock,
    record_stopped,
    stopped_status,
    writer_gone,
)
from ioc_sim.experiments.folders import now as _now
from ioc_sim.experiments.jsonfiles import write_json
from ioc_sim.experiments.kinds import MODEL, kind
from ioc_sim.experiments.provenance import git_commit, versions
from ioc_sim.spec.files import writable_folder

PART_GLOB = "part-*.parquet"


def part_order(path: Path) -> tuple[int, int, int, str]:
    """Where a part falls in the order runs were recorded.

    Parts of folders written before part names carried their session
    (``part-000001.parquet``) come first, by number; then ``part-s0002-1f3a9c-000001``
    by session, number and writer. Read in this order, the last record of a run is
    its latest (a failed run retried later).
    """
    bits = path.stem.split("-")
    if len(bits) == 2 and bits[1].isdigit():
        return (0, 0, int(bits[1]), "")
    if len(bits) == 4 and bits[1][1:].isdigit() and bits[3].isdigit():
        return (1, int(bits[1][1:]), int(bits[3]), bits[2])
    return (2, 0, 0, path.stem)


def _write_parquet(df: pd.DataFrame, path: Path, text: tuple[str, ...] = ()) -> None:
    """Write ``df`` to ``path`` whole or not at all (a temporary name, then a rename).

    Columns named in ``text`` are stored as text even when every value is missing, so
    that all parts of a folder share one schema and read as one Parquet dataset.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    for name in text:
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, table.column(i).cast(pa.string()))
    # Hidden (so a Parquet reader of the folder skips it) and unique to this process and
    # thread (so two writers never rename each other's half-written file).
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _read_parts(folder: Path) -> pd.DataFrame | None:
    parts = sorted(folder.glob(PART_GLOB), key=part_order)
    if not parts:
        return None
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


class ResultsWriter:
    """Streams run records to Parquet parts and keeps the manifest current.

    Made in two steps, so that nothing is written before the runs can start:
    the constructor takes the folder's lock and reads what is recorded (and
    refuses a folder of another experiment); :meth:`begin` then writes the
    manifest, the design and a copy of the experiment file. :meth:`close`
    writes the last part and the final status and gives the lock up;
    :meth:`abandon` gives it up without a word written (and removes a folder it
    made that holds nothing else).

    Each writer names its parts after its session and a random tag
    (``part-s0003-1f3a9c-000001.parquet``), so two writers in one folder can
    never write the same part, even where the lock is not available.

    Args:
        out: The results folder (created if needed).
        exp: The experiment being run.
        flush_runs: Write a part once this many runs are buffered.
        flush_seconds: ... or once this long has passed since the last part.
        executor: A description of the executor, for the manifest.
        retry_failed: Run again the runs recorded as failed.
        wait: If another writer holds the folder, wait for it rather than refuse.

    Raises:
        ConfigError: If ``out`` cannot be written, is being written by another
            runner (naming it), or holds the results of a different experiment.
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
        wait: bool = False,
    ):
        self.out = Path(out)
        self.exp = exp
        self.flush_runs = flush_runs
        self.flush_seconds = flush_seconds
        self.executor = executor
        self.runs_dir = self.out / "runs"
        self.ts_dir = self.out / "timeseries"
        self._made_folder = not self.out.exists()
        writable_folder(self.out, "--out")
        self.lock = FolderLock(self.out).acquire(wait)
        try:
            self._read(exp, retry_failed)
        except BaseException:
            self.abandon()
            raise
        self._begun = False
        self._buffer: list[dict[str, Any]] = []
        self._series: list[pd.DataFrame] = []
        self._last = time.monotonic()
        self._tag = ""
        self._part = 0

    def _read(self, exp: Experiment, retry_failed: bool) -> None:
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

    def begin(self) -> None:
        """Start this session: write the manifest (status ``running``), the design and a
        copy of the experiment file."""
        if self._begun:
            return
        self._begun = True
        self.runs_dir.mkdir(exist_ok=True)
        if self.lock.held:
            # Only the lock's holder may sweep: a temporary file is otherwise another
            # writer's part in the making. Held, these are parts cut short by a kill,
            # whose runs were never recorded.
            for stale in [*self.out.glob(".*.tmp"), *self.out.glob("*/.*.tmp")]:
                stale.unlink(missing_ok=True)
        sessions = self.manifest.setdefault("sessions", [])
        if self.lock.held and self.manifest.get("status") == "running" and sessions:
            sessions[-1].setdefault("gone_noticed", _now())  # its runner ended unannounced
        session = {
            "started": _now(),
            "executor": self.executor,
            "already_finished": len(self.skip),
            "versions": versions(),
            "git_commit": git_commit(),
            "host": platform.node(),
            "pid": os.getpid(),
            "locked": self.lock.held,
        }
        sessions.append(session)
        self._tag = f"s{len(sessions):04d}-{secrets.token_hex(3)}"
        self.manifest.update(status="running", ended=None)
        self._update_counts()
        write_json(self.out / "manifest.json", self.manifest)
        if not (self.out / "design.parquet").exists():
            _write_parquet(self.exp.design_frame(), self.out / "design.parquet")
        if self.exp.path is not None and not (self.out / "experiment.toml").exists():
            shutil.copyfile(self.exp.path, self.out / "experiment.toml")

    def abandon(self) -> None:
        """Give the folder up without writing anything; a folder this writer made, holding
        nothing but the lock's files, is removed."""
        self.lock.release()
        if self._made_folder and self.out.is_dir():
            for name in (LOCK_NAME, HOLDER_NAME):
                (self.out / name).unlink(missing_ok=True)
            try:
                self.out.rmdir()  # only if empty
            except OSError:
                pass

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
        self.begin()
        self._part += 1
        name = f"part-{self._tag}-{self._part:06d}.parquet"
        if self._series:
            # Series first: a run is "recorded" only once its record exists, so a kill
            # between the two writes at worst leaves series that a re-run rewrites.
            self.ts_dir.mkdir(exist_ok=True)
            _write_parquet(pd.concat(self._series, ignore_index=True), self.ts_dir / name)
        df = pd.DataFrame(self._buffer)
        df["seed"] = df["seed"].astype(np.uint64)
        df["error"] = df["error"].astype(object)
        _write_parquet(df, self.runs_dir / name, text=("error",))
        for rid, status in zip(df["run_id"], df["status"], strict=True):
            self.recorded[int(rid)] = str(status)
        self._buffer.clear()
        self._series.clear()
        self._update_counts()
        self.manifest["sessions"][-1]["last_write"] = _now()
        write_json(self.out / "manifest.json", self.manifest)

    def close(self, status: str | None = None) -> dict[str, Any]:
        """Flush, stamp the end time and status, give the lock up, and return the manifest."""
        try:
            return self._close(status)
        finally:
            self.lock.release()

    def _close(self, status: str | None) -> dict[str, Any]:
        self.begin()
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
