"""Safety checks: each returns a :class:`Fault` (cause, joint, value, time) or None; commands are clipped.

Causes: ``state_stale``, ``state_missing``, ``input_stale``, ``nan_state``, ``nan_observation``, ``nan_action``,
``joint_position_limit``, ``joint_velocity_limit``, ``joint_torque_limit``, ``motor_overtemperature``,
``fall``, ``remote_estop``, ``estop``, ``exception``, ``policy``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sonic_deploy.robots.base import JointCommand, RobotState
from sonic_deploy.robots.g1 import RobotSpec

# Unitree wireless remote (bytes 2..3 of ``wireless_remote`` as little-endian uint16): button bits.
REMOTE_BITS = {"R1": 0, "L1": 1, "start": 2, "select": 3, "R2": 4, "L2": 5, "F1": 6, "F2": 7,
               "A": 8, "B": 9, "X": 10, "Y": 11, "up": 12, "right": 13, "down": 14, "left": 15}


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
    state_timeout: float = 0.1  # s without a fresh robot state
    input_timeout: float = 0.5  # s without a fresh reference input (active mode)
    position_margin: float = 0.05  # rad past the hard joint limit that counts as a fault
    velocity_factor: float = 1.5  # |dq| above factor * velocity limit is a fault
    torque_factor: float = 1.2  # |tau| above factor * effort limit is a fault
    temperature_warn: float = 80.0
    temperature_fault: float = 100.0
    max_tilt_deg: float = 60.0  # pelvis tilt beyond this: fell
    soft_limit_factor: float | None = None  # command targets clipped to this fraction of the range (None: spec's)
    remote_estop: tuple[str, ...] = ("L2", "B")  # all pressed together: e-stop
    damping_kd: np.ndarray | None = None  # per joint (None: 2 x tracking kd)
    warnings: list = field(default_factory=list)


def soft_limits(spec: RobotSpec, factor: float) -> tuple[np.ndarray, np.ndarray]:
    mid = 0.5 * (spec.joint_lower + spec.joint_upper)
    half = 0.5 * (spec.joint_upper - spec.joint_lower) * factor
    return mid - half, mid + half


def check_state(state: RobotState, spec: RobotSpec, cfg: SafetyConfig, now: float) -> Fault | None:
    for name in ("q", "dq", "imu_quat", "imu_gyro"):
        arr = getattr(state, name)
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.argmax(bad))
            joint = spec.joint_names[i] if name in ("q", "dq") else None
            return Fault("nan_state", joint, float(arr[i]), now, f"non-finite {name}[{i}]")
    over = np.maximum(spec.joint_lower - cfg.position_margin - state.q, state.q - spec.joint_upper - cfg.position_margin)
    if (over > 0).any():
        i = int(np.argmax(over))
        return Fault("joint_position_limit", spec.joint_names[i], float(state.q[i]), now,
                     f"limits [{spec.joint_lower[i]:.3f}, {spec.joint_upper[i]:.3f}]")
    vel = np.abs(state.dq) - cfg.velocity_factor * spec.velocity_limit
    if (vel > 0).any():
        i = int(np.argmax(vel))
        return Fault("joint_velocity_limit", spec.joint_names[i], float(state.dq[i]), now)
    trq = np.abs(state.tau) - cfg.torque_factor * spec.effort_limit
    if (trq > 0).any():
        i = int(np.argmax(trq))
        return Fault("joint_torque_limit", spec.joint_names[i], float(state.tau[i]), now)
    hot = state.temperature - cfg.temperature_fault
    if (hot >= 0).any():
        i = int(np.argmax(hot))
        return Fault("motor_overtemperature", spec.joint_names[i], float(state.temperature[i]), now)
    if remote_pressed(state.wireless_remote, cfg.remote_estop):
        return Fault("remote_estop", None, None, now, "+".join(cfg.remote_estop))
    tilt = tilt_deg(state.imu_quat)
    if tilt > cfg.max_tilt_deg:
        return Fault("fall", None, tilt, now, "pelvis tilt (deg)")
    return None


def remote_pressed(wireless_remote: bytes, buttons: tuple[str, ...]) -> bool:
    if not buttons or len(wireless_remote) < 4:
        return False
    keys = wireless_remote[2] | (wireless_remote[3] << 8)
    mask = sum(1 << REMOTE_BITS[b] for b in buttons)
    return (keys & mask) == mask


def tilt_deg(quat_wxyz: np.ndarray) -> float:
    w, x, y, z = quat_wxyz
    # z component of the body z axis in the world: 1 - 2 (x^2 + y^2)
    cz = 1.0 - 2.0 * (x * x + y * y)
    return float(np.degrees(np.arccos(np.clip(cz, -1.0, 1.0))))


def clip_command(cmd: JointCommand, state: RobotState | None, spec: RobotSpec, lo: np.ndarray, hi: np.ndarray) -> JointCommand:
    """Targets inside the soft limits; feed-forward inside the effort limit; the P term's torque inside the effort
    limit (q* within q +- effort / kp)."""
    q = np.clip(cmd.q, lo, hi)
    if state is not None:
        with np.errstate(divide="ignore"):
            reach = np.where(cmd.kp > 0, spec.effort_limit / np.maximum(cmd.kp, 1e-9), np.inf)
        q = np.clip(q, state.q - reach, state.q + reach)
    tau = np.clip(cmd.tau, -spec.effort_limit, spec.effort_limit)
    dq = np.clip(cmd.dq, -spec.velocity_limit, spec.velocity_limit)
    return JointCommand(q=q, dq=dq, tau=tau, kp=cmd.kp, kd=cmd.kd, enable=cmd.enable)
