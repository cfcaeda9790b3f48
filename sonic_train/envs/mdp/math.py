"""Batched rotation helpers in torch. Quaternions are (w, x, y, z); every function broadcasts over leading dims."""

from __future__ import annotations

import torch


def quat_conjugate(q: torch.Tensor) -> torch.Tensor:
    return torch.cat([q[..., :1], -q[..., 1:]], dim=-1)


def quat_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product a * b."""
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], dim=-1)


def quat_apply(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate v by q: R(q) v."""
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * torch.cross(u, v, dim=-1)
    return v + w * t + torch.cross(u, t, dim=-1)


def quat_apply_inverse(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate v by q^-1: R(q)^T v."""
    return quat_apply(quat_conjugate(q), v)


def quat_to_matrix(q: torch.Tensor) -> torch.Tensor:
    """Rotation matrix [..., 3, 3] of a unit quaternion."""
    w, x, y, z = q.unbind(-1)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ], dim=-1).reshape(q.shape[:-1] + (3, 3))


def matrix_to_6d(r: torch.Tensor) -> torch.Tensor:
    """First two columns of R, column 0 then column 1, each (x, y, z): [..., 6]."""
    return torch.cat([r[..., :, 0], r[..., :, 1]], dim=-1)


def quat_to_6d(q: torch.Tensor) -> torch.Tensor:
    return matrix_to_6d(quat_to_matrix(q))


def yaw_of(q: torch.Tensor) -> torch.Tensor:
    """Heading angle of q: atan2 of the rotated x axis' (y, x) components."""
    w, x, y, z = q.unbind(-1)
    return torch.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def yaw_quat(q: torch.Tensor) -> torch.Tensor:
    """Rotation about z by the heading of q."""
    half = 0.5 * yaw_of(q)
    zero = torch.zeros_like(half)
    return torch.stack([torch.cos(half), zero, zero, torch.sin(half)], dim=-1)


def yaw_rotate_inverse(yaw: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """R_z(yaw)^T v; ``yaw`` broadcasts against ``v[..., 0]`` (cheaper than a quaternion rotation)."""
    c, s = torch.cos(yaw), torch.sin(yaw)
    x, y = v[..., 0], v[..., 1]
    return torch.stack([c * x + s * y, -s * x + c * y, v[..., 2]], dim=-1)


def quat_from_axis_angle(axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    axis = axis / axis.norm(dim=-1, keepdim=True).clamp_min(1e-9)
    half = 0.5 * angle.unsqueeze(-1)
    return torch.cat([torch.cos(half), torch.sin(half) * axis], dim=-1)


def quat_error_magnitude(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Angle (rad, in [0, pi]) of the rotation taking b to a."""
    d = quat_mul(quat_conjugate(b), a)
    return 2.0 * torch.atan2(d[..., 1:].norm(dim=-1), d[..., 0].abs())


def normalize(q: torch.Tensor) -> torch.Tensor:
    return q / q.norm(dim=-1, keepdim=True).clamp_min(1e-9)


def quat_slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation from a (t = 0) to b (t = 1); t broadcasts as [..., 1]."""
    dot = (a * b).sum(-1, keepdim=True)
    b = torch.where(dot < 0, -b, b)
    dot = dot.abs().clamp(max=1.0)
    theta = torch.acos(dot)
    s = torch.sin(theta)
    small = s < 1e-6
    wa = torch.where(small, 1.0 - t, torch.sin((1.0 - t) * theta) / torch.where(small, torch.ones_like(s), s))
    wb = torch.where(small, t, torch.sin(t * theta) / torch.where(small, torch.ones_like(s), s))
    return normalize(wa * a + wb * b)
