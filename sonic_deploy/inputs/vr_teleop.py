"""The VR 3-point teleop input: a :class:`~sonic_deploy.inputs.base.ReferenceSource` for the teleop encoder.

Samples arrive from any transport (WebSocket server, ROS 2 ``PoseArray``, recorded session) through
:meth:`TeleopInput.push` with the controller-clock time of arrival. Each sample is calibrated (see
:mod:`.vr_calibration`), smoothed (:class:`~.vr_filters.ExpSmoother`, delay = ``smoothing_tau``) and kept.

Dropout: ``age`` = time since the newest sample. For ``age <= hold_time`` the last pose is held; then the
reference eases to the safe pose (the G1's default standing 3-point reference) over ``ease_time``
(smoothstep) and stays there. When samples come back, the reference blends from where it was to the live
pose over ``resume_time``. :meth:`stamp` always reports the true arrival time of the newest sample, so the
controller's input watchdog (``SafetyConfig.input_timeout``) damps the robot when the operator is gone for
longer than that: choose ``input_timeout >= hold_time + ease_time`` for the ease to complete first
(:func:`sonic_deploy.ros2.params.validate_params` enforces it).

Output frame: the teleop frame (see :mod:`.vr_calibration`) turned at :meth:`start` onto the robot's heading;
the reference pelvis stands above the origin at the default height with the robot's heading.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from sonic_deploy.inputs.base import ReferenceFrames
from sonic_deploy.inputs.vr_calibration import Calibration, default_vr_reference
from sonic_deploy.inputs.vr_filters import ExpSmoother, blend_poses
from sonic_deploy.inputs.vr_poses import PoseSample
from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_deploy.utils.easing import smoothstep
from sonic_deploy.utils.rotations import quat_from_yaw, quat_mul, yaw_of


@dataclass
class TeleopConfig:
    smoothing_tau: float = 0.03  # s; steady-state lag of the low-pass (0: off)
    hold_time: float = 0.2  # s the last pose is held after the stream stops (hold + ease <= input_timeout)
    ease_time: float = 0.3  # s to ease from the held pose to the safe pose
    resume_time: float = 0.3  # s to blend back to the live pose when samples return
    auto_calibrate: bool = True  # the first sample calibrates
    operator_height: float | None = None  # m; None: measured head height at calibration
    operator_arm_length: float | None = None  # m; None: arms scale like the height

    def validate(self) -> "TeleopConfig":
        for name in ("smoothing_tau", "hold_time", "ease_time", "resume_time"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not v >= 0:
                raise ValueError(f"teleop.{name}: expected a number >= 0, got {v!r}")
        for name in ("operator_height", "operator_arm_length"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, float)) or not 0.3 < v < 3.0):
                raise ValueError(f"teleop.{name}: expected metres in (0.3, 3.0) or null, got {v!r}")
        return self


class TeleopInput:
    provides = frozenset({"vr"})

    def __init__(self, cfg: TeleopConfig | None = None, spec: RobotSpec = G1):
        self.cfg = (cfg or TeleopConfig()).validate()
        self.spec = spec
        self.ref = default_vr_reference(spec)
        self.calibration: Calibration | None = None
        self._calibrate_next = self.cfg.auto_calibrate
        self._smoother = ExpSmoother(self.cfg.smoothing_tau)
        self._lock = threading.Lock()
        self._live: tuple[np.ndarray, np.ndarray] | None = None
        self._last_arrival = -np.inf
        self._resume_from: tuple[np.ndarray, np.ndarray] | None = None
        self._resume_start = 0.0
        self._last_out = (self.ref.pos.copy(), self.ref.quat.copy())
        self._now = 0.0
        self._yaw = 0.0
        self.received = 0
        self.dropped_uncalibrated = 0
        self.listeners: list = []  # callables(sample, now), e.g. a session recorder

    # --- transports call these -----------------------------------------------------------------------
    def request_calibration(self) -> None:
        """The next sample zeroes the operator's pose."""
        with self._lock:
            self._calibrate_next = True

    def push(self, sample: PoseSample, now: float) -> None:
        for fn in self.listeners:
            fn(sample, now)
        with self._lock:
            if self._calibrate_next:
                self.calibration = Calibration.from_sample(sample, self.ref, operator_height=self.cfg.operator_height,
                                                           operator_arm_length=self.cfg.operator_arm_length)
                self._calibrate_next = False
                self._smoother.reset()
            if self.calibration is None:
                self.dropped_uncalibrated += 1
                return
            if sample.valid is not None and not sample.valid.all() and self._live is not None:
                prev = self.calibration  # keep tracked points, hold the lost ones at their last live pose
                pos, quat = prev.apply(sample)
                pos = np.where(sample.valid[:, None], pos, self._live[0])
                quat = np.where(sample.valid[:, None], quat, self._live[1])
            else:
                pos, quat = self.calibration.apply(sample)
            if now - self._last_arrival > self.cfg.hold_time and np.isfinite(self._last_arrival):
                self._resume_from = self._last_out
                self._resume_start = now
            self._live = self._smoother(now, pos, quat)
            self._last_arrival = now
            self.received += 1

    # --- ReferenceSource ------------------------------------------------------------------------------
    def start(self, state, now: float) -> None:
        self._yaw = float(yaw_of(state.imu_quat)) if state is not None else 0.0

    def stamp(self, now: float) -> float:
        self._now = now
        return self._last_arrival

    def age(self, now: float) -> float:
        return now - self._last_arrival

    def status(self, now: float) -> str:
        """``waiting`` (no calibrated sample yet), ``live``, ``holding``, ``easing`` or ``safe``."""
        if self._live is None:
            return "waiting"
        age = now - self._last_arrival
        if age <= self.cfg.hold_time:
            return "live" if age <= max(0.1, 0.5 * self.cfg.hold_time) else "holding"
        return "easing" if age < self.cfg.hold_time + self.cfg.ease_time else "safe"

    def pose_at(self, now: float) -> tuple[np.ndarray, np.ndarray]:
        """The 3-point reference (teleop frame) at controller time ``now``, with dropout handling applied."""
        with self._lock:
            safe = (self.ref.pos, self.ref.quat)
            if self._live is None:
                out = safe
            else:
                out = self._live
                if self._resume_from is not None:
                    w = smoothstep((now - self._resume_start) / self.cfg.resume_time) if self.cfg.resume_time > 0 else 1.0
                    if w >= 1.0:
                        self._resume_from = None
                    else:
                        out = blend_poses(*self._resume_from, *out, w)
                age = now - self._last_arrival
                if age > self.cfg.hold_time:
                    w = smoothstep((age - self.cfg.hold_time) / self.cfg.ease_time) if self.cfg.ease_time > 0 else 1.0
                    out = blend_poses(*out, *safe, w)
            self._last_out = (np.array(out[0]), np.array(out[1]))
            return self._last_out[0].copy(), self._last_out[1].copy()

    def frames(self, times: np.ndarray, state=None) -> ReferenceFrames:
        times = np.atleast_1d(np.asarray(times, np.float64))
        pos, quat = self.pose_at(self._now)
        c, s = np.cos(self._yaw), np.sin(self._yaw)
        rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        yq = quat_from_yaw(self._yaw)
        f = len(times)
        return ReferenceFrames(times=times, root_pos=np.tile([0.0, 0.0, self.ref.root_height], (f, 1)),
                               root_quat=np.tile(yq, (f, 1)), vr_pos=pos @ rot.T,
                               vr_quat=quat_mul(np.broadcast_to(yq, quat.shape), quat))
