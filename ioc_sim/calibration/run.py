"""``ioc-sim calibrate``: ABC-SMC of the model's assumptions against the patterns.

:func:`calibrate` chooses the parameters (:mod:`~ioc_sim.calibration.screening`),
puts a uniform prior on each one's bounds, and runs pyabc's ABC-SMC: each generation
draws parameter values from the last one's particles (a multivariate normal kernel),
simulates every pattern's arms (:class:`~ioc_sim.calibration.simulator.PatternSimulator`),
and keeps the draws whose distance to the patterns
(:class:`~ioc_sim.calibration.distance.PatternDistance`) is within epsilon, the median
distance of the last generation. It stops after ``generations``, when a generation is accepted
at epsilon 0 (every particle reproduced every pattern), when fewer than
``min_acceptance`` of a generation's simulations are accepted, or before a
generation that would take the simulations past ``max_simulations`` (a budget in
simulations rather than minutes, so that the answer does not depend on the machine).

pyabc's history database (``OUT/history.db``) is the store: a calibration stopped
by Ctrl-C or a crash resumes from its last finished generation, with the same
candidates (:mod:`~ioc_sim.calibration.sampler`), so it ends where an uninterrupted
one would have. The outputs are then written by :mod:`~ioc_sim.calibration.outputs`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ioc_sim.calibration.spec import Calibration
from ioc_sim.errors import ConfigError
from ioc_sim.experiments.executors import CONNECT_TIMEOUT, open_executor
from ioc_sim.experiments.jsonfiles import write_json
from ioc_sim.experiments.provenance import git_commit, versions
from ioc_sim.spec.parameters import PARAMETERS
from ioc_sim.validation import load_patterns, resolve_patterns_path

#: What may change between runs into the same folder: a larger budget goes on from the
#: generations stored, as a run with that budget from the start would have.
BUDGET = ("generations", "min_acceptance", "max_simulations", "predictive_draws")


def default_out_dir(cal: Calibration) -> Path:
    """``results/calibration/<name>``: fixed, so that re-running resumes."""
    return Path("results") / "calibration" / cal.name


def shown(path: Path) -> str:
    """A file as provenance names it: a bundled one relative to the project's folder (so
    that it reads the same on every machine), any other as its absolute path."""
    from ioc_sim.calibration.spec import calibration_dir

    root = calibration_dir().resolve().parents[1]
    p = Path(path).resolve()
    return str(p.relative_to(root)) if p.is_relative_to(root) else str(p)


def sha256(path: Path) -> str:
    """The SHA-256 of a file, for provenance."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def priors(cal: Calibration, names: list[str]) -> dict[str, tuple[float, float]]:
    """Each fitted parameter's uniform prior bounds: declared, or narrowed in the file."""
    return {
        n: cal.bounds.get(n, (float(PARAMETERS[n].low), float(PARAMETERS[n].high))) for n in names
    }


