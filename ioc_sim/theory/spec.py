"""The programme theory as data: the theory file, parsed and validated.

A *theory file* (TOML, ``experiments/theories/programme_theory.toml``) writes the
realist programme theory as data:

* ``[theory]``: name, question, the experiment that tests it, the target outcome
  and the significance level;
* ``[constructs.NAME]``: what stands for each construct in the model, the
  parameters that move it (the first is its instrument) and the experiment
  outcome that measures it;
* ``[[hypotheses]]``: signed context-mechanism-outcome links between constructs;
* ``[importance]``: the claimed importance of constructs, as tiers;
* ``[[interactions]]``: claimed context x mechanism interactions on an outcome.

:func:`load_theory` reads a file (a path or a bundled name) and :func:`parse_theory`
checks its data; both refuse a mistake with a :class:`~ioc_sim.errors.ConfigError`
naming the field and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.spec.files import package_data, read_toml, resolve_bundled
from ioc_sim.spec.parameters import PARAMETERS, unknown_name_error
from ioc_sim.spec.schema import check_keys, declared_name, sign, text

#: How a hypothesis came into the theory: stated by its sources, or inferred from them.
HYPOTHESIS_STATUSES = ("stated", "inferred")
TOP_LEVEL = ("theory", "constructs", "hypotheses", "importance", "interactions")
THEORY_KEYS = ("name", "question", "experiment", "target", "alpha", "description")
CONSTRUCT_KEYS = ("label", "parameters", "outcome", "description")
HYPOTHESIS_KEYS = ("id", "statement", "cause", "effect", "sign", "context", "status", "source")
INTERACTION_KEYS = ("id", "statement", "context", "mechanism", "outcome", "sign", "source")


@dataclass(frozen=True)
class ConstructMapping:
    """What stands for a construct of the theory in the model (a ``[constructs.NAME]``
    table).

    Attributes:
        name: Key of the construct in the theory file.
        label: The construct in words ("data sharing").
        parameters: Model parameters that move it; the first is its instrument.
        outcome: Name of the experiment outcome that measures it, if any.
    """

    name: str
    label: str
    parameters: tuple[str, ...] = ()
    outcome: str | None = None


@dataclass(frozen=True)
class Hypothesis:
    """One signed link: moving ``cause`` up moves ``effect`` with ``sign``."""

    id: str
    statement: str
    cause: str
    effect: str
    sign: int
    context: dict[str, tuple[float, float]] = field(default_factory=dict)
    status: str = "stated"
    source: str = ""


@dataclass(frozen=True)
class Interaction:
    """A claimed context x mechanism interaction on an outcome."""

    id: str
    statement: str
    context: str
    mechanism: str
    outcome: str
    sign: int = 0
    source: str = ""


@dataclass
class Theory:
    """A loaded, validated theory file."""

    name: str
    question: str
    experiment: str | None
    target: str
    alpha: float
    constructs: dict[str, ConstructMapping]
    hypotheses: list[Hypothesis]
    tiers: list[list[str]]
    importance_outcome: str
    interactions: list[Interaction]
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def _construct(name: Any, constructs: dict[str, ConstructMapping], fld: str) -> str:
    return declared_name(name, constructs, fld, "construct", "[constructs]")


def _parse_head(data: dict[str, Any]) -> tuple[dict[str, Any], float, str | None]:
    """The ``[theory]`` table, its significance level and its experiment."""
    head = data.get("theory", {})
    if not isinstance(head, dict):
        raise ConfigError("theory", "must be a table: [theory]")
    check_keys(head, THEORY_KEYS, "theory", "field")
    alpha = head.get("alpha", 0.05)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 0.5:
        raise ConfigError("theory.alpha", f"got {alpha!r}; allowed: a number between 0 and 0.5")
    experiment = head.get("experiment")
    if experiment is not None:
        text(experiment, "theory.experiment")
    return head, alpha, experiment


def _parse_constructs(data: dict[str, Any]) -> dict[str, ConstructMapping]:
    raw = data.get("constructs")
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(
            "constructs",
            "missing; allowed: one or more [constructs.NAME] tables "
            'with parameters = [..] and/or outcome = ".."',
        )
    constructs: dict[str, ConstructMapping] = {}
    for name, spec in raw.items():
        fld = f"constructs.{name}"
        if not isinstance(spec, dict):
            raise ConfigError(fld, "must be a table with parameters and/or outcome")
        check_keys(spec, CONSTRUCT_KEYS, fld, "field")
        params = spec.get("parameters", [])
        if not isinstance(params, list):
            raise ConfigError(
                f"{fld}.parameters", f"got {params!r}; allowed: a list of parameter names"
            )
        for k, p in enumerate(params):
            if not isinstance(p, str) or p not in PARAMETERS:
                raise unknown_name_error(str(p), list(PARAMETERS), "parameter").with_prefix(
                    f"{fld}.parameters[{k}]"
                )
        outcome = spec.get("outcome")
        if outcome is not None:
            text(outcome, f"{fld}.outcome")
        if not params and outcome is None:
            raise ConfigError(
                fld,
                "names neither parameters nor an outcome; allowed: "
                'parameters = [..] (what moves it) and/or outcome = ".." '
                "(what measures it)",
            )
        label = text(spec.get("label", name.replace("_", " ")), f"{fld}.label")
        constructs[name] = ConstructMapping(name, label, tuple(params), outcome)
    return constructs


def _parse_context(
    context: Any, constructs: dict[str, ConstructMapping], fld: str
) -> dict[str, tuple[float, float]]:
    """A hypothesis's ``context``: parameter (or construct) ranges where it is claimed."""
    if not isinstance(context, dict):
        raise ConfigError(
            f"{fld}.context", f"got {context!r}; allowed: a table {{parameter = [low, high]}}"
        )
    ctx = {}
    for key, rng in context.items():
        cfld = f"{fld}.context.{key}"
        # A construct stands for its instrument, so a context can be written in the
        # theory's own words.
        if key in constructs and constructs[key].parameters:
            key = constructs[key].parameters[0]
        if key not in PARAMETERS or PARAMETERS[key].kind == "choice":
            raise unknown_name_error(
                key, [n for n, p in PARAMETERS.items() if p.kind != "choice"], "numeric parameter"
            ).with_prefix(f"{fld}.context")
        ok = (
            isinstance(rng, list)
            and len(rng) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in rng)
            and rng[0] < rng[1]
        )
        if not ok:
            raise ConfigError(cfld, f"got {rng!r}; allowed: [low, high] with low < high")
        ctx[key] = (float(rng[0]), float(rng[1]))
    return ctx


