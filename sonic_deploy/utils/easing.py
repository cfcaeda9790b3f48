"""The one easing curve of the runtime: every blend that must not step (the controller's start-up ramp, a
reference easing to the safe pose after a dropout, the motion player's blend-in) uses it."""

from __future__ import annotations

import numpy as np


def smoothstep(x):
    """0 at x <= 0, 1 at x >= 1, zero slope at both ends; scalars or arrays."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)
