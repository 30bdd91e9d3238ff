"""Organisation types, collaboration forms and lifecycle stages: the model's fixed tables.

Collaboration forms (docs/theory.md section 4) are presets of collaboration
contexts; a collaboration takes its form's preset and may override any
field (:mod:`ioc_sim.spec.contexts`). Nothing here imports the rest of the
package, so every layer can read these tables.
"""

from __future__ import annotations

#: Organisation types, with the relative size and spare-capacity shift that
#: the synthetic population uses for each. Sizes are relative (an acute trust
#: is the unit); these are assumptions, documented in docs/ODD.md.
# fmt: off
# Tables of presets, kept compact so they read as tables.
ORG_TYPES: dict[str, dict[str, float]] = {
    "acute": {"size": 1.0, "capacity": -0.05, "share": 0.30},
    "mental_health": {"size": 0.5, "capacity": -0.05, "share": 0.15},
    "community": {"size": 0.4, "capacity": 0.0, "share": 0.15},
    "ambulance": {"size": 0.6, "capacity": -0.1, "share": 0.05},
    "primary_care_network": {"size": 0.1, "capacity": 0.0, "share": 0.25},
    "social_care": {"size": 0.2, "capacity": -0.1, "share": 0.10},
}
TYPE_NAMES = tuple(ORG_TYPES)

#: Collaboration forms from loosest to deepest (docs/theory.md section 4). Each is
#: a preset of contexts; values are our reading of the typology, not
#: measurements (docs/ODD.md, "Forms").
FORMS: dict[str, dict[str, float]] = {
    "clinical_network": dict(mandate=0.0, integration_depth=0.1, formalisation=0.1,
                             power_asymmetry=0.1, ambition=0.3, support=0.0),
    "improvement_collaborative": dict(mandate=0.0, integration_depth=0.15, formalisation=0.2,
                                      power_asymmetry=0.1, evaluation=0.7, support=0.3),
    "buddying": dict(mandate=1.0, integration_depth=0.3, formalisation=0.4,
                     power_asymmetry=0.8, support=0.3, ambition=0.4),
    "alliance": dict(mandate=0.0, integration_depth=0.3, formalisation=0.3,
                     power_asymmetry=0.2),
    "joint_commissioning": dict(mandate=0.5, integration_depth=0.5, formalisation=0.6,
                                power_asymmetry=0.3),
    "contractual": dict(mandate=0.3, integration_depth=0.6, formalisation=0.9,
                        power_asymmetry=0.5, accountability=0.7),
    "federation": dict(mandate=0.0, integration_depth=0.5, formalisation=0.5,
                       power_asymmetry=0.3),
    "provider_collaborative": dict(mandate=0.5, integration_depth=0.4, formalisation=0.4,
                                   power_asymmetry=0.3),
    "group_model": dict(mandate=0.3, integration_depth=0.7, formalisation=0.7,
                        power_asymmetry=0.4, accountability=0.6, role_clarity=0.6),
    "new_care_model": dict(mandate=0.3, integration_depth=0.5, formalisation=0.5,
                           power_asymmetry=0.2, evaluation=0.7, ambition=0.7),
    "integrated_care_system": dict(mandate=1.0, integration_depth=0.4, formalisation=0.6,
                                   power_asymmetry=0.4, actors_present=0.9),
    "merger": dict(mandate=0.8, integration_depth=1.0, formalisation=1.0,
                   power_asymmetry=0.6, accountability=0.8, role_clarity=0.7, pace=0.6),
}

# fmt: on
#: Stages of a collaboration's lifecycle, in order; a stage's code is its position.
STAGES = ("planned", "forming", "active", "deepening", "dissolving", "dissolved")
STAGE = {name: i for i, name in enumerate(STAGES)}

#: System fields an event may set.
SYSTEM_FIELDS = (
    "competition",
    "regulator_trust",
    "data_sharing",
    "resource_pressure",
    "demand_growth",
    "regulatory_blocking",
)

ORG_FIELDS = (
    "id",
    "name",
    "type",
    "size",
    "capacity",
    "finances",
    "workforce_stability",
    "flexibility",
    "digital_maturity",
    "culture",
    "resolution_style",
    "vulnerability",
    "persuasiveness",
    "intra_conflict",
    "baseline_performance",
    "distressed",
    "x",
    "y",
)
_ORG_RANGES = {
    "size": (0.001, 1000.0),
    "resolution_style": (-1.0, 1.0),
    "x": (-1e6, 1e6),
    "y": (-1e6, 1e6),
}
