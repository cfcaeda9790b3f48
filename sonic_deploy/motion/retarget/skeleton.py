"""Human motion as named world joint positions, in SMPL's 24-joint layout, whatever skeleton it came from.

Every human input (BVH, DeepMimic, mocap marker exports, SMPL joints from AMASS or a video pose estimator)
ends here: ``HumanMotion`` holds world positions [T, 24, 3] in metres, z up, floor at z = 0, x forward at the
start. The SMPL layout is the common ground because the SMPL encoder consumes exactly these joints; joints a
skeleton lacks (spine segments, collars, hands) are filled by fixed rules from the ones it has, and the rule
used is recorded so a reader knows which points are measured and which are derived.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SMPL_JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
    "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hand", "right_hand",
)
SMPL_INDEX = {n: i for i, n in enumerate(SMPL_JOINT_NAMES)}
NUM_SMPL = len(SMPL_JOINT_NAMES)
# Joints the retargeter cannot do without; ``foot`` is the toe end of the foot (SMPL's L_Foot/R_Foot).
REQUIRED_JOINTS: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot",
    "right_foot", "neck", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist",
)
# Derived joints: name -> (a, b, t): position a + t * (b - a). Hands extend the forearm by 30 % of its length.
FILL_RULES: dict[str, tuple[str, str, float]] = {
    "spine1": ("pelvis", "neck", 0.2), "spine2": ("pelvis", "neck", 0.45), "spine3": ("pelvis", "neck", 0.65),
    "left_collar": ("neck", "left_shoulder", 0.4), "right_collar": ("neck", "right_shoulder", 0.4),
    "left_hand": ("left_elbow", "left_wrist", 1.3), "right_hand": ("right_elbow", "right_wrist", 1.3),
}


class HumanMotionError(ValueError):
    """Human motion input that cannot be retargeted; the message names the source and what is wrong."""


@dataclass
class HumanMotion:
    """A subject's joints over time: [T, 24, 3] world positions (m, z up, floor z = 0), SMPL order."""

    name: str
    fps: float
    joints: np.ndarray  # [T, 24, 3]
    derived: tuple[str, ...] = ()  # joints filled by FILL_RULES rather than measured
    source: str = ""
    info: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    def joint(self, name: str) -> np.ndarray:
        return self.joints[:, SMPL_INDEX[name]]

    def leg_length(self) -> float:
        """Median hip-knee-ankle length plus the ankle's height in stance: the subject's measured size."""
        legs = []
        for side in ("left", "right"):
            hip, knee, ankle = (self.joint(f"{side}_{j}") for j in ("hip", "knee", "ankle"))
            legs.append(np.linalg.norm(knee - hip, axis=-1) + np.linalg.norm(ankle - knee, axis=-1))
        return float(np.median(np.concatenate(legs)) + self.ankle_height())

    def ankle_height(self) -> float:
        """Ankle height above the floor with the foot down (low percentile over both ankles)."""
        z = np.concatenate([self.joint("left_ankle")[:, 2], self.joint("right_ankle")[:, 2]])
        return float(max(np.percentile(z, 5), 0.0))


def from_named_positions(name: str, fps: float, positions: np.ndarray, names: list[str] | tuple[str, ...],
                         joint_map: dict[str, str] | None = None, source: str = "") -> HumanMotion:
    """Named world positions [T, J, 3] (m, z up) -> HumanMotion; ``joint_map`` maps source names to SMPL names."""
    positions = np.asarray(positions, dtype=np.float64)
    src = source or name
    if positions.ndim != 3 or positions.shape[2] != 3 or positions.shape[1] != len(names):
        raise HumanMotionError(f"{src}: field 'positions' expected shape [T, {len(names)}, 3] for "
                               f"{len(names)} joint names, got {positions.shape}")
    if positions.shape[0] < 2:
        raise HumanMotionError(f"{src}: field 'positions' needs at least 2 frames, got {positions.shape[0]}")
    if not np.isfinite(positions).all():
        raise HumanMotionError(f"{src}: field 'positions' has non-finite values")
    if not np.isfinite(fps) or fps <= 0:
        raise HumanMotionError(f"{src}: field 'fps' must be > 0, got {fps}")
    mapping = dict(joint_map or {})
    lookup: dict[str, int] = {}
    for i, n in enumerate(names):
        target = mapping.get(n, n if n in SMPL_INDEX else None)
        if target is not None and target not in lookup:
            lookup[target] = i
    missing = [j for j in REQUIRED_JOINTS if j not in lookup]
    if missing:
        raise HumanMotionError(f"{src}: joints {missing} not found among {list(names)[:40]}; pass a joint map "
                               "(source name -> SMPL name) naming them")
    T = positions.shape[0]
    joints = np.zeros((T, len(SMPL_JOINT_NAMES), 3))
    for j, i in lookup.items():
        if j in SMPL_INDEX:
            joints[:, SMPL_INDEX[j]] = positions[:, i]
    derived = []
    for j, (a, b, t) in FILL_RULES.items():
        if j not in lookup:
            pa, pb = joints[:, SMPL_INDEX[a]], joints[:, SMPL_INDEX[b]]
            joints[:, SMPL_INDEX[j]] = pa + t * (pb - pa)
            derived.append(j)
    return HumanMotion(name=name, fps=float(fps), joints=joints, derived=tuple(derived), source=src)


