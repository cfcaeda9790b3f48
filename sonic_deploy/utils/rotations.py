"""The runtime's one rotation module: quaternion maths in numpy, batched over leading dimensions.

Convention: (w, x, y, z), Hamilton product, unit quaternions. Every torch-free part of the stack (observations,
reference sources, policies, motion tools, safety checks) imports its rotations from here; training's torch
twin is ``sonic_train/envs/mdp/math.py``, and a function both have has the same name and arguments in both
(``quat_conjugate``, ``quat_mul``, ``quat_apply``, ``quat_apply_inverse``, ``quat_to_matrix``, ``matrix_to_6d``,
``yaw_of``, ``yaw_quat``, ``yaw_matrix``, ``quat_from_axis_angle``, ``normalize``, ``quat_slerp``).
Heading (yaw) = atan2 of the rotated x axis' y and x components.
Products and matrices are computed in float64 (the observation parity with training is checked to 1e-6).
"""

from __future__ import annotations

import math

import numpy as np


def normalize(q: np.ndarray) -> np.ndarray:
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def quat_conjugate(q: np.ndarray) -> np.ndarray:
    return q * np.array([1.0, -1.0, -1.0, -1.0], dtype=q.dtype)


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    aw, ax, ay, az = np.moveaxis(np.asarray(a, np.float64), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b, np.float64), -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw], axis=-1)


