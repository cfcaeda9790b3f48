"""The robot interface the controller talks to: read a state, write a joint command.

Implementations: :class:`~sonic_deploy.robots.mujoco_robot.MujocoRobot` (in-process simulation) and
:class:`~sonic_deploy.robots.g1_dds.G1DdsRobot` (the real G1, or the MuJoCo bridge, over Unitree DDS).
All arrays are in the robot spec's (Unitree) joint order; quaternions are w, x, y, z.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass
class RobotState:
    timestamp: float  # monotonic seconds when this state was received / produced
    q: np.ndarray  # [n] joint position (rad)
    dq: np.ndarray  # [n] joint velocity (rad/s)
    tau: np.ndarray  # [n] estimated joint torque (Nm)
    imu_quat: np.ndarray  # [4] pelvis IMU orientation, wxyz
    imu_gyro: np.ndarray  # [3] pelvis angular velocity in the IMU (pelvis) frame
    imu_acc: np.ndarray  # [3] specific force in the IMU frame
    temperature: np.ndarray  # [n] motor temperature (deg C)
    mode_machine: int = 0
    tick: int = 0  # robot tick (ms)
    wireless_remote: bytes = bytes(40)
    motor_error: np.ndarray | None = None  # [n] motor_state[i].motorstate fault bits (None: not reported)


@dataclass
class JointCommand:
    q: np.ndarray  # [n] position target
    dq: np.ndarray  # [n] velocity target
    tau: np.ndarray  # [n] feed-forward torque
    kp: np.ndarray  # [n]
    kd: np.ndarray  # [n]
    enable: bool = True

    @classmethod
    def damping(cls, q: np.ndarray, kd: np.ndarray) -> "JointCommand":
        """kp 0, kd > 0, q* = current: the motors brake, nothing is driven."""
        n = len(q)
        return cls(q=np.array(q, dtype=np.float64), dq=np.zeros(n), tau=np.zeros(n), kp=np.zeros(n),
                   kd=np.array(kd, dtype=np.float64), enable=True)

    @classmethod
    def passive(cls, n: int) -> "JointCommand":
        z = np.zeros(n)
        return cls(q=z.copy(), dq=z.copy(), tau=z.copy(), kp=z.copy(), kd=z.copy(), enable=False)


@runtime_checkable
class Robot(Protocol):
    def read_state(self) -> RobotState | None:
        """Latest state (None until one arrived)."""

    def write_command(self, cmd: JointCommand) -> None:
        """Send one joint command."""

    def close(self) -> None:
        ...


@dataclass
class RobotStats:
    states_received: int = 0
    states_bad_crc: int = 0
    commands_sent: int = 0
    extra: dict = field(default_factory=dict)
