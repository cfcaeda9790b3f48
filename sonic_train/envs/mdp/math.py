"""Batched rotation helpers in torch. Quaternions are (w, x, y, z); every function broadcasts over leading dims.

Products of quaternions and their rotation matrices are bilinear in the quaternion components, so each is one
outer product and one matrix product with a constant table (:func:`_tables`): three tensor ops per call instead of
the twenty-odd of the component formulas, which is what a step of the MDP on a few hundred envs pays for.
"""

from __future__ import annotations

import torch

_TABLE_CACHE: dict[tuple[torch.device, torch.dtype], dict[str, torch.Tensor]] = {}
W, X, Y, Z = range(4)


def _mul_table(conj_a: bool = False) -> list[list[list[float]]]:
    """``T[i][j][k]``: coefficient of ``a_i b_j`` in component ``k`` of the Hamilton product a * b (or a^-1 * b)."""
    t = [[[0.0] * 4 for _ in range(4)] for _ in range(4)]
    rows = {  # component k: (i, j, sign) of a_i b_j
        W: ((W, W, 1), (X, X, -1), (Y, Y, -1), (Z, Z, -1)),
        X: ((W, X, 1), (X, W, 1), (Y, Z, 1), (Z, Y, -1)),
        Y: ((W, Y, 1), (X, Z, -1), (Y, W, 1), (Z, X, 1)),
        Z: ((W, Z, 1), (X, Y, 1), (Y, X, -1), (Z, W, 1)),
    }
    for k, terms in rows.items():
        for i, j, sign in terms:
            t[i][j][k] = sign * (-1.0 if conj_a and i != W else 1.0)
    return t


def _matrix_table() -> tuple[list[list[float]], list[float]]:
    """``R(q)`` row-major as ``sum_ij q_i q_j M[i*4+j] + c`` (the ``1 - 2 (y^2 + z^2)`` form on the diagonal)."""
    m = [[0.0] * 9 for _ in range(16)]

    def add(entry: int, i: int, j: int, coef: float) -> None:
        m[i * 4 + j][entry] += coef

    for e, (a, b) in ((0, (Y, Z)), (4, (X, Z)), (8, (X, Y))):  # diagonal: 1 - 2 (a^2 + b^2)
        add(e, a, a, -2.0)
        add(e, b, b, -2.0)
    for e, (i, j), (k, l), sign in ((1, (X, Y), (W, Z), -1), (2, (X, Z), (W, Y), 1), (3, (X, Y), (W, Z), 1),
                                    (5, (Y, Z), (W, X), -1), (6, (X, Z), (W, Y), -1), (7, (Y, Z), (W, X), 1)):
        add(e, i, j, 2.0)  # off-diagonal: 2 (q_i q_j +- q_k q_l)
        add(e, k, l, 2.0 * sign)
    return m, [1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0]


def _tables(ref: torch.Tensor) -> dict[str, torch.Tensor]:
    key = (ref.device, ref.dtype)
    t = _TABLE_CACHE.get(key)
    if t is None:
        m, c = _matrix_table()
        mat = torch.tensor(m, dtype=ref.dtype, device=ref.device)
        t = {"mul": torch.tensor(_mul_table(), dtype=ref.dtype, device=ref.device).reshape(16, 4),
             "conj_mul": torch.tensor(_mul_table(conj_a=True), dtype=ref.dtype, device=ref.device).reshape(16, 4),
             "matrix": mat, "matrix_c": torch.tensor(c, dtype=ref.dtype, device=ref.device),
             "6d": mat[:, [0, 3, 6, 1, 4, 7]].contiguous(),
             "6d_c": torch.tensor(c, dtype=ref.dtype, device=ref.device)[[0, 3, 6, 1, 4, 7]].contiguous()}
        _TABLE_CACHE[key] = t
    return t


