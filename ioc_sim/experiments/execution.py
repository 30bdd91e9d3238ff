"""Running an experiment's runs on a ``concurrent.futures.Executor``.

A :class:`Task` is a chunk of runs of one design row. :func:`run_task` builds
the row's system once and advances all its replicates together through one
:class:`~ioc_sim.core.Simulation` (a leading replicate axis), with one
``numpy.random.default_rng(seed)`` per replicate: exactly the generator
``CollaborationModel(rng=seed)`` owns (it seeds the model's random streams),
so a replicate in a batch gives the same numbers as the model run alone.
Outcomes are reduced month by month, so memory does not grow with the length
of a run.

:func:`open_executor` gives an in-process executor for one worker, a process
pool for several, or a Dask ``distributed`` executor for a scheduler
address (``local:N`` starts a local cluster of N worker processes).
:func:`execute` keeps a bounded number of tasks in flight and hands each
result back as it completes; results carry their run ids, so the order of
completion never matters.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ioc_sim.engine import DISSOLVED
from ioc_sim.experiments.spec import Experiment, Outcome

ISHIGAMI_NOISE = 0.05


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
        model: "ioc_sim", or "ishigami" for the analytic self-test.
    """

    row: int
    run_ids: tuple[int, ...]
    replicates: tuple[int, ...]
    seeds: tuple[int, ...]
    kwargs: dict[str, Any]
    months: int
    outcomes: tuple[Outcome, ...]
    keep: tuple[str, ...] = ()
    model: str = "ioc_sim"


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


# ----------------------------------------------------------------- reduction
class Reducer:
    """Streaming reduction of one outcome over the months of ``R`` replicates."""

    def __init__(self, outcome: Outcome, r: int):
        self.o = outcome
        # Sums start at zero; a value taken at one month (or a first hit) starts unset.
        summed = outcome.reduce in ("mean", "auc")
        self.value = np.zeros(r) if summed else np.full(r, np.nan)

    def wants(self, month: int) -> bool:
        """Whether :meth:`observe` uses the value at ``month``."""
        o = self.o
        if o.reduce in ("final", "dissolved_share"):
            return month == o.end
        if o.reduce in ("mean", "auc"):
            return o.start <= month <= o.end
        return month >= o.start

    def observe(self, month: int, x: np.ndarray) -> None:
        """Take the value of every replicate at ``month``."""
        o = self.o
        if o.reduce in ("final", "dissolved_share"):
            if month == o.end:
                self.value = np.asarray(x, dtype=float).copy()
        elif o.reduce == "mean":
            if o.start <= month <= o.end:
                self.value += x
        elif o.reduce == "auc":
            if o.start <= month <= o.end:
                # Trapezoidal rule on a unit grid: the two ends count half.
                self.value += x * (0.5 if month in (o.start, o.end) else 1.0)
        elif month >= o.start:
            hit = (x >= o.threshold) if o.direction == "above" else (x <= o.threshold)
            fresh = np.isnan(self.value) & hit
            self.value[fresh] = month

    def result(self) -> np.ndarray:
        """The outcome of every replicate."""
        o = self.o
        if o.reduce == "mean":
            return self.value / (o.end - o.start + 1)
        if o.reduce == "time_to":
            return np.where(np.isnan(self.value), o.never, self.value)
        return self.value


def dissolved_share(sim) -> np.ndarray:
    """Share of collaborations dissolved, per replicate (0 with no collaborations)."""
    if sim.C == 0:
        return np.zeros(sim.R)
    return (sim.status[:, :-1] == DISSOLVED).mean(axis=1)


