"""The named statistics a pattern can compute, as a registry a patterns file composes.

A statistic in a patterns file is a table with a ``kind`` and that kind's keys, for
example::

    gain = { kind = "path_mean", arm = "merged", versus = "without", of = "quality",
             months = [-24, -1] }

Kinds of two sorts:

* *series statistics* read monthly series of an arm (shape (replicates, months + 1)),
  optionally minus a counterfactual arm (``versus``, the same replicate seeds, so the
  difference carries no run-to-run noise of its own), and reduce them to one number:
  ``mean``, ``path_mean``, ``share_of_runs``, ``rank_correlation``,
  ``smoothed_difference``, ``largest_moves_ratio``;
* *combinations* of other statistics: ``ratio``, ``change``, ``difference``,
  ``relative_difference``.

Month windows are ``months = [first, last]``, both included; a negative month counts
from the end (-1 is the last month); with ``from_event = "KIND"`` they count from the
month of the first event of that kind in the arm's scenario. :data:`KINDS` holds each
kind's keys and meaning; ``ioc-sim validate --statistics`` prints them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ioc_sim.errors import ConfigError
from ioc_sim.spec.schema import check_keys, one_of, whole
from ioc_sim.validation.readers import check_reader, is_per_pair

#: Keys every series statistic may take, with what each is.
SERIES_KEYS = {
    "arm": "the arm read (a name under the pattern's [arms])",
    "of": "what is read: a metric or reader, or a list of them added together",
    "organisations": "read `of` for these organisations taken together (ids)",
    "months": "[first, last] months, both included; negative counts from the end",
    "from_event": "count `months` from the first event of this kind in the arm's scenario",
}


@dataclass(frozen=True)
class Kind:
    """A kind of statistic.

    Attributes:
        name: The ``kind`` a patterns file names.
        meaning: What it computes, in words.
        keys: Its keys (besides ``kind``) and what each is.
        required: The keys it cannot do without.
        compute: ``(values, spec) -> float``, with ``values`` a
            :class:`~ioc_sim.validation.checks.Values` and ``spec`` the parsed table.
        combines: Its inputs are other statistics (named by the keys in ``required``
            and those of its optional keys that name statistics).
    """

    name: str
    meaning: str
    keys: Mapping[str, str]
    required: tuple[str, ...]
    compute: Callable[[Any, Mapping[str, Any]], float]
    combines: tuple[str, ...] = ()


def window(spec: Mapping[str, Any], event_month: int | None) -> slice:
    """The months ``spec["months"]`` of a series, as a slice of its month axis."""
    first, last = spec.get("months", (0, -1))
    if event_month is not None:
        return slice(event_month + first, event_month + last + 1)
    return slice(first, None if last == -1 else last + 1)


def _series(values, spec: Mapping[str, Any], arm: str | None = None) -> np.ndarray:
    return values.series(arm or spec["arm"], spec["of"], spec.get("organisations"))


def _mean(values, spec) -> float:
    x = _series(values, spec)
    x = x[:, window(spec, values.event_month(spec))]
    if not spec.get("skip_missing", False):
        return float(x.mean())
    # Nothing left to average (every month missing, say no organisation in special
    # measures in the window) is a missing statistic, NaN, without numpy's warning.
    return float("nan") if np.isnan(x).all() else float(np.nanmean(x))


def _path(values, spec) -> np.ndarray:
    """The mean path over replicates, minus the counterfactual's if there is one."""
    path = _series(values, spec).mean(axis=0)
    if "versus" in spec:
        path = path - _series(values, spec, spec["versus"]).mean(axis=0)
    return path


def _path_mean(values, spec) -> float:
    path = _path(values, spec)
    return float(path[window(spec, values.event_month(spec))].mean())


def _share_of_runs(values, spec) -> float:
    x = _series(values, spec)
    x = x[:, window(spec, values.event_month(spec))]
    return float((x > spec.get("above", 0.0)).any(axis=1).mean())


