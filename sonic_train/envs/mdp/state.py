"""The backend-neutral robot state: what every MDP term reads. Backends fill it; terms never see a simulator."""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

from sonic_train.envs.mdp.math import quat_apply_inverse


_BODY_LOOKUP: dict[tuple[str, ...], dict[str, int]] = {}


@dataclass
class RobotState:
    """Batched state of ``N`` robots (world frame unless the name says ``_b``: the pelvis frame).

    Root = pelvis. Bodies are all the robot's bodies in ``body_names`` order (body 0 = pelvis).
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

    @property
    def root_lin_vel_b(self) -> torch.Tensor:
        return quat_apply_inverse(self.root_quat_w, self.root_lin_vel_w)

    @property
    def root_ang_vel_b(self) -> torch.Tensor:
        return quat_apply_inverse(self.root_quat_w, self.root_ang_vel_w)

    @property
    def foot_contact_force(self) -> torch.Tensor:
        """[N, F] norm of the contact force on each foot."""
        return self.body_contact_force_w[:, list(self.feet_ids)].norm(dim=-1)

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
