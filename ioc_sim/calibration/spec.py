"""Calibration files: what is fitted, to which patterns, with what budget.

A *calibration file* (TOML, bundled in ``experiments/calibrations/``) has two tables:

* ``[calibration]``: ``name``, ``question``, the ``patterns`` files fitted to, the
  root ``seed``, the ABC-SMC budget (``population`` particles per generation after a
  ``prior_sample`` that fits the distance, at most ``generations``, stop below
  ``min_acceptance`` or before passing ``max_simulations``), the
  most ``replicates`` per arm while fitting, and ``predictive_draws`` (posterior draws
  whose patterns are checked afterwards with every arm's full replicates);
* ``[priors]``: which parameters are fitted, each with a uniform prior on its declared
  bounds (``[priors.bounds]`` may narrow them). Either a list (``parameters``), or by
  default the numeric mechanism parameters of status "assumption" that a Morris screening
  (``screening``: a bundled experiment run with the experiment runner, or
  ``screening_results``: an existing results folder) shows to matter: those whose
  mu* is at least ``threshold`` times the largest, for some outcome, at most
  ``max_parameters`` of them; ``include`` and ``exclude`` adjust the choice.

:func:`load_calibration` refuses a mistake with one line naming the file, the field
and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.spec.files import bundled_names, package_data, read_toml, resolve_bundled
from ioc_sim.spec.parameters import PARAMETERS, unknown_name_error
from ioc_sim.spec.schema import check_keys, number, text, whole

HEAD_KEYS = (
    "name",
    "question",
    "patterns",
    "seed",
    "population",
    "prior_sample",
    "generations",
    "min_acceptance",
    "max_simulations",
    "replicates",
    "predictive_draws",
)
PRIOR_KEYS = (
    "parameters",
    "screening",
    "screening_results",
    "threshold",
    "max_parameters",
    "include",
    "exclude",
    "bounds",
)
DEFAULT = "literature"


@dataclass(frozen=True)
class Calibration:
    """A loaded, checked calibration file.

    Attributes:
        name: Short name (default: the file's stem).
        question: What the calibration asks.
        patterns: Patterns files (paths or bundled names) fitted to.
        seed: Root of every random number of the calibration.
        population: Accepted particles per generation.
        prior_sample: Draws from the prior that fit the distance's scales and the first
            epsilon, before the first generation.
        generations: Most generations.
        min_acceptance: Stop after a generation that accepts a smaller share.
        max_simulations: Do not start a generation that would take the simulations, over
            all generations, past this many.
        replicates: Most replicates per arm while fitting (each arm's own number when
            smaller).
        predictive_draws: Posterior (and prior) draws whose patterns are checked with
            every arm's full replicates.
        parameters: Parameters fitted, if listed; else chosen by the screening.
        screening: The bundled Morris experiment whose results choose them.
        screening_results: An existing results folder of a Morris screening to read.
        threshold: Share of the largest mu* (for some outcome) a parameter must reach.
        max_parameters: At most this many chosen by the screening.
        include: Parameters always fitted.
        exclude: Parameters never fitted.
        bounds: Narrower prior bounds, by parameter.
        path: The file it came from.
        raw: The parsed file.
    """

    name: str
    question: str = ""
    patterns: tuple[str, ...] = ("literature",)
    seed: int = 20240
    population: int = 700
    prior_sample: int = 300
    generations: int = 6
    min_acceptance: float = 0.05
    max_simulations: int = 10000
    replicates: int = 16
    predictive_draws: int = 100
    parameters: tuple[str, ...] | None = None
    screening: str = "morris_all"
    screening_results: str | None = None
    threshold: float = 0.25
    max_parameters: int = 12
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def fittable(name: Any, fld: str) -> str:
    """A parameter that can be fitted (declared, numeric); otherwise an error."""
    if not isinstance(name, str) or name not in PARAMETERS:
        if isinstance(name, str):
            raise unknown_name_error(name, list(PARAMETERS), "parameter").with_prefix(fld)
        raise ConfigError(fld, f"got {name!r}; allowed: a parameter name")
    if PARAMETERS[name].kind != "float":
        raise ConfigError(
            fld,
            f"got {name!r} ({PARAMETERS[name].kind}); allowed: a parameter with numeric "
            "values (integer and categorical ones stay at their values)",
        )
    return name


def _names(value: Any, fld: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(fld, f"got {value!r}; allowed: a list of parameter names")
    names = tuple(fittable(v, f"{fld}[{k}]") for k, v in enumerate(value))
    if len(set(names)) != len(names):
        raise ConfigError(fld, "names repeat; allowed: each parameter once")
    return names


def _bounds(value: Any) -> dict[str, tuple[float, float]]:
    if not isinstance(value, dict):
        raise ConfigError("priors.bounds", "must be a table: [priors.bounds]")
    out = {}
    for name, b in value.items():
        at = f"priors.bounds.{name}"
        p = PARAMETERS[fittable(name, at)]
        if not isinstance(b, dict):
            raise ConfigError(at, f"got {b!r}; allowed: {{ low = .., high = .. }}")
        check_keys(b, ("low", "high"), at, "key of a prior's bounds")
        low = number(b.get("low", p.low), f"{at}.low", p.low, p.high)
        high = number(b.get("high", p.high), f"{at}.high", p.low, p.high)
        if not low < high:
            raise ConfigError(at, f"low {low:g}, high {high:g}; allowed: low below high")
        out[name] = (low, high)
    return out


def parse_calibration(data: dict[str, Any], name: str, path: Path | None = None) -> Calibration:
    """Check a calibration file's data and build a :class:`Calibration`.

    Raises:
        ConfigError: Naming the field (without the file; see :func:`load_calibration`).
    """
    check_keys(data, ("calibration", "priors"), "", "table")
    head, priors = data.get("calibration", {}), data.get("priors", {})
    for key, table in (("calibration", head), ("priors", priors)):
        if not isinstance(table, dict):
            raise ConfigError(key, f"must be a table: [{key}]")
    check_keys(head, HEAD_KEYS, "calibration", "field")
    check_keys(priors, PRIOR_KEYS, "priors", "field")
    d = Calibration(name)
    patterns = head.get("patterns", list(d.patterns))
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list) or not patterns:
        raise ConfigError(
            "calibration.patterns",
            f"got {patterns!r}; allowed: a list of patterns files or bundled names",
        )
    for k, p in enumerate(patterns):
        text(p, f"calibration.patterns[{k}]")
    if "parameters" in priors and any(
        k in priors for k in ("screening", "screening_results", "threshold", "max_parameters")
    ):
        raise ConfigError(
            "priors.parameters",
            "given with screening settings; allowed: either a list of parameters, or "
            "screening, screening_results, threshold and max_parameters to choose them",
        )
    screening = priors.get("screening", d.screening)
    text(screening, "priors.screening")
    results = priors.get("screening_results")
    if results is not None:
        text(results, "priors.screening_results")
    for key in ("name", "question"):
        if key in head and not isinstance(head[key], str):
            raise ConfigError(f"calibration.{key}", f"got {head[key]!r}; allowed: text")
    return Calibration(
        name=head.get("name", name),
        question=head.get("question", ""),
        patterns=tuple(patterns),
        seed=whole(head.get("seed", d.seed), "calibration.seed", 0, 2**32 - 1),
        population=whole(
            head.get("population", d.population), "calibration.population", 10, 100000
        ),
        prior_sample=whole(
            head.get("prior_sample", d.prior_sample), "calibration.prior_sample", 10, 100000
        ),
        generations=whole(
            head.get("generations", d.generations), "calibration.generations", 1, 100
        ),
        min_acceptance=number(
            head.get("min_acceptance", d.min_acceptance), "calibration.min_acceptance", 0.0, 1.0
        ),
        max_simulations=whole(
            head.get("max_simulations", d.max_simulations), "calibration.max_simulations", 10, 10**8
        ),
        replicates=whole(head.get("replicates", d.replicates), "calibration.replicates", 2, 100000),
        predictive_draws=whole(
            head.get("predictive_draws", d.predictive_draws),
            "calibration.predictive_draws",
            0,
            100000,
        ),
        parameters=_names(priors["parameters"], "priors.parameters")
        if "parameters" in priors
        else None,
        screening=screening,
        screening_results=results,
        threshold=number(priors.get("threshold", d.threshold), "priors.threshold", 0.0, 1.0),
        max_parameters=whole(
            priors.get("max_parameters", d.max_parameters), "priors.max_parameters", 1, 200
        ),
        include=_names(priors.get("include", []), "priors.include"),
        exclude=_names(priors.get("exclude", []), "priors.exclude"),
        bounds=_bounds(priors.get("bounds", {})),
        path=path,
        raw=data,
    )


def calibration_dir() -> Path:
    """The folder of bundled calibration files (``experiments/calibrations/``)."""
    return package_data("experiments", "calibrations")


def resolve_calibration_path(path: str | Path | None) -> Path:
    """A calibration file as given, the bundled one of that name, or the default."""
    return resolve_bundled(DEFAULT if path is None else path, calibration_dir())


def load_calibration(path: str | Path | None = None) -> Calibration:
    """Load and check a calibration file (default: the bundled ``literature``).

    Raises:
        ConfigError: Naming the file, the field and what is allowed.
    """
    p = resolve_calibration_path(path)
    source = str(path if path is not None else p)
    names = bundled_names(calibration_dir(), "calibration files")
    if p.is_dir():
        raise ConfigError("", f"no such calibration file ({names})", source)
    data = read_toml(p, source, f"no such calibration file ({names})")
    try:
        return parse_calibration(data, p.stem, p)
    except ConfigError as err:
        raise err.with_source(source) from None
