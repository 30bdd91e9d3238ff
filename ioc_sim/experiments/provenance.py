"""Where a result comes from: replicate seeds, package versions and the git commit.

Written into every manifest, so that a run can be replayed and its code found.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np


def replicate_seeds(root: int, n: int, row: int = 0) -> list[int]:
    """Seeds of ``n`` replicates derived from one root seed.

    Each seed comes from ``SeedSequence(root, spawn_key=(row, replicate))``,
    so replicate ``r`` gets the same seed whatever ``n`` is, and different
    design rows can share replicate seeds (common random numbers) by using
    the same ``row``.
    """
    return [
        int(np.random.SeedSequence(root, spawn_key=(row, r)).generate_state(1)[0]) for r in range(n)
    ]


#: The spawn key of the analysis's random stream, apart from every replicate's.
ANALYSIS_STREAM = 0xA7A1


def analysis_seed(root: int) -> int:
    """The seed of an experiment's analysis (bootstrap confidence intervals), from its root.

    ``SeedSequence(root, spawn_key=(ANALYSIS_STREAM,))``, so the same results folder
    always gives the same tables. Never 0: SALib's Sobol' and eFAST analysers take a
    seed of 0 as no seed at all.
    """
    seed = int(np.random.SeedSequence(root, spawn_key=(ANALYSIS_STREAM,)).generate_state(1)[0])
    return seed or 1


def _installed(names: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages a result depends on."""
    return {
        "python": platform.python_version(),
        **_installed(("ioc_sim", "mesa", "numpy", "scipy", "pandas", "matplotlib", "SALib")),
    }


def versions() -> dict[str, str]:
    """Package versions, with the storage and cluster libraries experiments use."""
    return {**package_versions(), **_installed(("pyarrow", "dask", "distributed"))}


def platform_info() -> dict[str, str | int | None]:
    """The machine a result was computed on: system, processor, Python build, CPUs."""
    return {
        "system": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "python": sys.version,
        "cpus": os.cpu_count(),
    }


def git_commit() -> str | None:
    """The commit of the source tree the package runs from, if it is a git checkout."""
    here = Path(__file__).resolve().parents[1]  # the package folder
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
