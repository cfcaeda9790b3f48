"""A small deterministic G1 motion set made from scratch: stand, squat, arm waves, torso twist, step, walk.

Each motion is written as what a person would describe (pelvis path, where each foot is, what the arms and
waist do); the legs are solved by damped least-squares IK on the real G1 kinematics so the feet stay flat on
the floor (or lift cleanly when stepping), and every joint stays inside its limits. Used by tests, demos and
the shipped policy; real data sets come in through the importers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import mujoco
import numpy as np

from sonic_deploy.motion.clip import MotionClip, save_clip
from sonic_deploy.motion.kinematics import Kinematics
from sonic_deploy.utils.rotations import quat_conjugate, quat_from_axis_angle, quat_mul, quat_to_axis_angle

FPS = 50.0
LEGS = {"left": (np.arange(0, 6), "left_ankle_roll_link"), "right": (np.arange(6, 12), "right_ankle_roll_link")}


@dataclass
class Keyframe:
    """Targets for one frame: pelvis pose, flat-foot positions and yaws, and the upper-body joints."""

    pelvis_pos: np.ndarray
    pelvis_yaw: float
    foot_pos: dict[str, np.ndarray]
    foot_yaw: dict[str, float]
    upper: dict[str, float]  # joint name -> angle (absolute); unlisted upper joints stay at default
    pelvis_pitch: float = 0.0


def smooth_ramp(t: np.ndarray | float, t0: float, t1: float) -> np.ndarray:
    """0 before t0, 1 after t1, a cosine blend in between (C1-smooth)."""
    s = np.clip((np.asarray(t) - t0) / (t1 - t0), 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * s)


class LegIK:
    """Solves both legs for flat feet at given world positions and yaws, pelvis pose fixed."""

    def __init__(self, kin: Kinematics):
        self.kin = kin
        self.model, self.data = kin.model, kin.data
        self.jacp = np.zeros((3, self.model.nv))
        self.jacr = np.zeros((3, self.model.nv))
        r = kin.robot
        self.lower, self.upper = r.joint_lower, r.joint_upper
        self.body_ids = {side: self.model.body(name).id for side, (_, name) in LEGS.items()}
        self.default = r.default_joint_pos
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:3] = (0, 0, r.default_root_height)
        self.data.qpos[3:7] = (1, 0, 0, 0)
        self.data.qpos[7:] = self.default
        mujoco.mj_kinematics(self.model, self.data)
        self.default_foot_pos = {s: self.data.xpos[b].copy() for s, b in self.body_ids.items()}
        self.default_foot_quat = {s: self.data.xquat[b].copy() for s, b in self.body_ids.items()}

    def solve(self, qpos: np.ndarray, frame: Keyframe, iters: int = 30) -> tuple[np.ndarray, float]:
        m, d = self.model, self.data
        d.qpos[:] = qpos
        worst = 0.0
        for _ in range(iters):
            mujoco.mj_kinematics(m, d)
            mujoco.mj_comPos(m, d)
            worst = 0.0
            for side, (idx, _) in LEGS.items():
                b = self.body_ids[side]
                yaw_q = quat_from_axis_angle(np.array([0, 0, 1.0]), frame.foot_yaw[side])
                target_q = quat_mul(yaw_q, self.default_foot_quat[side])
                e_pos = frame.foot_pos[side] - d.xpos[b]
                e_rot = quat_to_axis_angle(quat_mul(target_q, quat_conjugate(d.xquat[b])))
                err = np.concatenate([e_pos, e_rot])
                worst = max(worst, float(np.abs(err).max()))
                mujoco.mj_jacBody(m, d, self.jacp, self.jacr, b)
                J = np.vstack([self.jacp, self.jacr])[:, 6 + idx]
                dq = J.T @ np.linalg.solve(J @ J.T + 1e-4 * np.eye(6), err)
                d.qpos[7 + idx] = np.clip(d.qpos[7 + idx] + dq, self.lower[idx], self.upper[idx])
            if worst < 1e-6:
                break
        return d.qpos.copy(), worst


def _frames_to_clip(name: str, keyframes: list[Keyframe], kin: Kinematics) -> MotionClip:
    ik = LegIK(kin)
    r = kin.robot
    qpos = np.concatenate([[0, 0, r.default_root_height], [1, 0, 0, 0], r.default_joint_pos])
    out = []
    for k in keyframes:
        yaw_q = quat_from_axis_angle(np.array([0, 0, 1.0]), k.pelvis_yaw)
        pitch_q = quat_from_axis_angle(np.array([0, 1.0, 0]), k.pelvis_pitch)
        qpos[:3] = k.pelvis_pos
        qpos[3:7] = quat_mul(yaw_q, pitch_q)
        for jname, angle in k.upper.items():
            qpos[7 + r.joint_names.index(jname)] = angle
        qpos, err = ik.solve(qpos, k)
        if err > 2e-3:
            raise RuntimeError(f"synth {name}: leg IK did not reach its foot targets (error {err:.4f})")
        out.append(qpos.copy())
    q = np.array(out)
    joint = np.clip(q[:, 7:], r.joint_lower, r.joint_upper)
    return kin.from_joint_trajectory(name, FPS, q[:, :3], q[:, 3:7], joint)


def _time(duration: float) -> np.ndarray:
    return np.arange(int(round(duration * FPS)) + 1) / FPS


def _upper_default(kin: Kinematics) -> dict[str, float]:
    r = kin.robot
    return {n: float(r.default_joint_pos[i]) for i, n in enumerate(r.joint_names) if i >= 12}


def stand_idle(kin: Kinematics, ik_feet: dict) -> list[Keyframe]:
    base = _upper_default(kin)
    frames = []
    for t in _time(6.0):
        z = kin.robot.default_root_height - 0.005 * (1 - np.cos(2 * np.pi * t / 3.0)) / 2
        upper = dict(base, left_shoulder_pitch_joint=0.2 + 0.05 * np.sin(2 * np.pi * t / 3.0),
                     right_shoulder_pitch_joint=0.2 + 0.05 * float(smooth_ramp(t, 0.0, 1.0)) * np.sin(2 * np.pi * t / 3.0 + 0.5))
        frames.append(Keyframe(np.array([0.0, 0.0, z]), 0.0, dict(ik_feet), {"left": 0.0, "right": 0.0}, upper))
    return frames


def squat(kin: Kinematics, ik_feet: dict) -> list[Keyframe]:
    base = _upper_default(kin)
    frames = []
    for t in _time(8.0):
        depth = 0.14 * (1 - np.cos(2 * np.pi * t / 4.0)) / 2
        arms = depth / 0.14
        upper = dict(base, left_shoulder_pitch_joint=0.2 - 0.9 * arms, right_shoulder_pitch_joint=0.2 - 0.9 * arms,
                     left_elbow_joint=0.6 - 0.3 * arms, right_elbow_joint=0.6 - 0.3 * arms)
        pelvis = np.array([-0.25 * depth, 0.0, kin.robot.default_root_height - depth])
        frames.append(Keyframe(pelvis, 0.0, dict(ik_feet), {"left": 0.0, "right": 0.0}, upper,
                               pelvis_pitch=1.2 * depth))
    return frames


def arm_waves(kin: Kinematics, ik_feet: dict) -> list[Keyframe]:
    base = _upper_default(kin)
    frames = []
    for t in _time(6.0):
        ramp = smooth_ramp(t, 0.0, 1.0) * (1 - smooth_ramp(t, 5.0, 6.0))
        w = np.sin(2 * np.pi * t / 1.5)
        upper = dict(base,
                     left_shoulder_roll_joint=0.2 + ramp * (1.3 + 0.3 * w),
                     left_elbow_joint=0.6 + ramp * (0.3 * w),
                     right_shoulder_pitch_joint=0.2 - ramp * (0.8 + 0.4 * np.sin(2 * np.pi * t / 2.0)),
                     right_elbow_joint=0.6 + ramp * 0.4,
                     left_wrist_roll_joint=ramp * 0.5 * w)
        frames.append(Keyframe(np.array([0.0, 0.0, kin.robot.default_root_height]), 0.0, dict(ik_feet),
                               {"left": 0.0, "right": 0.0}, upper))
    return frames


def torso_twist(kin: Kinematics, ik_feet: dict) -> list[Keyframe]:
    base = _upper_default(kin)
    frames = []
    for t in _time(6.0):
        ramp = smooth_ramp(t, 0.0, 1.0) * (1 - smooth_ramp(t, 5.0, 6.0))
        upper = dict(base, waist_yaw_joint=ramp * 0.6 * np.sin(2 * np.pi * t / 2.5),
                     waist_pitch_joint=ramp * 0.15 * (1 - np.cos(2 * np.pi * t / 2.5)) / 2,
                     waist_roll_joint=ramp * 0.1 * np.sin(2 * np.pi * t / 5.0))
        frames.append(Keyframe(np.array([0.0, 0.0, kin.robot.default_root_height]), 0.0, dict(ik_feet),
                               {"left": 0.0, "right": 0.0}, upper))
    return frames


def _swing_progress(t: float, offset: float, period: float, t_start: float, t_end: float) -> tuple[float, float]:
    """Completed swings (fractional during a swing) and the lift profile of one foot at time t."""
    done, lift = 0.0, 0.0
    for k in range(int(t_end / period) + 1):
        a = (k + offset + 0.05) * period
        b = a + 0.4 * period
        if a < t_start or b > t_end:
            continue
        done += float(smooth_ramp(t, a, b))
        if a <= t <= b:
            lift = float(0.5 - 0.5 * np.cos(2 * np.pi * (t - a) / (b - a)))
    return done, lift


def _gait(kin: Kinematics, ik_feet: dict, duration: float, speed: float, lift: float) -> list[Keyframe]:
    """Alternating steps: the pelvis sways over the stance foot while the other foot swings and lands."""
    base = _upper_default(kin)
    period = 1.2  # each foot swings once per period; left at 0.05-0.45, right at 0.55-0.95 of it
    t_start, t_end = 1.0, duration - 1.0
    step = speed * period
    z0 = kin.robot.default_root_height - 0.01
    frames = []
    for t in _time(duration):
        on = float(smooth_ramp(t, 0.3, t_start) * (1 - smooth_ramp(t, t_end, duration - 0.3)))
        phase = (t % period) / period
        feet = {}
        for side, offset in (("left", 0.0), ("right", 0.5)):
            done, up = _swing_progress(t, offset, period, t_start, t_end)
            feet[side] = ik_feet[side] + np.array([step * done, 0.0, lift * up])
        sway = on * 0.06 * np.sin(2 * np.pi * phase)
        pelvis_x = 0.5 * (feet["left"][0] + feet["right"][0])
        arm = on * 0.25 * np.sin(2 * np.pi * phase) if speed > 0 else 0.0
        upper = dict(base, left_shoulder_pitch_joint=0.2 + arm, right_shoulder_pitch_joint=0.2 - arm)
        frames.append(Keyframe(np.array([pelvis_x, -sway, z0]), 0.0, feet, {"left": 0.0, "right": 0.0}, upper))
    return frames


def step_in_place(kin: Kinematics, ik_feet: dict) -> list[Keyframe]:
    return _gait(kin, ik_feet, 7.2, speed=0.0, lift=0.05)


def walk_slow(kin: Kinematics, ik_feet: dict) -> list[Keyframe]:
    return _gait(kin, ik_feet, 9.6, speed=0.2, lift=0.05)


MOTIONS: dict[str, Callable[[Kinematics, dict], list[Keyframe]]] = {
    "stand_idle": stand_idle, "squat": squat, "arm_waves": arm_waves, "torso_twist": torso_twist,
    "step_in_place": step_in_place, "walk_slow": walk_slow,
}


def synthesize(name: str, kin: Kinematics | None = None) -> MotionClip:
    kin = kin or Kinematics()
    if name not in MOTIONS:
        raise KeyError(f"unknown synthetic motion {name!r}; choose from {sorted(MOTIONS)}")
    ik = LegIK(kin)
    return _frames_to_clip(name, MOTIONS[name](kin, ik.default_foot_pos), kin)


def synthesize_all(out_dir: str | Path, names: list[str] | None = None) -> list[Path]:
    kin = Kinematics()
    return [save_clip(synthesize(n, kin), Path(out_dir) / f"{n}.npz") for n in (names or list(MOTIONS))]
