"""Golden-output regression: any change that moves results shows up here.

If a change of behaviour is intended, regenerate with
``python tests/golden/make_golden.py`` and say why in the commit.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

HERE = Path(__file__).resolve().parent / "golden"
_spec = importlib.util.spec_from_file_location("make_golden", HERE / "make_golden.py")
make_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_golden)


@pytest.mark.parametrize("name", sorted(make_golden.CASES))
def test_outputs_match_the_golden_record(name):
    expected = pd.read_csv(HERE / f"{name}.csv", index_col="month")
    got = make_golden.run(make_golden.CASES[name])
    assert list(got.columns) == list(expected.columns), "metrics were added or renamed"
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-9, atol=1e-12)
