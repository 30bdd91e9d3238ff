"""Testing the programme theory: hypotheses as data, and a scorecard.

A theory file (``experiments/theories/programme_theory.toml``) writes the realist
programme theory as data: constructs and the parameters or outcomes that stand for
them, signed hypotheses, tiers of importance and claimed interactions.
:func:`run_theory_test` runs the experiment that tests it and scores it: hypotheses,
directional agreement, importance, interactions, prediction and where the theory
fails. The modules, from the bottom up:

* :mod:`~ioc_sim.theory.spec` - the theory file as data (:func:`load_theory`,
  :func:`parse_theory`);
* :mod:`~ioc_sim.theory.statistics` - effects and verdicts, Wilson intervals,
  Kendall's tau-b, Savage scores and top-down concordance, moderation, Monte Carlo
  filtering;
* :mod:`~ioc_sim.theory.prim` - PRIM boxes (:func:`prim_box`) and the box in words;
* :mod:`~ioc_sim.theory.surrogates` - theory-constrained and unconstrained
  surrogates by grouped cross-validation;
* :mod:`~ioc_sim.theory.design` - the results as the scoring steps read them
  (:func:`~ioc_sim.theory.design.read_design`) and the :class:`Scorecard` they fill;
* :mod:`~ioc_sim.theory.prediction` - the prediction step and where the theory fails;
* :mod:`~ioc_sim.theory.scorecard` - the other scoring steps (hypotheses,
  importance, interactions) and :func:`build_scorecard`, which runs them all;
* :mod:`~ioc_sim.theory.writing` - tables, ``scorecard.json``, ``summary.md``, figures;
* :mod:`~ioc_sim.theory.run` - :func:`score_theory` and :func:`run_theory_test`.
"""

from ioc_sim.theory.design import Scorecard
from ioc_sim.theory.prim import Box, describe_box, prim_box
from ioc_sim.theory.run import run_theory_test, score_theory
from ioc_sim.theory.scorecard import build_scorecard, sobol_for
from ioc_sim.theory.spec import (
    HYPOTHESIS_STATUSES,
    ConstructMapping,
    Hypothesis,
    Interaction,
    Theory,
    load_theory,
    parse_theory,
    resolve_theory_path,
    theory_dir,
)
from ioc_sim.theory.statistics import (
    VERDICTS,
    Effect,
    association_effect,
    mc_filter,
    moderation,
    ols,
    rank_agreement,
    regression_effect,
    savage_scores,
    top_down_concordance,
    verdict_of,
    wilson_interval,
)
from ioc_sim.theory.surrogates import context_groups, surrogate_comparison, theory_features
from ioc_sim.theory.writing import summary_markdown, write_scorecard

__all__ = [
    "HYPOTHESIS_STATUSES",
    "VERDICTS",
    "Box",
    "ConstructMapping",
    "Effect",
    "Hypothesis",
    "Interaction",
    "Scorecard",
    "Theory",
    "association_effect",
    "build_scorecard",
    "context_groups",
    "describe_box",
    "load_theory",
    "mc_filter",
    "moderation",
    "ols",
    "parse_theory",
    "prim_box",
    "rank_agreement",
    "regression_effect",
    "resolve_theory_path",
    "run_theory_test",
    "savage_scores",
    "score_theory",
    "sobol_for",
    "summary_markdown",
    "surrogate_comparison",
    "theory_dir",
    "theory_features",
    "top_down_concordance",
    "verdict_of",
    "wilson_interval",
    "write_scorecard",
]
