"""The backend-neutral robot state: what every MDP term reads. Backends fill it; terms never see a simulator."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import torch

from sonic_train.envs.mdp.math import matrix_apply_inverse, quat_slerp, quat_to_matrix

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


class MotionTable:
    """A motion's [T, ...] arrays packed by how the terms read them, so that a frame blends a few gathers.

    Fields read together sit side by side in one table: joints, pelvis position, SMPL joints and VR positions
    (what a future window and the reference now read); every body's position and velocities; the pelvis
    orientation alone (a future window's only orientation); every body's and VR orientation. A frame gathers each
    table it reads once for both of its neighbouring rows (one index_select instead of two per field) and blends
    the whole table (linearly, or by slerp for orientations), elementwise the same arithmetic as per field.
    """

    # group: (fields, slerp); ``root_pos`` / ``root_quat`` are body 0 of ``body_pos_w`` / ``body_quat_w``
    GROUPS = {"frame": (("joint_pos", "joint_vel", "root_pos", "smpl_joints", "vr_pos"), False),
              "bodies": (("body_pos_w", "body_lin_vel_w", "body_ang_vel_w"), False),
              "root_quat": (("root_quat",), True),
              "quats": (("body_quat_w", "vr_quat"), True)}

    def __init__(self, data: dict[str, torch.Tensor]):
        data = {k: v for k, v in data.items() if v is not None}
        if "body_pos_w" in data:
            data["root_pos"] = data["body_pos_w"][:, 0]
        if "body_quat_w" in data:
            data["root_quat"] = data["body_quat_w"][:, :1]
        self.tables: dict[str, torch.Tensor] = {}
        self.fields: dict[str, tuple[str, int, int, tuple[int, ...]]] = {}  # field: (group, start, stop, shape)
        for group, (names, slerp) in self.GROUPS.items():
            parts, off = [], 0
            for name in names:
                if name not in data:
                    continue
                arr = data[name]
                # orientations as [T, q, 4] (the slerp reads the last dim); the rest flat per frame
                part = arr.reshape(arr.shape[0], -1, 4) if slerp else arr.reshape(arr.shape[0], -1)
                shape = (() if name == "root_quat" else tuple(arr.shape[1:-1])) + (4,) if slerp else tuple(arr.shape[1:])
                self.fields[name] = (group, off, off + part.shape[1], shape)
                parts.append(part)
                off += part.shape[1]
            if parts:
                self.tables[group] = torch.cat(parts, dim=1)

    def has(self, name: str) -> bool:
        return name in self.fields


class ReferenceFrame:
    """Reference motion at one time per env (leading dims [N] or [N, F]); bodies in the clip's body order.

    Field names are the deploy side's (``sonic_deploy.inputs.base.ReferenceFrames``) where they mean the same:
    ``joint_pos``, ``joint_vel``, ``root_pos``/``root_quat`` (the pelvis, world), ``body_pos_w``, ``smpl_joints``,
    ``vr_pos``, ``vr_quat``. Made from tensors, or by :meth:`interpolated` from a motion table: then each field is
    blended from its two nearest frames when first read and kept (a future window needs a few of them).
    """

    FIELDS = ("joint_pos", "joint_vel", "body_pos_w", "body_quat_w", "body_lin_vel_w", "body_ang_vel_w",
              "smpl_joints", "vr_pos", "vr_quat")

    def __init__(self, joint_pos: torch.Tensor, joint_vel: torch.Tensor, body_pos_w: torch.Tensor,
                 body_quat_w: torch.Tensor, body_lin_vel_w: torch.Tensor, body_ang_vel_w: torch.Tensor,
                 smpl_joints: torch.Tensor | None = None,  # [..., 24, 3]
                 vr_pos: torch.Tensor | None = None,  # [..., 3, 3] head, left wrist, right wrist
                 vr_quat: torch.Tensor | None = None):  # [..., 3, 4]
        self._table = None
        self.joint_pos, self.joint_vel = joint_pos, joint_vel
        self.body_pos_w, self.body_quat_w = body_pos_w, body_quat_w
        self.body_lin_vel_w, self.body_ang_vel_w = body_lin_vel_w, body_ang_vel_w
        self.smpl_joints, self.vr_pos, self.vr_quat = smpl_joints, vr_pos, vr_quat

    @classmethod
    def interpolated(cls, data: "MotionTable | dict[str, torch.Tensor]", i0: torch.Tensor, i1: torch.Tensor,
                     alpha: torch.Tensor) -> "ReferenceFrame":
        """The frame between rows ``i0`` and ``i1`` (any shape S) of ``data``'s [T, ...] arrays (a
        :class:`MotionTable`, or a dict of fields packed into one here) at weight ``alpha`` (shape S): positions
        and velocities linearly, orientations by slerp; a field ``data`` lacks is None."""
        frame = cls.__new__(cls)
        table = data if isinstance(data, MotionTable) else MotionTable(data)
        frame._table = (table, i0, i1, alpha)
        frame._rows = None
        frame._groups = {}
        return frame

    def _group(self, group: str) -> torch.Tensor:
        """``group``'s table blended at this frame's rows (gathered once for both neighbours, kept)."""
        out = self._groups.get(group)
        if out is None:
            table, i0, i1, alpha = self._table
            if self._rows is None:
                self._rows = torch.cat([i0.reshape(-1), i1.reshape(-1)])
            arr = table.tables[group]
            pair = arr.index_select(0, self._rows).view((2,) + i0.shape + arr.shape[1:])
            a0, a1 = pair[0], pair[1]
            w = alpha.reshape(alpha.shape + (1,) * (a0.dim() - alpha.dim()))
            if table.GROUPS[group][1]:
                out = quat_slerp(a0, a1, w)
            else:  # a0 + (a1 - a0) * w, written in place into the difference
                out = a1 - a0
                out.mul_(w).add_(a0)
            self._groups[group] = out
        return out

    def _field(self, name: str) -> torch.Tensor | None:
        table = self._table[0]
        if name not in table.fields:
            return None
        group, start, stop, shape = table.fields[name]
        out = self._group(group)
        lead = out.shape[:-2] if table.GROUPS[group][1] else out.shape[:-1]
        if table.GROUPS[group][1]:
            return out[..., start:stop, :].reshape(lead + shape)
        return out[..., start:stop].view(lead + shape)

    def __getattr__(self, key: str):
        """A field of an interpolated frame not read yet (attributes already set never come here)."""
        if key.startswith("_") or key not in self.FIELDS or self.__dict__.get("_table") is None:
            raise AttributeError(key)
        value = self._field(key)
        setattr(self, key, value)
        return value

    @property
    def root_pos(self) -> torch.Tensor:
        """[..., 3] pelvis position (world)."""
        if self._table is None or "body_pos_w" in self.__dict__:
            return self.body_pos_w[..., 0, :]
        if "_root_pos" not in self.__dict__:
            self._root_pos = self._field("root_pos")
        return self._root_pos

    @property
    def root_quat(self) -> torch.Tensor:
        """[..., 4] pelvis orientation (world, wxyz); of an interpolated frame, blended alone unless all bodies were."""
        if self._table is None or "body_quat_w" in self.__dict__ or "quats" in self._groups:
            return self.body_quat_w[..., 0, :]
        if "_root_quat" not in self.__dict__:
            self._root_quat = self._field("root_quat")
        return self._root_quat

