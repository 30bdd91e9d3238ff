"""Pattern-oriented validation: patterns files, parsed and checked.

A *patterns file* (TOML; the ten patterns of docs/patterns.md are
``experiments/patterns/literature.toml``) holds one ``[[pattern]]`` table per
pattern:

* what it is: ``id``, ``claim``, ``source``, ``use``, ``criterion`` (in words);
* where it is checked: ``scenario``, and its simulated ``[pattern.arms]`` (the
  scenario with some values, events or organisations changed; a counterfactual is
  one more arm), all run with the same replicate seeds;
* what is measured: ``[pattern.statistics]``, each a named statistic of
  :mod:`~ioc_sim.validation.statistics` reading the arms, or combining other
  statistics;
* what must hold: ``[[pattern.criteria]]``, each a statistic with a target (a number,
  or an interval: ``at_least``, ``at_most``, ``above``, ``below``, ``between``),
  the source of the target and a tolerance;
* ``value`` (the statistic reported as the pattern's number), ``detail`` (a
  sentence with ``{statistic}`` fields, formatted as Python formats them) and
  ``breaker`` (parameter values that remove the mechanism the pattern rests on).

:func:`load_patterns` reads one or more files (paths or bundled names) and refuses
a mistake with a :class:`~ioc_sim.errors.ConfigError` naming the file, the field and
what is allowed.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.spec.files import bundled_files, package_data, read_toml, resolve_bundled
from ioc_sim.spec.parameters import PARAMETERS, unknown_name_error
from ioc_sim.spec.schema import check_keys, text, whole
from ioc_sim.validation import statistics as stats
from ioc_sim.validation.arms import REPLICATES, ArmSpec, model_keywords

PATTERN_KEYS = (
    "id",
    "claim",
    "source",
    "scenario",
    "use",
    "criterion",
    "value",
    "detail",
    "breaker",
    "replicates",
    "arms",
    "statistics",
    "criteria",
)
ARM_KEYS = (
    "scenario",
    "set",
    "months",
    "replicates",
    "drop_events",
    "change_events",
    "organisations",
)
#: The targets a criterion can set: a number, or one of the intervals.
TARGETS = ("target", "at_least", "at_most", "above", "below", "between")
CRITERION_KEYS = ("statistic", *TARGETS, "times", "tolerance", "source")
#: The bundled patterns file of docs/patterns.md.
DEFAULT = "literature"


@dataclass(frozen=True)
class Criterion:
    """One thing a pattern requires of a statistic.

    Attributes:
        statistic: The statistic it is about.
        target: ``"target"`` (a number), ``"at_least"``, ``"at_most"``, ``"above"``,
            ``"below"`` (strict) or ``"between"`` (both ends included).
        bound: The number, the interval ``(low, high)``, or the name of another
            statistic (scaled by ``times``).
        times: The factor on a statistic bound.
        tolerance: How far outside its target the statistic may still be.
        source: Where the target comes from.
    """

    statistic: str
    target: str
    bound: float | tuple[float, float] | str
    times: float = 1.0
    tolerance: float = 0.0
    source: str = ""

    def limit(self, stat) -> float | tuple[float, float]:
        """The bound as numbers, with a statistic bound read through ``stat``."""
        if isinstance(self.bound, str):
            return self.times * stat(self.bound)
        return self.bound

    def holds(self, s: float, stat) -> bool:
        """Whether the statistic's value ``s`` meets the criterion."""
        b, t = self.limit(stat), self.tolerance
        if self.target == "target":
            return abs(s - b) <= t
        if self.target == "between":
            low, high = b
            return (low - t if t else low) <= s <= (high + t if t else high)
        if t:
            b = b - t if self.target in ("at_least", "above") else b + t
        return {
            "at_least": s >= b,
            "above": s > b,
            "at_most": s <= b,
            "below": s < b,
        }[self.target]

    def miss(self, s: float, stat) -> float:
        """How far ``s`` is from the target: 0 inside an interval (widened by the
        tolerance), the distance outside it; for a number, the distance to it."""
        b, t = self.limit(stat), self.tolerance
        if self.target == "target":
            return abs(s - b)
        if self.target == "between":
            return max(0.0, b[0] - t - s, s - b[1] - t)
        if self.target in ("at_least", "above"):
            return max(0.0, b - t - s)
        return max(0.0, s - b - t)


