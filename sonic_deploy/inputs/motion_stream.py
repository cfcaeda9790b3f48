"""Motion frames over the WebSocket/JSON transport: a planner or a human-motion pipeline drives the robot.

Message (one frame)::

    {"type": "motion", "t": 1.24, "joint_pos": [29], "joint_vel": [29], "root_pos": [3], "root_quat": [4],
     "smpl_joints": [[24, 3]] (optional), "vr_pos": [[3, 3]], "vr_quat": [[3, 4]] (optional)}

``t`` is the stream's time (s); a sender runs ``lead`` seconds ahead of real time so the policy's future frames
are covered. :class:`MotionStreamInput` buffers the frames (by ``t``), and at :meth:`start` aligns stream time
with the policy's: t_stream = t_policy + (newest t at start - lead). Frames are interpolated linearly between
samples, quaternions by slerp (``utils.rotations.quat_slerp``, the interpolation of training's command and of the
motion player), held at the newest frame past the end; the heading and horizontal position are re-based onto the
robot like the motion player's, with the same blend-in (a separate ease from the robot's own pose: joints
linearly, the pelvis orientation by normalised lerp, as the player does). Staleness is the arrival time of the
newest frame.

Sender: :func:`sonic_deploy.teleop.clip_sender.stream_clip` (frames made by :func:`clip_message`) /
``python -m sonic_deploy.teleop.clip_sender CLIP --url ws://127.0.0.1:8765/ws``.
"""

from __future__ import annotations

import bisect
import threading

import numpy as np

from sonic_deploy.inputs.base import ReferenceFrames
from sonic_deploy.utils.easing import smoothstep
from sonic_deploy.utils.rotations import quat_from_yaw, quat_mul, quat_nlerp, quat_slerp, yaw_of

FIELDS = {"joint_pos": (29,), "joint_vel": (29,), "root_pos": (3,), "root_quat": (4,), "smpl_joints": (24, 3),
          "vr_pos": (3, 3), "vr_quat": (3, 4)}
REQUIRED = ("joint_pos", "joint_vel", "root_pos", "root_quat")


def clip_message(clip, t: float) -> dict:
    """The motion frame of ``clip`` at ``t`` (s), sampled as the motion player samples it (slerp of the pelvis
    orientation); VR orientations are the nearer frame's."""
    i0, i1, w = clip.frame_at(np.array([t]))
    i0, i1, w = int(i0[0]), int(i1[0]), float(w[0])

    def lerp(a):
        return ((1 - w) * a[i0] + w * a[i1]).tolist()

    rq = quat_slerp(np.asarray(clip.root_quat[i0], np.float64), np.asarray(clip.root_quat[i1], np.float64), w)
    msg = {"type": "motion", "t": float(t), "joint_pos": lerp(clip.joint_pos), "joint_vel": lerp(clip.joint_vel),
           "root_pos": lerp(clip.root_pos), "root_quat": rq.tolist()}
    if clip.smpl_joints is not None:
        msg["smpl_joints"] = lerp(clip.smpl_joints)
    if clip.vr_pos is not None:
        msg["vr_pos"] = lerp(clip.vr_pos)
        msg["vr_quat"] = clip.vr_quat[i0 if w < 0.5 else i1].tolist()
    return msg


