"""Running pattern checks: arms simulated once, statistics computed, criteria judged.

:func:`measure` runs the arms of several patterns together (an arm two patterns share
runs once), computes every statistic and returns a :class:`Measured` per pattern;
:func:`check` turns one into a :class:`CheckResult`: whether the pattern is
reproduced, the number it turned on, and the detail in words. Tolerances are
relative, because simulation units are arbitrary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ioc_sim.errors import ConfigError
from ioc_sim.validation import statistics as stats
from ioc_sim.validation.arms import arm, current_seed
from ioc_sim.validation.patterns import Pattern
from ioc_sim.validation.readers import reader


@dataclass
class CheckResult:
    """The outcome of one pattern check."""

    passed: bool
    value: float
    detail: str


def _label(of: str, organisations: Sequence[str] | None) -> str:
    return of if organisations is None else f"{of}@{'+'.join(organisations)}"


class Values:
    """The series of a pattern's arms, and its statistics computed from them on demand.

    Args:
        pattern: The pattern.
        series: Each arm's series, by arm name and reader label.
    """

    def __init__(self, pattern: Pattern, series: Mapping[str, Mapping[str, np.ndarray]]):
        self.pattern = pattern
        self._series = series
        self.stats: dict[str, float] = {}

    def series(self, arm_name: str, of, organisations=None) -> np.ndarray:
        """An arm's series of ``of`` (a list of names is added up, in order)."""
        names = of if isinstance(of, tuple) else (of,)
        out = self._series[arm_name][_label(names[0], organisations)]
        for name in names[1:]:
            out = out + self._series[arm_name][_label(name, organisations)]
        return out

    def event_month(self, spec: Mapping[str, Any]) -> int | None:
        """The month ``from_event`` names in the statistic's arm, if it names one."""
        if "from_event" not in spec:
            return None
        # A patterns file is refused at loading when its arm has no such event.
        month = self.pattern.arms[spec["arm"]].event_month(spec["from_event"])
        return month

    def stat(self, name: str) -> float:
        """A statistic's value (computed once)."""
        if name not in self.stats:
            self.stats[name] = stats.compute(self, self.pattern.statistics[name])
        return self.stats[name]

    def compute_all(self) -> dict[str, float]:
        """Every statistic, inputs first."""
        for name in self.pattern.order():
            self.stat(name)
        return dict(self.stats)


def _readers(pattern: Pattern) -> dict[str, dict[str, Any]]:
    """What each arm of a pattern must read: reader labels mapped to readers."""
    out: dict[str, dict[str, Any]] = {name: {} for name in pattern.arms}
    for spec in pattern.statistics.values():
        orgs = spec.get("organisations")
        arms = [spec[k] for k in ("arm", "versus") if k in spec]
        for key in ("of", "x", "y"):
            if key not in spec:
                continue
            names = spec[key] if isinstance(spec[key], tuple) else (spec[key],)
            for a in arms:
                for n in names:
                    out[a][_label(n, orgs)] = reader(n, orgs)
    return out


@dataclass
class Measured:
    """A pattern's statistics and verdicts, or the error that stopped them.

    Attributes:
        pattern: The pattern.
        stats: Every statistic's value.
        holds: Whether each criterion holds, in the pattern's order.
        misses: How far each criterion's statistic is from its target (0 when it holds).
        error: What went wrong, if the arms or statistics could not be computed.
    """

    pattern: Pattern
    stats: dict[str, float] = field(default_factory=dict)
    holds: list[bool] = field(default_factory=list)
    misses: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(self.holds)

    def result(self) -> CheckResult:
        """The check's outcome: verdict, the pattern's number, and its detail."""
        if self.error is not None:
            return CheckResult(False, math.nan, self.error)
        p = self.pattern
        return CheckResult(
            bool(all(self.holds)), self.stats[p.value], p.detail.format(**self.stats)
        )


def _judge(pattern: Pattern, values: Values) -> Measured:
    m = Measured(pattern, values.compute_all())
    for c in pattern.criteria:
        s = m.stats[c.statistic]
        m.holds.append(bool(c.holds(s, m.stats.__getitem__)))
        m.misses.append(float(c.miss(s, m.stats.__getitem__)))
    return m


def measure(
    patterns: Sequence[Pattern],
    overrides: Mapping[str, Any],
    *,
    seed: int | None = None,
    replicates: int | None = None,
) -> list[Measured]:
    """Run the arms of ``patterns`` under ``overrides`` and judge every criterion.

    Arms of different patterns that are the same (scenario, changes, months,
    replicates) run once, reading what each of them needs.

    Args:
        patterns: The patterns.
        overrides: Parameter values on every arm (a specification variant, a breaker, a
            calibration draw); an arm's own settings win.
        seed: Root of the replicate seeds (default: the validation seed, or the one
            :func:`~ioc_sim.validation.arms.root_seed` sets).
        replicates: Run each arm with at most this many replicates (default: its own).

    Returns:
        One :class:`Measured` per pattern; a pattern whose arms or statistics raise
        has the error instead (a specification that cannot run does not reproduce it).
    """
    seed = current_seed() if seed is None else seed
    runs: dict[str, dict[str, Any]] = {}  # arm key -> readers wanted
    size: dict[str, int] = {}  # arm key -> most replicates wanted
    where: list[dict[str, str]] = []  # per pattern: arm name -> arm key
    specs = {}
    for p in patterns:
        keys = {}
        for name, wanted in _readers(p).items():
            spec = p.arms[name]
            key = spec.key(overrides, seed)
            runs.setdefault(key, {}).update(wanted)
            size[key] = max(size.get(key, 0), spec.runs(replicates))
            specs.setdefault(key, spec)
            keys[name] = key
        where.append(keys)
    done: dict[str, dict[str, np.ndarray] | str] = {}
    for key, wanted in runs.items():
        spec = specs[key]
        try:
            done[key] = arm(
                spec.scenario,
                spec.overrides(overrides),
                wanted,
                replicates=size[key],
                months=spec.months,
                seed=seed,
            )
        except ConfigError:
            raise
        except Exception as err:  # noqa: BLE001 - a variant that cannot run fails its patterns
            done[key] = f"error: {type(err).__name__}: {err}"
    out = []
    for p, keys in zip(patterns, where, strict=True):
        failed = next((done[k] for k in keys.values() if isinstance(done[k], str)), None)
        if failed is not None:
            out.append(Measured(p, error=failed))
            continue
        # An arm sharing a larger one's runs reads its first replicates.
        series = {
            n: {label: x[: p.arms[n].runs(replicates)] for label, x in done[k].items()}
            for n, k in keys.items()
        }
        try:
            out.append(_judge(p, Values(p, series)))
        except ConfigError:
            raise
        except Exception as err:  # noqa: BLE001
            out.append(Measured(p, error=f"error: {type(err).__name__}: {err}"))
    return out


def check(pattern: Pattern, overrides: Mapping[str, Any], **kwargs: Any) -> CheckResult:
    """Run one pattern's check under ``overrides`` (see :func:`measure`)."""
    return measure([pattern], overrides, **kwargs)[0].result()
