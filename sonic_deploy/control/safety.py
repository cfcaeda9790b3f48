"""Safety checks: each returns a :class:`Fault` (cause, joint, value, time) or None; commands are clipped.

Causes: ``state_stale``, ``state_missing``, ``input_stale``, ``nan_state``, ``nan_observation``, ``nan_action``,
``joint_position_limit``, ``joint_velocity_limit``, ``joint_torque_limit``, ``motor_overtemperature``,
``fall``, ``remote_estop``, ``estop``, ``exception``, ``policy`` (thermal causes come from
:mod:`sonic_deploy.control.thermal`, remote ones from :mod:`sonic_deploy.control.remote`).

Joint limits: command targets are always clipped to the soft limits (``soft_limit_factor`` of the model's range).
A measured position is a fault only when it is past the model's range by more than ``position_margin`` for longer
than ``position_persistence`` (healthy tracking policies push a joint briefly past its range against the limit's
soft constraint: see :class:`SafetyConfig`), or at once when it is past by more than ``position_margin_immediate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sonic_deploy.robots.base import JointCommand, RobotState
from sonic_deploy.robots.g1 import RobotSpec
from sonic_deploy.utils.rotations import tilt_deg


@dataclass
class Fault:
    cause: str
    joint: str | None = None
    value: float | None = None
    time: float = 0.0
    detail: str = ""

    def __str__(self) -> str:
        where = f" joint={self.joint}" if self.joint else ""
        val = f" value={self.value:.4g}" if self.value is not None else ""
        return f"[t={self.time:.3f}s] {self.cause}{where}{val}{' ' + self.detail if self.detail else ''}"


@dataclass
class SafetyConfig:
    """Watchdogs and limits. The field configuration (sonic_deploy/config/g1_field.yaml, ``safety:``) and the ROS 2
    parameter file mirror these defaults; tests/deploy/test_config_homes.py fails when they drift."""

    state_timeout: float = 0.1  # s without a fresh robot state
    input_timeout: float = 0.5  # s without a fresh reference input (active mode); >= teleop hold + ease
    # rad past the model's joint range before a measured position counts, for how long (s) it must stay past, and
    # past how much it is a fault in the same period. Measured (benchmarks/joint_excursions.py: sonic-deploy
    # sim2sim in-process, the controller's view at 50 Hz): holosoma's G1 whole-body-tracking PPO policy over its
    # 131.5 s dance goes up to 0.099 rad past (left ankle roll, at 0.361 against 0.262; the longest stretch past
    # that joint's range 0.12 s, 0.28 s in all), waist pitch 0.024 rad for 0.14 s (the longest stretch past any
    # range), while tracking (mean joint error 0.106 rad); the shipped policy on the six synthetic clips stays
    # within 0.006 rad (0.06 s). (holosoma's FastSAC dance policy falls at 1.3 s here and at 4.3 s in a plain
    # MuJoCo loop: not used.) Chosen: margin 0.15 rad (1.5x the largest), persistence 0.25 s (1.8x the longest
    # stretch past any range), at once past 0.25 rad (2.5x).
    position_margin: float = 0.15
    position_persistence: float = 0.25
    position_margin_immediate: float = 0.25
    velocity_factor: float = 1.5  # |dq| above factor * velocity limit is a fault
    torque_factor: float = 1.2  # |tau| above factor * effort limit is a fault
    max_tilt_deg: float = 60.0  # pelvis tilt beyond this: fell
    soft_limit_factor: float | None = None  # command targets clipped to this fraction of the range (None: spec's)
    damping_kd: np.ndarray | None = None  # per joint (None: 2 x tracking kd)

    def validate(self) -> "SafetyConfig":
        for name in ("state_timeout", "input_timeout", "velocity_factor", "torque_factor", "max_tilt_deg"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not v > 0:
                raise ValueError(f"safety.{name}: expected a number > 0, got {v!r}")
        for name in ("position_margin", "position_persistence"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not v >= 0:
                raise ValueError(f"safety.{name}: expected a number >= 0, got {v!r}")
        if not self.position_margin_immediate >= self.position_margin:
            raise ValueError(f"safety.position_margin_immediate: expected >= position_margin "
                             f"({self.position_margin}), got {self.position_margin_immediate!r}")
        if self.soft_limit_factor is not None and not 0 < self.soft_limit_factor <= 1:
            raise ValueError(f"safety.soft_limit_factor: expected a number in (0, 1] or null, got {self.soft_limit_factor!r}")
        return self


class LimitWatch:
    """Measured joint positions against the model's range: a fault after ``position_persistence`` seconds past
    the range by more than ``position_margin``, or at once past ``position_margin_immediate``."""

    def __init__(self, spec: RobotSpec, cfg: SafetyConfig):
        self.spec, self.cfg = spec, cfg
        self.since = np.full(spec.num_joints, np.nan)  # time each joint went past the margin (nan: inside)
        self._inside = True  # no joint past the margin at the last check (``since`` all nan)

    def reset(self) -> None:
        self.since[:] = np.nan
        self._inside = True

    def check(self, q: np.ndarray, now: float) -> Fault | None:
        spec, cfg = self.spec, self.cfg
        over = np.maximum(spec.joint_lower - q, q - spec.joint_upper)
        if self._inside and over.max() <= cfg.position_margin:
            return None  # nothing past the margin now or before: nothing to track, no fault
        past = over > cfg.position_margin
        self._inside = not past.any()
        self.since = np.where(past, np.where(np.isnan(self.since), now, self.since), np.nan)
        held = np.where(past, now - self.since, -np.inf)
        bad = (over > cfg.position_margin_immediate) | (held > cfg.position_persistence + 1e-9)
        if not bad.any():
            return None
        i = int(np.argmax(np.where(bad, over, -np.inf)))
        return Fault("joint_position_limit", spec.joint_names[i], float(q[i]), now,
                     f"range [{spec.joint_lower[i]:.3f}, {spec.joint_upper[i]:.3f}], {over[i]:.3f} rad past"
                     + (f" for {held[i]:.3f}s" if over[i] <= cfg.position_margin_immediate else ""))


def soft_limits(spec: RobotSpec, factor: float) -> tuple[np.ndarray, np.ndarray]:
    mid = 0.5 * (spec.joint_lower + spec.joint_upper)
    half = 0.5 * (spec.joint_upper - spec.joint_lower) * factor
    return mid - half, mid + half


def check_state(state: RobotState, spec: RobotSpec, cfg: SafetyConfig, limits: LimitWatch, now: float) -> Fault | None:
    """Non-finite state, joint position (``limits``), velocity and torque limits, fall. Each check first asks
    one cheap question (a sum is finite, a maximum is inside its limit) and looks for the culprit only when that
    fails."""
    q, dq, quat = state.q, state.dq, state.imu_quat
    if not math.isfinite(float(np.add.reduce(np.concatenate((q, dq, quat, state.imu_gyro))))):
        fault = _nan_state(state, spec, now)  # none when the sum merely overflowed
        if fault is not None:
            return fault
    fault = limits.check(q, now)
    if fault is not None:
        return fault
    vel = np.abs(dq) - cfg.velocity_factor * spec.velocity_limit
    if vel.max() > 0:
        i = int(np.argmax(vel))
        return Fault("joint_velocity_limit", spec.joint_names[i], float(dq[i]), now)
    trq = np.abs(state.tau) - cfg.torque_factor * spec.effort_limit
    if not trq.max() <= 0 and (trq > 0).any():  # tau is not checked for nan: a nan joint alone is no fault
        i = int(np.argmax(trq))
        return Fault("joint_torque_limit", spec.joint_names[i], float(state.tau[i]), now)
    w, x, y, z = (float(v) for v in quat)
    if 1 - 2 * (x * x + y * y) <= math.cos(math.radians(cfg.max_tilt_deg)) + 1e-5:  # near or past the tilt limit
        tilt = float(tilt_deg(quat))
        if tilt > cfg.max_tilt_deg:
            return Fault("fall", None, tilt, now, "pelvis tilt (deg)")
    return None


def _nan_state(state: RobotState, spec: RobotSpec, now: float) -> Fault | None:
    for name in ("q", "dq", "imu_quat", "imu_gyro"):
        arr = getattr(state, name)
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.argmax(bad))
            joint = spec.joint_names[i] if name in ("q", "dq") else None
            return Fault("nan_state", joint, float(arr[i]), now, f"non-finite {name}[{i}]")
    return None


def clip_command(cmd: JointCommand, state: RobotState | None, spec: RobotSpec, lo: np.ndarray, hi: np.ndarray) -> JointCommand:
    """Feed-forward inside the effort limit; the P term's torque inside the effort limit (q* within q +- effort / kp);
    then, always last, targets inside the soft limits (a joint measured past its limit is pulled back, never
    chased)."""
    q = clip_targets(cmd.q, cmd.kp, state, spec, lo, hi)
    tau = np.minimum(np.maximum(cmd.tau, -spec.effort_limit), spec.effort_limit)
    dq = np.minimum(np.maximum(cmd.dq, -spec.velocity_limit), spec.velocity_limit)
    return JointCommand(q=q, dq=dq, tau=tau, kp=cmd.kp, kd=cmd.kd, enable=cmd.enable)


def clip_targets(q: np.ndarray, kp: np.ndarray, state: RobotState | None, spec: RobotSpec, lo: np.ndarray,
                 hi: np.ndarray) -> np.ndarray:
    """:func:`clip_command`'s targets: within q +- effort / kp of the measured position, then the soft limits
    (minimum of maximum: np.clip's values without its wrapper)."""
    if state is not None:
        reach = np.where(kp > 0, spec.effort_limit / np.maximum(kp, 1e-9), np.inf)  # the divisor is >= 1e-9
        q = np.minimum(np.maximum(q, state.q - reach), state.q + reach)
    return np.minimum(np.maximum(q, lo), hi)
