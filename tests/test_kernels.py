"""The compiled monthly update (ioc_sim/engine/kernels/) against the numpy reference
phases (ioc_sim/engine/reference.py)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from ioc_sim.engine import ACTIVE, DEEPENING, DISSOLVED, PLANNED, kernels
from ioc_sim.engine.kernels.pairs import P_DEPTH, P_INTENSITY, P_SLACK
from ioc_sim.engine.reference import reference_step
from ioc_sim.experiments.replicates import start as build_simulation

PAIR_STATE = (
    "trust",
    "confidence",
    "risk",
    "conflict",
    "act",
    "recip",
    "damage",
    "honoured",
    "breached",
)
#: State the phases after the pairs' write, from the pairs' state.
MONTH_END_STATE = ("faith", "progress", "performance", "distressed", "eff", "status")

VARIANTS = [
    dict(n_organisations=30),
    dict(
        n_organisations=30,
        trust_update="expectation_gap",
        trust_confidence="substitutes",
        fragile="equal",
        gate_softness=0.0,
        breach_signal=0.2,
    ),
    dict(
        n_organisations=30,
        trust_update="ratchet",
        trust_confidence="crowding_out",
        fragile="confidence",
        breach_signal=0.3,
        events=[{"month": 3, "kind": "shock", "magnitude": 0.8}],
    ),
    dict(
        n_organisations=30,
        gate_softness=0.3,
        regulatory_blocking=0.9,
        blocking_effect=1.0,
        competition=1.0,
        competition_effect=1.0,
        outcome_noise=0.0,
        events=[{"month": 2, "kind": "shock", "magnitude": 0.5}],
    ),
    # The collaboration ends in month 2: from then on no pair is live (the kernels'
    # shortcut for idle replicates).
    dict(
        n_organisations=30,
        formation_months=0,
        dissolve_threshold=0.6,
        dissolve_patience=1,
        dissolving_months=1,
        initial_trust=0.1,
        breach_signal=0.2,
    ),
]


@pytest.mark.parametrize(
    "kwargs",
    VARIANTS,
    ids=["default", "gap-substitutes", "ratchet-shock", "blocked-wide-gate", "dissolved"],
)
def test_compiled_pair_phases_equal_the_numpy_phases(kwargs):
    """Simulation.step, whose pairs' phases run in two compiled passes (choose_acts,
    update_relations), gives the same bits as reference_step, which runs the numpy
    reference's choose_acts, exchange, update_conflict, update_trust, update_confidence
    and update_risk_threshold in turn, with the same random draws, in a batch of two
    replicates."""
    sim = build_simulation(kwargs, [3, 4])
    for _ in range(8):
        twin = copy.deepcopy(sim)
        sim.step()
        reference_step(twin)
        for name in PAIR_STATE + MONTH_END_STATE:
            np.testing.assert_array_equal(getattr(sim, name), getattr(twin, name), err_msg=name)


@pytest.mark.parametrize("softness", [0.0, 0.05, 0.3])
@pytest.mark.parametrize(
    "barrier, blocked, shock_add",
    [(0.7, 0.4, 0.0), (1.0, 0.0, 0.2), (-0.3, 0.4, 0.1), (0.6, 1.5, 0.0)],
)
def test_acts_follow_the_act_probability(softness, barrier, blocked, shock_add):
    """pair_acts: a pair acts where its uniform draw is below the probability of acting,
    computed here in numpy, including where a factor is negative (outside the
    parameters' bounds) or the collaboration does no work; only pairs that work read
    a draw, in pair order from each replicate's read position, which moves past
    them; recip follows from the acts."""
    rng = np.random.default_rng(11)
    r, e, c, m = 3, 400, 3, 5
    pack = rng.random((len(kernels.PACK_ROWS), r, e))
    pack[P_INTENSITY] = rng.choice([0.0, 0.5, 1.0], size=(r, e))
    pack[P_DEPTH, 0, :50] = -0.2  # a negative factor on some pairs
    pack[P_INTENSITY, 2] = 0.0  # a replicate where no pair works
    risk = rng.random((r, e))
    start = np.array(
        [np.random.SFC64(seed).state["state"]["state"] for seed in range(3)], dtype=np.uint64
    )
    edge_collab, edge_mem = rng.integers(0, c, (r, e)), rng.integers(0, m, (r, e))
    rev = rng.permutation(e)
    depth_c, ambition_c, faith = rng.random((r, c)), rng.random((r, c)), rng.random((r, m))
    faith[1, 0] = -1.5  # 1 + faith < 0
    half_scale = 0.4
    params = kernels.make_pack(
        kernels.ACT_PARAMS, exposure_half_scale=half_scale, gate_softness=softness
    )
    act, recip = np.empty((r, e), dtype=bool), np.empty((r, e), dtype=bool)
    ustate = start.copy()
    kernels.pair_acts(
        ustate,
        edge_collab,
        edge_mem,
        rev,
        depth_c,
        ambition_c,
        faith,
        pack,
        risk,
        barrier,
        blocked,
        shock_add,
        params,
        act,
        recip,
    )
    ridx = np.arange(r)[:, None]
    exposure = half_scale * (depth_c[ridx, edge_collab] + ambition_c[ridx, edge_collab])
    if softness > 1e-6:
        gate = 1.0 / (1.0 + np.exp(-((risk - exposure) / softness)))
    else:
        gate = (risk >= exposure).astype(float)
    f = faith[ridx, edge_mem]
    intensity = pack[P_INTENSITY]
    prob = pack[P_SLACK] * f + pack[P_DEPTH] * gate * 0.5 * (1.0 + f) * (1.0 - blocked)
    prob = intensity * prob * barrier + shock_add * (intensity > 0)
    working = intensity > 0
    u = np.ones((r, e))
    after = start.copy()
    for i in range(r):
        u[i, working[i]] = kernels.sfc64_uniforms(after, i, int(working[i].sum()))
    assert 0 < working[0].sum() < e and working[2].sum() == 0
    np.testing.assert_array_equal(ustate, after)  # each moved past the numbers it drew
    np.testing.assert_array_equal(ustate[2], start[2])
    expected = u < np.minimum(prob, 1.0)
    np.testing.assert_array_equal(act, expected)
    np.testing.assert_array_equal(recip, act[:, rev])


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 255, 1000, 1426, 7050, 20001])
def test_pairwise_sum_adds_as_numpy_does(n):
    x = np.random.default_rng(n).random(n + 1) * 1e3 - 300.0
    for lo in (0, 1):
        assert kernels.pairwise_sum(x, lo, n) == np.add.reduce(x[lo : lo + n])


def test_review_deepens_only_where_trust_and_faith_both_exceed_the_threshold():
    """review: trust is read only where faith could let a collaboration deepen, so the
    cases where faith alone, trust alone or both exceed the threshold are checked here,
    including a planned collaboration that starts active this month."""
    r, month = 4, 5
    status = np.array([[ACTIVE, PLANNED, DISSOLVED]] * r, dtype=np.int8)
    start = np.array([0, month, 10**9])
    age, depth = np.zeros((r, 3)), np.full((r, 3), 0.5)
    below, left = np.zeros((r, 3), dtype=np.int32), np.zeros((r, 3), dtype=np.int32)
    mandate = np.ones((r, 3))
    edge_collab = np.array([[0, 0, 1, 1]] * r)
    trust = np.array([[0.9] * 4, [0.9] * 4, [0.3] * 4, [0.9] * 4])
    mem_collab = np.array([0, 0, 1, 1, 2])
    # The last: only the collaboration that starts this month has the faith to deepen.
    faith = np.array([[0.9] * 5, [0.2] * 5, [0.9] * 5, [0.2, 0.2, 0.9, 0.9, 0.9]])
    ended = np.empty((r, 3), dtype=bool)
    params = kernels.make_pack(
        kernels.REVIEW_PARAMS,
        formed=ACTIVE,
        formation_months=0.0,
        dissolve_threshold=0.1,
        dissolve_patience=6.0,
        deepen_threshold=0.6,
        deepen_rate=0.01,
        dissolving_months=3.0,
    )
    kernels.review(
        month,
        start,
        status,
        age,
        below,
        left,
        mandate,
        depth,
        trust,
        edge_collab,
        faith,
        mem_collab,
        params,
        ended,
    )
    assert status[:, :2].tolist() == [
        [DEEPENING, DEEPENING],
        [ACTIVE, ACTIVE],
        [ACTIVE, ACTIVE],
        [ACTIVE, DEEPENING],
    ]
    np.testing.assert_array_equal(depth[:, :2], [[0.51, 0.51], [0.5, 0.5], [0.5, 0.5], [0.5, 0.51]])


def test_distress_reads_a_draw_only_where_an_organisation_could_enter():
    """kernels.distress: an organisation out of special measures with performance below
    the entry level draws the next uniform and enters if it is below the entry rate;
    the others draw none. One in special measures leaves after exit_months above
    the exit level, and its count restarts below it."""
    start = np.array(
        [np.random.SFC64(seed).state["state"]["state"] for seed in (1, 2)], dtype=np.uint64
    )
    first = [kernels.sfc64_uniforms(start.copy(), r, 3) for r in range(2)]
    performance = np.array([[0.3, 0.5, 0.2, 0.7, 0.5, 0.1], [0.7, 0.3, 0.7, 0.7, 0.7, 0.7]])
    distressed = np.array(
        [[False, False, False, True, True, False], [False, False, True, True, False, False]]
    )
    ok_months = np.array([[0, 0, 0, 2, 2, 0], [0, 0, 0, 1, 0, 0]], dtype=np.int32)
    # Replicate 0: organisations 0, 2 and 5 could enter and draw in that order;
    # replicate 1: organisation 1 alone.
    rate = float(np.median(first[0]))
    enters = first[0] < rate
    assert enters.any() and not enters.all()
    ustate = start.copy()
    out, ok_out = np.empty_like(distressed), np.empty_like(ok_months)
    params = kernels.make_pack(
        kernels.DISTRESS_PARAMS,
        distress_entry=0.4,
        distress_entry_rate=rate,
        distress_exit=0.6,
        distress_exit_months=3.0,
    )
    kernels.distress(ustate, performance, distressed, ok_months, params, out, ok_out)
    np.testing.assert_array_equal(
        out,
        [
            [enters[0], False, enters[1], False, True, enters[2]],
            [False, first[1][0] < rate, True, True, False, False],
        ],
    )
    np.testing.assert_array_equal(ok_out, [[0, 0, 0, 0, 0, 0], [0, 0, 1, 2, 0, 0]])
    after = start.copy()  # each replicate's stream moved past exactly the draws it made
    kernels.sfc64_uniforms(after, 0, 3)
    kernels.sfc64_uniforms(after, 1, 1)
    np.testing.assert_array_equal(ustate, after)


@pytest.mark.parametrize("seed", [0, 5, 20234])
def test_the_compiled_uniform_stream_is_numpys_sfc64(seed):
    """sfc64_uniforms steps numpy's SFC64 algorithm: from the state numpy seeds, it
    gives exactly Generator(SFC64).random(), across calls of any length."""
    bits = np.random.SFC64(np.random.SeedSequence(seed))
    state = np.array([bits.state["state"]["state"]], dtype=np.uint64)
    expected = np.random.Generator(bits).random(5000)
    got = np.concatenate([kernels.sfc64_uniforms(state, 0, n) for n in (1, 0, 999, 4000)])
    np.testing.assert_array_equal(got, expected)
    assert state[0, 3] == bits.state["state"]["state"][3]  # the counters agree too


@pytest.mark.parametrize("months", [1, 50])
def test_the_size_of_the_drawn_ahead_blocks_changes_no_number(monkeypatch, months):
    """The noise stream is read in order, so drawing it ahead a month at a time
    (refilled every month) or 50 months at a time gives the same run, bit for bit,
    as the default block; and the model's generator itself is never drawn from."""
    from ioc_sim.engine import streams

    kwargs = dict(
        n_organisations=30,
        outcome_noise=0.3,
        events=[{"month": 4, "kind": "shock", "magnitude": 0.6}],
    )
    default = build_simulation(kwargs, [5, 6])
    monkeypatch.setattr(streams, "NOISE_BLOCK_MONTHS", months)
    other = build_simulation(kwargs, [5, 6])
    assert other.noise.buf.shape[1] != default.noise.buf.shape[1]
    before = [g.bit_generator.state for g in other.rngs]
    for _ in range(30):
        default.step()
        other.step()
    for name in PAIR_STATE + ("faith", "progress", "distressed", "performance"):
        np.testing.assert_array_equal(getattr(default, name), getattr(other, name), err_msg=name)
    assert [g.bit_generator.state for g in other.rngs] == before
