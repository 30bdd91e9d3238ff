"""Compiling the model's kernels up front, with a notice while that takes long.

The kernels (:mod:`ioc_sim.engine.kernels`) are compiled by numba the first time a
process on a machine uses them (about 10-30 s), then loaded from numba's cache
(well under a second). Without a word, the first run of a new installation looks
stuck; :func:`compile_kernels` runs a tiny system for two months so that every
kernel is ready, and prints one line if that has not finished within a second.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

NOTICE = "ioc-sim: compiling the model's kernels (once for this Python installation; about 10-30 s)"

_ready = False


def compile_kernels(stream: TextIO | None = None, after: float = 1.0, notice: bool = True) -> None:
    """Make every kernel ready in this process; say so if that takes more than ``after`` s.

    Args:
        stream: Where the notice goes (standard error by default).
        notice: False to compile without a word (``--quiet``).
        after: Seconds to wait before printing it: loading from numba's cache takes
            less, so the notice appears only while kernels really compile.
    """
    global _ready
    if _ready:
        return
    from ioc_sim.model.model import CollaborationModel

    _with_notice(
        lambda: CollaborationModel(rng=0, n_organisations=4, months=2).run(),
        sys.stderr if stream is None else stream,
        after if notice else None,
    )
    _ready = True


def _with_notice(work, stream: TextIO, after: float | None) -> None:
    """Run ``work``; print :data:`NOTICE` on ``stream`` if it is still running ``after`` s
    (never if ``after`` is None)."""
    if after is None:
        work()
        return
    done = threading.Event()

    def tell() -> None:
        if not done.wait(after):
            print(NOTICE, file=stream, flush=True)

    teller = threading.Thread(target=tell, name="ioc-sim-compile-notice", daemon=True)
    teller.start()
    try:
        work()
    finally:
        done.set()
        teller.join()
