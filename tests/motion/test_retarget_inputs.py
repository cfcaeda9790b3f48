"""`sonic-motion retarget` inputs: a hand-made BVH, named joint positions with a joint map, SMPL-layout joints."""

from __future__ import annotations

import json
from dataclasses import replace
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sonic_deploy.motion import load_clip
from sonic_deploy.motion.deepmimic import fetch_data, raw_dir
from sonic_deploy.motion.motion_sets import load_motion_set
from sonic_deploy.motion.retarget.bvh import bvh_world_positions, read_bvh
from sonic_deploy.motion.retarget.deepmimic import DeepMimicSkeleton, load_deepmimic
from sonic_deploy.motion.retarget.pipeline import Retargeter
from sonic_deploy.motion.retarget.skeleton import SMPL_JOINT_NAMES, HumanMotionError
from sonic_deploy.motion.retarget.sources import load_bvh, load_positions_npz

# LAFAN1 joint names, centimetres, y up, forward +z; CHANNELS as LAFAN1 writes them (Z Y X rotations).
_TREE = (  # name, parent, offset (cm)
    ("Hips", None, (0, 0, 0)), ("LeftUpLeg", "Hips", (9, 0, 0)), ("LeftLeg", "LeftUpLeg", (0, -42, 0)),
    ("LeftFoot", "LeftLeg", (0, -41, 0)), ("LeftToe", "LeftFoot", (0, -6, 13)),
    ("RightUpLeg", "Hips", (-9, 0, 0)), ("RightLeg", "RightUpLeg", (0, -42, 0)),
    ("RightFoot", "RightLeg", (0, -41, 0)), ("RightToe", "RightFoot", (0, -6, 13)),
    ("Spine", "Hips", (0, 10, 0)), ("Spine1", "Spine", (0, 12, 0)), ("Spine2", "Spine1", (0, 12, 0)),
    ("Neck", "Spine2", (0, 20, 0)), ("Head", "Neck", (0, 12, 0)),
    ("LeftShoulder", "Spine2", (4, 17, 0)), ("LeftArm", "LeftShoulder", (14, 0, 0)),
    ("LeftForeArm", "LeftArm", (0, -28, 0)), ("LeftHand", "LeftForeArm", (0, -26, 0)),
    ("RightShoulder", "Spine2", (-4, 17, 0)), ("RightArm", "RightShoulder", (-14, 0, 0)),
    ("RightForeArm", "RightArm", (0, -28, 0)), ("RightHand", "RightForeArm", (0, -26, 0)),
)


def _bvh_text(frames: int = 45, fps: float = 30.0) -> str:
    children = {n: [c for c, p, _ in _TREE if p == n] for n, _, _ in _TREE}
    offsets = {n: o for n, _, o in _TREE}

    def block(name: str, depth: int) -> str:
        pad = "  " * depth
        head = "ROOT" if depth == 0 else "JOINT"
        ch = ("CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation" if depth == 0
              else "CHANNELS 3 Zrotation Yrotation Xrotation")
        text = f"{pad}{head} {name}\n{pad}{{\n{pad}  OFFSET {' '.join(map(str, offsets[name]))}\n{pad}  {ch}\n"
        for c in children[name]:
            text += block(c, depth + 1)
        if not children[name]:
            text += f"{pad}  End Site\n{pad}  {{\n{pad}    OFFSET 0 -3 0\n{pad}  }}\n"
        return text + f"{pad}}}\n"

    names = [n for n, _, _ in _TREE]
    rows = []
    for f in range(frames):
        phase = 2 * np.pi * f / (fps * 1.0)  # one stepping cycle per second, in place
        values = {n: [0.0, 0.0, 0.0] for n in names}
        lift_l, lift_r = max(np.sin(phase), 0.0), max(-np.sin(phase), 0.0)
        values["LeftUpLeg"][2] = -35 * lift_l  # Xrotation: hip flexion (thigh forward, +z)
        values["LeftLeg"][2] = 70 * lift_l  # knee bends back
        values["RightUpLeg"][2] = -35 * lift_r
        values["RightLeg"][2] = 70 * lift_r
        values["LeftArm"][0], values["RightArm"][0] = 10.0, -10.0
        root = [0.0, 89.0 - 2.0 * (lift_l + lift_r), 0.0]
        row = root + [v for n in names for v in values[n]]
        rows.append(" ".join(f"{v:.4f}" for v in row))
    motion = f"MOTION\nFrames: {frames}\nFrame Time: {1 / fps:.6f}\n" + "\n".join(rows) + "\n"
    return "HIERARCHY\n" + block("Hips", 0) + motion


@pytest.fixture(scope="module")
def retargeter():
    return Retargeter()


