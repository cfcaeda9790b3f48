"""BVH motion capture -> named world joint positions, by the file's own skeleton.

BVH (Biovision hierarchy) is what LAFAN1, CMU (cgspeed's conversions), Mixamo and most capture software
export: a joint tree with offsets and per-joint channels, then one line of channel values per frame. Each
joint's local transform is its offset (a position channel, where a joint has one, replaces the offset along
its axis: the root's are its world position) followed by its rotation channels applied in the order the file
lists them, in degrees. End sites become joints named
``<parent>_end``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sonic_deploy.motion.retarget.skeleton import HumanMotionError

_AXES = {"X": 0, "Y": 1, "Z": 2}


@dataclass
class BvhJoint:
    name: str
    parent: int
    offset: np.ndarray
    channels: list[str] = field(default_factory=list)
    channel_start: int = 0


@dataclass
class Bvh:
    joints: list[BvhJoint]
    frame_time: float
    values: np.ndarray  # [T, channels]

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.joints]

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time


def _axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    R = np.zeros(angle.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    R[..., axis, axis] = 1.0
    R[..., i, i], R[..., i, j], R[..., j, i], R[..., j, j] = c, -s, s, c
    return R


def read_bvh(path: str | Path) -> Bvh:
    path = Path(path)
    try:
        tokens = path.read_text().split()
    except (OSError, UnicodeDecodeError) as exc:
        raise HumanMotionError(f"{path}: not a readable BVH file ({exc})") from None
    if not tokens or tokens[0] != "HIERARCHY":
        raise HumanMotionError(f"{path}: not a BVH file (expected 'HIERARCHY' first)")
    joints: list[BvhJoint] = []
    stack: list[int] = []
    n_channels = 0
    i = 1
    try:
        while tokens[i] != "MOTION":
            tok = tokens[i]
            if tok in ("ROOT", "JOINT"):
                joints.append(BvhJoint(tokens[i + 1], stack[-1] if stack else -1, np.zeros(3)))
                i += 2
            elif tok == "End":  # End Site
                parent = stack[-1]
                joints.append(BvhJoint(f"{joints[parent].name}_end", parent, np.zeros(3)))
                i += 2
            elif tok == "{":
                stack.append(len(joints) - 1)
                i += 1
            elif tok == "}":
                stack.pop()
                i += 1
            elif tok == "OFFSET":
                joints[stack[-1]].offset = np.array([float(v) for v in tokens[i + 1:i + 4]])
                i += 4
            elif tok == "CHANNELS":
                k = int(tokens[i + 1])
                joint = joints[stack[-1]]
                joint.channels = tokens[i + 2:i + 2 + k]
                joint.channel_start = n_channels
                n_channels += k
                i += 2 + k
            else:
                raise HumanMotionError(f"{path}: unexpected token '{tok}' in HIERARCHY")
        if tokens[i + 1] != "Frames:" or tokens[i + 3:i + 5] != ["Frame", "Time:"]:
            raise HumanMotionError(f"{path}: MOTION section must start 'Frames: N Frame Time: dt'")
        n_frames, frame_time = int(tokens[i + 2]), float(tokens[i + 5])
        values = np.array([float(v) for v in tokens[i + 6:]])
    except (IndexError, ValueError) as exc:
        raise HumanMotionError(f"{path}: malformed BVH ({exc})") from None
    if not joints:
        raise HumanMotionError(f"{path}: no joints in HIERARCHY")
    if values.size != n_frames * n_channels or n_frames < 2:
        raise HumanMotionError(f"{path}: MOTION holds {values.size} values, expected Frames ({n_frames}, >= 2) x "
                               f"channels ({n_channels})")
    if not np.isfinite(values).all() or frame_time <= 0:
        raise HumanMotionError(f"{path}: MOTION has non-finite values or Frame Time <= 0")
    for j in joints:
        bad = [c for c in j.channels if c[1:] not in ("position", "rotation") or c[0] not in _AXES]
        if bad:
            raise HumanMotionError(f"{path}: joint '{j.name}' has unknown channels {bad}")
    return Bvh(joints=joints, frame_time=frame_time, values=values.reshape(n_frames, n_channels))


def bvh_world_positions(bvh: Bvh) -> np.ndarray:
    """World positions [T, J, 3] of every joint (and end site), in the file's units and axes."""
    T = len(bvh.values)
    pos = np.zeros((T, len(bvh.joints), 3))
    rot = np.zeros((T, len(bvh.joints), 3, 3))
    for k, j in enumerate(bvh.joints):
        local_t = np.broadcast_to(j.offset, (T, 3)).copy()
        local_r = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
        for c, ch in enumerate(j.channels):
            v = bvh.values[:, j.channel_start + c]
            axis = _AXES[ch[0]]
            if ch.endswith("position"):
                local_t[:, axis] = v  # a position channel replaces the offset along its axis
            else:
                local_r = local_r @ _axis_rotation(axis, np.radians(v))
        if j.parent < 0:
            pos[:, k], rot[:, k] = local_t, local_r
        else:
            p = j.parent
            pos[:, k] = pos[:, p] + np.einsum("tij,tj->ti", rot[:, p], local_t)
            rot[:, k] = rot[:, p] @ local_r
    return pos
