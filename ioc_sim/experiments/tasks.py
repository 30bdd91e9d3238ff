"""An experiment's runs as tasks: chunks of one design row's replicates, run together.

:func:`make_tasks` cuts the runs not yet recorded into :class:`Task` objects
(small, picklable, so they can go to worker processes or a cluster);
:func:`run_task` runs one with the model kind the experiment records
(:mod:`~ioc_sim.experiments.kinds`) and gives back one record per run. A
replicate in a task gives the same numbers as the model run alone with its
seed, whichever other replicates share the task.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ioc_sim.experiments.experiment import Experiment
from ioc_sim.experiments.kinds import MODEL, kind
from ioc_sim.experiments.outcomes import Outcome


@dataclass(frozen=True)
class Task:
    """Runs of one design row, advanced together.

    Attributes:
        row: Design row.
        run_ids: Ids of the runs.
        replicates: Replicate numbers of the runs.
        seeds: Seed of each run.
        kwargs: Model keywords of the row (scenario plus factor values, with months).
        months: Months to run.
        outcomes: Reductions to compute.
        keep: Metrics whose monthly series are returned.
        model: The kind of model (see :data:`ioc_sim.experiments.kinds.KINDS`).
    """

    row: int
    run_ids: tuple[int, ...]
    replicates: tuple[int, ...]
    seeds: tuple[int, ...]
    kwargs: dict[str, Any]
    months: int
    outcomes: tuple[Outcome, ...]
    keep: tuple[str, ...] = ()
    model: str = MODEL


@dataclass
class TaskResult:
    """What a task gives back: one record per run, and any kept series.

    Attributes:
        records: Per run: run_id, row, replicate, seed, status ("ok" or
            "failed"), error (None or the exception), seconds, and one value
            per outcome (NaN for a failed run).
        series: Metric name -> array (runs, months + 1) of the kept series,
            for the runs that finished, in the order of ``series_ids``.
        series_ids: Run ids of the rows of ``series``.
    """

    records: list[dict[str, Any]]
    series: dict[str, np.ndarray] = field(default_factory=dict)
    series_ids: list[int] = field(default_factory=list)


def make_tasks(
    exp: Experiment, skip: Iterable[int] = (), chunk: int | None = None
) -> Iterator[Task]:
    """Tasks for every run not in ``skip``, one or more per design row.

    Args:
        exp: The experiment.
        skip: Run ids already finished (resume).
        chunk: Most runs per task (default: all replicates of a row).
    """
    done = set(skip)
    chunk = chunk or exp.replicates
    keep = exp.keep_timeseries
    for row in range(exp.n_rows):
        todo = [
            (exp.run_id(row, r), r, s)
            for r, s in enumerate(exp.seeds)
            if exp.run_id(row, r) not in done
        ]
        if not todo:
            continue
        kwargs = exp.row_kwargs(row)
        for k in range(0, len(todo), chunk):
            part = todo[k : k + chunk]
            yield Task(
                row,
                tuple(p[0] for p in part),
                tuple(p[1] for p in part),
                tuple(p[2] for p in part),
                kwargs,
                exp.months,
                tuple(exp.outcomes),
                keep,
                exp.model,
            )


def run_task(task: Task) -> TaskResult:
    """Run a task's replicates together; never raises for a failing model.

    If the batch raises, each replicate is run alone so that one failing run
    does not take the others down, and the failures are recorded with their
    error.
    """
    t0 = time.perf_counter()
    try:
        values, series = _run_batch(task, task.seeds)
    except Exception:  # noqa: BLE001 - any model error is data, recorded per run
        if len(task.seeds) == 1:
            return TaskResult(
                [_failed(task, 0, traceback.format_exc(limit=-3), time.perf_counter() - t0)]
            )
        records, kept, kept_ids = [], {}, []
        for i in range(len(task.seeds)):
            sub = Task(
                task.row,
                task.run_ids[i : i + 1],
                task.replicates[i : i + 1],
                task.seeds[i : i + 1],
                task.kwargs,
                task.months,
                task.outcomes,
                task.keep,
                task.model,
            )
            res = run_task(sub)
            records += res.records
            for k, v in res.series.items():
                kept.setdefault(k, []).append(v)
            kept_ids += res.series_ids
        return TaskResult(records, {k: np.concatenate(v) for k, v in kept.items()}, kept_ids)
    seconds = (time.perf_counter() - t0) / len(task.seeds)
    records = []
    for i in range(len(task.seeds)):
        rec = _base_record(task, i, seconds)
        rec.update(status="ok", error=None)
        for o in task.outcomes:
            rec[o.name] = float(values[o.name][i])
        records.append(rec)
    return TaskResult(records, series, list(task.run_ids) if series else [])


def _base_record(task: Task, i: int, seconds: float) -> dict[str, Any]:
    return {
        "run_id": task.run_ids[i],
        "row": task.row,
        "replicate": task.replicates[i],
        "seed": task.seeds[i],
        "seconds": seconds,
    }


def _failed(task: Task, i: int, error: str, seconds: float) -> dict[str, Any]:
    rec = _base_record(task, i, seconds)
    rec.update(status="failed", error=error.strip())
    for o in task.outcomes:
        rec[o.name] = math.nan
    return rec


def _run_batch(
    task: Task, seeds: tuple[int, ...]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    return kind(task.model).run(task.kwargs, seeds, task.months, task.outcomes, task.keep)