@dataclass(frozen=True)
class Pattern:
    """A pattern of a patterns file, as an executable check.

    Attributes:
        id: Its id ("P1"), unique among the patterns loaded together.
        claim: The pattern in words.
        source: Where the pattern comes from.
        scenario: The named scenario it is checked on.
        criterion: The check and its tolerance, in words.
        use: What the pattern is used for (validation of which submodel).
        arms: Its simulated arms, by name.
        statistics: Its statistics, by name (parsed tables).
        criteria: What must hold.
        value: The statistic reported as the pattern's number.
        detail: The sentence reporting the check, with ``{statistic}`` fields.
        breaker: Parameter values that deliberately break the mechanism behind it.
        path: The file it came from.
    """

    id: str
    claim: str
    source: str
    scenario: str
    criterion: str
    use: str
    arms: dict[str, ArmSpec]
    statistics: dict[str, dict[str, Any]]
    criteria: tuple[Criterion, ...]
    value: str
    detail: str
    breaker: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def order(self) -> list[str]:
        """The statistics in an order that computes every input before its use."""
        done: list[str] = []

        def visit(name: str) -> None:
            if name not in done:
                for dep in stats.inputs(self.statistics[name]):
                    visit(dep)
                done.append(name)

        for name in self.statistics:
            visit(name)
        return done


def _parameters(table: Any, fld: str) -> dict[str, Any]:
    """Parameter values (``set``, ``breaker``), each checked by its declaration."""
    if not isinstance(table, dict):
        raise ConfigError(fld, f"got {table!r}; allowed: a table of parameter values")
    out = {}
    for name, value in table.items():
        if name not in PARAMETERS:
            raise unknown_name_error(name, list(PARAMETERS), "parameter").with_prefix(fld)
        try:
            out[name] = PARAMETERS[name].validate(value)
        except ConfigError as err:
            raise ConfigError(f"{fld}.{name}", err.message) from None
    return out


def _kinds(value: Any, fld: str, present: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
        raise ConfigError(fld, f"got {value!r}; allowed: a list of event kinds")
    for k, kind in enumerate(value):
        if kind not in present:
            shown = ", ".join(repr(p) for p in present) or "none"
            raise ConfigError(
                f"{fld}[{k}]", f"got {kind!r}; allowed: a kind of the scenario's events: {shown}"
            )
    return tuple(value)


def _edits(value: Any, fld: str, present: list[str], what: str) -> dict[str, dict[str, Any]]:
    """``{name = {field = value}}`` tables whose names must be among ``present``."""
    if not isinstance(value, dict) or any(not isinstance(v, dict) for v in value.values()):
        raise ConfigError(fld, f"got {value!r}; allowed: {{NAME = {{field = value, ...}}}}")
    for name in value:
        if name not in present:
            shown = ", ".join(repr(p) for p in present) or "none"
            raise ConfigError(f"{fld}.{name}", f"unknown {what}; allowed: {shown}")
    return {k: dict(v) for k, v in value.items()}


def _arm(name: str, table: Any, scenario: str, replicates: int, fld: str) -> ArmSpec:
    from ioc_sim.experiments.replicates import validate_kwargs
    from ioc_sim.experiments.scenarios import load_scenario

    if not isinstance(table, dict):
        raise ConfigError(fld, f"got {table!r}; allowed: a table, such as {{ months = 60 }}")
    check_keys(table, ARM_KEYS, fld, "key of an arm")
    scenario = table.get("scenario", scenario)
    try:
        sc = load_scenario(text(scenario, f"{fld}.scenario"))
    except ConfigError as err:
        raise ConfigError(f"{fld}.scenario", str(err)) from None
    kinds = list(dict.fromkeys(e.get("kind") for e in sc.events or []))
    ids = [o.get("id") for o in sc.organisations or [] if o.get("id")]
    spec = ArmSpec(
        name,
        scenario,
        _parameters(table.get("set", {}), f"{fld}.set"),
        whole(table["months"], f"{fld}.months", 1, 1200) if "months" in table else None,
        whole(table.get("replicates", replicates), f"{fld}.replicates", 2, 100000),
        _kinds(table.get("drop_events", []), f"{fld}.drop_events", kinds),
        _edits(table.get("change_events", {}), f"{fld}.change_events", kinds, "event kind"),
        _edits(table.get("organisations", {}), f"{fld}.organisations", ids, "organisation id"),
    )
    # Whatever the model would refuse is refused here, naming the arm.
    try:
        validate_kwargs(model_keywords(scenario, spec.overrides({}), spec.months)[0])
    except ConfigError as err:
        raise ConfigError(fld, str(err)) if err.source else err.with_prefix(fld) from None
    return spec


def _criterion(table: Any, names: list[str], fld: str) -> Criterion:
    if not isinstance(table, dict):
        raise ConfigError(fld, f"got {table!r}; allowed: a table with a statistic and a target")
    check_keys(table, CRITERION_KEYS, fld, "key of a criterion")
    stat = table.get("statistic")
    if stat not in names:
        raise ConfigError(
            f"{fld}.statistic",
            f"got {stat!r}; allowed: a statistic of the pattern: " + ", ".join(names),
        )
    given = [k for k in TARGETS if k in table]
    if len(given) != 1:
        raise ConfigError(
            fld, f"got {len(given)} targets; allowed: exactly one of " + ", ".join(TARGETS)
        )
    target = given[0]
    bound = table[target]
    at = f"{fld}.{target}"
    if target == "between":
        ok = (
            isinstance(bound, list)
            and len(bound) == 2
            and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bound)
        )
        if not ok or bound[0] > bound[1]:
            raise ConfigError(at, f"got {bound!r}; allowed: [low, high], two numbers, low first")
        bound = (float(bound[0]), float(bound[1]))
    elif isinstance(bound, str) and target != "target":
        if bound not in names or bound == stat:
            raise ConfigError(
                at,
                f"got {bound!r}; allowed: a number or another statistic: "
                + ", ".join(n for n in names if n != stat),
            )
    elif isinstance(bound, bool) or not isinstance(bound, int | float):
        raise ConfigError(
            at,
            f"got {bound!r}; allowed: a number"
            + ("" if target == "target" else " or another statistic"),
        )
    else:
        bound = float(bound)
    times = table.get("times", 1.0)
    if "times" in table and not isinstance(bound, str):
        raise ConfigError(f"{fld}.times", "allowed only when the target is another statistic")
    if isinstance(times, bool) or not isinstance(times, int | float):
        raise ConfigError(f"{fld}.times", f"got {times!r}; allowed: a number")
    tol = table.get("tolerance", 0.0)
    if isinstance(tol, bool) or not isinstance(tol, int | float) or not tol >= 0:
        raise ConfigError(f"{fld}.tolerance", f"got {tol!r}; allowed: a number from 0 up")
    source = table.get("source", "")
    if not isinstance(source, str):
        raise ConfigError(f"{fld}.source", f"got {source!r}; allowed: text")
    return Criterion(stat, target, bound, float(times), float(tol), source)


