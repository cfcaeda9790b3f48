"""Inverse kinematics on the G1 MJCF: weighted damped least squares over MuJoCo's body Jacobians.

Each frame is solved to convergence from the previous frame's answer. Position tasks put a point of a G1 body
on a target, either in the world or relative to another G1 body (``anchor``: an elbow placed from the G1's
own shoulder, so limb directions transfer while the G1 keeps its own bone lengths); rotation tasks align a
body frame. Joint limits are hard (the iterate is clipped into the range after each step); weak pulls toward
the previous frame's joints and the default pose settle the directions the tasks leave free (an arm held
straight can turn about itself), so the solution does not flip between equally good branches. Damping only
slows the steps, it does not bias a reachable solution, so the answer carries no lag from frame to frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_deploy.robots.scene import SceneConfig, load_model

LIMIT_MARGIN = 1e-4  # rad inside the joint range: the solution never sits exactly on a limit


@dataclass(frozen=True)
class PointTask:
    body: str
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    anchor: str | None = None  # target = anchor body origin + target vector; None: target in world


@dataclass
class IKConfig:
    iterations: int = 15
    first_frame_iterations: int = 200
    damping: float = 1e-3
    posture_weight: float = 1e-3  # pull of the joints toward the default pose
    previous_weight: float = 2e-2  # pull toward the previous frame: picks, among equal fits, the nearest one
    max_step: float = 0.3  # rad (and m) per iteration
    tolerance: float = 1e-4  # stop when the largest step is below this (finer changes no fit by 0.01 mm)


def rotation_error(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Rotation vector (world frame) that turns ``current`` onto ``target`` (both 3x3)."""
    R = target @ current.T
    cos = np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    v = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    s = np.sin(angle)
    if s < 1e-6:
        if cos > 0:
            return 0.5 * v
        # 180 degrees: axis from the symmetric part
        axis = np.sqrt(np.maximum((np.diag(R) + 1.0) / 2.0, 0.0))
        axis *= np.sign(np.where(v == 0, 1.0, v))
        return axis * angle
    return v * (angle / (2.0 * s))


class G1IK:
    def __init__(self, points: list[PointTask], frames: list[str], robot: RobotSpec = G1,
                 config: IKConfig | None = None, model: mujoco.MjModel | None = None):
        self.robot = robot
        self.cfg = config or IKConfig()
        self.model = model or load_model(robot, SceneConfig(add_floor=False))
        self.data = mujoco.MjData(self.model)
        m = self.model
        self.points = points
        self._pbody = np.array([m.body(p.body).id for p in points])
        self._poff = np.array([p.offset for p in points], dtype=np.float64)
        self._anchor = np.array([m.body(p.anchor).id if p.anchor else -1 for p in points])
        self.frames = frames
        self._fbody = np.array([m.body(b).id for b in frames])
        jnt = [m.joint(n) for n in robot.joint_names]
        self._qadr = np.array([j.qposadr[0] for j in jnt])
        self.lower = np.array(robot.joint_lower) + LIMIT_MARGIN
        self.upper = np.array(robot.joint_upper) - LIMIT_MARGIN
        self.default = np.array(robot.default_joint_pos, dtype=np.float64)
        self._jacp = np.zeros((3, m.nv))
        self._jacr = np.zeros((3, m.nv))
        self._jaca = np.zeros((3, m.nv))

    def initial_qpos(self, root_pos: np.ndarray, root_quat: np.ndarray) -> np.ndarray:
        q = np.zeros(self.model.nq)
        q[:3], q[3:7] = root_pos, root_quat
        q[self._qadr] = self.default
        return q

    def forward(self, qpos: np.ndarray) -> None:
        self.data.qpos[:] = qpos
        mujoco.mj_kinematics(self.model, self.data)
        mujoco.mj_comPos(self.model, self.data)

    def point_positions(self) -> np.ndarray:
        """World positions of the task points at the last ``forward``."""
        d = self.data
        xmat = d.xmat[self._pbody].reshape(-1, 3, 3)
        return d.xpos[self._pbody] + np.einsum("nij,nj->ni", xmat, self._poff)

    def anchor_positions(self) -> np.ndarray:
        return np.where(self._anchor[:, None] >= 0, self.data.xpos[np.maximum(self._anchor, 0)], 0.0)

    def solve(self, qpos: np.ndarray, point_targets: np.ndarray, point_weights: np.ndarray,
              frame_targets: np.ndarray, frame_weights: np.ndarray, iterations: int | None = None,
              max_change: np.ndarray | None = None, around: np.ndarray | None = None) -> np.ndarray:
        """One frame: ``point_targets`` [P, 3] (world, or vectors from the anchor), ``frame_targets`` [F, 3, 3].

        ``max_change`` [J] bounds each joint's move from ``around`` (default: the joints of ``qpos``): the
        velocity limit times the frame time, around the previous frame's joints.
        """
        m, d, cfg = self.model, self.data, self.cfg
        lower, upper = self.lower, self.upper
        if max_change is not None:
            q0 = qpos[self._qadr] if around is None else around
            lower, upper = np.maximum(lower, q0 - max_change), np.minimum(upper, q0 + max_change)
            qpos = qpos.copy()
            qpos[self._qadr] = np.clip(qpos[self._qadr], lower, upper)
        q = qpos.copy()
        nv = m.nv
        P, F = len(self.points), len(self.frames)
        rows = 3 * (P + F)
        J = np.zeros((rows, nv))
        err = np.zeros(rows)
        w = np.concatenate([np.repeat(point_weights, 3), np.repeat(frame_weights, 3)])
        reg = np.full(nv, cfg.damping)
        q_prev = (qpos[self._qadr] if around is None else around).copy()
        w_prev = cfg.previous_weight if max_change is not None else 0.0
        reg[6:] += cfg.posture_weight + w_prev
        jdof = np.arange(6, nv)
        for _ in range(iterations or cfg.iterations):
            self.forward(q)
            pts = self.point_positions()
            for k in range(P):
                b = self._pbody[k]
                mujoco.mj_jac(m, d, self._jacp, None, pts[k], b)
                target = point_targets[k]
                if self._anchor[k] >= 0:
                    a = self._anchor[k]
                    mujoco.mj_jacBody(m, d, self._jaca, None, a)
                    target = d.xpos[a] + target
                    J[3 * k:3 * k + 3] = self._jacp - self._jaca
                else:
                    J[3 * k:3 * k + 3] = self._jacp
                err[3 * k:3 * k + 3] = target - pts[k]
            for k in range(F):
                b = self._fbody[k]
                mujoco.mj_jacBody(m, d, None, self._jacr, b)
                r = 3 * (P + k)
                J[r:r + 3] = self._jacr
                err[r:r + 3] = rotation_error(frame_targets[k], d.xmat[b].reshape(3, 3))
            JW = J.T * w
            H = JW @ J
            H[np.diag_indices(nv)] += reg
            g = JW @ err
            g[jdof] += cfg.posture_weight * (self.default - q[self._qadr]) + w_prev * (q_prev - q[self._qadr])
            dq = np.linalg.solve(H, g)
            step = np.abs(dq).max()
            if step > cfg.max_step:
                dq *= cfg.max_step / step
            mujoco.mj_integratePos(m, q, dq, 1.0)
            q[self._qadr] = np.clip(q[self._qadr], lower, upper)
            if step < cfg.tolerance:
                break
        q[3:7] /= np.linalg.norm(q[3:7])
        return q
