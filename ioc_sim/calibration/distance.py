"""The ABC distance: how far a simulation is from reproducing every pattern.

Each criterion contributes its *miss* (the distance of its statistic from its target;
0 when it holds, so a simulation reproducing every pattern is at distance 0) divided
by a scale, and each pattern's criteria share one unit of weight:

    d = sum over patterns p of (1 / n_p) * sum over its criteria c of miss_c / scale_c

so neither a statistic measured in large units nor a pattern with many criteria
dominates. The scale of a criterion is the median of its misses among the draws
from the prior that miss it (how far off the model typically is, before
calibration, when it misses; a median, so that a statistic dividing by almost
nothing in a few draws does not set it); a criterion that no prior draw misses is
scaled by its bound's size (1 if its bound is another statistic). A miss that
cannot be computed (a pattern whose arms failed, a ratio over zero) counts as the
largest miss of the prior sample.

The scales are fitted once, before the first generation, and kept in a file beside
the history database, so that a resumed calibration uses exactly the same distance.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyabc

from ioc_sim.calibration.simulator import pattern_of
from ioc_sim.validation import Pattern


def _bound_size(patterns: Sequence[Pattern], key: str) -> float:
    pid, k = key.split(":")[1:3]
    c = next(p for p in patterns if p.id == pid).criteria[int(k)]
    if isinstance(c.bound, tuple):
        return max(abs(c.bound[0]), abs(c.bound[1])) or 1.0
    if isinstance(c.bound, float):
        return abs(c.bound) or 1.0
    return 1.0


class PatternDistance(pyabc.Distance):
    """Weighted sum of the criteria's misses, each over its prior-sample scale.

    Args:
        keys: The ``miss:`` keys of the criteria.
        patterns: The patterns (for each criterion's bound).
        scales_file: Where the fitted scales are kept (read instead of refitting when
            it exists: a resumed calibration).
    """

    def __init__(self, keys: Sequence[str], patterns: Sequence[Pattern], scales_file: Path):
        super().__init__()
        self.keys = list(keys)
        counts = {pattern_of(k): 0 for k in self.keys}
        for k in self.keys:
            counts[pattern_of(k)] += 1
        self.weights = np.array([1.0 / counts[pattern_of(k)] for k in self.keys])
        self.bound_sizes = np.array([_bound_size(patterns, k) for k in self.keys])
        self.scales_file = Path(scales_file)
        self.scales: np.ndarray | None = None
        self.fill: np.ndarray | None = None

    def fit(self, misses: np.ndarray) -> None:
        """Fit the scales from the misses of the prior sample (draws x criteria)."""
        scales, fill = [], []
        for j in range(misses.shape[1]):
            m = misses[:, j]
            missed = m[np.isfinite(m) & (m > 0)]
            # The median size of a miss, robust to the odd statistic that divides by
            # almost nothing; the worst finite miss stands in for one not computed.
            scales.append(float(np.median(missed)) if len(missed) else self.bound_sizes[j])
            fill.append(float(missed.max()) if len(missed) else scales[-1])
        self.scales, self.fill = np.array(scales), np.array(fill)

    def initialize(self, t: int, get_sample: Callable, x_0: dict, total_sims: int) -> None:
        """Read the kept scales, or fit them from the calibration sample."""
        if self.scales_file.exists():
            kept = json.loads(self.scales_file.read_text(encoding="utf-8"))
            if kept["keys"] == self.keys:
                self.scales = np.array(kept["scales"])
                self.fill = np.array(kept["fill"])
                return
        sample = get_sample()
        misses = np.array(
            [[p.sum_stat[k] for k in self.keys] for p in sample.accepted_particles], dtype=float
        )
        self.fit(misses)
        self.save()

    def save(self) -> None:
        """Keep the scales beside the history."""
        data = {"keys": self.keys, "scales": self.scales.tolist(), "fill": self.fill.tolist()}
        self.scales_file.write_text(json.dumps(data, indent=1), encoding="utf-8")

    def table(self) -> dict[str, dict[str, float]]:
        """Each criterion's weight, scale and fill, for the record."""
        return {
            k: {"weight": float(w), "scale": float(s), "fill": float(f)}
            for k, w, s, f in zip(self.keys, self.weights, self.scales, self.fill, strict=True)
        }

    def misses(self, x: dict) -> np.ndarray:
        """The misses of a simulation, a missing one counted as the worst."""
        m = np.array([x[k] for k in self.keys], dtype=float)
        return np.where(np.isfinite(m), m, self.fill)

    def __call__(self, x: dict, x_0: dict, t: int | None = None, par: dict | None = None) -> float:
        d = float(np.sum(self.weights * self.misses(x) / self.scales))
        return d if math.isfinite(d) else math.inf

    def get_config(self) -> dict:
        return {"name": "PatternDistance", "keys": self.keys}
