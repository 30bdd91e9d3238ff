"""Errors a user can cause, each rendered as one readable line.

Every input problem (a scenario file, a keyword argument, a command-line
option) raises :class:`ConfigError`. Its string form names where the problem
is (file), what is wrong (field) and what would be allowed, so the command
line can print it as a single line and exit with status 2.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A user-supplied value or file is unusable.

    Args:
        field: Dotted name of the offending field, for example
            ``collaborations[0].form``. Empty when the whole input is bad.
        message: What is wrong and what is allowed.
        source: The file (or other origin) the value came from.
    """

    def __init__(self, field: str, message: str, source: str | None = None):
        self.field = field
        self.message = message
        self.source = source
        super().__init__(str(self))

    def with_source(self, source: str) -> ConfigError:
        """Return a copy that names ``source`` as the origin, keeping the field."""
        return ConfigError(self.field, self.message, source)

    def with_prefix(self, prefix: str) -> ConfigError:
        """Return a copy whose field is nested under ``prefix``."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return ConfigError(field, self.message, self.source)

    def __str__(self) -> str:
        parts = [p for p in (self.source, self.field) if p]
        where = ": ".join(parts)
        return f"{where}: {self.message}" if where else self.message