def _outer(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """[..., 16]: a_i b_j, row-major in (i, j); leading dims broadcast."""
    o = a.unsqueeze(-1) * b.unsqueeze(-2)
    return o.reshape(o.shape[:-2] + (16,))


def quat_conjugate(q: torch.Tensor) -> torch.Tensor:
    return torch.cat([q[..., :1], -q[..., 1:]], dim=-1)


def quat_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product a * b."""
    return _outer(a, b) @ _tables(a)["mul"]


def quat_apply(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate v by q: R(q) v."""
    return (quat_to_matrix(q) @ v.unsqueeze(-1)).squeeze(-1)


def quat_apply_inverse(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate v by q^-1: R(q)^T v."""
    return (v.unsqueeze(-2) @ quat_to_matrix(q)).squeeze(-2)


def matrix_apply_inverse(r: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """R^T v for ``r`` [N, 3, 3] and ``v`` [N, 3] or [N, B, 3] (every row of v rotated by its env's R^T)."""
    if v.dim() == 2:
        return (v.unsqueeze(1) @ r).squeeze(1)
    return v @ r


def quat_to_matrix(q: torch.Tensor) -> torch.Tensor:
    """Rotation matrix [..., 3, 3] of a unit quaternion."""
    t = _tables(q)
    return (_outer(q, q) @ t["matrix"] + t["matrix_c"]).reshape(q.shape[:-1] + (3, 3))


def matrix_to_6d(r: torch.Tensor) -> torch.Tensor:
    """First two columns of R, column 0 then column 1, each (x, y, z): [..., 6]."""
    return torch.cat([r[..., :, 0], r[..., :, 1]], dim=-1)


def quat_to_6d(q: torch.Tensor) -> torch.Tensor:
    """6D of R(q): its first two columns, column 0 then column 1 (see :func:`matrix_to_6d`)."""
    t = _tables(q)
    return _outer(q, q) @ t["6d"] + t["6d_c"]


def quat_inv_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a^-1 * b for unit quaternions (conjugate of a times b) in one product."""
    return _outer(a, b) @ _tables(a)["conj_mul"]


def yaw_of(q: torch.Tensor) -> torch.Tensor:
    """Heading angle of q: atan2 of the rotated x axis' (y, x) components."""
    w, x, y, z = q.unbind(-1)
    return torch.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def yaw_quat(q: torch.Tensor) -> torch.Tensor:
    """Rotation about z by the heading of q."""
    half = 0.5 * yaw_of(q)
    zero = torch.zeros_like(half)
    return torch.stack([torch.cos(half), zero, zero, torch.sin(half)], dim=-1)


def yaw_quat_mul(cos_half: torch.Tensor, sin_half: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """(cos h, 0, 0, sin h) * q: a rotation about z by 2h, composed before q (``cos_half``/``sin_half`` [..., 1])."""
    w, x, y, z = q.unbind(-1)
    c, s = cos_half[..., 0], sin_half[..., 0]
    return torch.stack([c * w - s * z, c * x - s * y, c * y + s * x, c * z + s * w], dim=-1)


def yaw_rotate(cos_yaw: torch.Tensor, sin_yaw: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """R_z(yaw) v with ``cos_yaw``/``sin_yaw`` broadcasting against ``v[..., 0]``."""
    x, y = v[..., 0], v[..., 1]
    return torch.stack([cos_yaw * x - sin_yaw * y, sin_yaw * x + cos_yaw * y, v[..., 2]], dim=-1)


def yaw_matrix(yaw: torch.Tensor) -> torch.Tensor:
    """[..., 3, 3] rotation about z by ``yaw``."""
    c, s = torch.cos(yaw), torch.sin(yaw)
    zero, one = torch.zeros_like(c), torch.ones_like(c)
    return torch.stack([c, -s, zero, s, c, zero, zero, zero, one], dim=-1).reshape(yaw.shape + (3, 3))


def quat_from_axis_angle(axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    axis = axis / axis.norm(dim=-1, keepdim=True).clamp_min(1e-9)
    half = 0.5 * angle.unsqueeze(-1)
    return torch.cat([torch.cos(half), torch.sin(half) * axis], dim=-1)


def quat_error_magnitude(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Angle (rad, in [0, pi]) of the rotation taking b to a."""
    d = quat_inv_mul(b, a)
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
    safe = s.clamp_min(1e-6)  # where s is small the linear weights are taken
    wa = torch.where(small, 1.0 - t, torch.sin((1.0 - t) * theta) / safe)
    wb = torch.where(small, t, torch.sin(t * theta) / safe)
    return normalize(wa * a + wb * b)
