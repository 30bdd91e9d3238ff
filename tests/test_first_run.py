"""The first run of a new installation compiles the kernels, and says so while it does."""

from __future__ import annotations

import io
import time

from ioc_sim.experiments import warmup


def _notices(work, after) -> str:
    out = io.StringIO()
    warmup._with_notice(work, out, after)
    return out.getvalue()


def test_a_long_compile_prints_one_line_while_it_runs():
    printed = _notices(lambda: time.sleep(0.6), after=0.1)
    assert printed == warmup.NOTICE + "\n"
    assert "compiling the model's kernels" in printed


def test_a_quick_load_from_the_cache_prints_nothing():
    assert _notices(lambda: None, after=5.0) == ""


def test_quiet_prints_nothing():
    assert _notices(lambda: time.sleep(0.3), after=None) == ""


def test_the_kernels_are_ready_after_the_warm_up(capsys):
    warmup.compile_kernels()
    warmup.compile_kernels()  # once per process
    assert warmup._ready
