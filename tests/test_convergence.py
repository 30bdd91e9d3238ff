"""Sobol' convergence evidence: indices at N/2 against N, on the analytic Ishigami case."""

from __future__ import annotations

import numpy as np

from ioc_sim.experiments.analysers import sobol_convergence
from ioc_sim.experiments.execution import run_experiment
from ioc_sim.experiments.ishigami import ST as ISHIGAMI_ST
from ioc_sim.experiments.ishigami import ishigami_experiment
from ioc_sim.experiments.results import load_results


def test_half_and_full_designs_both_approach_the_analytic_indices(tmp_path):
    exp = ishigami_experiment(n=1024, replicates=1, second_order=False)
    run_experiment(exp, tmp_path / "r", workers=1, show_progress=False)
    conv = sobol_convergence(load_results(tmp_path / "r")).set_index("factor")
    assert list(conv.index) == ["x1", "x2", "x3"]
    full = conv["ST"].to_numpy()
    half = conv["ST_half"].to_numpy()
    # More base samples should not move the estimate away from the truth by much,
    # and the full design must be close to the analytic values.
    assert np.all(np.abs(full - np.array(ISHIGAMI_ST)) < 0.06)
    assert np.all(np.abs(half - np.array(ISHIGAMI_ST)) < 0.12)
    assert np.allclose(conv["ST_change"], np.abs(full - half))
    # The interval narrows as N doubles (by about 1/sqrt(2) in expectation).
    assert conv["ST_conf"].mean() < conv["ST_conf_half"].mean()
