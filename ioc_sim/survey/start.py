"""From scores to the model: a scenario started where the survey says the partners are.

Each organisation's construct scores become its starting relations with its
partners (the model's ``initial_relations`` keyword), and the two constructs
that describe an organisation itself set its leaders' resolution style and its
digital maturity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from ioc_sim.survey.scoring import SurveyScores

#: Keys of the dict the model's ``initial_relations`` keyword takes, and the construct each
#: is read from.
RELATION_KEYS = {
    "trust": "trust",
    "confidence": "confidence",
    "risk_threshold": "risk_tolerance",
    "conflict": "conflict",
    "faith": "faith",
    "perceived_progress": "perceived_progress",
}


def _table(
    scores: SurveyScores | pd.DataFrame | Mapping[str, Mapping[str, float]],
) -> pd.DataFrame:
    if isinstance(scores, SurveyScores):
        return scores.organisations
    if isinstance(scores, pd.DataFrame):
        return scores
    return pd.DataFrame.from_dict(scores, orient="index")


def initial_relations_from_scores(
    scores: SurveyScores | pd.DataFrame | Mapping[str, Mapping[str, float]],
    organisations: Iterable[str] | None = None,
) -> dict[str, dict[str, float]]:
    """The model's ``initial_relations`` keyword from scored answers.

    Each organisation's construct score (0-1) becomes its own starting value:
    its trust in, confidence in, risk threshold with and conflict with each of
    its partners (its outgoing pairs), and its faith in and perceived progress
    of its collaborations. The survey's 0-1 score is used as the model's 0-1
    state unchanged (an assumption: both are read as "how far along the
    scale"). Organisations without a score for a construct are left out of
    that entry, so the model keeps its own starting value for them.

    Args:
        scores: Scored answers, or a table of organisation (rows) x construct.
        organisations: If given, only these organisations are included.

    Returns:
        ``{"trust": {id: value}, "confidence": ..., "risk_threshold": ...,
        "conflict": ..., "faith": ..., "perceived_progress": ...}``; entries
        with no organisation are omitted.
    """
    table = _table(scores)
    keep = None if organisations is None else set(organisations)
    out: dict[str, dict[str, float]] = {}
    for key, construct in RELATION_KEYS.items():
        if construct not in table.columns:
            continue
        values = {
            str(org): float(v)
            for org, v in table[construct].items()
            if not pd.isna(v) and (keep is None or org in keep)
        }
        if values:
            out[key] = values
    return out


def organisation_overrides_from_scores(
    scores: SurveyScores | pd.DataFrame | Mapping[str, Mapping[str, float]],
) -> dict[str, dict[str, float]]:
    """Organisation attributes the survey measures directly.

    Conflict resolution sets the leaders' ``resolution_style`` (rescaled from
    0-1 to -1..1, so a neutral answer is neither constructive nor destructive)
    and technological effectiveness sets ``digital_maturity`` (our reading:
    partners' data systems are the organisation-level part of technological
    effectiveness).
    """
    table = _table(scores)
    out: dict[str, dict[str, float]] = {}
    for org, row in table.iterrows():
        attrs = {}
        if "conflict_resolution" in row and not pd.isna(row["conflict_resolution"]):
            attrs["resolution_style"] = round(2.0 * float(row["conflict_resolution"]) - 1.0, 6)
        if "technological_effectiveness" in row and not pd.isna(row["technological_effectiveness"]):
            attrs["digital_maturity"] = round(float(row["technological_effectiveness"]), 6)
        if attrs:
            out[str(org)] = attrs
    return out


def scenario_organisations(scenario: Any) -> list[dict[str, Any]]:
    """The organisation tables of a scenario, drawing a synthetic system's ids and types.

    Listing a synthetic system's organisations by id and type draws every other
    attribute exactly as before (the population draw keeps its order), so
    overriding one attribute of one organisation leaves the rest unchanged.
    """
    if scenario.organisations:
        return [dict(o) for o in scenario.organisations]
    model = scenario.build(seed=0, months=1)
    pop = model.sim.pop
    return [
        {"id": i, "name": n, "type": t}
        for i, n, t in zip(pop.ids, pop.names, pop.types, strict=True)
    ]


def apply_survey(scenario: Any, scores: SurveyScores) -> tuple[Any, dict[str, Any]]:
    """A copy of ``scenario`` started from the survey, and the model keywords to pass.

    The organisation attributes of :func:`organisation_overrides_from_scores`
    are written into the copy's organisations (and recorded in its ``raw``
    contents, so the manifest shows them); the relations go to the model as
    ``initial_relations`` (returned in the keyword dict).
    """
    orgs = scenario_organisations(scenario)
    ids = [o["id"] for o in orgs]
    overrides = organisation_overrides_from_scores(scores)
    for o in orgs:
        o.update(overrides.get(o["id"], {}))
    relations = initial_relations_from_scores(scores, ids)
    raw = dict(scenario.raw)
    raw["survey"] = {
        "source": scores.source,
        "organisation_overrides": overrides,
        "initial_relations": relations,
    }
    return replace(scenario, organisations=orgs, raw=raw), {"initial_relations": relations}