# ----------------------------------------------------------------- one task
def make_tasks(exp: Experiment, skip: Iterable[int] = (), chunk: int | None = None
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
        todo = [(exp.run_id(row, r), r, s) for r, s in enumerate(exp.seeds)
                if exp.run_id(row, r) not in done]
        if not todo:
            continue
        kwargs = exp.row_kwargs(row)
        for k in range(0, len(todo), chunk):
            part = todo[k:k + chunk]
            yield Task(row, tuple(p[0] for p in part), tuple(p[1] for p in part),
                       tuple(p[2] for p in part), kwargs, exp.months, tuple(exp.outcomes),
                       keep, exp.model)


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
            return TaskResult([_failed(task, 0, traceback.format_exc(limit=-3),
                                       time.perf_counter() - t0)])
        records, kept, kept_ids = [], {}, []
        for i in range(len(task.seeds)):
            sub = Task(task.row, task.run_ids[i:i + 1], task.replicates[i:i + 1],
                       task.seeds[i:i + 1], task.kwargs, task.months, task.outcomes, task.keep,
                       task.model)
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
    return {"run_id": task.run_ids[i], "row": task.row, "replicate": task.replicates[i],
            "seed": task.seeds[i], "seconds": seconds}


def _failed(task: Task, i: int, error: str, seconds: float) -> dict[str, Any]:
    rec = _base_record(task, i, seconds)
    rec.update(status="failed", error=error.strip())
    for o in task.outcomes:
        rec[o.name] = math.nan
    return rec


def build_simulation(kwargs: dict[str, Any], seeds: Iterable[int]):
    """The :class:`~ioc_sim.core.Simulation` of one row, one replicate per seed.

    Built exactly as :class:`~ioc_sim.model.CollaborationModel` builds its
    single replicate, so replicate ``i`` equals ``CollaborationModel(rng=seeds[i],
    **kwargs)``.
    """
    from ioc_sim.engine import Simulation, build_system, resolve_parameters

    kw = copy.deepcopy(kwargs)  # events are annotated while they run; keep the task pristine
    structure = {k: kw.pop(k, None) for k in ("organisations", "collaborations", "events")}
    params, explicit = resolve_parameters(kw)
    pop, specs, evs = build_system(params, explicit, **structure)
    sim = Simulation(params, pop, specs, evs, [np.random.default_rng(s) for s in seeds])
    _row_major_state(sim)
    return sim


def _row_major_state(sim) -> None:
    """Store each replicate's state contiguously, as a single replicate's is.

    Some initial state comes out of fancy indexing in column-major order when
    R > 1; numpy then sums a replicate's values in another order than for
    R = 1, and month-0 means differ in the last bit. A row-major copy holds
    the same numbers, so every later step is unchanged, and batched metrics
    equal those of the model run alone bit for bit. Only arrays that own their
    data and are referenced once are copied, so no shared view is broken.
    """
    attrs = vars(sim)
    counts: dict[int, int] = {}
    for v in attrs.values():
        counts[id(v)] = counts.get(id(v), 0) + 1
    for name, v in list(attrs.items()):
        if (isinstance(v, np.ndarray) and v.ndim >= 2 and v.shape[0] == sim.R
                and v.base is None and not v.flags["C_CONTIGUOUS"] and counts[id(v)] == 1):
            attrs[name] = np.ascontiguousarray(v)


def _run_batch(task: Task, seeds: tuple[int, ...]
               ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    if task.model == "ishigami":
        return _ishigami(task, seeds), {}
    from ioc_sim.model.metrics import evaluate

    sim = build_simulation(task.kwargs, seeds)
    reducers = [Reducer(o, len(seeds)) for o in task.outcomes]
    kept = {k: np.empty((len(seeds), task.months + 1)) for k in task.keep}

    def observe(month: int) -> None:
        # Only the months and metrics that the reductions and kept series read (an empty
        # list of metrics would mean "all").
        wanted = [red for red in reducers if red.wants(month)]
        if not wanted and not task.keep:
            return
        names = list(dict.fromkeys([red.o.metric for red in wanted if red.o.metric]
                                   + list(task.keep)))
        values = evaluate(sim, names) if names else {}
        share = None
        for red in wanted:
            if red.o.reduce == "dissolved_share":
                if month == red.o.end:
                    share = dissolved_share(sim) if share is None else share
                    red.observe(month, share)
            else:
                red.observe(month, values[red.o.metric])
        for k in task.keep:
            kept[k][:, month] = values[k]

    observe(0)
    for month in range(1, task.months + 1):
        sim.step()
        observe(month)
    out = {red.o.name: red.result() for red in reducers}
    for name, v in out.items():
        if not np.all(np.isfinite(v)):
            raise FloatingPointError(f"outcome {name} is not finite: {v}")
    return out, kept


def _ishigami(task: Task, seeds: tuple[int, ...]) -> dict[str, np.ndarray]:
    """The Ishigami function plus a little seeded noise per replicate (self-test model)."""
    from SALib.test_functions import Ishigami

    x = np.array([[task.kwargs["x1"], task.kwargs["x2"], task.kwargs["x3"]]])
    y = float(Ishigami.evaluate(x)[0])
    noise = np.array([np.random.default_rng(s).standard_normal() for s in seeds])
    return {o.name: y + ISHIGAMI_NOISE * noise for o in task.outcomes}


# ----------------------------------------------------------------- executors
class SerialExecutor(Executor):
    """Runs each task in the calling process when it is submitted (one worker)."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:  # noqa: BLE001 - delivered through the future, as a pool would
            future.set_exception(err)
        return future


def _init_worker(parent: int) -> None:
    """Initialise a pool worker: ignore Ctrl-C, and exit when the parent is gone.

    Ctrl-C in a terminal reaches every process of the group; only the main
    process decides how to stop, so workers finish their task. If the main
    process is killed outright (``kill -9``), nothing tells its workers, which
    would wait for work forever; a watchdog thread ends them instead.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="ioc-sim-parent-watch", daemon=True).start()


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Hold back Ctrl-C while a process pool may start a worker inside ``submit``.

    A worker started now inherits the blocked signal, so a Ctrl-C while it is
    still importing cannot kill it with a traceback; here the signal is only
    delayed (not lost) and reaches :class:`StopRequest` when ``submit`` returns.
    """
    if not hasattr(signal, "pthread_sigmask") or \
            threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def open_executor(workers: int = 1, scheduler: str | None = None) -> Iterator[Executor]:
    """Open the executor runs go to, and close it afterwards.

    Args:
        workers: Worker processes; 1 runs in-process.
        scheduler: A Dask scheduler address (``tcp://host:8786``), or
            ``local:N`` to start a local Dask cluster of N worker processes.
            The workers must have ``ioc_sim`` installed.

    Yields:
        A ``concurrent.futures.Executor``.
    """
    if scheduler:
        from distributed import Client, LocalCluster

        cluster = None
        if scheduler.startswith("local:"):
            n = int(scheduler.split(":", 1)[1])
            # Started with Ctrl-C ignored, which the worker processes inherit: a terminal's
            # Ctrl-C then reaches only this process, which stops the experiment cleanly
            # instead of every worker printing a traceback.
            with _sigint_ignored():
                cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        else:
            client = Client(scheduler)
        try:
            yield client.get_executor(pure=False)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    elif workers <= 1:
        yield SerialExecutor()
    else:
        import multiprocessing

        # "spawn" avoids forking a process that has threads (the progress bar's monitor).
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                   initargs=(os.getpid(),),
                                   mp_context=multiprocessing.get_context("spawn"))
        clean = False
        try:
            yield pool
            clean = True
        finally:
            if clean:
                pool.shutdown(wait=True)
            else:
                # Stopped by force or an error: do not wait for tasks nobody will record.
                processes = list(getattr(pool, "_processes", {}).values())
                pool.shutdown(wait=False, cancel_futures=True)
                for proc in processes:
                    proc.terminate()


class StopRequest:
    """A SIGINT handler: the first Ctrl-C asks to stop at a safe point, a second one forces.

    Raising ``KeyboardInterrupt`` at an arbitrary point can leave a process
    pool's internal queues half-updated and hang the exit; so the first Ctrl-C
    only sets :attr:`requested`, and :func:`execute` stops submitting, records
    the tasks already running, and then raises ``KeyboardInterrupt`` itself.
    """

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nioc-sim: stopping after the runs in progress (Ctrl-C again to stop now)",
              file=sys.stderr)


@contextmanager
def stop_on_interrupt() -> Iterator[StopRequest | None]:
    """Install :class:`StopRequest` as the SIGINT handler (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield None
        return
    stop = StopRequest()
    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def execute(tasks: Iterable[Task], executor: Executor, on_result: Callable[[TaskResult], None],
            in_flight: int = 8, stop: StopRequest | None = None,
            drain_seconds: float = 60.0) -> None:
    """Submit tasks, keeping at most ``in_flight`` pending, and pass results on as they finish.

    Memory stays bounded however large the design is. A model error comes
    back as a failed record (see :func:`run_task`); an error of the executor
    itself (a worker killed, a lost cluster) propagates, and re-running the
    experiment resumes where it stopped.

    Args:
        tasks: The tasks, consumed lazily.
        executor: Where they run.
        on_result: Called with each :class:`TaskResult`, in completion order.
        in_flight: Most tasks submitted and not yet handed back.
        stop: When its ``requested`` flag is set, submit nothing more, hand
            back the tasks already running (up to ``drain_seconds``), then
            raise ``KeyboardInterrupt``.
        drain_seconds: How long to wait for running tasks after a stop request.
    """
    it = iter(tasks)
    pending: dict[Future, Task] = {}

    def stopping() -> bool:
        return stop is not None and stop.requested

    shield = _sigint_blocked if isinstance(executor, ProcessPoolExecutor) else nullcontext

    def fill() -> None:
        while len(pending) < in_flight and not stopping():
            task = next(it, None)
            if task is None:
                return
            with shield():
                pending[executor.submit(run_task, task)] = task

    try:
        fill()
        while pending and not stopping():
            done, _ = wait(list(pending), timeout=0.25, return_when=FIRST_COMPLETED)
            for fut in done:
                pending.pop(fut)
                on_result(fut.result())
            fill()
        if stopping():
            for fut in pending:
                fut.cancel()
            running = [f for f in pending if not f.cancelled()]
            done, _ = wait(running, timeout=drain_seconds)
            for fut in done:
                if fut.exception() is None:
                    on_result(fut.result())
            pending.clear()
            raise KeyboardInterrupt
    finally:
        for fut in pending:
            fut.cancel()


# ----------------------------------------------------------------- an experiment
def default_out_dir(exp: Experiment) -> Path:
    """``results/<experiment name>``: fixed, so re-running the same command resumes."""
    return Path("results") / exp.name


def run_experiment(exp: Experiment, out: Path | None = None, *, workers: int = 1,
                   scheduler: str | None = None, show_progress: bool = True,
                   chunk: int | None = None, retry_failed: bool = False,
                   flush_seconds: float = 2.0) -> dict[str, Any]:
    """Run every run of an experiment not yet recorded in ``out``, streaming results to disk.

    Args:
        exp: The experiment.
        out: Results folder (default :func:`default_out_dir`); an existing
            folder of the same experiment is resumed.
        workers: Worker processes (1 runs in-process); ignored with ``scheduler``.
        scheduler: Dask scheduler address, or ``local:N``.
        show_progress: Show a progress bar (runs done, rate, time left) on stderr.
        chunk: Most runs per task (default: all replicates of a row together).
        retry_failed: Run again the runs recorded as failed.
        flush_seconds: Longest time finished runs wait in memory before a part is written.

    Returns:
        The final manifest. On Ctrl-C, what finished is written and the
        manifest says "interrupted" before ``KeyboardInterrupt`` propagates.
    """
    from tqdm import tqdm

    from ioc_sim.experiments.results import ResultsWriter

    out = default_out_dir(exp) if out is None else Path(out)
    where = f"dask {scheduler}" if scheduler else (
        "in-process" if workers <= 1 else f"process pool of {workers}")
    writer = ResultsWriter(out, exp, executor=where, retry_failed=retry_failed,
                           flush_seconds=flush_seconds)
    todo = exp.n_runs - len(writer.skip)
    bar = tqdm(total=exp.n_runs, initial=len(writer.skip), unit="run", desc=exp.name,
               disable=not show_progress, file=sys.stderr, smoothing=0.1, dynamic_ncols=True)
    n_workers = 1 if workers <= 1 and not scheduler else max(workers, 2)
    if scheduler and scheduler.startswith("local:"):
        n_workers = int(scheduler.split(":", 1)[1])

    def on_result(res: TaskResult) -> None:
        writer.add(res)
        bar.update(len(res.records))

    try:
        if todo:
            with stop_on_interrupt() as stop, open_executor(workers, scheduler) as executor:
                execute(make_tasks(exp, writer.skip, chunk), executor, on_result,
                        in_flight=4 * n_workers if scheduler is None else 8 * n_workers,
                        stop=stop)
    except KeyboardInterrupt:
        bar.close()
        writer.close("interrupted")
        raise
    except BaseException:
        bar.close()
        writer.close("stopped by an error")
        raise
    bar.close()
    return writer.close()
