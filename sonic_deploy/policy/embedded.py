"""Reference motion carried inside a policy graph (BeyondMimic, holosoma tracking): its length, and each step's
reference re-based onto the robot for the report (heading and horizontal position at start, as the policies
themselves align the motion), with the root pose and tracked-body positions from the anchor body by kinematics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from sonic_deploy.inputs.base import ReferenceFrames
from sonic_deploy.motion.clip import MotionClip
from sonic_deploy.motion.kinematics import Kinematics
from sonic_deploy.policy.kinematics import G1Kinematics
from sonic_deploy.utils.rotations import quat_mul, quat_to_matrix, yaw_of

FAR = 10 ** 7  # a frame index past any motion: graphs clamp time_step to their last frame


def motion_length(joint_pos_at: Callable[[int], np.ndarray]) -> int:
    """Frames in an embedded motion: one past the first index whose joints equal the clamped last frame."""
    try:
        last = joint_pos_at(FAR)
    except Exception:  # noqa: BLE001 - a graph that does not clamp: search for the first index that fails
        last = None
    lo, hi = 0, FAR
    while lo < hi:
        mid = (lo + hi) // 2
        try:
            past = last is not None and np.array_equal(joint_pos_at(mid), last)
        except Exception:  # noqa: BLE001
            past = True
        lo, hi = (lo, mid) if past else (mid + 1, hi)
    return lo + 1 if last is not None else lo


class RebasedReference:
    """Per-step reference frames of an embedded motion, moved onto the robot at the first step."""

    def __init__(self, kin: G1Kinematics, anchor: str, body_names: tuple, dt: float):
        self.kin, self.anchor, self.body_names, self.dt = kin, anchor, tuple(body_names), dt
        self._yaw_q = None

    def start(self, robot_anchor_pos: np.ndarray, robot_quat: np.ndarray, motion_anchor_pos: np.ndarray,
              motion_quat: np.ndarray) -> None:
        dyaw = float(yaw_of(robot_quat) - yaw_of(motion_quat))
        self._yaw_q = np.array([np.cos(dyaw / 2), 0.0, 0.0, np.sin(dyaw / 2)])
        self._robot0 = np.asarray(robot_anchor_pos, np.float64).copy()
        self._motion0 = np.asarray(motion_anchor_pos, np.float64).copy()

    @property
    def started(self) -> bool:
        return self._yaw_q is not None

    def frames(self, step: int, joint_pos: np.ndarray, joint_vel: np.ndarray, anchor_pos: np.ndarray,
               anchor_quat: np.ndarray) -> ReferenceFrames:
        d = quat_to_matrix(self._yaw_q) @ (np.asarray(anchor_pos, np.float64) - self._motion0)
        a_pos = np.array([self._robot0[0] + d[0], self._robot0[1] + d[1], anchor_pos[2]])
        root_pos, root_quat = self.kin.root_from_body(self.anchor, a_pos, quat_mul(self._yaw_q, anchor_quat), joint_pos)
        body = self.kin.body_positions(self.body_names, root_pos, root_quat, joint_pos)
        return ReferenceFrames(times=np.array([step * self.dt]), joint_pos=joint_pos[None], joint_vel=joint_vel[None],
                               root_pos=root_pos[None], root_quat=root_quat[None], body_pos_w=body[None],
                               body_names=self.body_names)


def export_clip(policy, name: str | None = None) -> MotionClip:
    """A policy's embedded motion as a canonical clip (root from the anchor by kinematics, bodies and velocities by
    forward kinematics). Evaluation material: the publisher's motion, never training data."""
    frames = policy.motion_frames()
    return Kinematics(policy.spec).from_joint_trajectory(
        name or Path(policy.path).stem, frames["fps"], frames["root_pos"], frames["root_quat"], frames["joint_pos"])
