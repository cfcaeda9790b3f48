"""Motion-library player: a :class:`~sonic_deploy.motion.MotionClip` as a reference source.

* time: clip time = speed * t, looped (``loop``) or held at the last frame;
* re-basing at start: the clip's heading and horizontal position are moved onto the robot's (heading from
  the pelvis IMU, position from ``robot_position`` when known, else the origin), heights unchanged;
* blend-in: over ``blend_time`` the joint reference moves from the robot's pose at start to the clip
  (smoothstep), and the pelvis orientation from the robot's to the clip's (normalised lerp).
Frames are interpolated linearly between samples, quaternions by slerp (the training command's interpolation,
``utils.rotations.quat_slerp``, precomputed per clip by ``slerp_pairs`` / ``slerp_rows``; the observation-parity test
compares the two between frames).
"""

from __future__ import annotations

import numpy as np

from sonic_deploy.inputs.base import ReferenceFrames
from sonic_deploy.utils.rotations import quat_mul, quat_nlerp, slerp_pairs, slerp_rows, yaw_of
from sonic_deploy.utils.easing import smoothstep


class MotionPlayer:
    def __init__(self, clip, *, speed: float = 1.0, loop: bool = True, blend_time: float = 1.0,
                 robot_position=None, body_names: tuple | None = None):
        self.clip = clip
        self.speed = speed
        self.loop = loop
        self.blend_time = blend_time
        self.robot_position = robot_position  # callable -> xyz, or None
        self.body_names = tuple(body_names or clip.body_names)
        self._bidx = clip.body_index(self.body_names)
        p = {"joint_pos", "joint_vel", "root_quat"}
        if clip.smpl_joints is not None:
            p.add("smpl_joints")
        if clip.vr_pos is not None and clip.vr_quat is not None:
            p.add("vr")
        self.provides = frozenset(p)
        self._yaw_q = np.array([1.0, 0, 0, 0])
        self._rot = np.eye(3)
        self._offset = np.zeros(3)
        self._q0 = clip.joint_pos[0].copy()
        self._quat0 = clip.root_quat[0].copy()

    def start(self, state, now: float) -> None:
        c = self.clip
        dyaw = float(yaw_of(np.asarray(state.imu_quat, np.float64)) - yaw_of(c.root_quat[0])) if state is not None else 0.0
        self._yaw_q = np.array([np.cos(dyaw / 2), 0.0, 0.0, np.sin(dyaw / 2)])
        cy, sy = np.cos(dyaw), np.sin(dyaw)
        self._rot = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
        target = np.asarray(self.robot_position(), np.float64) if self.robot_position else np.zeros(3)
        ref0 = c.root_pos[0]
        self._offset = np.array([target[0], target[1], 0.0]) - self._rot @ np.array([ref0[0], ref0[1], 0.0])
        if state is not None:
            self._q0 = np.asarray(state.q, np.float64).copy()
            self._quat0 = np.asarray(state.imu_quat, np.float64).copy()
        self._rebase()

    def _rebase(self) -> None:
        """Re-based copies of the clip (computed once per start, so frames() is interpolation only)."""
        c = self.clip
        self._root_q = quat_mul(np.broadcast_to(self._yaw_q, c.root_quat.shape), c.root_quat)
        self._root_p = self._pos(c.root_pos)
        self._body_p = self._pos(c.body_pos_w[:, self._bidx])
        self._smpl = self._pos(c.smpl_joints) if c.smpl_joints is not None else None
        if c.vr_pos is not None and c.vr_quat is not None:
            self._vr_p = self._pos(c.vr_pos)
            self._vr_q = quat_mul(np.broadcast_to(self._yaw_q, c.vr_quat.shape), c.vr_quat)
        else:
            self._vr_p = self._vr_q = None
        self._tables()

    def _tables(self) -> None:
        """Per-frame tables for :meth:`frames`: every linearly interpolated field side by side in one float64 row
        (value, and the difference to the next frame in the field's own dtype, as ``a0 + w * (a1 - a0)`` computes
        it; zero at the last frame), and the slerp pairs of the quaternions, so one step's sampling is a gather
        per table."""
        c = self.clip
        fields = [c.joint_pos, c.joint_vel, self._root_p, self._body_p]
        fields += [self._smpl] if self._smpl is not None else []
        fields += [self._vr_p] if self._vr_p is not None else []
        t = len(c.joint_pos)
        vals, diffs, self._cols = [], [], []
        off = 0
        for f in fields:
            f = np.asarray(f)
            d = np.zeros_like(f)
            d[:-1] = f[1:] - f[:-1]
            vals.append(f.reshape(t, -1).astype(np.float64))
            diffs.append(d.reshape(t, -1).astype(np.float64))
            self._cols.append((slice(off, off + vals[-1].shape[1]), f.shape[1:]))
            off += vals[-1].shape[1]
        self._lin = np.concatenate(vals, axis=1)
        self._dlin = np.concatenate(diffs, axis=1)
        quats = [self._root_q[:, None]] + ([self._vr_q] if self._vr_q is not None else [])
        self._quat_pairs = slerp_pairs(np.concatenate(quats, axis=1))  # [T, 1 (+ 3 VR points), 11]
        self._any_small = bool(self._quat_pairs[..., 10].any())

    def stamp(self, now: float) -> float:
        return now

    def clip_time(self, t: np.ndarray) -> np.ndarray:
        tc = np.asarray(t, np.float64) * self.speed
        d = self.clip.duration
        return np.mod(tc, d) if (self.loop and d > 0) else np.clip(tc, 0.0, d)

    def _pos(self, p: np.ndarray) -> np.ndarray:
        return p @ self._rot.T + self._offset

    def frames(self, times: np.ndarray, state=None) -> ReferenceFrames:
        if not hasattr(self, "_root_q"):
            self._rebase()
        times = np.atleast_1d(np.asarray(times, np.float64))
        i0, w = self._sample(times)
        w1 = w[:, None]
        lin = self._lin.take(i0, axis=0)
        lin += w1 * self._dlin.take(i0, axis=0)  # a0 + w (a1 - a0) for every field at once
        fields = [lin[:, sl] if len(shape) == 1 else lin[:, sl].reshape((-1,) + shape) for sl, shape in self._cols]
        qj, dqj, root_p, body_p = fields[:4]
        dqj = dqj * self.speed if self.speed != 1.0 else dqj  # x * 1 is x
        quats = slerp_rows(self._quat_pairs.take(i0, axis=0), w1[:, None], self._any_small)  # pelvis, VR points
        root_q = quats[:, 0]
        if self.blend_time > 0 and times[0] < self.blend_time:
            a = smoothstep(times / self.blend_time)[:, None]
            qj = (1 - a) * self._q0 + a * qj
            dqj = a * dqj
            root_q = quat_nlerp(np.broadcast_to(self._quat0, root_q.shape), root_q, a)
        fr = ReferenceFrames(times=times, joint_pos=qj, joint_vel=dqj, root_pos=root_p, root_quat=root_q,
                             body_pos_w=body_p, body_names=self.body_names)
        k = 4
        if self._smpl is not None:
            fr.smpl_joints = fields[k]
            k += 1
        if self._vr_p is not None:
            fr.vr_pos = fields[k][0]
            fr.vr_quat = quats[0, 1:]
        return fr

    def _sample(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The clip's ``frame_at`` of :meth:`clip_time` without ``i1`` (the tables hold the next frame's
        difference): frame index and blend weight per time."""
        f = np.minimum(self.clip_time(times) * self.clip.fps, len(self._lin) - 1)  # clip_time is >= +0
        whole, w = np.divmod(f, 1.0)  # floor(f) and f - floor(f), both exact
        return whole.astype(np.int64), w