def _check_detail(detail: str, names: list[str], fld: str) -> None:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(detail) if f is not None]
        for f in fields:
            if f not in names:
                raise ConfigError(
                    fld, f"{{{f}}} is not a statistic of the pattern; allowed: " + ", ".join(names)
                )
        detail.format(**dict.fromkeys(names, 0.5))
    except (ValueError, IndexError, KeyError) as err:
        raise ConfigError(
            fld, f"cannot be formatted ({err}); write fields as {{statistic}} or {{statistic:.2f}}"
        ) from None


def parse_pattern(table: Any, fld: str, path: Path | None = None) -> Pattern:
    """Check one ``[[pattern]]`` table and build its :class:`Pattern`.

    Raises:
        ConfigError: Naming the field and what is allowed.
    """
    if not isinstance(table, dict):
        raise ConfigError(fld, f"got {table!r}; allowed: a table")
    check_keys(table, PATTERN_KEYS, fld, "key of a pattern")
    for key in ("id", "claim", "scenario"):
        if key not in table:
            raise ConfigError(f"{fld}.{key}", "missing; allowed: non-empty text")
        text(table[key], f"{fld}.{key}")
    words = {k: table.get(k, "") for k in ("source", "use", "criterion")}
    for key, value in words.items():
        if not isinstance(value, str):
            raise ConfigError(f"{fld}.{key}", f"got {value!r}; allowed: text")
    replicates = whole(table.get("replicates", REPLICATES), f"{fld}.replicates", 2, 100000)
    arms_in = table.get("arms")
    if not isinstance(arms_in, dict) or not arms_in:
        raise ConfigError(
            f"{fld}.arms", "missing; allowed: a table of arms, such as [pattern.arms] base = {}"
        )
    arms = {
        name: _arm(name, t, table["scenario"], replicates, f"{fld}.arms.{name}")
        for name, t in arms_in.items()
    }
    raw = table.get("statistics")
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{fld}.statistics", "missing; allowed: a table of named statistics")
    statistics = {
        name: stats.parse_statistic(name, t, arms, raw, f"{fld}.statistics.{name}")
        for name, t in raw.items()
    }
    for name, spec in statistics.items():
        if "from_event" in spec and arms[spec["arm"]].event_month(spec["from_event"]) is None:
            a = arms[spec["arm"]]
            kinds = ", ".join(dict.fromkeys(repr(e.get("kind")) for e in a.events())) or "none"
            raise ConfigError(
                f"{fld}.statistics.{name}.from_event",
                f"got {spec['from_event']!r}; allowed: a kind of the events of the arm's "
                f"scenario ({a.scenario}): {kinds}",
            )
    names = list(statistics)
    crit_in = table.get("criteria")
    if not isinstance(crit_in, list) or not crit_in:
        raise ConfigError(f"{fld}.criteria", "missing; allowed: one or more [[pattern.criteria]]")
    criteria = tuple(_criterion(c, names, f"{fld}.criteria[{k}]") for k, c in enumerate(crit_in))
    value = table.get("value", criteria[0].statistic)
    if value not in names:
        raise ConfigError(f"{fld}.value", f"got {value!r}; allowed: one of " + ", ".join(names))
    detail = table.get("detail", ", ".join(f"{n} {{{n}:.4g}}" for n in names))
    text(detail, f"{fld}.detail")
    _check_detail(detail, names, f"{fld}.detail")
    pattern = Pattern(
        id=table["id"],
        claim=table["claim"],
        source=words["source"],
        scenario=table["scenario"],
        criterion=words["criterion"],
        use=words["use"],
        arms=arms,
        statistics=statistics,
        criteria=criteria,
        value=value,
        detail=detail,
        breaker=_parameters(table.get("breaker", {}), f"{fld}.breaker"),
        path=path,
    )
    _no_cycle(pattern, fld)
    return pattern


