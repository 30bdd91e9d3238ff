"""Compiled kernels (numba) for the monthly cycle of
:class:`ioc_sim.engine.simulation.Simulation` and the metrics that read it.

Why: with about 1,400 ordered pairs (200 organisations) a month of the model
made about 230 numpy calls on small arrays, so numpy's per-call overhead, not
arithmetic, set the pace. These kernels fuse each phase into single loops over
replicates and pairs, memberships, collaborations or organisations.

By phase:

* :mod:`~ioc_sim.engine.kernels.pairs`: acts, then exchange, conflict, trust,
  confidence and risk threshold, then the grouped means of the pairs' state;
* :mod:`~ioc_sim.engine.kernels.collaborations`: the lifecycle review and the
  performance mechanisms;
* :mod:`~ioc_sim.engine.kernels.organisations`: progress and faith,
  performance, special measures;
* :mod:`~ioc_sim.engine.kernels.metrics`: the one-pass metrics;
* :mod:`~ioc_sim.engine.kernels.rng`: the uniform stream's SFC64 step;
* :mod:`~ioc_sim.engine.kernels.params`: the named parameter packs every kernel
  takes for its scalar parameters.

Rules the kernels keep, so that their numbers equal the numpy reference
(:mod:`ioc_sim.engine.reference`):

* Uniform numbers come from numpy's SFC64 algorithm, stepped here on each
  replicate's state (``uniform_state`` (R, 4), :mod:`~ioc_sim.engine.kernels.rng`):
  the same numbers as ``numpy.random.Generator(SFC64)`` from that state gives
  with ``random()``, without a call into numpy per draw. Normal numbers are
  drawn outside, by numpy, and passed in as drawn-ahead blocks (``(R, B)``) with
  each replicate's read position (``(R,)``); a kernel reads them in order and
  leaves the position past them. The numpy reference reads both streams in the
  same order. A replicate's numbers never depend on the other replicates of a
  batch (every loop runs replicate by replicate).
* Each equation is written with the same operations in the same order as the
  numpy code it replaces (``docs/ODD.md`` has the equations and their status),
  so elementwise results are equal bit for bit; grouped sums add members in
  index order, as ``np.bincount`` does, and means of whole rows add as
  ``np.add.reduce`` does (:func:`~ioc_sim.engine.kernels.metrics.pairwise_sum`).
* numpy's SIMD exponentials, logarithms and cube roots round differently
  from the C library's, which numba calls. The soft gate's ``math.exp``
  matches ``scipy.special.expit`` of the numpy reference, which uses the C
  library too; the mechanisms' blend and the fading of integration costs use
  the C library's ``exp``, ``log`` and ``cbrt`` (they have no separate numpy
  reference); the maturity index's cube root stays in numpy, so that it equals
  :func:`ioc_sim.model.maturity.index_of_simulated`.
* Compiled with ``cache=True``: the first process on a machine compiles them and
  writes the cache next to the modules; later processes load it.
"""

from ioc_sim.engine.kernels.collaborations import (
    COLLAB_ROWS,
    MECHANISM_PARAMS,
    REVIEW_PARAMS,
    mechanisms,
    review,
)
from ioc_sim.engine.kernels.metrics import domain_product, metric_rows, pairwise_sum
from ioc_sim.engine.kernels.organisations import (
    ENTERED,
    LEFT,
    MEMBER_ROWS,
    PERFORMANCE_PARAMS,
    PROGRESS_PARAMS,
    REGULATOR_PARAMS,
    performance,
    progress_faith,
    regulate,
)
from ioc_sim.engine.kernels.pairs import (
    ACT_PARAMS,
    C_EXPOSURE,
    C_SUPPORT,
    P_LIVE,
    PACK_ROWS,
    TIE_ROWS,
    TRUST_SPECS,
    UPDATE_PARAMS,
    pair_acts,
    pair_means,
    pair_update,
)
from ioc_sim.engine.kernels.params import make_pack, pack_dtype
from ioc_sim.engine.kernels.rng import sfc64_uniforms

__all__ = [
    "ACT_PARAMS",
    "COLLAB_ROWS",
    "C_EXPOSURE",
    "C_SUPPORT",
    "ENTERED",
    "LEFT",
    "MECHANISM_PARAMS",
    "MEMBER_ROWS",
    "PACK_ROWS",
    "PERFORMANCE_PARAMS",
    "PROGRESS_PARAMS",
    "P_LIVE",
    "REGULATOR_PARAMS",
    "REVIEW_PARAMS",
    "TIE_ROWS",
    "TRUST_SPECS",
    "UPDATE_PARAMS",
    "domain_product",
    "make_pack",
    "mechanisms",
    "metric_rows",
    "pack_dtype",
    "pair_acts",
    "pair_means",
    "pair_update",
    "pairwise_sum",
    "performance",
    "progress_faith",
    "regulate",
    "review",
    "sfc64_uniforms",
]
