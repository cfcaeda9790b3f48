"""The human-motion inputs of ``sonic-motion retarget``: BVH, named world joint positions, SMPL-layout joints.

Each becomes a ``HumanMotion`` in metres, z up, floor at z = 0. Source joint names reach SMPL's names through
a joint map: the shipped ``MOCAP_JOINT_MAP`` covers LAFAN1, CMU (cgspeed BVH), Mixamo and SMPL's own names
(with or without a ``mixamorig:``-style prefix); a user's YAML map (source name -> SMPL name) extends it.
Units and up axis are read from the data when not given: a subject taller than 3 units is in centimetres, and
the up axis is the one along which the head sits farthest above the feet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from sonic_deploy.motion.clip import MotionFormatError, read_npz
from sonic_deploy.motion.retarget.bvh import bvh_world_positions, read_bvh
from sonic_deploy.motion.retarget.skeleton import (NUM_SMPL, SMPL_JOINT_NAMES, HumanMotion, HumanMotionError,
                                                   from_named_positions)

_SIDES = (("Left", "left"), ("Right", "right"))
MOCAP_JOINT_MAP: dict[str, str] = {
    "Hips": "pelvis", "Pelvis": "pelvis", "Root": "pelvis",
    # spine: LAFAN1 and Mixamo Spine/Spine1/Spine2; CMU LowerBack/Spine/Spine1
    "Spine": "spine1", "Spine1": "spine2", "Spine2": "spine3", "Chest": "spine3",
    "LowerBack": "spine1", "Spine3": "spine3",
    "Neck": "neck", "Head": "head",
    # SMPL's own names (AMASS / SMPL-X exports)
    "L_Hip": "left_hip", "R_Hip": "right_hip", "L_Knee": "left_knee", "R_Knee": "right_knee",
    "L_Ankle": "left_ankle", "R_Ankle": "right_ankle", "L_Foot": "left_foot", "R_Foot": "right_foot",
    "L_Collar": "left_collar", "R_Collar": "right_collar", "L_Shoulder": "left_shoulder",
    "R_Shoulder": "right_shoulder", "L_Elbow": "left_elbow", "R_Elbow": "right_elbow", "L_Wrist": "left_wrist",
    "R_Wrist": "right_wrist", "L_Hand": "left_hand", "R_Hand": "right_hand",
}
for _src, _dst in _SIDES:
    MOCAP_JOINT_MAP.update({
        f"{_src}UpLeg": f"{_dst}_hip", f"{_src}Leg": f"{_dst}_knee", f"{_src}Foot": f"{_dst}_ankle",
        f"{_src}Toe": f"{_dst}_foot", f"{_src}ToeBase": f"{_dst}_foot", f"{_src}Shoulder": f"{_dst}_collar",
        f"{_src}Arm": f"{_dst}_shoulder", f"{_src}ForeArm": f"{_dst}_elbow", f"{_src}Hand": f"{_dst}_wrist",
    })
# Names of the SMPL layout themselves map to themselves.
MOCAP_JOINT_MAP.update({n: n for n in SMPL_JOINT_NAMES})


def load_joint_map(path: str | Path | None) -> dict[str, str]:
    """The shipped map, extended (and overridden) by a YAML file of ``source name: smpl name``."""
    mapping = dict(MOCAP_JOINT_MAP)
    if path is None:
        return mapping
    path = Path(path)
    try:
        user = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise HumanMotionError(f"{path}: not a readable joint map ({exc})") from None
    if not isinstance(user, dict):
        raise HumanMotionError(f"{path}: a joint map is a mapping of source joint name -> SMPL joint name")
    bad = {k: v for k, v in user.items() if v not in SMPL_JOINT_NAMES}
    if bad:
        raise HumanMotionError(f"{path}: targets {sorted(set(bad.values()))} are not SMPL joint names "
                               f"({', '.join(SMPL_JOINT_NAMES)})")
    mapping.update({str(k): str(v) for k, v in user.items()})
    return mapping


def _strip_prefix(name: str) -> str:
    return name.split(":")[-1].split("|")[-1]


def _up_axis(positions: np.ndarray, names: list[str], mapping: dict[str, str]) -> int:
    """The axis along which the head sits farthest from the feet (median over frames)."""
    smpl = [mapping.get(n) for n in names]
    head = [i for i, s in enumerate(smpl) if s in ("head", "neck")]
    feet = [i for i, s in enumerate(smpl) if s in ("left_ankle", "right_ankle", "left_foot", "right_foot")]
    if not head or not feet:
        return 2
    d = np.median(positions[:, head].mean(1) - positions[:, feet].mean(1), axis=0)
    return int(np.argmax(np.abs(d)))


def to_z_up(positions: np.ndarray, up: int, sign: float) -> np.ndarray:
    """Rotate so that ``up`` (axis index, sign) becomes +z, keeping a right-handed frame."""
    if up == 2:
        return positions if sign > 0 else positions * np.array([1.0, -1.0, -1.0])
    if up == 1:  # y up -> z up: (x, y, z) -> (x, -z, y)
        p = np.stack([positions[..., 0], -positions[..., 2], positions[..., 1]], axis=-1)
    else:  # x up -> z up: (x, y, z) -> (-z, y, x)
        p = np.stack([-positions[..., 2], positions[..., 1], positions[..., 0]], axis=-1)
    return p if sign > 0 else p * np.array([1.0, -1.0, -1.0])


def normalise(positions: np.ndarray, names: list[str], mapping: dict[str, str], up: str = "auto",
              unit_scale: float | None = None) -> tuple[np.ndarray, dict]:
    """Metres, z up, the lowest foot joint on the floor (z = 0); returns positions and what was chosen."""
    names = [_strip_prefix(n) for n in names]
    if up == "auto":
        axis = _up_axis(positions, names, mapping)
        smpl = [mapping.get(n) for n in names]
        head = [i for i, s in enumerate(smpl) if s in ("head", "neck")]
        feet = [i for i, s in enumerate(smpl) if s in ("left_ankle", "right_ankle")]
        sign = 1.0 if not head or not feet else float(np.sign(np.median(
            positions[:, head, axis].mean(1) - positions[:, feet, axis].mean(1))) or 1.0)
    else:
        axis, sign = {"x": (0, 1.0), "y": (1, 1.0), "z": (2, 1.0), "-y": (1, -1.0), "-z": (2, -1.0)}[up]
    p = to_z_up(positions, axis, sign)
    height = float(np.median(p[..., 2].max(axis=1) - p[..., 2].min(axis=1)))
    scale = unit_scale if unit_scale else (0.01 if height > 3.0 else 1.0)
    p = p * scale
    smpl = [mapping.get(n) for n in names]
    foot_ids = [i for i, s in enumerate(smpl) if s in ("left_foot", "right_foot", "left_ankle", "right_ankle")]
    floor = float(np.percentile(p[:, foot_ids, 2].min(axis=1), 2)) if foot_ids else float(p[..., 2].min())
    p[..., 2] -= floor
    return p, {"up_axis": "xyz"[axis], "up_sign": sign, "unit_scale": scale, "floor_offset": floor}


def load_bvh(path: str | Path, joint_map: str | Path | None = None, up: str = "auto",
             unit_scale: float | None = None) -> HumanMotion:
    bvh = read_bvh(path)
    mapping = load_joint_map(joint_map)
    names = [_strip_prefix(n) for n in bvh.names]
    pos, info = normalise(bvh_world_positions(bvh), names, mapping, up, unit_scale)
    motion = from_named_positions(Path(path).stem, bvh.fps, pos, names, mapping, source=str(path))
    motion.info.update(info)
    return motion


def load_positions_npz(path: str | Path, joint_map: str | Path | None = None, up: str = "auto",
                       unit_scale: float | None = None, fps: float | None = None) -> HumanMotion:
    """NPZ with ``positions`` [T, J, 3], ``joint_names`` [J] and ``fps`` (or SMPL layout: ``joints`` [T, 24, 3])."""
    path = Path(path)
    try:
        raw = read_npz(path)
    except MotionFormatError as exc:
        raise HumanMotionError(str(exc)) from None
    key = next((k for k in ("positions", "joints", "smpl_joints") if k in raw), None)
    if key is None:
        raise HumanMotionError(f"{path}: field 'positions' ([T, J, 3] with joint_names) or 'joints' / "
                               "'smpl_joints' ([T, 24, 3], SMPL order) is missing")
    positions = np.asarray(raw[key], dtype=np.float64)
    if "joint_names" in raw:
        names = [str(n) for n in raw["joint_names"]]
    elif positions.ndim == 3 and positions.shape[1] == NUM_SMPL:
        names = list(SMPL_JOINT_NAMES)
    else:
        raise HumanMotionError(f"{path}: field 'joint_names' is missing (needed unless '{key}' is [T, 24, 3] in "
                               "SMPL order)")
    if positions.ndim != 3 or positions.shape[2] != 3 or positions.shape[1] != len(names):
        raise HumanMotionError(f"{path}: field '{key}' expected shape [T, {len(names)}, 3], got {positions.shape}")
    if fps is None:
        if "fps" not in raw and "mocap_framerate" not in raw:
            raise HumanMotionError(f"{path}: field 'fps' is missing (or pass --fps)")
        fps = float(np.asarray(raw.get("fps", raw.get("mocap_framerate"))).reshape(-1)[0])
    mapping = load_joint_map(joint_map)
    pos, info = normalise(positions, names, mapping, up, unit_scale)
    motion = from_named_positions(path.stem, fps, pos, [_strip_prefix(n) for n in names], mapping,
                                  source=str(path))
    motion.info.update(info)
    return motion
