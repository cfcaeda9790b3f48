"""Bring outside motion data into the canonical clip: reference PKL, LAFAN1-style G1 CSV, BeyondMimic/mjlab NPZ.

Each importer only reads root pose and joint angles and hands them to forward kinematics, so every body pose
in the library comes from our G1 model, whatever tool produced the source file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sonic_deploy.motion.clip import MotionClip, MotionFormatError
from sonic_deploy.motion.kinematics import Kinematics
from sonic_deploy.motion.safe_pickle import safe_load_pickle
from sonic_deploy.robots.g1 import ISAACLAB_JOINT_ORDER
from sonic_deploy.utils.rotations import xyzw_to_wxyz


def _array(source: str, field: str, value, shape_tail: tuple[int, ...], shape_text: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu" or arr.ndim != 1 + len(shape_tail) or tuple(arr.shape[1:]) != shape_tail:
        raise MotionFormatError(f"{source}: field '{field}' expected shape {shape_text}, got "
                                f"{getattr(arr, 'shape', None)} {arr.dtype}")
    if not np.isfinite(arr).all():
        raise MotionFormatError(f"{source}: field '{field}' has non-finite values")
    return arr.astype(np.float64)


def import_pkl(path: str | Path, kin: Kinematics | None = None) -> list[MotionClip]:
    """The original's motion PKL (joblib): {clip: {root_trans_offset [T,3], root_rot [T,4] xyzw, dof [T,29], fps}}."""
    path = Path(path)
    data = safe_load_pickle(path)
    if not isinstance(data, dict) or not data:
        raise MotionFormatError(f"{path}: expected a dict of clips, got {type(data).__name__}")
    kin = kin or Kinematics()
    J = kin.robot.num_joints
    clips = []
    for name, entry in data.items():
        src = f"{path}[{name}]"
        if not isinstance(entry, dict):
            raise MotionFormatError(f"{src}: expected a dict of arrays, got {type(entry).__name__}")
        for key in ("root_trans_offset", "root_rot", "dof", "fps"):
            if key not in entry:
                raise MotionFormatError(f"{src}: field '{key}' is missing")
        root_pos = _array(src, "root_trans_offset", entry["root_trans_offset"], (3,), "[T, 3]")
        root_quat = xyzw_to_wxyz(_array(src, "root_rot", entry["root_rot"], (4,), "[T, 4] (x, y, z, w)"))
        dof = _array(src, "dof", entry["dof"], (J,), f"[T, {J}]")
        smpl = entry.get("smpl_joints")
        if smpl is not None:
            smpl = _array(src, "smpl_joints", smpl, (24, 3), "[T, 24, 3]")
        fps = float(np.asarray(entry["fps"]).reshape(()))
        if not len(root_pos) == len(root_quat) == len(dof):
            raise MotionFormatError(f"{src}: root_trans_offset, root_rot and dof have different frame counts")
        if fps <= 0:
            raise MotionFormatError(f"{src}: field 'fps' must be > 0, got {fps}")
        clips.append(kin.from_joint_trajectory(str(name), fps, root_pos, root_quat, dof, smpl))
    return clips


def import_csv(path: str | Path, fps: float = 30.0, kin: Kinematics | None = None) -> MotionClip:
    """LAFAN1-style retargeted G1 CSV: per row root xyz, root quaternion (x, y, z, w), 29 joint angles."""
    path = Path(path)
    kin = kin or Kinematics()
    J = kin.robot.num_joints
    try:
        rows = np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError as exc:
        raise MotionFormatError(f"{path}: not a numeric CSV ({exc})") from None
    if rows.shape[1] != 7 + J:
        raise MotionFormatError(f"{path}: expected {7 + J} columns per row (xyz, quat xyzw, {J} joints), "
                                f"got {rows.shape[1]}")
    rows = _array(str(path), "rows", rows, (7 + J,), f"[T, {7 + J}]")
    return kin.from_joint_trajectory(path.stem, fps, rows[:, :3], xyzw_to_wxyz(rows[:, 3:7]), rows[:, 7:])


def import_beyondmimic_npz(path: str | Path, joint_order: str = "isaaclab",
                           kin: Kinematics | None = None) -> MotionClip:
    """BeyondMimic/mjlab motion NPZ (fps, joint_pos, body_pos_w, body_quat_w; body 0 = pelvis).

    BeyondMimic files are in Isaac Lab joint order (breadth-first); mjlab writes the MuJoCo (Unitree) order.
    """
    path = Path(path)
    kin = kin or Kinematics()
    J = kin.robot.num_joints
    try:
        with np.load(path, allow_pickle=False) as data:
            raw = {k: data[k] for k in data.files}
    except Exception as exc:
        raise MotionFormatError(f"{path}: not a readable NPZ ({exc})") from None
    for key in ("fps", "joint_pos", "body_pos_w", "body_quat_w"):
        if key not in raw:
            raise MotionFormatError(f"{path}: field '{key}' is missing")
    joint_pos = _array(str(path), "joint_pos", raw["joint_pos"], (J,), f"[T, {J}]")
    if joint_order == "isaaclab":
        src_names = ISAACLAB_JOINT_ORDER
        joint_pos = joint_pos[:, [src_names.index(n) for n in kin.robot.joint_names]]
    elif joint_order != "unitree":
        raise ValueError(f"joint_order must be 'isaaclab' or 'unitree', got {joint_order!r}")
    body_pos = np.asarray(raw["body_pos_w"])
    body_quat = np.asarray(raw["body_quat_w"])
    if body_pos.ndim != 3 or body_quat.ndim != 3:
        raise MotionFormatError(f"{path}: fields 'body_pos_w'/'body_quat_w' expected [T, B, 3]/[T, B, 4]")
    fps = float(np.asarray(raw["fps"]).reshape(-1)[0])
    return kin.from_joint_trajectory(path.stem, fps, body_pos[:, 0].astype(np.float64),
                                     body_quat[:, 0].astype(np.float64), joint_pos)
