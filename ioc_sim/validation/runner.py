"""Running the pattern checks under every specification variant.

:func:`validate` checks each pattern under the default specification and
under each alternative of every switchable specification, one switch at a
time, and writes the matrix (:mod:`~ioc_sim.validation.writer`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.spec.parameters import PARAMETERS, SPECIFICATIONS
from ioc_sim.validation.arms import SEED
from ioc_sim.validation.checks import CheckResult, check, measure
from ioc_sim.validation.patterns import Pattern, bundled, load_patterns
from ioc_sim.validation.writer import write_validation


def specification_variants() -> list[tuple[str, dict[str, Any]]]:
    """The default specification, then each alternative of each switch, one at a time."""
    variants: list[tuple[str, dict[str, Any]]] = [("default", {})]
    for name in SPECIFICATIONS:
        p = PARAMETERS[name]
        for choice in p.choices:
            if choice != p.default:
                variants.append((f"{name}={choice}", {name: choice}))
    return variants


def extra_seeds(n: int) -> list[int]:
    """``n`` root seeds other than :data:`~ioc_sim.validation.arms.SEED`, always the
    same ones (drawn from it)."""
    if n <= 0:
        return []
    return [int(s) for s in np.random.default_rng(SEED).integers(1, 2**31 - 1, n)]


def run_check(pattern: Pattern, overrides: dict[str, Any]) -> CheckResult:
    """Run one check; a run that raises counts as a failure with its error."""
    return check(pattern, dict(overrides))


def choose(
    patterns: list[str] | None, files: str | Path | list[str | Path] | None = None
) -> list[Pattern]:
    """The patterns of ``files`` (default: the bundled literature patterns) whose ids are
    in ``patterns`` (default: all), in the files' order.

    Raises:
        ConfigError: For a bad patterns file, or an id none of them has.
    """
    loaded = bundled() if files is None else load_patterns(files)
    ids = [p.id for p in loaded]
    unknown = [p for p in patterns or [] if p not in ids]
    if unknown:
        raise ConfigError("--pattern", f"got {unknown[0]!r}; allowed: " + ", ".join(ids))
    return [p for p in loaded if patterns is None or p.id in patterns]


def validate(
    out: str | Path | None = None,
    patterns: list[str] | None = None,
    specifications: bool = True,
    show_progress: bool = False,
    seeds: int = 1,
    files: str | Path | list[str | Path] | None = None,
) -> pd.DataFrame:
    """Check every pattern under every specification variant and write the matrix.

    Args:
        out: Folder for ``checks.csv``, ``matrix.csv``, ``matrix.md`` and
            ``validation.json`` (nothing written if None).
        patterns: Pattern ids to run (default all).
        specifications: Also run every alternative specification (else the default only).
        show_progress: Print one line per check to stderr.
        seeds: Also run the default specification's checks with this many other root
            seeds (variants ``"default, seed S"``): how firmly each verdict holds on
            other random numbers.
        files: Patterns files (paths or bundled names; default the bundled
            literature patterns).

    Returns:
        One row per (pattern, variant): passed, value and detail.
    """
    chosen = choose(patterns, files)
    variants = specification_variants() if specifications else [("default", {})]
    runs = [(label, ov, SEED) for label, ov in variants]
    runs += [(f"default, seed {s}", {}, s) for s in extra_seeds(seeds - 1)]
    # All patterns of a variant run together, so that an arm two of them share runs once.
    results = {}
    for label, ov, seed in runs:
        for p, m in zip(chosen, measure(chosen, ov, seed=seed), strict=True):
            results[p.id, label] = m.result()
            if show_progress:
                r = results[p.id, label]
                print(
                    f"{p.id} {label}: {'pass' if r.passed else 'FAIL'} - {r.detail}",
                    file=sys.stderr,
                )
    rows = []
    for p in chosen:
        for label, _, _ in runs:
            r = results[p.id, label]
            rows.append(
                {
                    "pattern": p.id,
                    "variant": label,
                    "passed": r.passed,
                    "value": r.value,
                    "detail": r.detail,
                    "scenario": p.scenario,
                }
            )
    checks = pd.DataFrame(rows)
    if out is not None:
        write_validation(checks, Path(out), chosen)
    return checks