def _no_cycle(pattern: Pattern, fld: str) -> None:
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name) == 1:
            raise ConfigError(
                f"{fld}.statistics.{name}",
                "combines itself through other "
                "statistics; allowed: statistics that do not depend on it",
            )
        if state.get(name) == 2:
            return
        state[name] = 1
        for dep in stats.inputs(pattern.statistics[name]):
            visit(dep)
        state[name] = 2

    for name in pattern.statistics:
        visit(name)


def patterns_dir() -> Path:
    """The folder of bundled patterns files (``experiments/patterns/``)."""
    return package_data("experiments", "patterns")


def bundled_patterns_files() -> list[Path]:
    """The bundled patterns files, sorted by name."""
    return bundled_files(patterns_dir(), "patterns files")


def resolve_patterns_path(path: str | Path | None) -> Path:
    """A patterns file as given, the bundled one of that name, or the default."""
    return resolve_bundled(DEFAULT if path is None else path, patterns_dir())


def _read(path: str | Path | None) -> list[Pattern]:
    p = resolve_patterns_path(path)
    source = str(path if path is not None else p)
    names = ", ".join(f.stem for f in bundled_patterns_files()) or "none"
    if p.is_dir():
        raise ConfigError("", f"no such patterns file (bundled: {names})", source)
    data = read_toml(p, source, f"no such patterns file (bundled: {names})")
    try:
        check_keys(data, ("pattern",), "", "table (a patterns file holds [[pattern]] tables)")
        tables = data.get("pattern")
        if not isinstance(tables, list) or not tables:
            raise ConfigError("pattern", "missing; allowed: one or more [[pattern]] tables")
        return [parse_pattern(t, f"pattern[{k}]", p) for k, t in enumerate(tables)]
    except ConfigError as err:
        raise err.with_source(source) from None


def load_patterns(paths: str | Path | list[str | Path] | None = None) -> list[Pattern]:
    """Load and check patterns files (default: the bundled literature patterns).

    Args:
        paths: A patterns file, the name of a bundled one, or a list of them; their
            patterns are checked together, in order.

    Raises:
        ConfigError: Naming the file, the field and what is allowed, also for an id
            that two patterns share.
    """
    items = paths if isinstance(paths, list) else [paths]
    patterns: list[Pattern] = []
    seen: dict[str, Path | None] = {}
    for item in items:
        for k, p in enumerate(_read(item)):
            if p.id in seen:
                raise ConfigError(
                    f"pattern[{k}].id",
                    f"{p.id!r} is already the id of a pattern in {seen[p.id]}; allowed: a new id",
                    str(item),
                )
            seen[p.id] = p.path
            patterns.append(p)
    return patterns


@lru_cache(maxsize=1)
def _bundled() -> tuple[Pattern, ...]:
    return tuple(load_patterns())


def bundled() -> list[Pattern]:
    """The patterns of docs/patterns.md (the bundled literature patterns file)."""
    return list(_bundled())