def _parse_hypotheses(
    data: dict[str, Any], constructs: dict[str, ConstructMapping]
) -> list[Hypothesis]:
    raw = data.get("hypotheses", [])
    if not isinstance(raw, list) or not raw:
        raise ConfigError("hypotheses", "missing; allowed: one or more [[hypotheses]] tables")
    hyps: list[Hypothesis] = []
    seen: set[str] = set()
    for k, h in enumerate(raw):
        fld = f"hypotheses[{k}]"
        if not isinstance(h, dict):
            raise ConfigError(fld, "must be a table")
        check_keys(h, HYPOTHESIS_KEYS, fld, "field")
        for key in ("id", "statement", "cause", "effect", "sign"):
            if key not in h:
                raise ConfigError(
                    f"{fld}.{key}",
                    "missing; every hypothesis needs id, statement, cause, effect and sign",
                )
        hid = text(h["id"], f"{fld}.id")
        if hid in seen:
            raise ConfigError(f"{fld}.id", f"{hid!r} is used twice; allowed: a distinct id")
        seen.add(hid)
        cause = _construct(h["cause"], constructs, f"{fld}.cause")
        effect = _construct(h["effect"], constructs, f"{fld}.effect")
        if constructs[effect].outcome is None:
            raise ConfigError(
                f"{fld}.effect",
                f"construct {effect!r} has no outcome that "
                'measures it; allowed: a construct with outcome = ".."',
            )
        status = h.get("status", "stated")
        if status not in HYPOTHESIS_STATUSES:
            raise ConfigError(f"{fld}.status", f"got {status!r}; allowed: 'stated' or 'inferred'")
        ctx = _parse_context(h.get("context", {}), constructs, fld)
        hyps.append(
            Hypothesis(
                hid,
                text(h["statement"], f"{fld}.statement"),
                cause,
                effect,
                sign(h["sign"], f"{fld}.sign"),
                ctx,
                status,
                str(h.get("source", "")),
            )
        )
    return hyps


def _parse_importance(
    data: dict[str, Any], constructs: dict[str, ConstructMapping], target: str
) -> tuple[list[list[str]], str]:
    """The ``[importance]`` table: tiers of constructs and the outcome they are ranked on."""
    imp = data.get("importance", {})
    if not isinstance(imp, dict):
        raise ConfigError("importance", "must be a table: [importance]")
    check_keys(imp, ("outcome", "tiers"), "importance", "field")
    tiers = imp.get("tiers", [])
    if not isinstance(tiers, list) or any(not isinstance(t, list) or not t for t in tiers):
        raise ConfigError(
            "importance.tiers",
            f"got {tiers!r}; allowed: a list of non-empty "
            "lists of construct names, most important first",
        )
    ranked: set[str] = set()
    for a, tier in enumerate(tiers):
        for b, name in enumerate(tier):
            fld = f"importance.tiers[{a}][{b}]"
            _construct(name, constructs, fld)
            if not constructs[name].parameters:
                raise ConfigError(
                    fld,
                    f"construct {name!r} has no parameters, so no Sobol' "
                    "index; allowed: a construct with parameters = [..]",
                )
            if name in ranked:
                raise ConfigError(fld, f"{name!r} is ranked twice")
            ranked.add(name)
    outcome = _construct(imp.get("outcome", target), constructs, "importance.outcome")
    return [list(t) for t in tiers], outcome


