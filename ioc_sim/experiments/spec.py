"""Experiment files: a design of runs over a base scenario, in TOML.

An experiment file names a base scenario, a design, the factors it varies,
the number of replicates and the outcomes to compute::

    # Question: <what the experiment asks>
    [experiment]   name, question, scenario, seed, replicates, months, keep_timeseries
    [design]       method (compare | grid | latin | morris | sobol | fast) and its options;
                   include = "sensitivity" adds every parameter declared for sensitivity
                   analysis; exclude = [names] leaves some out
    [fixed]        parameter values set on every run (for example n_organisations = 200)
    [factors]      name = {} (the declared bounds or choices), {low, high}, {choices = [...]},
                   or {values = [...]} (grid only)
    [outcomes]     name = {metric, reduce, ...}: reductions of the monthly series, or
                   {reduce = share | median_months | corr, of, ...}: of what happened

Design options: ``sobol`` takes ``n`` (a power of two) and ``second_order``;
``morris`` takes ``trajectories`` and ``levels``; ``fast`` takes ``n`` and
``m``; ``latin`` takes ``n``; ``grid`` takes ``levels`` for factors without
explicit values; ``compare`` takes ``scenarios``, a list of scenario names or
paths, or tables ``{name, scenario, set = {parameter = value}}``.

Outcome reductions: ``final`` (value at ``month``, default the end),
``mean`` and ``auc`` (over ``from``..``to``, inclusive, default the whole run;
the area uses the trapezoidal rule, in metric units times months),
``time_to`` (first month from ``from`` on when the metric is at or ``above``
(or ``below``) ``threshold``; a run that never gets there counts as ``never``,
default months + 1), and ``dissolved_share`` (share of collaborations
dissolved by ``month``, default the end). From the tables of what happened by
``month`` (default the end; :mod:`ioc_sim.model.outputs`): ``share`` (the share of
the run's collaborations or organisations, ``of``, that had ``event``, among those
that had the event ``among`` if given), ``median_months`` (the median months of
special-measures episodes, ``of = "special measures"``, optionally only those under
way at month 0 or not, ``at_start``; or to a collaboration's or organisation's first
``event``; open ones count as running, by Kaplan-Meier; ``never`` when fewer than half
ended) and ``corr`` (Spearman's rank correlation of columns ``x`` and ``y`` across
the ``pairs`` or ``organisations``). ``empty`` (``undefined`` for ``corr``) is the
value when there is nothing to measure.

Seeds: every design row uses the same replicate seeds,
``replicate_seeds(root, replicates, row=0)`` (common random numbers), so
differences between rows are not run-to-run noise. Each run has the id
``row * replicates + replicate`` and its seed is stored with its results, so
``CollaborationModel(rng=seed, **row_kwargs)`` replays it alone.

:func:`load_experiment` validates everything and raises
:class:`~ioc_sim.errors.ConfigError` naming the file, the field and what is
allowed. The tables are checked in :mod:`~ioc_sim.experiments.experiment_tables`
(:func:`parse_experiment`) and the result is an
:class:`~ioc_sim.experiments.experiment.Experiment`; this module finds the file,
bundled or not, and reads it.
"""

from __future__ import annotations

from pathlib import Path

from ioc_sim.errors import ConfigError
from ioc_sim.experiments.experiment import Experiment
from ioc_sim.experiments.experiment_tables import parse_experiment
from ioc_sim.spec.files import (
    bundled_files,
    bundled_names,
    package_data,
    read_toml,
    resolve_bundled,
)

# Experiment and parse_experiment are named here too, so that code written
# against this module before they moved out keeps working.
__all__ = [
    "Experiment",
    "bundled_experiments",
    "experiment_dir",
    "load_experiment",
    "parse_experiment",
    "resolve_experiment_path",
]


def load_experiment(path: str | Path) -> Experiment:
    """Load and validate an experiment file.

    ``path`` may also be the name of a bundled experiment (``"morris_all"``).

    Raises:
        ConfigError: Naming the file and the field, for a missing file,
            malformed TOML, unknown keys, wrong types or out-of-range values.
    """
    p = resolve_experiment_path(path)
    source = str(path)
    data = read_toml(
        p,
        source,
        lambda: "no such experiment file; " + bundled_names(experiment_dir(), "experiments"),
    )
    try:
        return parse_experiment(data, name=p.stem, path=p)
    except ConfigError as err:
        raise err.with_source(source) from None


def experiment_dir() -> Path:
    """The folder of bundled experiments (in a checkout, the top-level ``experiments/``)."""
    return package_data("experiments")


def bundled_experiments() -> list[Path]:
    """Paths of the bundled experiment files, sorted by name."""
    return bundled_files(experiment_dir(), "experiments")


def resolve_experiment_path(path: str | Path) -> Path:
    """A path as given, or the bundled experiment of that name."""
    return resolve_bundled(path, experiment_dir())
