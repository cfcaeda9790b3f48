"""Helpers of the Isaac Lab backend tests."""

from __future__ import annotations

import numpy as np


def tilt_deg(quat_wxyz) -> np.ndarray:
    """Angle between the pelvis z axis and the world z axis (the MuJoCo scene's tests measure it the same way)."""
    from sonic_deploy.utils.rotations import tilt_deg as _tilt

    q = np.asarray(quat_wxyz, dtype=np.float64).reshape(-1, 4)
    return np.array([_tilt(x) for x in q])