def _parse_interactions(
    data: dict[str, Any], constructs: dict[str, ConstructMapping]
) -> list[Interaction]:
    raw = data.get("interactions", [])
    if not isinstance(raw, list):
        raise ConfigError("interactions", "allowed: [[interactions]] tables")
    inters: list[Interaction] = []
    for k, it in enumerate(raw):
        fld = f"interactions[{k}]"
        if not isinstance(it, dict):
            raise ConfigError(fld, "must be a table")
        check_keys(it, INTERACTION_KEYS, fld, "field")
        for key in ("id", "context", "mechanism", "outcome"):
            if key not in it:
                raise ConfigError(
                    f"{fld}.{key}",
                    "missing; every interaction needs id, context, mechanism and outcome",
                )
        names = {}
        for key in ("context", "mechanism"):
            names[key] = _construct(it[key], constructs, f"{fld}.{key}")
            if not constructs[names[key]].parameters:
                raise ConfigError(
                    f"{fld}.{key}",
                    f"construct {names[key]!r} has no parameters;"
                    " allowed: a construct with parameters = [..]",
                )
        outcome = _construct(it["outcome"], constructs, f"{fld}.outcome")
        inters.append(
            Interaction(
                text(it["id"], f"{fld}.id"),
                str(it.get("statement", "")),
                names["context"],
                names["mechanism"],
                outcome,
                sign(it.get("sign", "0"), f"{fld}.sign", allow_zero=True),
                str(it.get("source", "")),
            )
        )
    return inters


def parse_theory(data: dict[str, Any], path: Path | None = None) -> Theory:
    """Validate parsed TOML data and return a :class:`Theory`.

    Args:
        data: The theory file as parsed TOML.
        path: The file it came from, if any (its stem names an unnamed theory).

    Raises:
        ConfigError: Naming the field and what is allowed (without the file).
    """
    # Only for the example in one message; the model layer loads the compiled engine.
    from ioc_sim.model.metrics import METRICS

    check_keys(data, TOP_LEVEL, "", "table")
    head, alpha, experiment = _parse_head(data)
    constructs = _parse_constructs(data)
    hyps = _parse_hypotheses(data, constructs)
    target = _construct(
        head.get("target", "collaborative_performance"), constructs, "theory.target"
    )
    if constructs[target].outcome is None:
        raise ConfigError("theory.target", f"construct {target!r} has no outcome")
    tiers, imp_outcome = _parse_importance(data, constructs, target)
    inters = _parse_interactions(data, constructs)
    # Outcomes named by constructs must be experiment outcomes or metrics; checked
    # against the results when scoring, but a typo of a metric is caught here.
    for c in constructs.values():
        if c.outcome is not None and not c.outcome.replace("_", "").isalnum():
            raise ConfigError(
                f"constructs.{c.name}.outcome",
                f"got {c.outcome!r}; allowed: an outcome name such as {next(iter(METRICS))!r}",
            )
    return Theory(
        name=str(head.get("name", path.stem if path else "theory")),
        question=str(head.get("question", "")),
        experiment=experiment,
        target=target,
        alpha=float(alpha),
        constructs=constructs,
        hypotheses=hyps,
        tiers=tiers,
        importance_outcome=imp_outcome,
        interactions=inters,
        path=path,
        raw=data,
    )


def theory_dir() -> Path:
    """The folder of bundled theory files (in a checkout, ``experiments/theories/``).

    Theory files live in their own subfolder: they are not experiment specs, and
    the experiment commands list and load every ``experiments/*.toml``.
    """
    return package_data("experiments", "theories")


def resolve_theory_path(path: str | Path | None) -> Path:
    """A theory file as given, the bundled one of that name, or the default."""
    if path is None:
        return theory_dir() / "programme_theory.toml"
    return resolve_bundled(path, theory_dir())


def load_theory(path: str | Path | None = None) -> Theory:
    """Load and validate a theory file (default: the bundled programme theory).

    Args:
        path: A theory file, or the name of a bundled one (``programme_theory``).

    Raises:
        ConfigError: Naming the file, the field and what is allowed.
    """
    p = resolve_theory_path(path)
    source = str(path if path is not None else p)
    if p.is_dir():
        raise ConfigError("", "no such theory file", source)
    data = read_toml(p, source, "no such theory file")
    try:
        return parse_theory(data, p)
    except ConfigError as err:
        raise err.with_source(source) from None
