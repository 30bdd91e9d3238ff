"""Parameter recovery: calibration finds known parameter values again.

What the Ishigami self-test does for the Sobol' indices, this does for calibration.
It sets three parameters to known values (:data:`TRUTH`), simulates three patterns'
statistics there with a seed of its own (the "observed" statistics), turns each into
a point target, and runs the same ABC-SMC as ``ioc-sim calibrate`` (simulator,
distance, deterministic sampler, pyabc history) from uniform priors on the declared
bounds. Calibration recovers a parameter when its true value lies within the 90%
posterior interval and the posterior is at most half as wide, in variance, as the
prior (contraction at least 0.5). ``ioc-sim calibrate selftest`` runs it.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pandas as pd

from ioc_sim.calibration.outputs import identification, write_history
from ioc_sim.calibration.run import fit, priors
from ioc_sim.calibration.simulator import STAT, PatternSimulator
from ioc_sim.calibration.spec import Calibration
from ioc_sim.experiments.executors import CONNECT_TIMEOUT, open_executor
from ioc_sim.validation import Criterion, bundled

#: The known values: each moves one pattern's statistic (trust asymmetry the
#: largest-moves ratio of P5, the shock's boost the behaviour gain of P10, the effect of
#: closed service gaps on admissions the change in admissions of P3).
TRUTH = {"trust_asymmetry": 4.0, "shock_boost": 0.55, "admissions_effect": 0.15}
#: The statistics observed, by pattern.
OBSERVED = {"P3": ("change",), "P5": ("ratio",), "P10": ("rel",)}
SEED = 20241


def observed_patterns(replicates: int, seed: int = SEED) -> tuple[list, dict[str, float]]:
    """The selftest's patterns, each statistic of :data:`OBSERVED` a point target at its
    value simulated at :data:`TRUTH`; and those values."""
    base = [p for p in bundled() if p.id in OBSERVED]
    sim = PatternSimulator(base, replicates).run(TRUTH, seed=seed + 1)
    values = {f"{p.id}:{s}": sim[f"{STAT}{p.id}:{s}"] for p in base for s in OBSERVED[p.id]}
    patterns = [
        dataclasses.replace(
            p,
            criteria=tuple(Criterion(s, "target", values[f"{p.id}:{s}"]) for s in OBSERVED[p.id]),
        )
        for p in base
    ]
    return patterns, values


def selftest(
    out: Path,
    *,
    population: int = 120,
    generations: int = 5,
    replicates: int = 8,
    workers: int = 1,
    scheduler: str | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
    show_progress: bool = True,
) -> tuple[bool, pd.DataFrame]:
    """Calibrate to statistics simulated at known values, and compare.

    Returns:
        Whether every known value was recovered, and one row per parameter: the truth,
        the posterior median and 90% interval, the contraction, and the verdict.
    """
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)  # a selftest starts afresh: its answer must not be a resume
    out.mkdir(parents=True)
    patterns, _ = observed_patterns(replicates)
    cal = Calibration(
        name="selftest",
        seed=SEED,
        population=population,
        prior_sample=population,
        generations=generations,
        min_acceptance=0.01,
        max_simulations=10**6,
        replicates=replicates,
        parameters=tuple(TRUTH),
    )
    bounds = priors(cal, list(TRUTH))
    n = int(scheduler.split(":", 1)[1]) if scheduler and scheduler.startswith("local:") else workers
    with open_executor(workers, scheduler, connect_timeout) as executor:
        history, _ = fit(patterns, bounds, cal, out, executor, n, show_progress=show_progress)
    post = write_history(history, list(TRUTH), bounds, out)
    table = identification(post, bounds)
    table.insert(1, "truth", [TRUTH[n] for n in table["parameter"]])
    table["recovered"] = (
        (table["posterior_q05"] <= table["truth"])
        & (table["truth"] <= table["posterior_q95"])
        & (table["contraction"] >= 0.5)
    )
    table.to_csv(out / "recovery.csv", index=False)
    shown = table[
        [
            "parameter",
            "truth",
            "posterior_median",
            "posterior_q05",
            "posterior_q95",
            "contraction",
            "recovered",
        ]
    ]
    return bool(table["recovered"].all()), shown