def _per_run(values, spec, of: str, months_key: str) -> np.ndarray:
    x = values.series(spec["arm"], of, spec.get("organisations"))
    months = spec.get(months_key, (0, -1))
    return x[:, window({"months": months}, values.event_month(spec))].mean(axis=1)


def _rank_correlation(values, spec) -> float:
    from scipy import stats

    x = _per_run(values, spec, spec["x"], "x_months")
    y = _per_run(values, spec, spec["y"], "y_months")
    with warnings.catch_warnings():
        # A series that does not vary has no rank correlation: NaN, said in the detail.
        warnings.simplefilter("ignore")
        return float(stats.spearmanr(x, y).statistic)


def _smooth(x: np.ndarray, months: int) -> np.ndarray:
    """Trailing moving average over ``months`` along the last axis (shorter at the start)."""
    c = np.cumsum(x, axis=-1)
    out = c.copy()
    out[..., months:] = c[..., months:] - c[..., :-months]
    return out / np.minimum(np.arange(1, x.shape[-1] + 1), months)


def half_time(diff: np.ndarray, start: int) -> float:
    """First month from ``start`` at which ``diff`` reaches half its later maximum."""
    tail = diff[start:]
    peak = tail.max()
    if not np.isfinite(peak) or peak <= 0:
        return math.inf
    return float(start + np.argmax(tail >= peak / 2))


def _smoothed_difference(values, spec) -> float:
    a, b = _series(values, spec), _series(values, spec, spec["versus"])
    runs = _smooth(a - b, spec.get("smooth", 12))  # (replicates, months + 1)
    d = runs.mean(axis=0)
    start = values.event_month(spec) or 0
    read = spec.get("read", "peak")
    if read == "half_time":
        return half_time(d, start)
    peak = start + int(np.argmax(d[start:]))
    if read == "peak_month":
        return float(peak)
    if read == "peak":
        return float(d[peak])
    if read == "gain":
        base = b.mean(axis=0)[start]
        return float(d[peak] / base) if base else math.nan
    # Run-to-run noise of the difference at the peak (common random numbers pair the runs).
    se = float(runs[:, peak].std(ddof=1) / math.sqrt(runs.shape[0]))
    if read == "standard_error":
        return se
    return float(d[peak] / se) if se else math.inf


def _largest_moves_ratio(values, spec) -> float:
    # Months first, then the month-to-month moves of every replicate and pair.
    x = np.moveaxis(_series(values, spec), 1, 0)
    d = np.diff(x, axis=0).ravel()
    # The largest monthly moves are single events (a failed or a successful joint act);
    # the many small moves are slow drifts.
    k = spec.get("moves", 20)
    up, down = np.sort(d[d > 1e-9])[-k:], np.sort(-d[d < -1e-9])[-k:]
    return float(down.mean() / up.mean()) if len(up) and len(down) else math.nan


def _ratio(values, spec) -> float:
    a, b = values.stat(spec["numerator"]), values.stat(spec["denominator"])
    return a / b if b else math.nan


def _change(values, spec) -> float:
    a, b = values.stat(spec["value"]), values.stat(spec["reference"])
    return a / b - 1 if b else math.nan


def _difference(values, spec) -> float:
    return values.stat(spec["value"]) - values.stat(spec["reference"])


def _relative_difference(values, spec) -> float:
    a, b = values.stat(spec["value"]), values.stat(spec["reference"])
    scale = values.stat(spec.get("relative_to", spec["reference"]))
    return (a - b) / max(abs(scale), 1e-9)


