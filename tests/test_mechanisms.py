"""Direction of each mechanism issue 13 added (docs/ODD.md sections 7.2 to 7.16): every
one moves its outcome the way its section says, on small designs with common seeds.

Each test runs the same system with a low and a high setting of one parameter (or
with and without one event) over the same replicate seeds, so that the two arms
differ only by that setting, and compares means over replicates.
"""

from __future__ import annotations

import numpy as np
import pytest

from ioc_sim.experiments.provenance import replicate_seeds
from ioc_sim.experiments.replicates import simulate

SEEDS = list(range(1, 9))
IDS = [f"ORG{i:02d}" for i in range(1, 13)]


def _mean(kwargs, metric, months, at):
    """Mean of ``metric`` over replicates and the months ``at``."""
    out = simulate(kwargs, SEEDS, months, {metric: metric}, at=at)[metric]
    return float(np.mean(out))


def _diff(base, low, high, metric, months=60, at=range(24, 61)):
    return _mean({**base, **high}, metric, months, at) - _mean({**base, **low}, metric, months, at)


#: Three overlapping collaborations of twelve organisations, none allowed to quit.
OVERLAP = dict(
    n_organisations=12,
    dissolve_hazard=0.0,
    collaborations=[
        {"name": "all", "form": "alliance", "members": "all"},
        {"name": "net", "form": "clinical_network", "members": IDS[:8]},
        {"name": "ics", "form": "integrated_care_system", "members": "all"},
    ],
)


def test_a_larger_attention_budget_lets_overlapping_collaborations_act_more():
    """B0: where an organisation's collaborations ask more attention than it has, every
    one of them thins; a larger budget restores the acts."""
    assert _diff(OVERLAP, {"attention_budget": 0.5}, {"attention_budget": 3.0},
                 "collaborative_behaviour") > 0.02  # fmt: skip


def test_every_shared_collaboration_counts_toward_benefits():
    """Q10: a pair's second collaboration adds its own ties and benefits (with
    diminishing returns), instead of being starved by the deeper one."""
    one = {**OVERLAP, "collaborations": OVERLAP["collaborations"][:1]}

    def benefit(kwargs):
        read = {"benefit": lambda sim: sim.benefit[:, sim.alive].mean(axis=(1, 2))}
        return float(simulate(kwargs, SEEDS, 60, read, at=range(36, 61))["benefit"].mean())

    assert benefit(OVERLAP) > benefit(one)


@pytest.mark.parametrize("metric", ["trust", "collaborative_performance"])
def test_relationships_improve_joint_work(metric):
    """X1: a stronger link from the partners' trust to the quality of their joint acts
    lets high trust build on itself: starting trust above 0.5 goes further."""
    base = dict(n_organisations=12, dissolve_hazard=0.0, initial_trust=0.7)
    assert _diff(base, {"relational_quality": 0.0}, {"relational_quality": 0.4}, metric) > 0


def test_visible_results_spread_collaborations_apart():
    """F2a: shocks to a collaboration's visible results make otherwise identical runs
    differ: the spread of perceived progress across replicates grows with them."""

    def spread(noise):
        out = simulate(dict(n_organisations=12, results_noise=noise, dissolve_hazard=0.0),
                       SEEDS, 36, ["perceived_progress"], at=[36])  # fmt: skip
        return float(np.std(out["perceived_progress"]))

    assert spread(0.1) > 3 * spread(0.0)


def test_dedicated_support_bears_exposure_and_raises_acts():
    """B1: the share of exposure that support bears lifts the risky share of acts."""
    base = dict(n_organisations=12, dissolve_hazard=0.0, support=0.8, integration_depth=0.6)
    assert _diff(base, {"support_cover": 0.0}, {"support_cover": 1.0},
                 "collaborative_behaviour") > 0.02  # fmt: skip


def test_embedded_practice_keeps_a_programme_effect_after_its_support_ends():
    """E5-E6: the faster practice embeds while support lasts, the more of the programme's
    effect remains after the window closes."""
    base = dict(
        n_organisations=12,
        dissolve_hazard=0.0,
        form="new_care_model",
        events=[
            {"month": 1, "kind": "support", "collaboration": "main", "level": 0.9, "until": 24}
        ],
    )
    after = range(36, 61)
    assert _diff(base, {"embedding_rate": 0.0}, {"embedding_rate": 0.2},
                 "collaborative_behaviour", at=after) > 0  # fmt: skip


def test_more_pressure_from_growing_demand_lowers_access():
    """Q13a: demand grown beyond its start adds resource pressure, which costs access."""
    base = dict(n_organisations=12, demand_growth=0.1)
    assert _diff(base, {"demand_pressure": 0.0}, {"demand_pressure": 2.0}, "access") < 0


