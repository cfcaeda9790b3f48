"""Calibration: the operator's pose-zeroing step, and scaling to G1 proportions.

The operator stands still in the robot's default pose (upright, upper arms down, forearms forward, as the
G1's default pose) and calibration is taken from one sample (``"calibrate"`` from the page, the node's
``~/calibrate`` service, or the first sample when ``auto_calibrate``). It fixes

* the heading: the head's heading becomes the robot's forward (x); the floor point under the head becomes
  the origin of the *teleop frame* (z up, floor at z = 0, the reference pelvis above the origin);
* the scale: ``s_head = G1 head height / operator head height`` (measured at calibration, or from
  ``operator_height`` when given: head = 0.936 x height) for head motion, ``s_arm = G1 arm length /
  operator arm length`` (``operator_arm_length``; default: s_arm = s_head) for the wrists relative to the head;
* the offsets: positions and orientations (device -> robot body, right-multiplied) chosen so the calibration
  sample maps exactly onto the G1's default 3-point reference.

Mapping a sample p (robot axes) to the teleop frame, with L(p) = R_yaw0^T (p - o):
    head  = s_head L(p_head) + d_head
    wrist = head + s_arm (L(p_wrist) - L(p_head)) + d_wrist
    q_i   = (q_yaw0^-1 q_i) q_off_i
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from sonic_deploy.inputs.vr_poses import PoseSample
from sonic_deploy.motion.kinematics import VR_ON_G1, Kinematics
from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_deploy.utils.rotations import quat_conjugate, quat_from_yaw, quat_mul, yaw_of

HEAD_HEIGHT_PER_BODY_HEIGHT = 0.936  # eye height / stature, adult anthropometry


@dataclass(frozen=True)
class VrReference:
    """The G1's 3-point reference in the teleop frame: pos [3, 3], quat [3, 4], and the pelvis height."""

    pos: np.ndarray
    quat: np.ndarray
    root_height: float
    arm_length: float  # shoulder -> elbow -> wrist -> palm, summed segment lengths (m)


_REF_CACHE: dict[str, VrReference] = {}


def default_vr_reference(spec: RobotSpec = G1) -> VrReference:
    """Head / wrist poses of the default standing pose (pelvis at (0, 0, default height), heading +x)."""
    if spec.name not in _REF_CACHE:
        _REF_CACHE[spec.name] = _default_vr_reference(spec)
    return _REF_CACHE[spec.name]


def _default_vr_reference(spec: RobotSpec) -> VrReference:
    kin = Kinematics(spec)
    m, d = kin.model, kin.data
    d.qpos[:] = kin.qpos(np.array([0.0, 0.0, spec.default_root_height]), np.array([1.0, 0, 0, 0]),
                         spec.default_joint_pos)
    mujoco.mj_kinematics(m, d)
    ids = [m.body(b).id for b, _ in VR_ON_G1]
    off = np.array([o for _, o in VR_ON_G1])
    xmat = d.xmat.reshape(-1, 3, 3)
    pos = d.xpos[ids] + np.einsum("nij,nj->ni", xmat[ids], off)
    quat = d.xquat[ids].copy()
    chain = [d.xpos[m.body(n).id] for n in ("left_shoulder_pitch_link", "left_elbow_link", "left_wrist_yaw_link")]
    chain.append(pos[1])
    arm = float(sum(np.linalg.norm(b - a) for a, b in zip(chain[:-1], chain[1:])))
    pos.setflags(write=False)
    quat.setflags(write=False)
    return VrReference(pos, quat, float(spec.default_root_height), arm)


@dataclass
class Calibration:
    yaw: float
    origin: np.ndarray  # [3] floor point under the head at calibration (robot axes, operator space)
    s_head: float
    s_arm: float
    d_pos: np.ndarray  # [3, 3]: head offset, then wrist offsets relative to the head
    q_off: np.ndarray  # [3, 4]

    @classmethod
    def from_sample(cls, sample: PoseSample, ref: VrReference, *, operator_height: float | None = None,
                    operator_arm_length: float | None = None) -> "Calibration":
        s = sample.to_robot_axes()
        yaw = float(yaw_of(s.quat[0]))
        origin = np.array([s.pos[0, 0], s.pos[0, 1], 0.0])
        c = cls(yaw, origin, 1.0, 1.0, np.zeros((3, 3)), np.tile([1.0, 0, 0, 0], (3, 1)))
        local = c.local(s.pos)
        head_h = HEAD_HEIGHT_PER_BODY_HEIGHT * operator_height if operator_height else float(local[0, 2])
        if head_h <= 0.3:
            raise ValueError(f"calibration: operator head height {head_h:.3f} m is implausible "
                             "(is the headset's reference space 'local-floor'?)")
        c.s_head = float(ref.pos[0, 2] / head_h)
        c.s_arm = float(ref.arm_length / operator_arm_length) if operator_arm_length else c.s_head
        c.d_pos[0] = ref.pos[0] - c.s_head * local[0]
        for i in (1, 2):
            c.d_pos[i] = (ref.pos[i] - ref.pos[0]) - c.s_arm * (local[i] - local[0])
        qy_inv = np.broadcast_to(quat_conjugate(quat_from_yaw(yaw)), (3, 4))
        c.q_off = quat_mul(quat_conjugate(quat_mul(qy_inv, s.quat)), ref.quat)
        return c

    def local(self, pos: np.ndarray) -> np.ndarray:
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        r = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        return (pos - self.origin) @ r  # R^T (p - o), row vectors

    def apply(self, sample: PoseSample) -> tuple[np.ndarray, np.ndarray]:
        """Sample (any frame) -> (pos [3, 3], quat [3, 4]) in the teleop frame."""
        s = sample.to_robot_axes()
        loc = self.local(s.pos)
        pos = np.empty((3, 3))
        pos[0] = self.s_head * loc[0] + self.d_pos[0]
        for i in (1, 2):
            pos[i] = pos[0] + self.s_arm * (loc[i] - loc[0]) + self.d_pos[i]
        qy_inv = np.broadcast_to(quat_conjugate(quat_from_yaw(self.yaw)), (3, 4))
        quat = quat_mul(quat_mul(qy_inv, s.quat), self.q_off)
        quat = quat / np.linalg.norm(quat, axis=-1, keepdims=True)
        return pos, quat
