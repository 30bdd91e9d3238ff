"""Pattern-oriented validation: patterns files as executable checks.

Modules: ``readers`` (what a pattern can read from a simulation), ``statistics``
(the named statistics a patterns file composes), ``arms`` (the simulated arms of a
check), ``patterns`` (patterns files: each pattern's scenario, arms, statistics,
criteria and breaker), ``checks`` (arms run once, statistics computed, criteria
judged), ``runner`` (every pattern under every specification variant) and
``writer`` (the pattern-by-specification matrix).
"""

from ioc_sim.validation.checks import CheckResult, Measured, check, measure
from ioc_sim.validation.patterns import (
    Criterion,
    Pattern,
    bundled,
    load_patterns,
    patterns_dir,
    resolve_patterns_path,
)
from ioc_sim.validation.runner import choose, run_check, specification_variants, validate
from ioc_sim.validation.writer import matrix, matrix_markdown, write_validation

__all__ = [
    "CheckResult",
    "Criterion",
    "Measured",
    "Pattern",
    "bundled",
    "check",
    "choose",
    "load_patterns",
    "matrix",
    "matrix_markdown",
    "measure",
    "patterns_dir",
    "resolve_patterns_path",
    "run_check",
    "specification_variants",
    "validate",
    "write_validation",
]
