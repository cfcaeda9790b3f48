"""Bring outside motion data into the canonical clip: reference PKL, LAFAN1-style G1 CSV, BeyondMimic/mjlab NPZ.

Each importer only reads root pose and joint angles and hands them to forward kinematics, so every body pose
in the library comes from our G1 model, whatever tool produced the source file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sonic_deploy.motion.clip import MotionClip, MotionFormatError, read_npz
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


def import_pkl(path: str | Path, kin: Kinematics | None = None,
               accept_limit_violations: bool = False) -> list[MotionClip]:
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
        check_joint_limits(src, dof, kin.robot, "the G1 (MuJoCo) order the format defines",
                           accept_limit_violations)
        clips.append(kin.from_joint_trajectory(str(name), fps, root_pos, root_quat, dof, smpl))
    return clips


def import_csv(path: str | Path, fps: float = 30.0, kin: Kinematics | None = None,
               accept_limit_violations: bool = False) -> MotionClip:
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
    check_joint_limits(str(path), rows[:, 7:], kin.robot, "the G1 (MuJoCo) order the format defines",
                       accept_limit_violations)
    return kin.from_joint_trajectory(path.stem, fps, rows[:, :3], xyzw_to_wxyz(rows[:, 3:7]), rows[:, 7:])


def import_beyondmimic_npz(path: str | Path, joint_order: str = "auto", kin: Kinematics | None = None,
                           accept_limit_violations: bool = False) -> MotionClip:
    """BeyondMimic/mjlab-family motion NPZ -> canonical clip, in the G1's joint order whatever the file's.

    Joint order: the file's own ``joint_names`` when it has them (any order, extra names ignored); otherwise
    ``joint_order`` (``isaaclab``: BeyondMimic's breadth-first order; ``unitree``: mjlab's MuJoCo order;
    ``auto``: whichever of the two breaks fewer joint limits, isaaclab on a tie). ``joint_pos`` is either
    [T, 29] (root pose then from body ``pelvis``, or body 0 unless body 0 is the ``world``) or root-first
    [T, 36] (root xyz, root quaternion w x y z, 29 joints; ``joint_vel`` [T, 35]); velocities are recomputed.
    A clip whose frames mostly break the G1's joint limits is refused (see ``check_joint_limits``).
    """
    path = Path(path)
    kin = kin or Kinematics()
    robot = kin.robot
    J = robot.num_joints
    src = str(path)
    raw = read_npz(path)
    for key in ("fps", "joint_pos"):
        if key not in raw:
            raise MotionFormatError(f"{path}: field '{key}' is missing")
    jp = np.asarray(raw["joint_pos"])
    root_first = jp.ndim == 2 and jp.shape[1] == J + 7
    joint_pos = _array(src, "joint_pos", jp, (J + 7,) if root_first else (J,),
                       f"[T, {J}] or root-first [T, {J + 7}] (xyz, quat wxyz, {J} joints)")
    names = _string_list(src, raw, "joint_names")
    if names is not None and root_first and len(names) == J + 1:
        names = names[1:]  # a floating-base joint named first, as mjlab writes qpos names
    if root_first:
        root_pos, root_quat, joint_pos = joint_pos[:, :3], joint_pos[:, 3:7], joint_pos[:, 7:]
        norm = np.linalg.norm(root_quat, axis=-1)
        if np.abs(norm - 1.0).max() > 1e-2:
            raise MotionFormatError(f"{path}: field 'joint_pos' columns 3:7 (root quaternion w, x, y, z) are not "
                                    f"unit quaternions (norm {norm.min():.3f}-{norm.max():.3f})")
    else:
        root_pos, root_quat = _root_from_bodies(src, raw, len(joint_pos))
    if names is not None:
        order_text = "the file's joint_names"
        joint_pos = _reorder_by_names(src, joint_pos, names, robot.joint_names)
    else:
        joint_pos, order_text = _reorder_by_option(src, joint_pos, joint_order, robot)
    fps = float(np.asarray(raw["fps"]).reshape(-1)[0])
    if not np.isfinite(fps) or fps <= 0:
        raise MotionFormatError(f"{path}: field 'fps' must be > 0, got {fps}")
    check_joint_limits(src, joint_pos, robot, order_text, accept_limit_violations)
    return kin.from_joint_trajectory(path.stem, fps, root_pos, root_quat, joint_pos)


# A frame breaks the limits when a joint is beyond its range by more than this (rad): real clips graze limits.
LIMIT_SLACK = 0.02
REFUSE_FRACTION = 0.5  # share of frames breaking limits above which a clip is refused


def check_joint_limits(source: str, joint_pos: np.ndarray, robot=None, order_text: str = "",
                       accept: bool = False) -> float:
    """Share of frames with a joint beyond its limit; refuse (MotionFormatError) above REFUSE_FRACTION."""
    robot = robot or Kinematics().robot
    lo, hi = np.asarray(robot.joint_lower), np.asarray(robot.joint_upper)
    excess = np.maximum(lo - joint_pos, joint_pos - hi)
    bad = (excess > LIMIT_SLACK).any(axis=1)
    frac = float(bad.mean())
    if frac > REFUSE_FRACTION and not accept:
        t, j = np.unravel_index(np.argmax(excess), excess.shape)
        raise MotionFormatError(
            f"{source}: field 'joint_pos' breaks the G1's joint limits in {frac:.0%} of frames (worst "
            f"{robot.joint_names[j]} by {excess[t, j]:.2f} rad at frame {t}); the likely cause is a wrong joint "
            f"order (read with {order_text or 'the default order'}): pass the right --joint-order "
            f"(isaaclab|unitree), or --accept-limit-violations to import it anyway")
    return frac


def _string_list(source: str, raw: dict, key: str) -> list[str] | None:
    if key not in raw:
        return None
    arr = np.asarray(raw[key])
    if arr.dtype.kind not in "US" or arr.ndim != 1:
        raise MotionFormatError(f"{source}: field '{key}' must be a 1-D array of strings, got {arr.dtype} {arr.shape}")
    return [str(n.decode() if isinstance(n, bytes) else n) for n in arr]


def _reorder_by_names(source: str, joint_pos: np.ndarray, names: list[str], target: tuple[str, ...]) -> np.ndarray:
    if len(names) != joint_pos.shape[1]:
        raise MotionFormatError(f"{source}: field 'joint_names' has {len(names)} names for {joint_pos.shape[1]} "
                                "joint_pos columns")
    missing = [n for n in target if n not in names]
    if missing:
        raise MotionFormatError(f"{source}: field 'joint_names' lacks the G1 joints {missing[:6]}"
                                f"{' ...' if len(missing) > 6 else ''}")
    return joint_pos[:, [names.index(n) for n in target]]


def _reorder_by_option(source: str, joint_pos: np.ndarray, joint_order: str, robot) -> tuple[np.ndarray, str]:
    orders = {"isaaclab": ISAACLAB_JOINT_ORDER, "unitree": robot.joint_names}
    if joint_order not in (*orders, "auto"):
        raise ValueError(f"joint_order must be 'auto', 'isaaclab' or 'unitree', got {joint_order!r}")
    candidates = orders if joint_order == "auto" else {joint_order: orders[joint_order]}
    best = None
    for name, order in candidates.items():
        q = joint_pos[:, [list(order).index(n) for n in robot.joint_names]]
        lo, hi = np.asarray(robot.joint_lower), np.asarray(robot.joint_upper)
        frac = float((np.maximum(lo - q, q - hi) > LIMIT_SLACK).any(axis=1).mean())
        if best is None or frac < best[0]:
            best = (frac, name, q)
    text = f"--joint-order {best[1]}" + (" (auto: the file has no joint_names)" if joint_order == "auto" else "")
    return best[2], text


def _root_from_bodies(source: str, raw: dict, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Root pose from the body arrays: body ``pelvis`` by name, else body 0, else body 1 if body 0 is the world."""
    for key in ("body_pos_w", "body_quat_w"):
        if key not in raw:
            raise MotionFormatError(f"{source}: field '{key}' is missing (needed for the root pose when "
                                    "joint_pos has no root columns)")
    pos, quat = np.asarray(raw["body_pos_w"]), np.asarray(raw["body_quat_w"])
    if pos.ndim != 3 or quat.ndim != 3 or pos.shape[2] != 3 or quat.shape[2] != 4 or len(pos) != T \
            or len(quat) != T or pos.shape[1] != quat.shape[1]:
        raise MotionFormatError(f"{source}: fields 'body_pos_w'/'body_quat_w' expected [T, B, 3]/[T, B, 4] with "
                                f"T={T} like joint_pos, got {pos.shape}/{quat.shape}")
    pos, quat = pos.astype(np.float64), quat.astype(np.float64)
    if not (np.isfinite(pos).all() and np.isfinite(quat).all()):
        raise MotionFormatError(f"{source}: fields 'body_pos_w'/'body_quat_w' have non-finite values")
    names = _string_list(source, raw, "body_names")
    if names is not None and "pelvis" in names:
        b = names.index("pelvis")
    else:
        world = (names is not None and names[0] == "world") or (
            np.abs(pos[:, 0]).max() < 1e-9 and np.abs(quat[:, 0] - [1.0, 0.0, 0.0, 0.0]).max() < 1e-9)
        b = 1 if world and pos.shape[1] > 1 else 0
    return pos[:, b], quat[:, b]
