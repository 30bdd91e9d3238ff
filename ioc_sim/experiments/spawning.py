"""Refusing, before anything starts, a script that worker processes would run again.

Worker processes are started with "spawn" (the only way on Windows and the
default on macOS; here also on Linux, see :func:`~ioc_sim.experiments.executors.
open_executor`). Each new process imports the main script again; a script that
calls :func:`~ioc_sim.experiments.execution.run_experiment` at its top level,
without an ``if __name__ == "__main__":`` guard, would start the experiment again
inside every worker, and Python stops that with a ``RuntimeError`` about the
"bootstrapping phase", leaving a broken pool behind. :func:`check_main_is_guarded`
finds that case in the calling process and says what to add, before a results
folder or a process exists.
"""

from __future__ import annotations

import ast
import multiprocessing
import sys
from pathlib import Path
from types import FrameType, ModuleType

from ioc_sim.errors import ConfigError

GUARD = 'if __name__ == "__main__":'


def check_main_is_guarded(field: str, what: str) -> None:
    """Refuse to start worker processes from unguarded top-level code of the main script.

    Args:
        field: The option that asks for worker processes (``workers``).
        what: The call, as the message names it (``run_experiment(workers=2)``).

    Raises:
        ConfigError: Naming the script and line, and the guard to add. Also raised in
            a worker that is importing such a script, so that it never touches the
            results folder.
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # A worker importing the main script (the parent could not see the problem).
        raise ConfigError(field, _advice(what))
    main = sys.modules.get("__main__")
    path = _reimported_path(main)
    if path is None:
        return
    frame = _main_frame(main)
    if frame is None:  # called from another thread, or the script has finished
        return
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return  # cannot tell; the worker-side check above still stops a re-run
    if not _inside_guard(tree, frame.f_lineno):
        raise ConfigError(field, _advice(what), f"{path}:{frame.f_lineno}")


def _advice(what: str) -> str:
    return (
        f"{what} starts worker processes, which import the main script again and would "
        f"run this line again; put the script's top-level code under `{GUARD}` "
        "(or use workers=1)"
    )


def _reimported_path(main: ModuleType | None) -> str | None:
    """The main script's file, if spawned processes import it again (as
    ``multiprocessing.spawn`` decides); otherwise None."""
    if main is None:
        return None
    spec_name = getattr(getattr(main, "__spec__", None), "name", None)
    if spec_name is not None and (spec_name == "__main__" or spec_name.endswith(".__main__")):
        return None  # `python -m package`: its __main__ is not imported again
    path = getattr(main, "__file__", None)
    if path is None:  # an interactive session or a notebook
        return None
    if spec_name is None and Path(path).stem == "ipython":
        return None
    return path


def _main_frame(main: ModuleType) -> FrameType | None:
    """The frame running the main script's top-level code, in this thread's stack."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals is vars(main) and frame.f_code.co_name == "<module>":
            return frame
        frame = frame.f_back
    return None


def _is_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    texts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(texts) == 1


def _inside_guard(tree: ast.Module, line: int) -> bool:
    """Whether ``line`` lies in the body of an ``if __name__ == "__main__":`` block."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_guard(node.test) and node.body:
            if node.body[0].lineno <= line <= (node.body[-1].end_lineno or line):
                return True
    return False
