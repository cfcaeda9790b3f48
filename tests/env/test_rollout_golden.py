"""The tracking env's observations, rewards and dones on a fixed rollout equal a recording of the original code.

The recording (tests/env/data/tracking_rollout.npz, written by tests/env/rollout_record.py before the MDP was
rewritten for speed) pins every term's arithmetic to 1e-6: actions are fixed, so the physics does not depend on
the MDP; the physics itself is checked first so that a different MuJoCo build is reported as such.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rollout_record import record

GOLDEN = Path(__file__).parent / "data" / "tracking_rollout.npz"
TOL = 1e-6


def test_rollout_matches_recording():
    want = dict(np.load(GOLDEN))
    got = record()
    assert sorted(got) == sorted(want)
    np.testing.assert_allclose(got["qpos"], want["qpos"], rtol=0, atol=1e-9,
                               err_msg="the physics differs from the recording (MuJoCo build), not the MDP")
    for key in ("done", "time_out", "obs/tokenizer/encoder_index"):
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    for key in sorted(want):
        if want[key].dtype.kind != "f":
            continue
        err = np.abs(got[key].astype(np.float64) - want[key]).max()
        scale = max(1.0, float(np.abs(want[key]).max()))
        assert err <= TOL * scale, f"{key}: max |diff| {err:.3g} (scale {scale:.3g})"