def test_regulatory_blocking_lowers_faith():
    """F4 (L27): regulatory blocking lowers future willingness, read as faith."""
    base = dict(n_organisations=12, dissolve_hazard=0.0)
    assert _diff(base, {"regulatory_blocking": 0.0}, {"regulatory_blocking": 1.0}, "faith") < 0


#: A weak trust in special measures beside four others, every attribute given.
# fmt: off
DISTRESS = dict(
    organisations=[
        {"id": "WEAK", "type": "acute", "capacity": 0.3, "baseline_performance": 0.25,
         "finances": 0.3, "distressed": True, "x": 0.5, "y": 0.5},
        *[{"id": f"P{i}", "type": "acute", "capacity": 0.8, "baseline_performance": 0.6,
           "x": 0.4 + 0.05 * i, "y": 0.5} for i in range(4)],
    ],
    dissolve_hazard=0.0,
    months=96,
)
# fmt: on


@pytest.mark.parametrize(
    "low, high",
    [
        ({"regime_support": 0.0}, {"regime_support": 1.0}),
        ({"help_effect": 0.0}, {"help_effect": 2.0}),
        ({"improvement_rate": 0.02}, {"improvement_rate": 0.2}),
    ],
    ids=["regime_support", "help_effect", "improvement_rate"],
)
def test_improvement_support_takes_an_organisation_out_of_special_measures_sooner(low, high):
    """D5: more improvement support, partners' help or improvement rate: less time in
    special measures."""
    assert _diff(DISTRESS, low, high, "distressed_share", months=96, at=range(12, 97)) < 0


def test_a_lower_regulators_line_means_fewer_entries():
    """D2: a line lower in the rating catches fewer organisations."""
    base = dict(n_organisations=30, distressed_share=0.0, performance_noise=0.04)
    assert _diff(base, {"distress_entry": 0.45}, {"distress_entry": 0.25}, "distressed_share",
                 months=120, at=range(24, 121)) < 0  # fmt: skip


def test_deeper_policy_push_deepens_mandated_supported_collaborations_more():
    """V7: policy push raises the chance that a mandated, supported collaboration deepens."""
    base = dict(n_organisations=12, form="integrated_care_system", support=1.0)
    assert _diff(base, {"policy_push": 0.0}, {"policy_push": 0.05}, "integration_depth",
                 months=60, at=[60]) > 0  # fmt: skip


def test_a_higher_dissolve_threshold_ends_more_voluntary_collaborations():
    """V5-V6: the lower the morale that counts against a voluntary collaboration, the
    fewer end."""
    base = dict(n_organisations=12)
    assert _diff(base, {"dissolve_threshold": 0.2}, {"dissolve_threshold": 0.5},
                 "dissolved_collaborations", months=96, at=[96]) > 0  # fmt: skip


def test_larger_merger_savings_raise_the_merged_trusts_efficiency():
    """M3: back-office savings of a merger raise the merged organisation's efficiency."""
    merger = [{"month": 6, "kind": "merger", "organisations": ["ORG01", "ORG02"]}]
    base = dict(n_organisations=6, events=merger)
    assert _diff(base, {"merger_savings": 0.0}, {"merger_savings": 0.07}, "efficiency",
                 months=72, at=range(48, 73)) > 0  # fmt: skip


def test_merger_integration_costs_come_first():
    """M2: the integration load (one-off costs) lowers efficiency in the first months."""
    merger = [{"month": 6, "kind": "merger", "organisations": ["ORG01", "ORG02"]}]
    base = dict(n_organisations=6, events=merger)
    assert _diff(base, {"transition_cost": 0.0}, {"transition_cost": 0.1}, "efficiency",
                 months=18, at=range(6, 13)) < 0  # fmt: skip


def test_replicates_advanced_together_equal_each_run_alone_through_a_merger():
    """A merger rebuilds the structure for every replicate at once; a new pair's starting
    relationship still comes from its own replicate's collaborations (whether its
    alliance still works), so each replicate of a batch gives exactly the numbers of the
    same seed run alone."""
    kwargs = dict(
        n_organisations=30,
        partners_per_org=3,
        dissolve_hazard=0.3,
        dissolve_threshold=0.42,
        collaborations=[
            {"name": "a", "form": "alliance", "members": "all"},
            {"name": "n", "form": "clinical_network", "members": "all", "mandate": 1.0},
        ],
        events=[{"month": 40, "kind": "merger", "organisations": ["ORG01", "ORG06"]}],
    )
    seeds = replicate_seeds(1, 6)  # their alliances stand differently at the merger
    read = {"trust": lambda sim: sim.trust, "alliance": lambda sim: sim.status[:, 0]}
    batch = simulate(kwargs, seeds, 60, read, at=[40, 60])
    assert len(set(batch["alliance"][:, 0].tolist())) > 1  # the replicates' alliances differ
    for r, seed in enumerate(seeds):
        alone = simulate(kwargs, [seed], 60, read, at=[40, 60])
        np.testing.assert_array_equal(batch["trust"][r], alone["trust"][0])
