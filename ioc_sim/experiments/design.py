"""Experiment designs: the methods, their options, and the rows they give.

A design is data: SALib samplers are seeded from the experiment's root seed,
so the same file always gives the same rows. :func:`make_design` samples or
enumerates the rows; :func:`design_size` counts them without sampling, so an
oversized design is refused before anything is drawn.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.factors import Factor
from ioc_sim.spec.schema import check_keys, whole

METHODS = ("compare", "grid", "latin", "morris", "sobol", "fast")
#: Methods whose rows are samples for a SALib analysis.
SAMPLED = ("latin", "morris", "sobol", "fast")
DESIGN_KEYS = {
    "compare": ("method", "scenarios"),
    "grid": ("method", "levels", "include", "exclude"),
    "latin": ("method", "n", "include", "exclude"),
    "morris": ("method", "trajectories", "levels", "include", "exclude"),
    "sobol": ("method", "n", "second_order", "include", "exclude"),
    "fast": ("method", "n", "m", "include", "exclude"),
}


@dataclass
class Row:
    """One design row: a scenario and the parameter values set on it."""

    label: str
    scenario: int
    overrides: dict[str, Any]


@dataclass
class Design:
    """The rows of an experiment.

    Attributes:
        rows: One :class:`Row` per design row, in SALib's order.
        X: The sampled numbers (rows x factors) for SALib designs, else None.
    """

    rows: list[Row]
    X: np.ndarray | None = None


def make_design(
    method: str,
    options: dict[str, Any],
    factors: Sequence[Factor],
    root_seed: int,
    labels: Sequence[str] = (),
    compare_overrides: Sequence[dict[str, Any]] = (),
) -> Design:
    """Sample or enumerate the design rows of an experiment.

    Args:
        method: One of :data:`METHODS`.
        options: The method's options (see :func:`parse_options`).
        factors: The varied inputs (none for ``compare``).
        root_seed: The experiment's root seed; SALib samplers are seeded from it.
        labels: Row labels of a compare design.
        compare_overrides: Parameter values set on each compared scenario.
    """
    from SALib.sample import fast_sampler, latin, morris, sobol

    opt = options
    if method == "compare":
        return Design(
            [
                Row(name, k, dict(ov))
                for k, (name, ov) in enumerate(zip(labels, compare_overrides, strict=True))
            ]
        )
    names = [f.name for f in factors]
    if method == "grid":
        axes = [f.grid_values(opt["levels"]) for f in factors]
        rows = []
        for combo in itertools.product(*axes):
            ov = dict(zip(names, combo, strict=True))
            rows.append(Row(row_label(ov), 0, ov))
        return Design(rows)
    problem = {"num_vars": len(factors), "names": names, "bounds": [f.bounds for f in factors]}
    # A sampler seed from the root (not the root itself), so that design and runs
    # draw from unrelated streams.
    seed = int(np.random.SeedSequence(root_seed, spawn_key=(2**31,)).generate_state(1)[0])
    if method == "sobol":
        X = sobol.sample(
            problem, opt["n"], calc_second_order=opt["second_order"], scramble=True, seed=seed
        )
    elif method == "morris":
        X = morris.sample(problem, opt["trajectories"], num_levels=opt["levels"], seed=seed)
    elif method == "fast":
        X = fast_sampler.sample(problem, opt["n"], M=opt["m"], seed=seed)
    else:
        X = latin.sample(problem, opt["n"], seed=seed)
    rows = []
    for x in X:
        ov = {f.name: f.to_value(v) for f, v in zip(factors, x, strict=True)}
        rows.append(Row(row_label(ov), 0, ov))
    return Design(rows, np.asarray(X, dtype=float))


def row_label(ov: dict[str, Any]) -> str:
    """A row's label: its parameter values, numbers to four significant digits."""
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in ov.items())


def design_size(method: str, opt: dict[str, Any], factors: Sequence[Factor], n_compare: int) -> int:
    """Number of design rows, computed without sampling."""
    d = len(factors)
    if method == "compare":
        return n_compare
    if method == "grid":
        return int(np.prod([len(f.grid_values(opt["levels"])) for f in factors]))
    if method == "sobol":
        return opt["n"] * (2 * d + 2 if opt["second_order"] else d + 2)
    if method == "morris":
        return opt["trajectories"] * (d + 1)
    if method == "fast":
        return opt["n"] * d
    return opt["n"]


# ----------------------------------------------------------------- options
def parse_options(method: str, design: dict[str, Any]) -> dict[str, Any]:
    """Validate a ``[design]`` table of ``method`` and fill in the defaults of its options.

    Raises:
        ConfigError: Naming the ``design.`` field and what is allowed.
    """
    check_keys(design, DESIGN_KEYS[method], "design", f"key for method = {method!r}")
    opt: dict[str, Any] = {}
    if method == "sobol":
        if "n" not in design:
            raise ConfigError("design.n", "missing; allowed: a power of two, such as 1024")
        n = whole(design["n"], "design.n", 2, 2**24, "a power of two")
        if n & (n - 1):
            raise ConfigError(
                "design.n",
                f"got {n}; allowed: a power of two from 2 to 2**24 "
                "(Sobol' sequences lose their balance otherwise)",
            )
        so = design.get("second_order", False)
        if not isinstance(so, bool):
            raise ConfigError("design.second_order", f"got {so!r}; allowed: true or false")
        opt.update(n=n, second_order=so)
    elif method == "morris":
        opt["trajectories"] = whole(
            design.get("trajectories", 20), "design.trajectories", 2, 100000
        )
        levels = whole(design.get("levels", 4), "design.levels", 2, 100, "an even number")
        if levels % 2:
            raise ConfigError(
                "design.levels", f"got {levels}; allowed: an even number from 2 to 100"
            )
        opt["levels"] = levels
    elif method == "fast":
        opt["m"] = whole(design.get("m", 4), "design.m", 1, 20)
        low = 4 * opt["m"] ** 2 + 1
        if "n" not in design:
            raise ConfigError("design.n", f"missing; allowed: a whole number above {low - 1}")
        opt["n"] = whole(
            design["n"], "design.n", low, 2**24, f"a whole number (above 4 * m**2 = {low - 1})"
        )
    elif method == "latin":
        if "n" not in design:
            raise ConfigError("design.n", "missing; allowed: a whole number of rows")
        opt["n"] = whole(design["n"], "design.n", 2, 2**24)
    elif method == "grid":
        opt["levels"] = whole(design.get("levels", 3), "design.levels", 2, 1000)
    return opt
