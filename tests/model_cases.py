"""Hand-built two- and three-organisation systems shared by the tests of
CollaborationModel (test_model.py, test_model_runs.py, test_model_inputs.py)."""

from __future__ import annotations

from ioc_sim import CollaborationModel

EXACT = {"abs": 1e-12}

# fmt: off
# Every organisation attribute given, so nothing is drawn from the population.
ORG_A = {
    "id": "A", "type": "acute", "name": "Alpha Hospitals", "size": 1.2, "capacity": 0.6,
    "finances": 0.7, "workforce_stability": 0.8, "flexibility": 0.55, "digital_maturity": 0.65,
    "culture": 0.3, "resolution_style": 0.8, "vulnerability": 0.7, "persuasiveness": 0.6,
    "intra_conflict": 0.2, "baseline_performance": 0.6, "distressed": False, "x": 0.1, "y": 0.2,
}
ORG_B = {
    "id": "B", "type": "community", "name": "Beta Community", "size": 0.4, "capacity": 0.5,
    "finances": 0.4, "workforce_stability": 0.6, "flexibility": 0.45, "digital_maturity": 0.35,
    "culture": 0.7, "resolution_style": -0.6, "vulnerability": 0.4, "persuasiveness": 0.3,
    "intra_conflict": 0.4, "baseline_performance": 0.5, "distressed": True, "x": 0.3, "y": 0.4,
}
ORG_C = {
    "id": "C", "type": "mental_health", "name": "Gamma Minds", "size": 0.5, "capacity": 0.45,
    "finances": 0.5, "workforce_stability": 0.7, "flexibility": 0.5, "digital_maturity": 0.5,
    "culture": 0.45, "resolution_style": 0.6, "vulnerability": 0.5, "persuasiveness": 0.5,
    "intra_conflict": 0.3, "baseline_performance": 0.55, "distressed": False, "x": 0.8,
    "y": 0.9,
}

# A two-organisation alliance with every context given.
PAIR = {
    "name": "pair", "form": "alliance", "members": ["A", "B"], "mandate": 0.5,
    "integration_depth": 0.4, "formalisation": 0.6, "accountability": 0.7, "pace": 0.35,
    "shared_vision": 0.8, "history": 0.5, "power_asymmetry": 0.25, "role_clarity": 0.6,
    "evaluation": 0.3, "ambition": 0.45, "actors_present": 0.9,
}
PAIR_PARAMS = {
    "initial_trust": 0.35, "history_trust_effect": 0.2, "formal_trust_effect": 0.15,
    "formal_prior_weight": 8.0, "regulator_weight": 0.4, "regulator_trust": 0.3,
    "conflict_slope": 0.7, "trust_weight": 0.6, "finance_risk_effect": 0.25,
    "distress_risk_effect": 0.2, "initial_faith": 0.45, "months": 12,
    "distress_penalty": 0.1,
    # No fortunes: no shocks to visible results or to underlying performance, so the
    # hand computations below are exact.
    "results_noise": 0.0, "performance_noise": 0.0,
}
# Full competition that suppresses every collaborative act, and no shock: the act
# probability is exactly zero, so randomness cannot matter.
NO_ACTS = {"competition": 1.0, "competition_effect": 1.0}
# fmt: on


def pair_model(**extra) -> CollaborationModel:
    return CollaborationModel(
        rng=7, organisations=[ORG_A, ORG_B], collaborations=[PAIR], **{**PAIR_PARAMS, **extra}
    )


def status_of(model: CollaborationModel, name: str) -> str:
    return model.collaborations().set_index("name").loc[name, "status"]


def context_of(model: CollaborationModel, name: str, field: str) -> float:
    return float(model.collaborations().set_index("name").loc[name, field])
