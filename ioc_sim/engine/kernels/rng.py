"""The uniform stream inside the kernels: numpy's SFC64 algorithm, stepped on each
replicate's state so that a kernel draws without a call into numpy per number.

``uniform_state`` is ``(R, 4)``: each replicate's SFC64 state (a, b, c, counter),
as :func:`ioc_sim.engine.streams.uniform_state` seeds it. A kernel copies its
row into locals, steps them with :func:`sfc64_next` and writes them back, so the
numbers are exactly those ``numpy.random.Generator(SFC64)`` gives with
``random()`` from that state.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_U1, _U3, _U11, _U24, _U40 = (np.uint64(k) for k in (1, 3, 11, 24, 40))
#: 2 ** -53: a 53-bit integer times this is a double in [0, 1).
TO_UNIT = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def sfc64_next(a, b, c, w):
    """One step of SFC64 (Chris Doty-Humphrey's Small Fast Chaotic generator, as
    numpy's ``sfc64_next`` in numpy/random/src/sfc64/sfc64.h): the new state
    ``(a, b, c, counter)`` and the next 64-bit output."""
    out = a + b + w
    return b ^ (b >> _U11), c + (c << _U3), ((c << _U24) | (c >> _U40)) + out, w + _U1, out


@njit(cache=True, inline="always")
def to_unit(bits):
    """A 64-bit output as a uniform number on [0, 1), as numpy's ``random()``: the top
    53 bits times 2 ** -53."""
    return float(bits >> _U11) * TO_UNIT


@njit(cache=True)
def sfc64_uniforms(uniform_state, r, n):
    """The next ``n`` uniform numbers on [0, 1) of replicate ``r``'s SFC64 state
    ``uniform_state[r]`` (advanced in place): numpy's ``random()``."""
    state = uniform_state[r]
    a, b, c, w = state[0], state[1], state[2], state[3]
    out = np.empty(n)
    for i in range(n):
        a, b, c, w, x = sfc64_next(a, b, c, w)
        out[i] = to_unit(x)
    state[0], state[1], state[2], state[3] = a, b, c, w
    return out
