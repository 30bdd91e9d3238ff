"""Lists of tables (organisations, collaborations, events) handed to the model as keywords.

``mesa.batch_run`` sweeps any list it is given as a factor: a scenario's list of
collaborations passed in its parameters reaches each run one table at a time. A
single table therefore counts as a list of one, which makes a scenario's one-item
list work unwrapped; a table taken out of a longer scenario list carries how many
it came with, so the model refuses it instead of running part of the system.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ioc_sim.errors import ConfigError


class ListedTable(dict):
    """A table that knows the length of the list it belongs to.

    Args:
        table: The table's fields.
        of: How many tables the list holds.
    """

    def __init__(self, table: Mapping[str, Any], of: int):
        super().__init__(table)
        self.of = of


def listed(tables: Sequence[Mapping[str, Any]]) -> list[ListedTable]:
    """A list of tables, each marked with the list's length."""
    return [ListedTable(t, len(tables)) for t in tables]


def as_table_list(name: str, value: Any) -> Any:
    """``value`` with a single table read as a list of one.

    Args:
        name: The keyword (``collaborations``), for the message.
        value: What was given; anything but a table is returned as it is, for the
            usual validation to judge.

    Raises:
        ConfigError: For one table taken out of a longer list (as ``mesa.batch_run``
            does with a list it sweeps), naming the keyword and the fix.
    """
    if not isinstance(value, Mapping):
        return value
    of = getattr(value, "of", 1)
    if of > 1:
        raise ConfigError(
            name,
            f"got one of a list of {of} tables; mesa.batch_run sweeps a list given as a "
            f"parameter, so pass the whole list as one value, wrapped: [scenario.{name}]",
        )
    return [dict(value)]
