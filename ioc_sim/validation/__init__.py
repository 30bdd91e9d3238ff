"""Pattern-oriented validation: the patterns of docs/patterns.md as executable checks.

Modules: ``arms`` (the simulated arms of a check), ``checks`` (one check per
pattern), ``patterns`` (each pattern's claim, source, criterion and breaker),
``runner`` (every pattern under every specification variant) and ``writer``
(the pattern-by-specification matrix).
"""

from ioc_sim.validation.checks import CheckResult
from ioc_sim.validation.patterns import PATTERN_IDS, PATTERNS, Pattern
from ioc_sim.validation.runner import run_check, specification_variants, validate
from ioc_sim.validation.writer import matrix, matrix_markdown, write_validation

__all__ = [
    "PATTERNS",
    "PATTERN_IDS",
    "CheckResult",
    "Pattern",
    "matrix",
    "matrix_markdown",
    "run_check",
    "specification_variants",
    "validate",
    "write_validation",
]
