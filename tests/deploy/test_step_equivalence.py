"""The deploy step's behaviour is pinned: the shipped policy on a synthetic clip, in-process sim2sim, gives the
observations, raw actions and joint commands recorded before the step's hot path was rewritten (to 1e-6)."""

from pathlib import Path

import numpy as np
import pytest

from _step_record import SHIPPED, record  # tests/deploy is on sys.path (pytest rootdir-relative import)

GOLDEN = Path(__file__).parent / "data" / "step_golden.npz"


@pytest.mark.skipif(not SHIPPED.is_file(), reason="shipped policy not in this checkout")
def test_step_matches_recording(tmp_path):
    want = np.load(GOLDEN)
    got = record(tmp_path)
    for key in want.files:
        assert got[key].shape == want[key].shape, key
        np.testing.assert_allclose(got[key], want[key], atol=1e-6, rtol=0, err_msg=key)
