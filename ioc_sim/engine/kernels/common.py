"""Scalar helpers shared by the kernels."""

from __future__ import annotations

from numba import njit


@njit(cache=True, inline="always")
def clip01(x: float) -> float:
    """``x`` clipped to [0, 1], as ``np.clip(x, 0.0, 1.0)``."""
    if x < 0.0:
        return 0.0
    if x > 1.0:
        return 1.0
    return x


@njit(cache=True)
def any_positive(values) -> bool:
    """Whether any of ``values`` is above 0."""
    for x in values:
        if x > 0.0:
            return True
    return False
