"""Writing an experiment's results folder: Parquet parts, the manifest, one writer.

:class:`ResultsWriter` streams run records to Parquet parts and keeps the
manifest current while it holds the folder's lock
(:class:`~ioc_sim.experiments.folders.FolderLock`); the folder's layout is
described in :mod:`~ioc_sim.experiments.results`, which reads it back.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.experiment import Experiment
from ioc_sim.experiments.folders import HOLDER_NAME, LOCK_NAME, FolderLock
from ioc_sim.experiments.folders import now as _now
from ioc_sim.experiments.jsonfiles import write_json
from ioc_sim.experiments.provenance import git_commit, platform_info, versions
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


def read_parts(folder: Path) -> pd.DataFrame | None:
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
        records = read_parts(self.runs_dir)
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
            "platform": platform_info(),
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