def test_bvh_reader_follows_the_files_skeleton(tmp_path):
    path = tmp_path / "step.bvh"
    path.write_text(_bvh_text())
    bvh = read_bvh(path)
    assert bvh.fps == pytest.approx(30.0, rel=1e-4) and len(bvh.values) == 45
    pos = bvh_world_positions(bvh)
    n = bvh.names
    thigh = np.linalg.norm(pos[:, n.index("LeftLeg")] - pos[:, n.index("LeftUpLeg")], axis=-1)
    np.testing.assert_allclose(thigh, 42.0, atol=1e-9)  # bones keep their length whatever the rotations
    # knee bent 70 degrees at the top of the step: hip-ankle distance shrinks by the law of cosines
    hip_ankle = np.linalg.norm(pos[:, n.index("LeftFoot")] - pos[:, n.index("LeftUpLeg")], axis=-1)
    assert hip_ankle.min() == pytest.approx(np.sqrt(42**2 + 41**2 - 2 * 42 * 41 * np.cos(np.radians(110))), abs=0.5)
    human = load_bvh(path)
    assert human.info["unit_scale"] == 0.01 and human.info["up_axis"] == "y"
    assert abs(np.percentile(np.minimum(human.joint("left_foot")[:, 2], human.joint("right_foot")[:, 2]), 2)) < 1e-6
    assert human.joint("head")[:, 2].min() > 1.4  # metres, z up
    assert set(human.derived) == {"left_hand", "right_hand"}  # hands from the forearms; collars/spine measured


def test_bvh_retargets_with_planted_feet(tmp_path, retargeter):
    path = tmp_path / "step.bvh"
    path.write_text(_bvh_text())
    res = retargeter.retarget(load_bvh(path), name="step")
    rep = res.report
    assert rep.limit_violations == 0 and rep.penetration_cm < 1.0 and rep.skate_cm_s < 2.0, rep
    assert 0.2 < res.contacts.mean() < 0.9  # stepping: each foot down part of the cycle
    lifted = res.clip.body_pos_w[:, res.clip.body_index(("left_ankle_roll_link",)), 2].max()
    assert lifted > retargeter.floor.stance_z + 0.05  # the step is carried over to the G1


def test_named_positions_and_smpl_layout_inputs(tmp_path, retargeter):
    ms = load_motion_set("deepmimic")
    fetch_data("deepmimic", log=lambda *_: None, clips=["dm_jump"])
    raw = raw_dir(ms)
    human = load_deepmimic(raw / ms.source["motions_dir"] / "humanoid3d_jump.txt",
                           DeepMimicSkeleton.from_urdf(raw / ms.source["skeleton"]))
    human = replace(human, joints=human.joints[:50], info={**human.info, "times": human.info["times"][:50]})
    direct = retargeter.retarget(human, name="jump")
    # SMPL layout, y up, centimetres: found out from the data and brought back to the same clip
    yup_cm = np.stack([human.joints[..., 0], human.joints[..., 2], -human.joints[..., 1]], axis=-1) * 100.0
    np.savez(tmp_path / "smpl.npz", joints=yup_cm, fps=np.array(human.fps))
    via_smpl = load_positions_npz(tmp_path / "smpl.npz")
    assert via_smpl.info["up_axis"] == "y" and via_smpl.info["unit_scale"] == 0.01
    res = retargeter.retarget(via_smpl, name="jump")
    # the positions file carries one fps, DeepMimic's frames their own times: compare loosely
    assert abs(res.report.fit_error_mm - direct.report.fit_error_mm) < 5.0
    assert res.report.skate_cm_s < 2.0 and res.report.limit_violations == 0
    # named positions with a mocap system's own names and a user joint map (YAML)
    names = [f"marker_{n}" for n in SMPL_JOINT_NAMES]
    np.savez(tmp_path / "named.npz", positions=human.joints, joint_names=np.array(names), fps=np.array(human.fps))
    with pytest.raises(HumanMotionError, match="not found among"):
        load_positions_npz(tmp_path / "named.npz")
    (tmp_path / "map.yaml").write_text("".join(f"marker_{n}: {n}\n" for n in SMPL_JOINT_NAMES))
    exe = Path(sys.executable).parent / "sonic-motion"
    out = subprocess.run([exe, "retarget", str(tmp_path / "named.npz"), "--joint-map", str(tmp_path / "map.yaml"),
                          "--out", str(tmp_path / "clips"), "--plot"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    clip = load_clip(tmp_path / "clips" / "named.npz")
    report = json.loads((tmp_path / "clips" / "retarget_report.json").read_text())[0]
    assert report["limit_violations"] == 0 and report["skate_cm_s"] < 2.0 and report["fit_error_mm"] > 0
    assert clip.smpl_joints.shape == (clip.num_frames, 24, 3)
    assert (tmp_path / "clips" / "named.png").stat().st_size > 20_000