_VERSUS = {"versus": "a counterfactual arm whose series is subtracted, replicate by replicate"}

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "mean",
            "mean over replicates and the months of the window",
            {**SERIES_KEYS, "skip_missing": "leave out missing values (default false)"},
            ("arm", "of"),
            _mean,
        ),
        Kind(
            "path_mean",
            "mean over the window of the mean path over replicates (minus the versus arm's)",
            {**SERIES_KEYS, **_VERSUS},
            ("arm", "of"),
            _path_mean,
        ),
        Kind(
            "share_of_runs",
            "share of replicates whose series exceeds `above` in some month of the window",
            {**SERIES_KEYS, "above": "the level to exceed (default 0)"},
            ("arm", "of"),
            _share_of_runs,
        ),
        Kind(
            "rank_correlation",
            "Spearman's rank correlation across replicates of the window means of x and y",
            {
                "arm": SERIES_KEYS["arm"],
                "x": "the first metric or reader",
                "x_months": "its window, [first, last]",
                "y": "the second metric or reader",
                "y_months": "its window, [first, last]",
                "organisations": SERIES_KEYS["organisations"],
                "from_event": SERIES_KEYS["from_event"],
            },
            ("arm", "x", "y"),
            _rank_correlation,
        ),
        Kind(
            "smoothed_difference",
            "the difference from the versus arm, as a trailing moving average (`smooth` "
            "months) of each replicate's difference, averaged over replicates, from the "
            "start month (`from_event`, else 0); `read` = peak (its largest value), "
            "peak_month, gain (the peak over the versus arm's mean at the start), "
            "standard_error (of the replicates' differences at the peak), z (peak over "
            "standard error) or half_time (first month reaching half the peak)",
            {
                **{k: v for k, v in SERIES_KEYS.items() if k != "months"},
                **_VERSUS,
                "smooth": "months of the moving average (default 12)",
                "read": "peak, peak_month, gain, standard_error, z or half_time (default peak)",
            },
            ("arm", "versus", "of"),
            _smoothed_difference,
        ),
        Kind(
            "largest_moves_ratio",
            "mean of the `moves` largest monthly falls over the mean of the `moves` largest "
            "rises, over every pair and replicate of a per-pair reader",
            {
                "arm": SERIES_KEYS["arm"],
                "of": "a per-pair reader (pair_trust, pair_confidence)",
                "moves": "how many of the largest moves (default 20)",
            },
            ("arm", "of"),
            _largest_moves_ratio,
        ),
        Kind(
            "ratio",
            "numerator / denominator (missing if the denominator is 0)",
            {"numerator": "a statistic", "denominator": "a statistic"},
            ("numerator", "denominator"),
            _ratio,
            combines=("numerator", "denominator"),
        ),
        Kind(
            "change",
            "value / reference - 1 (missing if the reference is 0)",
            {"value": "a statistic", "reference": "a statistic"},
            ("value", "reference"),
            _change,
            combines=("value", "reference"),
        ),
        Kind(
            "difference",
            "value - reference",
            {"value": "a statistic", "reference": "a statistic"},
            ("value", "reference"),
            _difference,
            combines=("value", "reference"),
        ),
        Kind(
            "relative_difference",
            "(value - reference) / |relative_to| (default: the reference; at least 1e-9)",
            {"value": "a statistic", "reference": "a statistic", "relative_to": "a statistic"},
            ("value", "reference"),
            _relative_difference,
            combines=("value", "reference", "relative_to"),
        ),
    )
}
READS = ("peak", "peak_month", "gain", "standard_error", "z", "half_time")


def _months(value: Any, fld: str) -> tuple[int, int]:
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )
    if not ok:
        raise ConfigError(fld, f"got {value!r}; allowed: [first, last], two whole months")
    first, last = value
    if (first >= 0) == (last >= 0) and first > last:
        raise ConfigError(fld, f"got {value!r}; allowed: first no later than last")
    return first, last


def _of(value: Any, spec: Mapping[str, Any], fld: str) -> str | tuple[str, ...]:
    orgs = spec.get("organisations")
    names = value if isinstance(value, list) else [value]
    if not names:
        raise ConfigError(fld, "got []; allowed: a metric or reader, or a list of them")
    for k, name in enumerate(names):
        check_reader(name, orgs, f"{fld}[{k}]" if isinstance(value, list) else fld)
    return tuple(names) if isinstance(value, list) else value


