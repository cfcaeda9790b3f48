"""The backend-neutral robot state: what every MDP term reads. Backends fill it; terms never see a simulator."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import torch

from sonic_train.envs.mdp.math import matrix_apply_inverse, quat_to_matrix

_BODY_LOOKUP: dict[tuple[str, ...], dict[str, int]] = {}
_BODY_IDS: dict[tuple[tuple[str, ...], tuple[str, ...], torch.device], torch.Tensor] = {}


def step_cached(env, key, fn):
    """``fn()`` once per step when the env keeps a ``step_cache`` dict (cleared whenever its state changes);
    terms share intermediate results through it (reference bodies moved onto the robot, rotation matrices)."""
    cache = getattr(env, "step_cache", None)
    if cache is None:
        return fn()
    if key not in cache:
        cache[key] = fn()
    return cache[key]


def body_ids(body_names: tuple[str, ...], names: list[str] | tuple[str, ...], device: torch.device) -> torch.Tensor:
    """Index tensor of ``names`` in ``body_names`` (made once per body set and device)."""
    key = (body_names, tuple(names), device)
    ids = _BODY_IDS.get(key)
    if ids is None:
        lookup = {n: i for i, n in enumerate(body_names)}
        missing = [n for n in names if n not in lookup]
        if missing:
            raise KeyError(f"unknown bodies {missing}; the robot has {list(body_names)}")
        ids = _BODY_IDS[key] = torch.tensor([lookup[n] for n in names], dtype=torch.long, device=device)
    return ids


@dataclass
class RobotState:
    """Batched state of ``N`` robots (world frame unless the name says ``_b``: the pelvis frame).

    Root = pelvis. Bodies are all the robot's bodies in ``body_names`` order (body 0 = pelvis). Quantities
    several terms share (the pelvis rotation matrix, body positions in the pelvis frame) are computed on first
    use and kept with this state, which lives for one step.
    """

    body_names: tuple[str, ...]
    root_pos_w: torch.Tensor  # [N, 3]
    root_quat_w: torch.Tensor  # [N, 4] wxyz
    root_lin_vel_w: torch.Tensor  # [N, 3]
    root_ang_vel_w: torch.Tensor  # [N, 3]
    joint_pos: torch.Tensor  # [N, J]
    joint_vel: torch.Tensor  # [N, J]
    body_pos_w: torch.Tensor  # [N, B, 3]
    body_quat_w: torch.Tensor  # [N, B, 4]
    body_lin_vel_w: torch.Tensor  # [N, B, 3] at each body's frame origin
    body_ang_vel_w: torch.Tensor  # [N, B, 3]
    body_contact_force_w: torch.Tensor  # [N, B, 3] net external (contact) force on each body
    feet_ids: tuple[int, ...] = ()

    @property
    def num_envs(self) -> int:
        return int(self.root_pos_w.shape[0])

    @cached_property
    def root_rot(self) -> torch.Tensor:
        """[N, 3, 3] rotation matrix of the pelvis."""
        return quat_to_matrix(self.root_quat_w)

    @cached_property
    def root_lin_vel_b(self) -> torch.Tensor:
        return matrix_apply_inverse(self.root_rot, self.root_lin_vel_w)

    @cached_property
    def root_ang_vel_b(self) -> torch.Tensor:
        return matrix_apply_inverse(self.root_rot, self.root_ang_vel_w)

    @cached_property
    def projected_gravity(self) -> torch.Tensor:
        """[N, 3] R_pelvis^T (0, 0, -1): minus the third row of R."""
        return -self.root_rot[:, 2]

    @cached_property
    def body_pos_b(self) -> torch.Tensor:
        """[N, B, 3] R_pelvis^T (p_body - p_pelvis) for every body."""
        return matrix_apply_inverse(self.root_rot, self.body_pos_w - self.root_pos_w[:, None])

    @property
    def foot_contact_force(self) -> torch.Tensor:
        """[N, F] norm of the contact force on each foot."""
        return self.body_contact_force_w[:, list(self.feet_ids)].norm(dim=-1)

    def body_ids(self, names: list[str] | tuple[str, ...]) -> torch.Tensor:
        """Index tensor of ``names`` in this state's body order (for gathers; made once per body set)."""
        return body_ids(self.body_names, names, self.root_pos_w.device)

    @property
    def foot_contact(self) -> torch.Tensor:
        """[N, F] bool: foot touches something (force above 1 N)."""
        return self.foot_contact_force > 1.0

    def body_index(self, names: list[str] | tuple[str, ...] | str) -> list[int]:
        names = [names] if isinstance(names, str) else list(names)
        lookup = _BODY_LOOKUP.get(self.body_names)
        if lookup is None:
            lookup = _BODY_LOOKUP[self.body_names] = {n: i for i, n in enumerate(self.body_names)}
        missing = [n for n in names if n not in lookup]
        if missing:
            raise KeyError(f"unknown bodies {missing}; the robot has {list(self.body_names)}")
        return [lookup[n] for n in names]

    def clone(self) -> "RobotState":
        kw = {f.name: (getattr(self, f.name).clone() if isinstance(getattr(self, f.name), torch.Tensor)
                       else getattr(self, f.name)) for f in fields(self)}
        return RobotState(**kw)


@dataclass
class ReferenceFrame:
    """Reference motion at one time per env (leading dims [N] or [N, F]); bodies in the clip's body order."""

    joint_pos: torch.Tensor
    joint_vel: torch.Tensor
    body_pos_w: torch.Tensor
    body_quat_w: torch.Tensor
    body_lin_vel_w: torch.Tensor
    body_ang_vel_w: torch.Tensor
    smpl_joints: torch.Tensor | None = None  # [..., 24, 3]
    vr_pos: torch.Tensor | None = None  # [..., 3, 3] head, left wrist, right wrist
    vr_quat: torch.Tensor | None = None  # [..., 3, 4]

    @property
    def root_pos_w(self) -> torch.Tensor:
        return self.body_pos_w[..., 0, :]

    @property
    def root_quat_w(self) -> torch.Tensor:
        return self.body_quat_w[..., 0, :]
