"""The real motion set: DeepMimic's mocap from the pybullet wheel, retargeted to the G1 (`sonic-motion fetch-data`).

The install fetches the set once; these tests reuse it (fetch_data returns at once when every clip is up to
date) and check every clip file on disk against the G1 model, then retarget one short clip afresh.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from sonic_deploy.motion import load_clip
from sonic_deploy.motion.deepmimic import fetch_data, raw_dir
from sonic_deploy.motion.kinematics import Kinematics
from sonic_deploy.motion.motion_sets import MotionSetError, check_not_held_out, load_motion_set
from sonic_deploy.motion.retarget.deepmimic import DeepMimicSkeleton, load_deepmimic
from sonic_deploy.motion.retarget.pipeline import Retargeter
from sonic_deploy.motion.retarget.quality import FloorGeometry, assess
from sonic_deploy.robots.g1 import G1
from sonic_deploy.utils.rotations import tilt_deg

STANDING = ("dm_walk", "dm_run", "dm_jump", "dm_kick", "dm_spinkick", "dm_punch", "dm_spin", "dm_dance_a",
            "dm_dance_b", "dm_walker_walk_forward", "dm_walker_turn_left0", "dm_walker_turn_left1",
            "dm_walker_turn_right0", "dm_walker_turn_right1")


@pytest.fixture(scope="module")
def motion_set():
    return load_motion_set("deepmimic")


@pytest.fixture(scope="module")
def real_set(motion_set):
    out, rows = fetch_data("deepmimic", log=lambda *_: None)
    return out, {r["clip"]: r for r in rows}


@pytest.fixture(scope="module")
def floor():
    return FloorGeometry(Kinematics().model)


def test_split_is_fixed_by_clip_and_disjoint(motion_set, real_set):
    out, _ = real_set
    assert set(motion_set.train).isdisjoint(motion_set.held_out)
    assert "dm_walker_walk_forward" in motion_set.held_out  # README command 1's clip
    assert set(motion_set.train) | set(motion_set.held_out) == set(STANDING)
    assert sorted(p.stem for p in (out / "train").glob("*.npz")) == sorted(motion_set.train)
    assert sorted(p.stem for p in (out / "held_out").glob("*.npz")) == sorted(motion_set.held_out)
    check_not_held_out(list(motion_set.train))
    with pytest.raises(MotionSetError, match="held out"):
        check_not_held_out(["dm_walk", "dm_walker_walk_forward"])


@pytest.mark.parametrize("name", STANDING)
def test_standing_clip_meets_the_bar(name, motion_set, real_set, floor):
    out, rows = real_set
    row = rows[name]
    clip = load_clip(out / motion_set.split_of(name) / f"{name}.npz")
    # the retargeter's own report (contact = the human's planted feet)
    assert row["skate_cm_s"] < 2.0 and row["penetration_cm"] < 1.0, row
    assert row["limit_violations"] == 0 and row["velocity_violations"] == 0, row
    assert row["fit_error_mm"] is not None and 0 < row["fit_error_mm"] < 40, row
    # measured again from the file alone (contact = G1 foot within 5 mm of standing height)
    rep = assess(clip, floor)
    assert rep.limit_violations == 0 and rep.penetration_cm < 1.0, rep
    assert rep.skate_cm_s < 2.0, rep
    assert 0.05 < rep.contact_frac, rep  # the feet do stand on the floor (runs and dances: briefly)
    assert clip.fps == 50 and clip.joint_names == G1.joint_names
    assert clip.smpl_joints is not None and clip.vr_pos is not None


def test_clips_carry_the_humans_joints_not_the_g1s(motion_set, real_set):
    out, _ = real_set
    clip = load_clip(out / "held_out" / "dm_walker_walk_forward.npz")
    g1 = Kinematics().from_joint_trajectory("g1", clip.fps, clip.root_pos, clip.root_quat, clip.joint_pos)
    # the human's own skeleton: its joints differ from the G1 stand-ins by centimetres
    diff = np.linalg.norm(clip.smpl_joints - g1.smpl_joints, axis=-1)
    assert diff.mean() > 0.02
    # but they move with the G1 (same world frame, same scale): pelvis within a few cm of the G1's hip centre
    assert np.linalg.norm(clip.smpl_joints[:, 0] - clip.root_pos, axis=-1).max() < 0.2
    # VR head from the human's head: above the G1 torso, and the walk travels (about 1 m/s in DeepMimic)
    assert np.all(clip.vr_pos[:, 0, 2] > clip.root_pos[:, 2] + 0.25)
    assert clip.root_pos[-1, 0] - clip.root_pos[0, 0] > 3.0


def test_deepmimic_skeleton_is_rigid_and_stands_on_the_floor(motion_set, real_set):
    raw = raw_dir(motion_set)
    skel = DeepMimicSkeleton.from_urdf(raw / motion_set.source["skeleton"])
    assert skel.offsets["right_knee"][1] == pytest.approx(-1.686184 * 0.25)
    human = load_deepmimic(raw / motion_set.source["motions_dir"] / "humanoid3d_walk.txt", skel)
    thigh = np.linalg.norm(human.joint("left_knee") - human.joint("left_hip"), axis=-1)
    np.testing.assert_allclose(thigh, 1.686184 * 0.25, atol=1e-9)
    # y-up to z-up, x forward, left is +y: the walk goes forward and the left hip is on the left
    assert human.joint("pelvis")[-1, 0] > 1.0
    assert np.all(human.joint("left_hip")[:, 1] > human.joint("right_hip")[:, 1])
    soles = np.minimum(human.joint("left_ankle")[:, 2], human.joint("right_ankle")[:, 2]) - skel.sole_below_ankle
    assert abs(soles.min()) < 0.02  # DeepMimic's floor is at height 0


def test_retarget_a_short_clip_afresh(motion_set, real_set):
    raw = raw_dir(motion_set)
    skel = DeepMimicSkeleton.from_urdf(raw / motion_set.source["skeleton"])
    human = load_deepmimic(raw / motion_set.source["motions_dir"] / "humanoid3d_jump.txt", skel)
    rt = Retargeter()
    res = rt.retarget(human, name="jump")
    rep = res.report
    assert rep.skate_cm_s < 2.0 and rep.penetration_cm < 1.0 and rep.limit_violations == 0
    assert 0.6 < res.scale < 0.9  # G1 legs are about three quarters of this subject's
    # the planted feet really are still: every planted frame's foot within 1 mm of the phase's position
    feet = res.clip.body_pos_w[:, res.clip.body_index(G1.feet_bodies), :2]
    for i in range(2):
        planted = res.contacts[:, i]
        edges = np.flatnonzero(np.diff(planted.astype(int)) != 0) + 1
        for seg in np.split(np.arange(len(planted)), edges):
            if planted[seg[0]] and len(seg) > 4:
                inner = feet[seg[1:-1], i]
                assert np.linalg.norm(inner - inner.mean(0), axis=-1).max() < 0.003
                # and flat on the floor, but where the G1's ankle is at its limit (the deep crouch before the jump)
                quat = res.clip.body_quat_w[seg[1:-1], res.clip.body_index(G1.feet_bodies)[i]]
                ankle = G1.joint_index([f"{('left', 'right')[i]}_ankle_pitch_joint"])[0]
                free = res.clip.joint_pos[seg[1:-1], ankle] > G1.joint_lower[ankle] + 0.01
                assert tilt_deg(quat[free]).max(initial=0.0) < 2.0 and tilt_deg(quat).max() < 10.0
                z = res.clip.body_pos_w[seg[1:-1], res.clip.body_index(G1.feet_bodies)[i], 2]
                # on the floor; a foot tipped by its ankle limit lifts the body until its toe clears the floor
                assert rt.floor.stance_z - 0.001 < z.min() and z.max() < rt.floor.stance_z + 0.02
    # the quality table beside the clips holds the same numbers as the report
    rows = {r["clip"]: r for r in json.loads((real_set[0] / "quality.json").read_text())}
    assert rows["dm_jump"]["frames"] == res.clip.num_frames