def parse_statistic(
    name: str, table: Any, arms: Mapping[str, Any], statistics: Mapping[str, Any], fld: str
) -> dict[str, Any]:
    """Check one statistic's table and return it with its values converted.

    Args:
        name: The statistic's name.
        table: Its table as read.
        arms: The pattern's arms, by name.
        statistics: Every statistic of the pattern, by name (tables as read).
        fld: Where it is, for messages.

    Raises:
        ConfigError: Naming the field and what is allowed.
    """
    if not isinstance(table, dict):
        raise ConfigError(
            fld,
            f"got {table!r}; allowed: a table with a kind, such as "
            '{ kind = "mean", arm = "base", of = "trust" }',
        )
    kind = table.get("kind")
    if kind not in KINDS:
        one_of(kind, f"{fld}.kind", list(KINDS))
    k = KINDS[kind]
    check_keys(table, ("kind", *k.keys), fld, f"key for kind = {kind!r}")
    for key in k.required:
        if key not in table:
            raise ConfigError(f"{fld}.{key}", f"missing; allowed: {k.keys[key]}")
    spec: dict[str, Any] = {"kind": kind}
    orgs = table.get("organisations")
    if orgs is not None:
        if not isinstance(orgs, list) or not orgs or any(not isinstance(o, str) for o in orgs):
            raise ConfigError(f"{fld}.organisations", f"got {orgs!r}; allowed: a list of ids")
        spec["organisations"] = tuple(orgs)
    for key, value in table.items():
        at = f"{fld}.{key}"
        if key in ("kind", "organisations"):
            continue
        if key in k.combines:
            if value == name or value not in statistics:
                allowed = [s for s in statistics if s != name]
                raise ConfigError(
                    at,
                    f"got {value!r}; allowed: another statistic of the pattern: "
                    + ", ".join(allowed),
                )
            spec[key] = value
        elif key in ("arm", "versus"):
            if value not in arms:
                one_of(value, at, list(arms))
            spec[key] = value
        elif key in ("of", "x", "y"):
            spec[key] = _of(value, table, at)
        elif key in ("months", "x_months", "y_months"):
            spec[key] = _months(value, at)
        elif key == "from_event":
            if not isinstance(value, str) or not value:
                raise ConfigError(at, f"got {value!r}; allowed: an event kind, such as 'merger'")
            spec[key] = value
        elif key == "skip_missing":
            if not isinstance(value, bool):
                raise ConfigError(at, f"got {value!r}; allowed: true or false")
            spec[key] = value
        elif key == "above":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(at, f"got {value!r}; allowed: a number")
            spec[key] = float(value)
        elif key in ("smooth", "moves"):
            spec[key] = whole(value, at, 1, 1000)
        elif key == "read":
            spec[key] = one_of(value, at, READS)
    if kind == "largest_moves_ratio" and not is_per_pair(spec["of"]):
        raise ConfigError(
            f"{fld}.of",
            f"got {spec['of']!r}; allowed: pair_trust or pair_confidence (a per-pair reader)",
        )
    for key in ("of", "x", "y"):
        if kind != "largest_moves_ratio" and key in spec:
            names = spec[key] if isinstance(spec[key], tuple) else (spec[key],)
            if any(is_per_pair(n) for n in names):
                raise ConfigError(
                    f"{fld}.{key}",
                    f"got {spec[key]!r}; a per-pair reader "
                    "is allowed only with kind = 'largest_moves_ratio'",
                )
    return spec


def inputs(spec: Mapping[str, Any]) -> list[str]:
    """The other statistics a statistic combines."""
    return [spec[key] for key in KINDS[spec["kind"]].combines if key in spec]


def compute(values, spec: Mapping[str, Any]) -> float:
    """The statistic's value from the arms' series and the other statistics."""
    return KINDS[spec["kind"]].compute(values, spec)
