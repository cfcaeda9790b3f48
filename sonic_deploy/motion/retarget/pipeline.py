"""Human motion -> G1 clip: scale to the G1, plant the feet, solve IK, enforce limits, measure the result.

1. Smooth the human joints (zero-phase Gaussian: no lag) and resample to the output rate.
2. Scale the subject to the G1 by measured leg length (hip-knee-ankle plus ankle height); arms get their own
   ratio for limb directions. Start the clip with the pelvis above the origin.
3. Foot contacts of the scaled human -> G1 foot targets: planted phases flat and still on the floor, swing
   following the human, never below the standing height.
4. IK per frame on the G1 MJCF (``ik.G1IK``): feet first (high weight), pelvis and torso frames, knees, elbows
   and wrists as directions from the G1's own hips, shoulders and elbows.
5. Joint velocity limits: a forward and a backward rate-limited pass, averaged (no lag, still within limits).
6. Lift any frame whose lowest collision point is below the floor (hands and knees on the ground clips).
7. Forward kinematics builds the clip; ``smpl_joints`` are the human's own joints (scaled, same world frame),
   ``vr_pos`` the human's head and hands mapped as the teleop calibration maps an operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import mujoco
import numpy as np

from sonic_deploy.motion.clip import MotionClip, validate_clip
from sonic_deploy.motion.kinematics import Kinematics
from sonic_deploy.motion.retarget.contacts import ContactConfig, FootTargets, foot_targets
from sonic_deploy.motion.retarget.ik import G1IK, IKConfig, PointTask
from sonic_deploy.motion.retarget.quality import FloorGeometry, QualityReport, assess
from sonic_deploy.motion.retarget.skeleton import (HumanMotion, pelvis_frames, resample, smooth_zero_phase,
                                                   torso_frames)
from sonic_deploy.robots.g1 import G1, RobotSpec

SIDES = ("left", "right")


@dataclass
class RetargetConfig:
    fps: float = 50.0
    smooth_s: float = 0.02  # sigma of the zero-phase smoothing of the human joints (s)
    contacts: ContactConfig = field(default_factory=ContactConfig)
    ik: IKConfig = field(default_factory=IKConfig)
    foot_weight: float = 50.0
    foot_rot_weight_planted: float = 20.0
    foot_rot_weight_swing: float = 1.0
    pelvis_weight: float = 2.0
    frame_weight: float = 1.0  # pelvis and torso orientation
    knee_weight: float = 0.5
    arm_weight: float = 1.0
    # m: a frame whose planted feet or pelvis miss by more than this is solved again from standing
    reseed_foot_error: float = 0.02
    reseed_swing_error: float = 0.10  # a swing foot may miss a far kick by a little, not by a folded leg
    reseed_pelvis_error: float = 0.08
    reseed_within_velocity: bool = False  # True: move toward a fresh solution only as fast as the joints may


@dataclass
class RetargetResult:
    clip: MotionClip
    human: HumanMotion  # resampled and scaled to the G1
    scale: float
    arm_scale: float
    contacts: np.ndarray  # [T, 2] planted (left, right)
    fit_errors: np.ndarray  # [T, P] m, per keypoint task
    report: QualityReport
    targets: dict = field(default_factory=dict)


class Retargeter:
    """Reusable: builds the G1 model, IK and geometry once, then retargets any number of human clips."""

    def __init__(self, robot: RobotSpec = G1, config: RetargetConfig | None = None):
        self.robot = robot
        self.cfg = config or RetargetConfig()
        self.kin = Kinematics(robot)
        tasks = [PointTask("left_ankle_roll_link"), PointTask("right_ankle_roll_link")]
        self._hip_off = self._hip_centre_offset()
        tasks.append(PointTask("pelvis", tuple(self._hip_off)))
        for s in SIDES:
            tasks += [PointTask(f"{s}_knee_link", anchor=f"{s}_hip_roll_link"),
                      PointTask(f"{s}_elbow_link", anchor=f"{s}_shoulder_roll_link"),
                      PointTask(f"{s}_wrist_yaw_link", anchor=f"{s}_elbow_link")]
        self.tasks = tasks
        self.frames = ["left_ankle_roll_link", "right_ankle_roll_link", "pelvis", "torso_link"]
        self.ik = G1IK(tasks, self.frames, robot, self.cfg.ik, model=self.kin.model)
        self.floor = FloorGeometry(self.kin.model, robot)
        self.g1_leg, self.g1_arm = self._g1_lengths()

    def _rest(self) -> mujoco.MjData:
        d = mujoco.MjData(self.kin.model)
        d.qpos[3] = 1.0
        mujoco.mj_kinematics(self.kin.model, d)
        return d

    def _hip_centre_offset(self) -> np.ndarray:
        """Midpoint of the hip-roll origins in the pelvis frame: where the human pelvis (hip centre) maps."""
        d, m = self._rest(), self.kin.model
        mid = 0.5 * (d.xpos[m.body("left_hip_roll_link").id] + d.xpos[m.body("right_hip_roll_link").id])
        p = m.body("pelvis").id
        return d.xmat[p].reshape(3, 3).T @ (mid - d.xpos[p])

    def _g1_lengths(self) -> tuple[float, float]:
        d, m = self._rest(), self.kin.model
        x = {b: d.xpos[m.body(b).id] for b in ("left_hip_roll_link", "left_knee_link", "left_ankle_roll_link",
                                                "left_shoulder_roll_link", "left_elbow_link", "left_wrist_yaw_link")}
        foot = FloorGeometry(m, self.robot).stance_z
        leg = (np.linalg.norm(x["left_knee_link"] - x["left_hip_roll_link"])
               + np.linalg.norm(x["left_ankle_roll_link"] - x["left_knee_link"]) + foot)
        arm = (np.linalg.norm(x["left_elbow_link"] - x["left_shoulder_roll_link"])
               + np.linalg.norm(x["left_wrist_yaw_link"] - x["left_elbow_link"]))
        return float(leg), float(arm)

    def prepare(self, human: HumanMotion) -> tuple[HumanMotion, float, float]:
        """Smooth, resample, scale to the G1 and move the start above the origin."""
        cfg = self.cfg
        times = human.info.get("times")
        src_fps = human.fps if times is None else 1.0 / float(np.median(np.diff(times)))
        joints = smooth_zero_phase(human.joints, cfg.smooth_s * src_fps)
        smoothed = replace(human, joints=joints)
        m = resample(smoothed, cfg.fps, None if times is None else np.asarray(times))
        scale = self.g1_leg / m.leg_length()
        arm = []
        for s in SIDES:
            sh, el, wr = (m.joint(f"{s}_{j}") for j in ("shoulder", "elbow", "wrist"))
            arm.append(np.linalg.norm(el - sh, axis=-1) + np.linalg.norm(wr - el, axis=-1))
        arm_scale = self.g1_arm / float(np.median(np.concatenate(arm)))
        j = m.joints * scale
        j[:, :, :2] -= j[0, 0, :2]
        m = replace(m, joints=j)
        m.info.update(scale=scale, arm_scale=arm_scale)
        return m, scale, arm_scale

    def retarget(self, human: HumanMotion, name: str | None = None, progress=None) -> RetargetResult:
        cfg, robot = self.cfg, self.robot
        m, scale, arm_scale = self.prepare(human)
        T = m.num_frames
        pel_R, tor_R = pelvis_frames(m), torso_frames(m)
        feet: list[FootTargets] = [foot_targets(m.joint(f"{s}_ankle"), m.joint(f"{s}_foot"), m.fps,
                                                self.floor.stance_z, cfg.contacts, self.floor.foot_reach)
                                   for s in SIDES]
        P = len(self.tasks)
        pt = np.zeros((T, P, 3))
        pw = np.zeros((T, P))
        pt[:, 0], pt[:, 1] = feet[0].pos, feet[1].pos
        pw[:, :2] = cfg.foot_weight
        pt[:, 2], pw[:, 2] = m.joint("pelvis"), cfg.pelvis_weight
        k = 3
        for s in SIDES:
            pt[:, k] = (m.joint(f"{s}_knee") - m.joint(f"{s}_hip"))
            pt[:, k + 1] = arm_scale / scale * (m.joint(f"{s}_elbow") - m.joint(f"{s}_shoulder"))
            pt[:, k + 2] = arm_scale / scale * (m.joint(f"{s}_wrist") - m.joint(f"{s}_elbow"))
            pw[:, k], pw[:, k + 1], pw[:, k + 2] = cfg.knee_weight, cfg.arm_weight, cfg.arm_weight
            k += 3
        ft = np.stack([feet[0].rot, feet[1].rot, pel_R, tor_R], axis=1)
        fw = np.zeros((T, 4))
        for i in range(2):
            fw[:, i] = cfg.foot_rot_weight_swing + feet[i].blend * (cfg.foot_rot_weight_planted
                                                                    - cfg.foot_rot_weight_swing)
        fw[:, 2:] = cfg.frame_weight
        qpos = np.zeros((T, self.kin.model.nq))
        root_quat0 = np.zeros(4)
        mujoco.mju_mat2Quat(root_quat0, pel_R[0].reshape(-1))
        q = self.ik.initial_qpos(m.joint("pelvis")[0] - pel_R[0] @ self._hip_off, root_quat0)
        fit = np.zeros((T, P))
        max_change = np.asarray(robot.velocity_limit) * 0.9 / m.fps
        planted = np.stack([feet[0].blend, feet[1].blend], axis=1) > 0.5
        for t in range(T):
            iters = cfg.ik.first_frame_iterations if t == 0 else None
            q = self.ik.solve(q, pt[t], pw[t], ft[t], fw[t], iterations=iters,
                              max_change=None if t == 0 else max_change)
            fit[t] = self._fit(q, pt[t])
            foot_miss = fit[t, 0:2][planted[t]].max(initial=0.0)
            swing_miss = fit[t, 0:2][~planted[t]].max(initial=0.0)
            if (foot_miss > cfg.reseed_foot_error or swing_miss > cfg.reseed_swing_error
                    or fit[t, 2] > cfg.reseed_pelvis_error):
                # the warm start can drift into a folded-leg branch; a fresh start from standing escapes it
                mujoco.mju_mat2Quat(root_quat0, pel_R[t].reshape(-1))
                fresh = self.ik.solve(self.ik.initial_qpos(m.joint("pelvis")[t] - pel_R[t] @ self._hip_off,
                                                           root_quat0),
                                      pt[t], pw[t], ft[t], fw[t], iterations=cfg.ik.first_frame_iterations)
                if t > 0 and cfg.reseed_within_velocity:  # toward the fresh branch within the velocity limits
                    fresh = self.ik.solve(fresh, pt[t], pw[t], ft[t], fw[t], max_change=max_change,
                                          around=qpos[t - 1, self.ik._qadr])
                fresh_fit = self._fit(fresh, pt[t])
                if np.sum(pw[t] * fresh_fit ** 2) < np.sum(pw[t] * fit[t] ** 2):
                    q, fit[t] = fresh, fresh_fit
            qpos[t] = q
            if progress is not None:
                progress(t + 1, T)
        limited = self._rate_limit(qpos, m.fps)
        qpos = self._repair(limited, qpos, pt, pw, ft, fw, max_change)
        qpos = self._lift_above_floor(qpos, m.fps)
        fit = np.stack([self._fit(qpos[t], pt[t]) for t in range(T)])  # of the clip as written
        contacts = np.stack([feet[0].planted, feet[1].planted], axis=1)
        clip = self._build_clip(name or human.name, m, qpos, arm_scale / scale)
        report = assess(clip, self.floor, contacts=contacts, fit_errors=fit, robot=robot)
        return RetargetResult(clip=clip, human=m, scale=scale, arm_scale=arm_scale, contacts=contacts,
                              fit_errors=fit, report=report, targets={"points": pt, "frames": ft})

    def _fit(self, q: np.ndarray, targets: np.ndarray) -> np.ndarray:
        self.ik.forward(q)
        pts = self.ik.point_positions()
        goal = np.where(self.ik._anchor[:, None] >= 0, self.ik.anchor_positions() + targets, targets)
        return np.linalg.norm(pts - goal, axis=-1)

    def _rate_limit(self, qpos: np.ndarray, fps: float) -> np.ndarray:
        """Joints within velocity limits: average of forward and backward rate-limited passes (zero lag)."""
        adr = self.ik._qadr
        q = qpos[:, adr]
        vmax = np.asarray(self.robot.velocity_limit) * 0.95 / fps
        if np.all(np.abs(np.diff(q, axis=0)) <= vmax):
            return qpos
        fwd, bwd = q.copy(), q.copy()
        for t in range(1, len(q)):
            fwd[t] = fwd[t - 1] + np.clip(q[t] - fwd[t - 1], -vmax, vmax)
        for t in range(len(q) - 2, -1, -1):
            bwd[t] = bwd[t + 1] + np.clip(q[t] - bwd[t + 1], -vmax, vmax)
        out = qpos.copy()
        out[:, adr] = 0.5 * (fwd + bwd)
        return out

    def _repair(self, limited: np.ndarray, solved: np.ndarray, pt, pw, ft, fw, max_change: np.ndarray) -> np.ndarray:
        """Frames the rate limit changed are solved again from there, each within the velocity bound of the
        frame before: the limit spreads a branch switch over several frames, this puts those frames back on
        the targets (a rate-limited blend of two leg branches can swing a foot far off)."""
        adr = self.ik._qadr
        out = limited.copy()
        changed = np.abs(limited[:, adr] - solved[:, adr]).max(axis=1) > 1e-6
        for t in range(1, len(out)):
            if changed[t] or np.any(np.abs(out[t, adr] - out[t - 1, adr]) > max_change + 1e-9):
                out[t] = self.ik.solve(out[t], pt[t], pw[t], ft[t], fw[t], max_change=max_change,
                                       around=out[t - 1, adr])
        return out

    def _lift_above_floor(self, qpos: np.ndarray, fps: float) -> np.ndarray:
        lowest = self.floor.lowest_per_frame(qpos)
        need = np.maximum(-lowest, 0.0)
        if need.max() <= 0.0:
            return qpos
        # a smooth lift that covers every frame's need: a running maximum over +-0.1 s, then smoothed
        r = max(int(0.1 * fps), 1)
        padded = np.pad(need, r, mode="edge")
        cover = np.max(np.lib.stride_tricks.sliding_window_view(padded, 2 * r + 1), axis=1)
        lift = np.maximum(smooth_zero_phase(cover, r / 2.0), need)
        out = qpos.copy()
        out[:, 2] += lift
        return out

    def _build_clip(self, name: str, m: HumanMotion, qpos: np.ndarray, arm_ratio: float) -> MotionClip:
        clip = self.kin.from_joint_trajectory(name, m.fps, qpos[:, :3], qpos[:, 3:7], qpos[:, self.ik._qadr],
                                              smpl_joints=m.joints)
        head = m.joint("head")
        vr = np.stack([head, head + arm_ratio * (m.joint("left_hand") - head),
                       head + arm_ratio * (m.joint("right_hand") - head)], axis=1)
        return validate_clip(replace(clip, vr_pos=vr), name)
