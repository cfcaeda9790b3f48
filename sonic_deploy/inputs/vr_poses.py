"""VR 3-point pose samples, the JSON wire format, and the operator-to-robot axis conventions.

Wire format (one JSON object per WebSocket message or per line of a recorded session)::

    {"t": 12.345, "frame": "webxr", "head": {"p": [x, y, z], "q": [w, x, y, z]},
     "left": {"p": [...], "q": [...]}, "right": {"p": [...], "q": [...]}}

``t`` is the sender's clock in seconds (informational: arrival time is what the watchdog uses); ``frame`` is
``"webxr"`` (default: WebXR ``local-floor`` space, metres, y up, -z forward, x right; poses of the viewer and
of the controllers' grip spaces) or ``"robot"`` (z up, x forward, y left: REP-103, as the ROS 2 topic uses).
Quaternions are w, x, y, z and are normalised on arrival. ``head`` is required; a missing wrist keeps the
previous one (a controller that lost tracking).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sonic_deploy.utils.rotations import matrix_to_quat, quat_conjugate, quat_mul

POINTS = ("head", "left", "right")
FRAMES = ("webxr", "robot")

# WebXR (x right, y up, z backward) -> robot (x forward, y left, z up): x_r = -z_w, y_r = -x_w, z_r = y_w.
WEBXR_TO_ROBOT = np.array([[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


class PoseFormatError(ValueError):
    """A malformed pose message; the text names the field."""


Q_WEBXR_TO_ROBOT = matrix_to_quat(WEBXR_TO_ROBOT)


@dataclass
class PoseSample:
    """Head, left wrist, right wrist: pos [3, 3] (metres) and quat [3, 4] (w, x, y, z) in ``frame``."""

    t: float
    pos: np.ndarray
    quat: np.ndarray
    frame: str = "webxr"
    valid: np.ndarray | None = None  # [3] bool: which points the message carried

    def to_robot_axes(self) -> "PoseSample":
        """The same poses expressed with robot axes (z up, x forward); a no-op for ``frame == 'robot'``."""
        if self.frame == "robot":
            return self
        pos = self.pos @ WEBXR_TO_ROBOT.T
        qm = np.broadcast_to(Q_WEBXR_TO_ROBOT, self.quat.shape)
        quat = quat_mul(quat_mul(qm, self.quat), quat_conjugate(qm))  # R_r = M R_w M^T: device axes follow too
        return PoseSample(self.t, pos, quat, "robot", self.valid)

    def to_message(self) -> dict:
        return {"t": float(self.t), "frame": self.frame,
                **{k: {"p": [float(v) for v in self.pos[i]], "q": [float(v) for v in self.quat[i]]}
                   for i, k in enumerate(POINTS)}}


def _vec(obj, field: str, n: int) -> np.ndarray:
    try:
        arr = np.asarray(obj, np.float64)
    except (TypeError, ValueError):
        raise PoseFormatError(f"field '{field}': expected {n} numbers, got {obj!r}"[:200]) from None
    if arr.shape != (n,) or not np.isfinite(arr).all():
        raise PoseFormatError(f"field '{field}': expected {n} finite numbers, got {obj!r}"[:200])
    return arr


def parse_pose_message(msg: dict, default_frame: str = "webxr") -> PoseSample:
    """Validate one wire message (see the module docstring) into a :class:`PoseSample`."""
    if not isinstance(msg, dict):
        raise PoseFormatError(f"message: expected a JSON object, got {type(msg).__name__}")
    frame = msg.get("frame", default_frame)
    if frame not in FRAMES:
        raise PoseFormatError(f"field 'frame': expected one of {FRAMES}, got {frame!r}")
    if "head" not in msg:
        raise PoseFormatError("field 'head': missing")
    t = msg.get("t", 0.0)
    if not isinstance(t, (int, float)) or not math.isfinite(t):
        raise PoseFormatError(f"field 't': expected a number, got {t!r}")
    pos = np.zeros((3, 3))
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (3, 1))
    valid = np.zeros(3, bool)
    for i, k in enumerate(POINTS):
        pt = msg.get(k)
        if pt is None:
            continue
        if not isinstance(pt, dict):
            raise PoseFormatError(f"field '{k}': expected {{\"p\": [3], \"q\": [4]}}, got {pt!r}"[:200])
        pos[i] = _vec(pt.get("p"), f"{k}.p", 3)
        q = _vec(pt.get("q"), f"{k}.q", 4)
        norm = np.linalg.norm(q)
        if norm < 1e-6:
            raise PoseFormatError(f"field '{k}.q': zero quaternion")
        quat[i] = q / norm
        valid[i] = True
    return PoseSample(float(t), pos, quat, frame, valid)
