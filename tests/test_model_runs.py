"""Behaviour of CollaborationModel through its public API: determinism, the Mesa
agents, batch runs and the data frames it reports."""

from __future__ import annotations

import inspect

import mesa
import numpy as np
import pandas as pd
import pytest
from model_cases import ORG_A, ORG_B, ORG_C, PAIR

from ioc_sim import CollaborationModel, ConfigError
from ioc_sim.model.agents import ProviderAgent


# ----------------------------------------------------------------- determinism
def test_same_seed_gives_identical_output():
    a = CollaborationModel(rng=11, n_organisations=10, months=24).run()
    b = CollaborationModel(rng=11, n_organisations=10, months=24).run()
    pd.testing.assert_frame_equal(a.model_dataframe(), b.model_dataframe())
    assert len(a.model_dataframe()) == 25
    assert a.model_dataframe().index.name == "month"


def test_different_seeds_give_different_output():
    a = CollaborationModel(rng=11, n_organisations=10, months=24).run().model_dataframe()
    b = CollaborationModel(rng=12, n_organisations=10, months=24).run().model_dataframe()
    # Same population and start, different dynamics.
    pd.testing.assert_series_equal(a.loc[0], b.loc[0], check_names=False)
    assert not np.allclose(a["collaborative_behaviour"], b["collaborative_behaviour"])
    assert not np.allclose(a["trust"], b["trust"])


def test_the_random_streams_are_a_function_of_the_seed_alone():
    """The model's two streams are seeded from its generator's seed, not drawn from
    it (Mesa itself takes one number from it, to seed its ``random``): drawing
    from or spawning off the generator first changes nothing. A generator
    without a seed sequence (a legacy
    bit generator) seeds them from its next draw, so the same legacy seed still
    gives the same run."""
    base = (
        CollaborationModel(rng=np.random.default_rng(21), n_organisations=10, months=12)
        .run()
        .model_dataframe()
    )
    g = np.random.default_rng(21)
    g.random(7)
    g.spawn(2)
    used = CollaborationModel(rng=g, n_organisations=10, months=12).run().model_dataframe()
    pd.testing.assert_frame_equal(used, base)

    def legacy(seed: int) -> pd.DataFrame:
        rng = np.random.Generator(np.random.RandomState(seed)._bit_generator)
        assert rng.bit_generator.seed_seq is None
        return CollaborationModel(rng=rng, n_organisations=10, months=12).run().model_dataframe()

    pd.testing.assert_frame_equal(legacy(5), legacy(5))
    assert not legacy(5)["trust"].equals(legacy(6)["trust"])


def test_population_seed_changes_the_population():
    a = CollaborationModel(rng=1, n_organisations=10, population_seed=1)
    b = CollaborationModel(rng=1, n_organisations=10, population_seed=2)
    assert a.agents.get("capacity") != b.agents.get("capacity")


def test_kept_populations_and_structures_are_fresh_copies_for_each_model():
    """Populations and interaction structures are kept by their inputs (a sweep builds
    the same few again and again): a later model gets equal values in arrays of its
    own, so edits to an earlier model's never reach it, and its own collaborations."""
    from ioc_sim.engine import structure

    a = CollaborationModel(rng=1, n_organisations=12, formalisation=0.9)
    st_a, pop_a = a.sim.st, a.sim.pop
    fresh = structure._build_structure(pop_a, st_a.collabs, a.params["partners_per_org"])
    for arr in (
        st_a.src,
        st_a.dst,
        st_a.rev,
        st_a.cands,
        st_a.mem_org,
        st_a.mem_collab,
        st_a.mem_lookup,
        st_a.compat,
        pop_a.attrs["culture"],
        pop_a.distressed,
    ):
        arr[...] = 0
    pop_a.ids[0] = "changed"
    b = CollaborationModel(rng=1, n_organisations=12, formalisation=0.1)
    for f in ("src", "dst", "rev", "cands", "mem_org", "mem_collab", "mem_lookup", "compat"):
        np.testing.assert_array_equal(getattr(b.sim.st, f), getattr(fresh, f), err_msg=f)
    assert b.sim.pop.ids[0] == "ORG01" and b.sim.pop.attrs["culture"].std() > 0
    assert b.sim.st.collabs[0].contexts["formalisation"] == 0.1
    assert st_a.collabs[0].contexts["formalisation"] == 0.9


@pytest.mark.parametrize(
    "name, value",
    [
        ("capacity_mean", 0.2),
        ("culture_spread", 0.9),
        ("distressed_share", 0.5),
        ("n_organisations", 13),
    ],
)
def test_each_population_parameter_changes_the_kept_population(name, value):
    base = CollaborationModel(rng=1, n_organisations=12).sim.pop
    other = CollaborationModel(rng=1, **{"n_organisations": 12, name: value}).sim.pop
    same = CollaborationModel(rng=1, n_organisations=12, trust_gain=0.3).sim.pop
    assert any(
        len(base.attrs[k]) != len(other.attrs[k])
        or not np.array_equal(base.attrs[k], other.attrs[k])
        for k in base.attrs
    )
    for k in base.attrs:
        np.testing.assert_array_equal(base.attrs[k], same.attrs[k])


