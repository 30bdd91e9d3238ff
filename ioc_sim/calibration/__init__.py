"""Calibration: ABC-SMC of the model's assumptions against the patterns, and its use.

Modules: ``spec`` (calibration files), ``screening`` (which parameters are fitted),
``simulator`` (parameter values -> the patterns' distances to their targets),
``distance`` (the ABC distance), ``sampler`` (a deterministic parallel pyabc
sampler), ``run`` (:func:`calibrate`), ``outputs`` and ``figures`` (what a
calibration writes), ``predictive`` (the posterior-predictive check), ``posterior``
(the posterior file and parameter sets), ``bands`` (runs over posterior draws) and
``selftest`` (parameter recovery). pyabc is imported only where it is used.
"""

from ioc_sim.calibration.posterior import Posterior, load_posterior, posterior_draws
from ioc_sim.calibration.spec import Calibration, load_calibration

__all__ = ["Calibration", "Posterior", "load_calibration", "load_posterior", "posterior_draws"]
