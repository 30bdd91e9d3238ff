"""The Ishigami function as a model kind: the analytic check of the experiment pipeline.

Its Sobol' indices are known in closed form, so running it through the same
design, executor, results store and analysis as the model
(:func:`ioc_sim.experiments.pipeline_check.selftest`) shows that the pipeline
recovers them. Each run is the function at the row's inputs plus a little
seeded noise, so that replicates differ as the model's do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ioc_sim.experiments.experiment import Experiment
from ioc_sim.experiments.factors import Factor
from ioc_sim.experiments.outcomes import Outcome

#: The model kind recorded in the experiment and its manifest.
KIND = "ishigami"
#: Standard deviation of the noise added to each run.
NOISE = 0.05
#: Analytic Sobol' indices of the Ishigami function with a = 7, b = 0.1.
S1 = (0.3139, 0.4424, 0.0)
ST = (0.5576, 0.4424, 0.2437)
S13 = 0.2437


def ishigami_experiment(
    n: int = 4096, replicates: int = 2, seed: int = 20231, second_order: bool = True
) -> Experiment:
    """The self-test experiment: Sobol' design of the Ishigami function on [-pi, pi]^3."""
    factors = [Factor(f"x{i}", "float", -math.pi, math.pi) for i in (1, 2, 3)]
    return Experiment(
        name="ishigami",
        question="Does the pipeline recover the analytic Ishigami indices?",
        path=None,
        method="sobol",
        options={"n": n, "second_order": second_order},
        scenarios=[],
        factors=factors,
        outcomes=[Outcome("y", "final", "y")],
        replicates=replicates,
        root_seed=seed,
        months=0,
        model=KIND,
        raw={"selftest": "ishigami", "n": n, "second_order": second_order},
    )


def from_manifest(manifest: Mapping[str, Any]) -> Experiment:
    """The self-test experiment as a results folder's manifest records it."""
    raw = manifest["experiment_contents"]
    return ishigami_experiment(
        n=raw["n"],
        replicates=manifest["replicates"],
        seed=manifest["root_seed"],
        second_order=raw["second_order"],
    )


def evaluate(
    kwargs: Mapping[str, Any],
    seeds: Sequence[int],
    months: int,
    outcomes: Sequence[Outcome],
    keep: Sequence[str] = (),
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The Ishigami function at the row's inputs, plus seeded noise per replicate.

    Takes the arguments of :func:`ioc_sim.experiments.reductions.reduce_runs`;
    there are no months and no series to keep.
    """
    from SALib.test_functions import Ishigami

    x = np.array([[kwargs["x1"], kwargs["x2"], kwargs["x3"]]])
    y = float(Ishigami.evaluate(x)[0])
    noise = np.array([np.random.default_rng(s).standard_normal() for s in seeds])
    return {o.name: y + NOISE * noise for o in outcomes}, {}