def frame_from_axes(left: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Rotation matrices [T, 3, 3] (columns x forward, y left, z up) from a left-pointing and an up-ish vector."""
    y = left / np.maximum(np.linalg.norm(left, axis=-1, keepdims=True), 1e-9)
    z = up - np.sum(up * y, axis=-1, keepdims=True) * y
    z /= np.maximum(np.linalg.norm(z, axis=-1, keepdims=True), 1e-9)
    x = np.cross(y, z)
    return np.stack([x, y, z], axis=-1)


def pelvis_frames(m: HumanMotion) -> np.ndarray:
    return frame_from_axes(m.joint("left_hip") - m.joint("right_hip"), m.joint("spine3") - m.joint("pelvis"))


def torso_frames(m: HumanMotion) -> np.ndarray:
    return frame_from_axes(m.joint("left_shoulder") - m.joint("right_shoulder"), m.joint("neck") - m.joint("spine2"))


def smooth_zero_phase(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Gaussian smoothing along time: a symmetric kernel, so no lag (zero phase).

    The ends are padded by odd reflection (2 x[0] - x[i]), which keeps the end values and slopes: a clip that
    starts or ends moving is not pulled back toward standing still.
    """
    T = len(x)
    if sigma_frames <= 0 or T < 3:
        return np.array(x, dtype=np.float64)
    r = int(np.ceil(3 * sigma_frames))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_frames) ** 2)
    k /= k.sum()
    i = np.arange(-r, T + r)
    mirror = np.clip(np.where(i < 0, -i, np.where(i >= T, 2 * (T - 1) - i, i)), 0, T - 1)
    xp = x[mirror].astype(np.float64)
    xp[i < 0] = 2 * x[0] - xp[i < 0]
    xp[i >= T] = 2 * x[-1] - xp[i >= T]
    out = np.zeros((T,) + x.shape[1:])
    for j, w in enumerate(k):
        out += w * xp[j:j + T]
    return out


def resample(m: HumanMotion, fps: float, times: np.ndarray | None = None) -> HumanMotion:
    """Linear resampling of the joint positions to ``fps`` (after smoothing, linear is enough at 50 fps)."""
    src_t = times if times is not None else np.arange(m.num_frames) / m.fps
    n = int(np.floor((src_t[-1] - src_t[0]) * fps + 1e-6)) + 1
    t = src_t[0] + np.arange(n) / fps
    flat = m.joints.reshape(m.num_frames, -1)
    out = np.stack([np.interp(t, src_t, flat[:, c]) for c in range(flat.shape[1])], axis=1)
    return HumanMotion(name=m.name, fps=float(fps), joints=out.reshape(n, -1, 3), derived=m.derived,
                       source=m.source, info=dict(m.info))


def tile_cycles(m: HumanMotion, cycles: int) -> HumanMotion:
    """Repeat a looping clip ``cycles`` times, each cycle moved by the first-to-last pelvis displacement.

    The last frame of a looping clip is the first frame of the next cycle; the planar move (heading turn and
    floor translation) between them carries every cycle on, so a walk keeps walking and a turn keeps turning.
    """
    if cycles <= 1:
        return m
    R = pelvis_frames(m)
    yaw = np.arctan2(R[:, 1, 0], R[:, 0, 0])
    p = m.joint("pelvis")
    dyaw = yaw[-1] - yaw[0]
    c, s = np.cos(dyaw), np.sin(dyaw)
    Rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    shift = np.array([p[-1, 0], p[-1, 1], 0.0]) - Rz @ np.array([p[0, 0], p[0, 1], 0.0])
    parts, rot, move = [], np.eye(3), np.zeros(3)
    for k in range(cycles):
        frames = m.joints if k == cycles - 1 else m.joints[:-1]  # the final frame closes the last cycle
        parts.append(frames @ rot.T + move)
        rot, move = Rz @ rot, Rz @ move + shift
    joints = np.concatenate(parts, axis=0)
    info = dict(m.info)
    times = info.get("times")
    if times is not None:
        times = np.asarray(times)
        period = times[-1] - times[0]
        info["times"] = np.concatenate([times[:-1] + k * period for k in range(cycles)] + [times[-1:] + (cycles - 1) * period])
    info["cycles"] = cycles
    return HumanMotion(name=m.name, fps=m.fps, joints=joints, derived=m.derived, source=m.source, info=info)

