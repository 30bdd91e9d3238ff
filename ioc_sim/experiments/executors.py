"""Where tasks run, and how a run stops: executors, Ctrl-C, a bounded queue.

:func:`open_executor` gives an in-process executor for one worker, a process
pool for several, or a Dask ``distributed`` executor for a scheduler
address (``local:N`` starts a local cluster of N worker processes).
:func:`execute` keeps a bounded number of tasks in flight and hands each
result back as it completes; results carry their run ids, so the order of
completion never matters. The first Ctrl-C asks to stop at a safe point
(:class:`StopRequest`); workers ignore it and finish their task.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.tasks import Task, TaskResult, run_task


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
    if (
        not hasattr(signal, "pthread_sigmask")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


#: Protocols a Dask scheduler address may name (``distributed``'s own, less ``inproc``,
#: which only reaches a scheduler inside the same process).
SCHEDULER_PROTOCOLS = ("tcp", "tls", "ucx", "ws", "wss")
#: Seconds to wait for a Dask scheduler to answer (Dask's own default).
CONNECT_TIMEOUT = 30.0


def scheduler_address(text: str, option: str = "--scheduler") -> str:
    """Check a scheduler given by the user, before anything is made or started.

    Args:
        text: ``local:N`` (N from 1 to 1024), or the address of a running Dask
            scheduler: ``[protocol://]host:port``, as the scheduler prints it.
        option: The option that gave it, for the message.

    Returns:
        ``text`` unchanged.

    Raises:
        ConfigError: Naming the option and what is allowed.
    """
    allowed = (
        "allowed: the address a running Dask scheduler prints (tcp://host:port, for "
        "example tcp://10.0.0.5:8786), or local:N for a local cluster of N workers "
        "(N from 1 to 1024)"
    )
    if text.startswith("local:"):
        n = text.split(":", 1)[1]
        if not n.isdigit() or not 1 <= int(n) <= 1024:
            raise ConfigError(option, f"got {text!r}; {allowed}")
        return text
    protocol, sep, rest = text.partition("://")
    if not sep:
        protocol, rest = "tcp", text
    host, _, port = rest.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host  # [::1]
    if (
        protocol not in SCHEDULER_PROTOCOLS
        or not host
        or any(c in host for c in " /?#@[]")
        or not port.isdigit()
        or not 1 <= int(port) <= 65535
    ):
        raise ConfigError(option, f"got {text!r}; {allowed}")
    return text


def _connect(scheduler: str, timeout: float):
    """A Dask client of a running scheduler, or one line saying why there is none."""
    from distributed import Client

    try:
        return Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ConfigError(
            "--scheduler",
            f"cannot reach a Dask scheduler at {scheduler} within {timeout:g} s ({reason}); "
            "allowed: the address of a running scheduler (is it still running? a slow "
            "network needs a longer --connect-timeout)",
        ) from None


def check_scheduler_available() -> None:
    """Refuse ``scheduler`` when Dask's ``distributed`` is not installed.

    It comes with the ``cluster`` extra: only runs on a Dask cluster need it.

    Raises:
        ConfigError: Saying which extra to install.
    """
    if importlib.util.find_spec("distributed") is None:
        raise ConfigError(
            "scheduler",
            "running on a Dask cluster needs the cluster extra: "
            'python -m pip install "ioc_sim[cluster]"',
        )


@contextmanager
def open_executor(
    workers: int = 1, scheduler: str | None = None, connect_timeout: float = CONNECT_TIMEOUT
) -> Iterator[Executor]:
    """Open the executor runs go to, and close it afterwards.

    Args:
        workers: Worker processes; 1 runs in-process.
        scheduler: A Dask scheduler address (``tcp://host:8786``), or
            ``local:N`` to start a local Dask cluster of N worker processes.
            The workers must have ``ioc_sim`` installed.
        connect_timeout: Seconds to wait for the scheduler to answer.

    Yields:
        A ``concurrent.futures.Executor``.

    Raises:
        ConfigError: For a malformed or unreachable scheduler address, in one line.
    """
    if scheduler:
        scheduler_address(scheduler)
        from distributed import LocalCluster

        cluster = None
        if scheduler.startswith("local:"):
            n = int(scheduler.split(":", 1)[1])
            # Started with Ctrl-C ignored, which the worker processes inherit: a terminal's
            # Ctrl-C then reaches only this process, which stops the experiment cleanly
            # instead of every worker printing a traceback.
            with _sigint_ignored():
                cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            from distributed import Client

            client = Client(cluster)
        else:
            client = _connect(scheduler, connect_timeout)
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
        pool = ProcessPoolExecutor(
            max_workers=workers,
            initializer=_init_worker,
            initargs=(os.getpid(),),
            mp_context=multiprocessing.get_context("spawn"),
        )
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
        print(
            "\nioc-sim: stopping after the runs in progress (Ctrl-C again to stop now)",
            file=sys.stderr,
        )


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


def execute(
    tasks: Iterable[Task],
    executor: Executor,
    on_result: Callable[[TaskResult], None],
    in_flight: int = 8,
    stop: StopRequest | None = None,
    drain_seconds: float = 60.0,
) -> None:
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