def _fingerprint(
    cal: Calibration, bounds: dict[str, tuple[float, float]], files: list[Path]
) -> str:
    head = {k: v for k, v in cal.raw.get("calibration", {}).items() if k not in BUDGET}
    payload = {
        "raw": {**cal.raw, "calibration": head},
        "bounds": bounds,
        "patterns": [sha256(f) for f in files],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _open_manifest(out: Path, fingerprint: str) -> dict[str, Any]:
    path = out / "calibration.json"
    if not path.exists():
        return {}
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("fingerprint") != fingerprint:
        raise ConfigError(
            "--out",
            f"{out} holds another calibration ({manifest.get('name')!r}, "
            "other settings or patterns); allowed: the same calibration file and patterns "
            "to resume it, or another --out",
        )
    return manifest


def calibrate(
    cal: Calibration,
    out: Path | None = None,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Run (or resume) a calibration and write its outputs.

    Args:
        cal: The calibration file, loaded.
        out: Output folder (default: ``results/calibration/<name>``).
        workers: Worker processes (1 runs in-process); ignored with ``scheduler``.
        scheduler: A Dask scheduler address, or ``local:N``.
        connect_timeout: Seconds to wait for the scheduler to answer.
        show_progress: Show progress on stderr.

    Returns:
        The manifest (``calibration.json``).
    """
    from ioc_sim.calibration import outputs
    from ioc_sim.calibration.predictive import predictive_check
    from ioc_sim.calibration.screening import screen

    out = default_out_dir(cal) if out is None else Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError("--out", f"{out} exists and is not a folder")
    try:
        patterns = load_patterns(list(cal.patterns))
    except ConfigError as err:
        raise ConfigError("calibration.patterns", str(err)) from None
    files = [resolve_patterns_path(p) for p in cal.patterns]
    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    try:
        names, screening, choice = screen(
            cal,
            out,
            workers=workers,
            scheduler=scheduler,
            connect_timeout=connect_timeout,
            show_progress=show_progress,
        )
    except ConfigError:
        if made and not any(out.iterdir()):
            out.rmdir()  # an unreachable scheduler, say: leave nothing behind
        raise
    if not names:
        raise ConfigError(
            "priors",
            "no parameter to fit; allowed: a lower threshold, or parameters listed in [priors]",
        )
    screening.to_csv(out / "screening.csv", index=False)
    bounds = priors(cal, names)
    fingerprint = _fingerprint(cal, bounds, files)
    manifest = _open_manifest(out, fingerprint) or {
        "name": cal.name,
        "question": cal.question,
        "calibration_file": shown(cal.path) if cal.path else None,
        "calibration_sha256": sha256(cal.path) if cal.path else None,
        "calibration_contents": cal.raw,
        "patterns": [{"file": shown(f), "sha256": sha256(f)} for f in files],
        "pattern_ids": [p.id for p in patterns],
        "seed": cal.seed,
        "fingerprint": fingerprint,
        "started": datetime.now(UTC).isoformat(),
        "status": "running",
    }
    manifest.update(
        parameters={n: {"low": lo, "high": hi} for n, (lo, hi) in bounds.items()},
        parameter_choice=choice,
        git_commit=git_commit(),
        versions={**versions(), **_pyabc_version()},
        executor=f"dask {scheduler}" if scheduler else f"{workers} worker(s)",
    )
    write_json(out / "calibration.json", manifest)

    n_workers = (
        int(scheduler.split(":", 1)[1])
        if scheduler and scheduler.startswith("local:")
        else (8 if scheduler else workers)
    )
    with open_executor(workers, scheduler, connect_timeout) as executor:
        history, distance = fit(
            patterns,
            bounds,
            cal,
            out,
            executor,
            n_workers,
            show_progress=show_progress,
        )
        manifest["status"] = "finished"
        manifest["ended"] = datetime.now(UTC).isoformat()
        write_json(out / "calibration.json", manifest)
        posterior = outputs.write_history(history, names, bounds, out)
        predictive = None
        if cal.predictive_draws:
            predictive = predictive_check(
                patterns, posterior, bounds, cal, executor, show_progress=show_progress
            )
    manifest["distance"] = distance.table()
    summary = outputs.write_results(cal, manifest, history, posterior, bounds, predictive, out)
    manifest.update(summary, seconds_this_run=round(time.perf_counter() - t_start, 1))
    write_json(out / "calibration.json", manifest)
    return manifest


def fit(
    patterns: list,
    bounds: dict[str, tuple[float, float]],
    cal: Calibration,
    out: Path,
    executor,
    n_workers: int,
    *,
    show_progress: bool = True,
):
    """Run ABC-SMC (or resume it from ``OUT/history.db``) and return pyabc's history and
    the distance.

    Args:
        patterns: The patterns fitted to.
        bounds: Each fitted parameter's uniform prior bounds.
        cal: The calibration (its seed, budget and replicates).
        out: The folder of the history database.
        executor: Where simulations run.
        n_workers: How many run at once.
        show_progress: Progress lines on stderr.
    """
    import pyabc

    from ioc_sim.calibration.distance import PatternDistance
    from ioc_sim.calibration.sampler import OrderedSampler, print_progress
    from ioc_sim.calibration.simulator import PatternSimulator, miss_keys

    logging.getLogger("ABC").setLevel(logging.WARNING)  # the progress lines say enough
    keys = miss_keys(patterns)
    db = f"sqlite:///{(out / 'history.db').resolve()}"
    sampler = OrderedSampler(
        executor, cal.seed, n_workers, progress=print_progress if show_progress else None
    )

    def smc():
        # A new ABC-SMC object per generation, opened from the history: exactly what a
        # resumed calibration does, so every generation is run the way a resume runs it
        # and the stopping rules below are ours to apply between generations.
        distance = PatternDistance(keys, patterns, out / "distance_scales.json")
        prior = pyabc.Distribution(
            **{n: pyabc.RV("uniform", lo, hi - lo) for n, (lo, hi) in bounds.items()}
        )
        abc = pyabc.ABCSMC(
            PatternSimulator(patterns, cal.replicates),
            prior,
            distance,
            population_size=pyabc.ConstantPopulationSize(
                cal.population, nr_calibration_particles=cal.prior_sample
            ),
            sampler=sampler,
            eps=pyabc.QuantileEpsilon(alpha=0.5),
            transitions=pyabc.MultivariateNormalTransition(scaling=2.0, bandwidth_selector=unit),
        )
        return abc, _start(abc, db, {k: 0.0 for k in keys}, out), distance

    abc, history, distance = smc()
    while history.max_t + 1 < cal.generations and not _stopped(history, cal):
        abc.run(minimum_epsilon=0.0, max_nr_populations=1)
        abc, history, distance = smc()
    if distance.scales is None and distance.scales_file.exists():
        distance.initialize(0, lambda: None, {}, 0)  # read the kept scales
    return pyabc.History(db), distance


def unit(effective_sample_size: float, dimension: int) -> float:
    """A bandwidth factor of 1: with ``scaling = 2`` the perturbation kernel's covariance is
    twice the particles' weighted covariance (Beaumont et al. 2009). Silverman's rule,
    pyabc's default, shrinks it with the dimension, and with 12 parameters left the
    particles' weights so uneven that 500 particles were worth 60."""
    return 1.0


def _pyabc_version() -> dict[str, str]:
    from importlib import metadata

    return {"pyabc": metadata.version("pyabc")}


def _start(abc, db: str, x_0: dict[str, float], out: Path):
    """A new run in the history database, or the one there, to resume."""
    import pyabc

    if (out / "history.db").exists():
        h = pyabc.History(db)
        if h.all_runs():
            return abc.load(db, 1)
    (out / "distance_scales.json").unlink(missing_ok=True)
    return abc.new(db, x_0)


def _stopped(history, cal: Calibration) -> bool:
    """Whether the stored generations meet a stopping rule: epsilon reached 0 (every
    particle reproduced every pattern), the last acceptance rate fell below
    ``min_acceptance``, or the next generation would take the simulations past
    ``max_simulations`` (its acceptance rate foreseen from the trend of the last two)."""
    if history.max_t < 0:
        return False
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    rates = (pops["particles"] / pops["samples"]).to_numpy(float)
    last = pops.iloc[-1]
    trend = min(1.0, rates[-1] / rates[-2]) if len(rates) > 1 else 1.0
    foreseen = cal.population / max(rates[-1] * trend, 1e-6)
    return bool(
        last["epsilon"] <= 0.0
        or math.isnan(last["epsilon"])
        or rates[-1] < cal.min_acceptance
        or history.total_nr_simulations + foreseen > cal.max_simulations
    )
