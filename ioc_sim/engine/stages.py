"""The lifecycle stages of a collaboration, as the state arrays store them, and the
codes of what the simulation logs about collaborations and organisations.

planned -> forming -> active <-> deepening -> dissolving -> dissolved
(``docs/ODD.md`` section 7.5). The compiled lifecycle review
(:func:`ioc_sim.engine.kernels.collaborations.review`) reads these codes too.
"""

from __future__ import annotations

from ioc_sim.spec.forms import STAGES

PLANNED, FORMING, ACTIVE, DEEPENING, DISSOLVING, DISSOLVED = range(6)

#: What a collaboration-log entry records: it started (began forming), deepened, quit
#: (low morale: an improper ending begins), ended (dissolved), was completed by a merger
#: of its members, or began winding down by a policy decision. The first four are the
#: codes of :func:`ioc_sim.engine.kernels.collaborations.review`.
STARTED, DEEPENED, QUIT, ENDED, COMPLETED, WINDING_DOWN = range(1, 7)
COLLAB_EVENTS = {
    STARTED: "started",
    DEEPENED: "deepened",
    QUIT: "dissolution began",
    ENDED: "dissolved",
    COMPLETED: "completed by a merger",
    WINDING_DOWN: "wind-down began",
}

#: How a collaboration ended (``Simulation.ending``): it quit, an improper ending that
#: scars its pairs; or it was wound down by a policy decision (or completed by a merger).
IMPROPER, WOUND_DOWN = 1, 2

#: What an organisation-log entry records: in special measures when the run starts,
#: entered or left them (the regulator's decisions), left them by being absorbed in a
#: merger, led a merger, or was absorbed by one.
IN_AT_START, ENTERED, LEFT, LEFT_BY_MERGER, MERGED, ABSORBED = range(6)
ORG_EVENTS = {
    IN_AT_START: "in special measures at the start",
    ENTERED: "entered special measures",
    LEFT: "left special measures",
    LEFT_BY_MERGER: "left special measures by merger",
    MERGED: "merger completed (continuing organisation)",
    ABSORBED: "absorbed in a merger",
}


def status_name(code: int) -> str:
    """Name of a collaboration status code."""
    return STAGES[code]
