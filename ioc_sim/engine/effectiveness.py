"""The six components of effectiveness through collaboration and how the three
performance mechanisms load on them (``docs/ODD.md`` section 10)."""

from __future__ import annotations

import numpy as np

#: The six components of effectiveness through collaboration (theory 2.4).
COMPONENTS = (
    "innovation",
    "less_duplication",
    "best_practice",
    "access_to_resources",
    "fewer_service_gaps",
    "influence",
)
#: Loadings of each component on (cultural efficacy, organisational
#: efficiency, technological effectiveness). Our reading; rows sum to one.
LOADINGS = np.array(
    [
        [0.5, 0.0, 0.5],  # innovation: shared culture and shared platforms
        [0.0, 0.7, 0.3],  # less duplication: governance and shared systems
        [0.6, 0.0, 0.4],  # best practice shared: relationships and information flow
        [0.4, 0.6, 0.0],  # access to resources: pooled governance and goodwill
        [0.3, 0.4, 0.3],  # fewer service gaps: all three
        [0.7, 0.3, 0.0],  # influence: a united front
    ]
)
#: Back-office components arrive at ``benefit_lag``; service components are
#: slower by ``service_lag_ratio`` (theory 7, pattern 1).
BACK_OFFICE = np.array([False, True, False, True, False, False])
