"""Motion library: canonical clips, validation, importers, synthetic set, sampling, CLI."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sonic_deploy.motion import MotionFormatError, MotionLibrary, load_clip, save_clip
from sonic_deploy.motion.importers import import_beyondmimic_npz, import_csv, import_pkl
from sonic_deploy.motion.kinematics import Kinematics
from sonic_deploy.motion.safe_pickle import UnsafePickleError, safe_load_pickle
from sonic_deploy.motion.synth import MOTIONS, synthesize
from sonic_deploy.robots.g1 import G1, ISAACLAB_JOINT_ORDER
from sonic_deploy.utils.rotations import wxyz_to_xyzw

FEET = ("left_ankle_roll_link", "right_ankle_roll_link")
STANCE_Z = 0.0383  # ankle-roll origin height with the sole on the floor


@pytest.fixture(scope="module")
def kin():
    return Kinematics()


def test_synthetic_set_is_plausible(synthetic_motions):
    names = sorted(p.stem for p in synthetic_motions.glob("*.npz"))
    assert names == sorted(MOTIONS)
    for path in synthetic_motions.glob("*.npz"):
        clip = load_clip(path)
        assert clip.fps == 50 and clip.duration >= 6.0
        assert np.all(clip.joint_pos >= G1.joint_lower - 1e-6) and np.all(clip.joint_pos <= G1.joint_upper + 1e-6)
        feet_z = clip.body_pos_w[:, clip.body_index(FEET), 2]
        # at every frame at least one foot is on the floor, none goes through it, swings stay low
        assert feet_z.min() > STANCE_Z - 1e-3, clip.name
        assert np.all(feet_z.min(axis=1) < STANCE_Z + 1e-3), clip.name
        assert feet_z.max() < STANCE_Z + 0.08, clip.name
        # smooth: bounded joint velocity and acceleration
        acc = np.diff(clip.joint_vel, axis=0) * clip.fps
        assert np.abs(clip.joint_vel).max() < 6.0 and np.abs(acc).max() < 50.0, clip.name
        assert clip.smpl_joints.shape == (clip.num_frames, 24, 3) and clip.vr_pos.shape == (clip.num_frames, 3, 3)
        # starts standing at the default pose
        np.testing.assert_allclose(clip.joint_pos[0, 12:], G1.default_joint_pos[12:], atol=1e-5)


def test_synthesis_is_deterministic_and_walk_moves_forward(kin, synthetic_motions):
    again = synthesize("walk_slow", kin)
    saved = load_clip(synthetic_motions / "walk_slow.npz")
    np.testing.assert_array_equal(again.joint_pos.astype(np.float32), saved.joint_pos)
    assert saved.root_pos[-1, 0] > 1.0  # about 0.2 m/s over the walking part
    squat = load_clip(synthetic_motions / "squat.npz")
    assert squat.root_pos[:, 2].min() < 0.65


def test_velocities_match_finite_differences(synthetic_motions):
    clip = load_clip(synthetic_motions / "arm_waves.npz")
    fd = np.gradient(clip.body_pos_w.astype(np.float64), 1 / clip.fps, axis=0)
    np.testing.assert_allclose(clip.body_lin_vel_w[5:-5], fd[5:-5], atol=0.05)


def test_save_load_round_trip(tmp_path, kin):
    clip = synthesize("torso_twist", kin)
    path = save_clip(clip, tmp_path / "c.npz")
    back = load_clip(path)
    assert back.joint_names == G1.joint_names and back.name == "torso_twist"
    np.testing.assert_array_equal(back.body_quat_w, clip.body_quat_w)
    assert not list(tmp_path.glob("*.tmp"))


def _write_npz(path: Path, **overrides):
    clip = load_clip(path.parent / "good.npz")
    arrays = {k: getattr(clip, k) for k in ("joint_pos", "joint_vel", "body_pos_w", "body_quat_w",
                                            "body_lin_vel_w", "body_ang_vel_w")}
    arrays.update(fps=np.array(50.0), joint_names=np.array(clip.joint_names), body_names=np.array(clip.body_names))
    arrays.update(overrides)
    np.savez(path, **arrays)
    return path


@pytest.fixture
def good_clip_dir(tmp_path, kin):
    save_clip(synthesize("stand_idle", kin), tmp_path / "good.npz")
    return tmp_path


def test_malformed_clips_get_one_line_errors(good_clip_dir):
    good = load_clip(good_clip_dir / "good.npz")
    truncated = good_clip_dir / "truncated.npz"
    truncated.write_bytes((good_clip_dir / "good.npz").read_bytes()[:500])
    nan = good.joint_pos.copy()
    nan[3, 7] = np.nan
    cases = {
        truncated: "truncated or corrupt",
        _write_npz(good_clip_dir / "nan.npz", joint_pos=nan): "field 'joint_pos' has a non-finite value at index (3, 7)",
        _write_npz(good_clip_dir / "joints.npz", joint_pos=good.joint_pos[:, :28]): "field 'joint_pos' expected shape",
        _write_npz(good_clip_dir / "quat.npz", body_quat_w=good.body_quat_w * 2): "not a unit quaternion",
        _write_npz(good_clip_dir / "fps.npz", fps=np.array(0.0)): "field 'fps' must be",
        _write_npz(good_clip_dir / "objs.npz", joint_names=np.array([object()] * 29, dtype=object)): "refused",
    }
    for path, expected in cases.items():
        with pytest.raises(MotionFormatError) as err:
            load_clip(path)
        message = str(err.value)
        assert str(path) in message and expected in message, message
        assert "\n" not in message


class _Payload:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickle_with_object_reference_is_refused_without_running(tmp_path):
    import joblib

    marker = tmp_path / "was_executed"
    for writer in (lambda obj, p: joblib.dump(obj, p), lambda obj, p: pickle.dump(obj, open(p, "wb"))):
        path = tmp_path / "evil.pkl"
        writer({"clip": {"dof": np.zeros((2, 29)), "x": _Payload(str(marker))}}, path)
        with pytest.raises(UnsafePickleError, match="refuses to load global 'posix.mkdir'"):
            safe_load_pickle(path)
        assert not marker.exists()


def test_reference_pkl_written_by_joblib_imports(tmp_path, kin):
    import joblib

    src = synthesize("arm_waves", kin)
    T = src.num_frames
    data = {"arm_waves": {
        "root_trans_offset": src.root_pos.astype(np.float64),
        "root_rot": wxyz_to_xyzw(src.root_quat.astype(np.float64)),
        "dof": src.joint_pos,
        "pose_aa": np.zeros((T, 24, 3), dtype=np.float32),
        "smpl_joints": src.smpl_joints,
        "fps": 50,
    }}
    for compress in (0, 3):
        path = tmp_path / f"motions_{compress}.pkl"
        joblib.dump(data, path, compress=compress)
        (clip,) = import_pkl(path, kin)
        np.testing.assert_allclose(clip.body_pos_w, src.body_pos_w, atol=1e-5)
        np.testing.assert_allclose(clip.smpl_joints, src.smpl_joints, atol=1e-6)
    bad = tmp_path / "bad.pkl"
    joblib.dump({"c": {"root_trans_offset": np.zeros((5, 3)), "root_rot": np.zeros((5, 4)), "dof": np.zeros((5, 28)),
                       "fps": 30}}, bad)
    with pytest.raises(MotionFormatError, match=r"bad.pkl\[c\]: field 'dof' expected shape \[T, 29\]"):
        import_pkl(bad, kin)


def test_csv_and_beyondmimic_imports(tmp_path, kin):
    src = synthesize("squat", kin)
    rows = np.concatenate([src.root_pos, wxyz_to_xyzw(src.root_quat), src.joint_pos], axis=1)
    np.savetxt(tmp_path / "squat.csv", rows, delimiter=",")
    clip = import_csv(tmp_path / "squat.csv", fps=50, kin=kin)
    np.testing.assert_allclose(clip.body_pos_w, src.body_pos_w, atol=1e-4)
    np.savetxt(tmp_path / "short.csv", rows[:, :30], delimiter=",")
    with pytest.raises(MotionFormatError, match="expected 36 columns"):
        import_csv(tmp_path / "short.csv", kin=kin)

    isaac = src.joint_pos[:, [G1.joint_names.index(n) for n in ISAACLAB_JOINT_ORDER]]
    np.savez(tmp_path / "bm.npz", fps=np.array([50]), joint_pos=isaac, joint_vel=np.zeros_like(isaac),
             body_pos_w=src.body_pos_w, body_quat_w=src.body_quat_w)
    clip = import_beyondmimic_npz(tmp_path / "bm.npz", kin=kin)
    np.testing.assert_allclose(clip.joint_pos, src.joint_pos, atol=1e-6)
    np.testing.assert_allclose(clip.body_pos_w, src.body_pos_w, atol=1e-4)


def test_library_sampling_follows_weights(synthetic_motions):
    lib = MotionLibrary.from_paths(synthetic_motions)
    assert len(lib) == 6
    weights = np.arange(1, 7, dtype=float)
    lib.set_weights(weights)
    ids, times = lib.sample(60000, np.random.default_rng(0))
    freq = np.bincount(ids, minlength=6) / len(ids)
    np.testing.assert_allclose(freq, weights / weights.sum(), atol=0.01)
    assert np.all(times >= 0) and np.all(times <= lib.durations[ids])
    cat = lib.concatenated()
    look = lib.lookup(np.array([2, 2]), np.array([0.0, 1.01]))
    clip = lib.clips[2]
    np.testing.assert_array_equal(cat["joint_pos"][look.i0[0]], clip.joint_pos[0])
    assert look.i0[1] == lib.offsets[2] + 50 and look.alpha[1] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        lib.set_weights(np.zeros(6))


def test_cli_inspect_plot_and_help(tmp_path, synthetic_motions):
    exe = Path(sys.executable).parent
    out = subprocess.run([exe / "sonic-motion", "inspect", str(synthetic_motions / "squat.npz"), "--plot",
                          str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    png = tmp_path / "squat.png"
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 20000
    assert "squat" in out.stdout
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really")
    out = subprocess.run([exe / "sonic-motion", "inspect", str(bad)], capture_output=True, text=True)
    assert out.returncode == 1 and str(bad) in out.stderr and "Traceback" not in out.stderr
    for cmd in ("sonic-train", "sonic-eval", "sonic-monitor", "sonic-export", "sonic-motion", "sonic-deploy"):
        res = subprocess.run([exe / cmd, "--help"], capture_output=True, text=True)
        assert res.returncode == 0 and "usage" in res.stdout.lower(), (cmd, res.stderr)


def test_atomic_write_leaves_old_file_on_failure_and_readable_mode(tmp_path):
    from sonic_deploy.utils.atomic import atomic_path

    target = tmp_path / "artifact.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash while writing")
    assert target.read_bytes() == b"old" and list(tmp_path.iterdir()) == [target]
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o044 == 0o044  # group/other can read (not mkstemp's 0600)