def quat_apply(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` by unit quaternions ``q``."""
    w = q[..., :1]
    xyz = q[..., 1:]
    t = 2.0 * np.cross(xyz, v)
    return v + w * t + np.cross(xyz, t)


def quat_apply_inverse(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` by the inverse of unit quaternions ``q`` (world to body frame), batched like
    :func:`quat_apply`."""
    return quat_apply(quat_conjugate(q), v)


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """R(q), [..., 3, 3] (written element by element into one array: the observation step's hot path)."""
    q = np.asarray(q, np.float64)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    r = np.empty(q.shape[:-1] + (3, 3))
    r[..., 0, 0] = 1 - 2 * (y * y + z * z)
    r[..., 0, 1] = 2 * (x * y - w * z)
    r[..., 0, 2] = 2 * (x * z + w * y)
    r[..., 1, 0] = 2 * (x * y + w * z)
    r[..., 1, 1] = 1 - 2 * (x * x + z * z)
    r[..., 1, 2] = 2 * (y * z - w * x)
    r[..., 2, 0] = 2 * (x * z - w * y)
    r[..., 2, 1] = 2 * (y * z + w * x)
    r[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return r


def quat_from_axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    axis = np.asarray(axis, dtype=np.float64)
    angle = np.asarray(angle, dtype=np.float64)[..., None]
    axis = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    return np.concatenate([np.cos(angle / 2), axis * np.sin(angle / 2)], axis=-1)


def quat_to_axis_angle(q: np.ndarray) -> np.ndarray:
    """Rotation vector (axis * angle) of unit quaternions, shortest way round."""
    q = np.where(q[..., :1] < 0, -q, q)
    sin_half = np.linalg.norm(q[..., 1:], axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(sin_half, q[..., :1])
    scale = np.where(sin_half > 1e-9, angle / np.maximum(sin_half, 1e-12), 2.0)
    return q[..., 1:] * scale


def yaw_of(q: np.ndarray) -> np.ndarray:
    """Heading of q: atan2(R[1, 0], R[0, 0])."""
    q = np.asarray(q, np.float64)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.arctan2(2 * (x * y + w * z), 1 - 2 * (y * y + z * z))


def quat_from_yaw(yaw) -> np.ndarray:
    """The rotation about world z by ``yaw`` (rad), [..., 4]."""
    yaw = np.asarray(yaw, np.float64)
    zeros = np.zeros_like(yaw)
    return np.stack([np.cos(yaw / 2), zeros, zeros, np.sin(yaw / 2)], axis=-1)


def yaw_quat(q: np.ndarray) -> np.ndarray:
    """Heading-only part of ``q``: rotation about world z by the heading of q."""
    return quat_from_yaw(yaw_of(q))


def yaw_matrix(yaw) -> np.ndarray:
    """R_yaw [..., 3, 3]: the rotation about world z by ``yaw`` (rad); ``yaw_matrix(yaw_of(q))`` is q's heading."""
    h = np.asarray(yaw, np.float64)
    c, s = np.cos(h), np.sin(h)
    r = np.zeros(h.shape + (3, 3))
    r[..., 0, 0], r[..., 0, 1], r[..., 1, 0], r[..., 1, 1], r[..., 2, 2] = c, -s, s, c, 1.0
    return r


def matrix_to_6d(r: np.ndarray) -> np.ndarray:
    """First two columns of r, col0 then col1, each xyz: [..., 6] (the 6D rotation of the observation terms)."""
    return np.concatenate([r[..., :, 0], r[..., :, 1]], axis=-1)


def matrix_to_quat(r: np.ndarray) -> np.ndarray:
    """Unit quaternion (w, x, y, z, w >= 0) of rotation matrices [..., 3, 3] (Shepperd's method, per matrix)."""
    r = np.asarray(r, np.float64)
    flat = r.reshape(-1, 3, 3)
    out = np.empty((len(flat), 4))
    for i, m in enumerate(flat):
        tr = m[0, 0] + m[1, 1] + m[2, 2]
        if tr > 0:
            s = 2.0 * math.sqrt(tr + 1.0)
            q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
        elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
            s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
            q = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
        elif m[1, 1] > m[2, 2]:
            s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
            q = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
        else:
            s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
            q = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
        q = np.asarray(q)
        out[i] = (q if q[0] >= 0 else -q) / np.linalg.norm(q)
    return out.reshape(r.shape[:-2] + (4,))


def quat_nlerp(a: np.ndarray, b: np.ndarray, w) -> np.ndarray:
    """Normalised lerp from a to b along the shortest arc: the eases (a blend-in from the robot's own pose, the VR
    dropout ease), where the weight itself is a smooth curve; frame-to-frame interpolation is :func:`quat_slerp`."""
    b = np.where(np.sum(a * b, axis=-1, keepdims=True) < 0, -b, b)
    q = (1.0 - w) * a + w * b
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def xyzw_to_wxyz(q: np.ndarray) -> np.ndarray:
    return np.concatenate([q[..., 3:4], q[..., :3]], axis=-1)


def wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
    return np.concatenate([q[..., 1:], q[..., :1]], axis=-1)


def tilt_deg(q: np.ndarray) -> np.ndarray:
    """Angle between the body z axis and world z, in degrees (0 = upright)."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.degrees(np.arccos(np.clip(1 - 2 * (x * x + y * y), -1.0, 1.0)))


def quat_slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation from a (t = 0) to b (t = 1) along the shorter arc; t broadcasts as [..., 1]. The
    formula of training's ``sonic_train.envs.mdp.math.quat_slerp`` (linear weights where sin(theta) < 1e-6), so a
    reference sampled between frames is the same quaternion in training and on the robot."""
    dot = np.sum(a * b, axis=-1, keepdims=True)
    b = np.where(dot < 0, -b, b)
    dot = np.minimum(np.abs(dot), 1.0)
    theta = np.arccos(dot)
    s = np.sin(theta)
    small = s < 1e-6
    safe = np.maximum(s, 1e-6)
    wa = np.where(small, 1.0 - t, np.sin((1.0 - t) * theta) / safe)
    wb = np.where(small, t, np.sin(t * theta) / safe)
    q = wa * a + wb * b
    return q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), 1e-9)


def slerp_pairs(q: np.ndarray) -> np.ndarray:
    """The t-independent part of :func:`quat_slerp` for each consecutive pair of a sequence along axis 0 (frame i with
    frame i + 1, the last with itself): [T, ..., 11] = a (4), b on a's side (4), theta, max(sin theta, 1e-6),
    sin theta < 1e-6 (1.0 / 0.0). A clip sampled at a few times per control step then costs one gather and the
    t-dependent terms (:func:`slerp_rows`), with the same values as :func:`quat_slerp`."""
    a = np.asarray(q, np.float64)
    b = np.concatenate([a[1:], a[-1:]], axis=0)
    dot = np.sum(a * b, axis=-1, keepdims=True)
    b = np.where(dot < 0, -b, b)
    dot = np.minimum(np.abs(dot), 1.0)
    theta = np.arccos(dot)
    s = np.sin(theta)
    return np.concatenate([a, b, theta, np.maximum(s, 1e-6), (s < 1e-6).astype(np.float64)], axis=-1)


_SLERP_T_SCALE, _SLERP_T_SHIFT = np.array([-1.0, 1.0]), np.array([1.0, 0.0])  # t -> (1 - t, t) exactly


def slerp_rows(rows: np.ndarray, t: np.ndarray, any_small: bool | None = None) -> np.ndarray:
    """:func:`quat_slerp` from gathered :func:`slerp_pairs` rows; ``t`` broadcasts as [..., 1]. ``any_small``:
    whether any row may have sin theta < 1e-6 (False where the whole table has none; None: look). Both weights in
    one array ((1 - t, t) as -t + 1 and t + 0, the same numbers), so each step of the formula is one numpy call."""
    tt = t * _SLERP_T_SCALE + _SLERP_T_SHIFT  # [..., 2]: 1 - t, t
    wts = np.sin(tt * rows[..., 8:9]) / rows[..., 9:10]
    if any_small is not False:
        small = rows[..., 10:11] > 0.5
        if small.any():
            wts = np.where(small, tt, wts)
    pairs = rows[..., 0:8].reshape(rows.shape[:-1] + (2, 4))
    q = np.add.reduce(wts[..., None] * pairs, axis=-2)  # wa a + wb b
    return q / np.maximum(np.sqrt(np.add.reduce(q * q, axis=-1, keepdims=True)), 1e-9)
