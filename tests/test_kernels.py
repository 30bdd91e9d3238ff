"""The compiled monthly update (ioc_sim/engine/kernels/) against the numpy reference
phases (ioc_sim/engine/reference.py)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from ioc_sim.engine import ACTIVE, DEEPENING, DISSOLVED, DISSOLVING, kernels
from ioc_sim.engine.kernels.pairs import C_DEPTH, C_EXPOSURE, C_INTENSITY, C_SLACK
from ioc_sim.engine.reference import reference_step
from ioc_sim.engine.stages import DEEPENED, IMPROPER, QUIT
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
MONTH_END_STATE = (
    "faith",
    "progress",
    "performance",
    "distressed",
    "eff",
    "status",
    "rating",
    "deviation",
    "improvement",
    "embedded",
    "results",
)

IDS = [f"ORG{i:02d}" for i in range(1, 31)]

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
    # The collaboration ends within a few months: from then on no pair is live.
    dict(
        n_organisations=30,
        formation_months=0,
        dissolve_threshold=0.8,
        dissolve_patience=1,
        dissolve_hazard=0.3,
        dissolving_months=1,
        initial_trust=0.1,
        breach_signal=0.2,
    ),
    # Overlapping collaborations (pairs with several ties), one starting late, a
    # support window, a wind-down, a merger that rebuilds the structure, and an
    # organisation in special measures.
    dict(
        n_organisations=30,
        attention_budget=1.0,
        collaborations=[
            {"name": "all", "form": "alliance", "members": "all"},
            {"name": "net", "form": "clinical_network", "members": IDS[:12]},
            {"name": "ics", "form": "integrated_care_system", "members": IDS[6:24], "start": 2},
        ],
        events=[
            {"month": 1, "kind": "support", "collaboration": "net", "level": 0.9, "until": 4},
            {"month": 3, "kind": "merger", "organisations": ["ORG03", "ORG04", "ORG09"]},
            {"month": 5, "kind": "wind_down", "collaboration": "ics"},
        ],
        distressed_share=0.3,
    ),
]


@pytest.mark.parametrize(
    "kwargs",
    VARIANTS,
    ids=[
        "default",
        "gap-substitutes",
        "ratchet-shock",
        "blocked-wide-gate",
        "dissolved",
        "overlapping-merger",
    ],
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


@pytest.mark.parametrize(
    "kwargs, patches",
    [
        (dict(n_organisations=20, formation_months=3), True),
        (VARIANTS[4], True),
        (VARIANTS[5], False),
    ],
    ids=["formed", "dissolved", "overlapping-merger"],
)
def test_views_after_a_change_of_status_alone_equal_a_full_build(kwargs, patches):
    """When only a collaboration's status has changed (it started, or began to
    dissolve), the views are patched rather than built again: each time they are
    checked they must equal a full build made at that moment, bit for bit (but for the
    ties' exposure and support, which _tie_pack writes anew each month before they
    are read)."""
    from ioc_sim.engine.views import SimulationViews

    sim = build_simulation(kwargs, [3, 4])
    monthly = [C_EXPOSURE, kernels.TIE_ROWS.index("support")]
    patched = []

    def checked():
        before = sim._view_key
        views = SimulationViews._refresh_views(sim)
        patch = before is not None and sim._view_key[0] == before[0] and sim._view_key != before
        if patch:
            patched.append(sim.month)
        twin = copy.deepcopy(sim)
        del twin._refresh_views
        twin._view_key = None
        full = twin._refresh_views()
        if patch:  # nothing kept from before but what a full build makes (not the attention)
            assert set(views) == set(full)
        for name, value in full.items():
            mine = views[name]
            if name == "tie_pack":
                mine, value = np.delete(mine, monthly, axis=0), np.delete(value, monthly, axis=0)
            np.testing.assert_array_equal(mine, value, err_msg=f"{name}, month {sim.month}")
        return views

    sim._refresh_views = checked
    for _ in range(12):
        sim.step()
    assert bool(patched) == patches  # "formed" and "dissolved" do exercise the patch


@pytest.mark.parametrize("softness", [0.0, 0.05, 0.3])
@pytest.mark.parametrize(
    "barrier, blocked, shock_add",
    [(0.7, 0.4, 0.0), (1.0, 0.0, 0.2), (-0.3, 0.4, 0.1), (0.6, 1.5, 0.0)],
)
def test_acts_follow_the_act_probability(softness, barrier, blocked, shock_add):
    """pair_acts: a tie acts where its uniform draw is below the probability of acting,
    computed here in numpy, including where a factor is negative (outside the
    parameters' bounds) or the collaboration does no work; only ties that work read
    a draw, in tie order from each replicate's read position, which moves past
    them; recip follows from the acts."""
    rng = np.random.default_rng(11)
    r, e, c, m, n = 3, 300, 4, 5, 40
    tie_pair = np.sort(np.concatenate([np.arange(e), rng.integers(0, e, 100)]))
    t = len(tie_pair)
    tie_collab = rng.integers(0, c, t)
    tie_mem = rng.integers(0, m, t)
    tie_rev = rng.permutation(t)
    src = rng.integers(0, n, e)
    pack = rng.random((len(kernels.TIE_ROWS), r, c))
    pack[C_INTENSITY] = rng.choice([0.0, 0.5, 1.0], size=(r, c))
    pack[C_INTENSITY, 0, 0] = 0.5
    pack[C_INTENSITY, 0, 1] = 0.0
    pack[C_DEPTH, 0, 3] = -0.2  # a negative factor in one collaboration
    pack[C_INTENSITY, 2] = 0.0  # a replicate where nothing works
    risk = rng.random((r, e))
    attention = rng.uniform(0.3, 1.0, (r, n))
    start = np.array(
        [np.random.SFC64(seed).state["state"]["state"] for seed in range(3)], dtype=np.uint64
    )
    faith = rng.random((r, m))
    faith[1, 0] = -1.5  # 1 + faith < 0
    params = kernels.make_pack(kernels.ACT_PARAMS, gate_softness=softness)
    act, recip = np.empty((r, t), dtype=bool), np.empty((r, t), dtype=bool)
    ustate = start.copy()
    kernels.pair_acts(
        ustate,
        tie_pair,
        tie_collab,
        tie_mem,
        tie_rev,
        src,
        pack,
        faith,
        risk,
        attention,
        barrier,
        blocked,
        shock_add,
        params,
        act,
        recip,
    )
    gap = risk[:, tie_pair] - pack[C_EXPOSURE][:, tie_collab]
    if softness > 1e-6:
        gate = 1.0 / (1.0 + np.exp(-(gap / softness)))
    else:
        gate = (gap >= 0.0).astype(float)
    f = faith[:, tie_mem]
    intensity = pack[C_INTENSITY][:, tie_collab]
    slack, depth = pack[C_SLACK][:, tie_collab], pack[C_DEPTH][:, tie_collab]
    prob = slack * f + depth * gate * 0.5 * (1.0 + f) * (1.0 - blocked)
    prob = intensity * attention[:, src[tie_pair]] * prob * barrier
    prob = prob + shock_add * (intensity > 0)
    working = intensity > 0
    u = np.ones((r, t))
    after = start.copy()
    for i in range(r):
        u[i, working[i]] = kernels.sfc64_uniforms(after, i, int(working[i].sum()))
    assert 0 < working[0].sum() < t and working[2].sum() == 0
    np.testing.assert_array_equal(ustate, after)  # each moved past the numbers it drew
    np.testing.assert_array_equal(ustate[2], start[2])
    expected = u < np.minimum(prob, 1.0)
    np.testing.assert_array_equal(act, expected)
    np.testing.assert_array_equal(recip, act[:, tie_rev])


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 255, 1000, 1426, 7050, 20001])
def test_pairwise_sum_adds_as_numpy_does(n):
    x = np.random.default_rng(n).random(n + 1) * 1e3 - 300.0
    for lo in (0, 1):
        assert kernels.pairwise_sum(x, lo, n) == np.add.reduce(x[lo : lo + n])


def _review(month, status, mandate, support, trust, faith, progress, below, ready, **params):
    """Run kernels.review on collaborations of two members and two ties each (the last
    slot the dummy), from a fresh uniform stream; returns its outputs and the stream."""
    r, c = status.shape
    start = np.zeros(c)
    start[-1] = 10**9
    ustate = np.array(
        [np.random.SFC64(seed).state["state"]["state"] for seed in range(r)], dtype=np.uint64
    )
    arrays = dict(
        age=np.full((r, c), 20.0),
        left=np.zeros((r, c), dtype=np.int32),
        ending=np.zeros((r, c), dtype=np.int8),
        pending=np.full((r, c), 0.2),
        depth=np.full((r, c), 0.5),
    )
    tie_collab = np.repeat(np.arange(c - 1), 2)
    tie_pair = np.arange(len(tie_collab))
    mem_collab = np.append(np.repeat(np.arange(c - 1), 2), c - 1)
    pack = dict(
        formed=ACTIVE,
        formation_months=0.0,
        dissolve_threshold=0.35,
        dissolve_patience=6.0,
        dissolve_hazard=0.5,
        deepen_threshold=0.6,
        deepen_patience=12.0,
        deepen_hazard=0.5,
        policy_push=0.0,
        deepen_step=0.1,
        dissolving_months=3.0,
        integration_keep=0.9,
    )
    pack.update(params)
    ended = np.empty((r, c), dtype=bool)
    events = np.empty((r, c), dtype=np.int8)
    start_state = ustate.copy()
    kernels.review(
        month, start, ustate, status, arrays["age"], below, ready, arrays["left"],
        arrays["ending"], arrays["pending"], mandate, support, arrays["depth"], trust,
        tie_pair, tie_collab, faith, progress, mem_collab,
        kernels.make_pack(kernels.REVIEW_PARAMS, **pack), ended, events,
    )  # fmt: skip
    return arrays, ended, events, start_state, ustate


def test_review_ends_a_voluntary_collaboration_only_after_low_morale_and_by_chance():
    """review: a working voluntary collaboration whose morale (mean faith and progress)
    has been below the threshold for dissolve_patience months quits where its uniform
    draw is below dissolve_hazard; a mandated one, or one with too few such months,
    draws nothing and stays."""
    r = 6
    # Collaborations: voluntary and low for long; mandated and low for long; voluntary and
    # low for too short; then the dummy slot.
    status = np.array([[ACTIVE, ACTIVE, ACTIVE, DISSOLVED]] * r, dtype=np.int8)
    mandate = np.array([[0.0, 1.0, 0.0, 0.0]] * r)
    below = np.array([[5, 5, 1, 0]] * r, dtype=np.int32)
    ready = np.zeros((r, 4), dtype=np.int32)
    low = np.full((r, 7), 0.2)
    trust = np.full((r, 6), 0.2)
    arrays, ended, events, start, ustate = _review(
        10, status, mandate, np.zeros((r, 4)), trust, low, low, below, ready,
        dissolve_hazard=0.6,
    )  # fmt: skip
    first = [kernels.sfc64_uniforms(start.copy(), i, 1)[0] for i in range(r)]
    quits = np.array(first) < 0.6
    assert quits.any() and not quits.all()
    np.testing.assert_array_equal(status[:, 0], np.where(quits, DISSOLVING, ACTIVE))
    np.testing.assert_array_equal(status[:, 1:3], ACTIVE)
    np.testing.assert_array_equal(events[:, 0], np.where(quits, QUIT, 0))
    np.testing.assert_array_equal(arrays["ending"][:, 0], np.where(quits, IMPROPER, 0))
    np.testing.assert_array_equal(below[:, :3], [[6, 6, 2]] * r)
    after = start.copy()  # one draw each: only the first collaboration had a chance
    for i in range(r):
        kernels.sfc64_uniforms(after, i, 1)
    np.testing.assert_array_equal(ustate, after)


def test_review_deepens_after_small_wins_or_by_policy_push():
    """review: a collaboration whose readiness (mean trust and faith) has been a small
    win for deepen_patience months deepens with chance deepen_hazard; policy push adds
    mandate times support to the chance whatever the readiness. A deepening adds
    deepen_step to the depth and to the depth still to integrate, and starts the
    count of small wins again."""
    r = 4
    status = np.array([[ACTIVE, ACTIVE, DISSOLVED]] * r, dtype=np.int8)
    mandate = np.array([[0.0, 1.0, 0.0]] * r)
    support = np.array([[0.0, 1.0, 0.0]] * r)
    below = np.zeros((r, 3), dtype=np.int32)
    ready = np.array([[11, 0, 0]] * r, dtype=np.int32)
    high = np.full((r, 5), 0.8)
    trust = np.full((r, 4), 0.8)
    arrays, ended, events, start, ustate = _review(
        10, status, mandate, support, trust, high, high, below, ready,
        deepen_hazard=0.5, policy_push=0.4,
    )  # fmt: skip
    draws = [kernels.sfc64_uniforms(start.copy(), i, 2) for i in range(r)]
    first = np.array([d[0] < 0.5 for d in draws])  # ready: chance deepen_hazard
    second = np.array([d[1] < 0.4 for d in draws])  # pushed: mandate * support * 0.4
    for col, deep in ((0, first), (1, second)):
        np.testing.assert_array_equal(status[:, col], np.where(deep, DEEPENING, ACTIVE))
        np.testing.assert_allclose(arrays["depth"][:, col], np.where(deep, 0.6, 0.5))
        np.testing.assert_allclose(arrays["pending"][:, col], np.where(deep, 0.28, 0.18))
        np.testing.assert_array_equal(events[:, col], np.where(deep, DEEPENED, 0))
    np.testing.assert_array_equal(ready[:, 0], np.where(first, 0, 12))
    assert (first | second).any() and not (first & second).all()


def test_regulate_reads_a_draw_only_where_the_regulator_could_act():
    """kernels.regulate: an organisation out of special measures whose rating falls
    below the line draws the next uniform and enters if it is below the inspection
    rate; one in special measures that has held the exit rating for the required
    months draws and leaves the same way; the others draw none. Every organisation
    takes one normal of the fortunes stream, absorbed ones included."""
    r, n = 2, 5
    start = np.array(
        [np.random.SFC64(seed).state["state"]["state"] for seed in (1, 2)], dtype=np.uint64
    )
    first = [kernels.sfc64_uniforms(start.copy(), i, 3) for i in range(r)]
    rate = float(np.median(first[0]))
    params = kernels.make_pack(
        kernels.REGULATOR_PARAMS,
        distress_entry=0.4,
        distress_exit=0.5,
        distress_exit_months=3.0,
        inspection_rate=rate,
        regulator_memory=1.0,  # the rating is this month's score
        finance_weight=0.0,
        performance_noise=0.0,
        performance_persistence=0.0,
        improvement_rate=0.0,
        regime_support=0.0,
        help_effect=0.0,
        improvement_target=1.0,
        embedding_rate=0.0,
        fade_rate=0.0,
    )
    performance = np.array([[0.3, 0.6, 0.2, 0.6, 0.1], [0.6, 0.3, 0.6, 0.2, 0.6]])
    distressed = np.array([[False, False, False, True, False], [False, False, True, True, True]])
    ok = np.array([[0, 0, 0, 2, 0], [0, 0, 2, 0, 0]], dtype=np.int32)
    alive = np.array([True, True, True, True, False])
    changes = np.empty((r, n), dtype=np.int8)
    noise = np.zeros((r, 20))
    pos = np.zeros(r, dtype=np.int64)
    ustate = start.copy()
    empty = np.zeros(0, dtype=np.intp)
    kernels.regulate(
        ustate, noise, pos, performance, np.zeros(n), np.zeros(n), np.full(n, 0.5), alive,
        np.zeros((r, 0), dtype=bool), np.zeros(n + 1, dtype=np.intp), empty, empty, empty,
        distressed, ok, np.zeros((r, n)),
        np.zeros((r, n)), np.zeros((r, n)), np.zeros((r, n)), params, changes,
    )  # fmt: skip
    # Replicate 0: organisations 0 and 2 could enter (in that order), 3 could leave; 4 is
    # absorbed. Replicate 1: 1 could enter, 2 could leave; 3 recovers too briefly.
    d0 = first[0] < rate
    d1 = first[1] < rate
    np.testing.assert_array_equal(
        distressed,
        [[d0[0], False, d0[1], not d0[2], False], [False, d1[0], not d1[1], True, True]],
    )
    np.testing.assert_array_equal(
        changes,
        [
            [1 if d0[0] else 0, 0, 1 if d0[1] else 0, 2 if d0[2] else 0, 0],
            [0, 1 if d1[0] else 0, 2 if d1[1] else 0, 0, 0],
        ],
    )
    after = start.copy()
    kernels.sfc64_uniforms(after, 0, 3)
    kernels.sfc64_uniforms(after, 1, 2)
    np.testing.assert_array_equal(ustate, after)
    np.testing.assert_array_equal(pos, [n, n])


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
    monkeypatch.setattr(streams, "NOISE_BLOCK_MIN", 0)
    other = build_simulation(kwargs, [5, 6])
    assert other.noise.buf.shape[1] != default.noise.buf.shape[1]
    before = [g.bit_generator.state for g in other.rngs]
    for _ in range(30):
        default.step()
        other.step()
    for name in PAIR_STATE + ("faith", "progress", "distressed", "performance"):
        np.testing.assert_array_equal(getattr(default, name), getattr(other, name), err_msg=name)
    assert [g.bit_generator.state for g in other.rngs] == before