def test_a_sweep_of_partners_per_org_builds_each_structure_once(monkeypatch):
    """The sobol benchmark sweeps partners_per_org over 2 to 12 in random order: all 11
    structures stay kept, so revisiting any of them builds nothing."""
    from ioc_sim.engine import structure

    built = []
    real = structure._build_structure
    monkeypatch.setattr(
        structure,
        "_build_structure",
        lambda pop, collabs, k: built.append(k) or real(pop, collabs, k),
    )
    ks = list(range(2, 13))
    for k in ks + ks[::-1]:
        CollaborationModel(rng=1, n_organisations=15, population_seed=977, partners_per_org=k)
    assert sorted(built) == ks


# ---------------------------------------------------------------------- agents
def test_agents_are_provider_agents_selectable_with_agentset_verbs():
    model = CollaborationModel(rng=3, n_organisations=20, months=6)
    assert len(model.agents) == 20
    assert all(isinstance(a, ProviderAgent) for a in model.agents)
    assert sorted(model.agents.get("code")) == [f"ORG{i:02d}" for i in range(1, 21)]
    acute = model.agents.select(lambda a: a.org_type == "acute")
    assert 0 < len(acute) < 20
    assert all(a.org_type == "acute" for a in acute)
    types = model.agents.get("org_type")
    assert len(acute) == types.count("acute")
    for name in ("capacity", "finances", "culture", "digital_maturity", "vulnerability"):
        values = model.agents.get(name)
        assert all(0.0 <= v <= 1.0 for v in values), name
    assert all(-1.0 <= v <= 1.0 for v in model.agents.get("resolution_style"))
    assert all(v > 0 for v in model.agents.get("size"))
    by_type = model.agents.groupby("org_type").count()
    assert sum(by_type.values()) == 20
    model.run()
    assert all(0.0 <= v <= 1.0 for v in model.agents.get("collaborative_behaviour"))


def test_agent_lookup_and_hand_built_attributes():
    model = CollaborationModel(rng=1, organisations=[ORG_A, ORG_B], months=3)
    a = model.agent("A")
    assert (a.name, a.org_type, a.size, a.capacity, a.culture) == (
        "Alpha Hospitals",
        "acute",
        1.2,
        0.6,
        0.3,
    )
    assert model.agent("B").distressed is True
    assert a.merged_into is None
    assert "A" in repr(a)
    with pytest.raises(KeyError):
        model.agent("Z")


def test_trust_in_partner_and_keyerror_for_non_partner():
    collabs = [{"name": "ab", "members": ["A", "B"]}, {"name": "bc", "members": ["B", "C"]}]
    model = CollaborationModel(
        rng=1, organisations=[ORG_A, ORG_B, ORG_C], collaborations=collabs, months=3
    )
    a, b, c = (model.agent(k) for k in "ABC")
    assert 0.0 <= a.trust_in(b) <= 1.0
    assert {p.code for p in b.partners} == {"A", "C"}
    assert [p.code for p in a.partners] == ["B"]
    for method in (a.trust_in, a.confidence_in, a.risk_threshold_with, a.conflict_with):
        with pytest.raises(KeyError, match="A does not work directly with C"):
            method(c)


# ------------------------------------------------------------------- batch run
def repeats(n: int) -> dict:
    """batch_run's repeats: seeds with ``rng=`` (Mesa 3.4 and later, which deprecates
    ``iterations=``), or ``iterations=`` (Mesa 3.3, which has no ``rng=``)."""
    if "rng" in inspect.signature(mesa.batch_run).parameters:
        return {"rng": list(range(n))}
    return {"iterations": n}


