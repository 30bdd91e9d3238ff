"""Every setting of the model, declared once.

Each :class:`Param` carries its default, bounds, unit, the theory construct it
belongs to, a one-line meaning, and its *status*: whether the programme theory
states it, implies it, or it is an assumption of ours (see ``docs/ODD.md``).
Scenario loading, keyword validation, sensitivity-analysis factor ranges and
the app's controls all read this table, so a parameter is added in one place.

Groups:

* ``system`` - system-wide contexts (competition regime, data sharing ...).
* ``collaboration`` - contexts of a collaboration. Forms are presets of these
  (:mod:`ioc_sim.spec.forms`); a scenario sets them per collaboration. Passed as
  model keywords they override *every* collaboration (that is what a sweep
  factor or an app slider means).
* ``population`` - how a synthetic population of organisations is drawn.
* ``mechanism`` - rates, weights and thresholds of the submodels.
* ``specification`` - named switches between alternative functional forms
  where the theory is silent or contested.
* ``run`` - structural settings (size, length, seeds).
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.spec.forms import FORMS

#: Where a setting comes from: stated by the theory, implied by it, our assumption, or
#: a structural choice of the simulation (docs/ODD.md).
EVIDENCE = ("stated", "implied", "assumption", "structural")


@dataclass(frozen=True)
class Param:
    """Declaration of one model setting.

    Attributes:
        name: Keyword name, unique across all groups.
        default: Value used when nothing else sets it.
        low: Lower bound (inclusive) for numbers; ``None`` for choices.
        high: Upper bound (inclusive) for numbers; ``None`` for choices.
        unit: Unit of measurement ("0-1 scale", "per month", ...).
        construct: The theory construct the setting belongs to.
        meaning: One line saying what the setting does.
        group: One of the groups listed in the module docstring.
        status: "stated", "implied", "assumption" or "structural".
        kind: "float", "int" or "choice".
        choices: Allowed names for ``kind == "choice"``.
        sensitivity: Whether global sensitivity analysis samples it by default.
    """

    name: str
    default: Any
    low: float | None
    high: float | None
    unit: str
    construct: str
    meaning: str
    group: str
    status: str = "assumption"
    kind: str = "float"
    choices: tuple[str, ...] = field(default_factory=tuple)
    sensitivity: bool = True

    def allowed(self) -> str:
        """Describe the allowed values in words, for error messages."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        what = "an integer" if self.kind == "int" else "a number"
        return f"{what} from {_fmt(self.low)} to {_fmt(self.high)}"

    def validate(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type.

        Raises:
            ConfigError: If the value has the wrong type or is out of range.
        """
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ConfigError(self.name, f"got {value!r}; allowed: {self.allowed()}")
            return value
        # numbers.Real takes numpy's numbers too (what np.arange and samplers give).
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            if self.name == "mandate" and isinstance(value, str) and value in MANDATE_LEVELS:
                return MANDATE_LEVELS[value]
            extra = ""
            if self.name == "mandate":
                extra = " or one of " + ", ".join(repr(k) for k in MANDATE_LEVELS)
            raise ConfigError(
                self.name,
                f"got {value!r} ({type(value).__name__}); allowed: {self.allowed()}{extra}",
            )
        original = value
        if self.kind == "int":
            if not isinstance(value, numbers.Integral) and not float(value).is_integer():
                raise ConfigError(self.name, f"got {value!r}; allowed: {self.allowed()}")
            value = int(value)
        else:
            value = float(value)
        if math.isnan(value) or not (self.low <= value <= self.high):
            raise ConfigError(self.name, f"got {original!r}; allowed: {self.allowed()}")
        return value


def _fmt(x: float | None) -> str:
    if x is None:
        return "?"
    return f"{x:g}"


#: Words a scenario may use for the mandate context, and their numeric level.
MANDATE_LEVELS = {"voluntary": 0.0, "expected": 0.5, "mandated": 1.0}

_P: list[Param] = []


def _add(name, default, low, high, unit, construct, meaning, group, status="assumption", **kw):
    _P.append(Param(name, default, low, high, unit, construct, meaning, group, status, **kw))


# fmt: off
# A table of declarations, one call per setting: kept compact so it reads as a table.
# --- run and structure -----------------------------------------------------
_add("n_organisations", 12, 2, 5000, "organisations", "system",
     "Size of a synthetic system when no organisations are listed.", "run", "structural",
     kind="int", sensitivity=False)
_add("partners_per_org", 6, 1, 60, "organisations", "geography",
     "Each member links to this many nearest fellow members (links are mutual, so some "
     "organisations have more partners).",
     "run", "assumption", kind="int")
_add("months", 120, 1, 1200, "months", "time", "Length of a run; one step is one month.",
     "run", "structural", kind="int", sensitivity=False)
_add("population_seed", 1, 0, 2**31 - 1, "seed", "system",
     "Seed of the synthetic population; replicates share it so they differ only in dynamics.",
     "run", "structural", kind="int", sensitivity=False)

# --- system-wide contexts --------------------------------------------------
_add("competition", 0.5, 0.0, 1.0, "0-1 scale", "competition regime",
     "1 = tendering and merger control; 0 = a statutory duty to collaborate.", "system", "stated")
_add("regulator_trust", 0.5, 0.0, 1.0, "0-1 scale", "trust in regulators",
     "How far organisations trust regulators; lifts confidence.", "system", "implied")
_add("data_sharing", 0.5, 0.0, 1.0, "0-1 scale", "data sharing and interoperability",
     "System-wide ability to share data between providers.", "system", "stated")
_add("resource_pressure", 0.4, 0.0, 1.0, "0-1 scale", "resource pressure",
     "Financial and capacity pressure on every provider.", "system", "stated")
_add("regulatory_blocking", 0.3, 0.0, 1.0, "0-1 scale", "regulatory blocking",
     "How readily regulators block or delay integration (merger control, procurement rules).",
     "system", "stated")
_add("demand_growth", 0.03, 0.0, 0.2, "per year", "demand growth",
     "Yearly growth of emergency demand before any collaborative effect.", "system", "stated")

# --- collaboration contexts (form presets set these) -----------------------
_add("form", "alliance", None, None, "name", "collaboration form",
     "Form of the collaboration(s); a preset of the contexts below.", "collaboration", "stated",
     kind="choice", choices=tuple(FORMS))
_add("mandate", 0.0, 0.0, 1.0, "0-1 scale", "mandate",
     "0 voluntary, 0.5 expected by policy, 1 mandated by a regulator.", "collaboration", "stated")
_add("integration_depth", 0.3, 0.0, 1.0, "0-1 scale", "integration depth",
     "How much of the partners' work is joined up; deeper work exposes more.", "collaboration",
     "stated")
_add("formalisation", 0.3, 0.0, 1.0, "0-1 scale", "formalisation",
     "Strength of the contract or legal agreement.", "collaboration", "stated")
_add("accountability", 0.5, 0.0, 1.0, "0-1 scale", "accountability clarity",
     "How clear the accountability arrangements are.", "collaboration", "stated")
_add("role_clarity", 0.5, 0.0, 1.0, "0-1 scale", "role clarity",
     "How clear each partner's role is.", "collaboration", "stated")
_add("shared_vision", 0.5, 0.0, 1.0, "0-1 scale", "shared vision",
     "How far the partners share goals.", "collaboration", "stated")
_add("ambition", 0.5, 0.0, 1.0, "0-1 scale", "ambition of aims",
     "Initial ambition of the joint aims; grows with trust (small wins).", "collaboration",
     "stated")
_add("evaluation", 0.4, 0.0, 1.0, "0-1 scale", "ongoing evaluation",
     "Whether progress is evaluated as the collaboration goes.", "collaboration", "stated")
_add("actors_present", 0.8, 0.0, 1.0, "share", "actors present",
     "Share of the relevant partners at the table.", "collaboration", "stated")
_add("power_asymmetry", 0.2, 0.0, 1.0, "0-1 scale", "power asymmetry",
     "Imbalance of power between partners.", "collaboration", "implied")
_add("history", 0.0, -1.0, 1.0, "-1 to 1", "history",
     "-1 an improper ending of an earlier collaboration, +1 an earlier success.",
     "collaboration", "stated")
_add("pace", 0.5, 0.0, 1.0, "0-1 scale", "pace",
     "Pace of development; slow pace breeds conflict.", "collaboration", "stated")
_add("support", 0.0, 0.0, 1.0, "0-1 scale", "dedicated support",
     "Dedicated support or funding for the collaboration.", "collaboration", "stated")

# --- synthetic population --------------------------------------------------
_add("culture_spread", 0.3, 0.0, 1.0, "0-1 scale", "cultural compatibility",
     "Spread of culture profiles; wider spread means less compatible partners.",
     "population", "assumption")
_add("constructive_share", 0.6, 0.0, 1.0, "share", "conflict-resolution style",
     "Share of organisations whose leaders resolve conflict constructively.", "population",
     "assumption")
_add("leader_vulnerability", 0.5, 0.0, 1.0, "0-1 scale", "leadership behaviour",
     "Mean willingness of leaders to show vulnerability.", "population", "implied")
_add("leader_persuasiveness", 0.5, 0.0, 1.0, "0-1 scale", "leadership behaviour",
     "Mean persuasiveness of leaders.", "population", "implied")
_add("capacity_mean", 0.5, 0.0, 1.0, "0-1 scale", "capacity",
     "Mean spare capacity of organisations.", "population", "assumption")
_add("finances_mean", 0.5, 0.0, 1.0, "0-1 scale", "financial position",
     "Mean financial position (1 = strong).", "population", "assumption")
_add("workforce_stability_mean", 0.6, 0.0, 1.0, "0-1 scale", "workforce stability",
     "Mean workforce stability.", "population", "assumption")
_add("flexibility_mean", 0.5, 0.0, 1.0, "0-1 scale", "organisational flexibility",
     "Mean organisational flexibility.", "population", "assumption")
_add("digital_maturity_mean", 0.5, 0.0, 1.0, "0-1 scale", "digital maturity",
     "Mean digital maturity.", "population", "assumption")
_add("intra_conflict_mean", 0.3, 0.0, 1.0, "0-1 scale", "intra-organisational conflict",
     "Mean conflict inside organisations.", "population", "assumption")
_add("baseline_performance_mean", 0.55, 0.1, 0.9, "0-1 scale", "baseline performance",
     "Mean baseline performance (quality, efficiency, access).", "population", "assumption")
_add("distressed_share", 0.1, 0.0, 1.0, "share", "distress",
     "Share of organisations in special measures at the start.", "population", "assumption")

# --- trust ------------------------------------------------------------------
_add("initial_trust", 0.4, 0.0, 1.0, "0-1 scale", "trust",
     "Trust between partners with no history and no formal agreement.", "mechanism")
_add("history_trust_effect", 0.2, 0.0, 0.5, "trust per unit history", "trust",
     "How much history moves initial trust (sign stated, size assumed).", "mechanism", "stated")
_add("history_ambition_effect", 0.1, 0.0, 0.5, "ambition per unit history", "ambition",
     "How much history moves the initial ambition of joint aims.", "mechanism", "stated")
_add("formal_ambition_effect", 0.1, 0.0, 0.5, "ambition per unit formalisation", "ambition",
     "How much a legal agreement raises the initial ambition of joint aims.", "mechanism",
     "stated")
_add("formal_trust_effect", 0.1, 0.0, 0.5, "trust per unit formalisation", "trust",
     "How much a legal agreement raises initial trust.", "mechanism", "stated")
_add("initial_faith", 0.5, 0.0, 1.0, "0-1 scale", "faith",
     "Faith of a member in a new collaboration before any history effect.", "mechanism")
_add("breach_signal", 0.0, 0.0, 0.5, "outcome scale", "trust",
     "How far below expectation a partner's failure to reciprocate registers.", "mechanism")
_add("trust_gain", 0.3, 0.01, 0.6, "per joint act", "trust",
     "Learning rate of trust after an outcome that meets expectation.", "mechanism")
_add("trust_asymmetry", 3.0, 1.0, 6.0, "ratio", "trust",
     "Erosion-to-building ratio: how much faster trust is lost than built (practice: 2-5).",
     "mechanism", "stated")
_add("expectation", 0.5, 0.2, 0.8, "outcome scale", "trust",
     "Outcome quality a partner expects from a joint act.", "mechanism")
_add("outcome_noise", 0.15, 0.0, 0.5, "outcome scale", "task outcome",
     "Standard deviation of the quality of one joint act around its expectation.", "mechanism")
_add("damage_gain", 0.5, 0.0, 1.0, "per violation", "trust",
     "How much a violation adds to lasting damage that caps trust (hysteresis).", "mechanism")
_add("damage_decay", 0.02, 0.0, 0.2, "per month", "trust",
     "Monthly decay of lasting trust damage.", "mechanism")
_add("conflict_trust_erosion", 0.015, 0.0, 0.3, "per month", "conflict -> trust",
     "Monthly share of trust eroded by full conflict.", "mechanism", "stated")
_add("resolution_effect", 0.03, 0.0, 0.2, "per month", "conflict resolution",
     "Extra monthly share of trust, faith and progress lost at full conflict under a fully "
     "destructive resolution style (none under a fully constructive one).", "mechanism",
     "stated")
_add("vulnerability_effect", 0.5, 0.0, 1.0, "relative", "leadership behaviour",
     "How much a partner leader's vulnerability speeds the growth of trust in it.", "mechanism",
     "implied")
_add("turnover_trust_loss", 0.3, 0.0, 1.0, "share", "leadership turnover",
     "Share of relational trust lost when an organisation's leadership changes.", "mechanism")

# --- confidence and risk threshold -----------------------------------------
_add("confidence_memory", 0.9, 0.5, 0.99, "per month", "confidence",
     "Forgetting factor of evidence that obligations are honoured (beta reputation).",
     "mechanism")
_add("formal_prior_weight", 10.0, 0.0, 50.0, "pseudo-observations", "confidence",
     "Weight of mandate, integration and contract as prior evidence of obligation.",
     "mechanism")
_add("regulator_weight", 0.5, 0.0, 1.0, "share", "trust in regulators",
     "How much low trust in regulators discounts formal assurance.", "mechanism", "implied")
_add("trust_weight", 0.5, 0.0, 1.0, "share", "risk threshold",
     "Weight of trust (against confidence) in the risk threshold.", "mechanism")
_add("crowding", 0.5, 0.0, 1.0, "share", "risk threshold",
     "Under crowding-out, how much formal control slows the growth of trust.", "mechanism")
_add("risk_rate", 0.3, 0.02, 1.0, "per month", "risk threshold",
     "Monthly adjustment of the risk threshold toward its target.", "mechanism")
_add("finance_risk_effect", 0.3, 0.0, 1.0, "share", "financial position",
     "How much a weak financial position lowers risk tolerance.", "mechanism")
_add("distress_risk_effect", 0.3, 0.0, 1.0, "share", "distress",
     "How much special measures lower risk tolerance.", "mechanism")
_add("exposure_scale", 0.6, 0.1, 1.5, "risk-threshold scale", "exposure",
     "Exposure of the deepest, most ambitious joint act.", "mechanism", "stated")
_add("gate_softness", 0.05, 0.0, 0.3, "risk-threshold scale", "threshold",
     "Width of the risk gate; 0 makes it a hard threshold.", "mechanism")

# --- acts and outcomes -------------------------------------------------------
_add("competition_effect", 0.5, 0.0, 1.0, "share", "competition regime",
     "Share of collaborative acts suppressed by full competition.", "mechanism", "stated")
_add("blocking_effect", 0.5, 0.0, 1.0, "share", "regulatory blocking",
     "Share of the integrative (deep) part of joint work suppressed by full regulatory blocking.",
     "mechanism", "stated")
_add("competition_faith_effect", 0.05, 0.0, 0.3, "faith per unit", "competition regime",
     "How much a full competition regime lowers members' faith (future willingness).",
     "mechanism", "stated")
_add("blocking_faith_effect", 0.05, 0.0, 0.3, "faith per unit", "regulatory blocking",
     "How much full regulatory blocking lowers members' faith (future willingness).",
     "mechanism", "stated")
_add("communication_effect", 0.3, 0.0, 1.0, "share", "communication -> synergy",
     "Share of collaborative output that depends on two-way exchange (reciprocated acts).",
     "mechanism", "implied")
_add("shock_boost", 0.3, 0.0, 1.0, "probability", "exogenous shock",
     "Extra chance of a collaborative act at full shock.", "mechanism", "stated")
_add("forming_intensity", 0.5, 0.0, 1.0, "share", "collaboration lifecycle",
     "Relative intensity of joint work while a collaboration is forming.", "mechanism")
_add("success_slope", 2.0, 0.0, 6.0, "logit per unit", "task outcome",
     "Sensitivity of joint-act quality to its drivers (capacity, compatibility, data...).",
     "mechanism")
_add("relational_quality", 0.1, 0.0, 0.5, "outcome scale", "cultural efficacy",
     "How much a joint act's expected quality rises with the partners' trust above 0.5 (and "
     "falls below it): relationships turn joint work into effective joint action.",
     "mechanism", "implied")
_add("failure_conflict", 0.1, 0.0, 0.5, "conflict per failure", "task failure -> conflict",
     "Conflict added by a failed joint act.", "mechanism", "stated")

# --- conflict, progress, faith ---------------------------------------------
_add("conflict_rate", 0.2, 0.02, 1.0, "per month", "conflict",
     "Monthly adjustment of conflict toward the level its contexts imply.", "mechanism")
_add("conflict_slope", 0.6, 0.0, 1.0, "0-1 scale", "conflict",
     "Conflict when every driver of conflict is at its worst.", "mechanism")
_add("progress_rate", 0.15, 0.02, 1.0, "per month", "perceived progress",
     "Monthly adjustment of perceived progress.", "mechanism")
_add("effectiveness_feedback", 0.3, 0.0, 1.0, "share", "effectiveness -> progress",
     "Weight of realised effectiveness in perceived progress (feedback loop).", "mechanism",
     "implied")
_add("results_noise", 0.05, 0.0, 0.2, "progress per month", "perceived progress",
     "Standard deviation of the monthly shocks to a collaboration's visible results (a "
     "flagship project's setback or success), seen by every member.", "mechanism")
_add("results_persistence", 0.9, 0.0, 0.99, "per month", "perceived progress",
     "How much of last month's visible setback or success persists.", "mechanism")
_add("faith_rate", 0.1, 0.02, 1.0, "per month", "faith",
     "Monthly adjustment of faith toward progress and trust.", "mechanism")
_add("persuasion_effect", 0.2, 0.0, 0.5, "faith per unit", "leadership behaviour",
     "How much leaders' persuasiveness lifts faith.", "mechanism", "implied")
_add("mandate_faith_effect", 0.1, 0.0, 0.5, "faith per unit", "mandate -> faith",
     "Size of the mandate's effect on faith; its sign is the mandate_faith specification.",
     "mechanism", "assumption")
_add("ambition_rate", 0.02, 0.0, 0.2, "per month", "small wins",
     "Monthly adjustment of ambition toward the partners' trust (small wins).", "mechanism",
     "stated")

# --- collaboration lifecycle -----------------------------------------------
_add("formation_months", 6, 0, 36, "months", "collaboration lifecycle",
     "Months a new collaboration spends forming.", "mechanism", kind="int")
_add("deepen_threshold", 0.6, 0.3, 1.0, "0-1 scale", "small wins",
     "Readiness (mean trust and faith of a collaboration) that makes a month a small win.",
     "mechanism")
_add("deepen_patience", 12, 1, 60, "months", "small wins",
     "Months of small wins in a row before a collaboration may deepen.", "mechanism",
     kind="int")
_add("deepen_hazard", 0.04, 0.0, 0.2, "per month", "collaboration lifecycle",
     "Monthly chance that a collaboration with enough small wins behind it deepens.",
     "mechanism")
_add("policy_push", 0.01, 0.0, 0.1, "per month", "collaboration lifecycle",
     "Monthly chance of deepening per unit of mandate times support: consolidation pushed "
     "by policy rather than earned by small wins.", "mechanism")
_add("deepen_step", 0.1, 0.02, 0.5, "0-1 scale", "integration depth",
     "Integration depth one deepening adds (its integration costs come first).", "mechanism")
_add("dissolve_threshold", 0.35, 0.0, 0.8, "0-1 scale", "collaboration lifecycle",
     "Morale (mean faith and perceived progress of the members) below which a month counts "
     "against a voluntary collaboration.", "mechanism")
_add("dissolve_patience", 6, 1, 36, "months", "collaboration lifecycle",
     "Months of low morale in a row before a voluntary collaboration may end.", "mechanism",
     kind="int")
_add("dissolve_hazard", 0.08, 0.0, 0.3, "per month", "collaboration lifecycle",
     "Monthly chance that a voluntary collaboration whose morale has stayed low ends.",
     "mechanism")
_add("dissolving_months", 3, 1, 24, "months", "collaboration lifecycle",
     "Months a collaboration takes to wind down.", "mechanism", kind="int")
_add("attention_budget", 1.5, 0.5, 5.0, "collaborations", "resources and capacity",
     "Management attention an organisation gives to collaborative work, counted in "
     "collaborations worked at full intensity and depth; beyond it every one thins.",
     "mechanism")

# --- time-limited support and embedded practice -----------------------------
_add("support_cover", 0.8, 0.0, 1.0, "share", "dedicated support",
     "Share of the exposure of joint acts that full dedicated support (funding) bears: a "
     "programme's money pays for most of its joint projects' staff and systems.",
     "mechanism", "implied")
_add("embedding_rate", 0.04, 0.0, 0.2, "per month", "embedded practice",
     "Monthly share of the gap to its support that a collaboration's practice embeds, at "
     "full participation; the same rate embeds an organisation's improvement.", "mechanism")
_add("fade_rate", 0.04, 0.0, 0.2, "per month", "embedded practice",
     "Monthly share of unembedded practice (or improvement) lost once support has gone.",
     "mechanism")

# --- performance -------------------------------------------------------------
_add("benefit_lag", 12.0, 1.0, 60.0, "months", "time to benefit",
     "Time constant of back-office benefits (less duplication, pooled resources).", "mechanism")
_add("service_lag_ratio", 2.0, 1.0, 5.0, "ratio", "time to benefit",
     "How much slower service benefits arrive than back-office ones.", "mechanism", "implied")
_add("benefit_scale", 0.3, 0.0, 1.0, "performance per unit", "organisational performance",
     "Gain in organisational performance from full effectiveness through collaboration.",
     "mechanism")
_add("management_cost", 0.03, 0.0, 0.2, "performance per month", "costs of collaborating",
     "Efficiency cost of management time in full-intensity joint work.", "mechanism", "stated")
_add("integration_cost", 0.05, 0.0, 0.3, "performance", "costs of collaborating",
     "Efficiency cost per unit of integration depth still to integrate: the whole depth "
     "when a collaboration starts, each deepening's step after; it fades, so costs come "
     "first.", "mechanism", "stated")
_add("integration_cost_months", 24.0, 1.0, 120.0, "months", "costs of collaborating",
     "Time constant over which integration cost fades.", "mechanism")
_add("admissions_effect", 0.05, 0.0, 0.3, "index per unit", "demand",
     "Fall in the emergency admissions index from fully closed service gaps.", "mechanism")
_add("demand_pressure", 0.5, 0.0, 2.0, "pressure per unit", "demand growth",
     "Resource pressure that emergency demand adds as it grows beyond its level at the "
     "start (a demand index of 1.2 adds 0.1 at the default).", "mechanism")
_add("pressure_effect", 0.2, 0.0, 0.5, "performance per unit", "resource pressure",
     "Loss of access performance under full resource pressure.", "mechanism")
_add("distress_penalty", 0.03, 0.0, 0.3, "performance", "distress",
     "Performance lost while in special measures (scrutiny, reporting, disruption).",
     "mechanism")

# --- the regulator and special measures ----------------------------------------
_add("distress_entry", 0.35, 0.0, 0.6, "rating", "distress",
     "The regulator's line: a rating below it is a concern that can put an organisation in "
     "special measures.", "mechanism")
_add("distress_exit", 0.4, 0.2, 0.9, "rating", "distress",
     "Rating an organisation in special measures must hold to be judged recovered.",
     "mechanism")
_add("distress_exit_months", 6, 1, 48, "months", "distress",
     "Months at or above the exit rating needed for a sustained recovery.", "mechanism",
     kind="int")
_add("inspection_rate", 0.1, 0.01, 1.0, "per month", "regulator",
     "Monthly chance that the regulator inspects and acts on an organisation of concern, or "
     "confirms a sustained recovery.", "mechanism")
_add("regulator_memory", 6.0, 1.0, 24.0, "months", "regulator",
     "Time constant of the regulator's moving view of an organisation's rating.",
     "mechanism")
_add("finance_weight", 0.2, 0.0, 0.5, "share", "financial position",
     "Weight of finances (against performance) in the regulator's rating.", "mechanism",
     "implied")
_add("performance_noise", 0.02, 0.0, 0.1, "performance per month", "baseline performance",
     "Standard deviation of the monthly shocks to an organisation's underlying performance.",
     "mechanism")
_add("performance_persistence", 0.95, 0.0, 0.99, "per month", "baseline performance",
     "How much of last month's deviation of underlying performance persists.", "mechanism")
_add("improvement_rate", 0.06, 0.0, 0.3, "per month", "distress",
     "Monthly share of its headroom an organisation in special measures closes at full "
     "improvement effort.", "mechanism")
_add("improvement_target", 0.6, 0.3, 1.0, "performance", "distress",
     "The underlying performance an organisation in special measures works toward: its "
     "improvement closes a share of the gap to it (1 is improvement without a standard).",
     "mechanism")
_add("regime_support", 0.5, 0.0, 1.0, "0-1 scale", "distress",
     "Improvement support special measures bring (improvement director, funding), "
     "absorbed in proportion to the organisation's own capacity.", "mechanism", "implied")
_add("help_effect", 1.0, 0.0, 3.0, "effort per unit", "mandated partnering",
     "Weight of partners' help (their acts toward it, times the spare capacity they have "
     "over it) in the improvement effort of an organisation in special measures.",
     "mechanism", "stated")

# --- mergers and acquisitions --------------------------------------------------
_add("merger_savings", 0.02, 0.0, 0.07, "share of efficiency", "organisational efficiency",
     "Back-office savings of a merger at full ramp, as a share of the merged "
     "organisation's baseline performance (evaluations: 1-3% of turnover; US "
     "acquisitions 4-7%).",
     "mechanism")
_add("savings_months", 12.0, 1.0, 60.0, "months", "time to benefit",
     "Time constant of the ramp of a merger's back-office savings; service gains are "
     "slower by service_lag_ratio.", "mechanism")
_add("service_gain", 0.02, 0.0, 0.1, "performance", "organisational performance",
     "Quality and access gain of a merger at full ramp, if its predecessors trusted each "
     "other fully (relationship building); none without it.", "mechanism")
_add("integration_months", 24.0, 3.0, 60.0, "months", "costs of collaborating",
     "Time constant over which a merger's integration load (attention, disruption, "
     "staff turnover) fades.", "mechanism")
_add("transition_cost", 0.02, 0.0, 0.1, "performance", "costs of collaborating",
     "Efficiency lost to a merger's one-off costs at the start of integration.",
     "mechanism", "stated")
_add("merger_disruption", 0.02, 0.0, 0.1, "performance", "costs of collaborating",
     "Quality and access lost at the start of integration while management attention "
     "turns inward.", "mechanism")
_add("turnover_effect", 0.1, 0.0, 0.5, "0-1 scale", "workforce stability",
     "Fall in workforce stability at the start of a merger's integration (staff turnover).",
     "mechanism")
_add("integration_attention", 0.5, 0.0, 2.0, "collaborations", "resources and capacity",
     "Management attention a merger's integration takes at its start, in the units of "
     "attention_budget.", "mechanism")

# --- specifications ----------------------------------------------------------
_add("trust_update", "asymmetric_ceiling", None, None, "name", "trust",
     "How trust learns from outcomes.", "specification", kind="choice",
     choices=("asymmetric_ceiling", "expectation_gap", "ratchet"))
_add("trust_confidence", "additive", None, None, "name", "risk threshold",
     "Whether trust and confidence add, substitute, or formal control crowds out trust.",
     "specification", kind="choice", choices=("additive", "substitutes", "crowding_out"))
_add("fragile", "trust", None, None, "name", "trust and confidence",
     "Which of trust and confidence is the more fragile.", "specification", kind="choice",
     choices=("trust", "confidence", "equal"))
_add("mandate_faith", "lowers", None, None, "name", "mandate -> faith",
     "Whether a mandate raises, lowers or leaves faith alone.", "specification", kind="choice",
     choices=("raises", "lowers", "neutral"))
_add("performance_form", "multiplicative", None, None, "name", "collaborative performance",
     "How the three performance mechanisms combine.", "specification", kind="choice",
     choices=("multiplicative", "additive"))

# fmt: on
PARAMETERS: dict[str, Param] = {p.name: p for p in _P}
assert len(PARAMETERS) == len(_P), "duplicate parameter names"

#: Collaboration context fields (everything a form preset may set).
CONTEXT_FIELDS: tuple[str, ...] = tuple(
    p.name for p in _P if p.group == "collaboration" and p.name != "form"
)
SPECIFICATIONS: tuple[str, ...] = tuple(p.name for p in _P if p.group == "specification")


def defaults() -> dict[str, Any]:
    """Return the declared default of every parameter."""
    return {name: p.default for name, p in PARAMETERS.items()}


def by_group(group: str) -> list[Param]:
    """Return the declarations of one group, in declaration order."""
    return [p for p in PARAMETERS.values() if p.group == group]


def unknown_name_error(name: str, allowed: list[str] | tuple[str, ...], what: str) -> ConfigError:
    """Build the error for an unknown key, suggesting the nearest allowed name."""
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if len(allowed) <= 12:
        shown = ", ".join(sorted(allowed))
    else:
        shown = f"{len(allowed)} names; see `ioc-sim parameters`"
    return ConfigError(name, f"unknown {what}{hint}; allowed: {shown}")


def validate(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate flat parameter values by their declarations.

    Args:
        values: Parameter names mapped to values; names must be declared.

    Returns:
        The values converted to their declared types.

    Raises:
        ConfigError: Naming the first unknown or invalid field.
    """
    out = {}
    for name, value in values.items():
        if name not in PARAMETERS:
            raise unknown_name_error(name, list(PARAMETERS), "parameter")
        out[name] = PARAMETERS[name].validate(value)
    return out
