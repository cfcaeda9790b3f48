"""DeepMimic motion files -> human joint positions, by DeepMimic's own humanoid skeleton.

A DeepMimic clip (pybullet_data/data/motions/humanoid3d_*.txt) is JSON: ``{"Loop": "wrap"|"none", "Frames":
[[dt, root xyz, root quat wxyz, chest q, neck q, right hip q, right knee angle, right ankle q, right shoulder q,
right elbow angle, left hip q, left knee angle, left ankle q, left shoulder q, left elbow angle], ...]]`` (44
numbers a frame; each joint quaternion w, x, y, z is the child link's rotation in the joint frame; knees and
elbows turn about their local z). The world is y up, x forward, z to the subject's right at the start.

The bone offsets are read from the humanoid URDF that ships beside the clips
(pybullet_data/humanoid/humanoid.urdf), scaled by 0.25 as DeepMimic and pybullet load it, so positions come
from the skeleton the motion was captured for, not from a guess.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sonic_deploy.motion.retarget.skeleton import HumanMotion, HumanMotionError, from_named_positions
from sonic_deploy.utils.rotations import quat_to_matrix

URDF_SCALE = 0.25  # DeepMimic and pybullet load humanoid.urdf with globalScaling=0.25
FRAME_SIZE = 44
# Frame layout: (joint, kind, first column); kind 4 = quaternion wxyz, 1 = angle about the joint's z axis.
FRAME_LAYOUT: tuple[tuple[str, int, int], ...] = (
    ("chest", 4, 8), ("neck", 4, 12), ("right_hip", 4, 16), ("right_knee", 1, 20), ("right_ankle", 4, 21),
    ("right_shoulder", 4, 25), ("right_elbow", 1, 29), ("left_hip", 4, 30), ("left_knee", 1, 34),
    ("left_ankle", 4, 35), ("left_shoulder", 4, 39), ("left_elbow", 1, 43),
)
# y up (x forward, z right) -> z up (x forward, y left): a +90 degree turn about x
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
# DeepMimic link -> SMPL joint name. ``head`` and ``*_foot`` are points on the neck and ankle links (below).
JOINT_MAP = {
    "root": "pelvis", "left_hip": "left_hip", "right_hip": "right_hip", "left_knee": "left_knee",
    "right_knee": "right_knee", "left_ankle": "left_ankle", "right_ankle": "right_ankle", "chest": "spine3",
    "neck": "neck", "head": "head", "left_toe": "left_foot", "right_toe": "right_foot",
    "left_shoulder": "left_shoulder", "right_shoulder": "right_shoulder", "left_elbow": "left_elbow",
    "right_elbow": "right_elbow", "left_wrist": "left_wrist", "right_wrist": "right_wrist",
}


@dataclass(frozen=True)
class DeepMimicSkeleton:
    """Joint tree of the DeepMimic humanoid: parent and offset (m, parent frame) of every joint."""

    parents: dict[str, str]
    offsets: dict[str, np.ndarray]
    head_offset: np.ndarray  # neck link: centre of the head sphere
    toe_offset: np.ndarray  # ankle link: front end of the foot box, at the ankle's height
    sole_below_ankle: float  # ankle link: distance from the ankle joint down to the sole

    @classmethod
    def from_urdf(cls, path: str | Path, scale: float = URDF_SCALE) -> "DeepMimicSkeleton":
        path = Path(path)
        try:
            root = ET.fromstring(path.read_bytes().replace(b"\x00", b""))
        except (OSError, ET.ParseError) as exc:
            raise HumanMotionError(f"{path}: not a readable URDF ({exc})") from None
        parents, offsets = {}, {}
        for joint in root.iter("joint"):
            name = joint.get("name")
            parent, origin = joint.find("parent"), joint.find("origin")
            if parent is None or origin is None:
                continue
            parents[name] = parent.get("link")
            offsets[name] = np.array([float(v) for v in origin.get("xyz").split()]) * scale
        links = {link.get("name"): link for link in root.iter("link")}
        need = {"chest", "neck", "right_hip", "right_knee", "right_ankle", "right_shoulder", "right_elbow",
                "right_wrist", "left_hip", "left_knee", "left_ankle", "left_shoulder", "left_elbow", "left_wrist"}
        if not need <= set(parents) or "right_ankle" not in links or "neck" not in links:
            raise HumanMotionError(f"{path}: not the DeepMimic humanoid (joints {sorted(need - set(parents))} missing)")

        def geom_origin(link: str, kind: str) -> tuple[np.ndarray, ET.Element]:
            col = links[link].find("collision")
            origin = np.array([float(v) for v in col.find("origin").get("xyz").split()]) * scale
            return origin, col.find("geometry").find(kind)

        head, _ = geom_origin("neck", "sphere")
        foot_centre, box = geom_origin("right_ankle", "box")
        size = np.array([float(v) for v in box.get("size").split()]) * scale
        toe = np.array([foot_centre[0] + size[0] / 2, 0.0, 0.0])
        sole = float(-(foot_centre[1] - size[1] / 2))
        return cls(parents=parents, offsets=offsets, head_offset=head, toe_offset=toe, sole_below_ankle=sole)


def read_frames(path: str | Path) -> tuple[np.ndarray, str]:
    """The frame table [N, 44] and the loop mode of one DeepMimic motion file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HumanMotionError(f"{path}: not a DeepMimic motion file (JSON: {exc})") from None
    if not isinstance(data, dict) or "Frames" not in data:
        raise HumanMotionError(f"{path}: field 'Frames' is missing")
    try:
        frames = np.asarray(data["Frames"], dtype=np.float64)
    except (TypeError, ValueError):
        raise HumanMotionError(f"{path}: field 'Frames' must be a table of numbers") from None
    if frames.ndim != 2 or frames.shape[1] != FRAME_SIZE or len(frames) < 2:
        raise HumanMotionError(f"{path}: field 'Frames' expected shape [N >= 2, {FRAME_SIZE}], got {frames.shape}")
    if not np.isfinite(frames).all():
        raise HumanMotionError(f"{path}: field 'Frames' has non-finite values")
    return frames, str(data.get("Loop", "none"))


