"""Forward kinematics through MuJoCo: root pose + joint angles -> the full canonical clip.

Importers only know root pose and joint angles; body poses and velocities, SMPL-style joint positions and the
VR 3-point targets are all derived here, from the same G1 model the simulators use, so a reference and the
robot that tracks it can never disagree about where a body is.
"""

from __future__ import annotations

import mujoco
import numpy as np

from sonic_deploy.motion.clip import MotionClip, validate_clip
from sonic_deploy.robots.g1 import G1, HEAD_OFFSET_IN_TORSO, RobotSpec
from sonic_deploy.robots.scene import SceneConfig, load_model

# SMPL's 24 joints placed on the G1 body they correspond to (body, offset in that body's frame). Lets every
# G1 clip feed the SMPL encoder; a real human-motion pipeline supplies its own smpl_joints instead.
SMPL_ON_G1: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("pelvis", (0.0, 0.0, 0.0)), ("left_hip_roll_link", (0.0, 0.0, 0.0)), ("right_hip_roll_link", (0.0, 0.0, 0.0)),
    ("waist_yaw_link", (0.0, 0.0, 0.0)), ("left_knee_link", (0.0, 0.0, 0.0)), ("right_knee_link", (0.0, 0.0, 0.0)),
    ("torso_link", (0.0, 0.0, 0.05)), ("left_ankle_roll_link", (0.0, 0.0, 0.0)),
    ("right_ankle_roll_link", (0.0, 0.0, 0.0)), ("torso_link", (0.0, 0.0, 0.2)),
    ("left_ankle_roll_link", (0.12, 0.0, -0.03)), ("right_ankle_roll_link", (0.12, 0.0, -0.03)),
    ("torso_link", (0.0, 0.0, 0.33)), ("torso_link", (0.0, 0.06, 0.25)), ("torso_link", (0.0, -0.06, 0.25)),
    ("torso_link", HEAD_OFFSET_IN_TORSO), ("left_shoulder_roll_link", (0.0, 0.0, 0.0)),
    ("right_shoulder_roll_link", (0.0, 0.0, 0.0)), ("left_elbow_link", (0.0, 0.0, 0.0)),
    ("right_elbow_link", (0.0, 0.0, 0.0)), ("left_wrist_yaw_link", (0.0, 0.0, 0.0)),
    ("right_wrist_yaw_link", (0.0, 0.0, 0.0)), ("left_wrist_yaw_link", (0.08, 0.0, 0.0)),
    ("right_wrist_yaw_link", (0.08, 0.0, 0.0)),
)
# VR 3-point: headset on the head, controllers in the palms (the model's palm sites).
VR_ON_G1 = (("torso_link", HEAD_OFFSET_IN_TORSO), ("left_wrist_yaw_link", (0.08, 0.0, 0.0)),
            ("right_wrist_yaw_link", (0.08, 0.0, 0.0)))


class Kinematics:
    """A floor-less G1 model used only for kinematics (cheap to keep around, one per process or worker)."""

    def __init__(self, robot: RobotSpec = G1):
        self.robot = robot
        self.model = load_model(robot, SceneConfig(add_floor=False))
        self.data = mujoco.MjData(self.model)
        self.body_names = tuple(self.model.body(i).name for i in range(1, self.model.nbody))
        self._smpl_ids = np.array([self.model.body(b).id for b, _ in SMPL_ON_G1])
        self._smpl_off = np.array([o for _, o in SMPL_ON_G1])
        self._vr_ids = np.array([self.model.body(b).id for b, _ in VR_ON_G1])
        self._vr_off = np.array([o for _, o in VR_ON_G1])

    def qpos(self, root_pos: np.ndarray, root_quat: np.ndarray, joint_pos: np.ndarray) -> np.ndarray:
        return np.concatenate([root_pos, root_quat, joint_pos], axis=-1).astype(np.float64)

    def from_joint_trajectory(self, name: str, fps: float, root_pos: np.ndarray, root_quat: np.ndarray,
                              joint_pos: np.ndarray, smpl_joints: np.ndarray | None = None) -> MotionClip:
        """Build a complete clip (bodies, velocities, SMPL-style joints, VR targets) from a joint trajectory."""
        m, d = self.model, self.data
        root_quat = root_quat / np.linalg.norm(root_quat, axis=-1, keepdims=True)
        qpos = self.qpos(root_pos, root_quat, joint_pos)
        T = len(qpos)
        qvel = self._finite_difference_qvel(qpos, 1.0 / fps)
        B = m.nbody - 1
        body_pos, body_quat = np.empty((T, B, 3)), np.empty((T, B, 4))
        lin_vel, ang_vel = np.empty((T, B, 3)), np.empty((T, B, 3))
        smpl = np.empty((T, len(SMPL_ON_G1), 3))
        vr_pos, vr_quat = np.empty((T, 3, 3)), np.empty((T, 3, 4))
        vel6 = np.empty(6)
        for t in range(T):
            d.qpos[:], d.qvel[:] = qpos[t], qvel[t]
            mujoco.mj_kinematics(m, d)
            mujoco.mj_comPos(m, d)
            mujoco.mj_comVel(m, d)
            body_pos[t], body_quat[t] = d.xpos[1:], d.xquat[1:]
            for b in range(1, m.nbody):
                # mj_objectVelocity reports the body's centre of mass; move it to the body frame origin
                mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_BODY, b, vel6, 0)
                ang_vel[t, b - 1] = vel6[:3]
                lin_vel[t, b - 1] = vel6[3:] + np.cross(vel6[:3], d.xpos[b] - d.xipos[b])
            xmat = d.xmat.reshape(-1, 3, 3)
            smpl[t] = d.xpos[self._smpl_ids] + np.einsum("nij,nj->ni", xmat[self._smpl_ids], self._smpl_off)
            vr_pos[t] = d.xpos[self._vr_ids] + np.einsum("nij,nj->ni", xmat[self._vr_ids], self._vr_off)
            vr_quat[t] = d.xquat[self._vr_ids]
        clip = MotionClip(
            name=name, fps=float(fps), joint_names=self.robot.joint_names,
            joint_pos=joint_pos, joint_vel=qvel[:, 6:],
            body_names=self.body_names, body_pos_w=body_pos, body_quat_w=body_quat,
            body_lin_vel_w=lin_vel, body_ang_vel_w=ang_vel,
            smpl_joints=smpl if smpl_joints is None else smpl_joints, vr_pos=vr_pos, vr_quat=vr_quat,
        )
        return validate_clip(clip, name)

    def _finite_difference_qvel(self, qpos: np.ndarray, dt: float) -> np.ndarray:
        """Central differences on the configuration manifold (one-sided at the ends)."""
        T = len(qpos)
        qvel = np.zeros((T, self.model.nv))
        for t in range(T):
            a, b = max(t - 1, 0), min(t + 1, T - 1)
            mujoco.mj_differentiatePos(self.model, qvel[t], (b - a) * dt, qpos[a], qpos[b])
        return qvel
