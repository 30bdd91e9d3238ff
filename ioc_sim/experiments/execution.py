"""Running an experiment: every run not yet recorded, streamed to its results folder.

:func:`run_experiment` cuts the runs into tasks
(:func:`~ioc_sim.experiments.tasks.make_tasks`), runs them on an executor
(:mod:`~ioc_sim.experiments.executors`) and writes each result as it
arrives (:class:`~ioc_sim.experiments.results.ResultsWriter`). Re-running
the same experiment into the same folder resumes it.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ioc_sim.experiments.executors import (
    CONNECT_TIMEOUT,
    check_scheduler_available,
    execute,
    open_executor,
    scheduler_address,
    stop_on_interrupt,
)
from ioc_sim.experiments.experiment import Experiment
from ioc_sim.experiments.spawning import check_main_is_guarded
from ioc_sim.experiments.tasks import TaskResult, make_tasks
from ioc_sim.experiments.warmup import compile_kernels
from ioc_sim.experiments.writer import ResultsWriter

__all__ = ["default_out_dir", "run_experiment"]


def default_out_dir(exp: Experiment) -> Path:
    """``results/<experiment name>``: fixed, so re-running the same command resumes."""
    return Path("results") / exp.name


def run_experiment(
    exp: Experiment,
    out: Path | None = None,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    show_progress: bool = True,
    chunk: int | None = None,
    retry_failed: bool = False,
    flush_seconds: float = 2.0,
    wait: bool = False,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> dict[str, Any]:
    """Run every run of an experiment not yet recorded in ``out``, streaming results to disk.

    Nothing is written until the runs can start: the scheduler's address is
    checked, the folder is found writable and locked against a second runner,
    and the executor is reached, in that order. A folder this call made is
    removed again if the scheduler cannot be reached.

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
        wait: If another runner is writing ``out``, wait until it is done (then
            resume, which runs what it left) instead of refusing.
        connect_timeout: Seconds to wait for the Dask scheduler to answer.

    Returns:
        The final manifest. On Ctrl-C, what finished is written and the
        manifest says "interrupted" before ``KeyboardInterrupt`` propagates.

    Raises:
        ConfigError: For a malformed or unreachable scheduler, a folder that cannot
            be written, is held by another runner (named) or holds another experiment;
            and, before anything is written, when worker processes would run the
            calling script's top-level code again: a script that runs experiments
            with workers keeps it under ``if __name__ == "__main__":``.
    """
    from tqdm import tqdm

    if scheduler:
        check_scheduler_available()
    if scheduler and scheduler.startswith("local:"):
        check_main_is_guarded("scheduler", f"run_experiment(scheduler={scheduler!r})")
    elif not scheduler and workers > 1:
        check_main_is_guarded("workers", f"run_experiment(workers={workers})")
    out = default_out_dir(exp) if out is None else Path(out)
    if scheduler:
        scheduler_address(scheduler)
    where = (
        f"dask {scheduler}"
        if scheduler
        else ("in-process" if workers <= 1 else f"process pool of {workers}")
    )
    writer = ResultsWriter(
        out,
        exp,
        executor=where,
        retry_failed=retry_failed,
        flush_seconds=flush_seconds,
        wait=wait,
    )
    todo = exp.n_runs - len(writer.skip)
    n_workers = 1 if workers <= 1 and not scheduler else max(workers, 2)
    if scheduler and scheduler.startswith("local:"):
        n_workers = int(scheduler.split(":", 1)[1])

    if todo:
        # Compiled here once, with a notice, before workers would each compile them.
        compile_kernels(notice=show_progress)
    with ExitStack() as stack:
        try:
            executor = (
                stack.enter_context(open_executor(workers, scheduler, connect_timeout))
                if todo
                else None
            )
        except BaseException:
            writer.abandon()  # nothing was run: leave the folder as it was
            raise
        bar = tqdm(
            total=exp.n_runs,
            initial=len(writer.skip),
            unit="run",
            desc=exp.name,
            disable=not show_progress,
            file=sys.stderr,
            smoothing=0.1,
            dynamic_ncols=True,
        )

        def on_result(res: TaskResult) -> None:
            writer.add(res)
            bar.update(len(res.records))

        try:
            writer.begin()
            if executor is not None:
                with stop_on_interrupt() as stop:
                    execute(
                        make_tasks(exp, writer.skip, chunk),
                        executor,
                        on_result,
                        in_flight=4 * n_workers if scheduler is None else 8 * n_workers,
                        stop=stop,
                    )
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
