"""Pattern-oriented validation: the patterns of docs/patterns.md as executable checks.

Each :class:`Pattern` runs one or two named scenarios (and, where the pattern is
about a difference, a counterfactual of the same scenario) and compares relative
quantities against a tolerance stated in relative terms, because simulation units
are arbitrary. The checks themselves are in :mod:`~ioc_sim.validation.checks`;
:func:`ioc_sim.validation.runner.validate` runs every pattern under the
default specification and under each alternative of every switchable
specification (:data:`ioc_sim.spec.parameters.SPECIFICATIONS`), one switch at
a time, giving a pattern-by-specification matrix
(:mod:`~ioc_sim.validation.writer`): which model variants reproduce which
patterns.

Every check can fail: each pattern also names a *breaker*, a deliberately broken
setting that removes the mechanism the pattern rests on, and the tests show the
check failing under it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ioc_sim.validation.checks import (
    CheckResult,
    check_p1,
    check_p2,
    check_p3,
    check_p4,
    check_p5,
    check_p6,
    check_p7,
    check_p8,
    check_p9,
    check_p10,
)


@dataclass(frozen=True)
class Pattern:
    """A pattern of docs/patterns.md as an executable check.

    Attributes:
        id: "P1" .. "P10".
        claim: The pattern in words (docs/patterns.md).
        source: Where the pattern comes from.
        scenario: The named scenario it is checked on.
        criterion: The check and its relative tolerance, in words.
        use: What the pattern is used for (validation of which submodel).
        check: Function (overrides) -> CheckResult.
        breaker: Parameter values that deliberately break the mechanism behind it.
    """

    id: str
    claim: str
    source: str
    scenario: str
    criterion: str
    use: str
    check: Callable[[dict[str, Any]], CheckResult]
    breaker: dict[str, Any] = field(default_factory=dict)


PATTERNS: list[Pattern] = [
    Pattern(
        "P1",
        "Merger back-office savings are small and come before service benefits.",
        "Monitor 2014; US acquisitions 4-7%",
        "merger",
        "peak efficiency gain of the merged trust against its predecessors without the "
        "merger (size-weighted) is +0.5% to +7% of their efficiency and more than two "
        "standard errors of the replicates' differences, and reaches half its peak no "
        "later than the service (quality + access) gain does",
        "consolidation: merger_savings, savings_months, transition_cost, service_gain",
        check_p1,
        {"merger_savings": 0.0},
    ),
    Pattern(
        "P2",
        "Acquisition without relationship building does not raise clinical quality.",
        "Beaulieu et al., NEJM 2020",
        "merger",
        "quality of the merged trust in the last two years is at most 2% above its "
        "predecessors' (size-weighted) without the merger",
        "consolidation without relationship building: service_gain, merger_disruption",
        check_p2,
        {"service_gain": 0.1, "merger_disruption": 0.0},
    ),
    Pattern(
        "P3",
        "Integrated-care pilots improved processes and teamwork more than hospital "
        "use; emergency admissions did not fall.",
        "16 integrated care pilots, 2012",
        "integrated_care_system",
        "collaborative behaviour in months 12-36 at least 0.10 while emergency admissions "
        "at month 36 are no more than 2% below month 0",
        "demand submodel: admissions_effect against demand_growth",
        check_p3,
        {"admissions_effect": 0.3, "demand_growth": 0.0, "benefit_lag": 1.0},
    ),
    Pattern(
        "P4",
        "A low-support integration programme showed a small first-year signal that did not last.",
        "Integrated Care Pioneers DiD",
        "national_programme",
        "behaviour gain of the programme at low support (0.2, not the scenario's 0.9) over "
        "the same programme without support is above 0.005 in months 6-12 and at most half "
        "of that in the final year",
        "time-varying support and the decay of its effect",
        check_p4,
        {"support": 1.0},
    ),
    Pattern(
        "P5",
        "Negative events move trust more than positive ones.",
        "Slovic 1993",
        "default",
        "the 20 largest monthly falls of pairwise trust average at least 1.2 "
        "times the 20 largest rises",
        "trust update: trust_asymmetry, trust_update",
        check_p5,
        {
            "trust_update": "expectation_gap",
            "trust_asymmetry": 1.0,
            "conflict_trust_erosion": 0.0,
            "resolution_effect": 0.0,
            "damage_gain": 0.0,
        },
    ),
    Pattern(
        "P6",
        "Repeated partners rely less on formal control; mandated forms rely on contract.",
        "Gulati 1995; realist review",
        "default",
        "confidence / (trust + confidence) in live relationships at least 3% lower with a "
        "history of success and at least 3% higher in a mandated integrated care system "
        "than in an alliance",
        "confidence submodel: formal_prior_weight, history_trust_effect",
        check_p6,
        {"formal_prior_weight": 0.0, "history_trust_effect": 0.0},
    ),
    Pattern(
        "P7",
        "Success runs through a virtuous cycle of small wins; antagonistic history "
        "hinders it; outcomes are path dependent.",
        "Ansell and Gash 2008; Vangen and Huxham 2003",
        "default",
        "performance after an antagonistic history at least 10% below a good history, and "
        "a rank correlation of at least 0.3 between trust at month 12 and later performance",
        "feedback loops: history effects, ambition_rate, effectiveness_feedback",
        check_p7,
        {
            "history_trust_effect": 0.0,
            "history_ambition_effect": 0.0,
            "failure_conflict": 0.0,
            "trust_gain": 0.01,
            "outcome_noise": 0.0,
        },
    ),
    Pattern(
        "P8",
        "Mandated partnering helps a struggling organisation only when the partner "
        "has capacity and motivation.",
        "Health Foundation case studies",
        "buddying",
        "at least 20% fewer organisations in special measures after month 24 with a "
        "capable helper (capacity 0.8) than with a weak one (0.2)",
        "special measures: improvement with the help of partners' spare capacity",
        check_p8,
        {"help_effect": 0.0},
    ),
    Pattern(
        "P9",
        "Formal consolidation is infrequent and policy-pushed.",
        "King's Fund 2015",
        "default",
        "at most a quarter of voluntary runs deepen within five years, and more do with "
        "a mandate and support",
        "collaboration lifecycle: deepen_threshold",
        check_p9,
        {"deepen_threshold": 0.3, "initial_trust": 1.0, "initial_faith": 1.0},
    ),
    Pattern(
        "P10",
        "A crisis shock raised collaborative behaviour quickly.",
        "NHS Providers 2020; regulation study 2022",
        "pandemic_shock",
        "collaborative behaviour in the six months after the shock at least 5% above the "
        "same system without it",
        "exogenous shocks: shock_boost",
        check_p10,
        {"shock_boost": 0.0, "competition_effect": 0.0, "blocking_effect": 0.0},
    ),
]
PATTERN_IDS = tuple(p.id for p in PATTERNS)
