"""The simulator-backend interface the MDP is written against, declared once.

A backend steps ``num_envs`` robots with PD inside the simulator (a control step holds the joint targets for
``decimation`` physics steps), fills a :class:`~sonic_train.envs.mdp.state.RobotState` and applies the
randomisation hooks the events use. The MDP (``mdp/``, ``managers/``, :class:`TrackingEnv`) and the ONNX export
touch a backend only through these members; :class:`MujocoBackend` (CPU) and ``IsaacLabBackend`` (own Python
environment) implement it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch

from sonic_train.envs.mdp.state import RobotState

BACKENDS = {
    "mujoco": "CPU MuJoCo (installed with sonic)",
    "isaaclab": "Isaac Lab 3 (a Python 3.12 environment: scripts/install_isaaclab.sh builds .venv-isaaclab; "
                "see sonic_train/envs/isaaclab/README.md)",
}


class BackendUnavailable(RuntimeError):
    """A selected simulator backend that is unknown or not installed; the message says how to get it."""


@runtime_checkable
class SimulatorBackend(Protocol):
    """What the tracking env and the export read from a simulator backend."""

    name: str
    num_envs: int
    device: torch.device  # where read_state puts its tensors
    physics_dt: float  # seconds per physics step
    decimation: int  # physics steps per control step
    control_dt: float  # physics_dt * decimation
    body_names: tuple[str, ...]  # RobotState's body order (body 0 = pelvis)
    joint_names: tuple[str, ...]  # the robot spec's joint order
    base_kp: np.ndarray  # [J] PD stiffness the simulator applies before randomisation (the export's contract kp)
    base_kd: np.ndarray  # [J] PD damping, likewise

    def step(self, joint_targets: torch.Tensor) -> None:
        """Hold ``joint_targets`` [N, J] for ``decimation`` physics steps in every env."""

    def read_state(self) -> RobotState:
        """The state of every env after the last step or reset."""

    def reset_envs(self, env_ids: torch.Tensor, root_pos: torch.Tensor, root_quat: torch.Tensor,
                   root_lin_vel_w: torch.Tensor, root_ang_vel_w: torch.Tensor, joint_pos: torch.Tensor,
                   joint_vel: torch.Tensor) -> None:
        """Put ``env_ids`` on the given root pose and velocity (world frame) and joint state."""

    def set_friction_scale(self, env_ids: torch.Tensor, scale: torch.Tensor) -> None:
        """Scale the feet's friction by ``scale`` [n] of the nominal value."""

    def set_body_mass_delta(self, env_ids: torch.Tensor, body: str, delta: torch.Tensor) -> None:
        """Set ``body``'s mass to nominal + ``delta`` [n] kg."""

    def set_gain_scale(self, env_ids: torch.Tensor, kp_scale: torch.Tensor, kd_scale: torch.Tensor) -> None:
        """Set every joint's kp and kd to ``base_kp * kp_scale`` and ``base_kd * kd_scale`` ([n, J])."""

    def add_root_velocity(self, env_ids: torch.Tensor, lin_vel_w: torch.Tensor, ang_vel_w: torch.Tensor) -> None:
        """Add a root velocity (world frame, [n, 3] each): a push."""

    def close(self) -> None:
        """Release threads, simulators and devices."""