class MotionStreamInput:
    def __init__(self, *, lead: float = 0.5, blend_time: float = 1.0, max_buffer: float = 10.0):
        self.lead, self.blend_time, self.max_buffer = lead, blend_time, max_buffer
        self._t: list[float] = []
        self._frames: list[dict] = []
        self._stamp = -np.inf
        self._lock = threading.Lock()
        self._offset = 0.0
        self._yaw_q = np.array([1.0, 0, 0, 0])
        self._rot = np.eye(3)
        self._shift = np.zeros(3)
        self._q0 = self._quat0 = None
        self.provides = frozenset({"joint_pos", "joint_vel", "root_quat"})
        self.received = 0

    def push_message(self, msg: dict, now: float) -> None:
        frame = {}
        for name, shape in FIELDS.items():
            if name not in msg:
                if name in REQUIRED:
                    raise ValueError(f"field '{name}': missing")
                continue
            arr = np.asarray(msg[name], np.float64)
            if arr.shape != shape or not np.isfinite(arr).all():
                raise ValueError(f"field '{name}': expected finite numbers of shape {list(shape)}")
            frame[name] = arr
        t = msg.get("t")
        if not isinstance(t, (int, float)) or isinstance(t, bool) or not np.isfinite(t):
            raise ValueError(f"field 't': expected a number, got {t!r}")
        with self._lock:
            if self._t and t <= self._t[-1]:  # a restarted stream
                self._t.clear()
                self._frames.clear()
            self._t.append(float(t))
            self._frames.append(frame)
            while self._t[-1] - self._t[0] > self.max_buffer:
                self._t.pop(0)
                self._frames.pop(0)
            self._stamp = now
            self.received += 1
            p = set(self.provides)
            if "smpl_joints" in frame:
                p.add("smpl_joints")
            if "vr_pos" in frame and "vr_quat" in frame:
                p.add("vr")
            self.provides = frozenset(p)

    def start(self, state, now: float) -> None:
        with self._lock:
            if not self._t:
                return  # stamp() is -inf: the input watchdog damps
            self._offset = self._t[-1] - self.lead
            first = self._sample(self._offset)
        dyaw = float(yaw_of(state.imu_quat) - yaw_of(first["root_quat"])) if state is not None else 0.0
        self._yaw_q = quat_from_yaw(dyaw)
        c, s = np.cos(dyaw), np.sin(dyaw)
        self._rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        r0 = first["root_pos"]
        self._shift = -self._rot @ np.array([r0[0], r0[1], 0.0])
        if state is not None:
            self._q0, self._quat0 = np.asarray(state.q, np.float64), np.asarray(state.imu_quat, np.float64)

    def stamp(self, now: float) -> float:
        return self._stamp

    def _sample(self, ts: float) -> dict:
        """The frame at stream time ``ts``: the two nearest samples blended (linearly; quaternions by slerp)."""
        i = bisect.bisect_right(self._t, ts)
        if i <= 0:
            return self._frames[0]
        if i >= len(self._t):
            return self._frames[-1]
        t0, t1 = self._t[i - 1], self._t[i]
        w = (ts - t0) / (t1 - t0)
        a, b = self._frames[i - 1], self._frames[i]
        out = {}
        for k in a:
            if k not in b:
                continue
            if k in ("root_quat", "vr_quat"):
                out[k] = quat_slerp(a[k], b[k], w)
            else:
                out[k] = (1 - w) * a[k] + w * b[k]
        return out

    def frames(self, times: np.ndarray, state=None) -> ReferenceFrames:
        times = np.atleast_1d(np.asarray(times, np.float64))
        with self._lock:
            if not self._t:
                raise RuntimeError("motion stream: no frame received yet")
            fr = [self._sample(self._offset + t) for t in times]
        stack = {k: np.stack([f[k] for f in fr]) for k in fr[0]}
        a = smoothstep(times / self.blend_time) if self.blend_time > 0 else np.ones_like(times)
        qj, dqj = stack["joint_pos"], stack["joint_vel"]
        if self._q0 is not None:
            qj = (1 - a[:, None]) * self._q0 + a[:, None] * qj
            dqj = a[:, None] * dqj
        rq = quat_mul(np.broadcast_to(self._yaw_q, stack["root_quat"].shape), stack["root_quat"])
        if self._quat0 is not None:  # the blend-in from the robot's pelvis: an ease, normalised lerp
            rq = quat_nlerp(np.broadcast_to(self._quat0, rq.shape), rq, a[:, None])
        pos = lambda p: p @ self._rot.T + self._shift  # noqa: E731
        out = ReferenceFrames(times=times, joint_pos=qj, joint_vel=dqj, root_pos=pos(stack["root_pos"]), root_quat=rq)
        if "smpl_joints" in stack:
            out.smpl_joints = pos(stack["smpl_joints"])
        if "vr_pos" in stack and "vr_quat" in stack:
            out.vr_pos = pos(stack["vr_pos"][0])
            out.vr_quat = quat_mul(np.broadcast_to(self._yaw_q, (3, 4)), stack["vr_quat"][0])
        return out
