"""Foot contacts: when the human's foot is planted, and where the G1's foot must then stay.

A planted human foot becomes a G1 foot that is flat on the floor and does not move for the whole contact
phase: one position (the median of the human's over the phase), turned as the human's foot is (a dancer's
pivot turns the G1 foot about its ankle, in place). Near each phase the swing
target blends into the planted one, so the foot arrives and leaves smoothly instead of jumping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ContactConfig:
    height: float = 0.035  # m above the foot's standing height (G1 scale): low enough to be down
    speed: float = 0.30  # m/s horizontal (G1 scale): slow enough to be planted
    min_frames: int = 3  # shorter phases are noise
    max_gap_frames: int = 2  # shorter lifts inside a phase are noise
    blend_s: float = 0.20  # swing <-> planted blend before and after each phase
    clearance: float = 0.01  # m: lowest a swing foot goes (G1 sole above the floor)
    max_tip: float = 0.5  # rad: largest toe-down or toe-up tip of a swing foot


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def clean_mask(mask: np.ndarray, min_frames: int, max_gap: int) -> np.ndarray:
    out = mask.copy()
    for a, b in _runs(~out):
        if 0 < a and b < len(out) and b - a <= max_gap:
            out[a:b] = True
    for a, b in _runs(out):
        if b - a < min_frames:
            out[a:b] = False
    return out


def detect_contacts(ankle: np.ndarray, toe: np.ndarray, fps: float, cfg: ContactConfig) -> np.ndarray:
    """[T] bool: the foot (ankle [T, 3] and toe [T, 3], world, floor z = 0) is planted."""
    base_a, base_t = np.percentile(ankle[:, 2], 5), np.percentile(toe[:, 2], 5)
    low_a = ankle[:, 2] - base_a < cfg.height
    low_t = toe[:, 2] - base_t < cfg.height
    point = np.where(low_a[:, None], ankle, toe)
    vel = np.gradient(point[:, :2], 1.0 / fps, axis=0)
    slow = np.linalg.norm(vel, axis=-1) < cfg.speed
    return clean_mask((low_a | low_t) & slow, cfg.min_frames, cfg.max_gap_frames)


def heading(ankle: np.ndarray, toe: np.ndarray) -> np.ndarray:
    d = toe - ankle
    return np.arctan2(d[:, 1], d[:, 0])


def yaw_matrix(yaw: np.ndarray) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    R = np.zeros(np.shape(yaw) + (3, 3))
    R[..., 0, 0], R[..., 0, 1], R[..., 1, 0], R[..., 1, 1], R[..., 2, 2] = c, -s, s, c, 1.0
    return R


def pitch_yaw_matrix(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """Rz(yaw) Ry(pitch): a foot turned and tipped, never rolled."""
    c, s = np.cos(pitch), np.sin(pitch)
    Ry = np.zeros(np.shape(pitch) + (3, 3))
    Ry[..., 0, 0], Ry[..., 0, 2], Ry[..., 1, 1], Ry[..., 2, 0], Ry[..., 2, 2] = c, s, 1.0, -s, c
    return yaw_matrix(yaw) @ Ry


@dataclass
class FootTargets:
    pos: np.ndarray  # [T, 3] G1 ankle-roll origin
    rot: np.ndarray  # [T, 3, 3]
    planted: np.ndarray  # [T] bool
    blend: np.ndarray  # [T] 0 (swing) .. 1 (planted)


def foot_targets(ankle: np.ndarray, toe: np.ndarray, fps: float, stance_z: float, cfg: ContactConfig,
                 foot_reach: float = 0.12) -> FootTargets:
    """G1 ankle targets from the (G1-scaled) human ankle and toe: planted phases locked, swing followed.

    ``foot_reach`` (m) is the farthest the G1 sole reaches ahead of or behind the ankle: a tipped swing foot is
    held high enough that its toe or heel stays above the floor.
    """
    T = len(ankle)
    planted = detect_contacts(ankle, toe, fps, cfg)
    base_a = np.percentile(ankle[:, 2], 5)
    yaw = np.unwrap(heading(ankle, toe))
    d = toe - ankle
    pitch = -np.arctan2(d[:, 2], np.linalg.norm(d[:, :2], axis=-1))
    rest_pitch = np.median(pitch[planted]) if planted.any() else np.median(pitch)
    swing_pos = ankle.copy()
    # the tip a G1 foot can take in swing (its ankle turns 0.52 rad toe-down, 0.87 toe-up; the leg adds some):
    # a ballet-pointed human foot would otherwise lift the G1 foot by its whole length
    tip = np.clip(pitch - rest_pitch, -cfg.max_tip, cfg.max_tip)
    # a swing foot clears the floor (cfg.clearance), and a tipped one clears it with its toe or heel too
    swing_pos[:, 2] = np.maximum(stance_z + ankle[:, 2] - base_a,
                                 stance_z * np.cos(tip) + foot_reach * np.abs(np.sin(tip)) + cfg.clearance)
    swing_rot = pitch_yaw_matrix(yaw, tip)
    pos, rot = swing_pos.copy(), swing_rot.copy()
    blend = np.zeros(T)
    nb = max(int(round(cfg.blend_s * fps)), 1)
    for a, b in _runs(planted):
        lock = np.array([*np.median(ankle[a:b, :2], axis=0), stance_z])
        lo, hi = max(a - nb, 0), min(b + nb, T)
        for t in range(lo, hi):
            w = 1.0 if a <= t < b else 1.0 - (a - t if t < a else t - b + 1) / (nb + 1)
            w = 0.5 - 0.5 * np.cos(np.pi * w)  # smooth ease in and out
            if w <= blend[t]:
                continue
            blend[t] = w
            pos[t, :2] = (1 - w) * swing_pos[t, :2] + w * lock[:2]
            # height blends later than position: the foot lifts before it moves and lands after it arrives
            pos[t, 2] = (1 - w ** 3) * swing_pos[t, 2] + w ** 3 * lock[2]
            if not a <= t < b:  # off the floor until the phase starts: a foot that still moves never scrapes
                pos[t, 2] = max(pos[t, 2], stance_z + cfg.clearance)
            # flat, turned as the human foot is: a pivot on a planted foot turns it about the ankle in place
            rot[t] = _blend_rot(swing_rot[t], yaw_matrix(yaw[t]), w)
    return FootTargets(pos=pos, rot=rot, planted=planted, blend=blend)


def _blend_rot(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    """Rotation part way (w) from a to b, re-orthonormalised (fine for the small angles met here)."""
    m = (1 - w) * a + w * b
    u, _, vt = np.linalg.svd(m)
    r = u @ vt
    if np.linalg.det(r) < 0:
        u[:, -1] *= -1
        r = u @ vt
    return r
