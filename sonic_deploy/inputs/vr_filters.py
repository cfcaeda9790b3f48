"""Pose smoothing: a first-order (exponential) low-pass on positions and orientations, in time.

y += a (x - y) with a = 1 - exp(-dt / tau), dt the time between samples. Its delay is stated, not tuned by
ear: for an input moving at constant velocity the output settles to trailing it by
``lag(dt) = dt e^(-dt/tau) / (1 - e^(-dt/tau)) = tau - dt/2 + O(dt^2/tau)`` seconds (the first-order system's
steady-state lag ``tau``, less half a sample period), and a step is 63 % through after ``tau``. At a headset's
90 Hz and the default tau = 30 ms that is 24.8 ms. ``tau = 0`` passes samples through unchanged. Quaternions are blended by normalised lerp on the same ``a`` (shortest arc).
"""

from __future__ import annotations

import math

import numpy as np

from sonic_deploy.utils.rotations import quat_nlerp


class ExpSmoother:
    def __init__(self, tau: float):
        if tau < 0:
            raise ValueError(f"smoothing tau must be >= 0, got {tau}")
        self.tau = float(tau)
        self.pos: np.ndarray | None = None
        self.quat: np.ndarray | None = None
        self._t: float | None = None

    def lag(self, dt: float) -> float:
        """Steady-state lag (s) behind a constant-velocity input sampled every ``dt`` seconds."""
        if self.tau == 0.0:
            return 0.0
        e = math.exp(-dt / self.tau)
        return dt * e / (1.0 - e)

    def reset(self) -> None:
        self.pos = self.quat = self._t = None

    def __call__(self, t: float, pos: np.ndarray, quat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.asarray(pos, np.float64)
        quat = np.asarray(quat, np.float64)
        if self.pos is None or self.tau == 0.0:
            self.pos, self.quat, self._t = pos.copy(), quat.copy(), t
            return self.pos.copy(), self.quat.copy()
        dt = max(0.0, t - self._t)
        self._t = t
        a = 1.0 - math.exp(-dt / self.tau)
        self.pos = self.pos + a * (pos - self.pos)
        q = np.where(np.sum(self.quat * quat, axis=-1, keepdims=True) < 0, -quat, quat)
        q = self.quat + a * (q - self.quat)
        self.quat = q / np.linalg.norm(q, axis=-1, keepdims=True)
        return self.pos.copy(), self.quat.copy()


def blend_poses(pos_a, quat_a, pos_b, quat_b, w: float) -> tuple[np.ndarray, np.ndarray]:
    """(1 - w) a + w b on positions, nlerp on quaternions (shortest arc)."""
    pos = (1.0 - w) * np.asarray(pos_a) + w * np.asarray(pos_b)
    return pos, quat_nlerp(quat_a, quat_b, w)
