"""Running a theory test: score a results folder, or run the theory's experiment first.

:func:`score_theory` scores a theory against an existing results folder and writes
the scorecard; :func:`run_theory_test` (``ioc-sim theory test``) loads the theory,
runs (or resumes) its experiment unless given results, and scores it.
"""

from __future__ import annotations

from pathlib import Path

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.execution import run_experiment
from ioc_sim.experiments.results import load_results
from ioc_sim.experiments.spec import load_experiment
from ioc_sim.theory.design import Scorecard
from ioc_sim.theory.scorecard import build_scorecard
from ioc_sim.theory.spec import Theory, load_theory
from ioc_sim.theory.writing import write_scorecard


def score_theory(
    theory: Theory, results: str | Path, out: str | Path, figures: bool = True
) -> Scorecard:
    """Score a theory against an experiment's results and write the scorecard.

    Args:
        theory: The loaded theory.
        results: An experiment results folder (``ioc-sim experiment run``).
        out: Folder for the tables, figures, ``summary.md`` and ``scorecard.json``.
        figures: Also draw PNG figures.

    Raises:
        ConfigError: If an outcome the theory names is not in the results.
    """
    res = load_results(results)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    card = build_scorecard(theory, res, out, str(results))
    write_scorecard(card, theory, figures)
    return card


def run_theory_test(
    theory_path: str | Path | None = None,
    *,
    experiment: str | Path | None = None,
    results: str | Path | None = None,
    out: str | Path | None = None,
    workers: int = 1,
    show_progress: bool = True,
    figures: bool = True,
) -> Scorecard:
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

    Raises:
        ConfigError: For a bad theory or experiment file, both an experiment and
            results, or a theory that names no experiment when none is given.
    """
    theory = load_theory(theory_path)
    if experiment is not None and results is not None:
        raise ConfigError("--results", "give either --experiment or --results, not both")
    out = Path(out) if out is not None else Path("results") / theory.name
    if results is None:
        ref = experiment if experiment is not None else theory.experiment
        if ref is None:
            raise ConfigError(
                "theory.experiment",
                "missing; allowed: an experiment file or "
                "bundled name (or pass --experiment / --results)",
                str(theory.path),
            )
        exp = load_experiment(ref)
        results = out / "experiment"
        run_experiment(exp, results, workers=workers, show_progress=show_progress)
    return score_theory(theory, results, out, figures=figures)
