"""How good is a G1 clip as a tracking reference: joint and velocity limits, foot skate, floor penetration.

The same measures serve every clip, imported or retargeted: ``inspect`` prints them, importers refuse clips
whose frames mostly break the joint limits (the usual sign of a wrong joint order), and the retargeter adds
its keypoint fit error. Contact, where the caller has no better mask, is the G1 foot being within 5 mm of its
standing height.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import mujoco
import numpy as np

from sonic_deploy.motion.clip import MotionClip
from sonic_deploy.robots.g1 import G1, RobotSpec

LIMIT_TOL = 1e-6  # rad: float32 storage of a value on the limit
CONTACT_BAND = 0.005  # m above standing height that still counts as on the floor


@dataclass
class QualityReport:
    clip: str
    frames: int
    seconds: float
    limit_violations: int  # (frame, joint) pairs outside the joint range
    limit_frames_frac: float  # share of frames with at least one joint outside its range
    worst_limit_excess: float  # rad
    worst_limit_joint: str
    velocity_violations: int  # (frame, joint) pairs above the joint's velocity limit
    skate_cm_s: float  # mean horizontal foot speed while in contact
    skate_p95_cm_s: float
    penetration_cm: float  # deepest point of any collision geom below the floor
    contact_frac: float  # share of foot-frames in contact
    fit_error_mm: float | None = None  # retargeting only: mean keypoint distance to its target
    fit_error_max_mm: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def limit_excess(joint_pos: np.ndarray, robot: RobotSpec = G1) -> np.ndarray:
    """[T, J] rad by which each joint is beyond its range (0 inside)."""
    lo, hi = np.asarray(robot.joint_lower), np.asarray(robot.joint_upper)
    return np.maximum(np.maximum(lo - joint_pos, joint_pos - hi) - LIMIT_TOL, 0.0)


class FloorGeometry:
    """Lowest point of the G1's collision geoms over a clip, and the feet's standing height."""

    def __init__(self, model: mujoco.MjModel, robot: RobotSpec = G1):
        self.model = model
        self.data = mujoco.MjData(model)
        m = model
        self.geoms = np.array([g for g in range(m.ngeom)
                               if (m.geom_contype[g] or m.geom_conaffinity[g]) and m.geom_bodyid[g] > 0])
        self.foot_bodies = np.array([m.body(b).id for b in robot.feet_bodies])
        self._qadr = np.array([m.joint(n).qposadr[0] for n in robot.joint_names])
        q = np.zeros(m.nq)
        q[3] = 1.0
        self.data.qpos[:] = q
        mujoco.mj_kinematics(m, self.data)
        foot_geoms = [g for g in self.geoms if m.geom_bodyid[g] in set(self.foot_bodies)]
        sole = min(self._lowest(g) for g in foot_geoms)
        ankle = self.data.xpos[self.foot_bodies[0]]
        # ankle-roll origin height with the flat foot's sole on the floor
        self.stance_z = float(ankle[2] - sole)
        # farthest a sole point lies ahead of or behind the ankle (capsule ends plus radius)
        self.foot_reach = float(max(abs(self.data.geom_xpos[g, 0] - ankle[0]) + m.geom_size[g, 1]
                                    * np.hypot(*self.data.geom_xmat[g].reshape(3, 3)[:2, 2]) + m.geom_size[g, 0]
                                    for g in foot_geoms))

    def _lowest(self, g: int) -> float:
        m, d = self.model, self.data
        c, R, size = d.geom_xpos[g], d.geom_xmat[g].reshape(3, 3), m.geom_size[g]
        kind = m.geom_type[g]
        if kind == mujoco.mjtGeom.mjGEOM_SPHERE:
            return float(c[2] - size[0])
        if kind == mujoco.mjtGeom.mjGEOM_CAPSULE:
            return float(c[2] - abs(R[2, 2]) * size[1] - size[0])
        if kind == mujoco.mjtGeom.mjGEOM_CYLINDER:
            return float(c[2] - abs(R[2, 2]) * size[1] - np.hypot(R[2, 0], R[2, 1]) * size[0])
        if kind in (mujoco.mjtGeom.mjGEOM_BOX, mujoco.mjtGeom.mjGEOM_ELLIPSOID):
            return float(c[2] - np.abs(R[2]) @ size[:3])
        return float(c[2] - m.geom_rbound[g])

    def lowest_per_frame(self, qpos: np.ndarray) -> np.ndarray:
        """[T] lowest collision point (m) of the robot in each configuration."""
        out = np.empty(len(qpos))
        for t, q in enumerate(qpos):
            self.data.qpos[:] = q
            mujoco.mj_kinematics(self.model, self.data)
            out[t] = min(self._lowest(g) for g in self.geoms)
        return out

    def qpos_of(self, clip: MotionClip) -> np.ndarray:
        q = np.zeros((clip.num_frames, self.model.nq))
        q[:, :3], q[:, 3:7] = clip.root_pos, clip.root_quat
        idx = [clip.joint_names.index(n) for n in G1.joint_names]
        q[:, self._qadr] = clip.joint_pos[:, idx]
        return q


def assess(clip: MotionClip, floor: FloorGeometry, contacts: np.ndarray | None = None,
           fit_errors: np.ndarray | None = None, robot: RobotSpec = G1) -> QualityReport:
    """Quality of one clip in the G1's joint order; ``contacts`` [T, 2] (left, right) overrides the height rule."""
    idx = [clip.joint_names.index(n) for n in robot.joint_names]
    q = clip.joint_pos[:, idx].astype(np.float64)
    excess = limit_excess(q, robot)
    bad = excess > 0
    worst = np.unravel_index(np.argmax(excess), excess.shape)
    vel = np.abs(clip.joint_vel[:, idx])
    vel_bad = int((vel > np.asarray(robot.velocity_limit) + 1e-6).sum())
    feet = clip.body_pos_w[:, clip.body_index(robot.feet_bodies)].astype(np.float64)
    if contacts is None:
        contacts = feet[:, :, 2] < floor.stance_z + CONTACT_BAND
    speed = np.linalg.norm(np.gradient(feet[:, :, :2], 1.0 / clip.fps, axis=0), axis=-1) * 100.0
    in_contact = speed[contacts]
    lowest = floor.lowest_per_frame(floor.qpos_of(clip))
    fe = None if fit_errors is None else np.asarray(fit_errors) * 1000.0
    return QualityReport(
        clip=clip.name, frames=clip.num_frames, seconds=round(clip.duration, 3),
        limit_violations=int(bad.sum()), limit_frames_frac=float(bad.any(axis=1).mean()),
        worst_limit_excess=float(excess[worst]), worst_limit_joint=robot.joint_names[worst[1]] if bad.any() else "",
        velocity_violations=vel_bad,
        skate_cm_s=float(in_contact.mean()) if in_contact.size else 0.0,
        skate_p95_cm_s=float(np.percentile(in_contact, 95)) if in_contact.size else 0.0,
        penetration_cm=float(max(0.0, -lowest.min()) * 100.0), contact_frac=float(contacts.mean()),
        fit_error_mm=None if fe is None else float(fe.mean()),
        fit_error_max_mm=None if fe is None else float(fe.max()),
    )
