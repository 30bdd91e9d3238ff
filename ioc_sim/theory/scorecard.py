"""Testing the programme theory: hypotheses as data, and a scorecard.

A *theory file* (TOML, ``experiments/theories/programme_theory.toml``) writes the realist
programme theory as data: the constructs and which model parameters or outcomes
stand for them, signed hypotheses (context-mechanism-outcome links), the claimed
importance of constructs as tiers, and claimed context x mechanism interactions.
:func:`score_theory` scores it against the results of a designed experiment:

* **hypotheses** - the effect of the cause's instrument on the effect's outcome,
  from a linear regression of design-row means on every numeric factor (each factor
  scaled to its sampled range, so a coefficient is the change in the outcome from
  the low to the high end of the cause), with a t interval. A verdict: *supported*
  (interval excludes zero, stated sign), *contradicted* (excludes zero, other sign)
  or *no detectable effect*. A cause with no instrument in the design falls back on
  a rank correlation with its measured outcome (an association, flagged as such);
* **directional agreement** - the share of tested hypotheses supported, with a
  Wilson interval (``scipy.stats.binomtest``);
* **importance** - Kendall's tau-b between theorised tiers and total-order Sobol'
  indices (SALib), with a parametric bootstrap interval drawn from SALib's own
  bootstrap intervals, and the top-down concordance coefficient with Savage scores
  (Iman and Conover 1987);
* **interactions** - the Sobol' second-order index of each claimed pair (when the
  design has it), ST - S1 of both, and a moderation model (the regression above
  plus the centred product term);
* **prediction** - a surrogate restricted to the theory's constructs, with the
  theory's signs as monotone constraints, against an unconstrained one on every
  factor (scikit-learn's ``HistGradientBoostingRegressor``), both scored by
  out-of-sample R^2 on held-out clusters of context space (``GroupKFold`` over
  ``KMeans`` clusters);
* **where the theory fails** - rows whose performance is well below (or above)
  the theory surrogate's out-of-fold prediction are compared with the rest by
  Monte Carlo filtering (``scipy.stats.ks_2samp`` per factor) and described by
  PRIM boxes (Friedman and Fisher 1999), stated in the constructs' own words.

Everything is a function of the results folder and the theory file; random
choices (bootstrap, clusters, boosting) are seeded from the experiment's root seed.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.spec.files import bundled_dir, read_toml
from ioc_sim.spec.parameters import PARAMETERS, unknown_name_error

VERDICTS = ("supported", "contradicted", "no detectable effect", "not tested")
SIGNS = {"+": 1, "-": -1}
STATUSES = ("stated", "inferred")
TOP_LEVEL = ("theory", "constructs", "hypotheses", "importance", "interactions")
THEORY_KEYS = ("name", "question", "experiment", "target", "alpha", "description")
CONSTRUCT_KEYS = ("label", "parameters", "outcome", "description")
HYPOTHESIS_KEYS = ("id", "statement", "cause", "effect", "sign", "context", "status", "source")
INTERACTION_KEYS = ("id", "statement", "context", "mechanism", "outcome", "sign", "source")
#: Share of rows in each tail that counts as performing well below / above expectation.
TAIL = 0.2
#: Settings of both boosted surrogates (the same, so only features and constraints differ).
BOOSTING = {"max_iter": 100, "max_leaf_nodes": 15, "learning_rate": 0.1}
#: PRIM describes the failure region with at most this many factors, those that Monte
#: Carlo filtering separates most (largest KS distance), so that boxes stay readable.
PRIM_FACTORS = 4
#: A box limit is put into words only if it trims at least this share of the factor's range.
WORDS_MIN_TRIM = 0.10


# ----------------------------------------------------------------- the theory as data
@dataclass(frozen=True)
class Construct:
    """What stands for a construct of the theory in the model.

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
    constructs: dict[str, Construct]
    hypotheses: list[Hypothesis]
    tiers: list[list[str]]
    importance_outcome: str
    interactions: list[Interaction]
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def _text(value: Any, fld: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(fld, f"got {value!r}; allowed: non-empty text")
    return value


def _sign(value: Any, fld: str, allow_zero: bool = False) -> int:
    allowed = ("+", "-", "0") if allow_zero else ("+", "-")
    if value not in allowed:
        raise ConfigError(fld, f"got {value!r}; allowed: one of "
                          + ", ".join(repr(a) for a in allowed))
    return SIGNS.get(value, 0)


def _check_keys(table: dict[str, Any], allowed: tuple[str, ...], fld: str, what: str) -> None:
    for key in table:
        if key not in allowed:
            err = unknown_name_error(key, allowed, what)
            raise err.with_prefix(fld) if fld else err


def _construct_ref(name: Any, constructs: dict[str, Construct], fld: str) -> str:
    if not isinstance(name, str) or name not in constructs:
        raise unknown_name_error(str(name), list(constructs), "construct (declare it under "
                                 "[constructs])").with_prefix(fld) if isinstance(name, str) \
            else ConfigError(fld, f"got {name!r}; allowed: a construct name")
    return name


def parse_theory(data: dict[str, Any], path: Path | None = None) -> Theory:
    """Validate parsed TOML data and return a :class:`Theory`.

    Raises:
        ConfigError: Naming the field and what is allowed (without the file).
    """
    from ioc_sim.model.metrics import METRICS

    _check_keys(data, TOP_LEVEL, "", "table")
    head = data.get("theory", {})
    if not isinstance(head, dict):
        raise ConfigError("theory", "must be a table: [theory]")
    _check_keys(head, THEORY_KEYS, "theory", "field")
    alpha = head.get("alpha", 0.05)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 0.5:
        raise ConfigError("theory.alpha", f"got {alpha!r}; allowed: a number between 0 and 0.5")
    experiment = head.get("experiment")
    if experiment is not None:
        _text(experiment, "theory.experiment")

    raw_constructs = data.get("constructs")
    if not isinstance(raw_constructs, dict) or not raw_constructs:
        raise ConfigError("constructs", "missing; allowed: one or more [constructs.NAME] tables "
                          "with parameters = [..] and/or outcome = \"..\"")
    constructs: dict[str, Construct] = {}
    for name, spec in raw_constructs.items():
        fld = f"constructs.{name}"
        if not isinstance(spec, dict):
            raise ConfigError(fld, "must be a table with parameters and/or outcome")
        _check_keys(spec, CONSTRUCT_KEYS, fld, "field")
        params = spec.get("parameters", [])
        if not isinstance(params, list):
            raise ConfigError(f"{fld}.parameters", f"got {params!r}; allowed: a list of "
                              "parameter names")
        for k, p in enumerate(params):
            if not isinstance(p, str) or p not in PARAMETERS:
                raise unknown_name_error(str(p), list(PARAMETERS), "parameter").with_prefix(
                    f"{fld}.parameters[{k}]")
        outcome = spec.get("outcome")
        if outcome is not None:
            _text(outcome, f"{fld}.outcome")
        if not params and outcome is None:
            raise ConfigError(fld, "names neither parameters nor an outcome; allowed: "
                              "parameters = [..] (what moves it) and/or outcome = \"..\" "
                              "(what measures it)")
        label = _text(spec.get("label", name.replace("_", " ")), f"{fld}.label")
        constructs[name] = Construct(name, label, tuple(params), outcome)

    hyps: list[Hypothesis] = []
    raw_h = data.get("hypotheses", [])
    if not isinstance(raw_h, list) or not raw_h:
        raise ConfigError("hypotheses", "missing; allowed: one or more [[hypotheses]] tables")
    seen: set[str] = set()
    for k, h in enumerate(raw_h):
        fld = f"hypotheses[{k}]"
        if not isinstance(h, dict):
            raise ConfigError(fld, "must be a table")
        _check_keys(h, HYPOTHESIS_KEYS, fld, "field")
        for key in ("id", "statement", "cause", "effect", "sign"):
            if key not in h:
                raise ConfigError(f"{fld}.{key}", "missing; every hypothesis needs id, "
                                  "statement, cause, effect and sign")
        hid = _text(h["id"], f"{fld}.id")
        if hid in seen:
            raise ConfigError(f"{fld}.id", f"{hid!r} is used twice; allowed: a distinct id")
        seen.add(hid)
        cause = _construct_ref(h["cause"], constructs, f"{fld}.cause")
        effect = _construct_ref(h["effect"], constructs, f"{fld}.effect")
        if constructs[effect].outcome is None:
            raise ConfigError(f"{fld}.effect", f"construct {effect!r} has no outcome that "
                              "measures it; allowed: a construct with outcome = \"..\"")
        status = h.get("status", "stated")
        if status not in STATUSES:
            raise ConfigError(f"{fld}.status", f"got {status!r}; allowed: 'stated' or "
                              "'inferred'")
        context = h.get("context", {})
        if not isinstance(context, dict):
            raise ConfigError(f"{fld}.context", f"got {context!r}; allowed: a table "
                              "{parameter = [low, high]}")
        ctx = {}
        for key, rng in context.items():
            cfld = f"{fld}.context.{key}"
            if key in constructs and constructs[key].parameters:
                key = constructs[key].parameters[0]
            if key not in PARAMETERS or PARAMETERS[key].kind == "choice":
                raise unknown_name_error(key, [n for n, p in PARAMETERS.items()
                                               if p.kind != "choice"],
                                         "numeric parameter").with_prefix(f"{fld}.context")
            ok = (isinstance(rng, list) and len(rng) == 2
                  and all(isinstance(v, int | float) and not isinstance(v, bool) for v in rng)
                  and rng[0] < rng[1])
            if not ok:
                raise ConfigError(cfld, f"got {rng!r}; allowed: [low, high] with low < high")
            ctx[key] = (float(rng[0]), float(rng[1]))
        hyps.append(Hypothesis(hid, _text(h["statement"], f"{fld}.statement"), cause, effect,
                               _sign(h["sign"], f"{fld}.sign"), ctx, status,
                               str(h.get("source", ""))))

    target = head.get("target", "collaborative_performance")
    target = _construct_ref(target, constructs, "theory.target")
    if constructs[target].outcome is None:
        raise ConfigError("theory.target", f"construct {target!r} has no outcome")

    imp = data.get("importance", {})
    if not isinstance(imp, dict):
        raise ConfigError("importance", "must be a table: [importance]")
    _check_keys(imp, ("outcome", "tiers"), "importance", "field")
    tiers = imp.get("tiers", [])
    if not isinstance(tiers, list) or any(not isinstance(t, list) or not t for t in tiers):
        raise ConfigError("importance.tiers", f"got {tiers!r}; allowed: a list of non-empty "
                          "lists of construct names, most important first")
    ranked: set[str] = set()
    for a, tier in enumerate(tiers):
        for b, name in enumerate(tier):
            fld = f"importance.tiers[{a}][{b}]"
            _construct_ref(name, constructs, fld)
            if not constructs[name].parameters:
                raise ConfigError(fld, f"construct {name!r} has no parameters, so no Sobol' "
                                  "index; allowed: a construct with parameters = [..]")
            if name in ranked:
                raise ConfigError(fld, f"{name!r} is ranked twice")
            ranked.add(name)
    imp_outcome = _construct_ref(imp.get("outcome", target), constructs, "importance.outcome")

    inters: list[Interaction] = []
    raw_i = data.get("interactions", [])
    if not isinstance(raw_i, list):
        raise ConfigError("interactions", "allowed: [[interactions]] tables")
    for k, it in enumerate(raw_i):
        fld = f"interactions[{k}]"
        if not isinstance(it, dict):
            raise ConfigError(fld, "must be a table")
        _check_keys(it, INTERACTION_KEYS, fld, "field")
        for key in ("id", "context", "mechanism", "outcome"):
            if key not in it:
                raise ConfigError(f"{fld}.{key}", "missing; every interaction needs id, "
                                  "context, mechanism and outcome")
        names = {}
        for key in ("context", "mechanism"):
            names[key] = _construct_ref(it[key], constructs, f"{fld}.{key}")
            if not constructs[names[key]].parameters:
                raise ConfigError(f"{fld}.{key}", f"construct {names[key]!r} has no parameters;"
                                  " allowed: a construct with parameters = [..]")
        outcome = _construct_ref(it["outcome"], constructs, f"{fld}.outcome")
        inters.append(Interaction(_text(it["id"], f"{fld}.id"),
                                  str(it.get("statement", "")), names["context"],
                                  names["mechanism"], outcome,
                                  _sign(it.get("sign", "0"), f"{fld}.sign", allow_zero=True),
                                  str(it.get("source", ""))))
    # Outcomes named by constructs must be experiment outcomes or metrics; checked
    # against the results when scoring, but a typo of a metric is caught here.
    for c in constructs.values():
        if c.outcome is not None and not c.outcome.replace("_", "").isalnum():
            raise ConfigError(f"constructs.{c.name}.outcome", f"got {c.outcome!r}; allowed: "
                              f"an outcome name such as {next(iter(METRICS))!r}")
    return Theory(name=str(head.get("name", path.stem if path else "theory")),
                  question=str(head.get("question", "")), experiment=experiment,
                  target=target, alpha=float(alpha), constructs=constructs, hypotheses=hyps,
                  tiers=[list(t) for t in tiers], importance_outcome=imp_outcome,
                  interactions=inters, path=path, raw=data)


def theory_dir() -> Path:
    """The folder of bundled theory files (``experiments/theories/`` beside the package).

    Theory files live in their own subfolder: they are not experiment specs, and
    the experiment commands list and load every ``experiments/*.toml``.
    """
    return bundled_dir("experiments", "theories")


def resolve_theory_path(path: str | Path | None) -> Path:
    """A theory file as given, the bundled one of that name, or the default."""
    if path is None:
        return theory_dir() / "programme_theory.toml"
    p = Path(path)
    if p.exists() or p.suffix:
        return p
    candidate = theory_dir() / f"{p.name}.toml"
    return candidate if candidate.exists() else p


def load_theory(path: str | Path | None = None) -> Theory:
    """Load and validate a theory file (default: the bundled programme theory).

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


# ----------------------------------------------------------------- statistics
@dataclass
class Effect:
    """An estimated effect with its interval and verdict."""

    estimate: float
    low: float
    high: float
    n: int
    verdict: str
    standardised: float = math.nan
    method: str = ""


def verdict_of(sign: int, low: float, high: float) -> str:
    """Supported, contradicted or no detectable effect, from a confidence interval."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "no detectable effect"
    if low > 0 or high < 0:
        return "supported" if (low > 0) == (sign > 0) else "contradicted"
    return "no detectable effect"


def ols(X: np.ndarray, y: np.ndarray, alpha: float = 0.05
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ordinary least squares with an intercept.

    Returns:
        Coefficients (without the intercept) and the lower and upper ends of
        their ``1 - alpha`` t intervals (classical standard errors).
    """
    from scipy import stats

    n = len(y)
    A = np.column_stack([np.ones(n), X])
    beta, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ beta
    df = n - A.shape[1]
    if df <= 0:
        nan = np.full(X.shape[1], math.nan)
        return beta[1:], nan, nan
    sigma2 = float(resid @ resid) / df
    cov = sigma2 * np.linalg.pinv(A.T @ A)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))[1:]
    t = stats.t.ppf(1 - alpha / 2, df)
    return beta[1:], beta[1:] - t * se, beta[1:] + t * se


def regression_effect(X: np.ndarray, y: np.ndarray, j: int, sign: int,
                      alpha: float = 0.05) -> Effect:
    """Effect of column ``j`` of ``X`` on ``y``, holding the other columns linear."""
    coef, lo, hi = ols(X, y, alpha)
    sd = float(np.std(y, ddof=1)) if len(y) > 1 else math.nan
    return Effect(float(coef[j]), float(lo[j]), float(hi[j]), len(y),
                  verdict_of(sign, lo[j], hi[j]), float(coef[j]) / sd if sd else math.nan,
                  "regression")


def association_effect(x: np.ndarray, y: np.ndarray, sign: int, alpha: float = 0.05) -> Effect:
    """Spearman's rank correlation with a Fisher-z interval.

    The standard error ``1.06 / sqrt(n - 3)`` is that of Fieller, Hartley and
    Pearson (1957) for Spearman's rho.
    """
    from scipy import stats

    n = len(x)
    rho = float(stats.spearmanr(x, y).statistic) if n > 3 else math.nan
    if not np.isfinite(rho) or n <= 3:
        return Effect(math.nan, math.nan, math.nan, n, "no detectable effect", method="assoc")
    z = np.arctanh(np.clip(rho, -0.999999, 0.999999))
    half = stats.norm.ppf(1 - alpha / 2) * 1.06 / math.sqrt(n - 3)
    lo, hi = float(np.tanh(z - half)), float(np.tanh(z + half))
    return Effect(rho, lo, hi, n, verdict_of(sign, lo, hi), rho, "association")


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (Wilson 1927), via scipy."""
    from scipy import stats

    if n == 0:
        return math.nan, math.nan
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def savage_scores(importance: np.ndarray) -> np.ndarray:
    """Savage scores of importance values (larger = more important), ties averaged.

    The item ranked ``i`` (1 = most important) of ``n`` scores
    ``sum_{j=i}^{n} 1/j`` (Iman and Conover 1987); tied items share the mean of
    the scores of the ranks they span.
    """
    from scipy import stats

    x = np.asarray(importance, dtype=float)
    n = len(x)
    table = np.cumsum(1.0 / np.arange(n, 0, -1))[::-1]  # table[i-1] = sum_{j=i}^n 1/j
    ranks = stats.rankdata(-x, method="ordinal")
    groups = stats.rankdata(-x, method="min")
    scores = table[ranks - 1]
    out = np.empty(n)
    for g in np.unique(groups):
        mask = groups == g
        out[mask] = scores[mask].mean()
    return out


def top_down_concordance(a: np.ndarray, b: np.ndarray) -> float:
    """Top-down concordance coefficient of two importance vectors (Iman and Conover 1987).

    ``(sum_i S_a,i S_b,i - n) / (n - S_1)`` with Savage scores ``S`` and
    ``S_1 = sum_{j=1}^n 1/j``: 1 for identical rankings, weighting agreement on
    the most important items most.
    """
    n = len(a)
    s1 = float(np.sum(1.0 / np.arange(1, n + 1)))
    sa, sb = savage_scores(a), savage_scores(b)
    return float((sa @ sb - n) / (n - s1))


def rank_agreement(theory_score: np.ndarray, st: np.ndarray, st_conf: np.ndarray,
                   n_boot: int = 2000, seed: int = 0, alpha: float = 0.05) -> dict[str, float]:
    """Kendall's tau-b (with a parametric bootstrap interval) and top-down concordance.

    The bootstrap redraws each total-order index from a normal distribution whose
    95% half-width is SALib's bootstrap confidence ``st_conf``, so the interval
    carries the estimation uncertainty of the indices into tau.
    """
    from scipy import stats

    theory_score = np.asarray(theory_score, float)
    st = np.asarray(st, float)
    tau = float(stats.kendalltau(theory_score, st).statistic)
    rng = np.random.default_rng(seed)
    sd = np.nan_to_num(np.asarray(st_conf, float) / 1.96)
    taus = []
    for _ in range(n_boot):
        draw = st + rng.normal(size=len(st)) * sd
        taus.append(stats.kendalltau(theory_score, draw).statistic)
    taus = np.asarray(taus, float)
    taus = taus[np.isfinite(taus)]
    lo, hi = (np.quantile(taus, [alpha / 2, 1 - alpha / 2]) if len(taus)
              else (math.nan, math.nan))
    return {"kendall_tau": tau, "tau_low": float(lo), "tau_high": float(hi),
            "top_down": top_down_concordance(theory_score, st), "n": len(st)}


def moderation(X: np.ndarray, y: np.ndarray, i: int, j: int, alpha: float = 0.05
               ) -> tuple[float, float, float]:
    """Coefficient of the centred product of columns ``i`` and ``j`` added to the regression."""
    prod = (X[:, i] - X[:, i].mean()) * (X[:, j] - X[:, j].mean())
    coef, lo, hi = ols(np.column_stack([X, prod]), y, alpha)
    return float(coef[-1]), float(lo[-1]), float(hi[-1])


# ----------------------------------------------------------------- PRIM
@dataclass
class Box:
    """A PRIM box: limits per dimension and how it scores.

    Attributes:
        limits: (low, high) per column; the full range where not restricted.
        mean: Mean of the target inside the box (density, for a 0/1 target).
        support: Share of the points inside the box.
        coverage: Share of the target's total inside the box (for a 0/1 target,
            the share of the cases of interest that the box captures).
        restricted: Indices of the columns the box restricts.
        trajectory: (support, mean) after each peel.
    """

    limits: np.ndarray
    mean: float
    support: float
    coverage: float
    restricted: list[int]
    trajectory: list[tuple[float, float]]


def prim_box(X: np.ndarray, y: np.ndarray, alpha: float = 0.05,
             min_support: float = 0.05, min_gain: float = 0.05) -> Box:
    """Find one box of high mean ``y`` by PRIM top-down peeling.

    Friedman and Fisher (1999), "Bump hunting in high-dimensional data",
    Statistics and Computing 9:123-143: repeatedly remove the ``alpha`` share of
    the remaining points at the low or high end of one column, choosing the peel
    that most raises the mean of ``y`` inside, until the box would hold less than
    ``min_support`` of the points; return the largest box along that trajectory
    whose mean is within ``min_gain`` (relative) of the highest. Restrictions are
    then dropped one at a time, cheapest first, while the mean stays within
    ``min_gain`` of the box's own, for a box that is easier to read.
    (A small implementation: the light PRIM package on PyPI is GPL-licensed and
    the EMA Workbench brings heavy dependencies; see the README.)
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    n, d = X.shape
    full = np.column_stack([X.min(axis=0), X.max(axis=0)])
    limits = full.copy()
    inside = np.ones(n, bool)
    total = y.sum()
    traj = [(1.0, float(y.mean()))]
    boxes = [(float(y.mean()), limits.copy(), inside.copy())]
    while inside.sum() / n > min_support:
        cand = None
        xi, yi = X[inside], y[inside]
        for j in range(d):
            for side in (0, 1):
                q = np.quantile(xi[:, j], alpha if side == 0 else 1 - alpha)
                keep = xi[:, j] >= q if side == 0 else xi[:, j] <= q
                # A peel that removes nothing (ties) or everything is no peel.
                if keep.all() or not keep.any() or keep.sum() / n < min_support:
                    continue
                m = yi[keep].mean()
                if cand is None or m > cand[0]:
                    cand = (m, j, side, q, keep)
        if cand is None:
            break
        m, j, side, q, keep = cand
        limits[j, side] = q
        idx = np.flatnonzero(inside)
        inside[idx[~keep]] = False
        traj.append((float(inside.sum() / n), float(m)))
        boxes.append((float(m), limits.copy(), inside.copy()))
    # The largest box whose mean is within min_gain of the trajectory's peak: peeling on
    # past it buys a little density with a smaller, more complicated box.
    peak = max(b[0] for b in boxes)
    best = next(b for b in boxes if b[0] >= peak * (1 - min_gain))
    mean, lim, ins = best
    # Greedily drop the restriction whose removal costs least, while the mean stays
    # within min_gain of the peak: fewer restrictions read better as a region.
    while True:
        restricted = [j for j in range(d) if not np.allclose(lim[j], full[j])]
        trials = []
        for j in restricted:
            trial = lim.copy()
            trial[j] = full[j]
            tin = np.all((X >= trial[:, 0]) & (X <= trial[:, 1]), axis=1)
            trials.append((float(y[tin].mean()), j, trial, tin))
        if not trials:
            break
        tm, j, trial, tin = max(trials, key=lambda t: t[0])
        if tm < best[0] * (1 - min_gain):  # measured from the chosen box, not the last trial
            break
        lim, ins, mean = trial, tin, tm
    restricted = [j for j in range(d) if not np.allclose(lim[j], full[j])]
    cov = float(y[ins].sum() / total) if total else math.nan
    return Box(lim, float(mean), float(ins.mean()), cov, restricted, traj)


def describe_box(box: Box, names: list[str], labels: dict[str, str],
                 bounds: dict[str, tuple[float, float]]) -> str:
    """The box in the theory's words: "low data sharing (<= 0.25) and high financial
    pressure (>= 0.7)"."""
    parts = []
    for j in box.restricted:
        name = names[j]
        label = labels.get(name, name.replace("_", " "))
        low, high = bounds.get(name, (box.limits[j, 0], box.limits[j, 1]))
        lo, hi = box.limits[j]
        span = high - low if high > low else 1.0
        # Trims of under a tenth of the range are PRIM's noise, not a region worth naming;
        # they stay in the limits (prim_boxes.csv).
        cut_low, cut_high = (lo - low) / span > WORDS_MIN_TRIM, (high - hi) / span > WORDS_MIN_TRIM
        if cut_low and cut_high:
            parts.append(f"{label} between {lo:.2f} and {hi:.2f}")
        elif cut_high:
            # "low" only when the box keeps at most the lower two thirds of the range.
            word = "low" if (high - hi) / span >= 1 / 3 else "not the highest"
            parts.append(f"{word} {label} (<= {hi:.2f})")
        elif cut_low:
            word = "high" if (lo - low) / span >= 1 / 3 else "not the lowest"
            parts.append(f"{word} {label} (>= {lo:.2f})")
    return " and ".join(parts) if parts else "anywhere (no region stands out)"


# ----------------------------------------------------------------- surrogates
def theory_features(theory: Theory, factors: list[str]) -> dict[str, int]:
    """Design factors that the theory links, directly or through a chain, to its target,
    with the sign of the link (0 where paths disagree)."""
    edges: dict[str, list[tuple[str, int]]] = {}
    for h in theory.hypotheses:
        edges.setdefault(h.cause, []).append((h.effect, h.sign))
    signs: dict[str, set[int]] = {}

    def walk(node: str, sign: int, seen: tuple[str, ...]) -> None:
        for nxt, s in edges.get(node, []):
            if nxt in seen:
                continue
            if nxt == theory.target:
                signs.setdefault(seen[0], set()).add(sign * s)
            walk(nxt, sign * s, (*seen, nxt))

    for start in edges:
        walk(start, 1, (start,))
    out: dict[str, int] = {}
    for construct, ss in signs.items():
        for p in theory.constructs[construct].parameters:
            if p in factors:
                # Paths of opposite sign leave the direction open: no monotone constraint.
                s = next(iter(ss)) if len(ss) == 1 else 0
                out[p] = s if p not in out or out[p] == s else 0
    return out


def context_groups(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Clusters of context space (k-means on the scaled factors) used as held-out groups."""
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(X)


def surrogate_comparison(X: np.ndarray, y: np.ndarray, names: list[str],
                         theory_signs: dict[str, int], groups: np.ndarray, seed: int
                         ) -> tuple[pd.DataFrame, np.ndarray]:
    """Out-of-sample R^2 on held-out context clusters, theory-constrained vs unconstrained.

    Returns:
        A table (one row per surrogate: pooled and per-fold R^2) and the theory
        surrogate's out-of-fold predictions.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score
    from sklearn.model_selection import GroupKFold

    cols = [names.index(n) for n in theory_signs]
    cst = [theory_signs[n] for n in theory_signs]
    models = {
        "theory (constructs, monotone in the stated signs)":
            (cols, lambda: HistGradientBoostingRegressor(monotonic_cst=cst, random_state=seed,
                                                         **BOOSTING)),
        "theory (constructs, linear)": (cols, LinearRegression),
        "unconstrained (all factors)":
            (list(range(len(names))),
             lambda: HistGradientBoostingRegressor(random_state=seed, **BOOSTING)),
    }
    folds = GroupKFold(n_splits=len(np.unique(groups)))
    rows, theory_pred = [], None
    for label, (c, make) in models.items():
        if not c:
            rows.append({"surrogate": label, "features": 0, "r2_pooled": math.nan,
                         "r2_mean": math.nan, "r2_min": math.nan})
            continue
        pred = np.empty_like(y)
        per = []
        for train, test in folds.split(X, y, groups):
            m = make().fit(X[train][:, c], y[train])
            pred[test] = m.predict(X[test][:, c])
            per.append(r2_score(y[test], pred[test]) if len(test) > 1 else math.nan)
        rows.append({"surrogate": label, "features": len(c),
                     "r2_pooled": float(r2_score(y, pred)), "r2_mean": float(np.nanmean(per)),
                     "r2_min": float(np.nanmin(per))})
        if theory_pred is None:
            theory_pred = pred
    return pd.DataFrame(rows), theory_pred


def mc_filter(X: np.ndarray, mask: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Monte Carlo filtering: Kolmogorov-Smirnov distance of each factor between the
    rows in ``mask`` and the rest (``scipy.stats.ks_2samp``)."""
    from scipy import stats

    rows = []
    for j, name in enumerate(names):
        if mask.sum() < 2 or (~mask).sum() < 2:
            rows.append({"factor": name, "ks": math.nan, "p": math.nan})
            continue
        r = stats.ks_2samp(X[mask, j], X[~mask, j])
        rows.append({"factor": name, "ks": float(r.statistic), "p": float(r.pvalue),
                     "median_in": float(np.median(X[mask, j])),
                     "median_rest": float(np.median(X[~mask, j]))})
    return pd.DataFrame(rows).sort_values("ks", ascending=False)


# ----------------------------------------------------------------- the scorecard
@dataclass
class Scorecard:
    """The tables and headline numbers of a theory test (also written to disk)."""

    out: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    headline: dict[str, Any] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def sobol_for(res, frame: pd.DataFrame, outcomes: list[str], seed: int
              ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """SALib's S1, ST (and S2 when sampled) of the named outcomes only.

    The whole design's indices are ``ioc-sim experiment analyse``'s job; the
    scorecard needs only the importance and interaction outcomes, and SALib's
    bootstrap of S2 is the slow part.
    """
    from SALib.analyze import sobol

    from ioc_sim.experiments.sensitivity import problem_from_manifest

    problem = problem_from_manifest(res.manifest)
    calc = bool(res.manifest["options"].get("second_order"))
    if len(frame) != int(res.manifest["design_rows"]):
        raise ConfigError("", "Sobol' indices need every design row; the results are "
                          "incomplete (resume the experiment first)", str(res.path))
    frame = frame.sort_values("row")
    rows, s2_rows = [], []
    names = problem["names"]
    for name in outcomes:
        y = frame[name].to_numpy(float)
        if np.ptp(y) == 0:
            continue
        si = sobol.analyze(problem, y, calc_second_order=calc, seed=seed)
        for j, f in enumerate(names):
            rows.append({"outcome": name, "factor": f, "S1": si["S1"][j],
                         "S1_conf": si["S1_conf"][j], "ST": si["ST"][j],
                         "ST_conf": si["ST_conf"][j]})
        if calc:
            for a in range(len(names)):
                for b in range(a + 1, len(names)):
                    s2_rows.append({"outcome": name, "factor_a": names[a], "factor_b": names[b],
                                    "S2": si["S2"][a, b], "S2_conf": si["S2_conf"][a, b]})
    return pd.DataFrame(rows), (pd.DataFrame(s2_rows) if s2_rows else None)


def _design_matrix(res) -> tuple[pd.DataFrame, np.ndarray, list[str], dict]:
    """Row means joined to numeric factor values scaled to their sampled ranges."""
    means = res.row_means()
    design = res.design.set_index("row")
    bounds, names = {}, []
    for f in res.manifest["factors"]:
        if f.get("kind") in ("float", "int"):
            names.append(f["name"])
            bounds[f["name"]] = (float(f["low"]), float(f["high"]))
    frame = means.join(design[names], on="row")
    X = np.column_stack([(frame[n].astype(float) - lo) / ((hi - lo) or 1.0)
                         for n, (lo, hi) in ((n, bounds[n]) for n in names)]) \
        if names else np.empty((len(frame), 0))
    return frame, X, names, bounds


def score_theory(theory: Theory, results: str | Path, out: str | Path,
                 figures: bool = True) -> Scorecard:
    """Score a theory against an experiment's results and write the scorecard.

    Args:
        theory: The loaded theory.
        results: An experiment results folder (``ioc-sim experiment run``).
        out: Folder for the tables, figures, ``summary.md`` and ``scorecard.json``.
        figures: Also draw PNG figures.

    Raises:
        ConfigError: If an outcome the theory names is not in the results.
    """
    from ioc_sim.experiments.results import load_results

    res = load_results(results)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    card = Scorecard(out)
    seed = int(res.manifest.get("root_seed", 0)) % (2**32)
    frame, X, names, bounds = _design_matrix(res)
    outcomes = set(res.outcomes)
    for c in theory.constructs.values():
        if c.outcome is not None and c.outcome not in outcomes:
            raise ConfigError(f"constructs.{c.name}.outcome", f"{c.outcome!r} is not an outcome "
                              f"of the experiment; allowed: " + ", ".join(sorted(outcomes)),
                              str(theory.path) if theory.path else None)
    if not len(frame):
        raise ConfigError("", "the results hold no finished runs", str(results))
    alpha = theory.alpha
    method = res.manifest.get("method", "")
    design_text = (f"{method} design, {len(frame)} rows x {res.manifest.get('replicates')} "
                   f"replicates (row means)")

    # --- hypotheses
    rows = []
    for h in theory.hypotheses:
        cause, effect = theory.constructs[h.cause], theory.constructs[h.effect]
        y_all = frame[effect.outcome].to_numpy(float)
        mask = np.ones(len(frame), bool)
        reason = ""
        for key, (lo, hi) in h.context.items():
            if key not in names:
                reason = f"context {key} is not varied by the design"
                break
            v = frame[key].astype(float).to_numpy()
            mask &= (v >= lo) & (v <= hi)
        instrument = next((p for p in cause.parameters if p in names), None)
        if reason:
            eff, how = None, reason
        elif instrument is not None:
            if mask.sum() <= X.shape[1] + 2:
                eff, how = None, "too few design rows in the context"
            else:
                eff = regression_effect(X[mask], y_all[mask], names.index(instrument), h.sign,
                                        alpha)
                how = f"regression on {instrument} ({design_text}"
                how += f"; {mask.sum()} rows in context)" if h.context else ")"
        elif cause.outcome is not None and cause.outcome in outcomes:
            eff = association_effect(frame[cause.outcome].to_numpy(float)[mask], y_all[mask],
                                     h.sign, alpha)
            how = f"rank association of {cause.outcome} with {effect.outcome} (not an " \
                  f"intervention; {design_text})"
        else:
            eff, how = None, f"no parameter of {h.cause} is varied by the design"
        row = {"id": h.id, "statement": h.statement, "cause": h.cause, "effect": h.effect,
               "expected_sign": "+" if h.sign > 0 else "-",
               "context": "; ".join(f"{k} in [{lo:g}, {hi:g}]"
                                    for k, (lo, hi) in h.context.items()),
               "status": h.status, "source": h.source,
               "outcome_sd": float(np.std(y_all[mask], ddof=1)) if mask.sum() > 1 else math.nan}
        if eff is None:
            row.update(estimate=math.nan, ci_low=math.nan, ci_high=math.nan, standardised=math.nan,
                       n=0, verdict="not tested", design=how)
        else:
            row.update(estimate=eff.estimate, ci_low=eff.low, ci_high=eff.high,
                       standardised=eff.standardised, n=eff.n, verdict=eff.verdict, design=how)
        rows.append(row)
    hyp = pd.DataFrame(rows)
    card.tables["hypotheses"] = hyp
    tested = hyp[hyp["verdict"] != "not tested"]
    k = int((tested["verdict"] == "supported").sum())
    lo, hi = wilson_interval(k, len(tested), 1 - alpha)
    card.headline["agreement"] = {
        "supported": k, "tested": int(len(tested)),
        "contradicted": int((tested["verdict"] == "contradicted").sum()),
        "no_effect": int((tested["verdict"] == "no detectable effect").sum()),
        "share": k / len(tested) if len(tested) else math.nan,
        "wilson_low": lo, "wilson_high": hi,
        "by_status": {s: {"supported": int((tested[tested.status == s].verdict
                                            == "supported").sum()),
                          "tested": int((tested.status == s).sum())} for s in STATUSES}}

    # --- importance and interactions (Sobol' designs)
    si_tables = None
    if method == "sobol":
        needed = {theory.constructs[theory.importance_outcome].outcome} | {
            theory.constructs[it.outcome].outcome for it in theory.interactions}
        si, s2 = sobol_for(res, frame, sorted(n for n in needed if n in outcomes), seed)
        si_tables = (si, s2)
        card.tables["sobol"] = si
        if s2 is not None:
            card.tables["sobol_s2"] = s2
    if theory.tiers and si_tables is not None:
        imp_outcome = theory.constructs[theory.importance_outcome].outcome
        si = si_tables[0]
        si = si[si["outcome"] == imp_outcome].set_index("factor")
        imp_rows = []
        for t, tier in enumerate(theory.tiers):
            for name in tier:
                ps = [p for p in theory.constructs[name].parameters if p in si.index]
                if not ps:
                    continue
                best = max(ps, key=lambda p: si.loc[p, "ST"])
                imp_rows.append({"construct": name, "label": theory.constructs[name].label,
                                 "tier": t + 1, "parameter": best,
                                 "ST": float(si.loc[best, "ST"]),
                                 "ST_conf": float(si.loc[best, "ST_conf"]),
                                 "S1": float(si.loc[best, "S1"])})
        imp = pd.DataFrame(imp_rows)
        if len(imp) >= 3 and imp["ST"].notna().all():
            imp["ST_rank"] = imp["ST"].rank(ascending=False)
            card.tables["importance"] = imp
            card.headline["importance"] = {
                "outcome": imp_outcome,
                **rank_agreement(-imp["tier"].to_numpy(float), imp["ST"].to_numpy(),
                                 imp["ST_conf"].to_numpy(), seed=seed, alpha=alpha)}
        else:
            card.notes.append("importance not scored: fewer than three ranked constructs "
                              "are factors of the design, or the indices are undefined")
    elif theory.tiers:
        card.notes.append(f"importance not scored: total-order indices need a Sobol' design "
                          f"(this one is {method})")

    inter_rows = []
    for it in theory.interactions:
        cp = next((p for p in theory.constructs[it.context].parameters if p in names), None)
        mp = next((p for p in theory.constructs[it.mechanism].parameters if p in names), None)
        yname = theory.constructs[it.outcome].outcome
        row = {"id": it.id, "statement": it.statement, "context": it.context,
               "mechanism": it.mechanism, "outcome": it.outcome,
               "expected_sign": {1: "+", -1: "-", 0: "any"}[it.sign]}
        if cp is None or mp is None or yname not in outcomes:
            row.update(verdict="not tested", design="a construct is not varied by the design")
            inter_rows.append(row)
            continue
        y = frame[yname].to_numpy(float)
        coef, clo, chi = moderation(X, y, names.index(cp), names.index(mp), alpha)
        if it.sign:
            verdict = verdict_of(it.sign, clo, chi)
        else:
            verdict = "supported" if (clo > 0 or chi < 0) else "no detectable effect"
        row.update(moderation=coef, ci_low=clo, ci_high=chi, verdict=verdict,
                   design=f"moderation model ({design_text})")
        if si_tables is not None:
            si = si_tables[0]
            si = si[si["outcome"] == yname].set_index("factor")
            for p, tag in ((cp, "context"), (mp, "mechanism")):
                row[f"ST_minus_S1_{tag}"] = float(si.loc[p, "ST"] - si.loc[p, "S1"])
            s2 = si_tables[1]
            if s2 is not None:
                sel = s2[(s2.outcome == yname) & (((s2.factor_a == cp) & (s2.factor_b == mp))
                                                  | ((s2.factor_a == mp) & (s2.factor_b == cp)))]
                if len(sel):
                    row["S2"] = float(sel["S2"].iloc[0])
                    row["S2_conf"] = float(sel["S2_conf"].iloc[0])
        inter_rows.append(row)
    if inter_rows:
        card.tables["interactions"] = pd.DataFrame(inter_rows)

    # --- prediction and where the theory fails
    target = theory.constructs[theory.target].outcome
    y = frame[target].to_numpy(float)
    signs = theory_features(theory, names)
    k_groups = int(min(5, max(2, len(frame) // 20)))
    if len(frame) >= 20 and X.shape[1] >= 1:
        groups = context_groups(X, k_groups, seed)
        sur, pred = surrogate_comparison(X, y, names, signs, groups, seed)
        card.tables["surrogates"] = sur
        card.headline["prediction"] = {"target": target, "held_out_groups": k_groups,
                                       "theory_features": signs,
                                       **{r["surrogate"]: r["r2_pooled"]
                                          for r in sur.to_dict("records")}}
        if pred is None:
            card.notes.append("no factor is linked to the target by the theory; residuals are "
                              "taken from the mean")
            pred = np.full_like(y, y.mean())
        resid = y - pred
        labels = {p: c.label for c in theory.constructs.values() for p in c.parameters}
        fail_rows, boxes = [], []
        for side, mask in (("below", resid <= np.quantile(resid, TAIL)),
                           ("above", resid >= np.quantile(resid, 1 - TAIL))):
            mc = mc_filter(X, mask, names)
            mc.insert(0, "side", side)
            mc["label"] = mc["factor"].map(lambda n: labels.get(n, n))
            # Back to parameter units for reading.
            for col in ("median_in", "median_rest"):
                if col in mc:
                    mc[col] = [bounds[f][0] + v * (bounds[f][1] - bounds[f][0])
                               for f, v in zip(mc["factor"], mc[col], strict=True)]
            fail_rows.append(mc)
            raw_all = frame[names].astype(float).to_numpy()
            top = [f for f, p in zip(mc["factor"], mc["p"], strict=True)
                   if p < alpha][:PRIM_FACTORS] or list(mc["factor"][:1])
            cols = [names.index(f) for f in top]
            box = prim_box(raw_all[:, cols], mask.astype(float), alpha=0.05, min_support=0.1)
            words = describe_box(box, top, labels, bounds)
            # Back to every factor (unrestricted outside the chosen ones) for the table.
            limits = np.column_stack([raw_all.min(axis=0), raw_all.max(axis=0)])
            limits[cols] = box.limits
            box = Box(limits, box.mean, box.support, box.coverage,
                      [cols[j] for j in box.restricted], box.trajectory)
            raw = raw_all
            boxes.append({"side": side, "region": words, "density": box.mean,
                          "base_rate": float(mask.mean()), "support": box.support,
                          "coverage": box.coverage,
                          "mean_target_in_box": float(y[np.all(
                              (raw >= box.limits[:, 0]) & (raw <= box.limits[:, 1]),
                              axis=1)].mean()),
                          "mean_residual_in_box": float(resid[np.all(
                              (raw >= box.limits[:, 0]) & (raw <= box.limits[:, 1]),
                              axis=1)].mean()),
                          **{f"{names[j]}_low": box.limits[j, 0] for j in box.restricted},
                          **{f"{names[j]}_high": box.limits[j, 1] for j in box.restricted}})
        card.tables["regional_sensitivity"] = pd.concat(fail_rows, ignore_index=True)
        card.tables["prim_boxes"] = pd.DataFrame(boxes)
        card.headline["failures"] = [{k: b[k] for k in ("side", "region", "density",
                                                        "base_rate", "support", "coverage")}
                                     for b in boxes]
        frame_out = frame[["row", *names]].copy()
        frame_out[target] = y
        frame_out["theory_prediction"] = pred
        frame_out["residual"] = resid
        card.tables["predictions"] = frame_out
    else:
        card.notes.append("prediction and failure regions need at least 20 design rows")

    card.headline.update(theory=theory.name, question=theory.question,
                         results=str(Path(results).resolve()), design=design_text,
                         alpha=alpha, seed=seed, target=target)
    _write(card, theory, figures)
    return card


# ----------------------------------------------------------------- writing
def _write(card: Scorecard, theory: Theory, figures: bool) -> None:
    out = card.out
    for name, df in card.tables.items():
        df.to_csv(out / f"{name}.csv", index=False)
    if theory.path is not None and theory.path.exists():
        if theory.path.resolve() != (out / "theory.toml").resolve():
            shutil.copyfile(theory.path, out / "theory.toml")
    if figures:
        card.figures = _figures(card)
    (out / "scorecard.json").write_text(json.dumps(_jsonable(
        {"headline": card.headline, "notes": card.notes,
         "figures": [p.name for p in card.figures]}), indent=2), encoding="utf-8")
    (out / "summary.md").write_text(summary_markdown(card), encoding="utf-8")


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


VERDICT_COLOURS = {"supported": "#1b7837", "contradicted": "#b2182b",
                   "no detectable effect": "#878787", "not tested": "#d9d9d9"}


def _figures(card: Scorecard) -> list[Path]:
    from ioc_sim.experiments.plotting import plt  # the files-only backend, set in one place

    paths = []
    hyp = card.tables["hypotheses"]
    h = hyp[hyp["verdict"] != "not tested"].iloc[::-1]
    if len(h):
        fig, ax = plt.subplots(figsize=(8, 0.32 * len(h) + 1.2))
        # Regression effects in SDs of their outcome; associations are already correlations.
        sd = h["outcome_sd"].where(~h["design"].str.startswith("rank"), 1.0)
        est, lo, hi = h["estimate"] / sd, h["ci_low"] / sd, h["ci_high"] / sd
        ypos = np.arange(len(h))
        for i, (_, r) in enumerate(h.iterrows()):
            c = VERDICT_COLOURS[r["verdict"]]
            ax.plot([lo.iloc[i], hi.iloc[i]], [i, i], color=c, lw=2)
            ax.plot(est.iloc[i], i, "o", color=c)
            ax.annotate(r["expected_sign"], (1.0, i), xycoords=("axes fraction", "data"),
                        xytext=(4, -3), textcoords="offset points", fontsize=8)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(ypos, [f"{r.id} {r.cause}->{r.effect}" for r in h.itertuples()],
                      fontsize=7)
        ax.set_xlabel("effect over the cause's range in SDs of the outcome, or rank "
                      "correlation (95% CI)")
        ax.set_title("Hypotheses: green supported, red contradicted, grey no effect", fontsize=9)
        fig.tight_layout()
        paths.append(out_path := card.out / "hypotheses.png")
        fig.savefig(out_path, dpi=110)
        plt.close(fig)
    imp = card.tables.get("importance")
    if imp is not None:
        fig, ax = plt.subplots(figsize=(7, 4))
        order = imp.sort_values("ST", ascending=True)
        colours = {1: "#2166ac", 2: "#67a9cf", 3: "#d1e5f0"}
        ax.barh(order["label"], order["ST"], xerr=order["ST_conf"],
                color=[colours.get(t, "#eeeeee") for t in order["tier"]], edgecolor="k")
        ax.set_xlabel(f"total-order Sobol' index for {card.headline['importance']['outcome']}")
        ax.set_title("Theorised tier (dark = tier 1) against simulated importance")
        fig.tight_layout()
        paths.append(p := card.out / "importance.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
    sur = card.tables.get("surrogates")
    if sur is not None:
        fig, ax = plt.subplots(figsize=(7, 2.6))
        ax.barh(sur["surrogate"], sur["r2_pooled"], color=["#2166ac", "#67a9cf", "#b2182b"])
        ax.set_xlabel("out-of-sample R^2 on held-out context clusters")
        ax.set_xlim(min(0, float(np.nanmin(sur["r2_pooled"]))), 1)
        fig.tight_layout()
        paths.append(p := card.out / "surrogates.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
    rs = card.tables.get("regional_sensitivity")
    if rs is not None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=False)
        for ax, side in zip(axes, ("below", "above"), strict=True):
            t = rs[rs["side"] == side].head(8).iloc[::-1]
            ax.barh(t["label"], t["ks"], color=["#b2182b" if p < 0.01 else "#bbbbbb"
                                                  for p in t["p"]])
            ax.set_title(f"performance {side} the theory's expectation", fontsize=9)
            ax.set_xlabel("KS distance (red: p < 0.01)")
        fig.tight_layout()
        paths.append(p := card.out / "regional_sensitivity.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
    return paths


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def summary_markdown(card: Scorecard) -> str:
    """The scorecard as Markdown: headline numbers, then the tables."""
    h = card.headline
    lines = [f"# Theory scorecard: {h.get('theory')}", ""]
    if h.get("question"):
        lines += [f"Question: {h['question']}", ""]
    lines += [f"Results: `{h.get('results')}` ({h.get('design')}); significance level "
              f"{h.get('alpha')}; analysis seed {h.get('seed')}.", ""]
    a = h["agreement"]
    lines += ["## Directional agreement", "",
              f"{a['supported']} of {a['tested']} tested hypotheses supported "
              f"({_fmt(a['share'], 2)}, Wilson {int(100 * (1 - h['alpha']))}% interval "
              f"{_fmt(a['wilson_low'], 2)}-{_fmt(a['wilson_high'], 2)}); "
              f"{a['contradicted']} contradicted, {a['no_effect']} with no detectable effect.",
              ""]
    for s, v in a["by_status"].items():
        lines.append(f"- {s}: {v['supported']} of {v['tested']} supported")
    lines += ["", "## Hypotheses", "",
              "| id | statement | sign | context | effect (95% CI) | SD units | verdict |",
              "|---|---|---|---|---|---|---|"]
    for r in card.tables["hypotheses"].itertuples():
        ci = (f"{_fmt(r.estimate)} ({_fmt(r.ci_low)}, {_fmt(r.ci_high)})"
              if r.verdict != "not tested" else r.design)
        lines.append(f"| {r.id} | {r.statement} | {r.expected_sign} | {r.context or '-'} | "
                     f"{ci} | {_fmt(r.standardised, 2)} | **{r.verdict}** |")
    lines += ["", "Design of each estimate: see `hypotheses.csv` (column `design`).", ""]
    lines += ["## Theorised importance against total-order Sobol' indices", ""]
    if "importance" in h:
        i = h["importance"]
        lines += [f"Outcome {i['outcome']}, {i['n']} constructs: Kendall's tau-b "
                  f"{_fmt(i['kendall_tau'], 2)} (bootstrap interval {_fmt(i['tau_low'], 2)} to "
                  f"{_fmt(i['tau_high'], 2)}); top-down concordance (Savage scores) "
                  f"{_fmt(i['top_down'], 2)}.", "",
                  "| construct | tier | parameter | ST (conf) | S1 | rank by ST |",
                  "|---|---|---|---|---|---|"]
        for r in card.tables["importance"].sort_values("ST", ascending=False).itertuples():
            lines.append(f"| {r.label} | {r.tier} | {r.parameter} | {_fmt(r.ST)} "
                         f"({_fmt(r.ST_conf)}) | {_fmt(r.S1)} | {int(r.ST_rank)} |")
    else:
        lines.append("Not scored (see notes).")
    lines += ["", "## Claimed interactions", ""]
    inter = card.tables.get("interactions")
    if inter is not None:
        lines += ["| id | context x mechanism -> outcome | sign | moderation (95% CI) | S2 | "
                  "ST-S1 (ctx, mech) | verdict |", "|---|---|---|---|---|---|---|"]
        for r in inter.to_dict("records"):
            mod = (f"{_fmt(r.get('moderation'))} ({_fmt(r.get('ci_low'))}, "
                   f"{_fmt(r.get('ci_high'))})")
            s2 = (f"{_fmt(r.get('S2'))} +/- {_fmt(r.get('S2_conf'))}" if "S2" in r else "-")
            st = (f"{_fmt(r.get('ST_minus_S1_context'))}, {_fmt(r.get('ST_minus_S1_mechanism'))}")
            lines.append(f"| {r['id']} | {r['context']} x {r['mechanism']} -> {r['outcome']} | "
                         f"{r['expected_sign']} | {mod} | {s2} | {st} | **{r['verdict']}** |")
    lines += ["", "## Predictive accuracy", ""]
    sur = card.tables.get("surrogates")
    if sur is not None:
        p = h["prediction"]
        lines += [f"Target {p['target']}; out-of-sample R^2 on {p['held_out_groups']} held-out "
                  "clusters of context space (each cluster predicted by a model fitted on the "
                  "others).", "", "| surrogate | factors | R^2 pooled | R^2 mean | R^2 worst |",
                  "|---|---|---|---|---|"]
        for r in sur.itertuples():
            lines.append(f"| {r.surrogate} | {r.features} | {_fmt(r.r2_pooled)} | "
                         f"{_fmt(r.r2_mean)} | {_fmt(r.r2_min)} |")
        lines += ["", "Theory's constructs used (sign as monotone constraint): "
                  + ", ".join(f"{k} ({'+' if v > 0 else '-' if v < 0 else '?'})"
                              for k, v in p["theory_features"].items())]
    lines += ["", "## Where the theory fails", ""]
    boxes = card.tables.get("prim_boxes")
    if boxes is not None:
        lines += [f"Rows in the lowest (highest) {int(TAIL * 100)}% of residuals from the theory "
                  "surrogate perform below (above) the theory's expectation. PRIM boxes:", ""]
        for b in boxes.to_dict("records"):
            lines.append(f"- **{b['side']} expectation** in: {b['region']} - "
                         f"{_fmt(b['density'], 2)} of rows there are {b['side']} expectation "
                         f"(base rate {_fmt(b['base_rate'], 2)}); the box holds "
                         f"{_fmt(b['support'], 2)} of the rows and "
                         f"{_fmt(b['coverage'], 2)} of those cases.")
        rs = card.tables["regional_sensitivity"]
        lines += ["", "Monte Carlo filtering (Kolmogorov-Smirnov distance between the rows "
                  "below expectation and the rest; top five):", ""]
        for r in rs[rs.side == "below"].head(5).itertuples():
            lines.append(f"- {r.label} ({r.factor}): D = {_fmt(r.ks, 2)}, p = {r.p:.2g}, "
                         f"median {_fmt(r.median_in, 2)} vs {_fmt(r.median_rest, 2)}")
    if card.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in card.notes]
    lines += ["", "How to read this scorecard: README.md, section \"Testing the theory\".", ""]
    return "\n".join(lines)


def run_theory_test(theory_path: str | Path | None = None, *,
                    experiment: str | Path | None = None, results: str | Path | None = None,
                    out: str | Path | None = None, workers: int = 1,
                    show_progress: bool = True, figures: bool = True) -> Scorecard:
    """Run (or reuse) the theory's experiment and write the scorecard.

    Args:
        theory_path: A theory file or bundled name (default the programme theory).
        experiment: An experiment to run instead of the theory's own.
        results: An existing results folder to score instead of running anything.
        out: Output folder (default ``results/<theory name>``); the experiment's
            results go to ``out/experiment`` (re-running resumes them).
        workers: Worker processes for the experiment.
        show_progress: Show the experiment's progress bar.
        figures: Also draw PNG figures.
    """
    from ioc_sim.experiments.execution import run_experiment
    from ioc_sim.experiments.spec import load_experiment

    theory = load_theory(theory_path)
    if experiment is not None and results is not None:
        raise ConfigError("--results", "give either --experiment or --results, not both")
    out = Path(out) if out is not None else Path("results") / theory.name
    if results is None:
        ref = experiment if experiment is not None else theory.experiment
        if ref is None:
            raise ConfigError("theory.experiment", "missing; allowed: an experiment file or "
                              "bundled name (or pass --experiment / --results)",
                              str(theory.path))
        exp = load_experiment(ref)
        results = out / "experiment"
        run_experiment(exp, results, workers=workers, show_progress=show_progress)
    return score_theory(theory, results, out, figures=figures)


__all__ = ["Box", "Construct", "Effect", "Hypothesis", "Interaction", "Scorecard", "Theory",
           "association_effect", "describe_box", "load_theory", "mc_filter", "moderation",
           "ols", "parse_theory", "prim_box", "rank_agreement", "regression_effect",
           "run_theory_test", "savage_scores", "score_theory", "surrogate_comparison",
           "theory_features", "top_down_concordance", "verdict_of", "wilson_interval",
           "asdict"]