def _axis_angle_z(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    R = np.zeros(angle.shape + (3, 3))
    R[..., 0, 0], R[..., 0, 1], R[..., 1, 0], R[..., 1, 1], R[..., 2, 2] = c, -s, s, c, 1.0
    return R


def load_deepmimic(path: str | Path, skeleton: DeepMimicSkeleton, name: str | None = None) -> HumanMotion:
    """Forward kinematics of the DeepMimic humanoid over every frame -> HumanMotion (z up, floor z = 0)."""
    path = Path(path)
    frames, loop = read_frames(path)
    dt = frames[:, 0]
    times = np.concatenate([[0.0], np.cumsum(dt[:-1])])
    if np.any(np.diff(times) <= 0):
        raise HumanMotionError(f"{path}: field 'Frames' column 0 (dt) must be > 0 except in the last frame")
    rot = {"root": quat_to_matrix(_unit(frames[:, 4:8]))}
    pos = {"root": frames[:, 1:4]}
    for joint, kind, col in FRAME_LAYOUT:
        local = quat_to_matrix(_unit(frames[:, col:col + 4])) if kind == 4 else _axis_angle_z(frames[:, col])
        parent = skeleton.parents[joint]
        pos[joint] = pos[parent] + np.einsum("tij,j->ti", rot[parent], skeleton.offsets[joint])
        rot[joint] = rot[parent] @ local
    for side in ("left", "right"):
        wrist = f"{side}_wrist"
        pos[wrist] = pos[f"{side}_elbow"] + np.einsum("tij,j->ti", rot[f"{side}_elbow"], skeleton.offsets[wrist])
        pos[f"{side}_toe"] = pos[f"{side}_ankle"] + np.einsum("tij,j->ti", rot[f"{side}_ankle"], skeleton.toe_offset)
    pos["head"] = pos["neck"] + np.einsum("tij,j->ti", rot["neck"], skeleton.head_offset)
    names = list(JOINT_MAP)
    world = np.stack([pos[n] for n in names], axis=1) @ Y_UP_TO_Z_UP.T
    motion = from_named_positions(name or path.stem, 1.0 / float(np.median(dt[:-1])), world, names, JOINT_MAP,
                                  source=str(path))
    # DeepMimic's floor is y = 0; the feet's lowest point is the sole, sole_below_ankle under the ankle
    motion.info.update(times=times, loop=loop, sole_below_ankle=skeleton.sole_below_ankle)
    return motion


def _unit(q: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(q, axis=-1, keepdims=True)
    if np.any(n < 1e-6):
        raise HumanMotionError("DeepMimic frame holds a zero quaternion")
    return q / n
