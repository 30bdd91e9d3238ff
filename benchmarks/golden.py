"""Save or check golden outputs, to prove that a speed-up changed no number.

    python benchmarks/golden.py save  [--dir DIR]   # before optimising
    python benchmarks/golden.py check [--dir DIR]   # after every change
    python benchmarks/golden.py compare [REF]       # side by side with git REF (HEAD)

For every case it stores the model-level data frame (columns and values), the
final pair and membership state (trust, confidence, risk, conflict, faith,
progress) and a few collaboration-level arrays; optional organisation and pair
data frames; and, for a batch of replicates advanced together, the metrics of
every replicate every month. ``check`` compares with
``np.testing.assert_allclose(rtol=1e-10, atol=1e-12)`` and also asserts that
each replicate of the batch equals the same replicate run alone.

Golden files are written outside the repository by default (``/tmp``); they
are a local safety net, not test fixtures. ``compare`` needs no saved files: it
imports the package as it is at a git ref under another name and runs both,
including direct edits of the state between months (which the caches must
notice), requiring equal bits every month.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ioc_sim import CollaborationModel
from ioc_sim.engine import Simulation
from ioc_sim.model import metrics as ioc_metrics

RTOL, ATOL = 1e-10, 1e-12

EVENTS = [
    {"month": 10, "kind": "shock", "magnitude": 0.8},
    {"month": 20, "kind": "regime_switch", "competition": 0.1},
    {"month": 5, "kind": "leadership_turnover", "organisation": "ORG01"},
    {"month": 30, "kind": "merger", "organisations": ["ORG02", "ORG03"]},
    {"month": 3, "kind": "support", "collaboration": "main", "level": 0.8, "until": 40},
]

VARIANT = dict(
    n_organisations=50,
    trust_update="expectation_gap",
    trust_confidence="substitutes",
    fragile="equal",
    mandate_faith="raises",
    performance_form="additive",
    gate_softness=0.0,
)


def _ids(n: int) -> list[str]:
    return [f"ORG{i + 1:02d}" for i in range(n)]


# Several overlapping collaborations with staggered starts, one that should
# dissolve (bad history, low vision), plus "set" events on an organisation, a
# collaboration and the system: exercises edge reassignment and every cache.
MULTI = dict(
    n_organisations=40,
    collaborations=[
        {"name": "net", "form": "clinical_network", "members": "all"},
        {"name": "west", "form": "federation", "members": _ids(20), "start": 4},
        {
            "name": "weak",
            "form": "alliance",
            "members": _ids(40)[10:30],
            "start": 2,
            "history": -0.9,
            "shared_vision": 0.0,
            "evaluation": 0.0,
            "role_clarity": 0.0,
            "ambition": 0.0,
            "actors_present": 0.0,
        },
        {
            "name": "deep",
            "form": "group_model",
            "members": _ids(40)[25:40],
            "start": 12,
            "history": 0.8,
            "shared_vision": 1.0,
        },
        {"name": "buddy", "form": "buddying", "members": ["ORG05", "ORG06", "ORG07"], "start": 0},
    ],
    events=[
        {"month": 0, "kind": "set", "target": "weak", "field": "pace", "value": 0.1},
        {"month": 7, "kind": "set", "target": "ORG04", "field": "capacity", "value": 0.9},
        {"month": 9, "kind": "set", "target": "system", "field": "data_sharing", "value": 0.9},
        {"month": 15, "kind": "set", "target": "deep", "field": "formalisation", "value": 0.2},
        {"month": 18, "kind": "shock", "magnitude": 0.5, "half_life": 3.0},
        {"month": 25, "kind": "merger", "organisations": ["ORG30", "ORG31"]},
        {"month": 6, "kind": "support", "collaboration": "weak", "level": 0.9, "until": 30},
    ],
)

# Poor starting relations: three collaborations dissolve (scars, reassignment
# of pairs to the next live collaboration they share).
DISSOLVE = dict(
    n_organisations=40,
    initial_faith=0.1,
    initial_trust=0.1,
    shared_vision=0.0,
    history=-1.0,
    evaluation=0.0,
    role_clarity=0.0,
    actors_present=0.0,
    collaborations=[
        {"name": "a", "form": "clinical_network", "members": "all"},
        {"name": "b", "form": "federation", "members": _ids(20), "start": 3},
        {"name": "c", "form": "alliance", "members": _ids(40)[15:40], "start": 8},
        {"name": "d", "form": "buddying", "members": _ids(10)},
    ],
)


def cases() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for seed in (0, 1, 2):
        out[f"default-s{seed}"] = dict(rng=seed)
        out[f"n200-s{seed}"] = dict(rng=seed, n_organisations=200)
        out[f"variant-s{seed}"] = dict(rng=seed, **VARIANT)
        out[f"multi-s{seed}"] = dict(rng=seed, **MULTI)
        out[f"dissolve-s{seed}"] = dict(rng=seed, **DISSOLVE)
    out["events-s3"] = dict(rng=3, events=EVENTS)
    out["ratchet-crowding-s4"] = dict(
        rng=4,
        n_organisations=30,
        trust_update="ratchet",
        trust_confidence="crowding_out",
        fragile="confidence",
        mandate_faith="neutral",
        form="buddying",
        formation_months=0,
        events=EVENTS,
    )
    out["collect-s5"] = dict(
        rng=5, n_organisations=25, collect_organisations=True, collect_pairs=True, events=EVENTS
    )
    return out


FINAL = (
    "trust",
    "confidence",
    "risk",
    "conflict",
    "faith",
    "progress",
    "status",
    "age",
    "eff",
    "mech",
    "output",
    "behaviour",
    "performance",
    "distressed",
    "edge_collab",
)


def run_case(kwargs: dict[str, Any]) -> dict[str, np.ndarray]:
    import copy

    model = CollaborationModel(**copy.deepcopy(kwargs)).run()
    df = model.model_dataframe()
    out = {
        "columns": np.array(df.columns, dtype=str),
        "values": df.to_numpy(dtype=float),
        "index": df.index.to_numpy(),
    }
    for name in FINAL:
        out[f"final_{name}"] = np.asarray(getattr(model.sim, name)).astype(float)
    for k, v in model.sim.ctx.items():
        out[f"ctx_{k}"] = v.copy()
    if kwargs.get("collect_organisations"):
        odf = model.organisation_dataframe()
        out["org_columns"] = np.array(odf.columns, dtype=str)
        out["org_values"] = odf[[c for c in odf.columns if c not in ("code", "type")]].to_numpy(
            dtype=float
        )
        out["org_codes"] = odf["code"].to_numpy(dtype=str)
    if kwargs.get("collect_pairs"):
        pdf = model.pair_dataframe()
        out["pair_values"] = pdf[
            ["month", "trust", "confidence", "risk_threshold", "conflict"]
        ].to_numpy(dtype=float)
    return out


def run_batch(seeds=(11, 12, 13), **kwargs: Any) -> dict[str, np.ndarray]:
    """Advance several replicates together; record every metric every month."""
    template = CollaborationModel(rng=0, **kwargs)
    s0 = template.sim

    def make(rngs):
        import copy

        return Simulation(template.params, s0.pop, s0.st.collabs, copy.deepcopy(s0.events), rngs)

    def every_metric(sim) -> np.ndarray:  # (R, K), each metric's own function
        return np.stack([m.func(sim) for m in ioc_metrics.METRICS.values()], axis=1)

    def trajectory(sim) -> np.ndarray:  # (months + 1, R, K), month 0 included
        rows = [every_metric(sim)]
        for _ in range(template.months):
            sim.step()
            rows.append(every_metric(sim))
        return np.stack(rows)

    sim = make([np.random.default_rng(s) for s in seeds])
    batch = trajectory(sim)
    out = {
        "batch_metrics": batch[1:],
        "batch_trust": sim.trust.copy(),
        "batch_faith": sim.faith.copy(),
        "batch_risk": sim.risk.copy(),
    }
    # Each replicate alone must equal the same replicate in the batch, bit for bit,
    # every month, and the fast one-pass metrics must equal each metric's function.
    for i, s in enumerate(seeds):
        solo = make([np.random.default_rng(s)])
        alone = trajectory(solo)
        assert np.array_equal(alone[:, 0], batch[:, i]), f"replicate {i}: batch != alone"
        assert np.array_equal(solo.trust[0], sim.trust[i])
        fast = ioc_metrics.evaluate(solo)
        assert all(np.array_equal(fast[n], m.func(solo)) for n, m in ioc_metrics.METRICS.items()), (
            "evaluate() != metric functions"
        )
    return out


def batch_cases() -> dict[str, dict[str, Any]]:
    return {
        "batch-default": dict(n_organisations=60),
        "batch-multi": dict(**MULTI),
        "batch-dissolve": dict(**DISSOLVE),
    }


def _edit(model: Any, month: int) -> None:
    """Direct edits of the state between months, as an experiment script might make."""
    s = model.sim
    if month == 10:
        s.ctx["support"][:, 0] = 0.9
        s.ctx["integration_depth"][:, 0] = 0.6
    elif month == 20:
        s.org["finances"][3] = 0.05
        s.org["capacity"][4] = 0.95
        s.org["resolution_style"][5] = -1.0
    elif month == 30:
        s.system["data_sharing"] = 0.9
        s.system["regulator_trust"] = 0.1
    elif month == 40:
        s.p["trust_gain"] = 0.2
        s.p["confidence_memory"] = 0.7
        s.p["distress_penalty"] = 0.3
    elif month == 50:
        s.trust *= 0.5
        s.faith[:, :5] = 0.05
        s.conflict[:] = 0.9
    elif month == 60:
        s.distressed[0, :7] = True
    elif month == 70:
        s.ctx["mandate"][:, 0] = 0.0
        s.ctx["ambition"][:, 0] = 0.1
    elif month == 80:
        s.status[0, 0] = 4  # dissolving
        s.left[0, 0] = 2


def compare_with_ref(ref: str) -> int:
    """Run cases here and with the ioc_sim of git ``ref``, side by side, and require
    equal bits every month, also when the state is edited directly between months."""
    import importlib
    import subprocess
    import tempfile

    root = Path(__file__).resolve().parents[1]
    tmp = tempfile.mkdtemp()
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", ref, "ioc_sim"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
    pkg = Path(tmp) / "ioc_sim_ref"
    (Path(tmp) / "ioc_sim").rename(pkg)
    for f in pkg.rglob("*.py"):  # make the copy import itself, not the working tree
        f.write_text(
            f.read_text()
            .replace("ioc_sim.", "ioc_sim_ref.")
            .replace("from ioc_sim import", "from ioc_sim_ref import")
        )
    sys.path.insert(0, tmp)
    Old = importlib.import_module("ioc_sim_ref").CollaborationModel
    names = (
        "trust",
        "confidence",
        "risk",
        "conflict",
        "faith",
        "progress",
        "performance",
        "eff",
        "status",
        "distressed",
    )
    runs = [(name, kw, False) for name, kw in list(cases().items())[:8]]
    runs += [
        ("edits-s1", dict(rng=1, n_organisations=60), True),
        (
            "edits-s2",
            dict(rng=2, n_organisations=40, trust_confidence="crowding_out", gate_softness=0.0),
            True,
        ),
    ]
    failures = 0
    for name, kw, edits in runs:
        import copy

        a, b = Old(**copy.deepcopy(kw)), CollaborationModel(**copy.deepcopy(kw))
        try:
            for month in range(1, a.months + 1):
                if edits:
                    _edit(a, month)
                    _edit(b, month)
                a.step()
                b.step()
                for attr in names:
                    assert np.array_equal(getattr(a.sim, attr), getattr(b.sim, attr)), (
                        f"{attr} differs in month {month}"
                    )
            da, db = a.model_dataframe(), b.model_dataframe()
            assert list(da.columns) == list(db.columns), "columns differ"
            assert np.array_equal(da.to_numpy(), db.to_numpy()), "model data differ"
            print(f"ok      {name}  (bit-for-bit with {ref})")
        except AssertionError as err:
            failures += 1
            print(f"FAILED  {name}: {err}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("save", "check", "compare"))
    ap.add_argument("ref", nargs="?", default="HEAD", help="git ref for 'compare'")
    ap.add_argument("--dir", default="/tmp/ioc_sim_golden")
    ap.add_argument("--only", default="", help="run only cases whose name contains this")
    args = ap.parse_args(argv)
    if args.mode == "compare":
        return compare_with_ref(args.ref)
    root = Path(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    failures = 0
    todo = [(name, run_case, kw) for name, kw in cases().items()]
    todo += [(name, lambda kw: run_batch(**kw), kw) for name, kw in batch_cases().items()]
    todo = [t for t in todo if args.only in t[0]]
    for name, fn, kw in todo:
        got = fn(kw)
        path = root / f"{name}.npz"
        if args.mode == "save":
            np.savez(path, **got)
            print(f"saved {name}")
            continue
        want = dict(np.load(path))
        try:
            assert set(want) == set(got), f"keys differ: {set(want) ^ set(got)}"
            exact = True
            for key, w in want.items():
                g = got[key]
                if w.dtype.kind in "US":
                    assert np.array_equal(w, g), f"{key} differs"
                else:
                    assert w.shape == g.shape, f"{key}: shape {g.shape} != {w.shape}"
                    np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL, err_msg=key)
                    exact &= bool(np.array_equal(g, w, equal_nan=True))
            print(f"ok      {name}" + ("  (bit-for-bit)" if exact else "  (within tolerance)"))
        except AssertionError as err:
            failures += 1
            print(f"FAILED  {name}: {err}")
    if args.mode == "check":
        print("all golden outputs match" if not failures else f"{failures} case(s) differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
