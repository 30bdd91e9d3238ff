"""The model as approximate Bayesian computation sees it: parameter values in, the
patterns' statistics out.

:class:`PatternSimulator` runs every arm of every pattern through the batched runner
(:func:`ioc_sim.validation.measure`, hence
:func:`ioc_sim.experiments.replicates.simulate`), all arms of one draw with the same
replicate seeds (common random numbers: the arms of a pattern differ only by what the
pattern is about), and returns, for each criterion, how far its statistic is from
its target (0 when the criterion holds), with every statistic and each pattern's
verdict for the record. Each draw has its own root seed, derived from its candidate's
seed (:data:`CANDIDATE_SEED`, which the sampler sets), so the posterior takes in the
model's own noise instead of fitting the luck of one stream.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any

import numpy as np

from ioc_sim.validation import Pattern, measure

#: The seed of the candidate being simulated (set by
#: :func:`ioc_sim.calibration.sampler.evaluate` around each candidate).
CANDIDATE_SEED: ContextVar[int] = ContextVar("candidate_seed")

#: Prefixes of the keys of what a simulation returns.
MISS, STAT, PASS = "miss:", "stat:", "pass:"


def miss_keys(patterns: Sequence[Pattern]) -> list[str]:
    """One key per criterion: ``miss:PATTERN:INDEX``."""
    return [f"{MISS}{p.id}:{k}" for p in patterns for k in range(len(p.criteria))]


def pattern_of(key: str) -> str:
    """The pattern id of a ``miss:`` key."""
    return key.split(":")[1]


class PatternSimulator:
    """Parameter values -> the patterns' distances to their targets.

    Args:
        patterns: The patterns fitted to.
        replicates: Run each arm with at most this many replicates.
        fixed: Parameter values set on every draw besides the fitted ones.
    """

    def __init__(
        self,
        patterns: Sequence[Pattern],
        replicates: int | None,
        fixed: Mapping[str, Any] | None = None,
    ):
        self.patterns = list(patterns)
        self.replicates = replicates
        self.fixed = dict(fixed or {})

    def run(self, values: Mapping[str, Any], seed: int) -> dict[str, float]:
        """The statistics of one draw with replicate seeds from ``seed``."""
        ov = {**self.fixed, **{k: float(v) for k, v in values.items()}}
        out: dict[str, float] = {"seed": float(seed)}
        for m in measure(self.patterns, ov, seed=seed, replicates=self.replicates):
            p = m.pattern
            for k in range(len(p.criteria)):
                out[f"{MISS}{p.id}:{k}"] = m.misses[k] if m.error is None else math.nan
            for name in p.statistics:
                out[f"{STAT}{p.id}:{name}"] = m.stats.get(name, math.nan)
            out[f"{PASS}{p.id}"] = float(m.passed)
        return out

    def __call__(self, parameter: Mapping[str, Any]) -> dict[str, float]:
        """pyabc's model call: the draw's root seed comes from its candidate's seed, a
        child of the calibration's root seed, so the calibration is the same on one
        core or many."""
        try:
            candidate = CANDIDATE_SEED.get()
        except LookupError:
            raise RuntimeError("PatternSimulator runs inside OrderedSampler only") from None
        return self.run(parameter, draw_seed(candidate))


def draw_seed(candidate: int) -> int:
    """The root seed of a candidate's simulation: a child of its seed."""
    return int(np.random.SeedSequence(candidate, spawn_key=(1,)).generate_state(1)[0])
