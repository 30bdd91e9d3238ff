"""What Mesa users bring: seed= as well as rng=, numpy numbers, mesa.batch_run with a
scenario's keywords, Mesa's own data-collection bookkeeping, and memory that is freed."""

from __future__ import annotations

import gc
import inspect
import weakref

import mesa
import numpy as np
import pandas as pd
import pytest

from ioc_sim import CollaborationModel, ConfigError, load_scenario
from ioc_sim.model import metrics

SMALL = {"n_organisations": 8, "months": 6}


# ------------------------------------------------------------------ seed and rng
def test_seed_is_the_same_as_rng():
    by_seed = CollaborationModel(seed=42, **SMALL).run().model_dataframe()
    by_rng = CollaborationModel(rng=42, **SMALL).run().model_dataframe()
    pd.testing.assert_frame_equal(by_seed, by_rng)


def test_seed_and_rng_together_are_refused():
    with pytest.raises(ConfigError) as err:
        CollaborationModel(seed=1, rng=1, **SMALL)
    assert err.value.field == "seed"


@pytest.mark.parametrize("bad", [-1, 2**63, 2**70, 1.5, "42", True, [1, 2]])
@pytest.mark.parametrize("name", ["rng", "seed"])
def test_an_unusable_seed_is_refused_naming_it(name, bad):
    with pytest.raises(ConfigError) as err:
        CollaborationModel(**{name: bad}, **SMALL)
    assert err.value.field == name
    assert "a whole number from 0 to 9223372036854775807" in str(err.value)


def test_the_api_takes_every_seed_the_command_line_takes():
    from ioc_sim.cli.main import _seed

    assert _seed(str(2**63 - 1)) == 2**63 - 1
    with pytest.raises(Exception, match="seed must be from 0 to"):
        _seed(str(2**63))
    for good in (0, 2**63 - 1, np.uint64(7), np.random.default_rng(3), np.random.SeedSequence(3)):
        CollaborationModel(rng=good, **SMALL)


def test_numpy_integer_seed_gives_the_int_s_numbers():
    a = CollaborationModel(rng=np.int64(7), **SMALL).run().model_dataframe()
    b = CollaborationModel(rng=7, **SMALL).run().model_dataframe()
    pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------------------------ numpy values
def test_numpy_numbers_are_accepted_for_parameters():
    a = CollaborationModel(
        rng=3, n_organisations=np.int64(8), months=np.int32(6), shared_vision=np.float32(0.5)
    )
    b = CollaborationModel(rng=3, n_organisations=8, months=6, shared_vision=float(np.float32(0.5)))
    assert a.params["n_organisations"] == 8 and type(a.params["n_organisations"]) is int
    pd.testing.assert_frame_equal(a.run().model_dataframe(), b.run().model_dataframe())


def test_numpy_whole_numbers_that_are_not_whole_are_still_refused():
    with pytest.raises(ConfigError) as err:
        CollaborationModel(rng=1, n_organisations=np.float64(8.5))
    assert err.value.field == "n_organisations"
    with pytest.raises(ConfigError):
        CollaborationModel(rng=1, n_organisations=np.bool_(True))


def test_numpy_event_month_is_accepted():
    events = [{"month": np.int64(2), "kind": "shock", "magnitude": 0.5}]
    CollaborationModel(rng=1, events=events, **SMALL).run()


# ------------------------------------------------------------------- batch_run
def repeats(n: int) -> dict:
    """Seeds with rng= (Mesa 3.4 and later) or iterations= (Mesa 3.3, no rng=)."""
    if "rng" in inspect.signature(mesa.batch_run).parameters:
        return {"rng": list(range(n))}
    return {"iterations": n}


def batch(parameters: dict, n: int = 1) -> list[dict]:
    return mesa.batch_run(
        CollaborationModel,
        parameters=parameters,
        **repeats(n),
        max_steps=parameters.get("months", 6),
        number_processes=1,
        display_progress=False,
    )


def test_a_scenario_s_one_collaboration_is_not_swept():
    sc = load_scenario("default")
    assert len(sc.collaborations) == 1
    rows = batch({**sc.model_kwargs(), "months": 4, "shared_vision": [0.2, 0.8]})
    assert len(rows) == 2  # the two shared_vision values, the one collaboration in each
    alone = sc.build(seed=0, months=4, shared_vision=0.8).run().model_dataframe()
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # seeded rows to compare
        row = next(r for r in rows if r["shared_vision"] == 0.8)
        assert row["trust"] == alone["trust"].iloc[-1]


def test_a_scenario_s_longer_lists_are_refused_unless_wrapped():
    sc = load_scenario("buddying")
    assert len(sc.collaborations) == 2
    kwargs = {**sc.model_kwargs(), "months": 3}
    with pytest.raises(ConfigError, match=r"one of a list of \d tables.*wrapped"):
        batch(kwargs)
    # Mesa's way to pass a list as one value: wrap it in another list.
    wrapped = {k: ([v] if isinstance(v, list) else v) for k, v in kwargs.items()}
    rows = batch(wrapped)
    assert len(rows) == 1


def test_a_single_collaboration_table_is_a_list_of_one():
    table = {"name": "pair", "form": "alliance", "members": "all"}
    one = CollaborationModel(rng=2, collaborations=table, **SMALL)
    listed = CollaborationModel(rng=2, collaborations=[table], **SMALL)
    pd.testing.assert_frame_equal(one.collaborations(), listed.collaborations())


def test_fast_collection_keeps_mesa_s_bookkeeping():
    """What the model stores each month equals what Mesa's public collect() stores."""
    model = CollaborationModel(rng=4, **SMALL)
    reference = mesa.DataCollector(model_reporters=metrics.model_reporters())
    reference.collect(model)
    for _ in range(3):
        model.step()
        reference.collect(model)
    ours, theirs = vars(model.datacollector), vars(reference)
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        if key in ("model_reporters", "_validated") or callable(value):
            continue
        assert ours[key] == value, key


def test_batch_run_rows_on_every_collection_step():
    rows = mesa.batch_run(
        CollaborationModel,
        parameters={"n_organisations": 6, "months": 4},
        **repeats(1),
        max_steps=4,
        data_collection_period=1,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) >= 4 and all(np.isfinite(r["trust"]) for r in rows)


# ---------------------------------------------------------------------- memory
def test_a_finished_model_is_freed():
    """Mesa 3.3 kept every model in a class-level table (mesa#3179); ours leaves it."""
    model = CollaborationModel(rng=5, **SMALL).run()
    assert model not in getattr(mesa.Agent, "_ids", {})
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None
