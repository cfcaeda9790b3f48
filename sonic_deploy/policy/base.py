"""The policy interface the controller runs: one declared :class:`Policy` protocol for every format.

The controller (:mod:`sonic_deploy.control.controller`) calls, each active step: ``reference_times(t)`` (which
reference times the policy wants), ``observe(state, frames)`` (the graph's inputs), ``infer(inputs)`` (the raw
action, Unitree joint order), ``commit(action)`` (the action was accepted: advance history and motion time),
``targets(action)`` (joint position targets, Unitree order) and reads ``kp`` / ``kd`` (Unitree order);
``reset()`` when the policy becomes active, ``term_at(input, i)`` to name a non-finite observation value.

Implemented by :class:`~sonic_deploy.policy.runner.PolicyRunner` (``sonic.policy/1``),
:class:`~sonic_deploy.policy.tokens.TokenPolicy` (its decoder-only token path) and the adapters for the field's
formats (:mod:`.beyondmimic`, :mod:`.holosoma`, :mod:`.gear_sonic`). A policy that carries its own reference
motion (BeyondMimic, holosoma whole-body tracking) also implements :class:`EmbeddedMotion`: it needs no
reference input, and reports what it tracked so that sim-to-sim measures errors against the embedded motion.
A policy driven by a velocity command (holosoma locomotion) implements :class:`VelocityCommanded`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from sonic_deploy.inputs.base import ReferenceFrames
from sonic_deploy.robots.base import RobotState


@runtime_checkable
class Policy(Protocol):
    path: str
    format: str  # "sonic.policy/1", "sonic.tokens/1", "beyondmimic", "holosoma.wbt", "holosoma.loco", "gear_sonic"
    kp: np.ndarray  # [29] Unitree order
    kd: np.ndarray  # [29] Unitree order

    def reset(self) -> None:
        """The policy becomes active: clear histories, last action, motion time."""

    def reference_times(self, t: float) -> np.ndarray:
        """Times (s since activation) at which the reference input is sampled for this step."""

    def observe(self, state: RobotState, frames: ReferenceFrames | None) -> dict[str, np.ndarray]:
        """The graph's inputs for this state and reference (``frames`` None without a reference input)."""

    def term_at(self, input_name: str, index: int) -> str:
        """The observation term at ``index`` of ``input_name`` (for fault messages)."""

    def infer(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Raw action [29], Unitree joint order."""

    def commit(self, action: np.ndarray) -> None:
        """The controller accepted ``action``: it becomes the last action; motion time advances."""

    def targets(self, action: np.ndarray) -> np.ndarray:
        """Joint position targets [29], Unitree order."""


@runtime_checkable
class EmbeddedMotion(Protocol):
    """A policy whose reference motion is inside the artifact."""

    motion_duration: float  # seconds of embedded motion
    reference_bodies: tuple  # bodies whose reference positions last_reference carries (body_pos_w)
    last_reference: ReferenceFrames | None  # what the last observed step tracked (re-based onto the robot)

    def motion_frames(self, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
        """The embedded motion as arrays (Unitree joint order): fps, joint_pos, joint_vel, root_pos, root_quat."""


@runtime_checkable
class VelocityCommanded(Protocol):
    """A policy that walks on a base velocity command (vx, vy m/s; yaw rate rad/s; body frame)."""

    command_ranges: dict[str, tuple[float, float]]

    def set_command(self, vx: float, vy: float, yaw_rate: float) -> None:
        """Set the velocity command for the next steps (clipped to ``command_ranges``)."""


def describe(policy: Policy) -> dict:
    """What ``sonic-deploy inspect`` prints for any format: the contract as this runtime reads and runs it."""
    out = {"format": policy.format, **getattr(policy, "summary", dict)()}
    if isinstance(policy, EmbeddedMotion):
        out["embedded motion"] = f"{policy.motion_duration:.2f} s (no --motion needed)"
    if isinstance(policy, VelocityCommanded):
        out["velocity command"] = ", ".join(f"{k} {lo:g}..{hi:g}" for k, (lo, hi) in policy.command_ranges.items())
    return out
