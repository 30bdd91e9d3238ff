"""What a patterns file can use, in words: ``ioc-sim validate --statistics``."""

from __future__ import annotations

from ioc_sim.model.metrics import METRICS
from ioc_sim.validation.patterns import ARM_KEYS, TARGETS
from ioc_sim.validation.readers import ORGANISATION_MEASURES, READERS
from ioc_sim.validation.statistics import KINDS

_TARGETS = {
    "target": "a number: passes within `tolerance` of it; calibration aims at it",
    "at_least": "a number or another statistic: passes at or above it (less `tolerance`)",
    "above": "the same, strictly above",
    "at_most": "a number or another statistic: passes at or below it (plus `tolerance`)",
    "below": "the same, strictly below",
    "between": "[low, high]: passes inside, ends included (widened by `tolerance`)",
}
_ARMS = {
    "scenario": "a bundled scenario or scenario file (default: the pattern's)",
    "set": "parameter values, e.g. { n_organisations = 12, history = 1.0 }",
    "months": "months to run (default: the scenario's)",
    "replicates": "replicates, all with the common seeds (default: the pattern's, or 8)",
    "drop_events": 'kinds of the scenario\'s events to remove, e.g. ["merger"]',
    "change_events": "fields to change in events of a kind, e.g. { support = { level = 0.2 } }",
    "organisations": "fields to change in organisations, e.g. { HELPER = { capacity = 0.8 } }",
}


def catalogue() -> str:
    """The arms' keys, statistic kinds, readers and targets a patterns file can use."""
    lines = ["Arms ([pattern.arms] NAME = { ... }):"]
    lines += [f"  {k:<14} {_ARMS[k]}" for k in ARM_KEYS]
    lines += ["", "Statistics ([pattern.statistics] NAME = { kind = ..., ... }):"]
    for k in KINDS.values():
        lines.append(f"  {k.name}: {k.meaning}")
        for key, what in k.keys.items():
            need = " (required)" if key in k.required else ""
            lines.append(f"      {key:<14} {what}{need}")
    lines += ["", "What `of`, `x` and `y` read:", "  model metrics: " + ", ".join(METRICS)]
    lines += [f"  {r.name}: {r.meaning}" for r in READERS.values()]
    lines.append(
        "  with organisations = [ids]: " + ", ".join(ORGANISATION_MEASURES) + " of those "
        "organisations taken together (size-weighted, those still in being)"
    )
    lines += ["", "Criteria ([[pattern.criteria]] statistic = NAME and one target):"]
    lines += [f"  {t:<9} {_TARGETS[t]}" for t in TARGETS]
    lines.append('  times     the factor on a statistic bound (at_least = "other", times = 0.8)')
    lines.append("  tolerance how far outside its target a statistic still passes (default 0)")
    lines.append("  source    where the target comes from")
    return "\n".join(lines)
