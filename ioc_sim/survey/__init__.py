"""The collaboration diagnostic survey: instrument, answer files, scores and model start.

By step, each in its own module:

* :mod:`~ioc_sim.survey.instrument`: the constructs and the statements that
  measure them (``ioc_sim/data/survey.toml``);
* :mod:`~ioc_sim.survey.templates`: the questionnaire (Markdown or HTML) and a
  CSV answer template (:func:`render_markdown`, :func:`render_html`,
  :func:`template_rows`);
* :mod:`~ioc_sim.survey.responses`: an answer file read strictly, naming the
  row and column of any problem (:func:`read_responses`);
* :mod:`~ioc_sim.survey.scoring`: item -> respondent -> organisation ->
  collaboration, with the spread at each level, the maturity index and flags
  where partners disagree (:func:`score_responses`, :func:`format_report`);
* :mod:`~ioc_sim.survey.start`: the scores as the model's starting state
  (:func:`initial_relations_from_scores`,
  :func:`organisation_overrides_from_scores`, :func:`apply_survey`);
* :mod:`~ioc_sim.survey.simulation`: the started collaboration's simulated
  maturity path, and which levers move it (:func:`lever_effects`).

docs/survey.md explains the scoring and its reasons.
"""

from ioc_sim.survey.instrument import Instrument, Item, SurveyConstruct, load_instrument
from ioc_sim.survey.responses import NOT_ANSWERED, Responses, read_responses
from ioc_sim.survey.scoring import (
    DISAGREEMENT,
    SurveyScores,
    format_report,
    score_file,
    score_responses,
)
from ioc_sim.survey.simulation import LEVERS, lever_effects, maturity_paths
from ioc_sim.survey.start import (
    RELATION_KEYS,
    apply_survey,
    initial_relations_from_scores,
    organisation_overrides_from_scores,
    scenario_organisations,
)
from ioc_sim.survey.templates import (
    META_COLUMNS,
    render_html,
    render_markdown,
    template_columns,
    template_rows,
)

__all__ = [
    "DISAGREEMENT",
    "LEVERS",
    "META_COLUMNS",
    "NOT_ANSWERED",
    "RELATION_KEYS",
    "Instrument",
    "Item",
    "Responses",
    "SurveyConstruct",
    "SurveyScores",
    "apply_survey",
    "format_report",
    "initial_relations_from_scores",
    "lever_effects",
    "load_instrument",
    "maturity_paths",
    "organisation_overrides_from_scores",
    "read_responses",
    "render_html",
    "render_markdown",
    "scenario_organisations",
    "score_file",
    "score_responses",
    "template_columns",
    "template_rows",
]
