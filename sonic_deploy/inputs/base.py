"""Reference inputs: what the encoder terms need, at the times the policy asks for.

A :class:`ReferenceSource` returns :class:`ReferenceFrames` for requested times (seconds since the policy
became active) and a staleness stamp (the controller's clock time of the newest input; a source that
stops updating goes stale and the controller damps). What each source ``provides`` is checked against the
policy's encoder terms before anything runs (``joint_pos``, ``joint_vel``, ``root_quat``, ``smpl_joints``,
``vr``, ``base_velocity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass
class ReferenceFrames:
    times: np.ndarray  # [F]
    joint_pos: np.ndarray | None = None  # [F, 29]
    joint_vel: np.ndarray | None = None  # [F, 29]
    root_pos: np.ndarray | None = None  # [F, 3] world (re-based to the robot)
    root_quat: np.ndarray | None = None  # [F, 4] wxyz world (re-based)
    body_pos_w: np.ndarray | None = None  # [F, B, 3] world (re-based), for evaluation
    body_names: tuple = ()
    smpl_joints: np.ndarray | None = None  # [F, 24, 3] world (re-based)
    vr_pos: np.ndarray | None = None  # [3, 3] at times[0]: head, left wrist, right wrist
    vr_quat: np.ndarray | None = None  # [3, 4]
    tokens: np.ndarray | None = None  # [T] int64 FSQ token indices (the token input; bypasses the encoder)
    base_velocity: np.ndarray | None = None  # [3] vx, vy (m/s), yaw rate (rad/s), body frame (velocity commands)


@runtime_checkable
class ReferenceSource(Protocol):
    provides: frozenset

    def start(self, state, now: float) -> None:
        """Called when the policy becomes active (re-base to the robot, start blending)."""

    def stamp(self, now: float) -> float:
        """Controller-clock time of the newest input (``now`` for a local player)."""

    def frames(self, times: np.ndarray, state=None) -> ReferenceFrames:
        """Reference at ``times`` (seconds since start)."""


class StreamNotConnected(RuntimeError):
    pass