def test_mesa_batch_run_returns_reporter_columns():
    rows = mesa.batch_run(
        CollaborationModel,
        parameters={"n_organisations": 8, "shared_vision": [0.2, 0.8], "months": 12},
        **repeats(2),
        max_steps=12,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 4  # 2 settings x 2 iterations, last step only
    df = pd.DataFrame(rows)
    for column in (
        "trust",
        "faith",
        "confidence",
        "risk_threshold",
        "conflict",
        "collaborative_behaviour",
        "organisational_performance",
        "live_collaborations",
        "shared_vision",
        "RunId",
        "iteration",
        "Step",
    ):
        assert column in df.columns, column
    assert sorted(df["shared_vision"]) == [0.2, 0.2, 0.8, 0.8]
    assert df[["trust", "faith", "conflict"]].notna().all().all()


def test_batch_run_stops_at_months():
    # max_steps allows 13 steps; the model stops itself after `months` = 5.
    rows = mesa.batch_run(
        CollaborationModel,
        parameters={"rng": 9, "n_organisations": 6, "months": 5},
        max_steps=12,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 1
    # Mesa 3.3 reports step index model.steps - 1 (mesa issue #2514: batch_run drops the
    # last collected row), so a run that stopped at 5 months reports step 4 ...
    assert rows[0]["Step"] in (4, 5)
    # ... and the reported values are the model's own for that month, same seed.
    alone = CollaborationModel(rng=9, n_organisations=6, months=5).run().model_dataframe()
    for name in ("trust", "faith", "collaborative_behaviour", "organisational_performance"):
        assert rows[0][name] == alone.loc[rows[0]["Step"], name]
    model = CollaborationModel(rng=1, n_organisations=6, months=5)
    while model.running:
        model.step()
    assert model.steps == 5
    assert len(model.model_dataframe()) == 6


def test_run_continues_by_months_and_rejects_negative():
    model = CollaborationModel(rng=1, n_organisations=6, months=10)
    model.run(3)
    assert model.steps == 3 and model.running
    model.run()
    assert model.steps == 10 and not model.running
    with pytest.raises(ConfigError) as err:
        model.run(-1)
    assert err.value.field == "months"


# --------------------------------------------------------------- data frames
def test_organisation_dataframe_when_collected():
    model = CollaborationModel(rng=5, n_organisations=7, months=4, collect_organisations=True).run()
    df = model.organisation_dataframe()
    assert len(df) == 7 * 5
    assert {
        "month",
        "agent_id",
        "code",
        "type",
        "collaborative_behaviour",
        "mean_trust",
        "faith",
        "quality",
        "efficiency",
        "access",
        "performance",
        "collaboration_cost",
        "distressed",
    } <= set(df.columns)
    assert sorted(df["month"].unique()) == [0, 1, 2, 3, 4]
    last = df[df["month"] == 4].set_index("code")
    for agent in model.agents:
        assert last.loc[agent.code, "collaborative_behaviour"] == agent.collaborative_behaviour
        assert last.loc[agent.code, "mean_trust"] == agent.mean_trust
        assert last.loc[agent.code, "type"] == agent.org_type
    assert (
        df[["quality", "efficiency", "access", "performance"]]
        .apply(lambda s: s.between(0, 1).all())
        .all()
    )


def test_pair_dataframe_when_collected():
    model = CollaborationModel(
        rng=5, organisations=[ORG_A, ORG_B, ORG_C], months=3, collect_pairs=True
    ).run()
    df = model.pair_dataframe()
    assert list(df.columns) == [
        "month",
        "source",
        "target",
        "trust",
        "confidence",
        "risk_threshold",
        "conflict",
    ]
    assert len(df) == 4 * 6  # 4 months (0..3) x 6 ordered pairs
    last = df[df["month"] == 3]
    for row in last.itertuples():
        x, y = model.agent(row.source), model.agent(row.target)
        assert row.trust == x.trust_in(y)
        assert row.confidence == x.confidence_in(y)
        assert row.risk_threshold == x.risk_threshold_with(y)
        assert row.conflict == x.conflict_with(y)
    first = df[df["month"] == 0]
    # Default contexts: 0.4 + 0.2*0 + 0.1*0.3 for every pair at the start.
    assert np.allclose(first["trust"], 0.43, atol=1e-12, rtol=0)
    monthly_mean = df.groupby("month")["trust"].mean()
    assert np.allclose(
        monthly_mean.values, model.model_dataframe()["trust"].values, atol=1e-12, rtol=0
    )


def test_uncollected_dataframes_raise_config_error():
    model = CollaborationModel(rng=5, n_organisations=5, months=2).run()
    with pytest.raises(ConfigError, match="collect_organisations=True") as err:
        model.organisation_dataframe()
    assert err.value.field == "collect_organisations"
    with pytest.raises(ConfigError, match="collect_pairs=True") as err:
        model.pair_dataframe()
    assert err.value.field == "collect_pairs"
    assert issubclass(ConfigError, ValueError)


def test_collaborations_table():
    model = CollaborationModel(
        rng=1,
        organisations=[ORG_A, ORG_B, ORG_C],
        collaborations=[PAIR, {"name": "all3", "form": "buddying", "start": 2}],
        months=3,
    )
    df = model.collaborations().set_index("name")
    assert list(df.index) == ["pair", "all3"]
    assert df.loc["pair", "members"] == "A, B"
    assert df.loc["all3", "members"] == "A, B, C"
    assert df.loc["all3", "form"] == "buddying"
    assert df.loc["all3", "mandate"] == 1.0  # the buddying preset
    assert df.loc["pair", "shared_vision"] == 0.8  # the table's own override
    assert df.loc["all3", "start"] == 2
    assert df.loc["all3", "status"] == "planned"


def test_model_keyword_context_overrides_every_collaboration():
    model = CollaborationModel(
        rng=1,
        organisations=[ORG_A, ORG_B, ORG_C],
        collaborations=[PAIR, {"name": "all3", "form": "buddying"}],
        shared_vision=0.1,
        months=3,
    )
    assert list(model.collaborations()["shared_vision"]) == [0.1, 0.1]
