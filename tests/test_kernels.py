"""The compiled monthly update (ioc_sim/kernels.py) against the numpy reference phases."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from ioc_sim import kernels
from ioc_sim.execution import build_simulation

PAIR_STATE = ("trust", "confidence", "risk", "conflict", "act", "recip", "act_prob", "damage",
              "honoured", "breached")

VARIANTS = [
    dict(n_organisations=30),
    dict(n_organisations=30, trust_update="expectation_gap", trust_confidence="substitutes",
         fragile="equal", gate_softness=0.0, breach_signal=0.2),
    dict(n_organisations=30, trust_update="ratchet", trust_confidence="crowding_out",
         fragile="confidence", breach_signal=0.3,
         events=[{"month": 3, "kind": "shock", "magnitude": 0.8}]),
]


@pytest.mark.parametrize("kwargs", VARIANTS, ids=["default", "gap-substitutes", "ratchet-shock"])
def test_compiled_pair_phases_equal_the_numpy_phases(kwargs):
    """Simulation.pair_phases (one compiled pass) gives the same bits as choose_acts,
    exchange, update_conflict, update_trust, update_confidence and update_risk_threshold
    called in turn, with the same random draws, in a batch of two replicates."""
    sim = build_simulation(kwargs, [3, 4])
    for _ in range(8):
        twin = copy.deepcopy(sim)
        sim.step()
        twin.month += 1
        twin._memo.clear()
        twin.apply_scheduled_changes()
        twin.review_collaborations()
        twin.choose_acts()
        outcome = twin.exchange()
        twin.update_conflict(outcome)
        twin.update_trust(outcome)
        twin.update_confidence()
        twin.update_risk_threshold()
        for name in PAIR_STATE:
            np.testing.assert_array_equal(getattr(sim, name), getattr(twin, name), err_msg=name)


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 255, 1000, 1426, 7050, 20001])
def test_pairwise_sum_adds_as_numpy_does(n):
    x = np.random.default_rng(n).random(n + 1) * 1e3 - 300.0
    for lo in (0, 1):
        assert kernels.pairwise_sum(x, lo, n) == np.add.reduce(x[lo:lo + n])
