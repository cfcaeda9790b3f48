"""Forward kinematics of the G1 for adapters: an anchor body's pose from the IMU and joints, and a reference
motion's root and body positions from an anchor pose (a policy that embeds only its anchor's pose and joints).

One MuJoCo model without floor (the scene's G1, so body names are the MJCF's), compiled when the adapter is built:
never inside the control loop, where compiling the model would stall the first active step for seconds.
"""

from __future__ import annotations

import mujoco
import numpy as np

from sonic_deploy.robots.g1 import RobotSpec
from sonic_deploy.robots.scene import SceneConfig, load_model
from sonic_deploy.utils.rotations import quat_conjugate, quat_mul


class G1Kinematics:
    def __init__(self, spec: RobotSpec):
        self.spec = spec
        self.model = load_model(spec, SceneConfig(add_floor=False))
        self._data = mujoco.MjData(self.model)
        self._ids: dict[str, int] = {}

    def body_id(self, name: str) -> int:
        if name not in self._ids:
            self._ids[name] = self.model.body(name).id
        return self._ids[name]

    def _fk(self, root_pos, root_quat, q) -> mujoco.MjData:
        model = self.model
        d = self._data
        n = self.spec.num_joints
        d.qpos[0:3], d.qpos[3:7], d.qpos[7:7 + n] = root_pos, root_quat, q
        mujoco.mj_kinematics(model, d)
        return d

    def body_pose(self, body: str, root_quat, q, root_pos=(0.0, 0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
        """World position and orientation (wxyz) of ``body`` for this root pose and joint vector (Unitree order)."""
        d = self._fk(root_pos, root_quat, q)
        i = self.body_id(body)
        return d.xpos[i].copy(), d.xquat[i].copy()

    def root_from_body(self, body: str, body_pos, body_quat, q) -> tuple[np.ndarray, np.ndarray]:
        """Root (pelvis) pose that puts ``body`` at (body_pos, body_quat) with joints q."""
        p_b, q_b = self.body_pose(body, np.array([1.0, 0, 0, 0]), q)  # body in the root frame
        root_quat = quat_mul(body_quat, quat_conjugate(q_b))
        r = np.empty(9)
        mujoco.mju_quat2Mat(r, root_quat)
        return np.asarray(body_pos) - r.reshape(3, 3) @ p_b, root_quat / np.linalg.norm(root_quat)

    def body_positions(self, bodies: tuple, root_pos, root_quat, q) -> np.ndarray:
        d = self._fk(root_pos, root_quat, q)
        return d.xpos[[self.body_id(b) for b in bodies]].copy()
