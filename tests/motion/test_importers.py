"""Importers that cannot be fooled: a file's own joint names, root-first layouts, world bodies, the limit guard.

Built from a real retargeted clip (the fetched DeepMimic walk), written the ways other tools write it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sonic_deploy.motion import MotionFormatError, load_clip, save_clip
from sonic_deploy.motion.deepmimic import fetch_data
from sonic_deploy.motion.importers import import_beyondmimic_npz, import_csv
from sonic_deploy.motion.kinematics import Kinematics
from sonic_deploy.robots.g1 import G1, ISAACLAB_JOINT_ORDER
from sonic_deploy.utils.rotations import wxyz_to_xyzw


@pytest.fixture(scope="module")
def kin():
    return Kinematics()


@pytest.fixture(scope="module")
def walk():
    out, _ = fetch_data("deepmimic", log=lambda *_: None)
    clip = load_clip(out / "held_out" / "dm_walker_walk_forward.npz")
    return clip


def _isaac(q: np.ndarray) -> np.ndarray:
    return q[:, [G1.joint_names.index(n) for n in ISAACLAB_JOINT_ORDER]]


def test_root_first_npz_with_its_own_joint_names_and_world_body(tmp_path, kin, walk):
    T = walk.num_frames
    q_isaac = _isaac(walk.joint_pos)
    joint_pos = np.concatenate([walk.root_pos, walk.root_quat, q_isaac], axis=1)  # [T, 36]
    world = np.zeros((T, 1, 3)), np.tile([1.0, 0, 0, 0], (T, 1, 1))
    for names in (list(ISAACLAB_JOINT_ORDER), ["floating_base_joint", *ISAACLAB_JOINT_ORDER]):
        path = tmp_path / "bm_root_first.npz"
        np.savez(path, fps=np.array(50.0), joint_pos=joint_pos, joint_vel=np.zeros((T, 35)),
                 joint_names=np.array(names), body_names=np.array(["world", *walk.body_names]),
                 body_pos_w=np.concatenate([world[0], walk.body_pos_w], axis=1),
                 body_quat_w=np.concatenate([world[1], walk.body_quat_w], axis=1))
        # the option says unitree, the file's names say otherwise: the names win
        clip = import_beyondmimic_npz(path, joint_order="unitree", kin=kin)
        np.testing.assert_allclose(clip.joint_pos, walk.joint_pos, atol=1e-6)
        np.testing.assert_allclose(clip.root_pos, walk.root_pos, atol=1e-6)
        np.testing.assert_allclose(clip.body_pos_w, walk.body_pos_w, atol=1e-4)


def test_world_body_zero_is_skipped_for_the_root(tmp_path, kin, walk):
    T = walk.num_frames
    path = tmp_path / "bm_world.npz"
    np.savez(path, fps=np.array([50]), joint_pos=_isaac(walk.joint_pos),
             body_pos_w=np.concatenate([np.zeros((T, 1, 3)), walk.body_pos_w], axis=1),
             body_quat_w=np.concatenate([np.tile([1.0, 0, 0, 0], (T, 1, 1)), walk.body_quat_w], axis=1))
    clip = import_beyondmimic_npz(path, joint_order="isaaclab", kin=kin)
    np.testing.assert_allclose(clip.root_pos, walk.root_pos, atol=1e-6)


def test_wrong_joint_order_is_refused_naming_the_cause(tmp_path, kin, walk):
    path = tmp_path / "mjlab_order.npz"  # MuJoCo (unitree) order, no joint names
    np.savez(path, fps=np.array(50.0), joint_pos=walk.joint_pos, body_pos_w=walk.body_pos_w,
             body_quat_w=walk.body_quat_w)
    with pytest.raises(MotionFormatError) as err:
        import_beyondmimic_npz(path, joint_order="isaaclab", kin=kin)
    msg = str(err.value)
    assert str(path) in msg and "100% of frames" in msg and "joint order" in msg
    assert "--joint-order" in msg and "--accept-limit-violations" in msg and "\n" not in msg
    # auto picks the order that keeps the joints in range; the override imports anyway
    np.testing.assert_allclose(import_beyondmimic_npz(path, kin=kin).joint_pos, walk.joint_pos, atol=1e-6)
    forced = import_beyondmimic_npz(path, joint_order="isaaclab", kin=kin, accept_limit_violations=True)
    assert not np.allclose(forced.joint_pos, walk.joint_pos)
    # the CSV importer (a fixed order) refuses a file in another order the same way
    rows = np.concatenate([walk.root_pos, wxyz_to_xyzw(walk.root_quat), _isaac(walk.joint_pos)], axis=1)
    np.savetxt(tmp_path / "isaac.csv", rows, delimiter=",")
    with pytest.raises(MotionFormatError, match="breaks the G1's joint limits"):
        import_csv(tmp_path / "isaac.csv", fps=50, kin=kin)


def test_inspect_reports_limits_skate_and_penetration(tmp_path, kin, walk):
    bad = kin.from_joint_trajectory("bad", 50.0, walk.root_pos - [0, 0, 0.05], walk.root_quat,
                                    _isaac(walk.joint_pos))
    save_clip(bad, tmp_path / "bad.npz")
    save_clip(walk, tmp_path / "good.npz")
    exe = Path(sys.executable).parent / "sonic-motion"
    out = subprocess.run([exe, "inspect", str(tmp_path)], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "220"})
    assert out.returncode == 0, out.stderr
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[1:-1]]
            for line in out.stdout.splitlines() if line.startswith("│")}
    good, worse = rows["dm_walker_walk_forward"], rows["bad"]
    assert good[7] == "0%" and int(worse[7].rstrip("%")) > 50  # limit frames
    assert float(good[10]) < 1.0 and float(worse[10]) > 3.0  # penetration (cm): sunk 5 cm
