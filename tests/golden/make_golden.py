"""Regenerate the golden outputs that tests/test_golden.py compares against.

Run only when a change of model behaviour is intended, and say so in the
commit: ``python tests/golden/make_golden.py``.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (file stem, keyword arguments) of the runs kept as golden outputs.
CASES = {
    "default_seed7": dict(rng=7, months=36),
    "variants_seed3": dict(
        rng=3,
        months=36,
        n_organisations=10,
        trust_update="expectation_gap",
        trust_confidence="crowding_out",
        fragile="equal",
        mandate_faith="raises",
        performance_form="additive",
        events=[
            {"month": 6, "kind": "shock", "magnitude": 0.7},
            {"month": 12, "kind": "regime_switch", "competition": 0.1},
        ],
    ),
    # Overlapping collaborations, a time-limited programme, a merger and a policy
    # wind-down: ties, attention, embedding, consolidation and the lifecycle's endings.
    "structure_seed5": dict(
        rng=5,
        months=48,
        n_organisations=12,
        collaborations=[
            {"name": "all", "form": "alliance", "members": "all"},
            {
                "name": "net",
                "form": "clinical_network",
                "members": [f"ORG{i:02d}" for i in range(1, 7)],
            },
            {"name": "ics", "form": "integrated_care_system", "members": "all", "start": 3},
        ],
        events=[
            {"month": 2, "kind": "support", "collaboration": "net", "level": 0.8, "until": 14},
            {"month": 9, "kind": "merger", "organisations": ["ORG02", "ORG03"]},
            {"month": 30, "kind": "wind_down", "collaboration": "ics"},
        ],
        distressed_share=0.3,
    ),
}


def run(kwargs):
    from ioc_sim import CollaborationModel

    return CollaborationModel(**kwargs).run().model_dataframe()


if __name__ == "__main__":
    for name, kwargs in CASES.items():
        run(kwargs).to_csv(HERE / f"{name}.csv", float_format="%.17g")
        print(f"wrote {HERE / name}.csv")
