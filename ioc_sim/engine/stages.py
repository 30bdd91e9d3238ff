"""The lifecycle stages of a collaboration, as the state arrays store them.

planned -> forming -> active <-> deepening -> dissolving -> dissolved
(``docs/ODD.md`` section 7.5). The compiled lifecycle review
(:func:`ioc_sim.engine.kernels.collaborations.review`) reads these codes too.
"""

from __future__ import annotations

from ioc_sim.spec.forms import STAGES

PLANNED, FORMING, ACTIVE, DEEPENING, DISSOLVING, DISSOLVED = range(6)


def status_name(code: int) -> str:
    """Name of a collaboration status code."""
    return STAGES[code]
