"""sonic-eval on a tiny trained checkpoint: metrics end to end, replay sanity, headless video with the ghost."""

from __future__ import annotations

import csv
import json
import math

import imageio.v2 as imageio
import numpy as np
import pytest
from omegaconf import OmegaConf

from sonic_train.eval.metrics import SCALARS

MOTIONS = ["arm_waves", "squat", "stand_idle", "step_in_place", "torso_twist", "walk_slow"]


def test_eval_cli_metrics_end_to_end(tiny_run, tmp_path, compose_config):
    from sonic_train.cli.eval import run

    run_dir, ckpts = tiny_run
    cfg = compose_config("base_eval", [f"+checkpoint={ckpts[-1]}", "+run_once=True", "max_episode_s=2.0",
                                    f"output_dir={tmp_path / 'ev'}", "num_envs=3"])
    summary = run(cfg)
    data = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert data["iteration"] == 2 and data["encoder"] == "g1"
    per = data["per_motion"]
    assert [m["motion"] for m in per] == MOTIONS  # every motion once, with 3 envs for 6 motions
    for m in per:
        assert m["success"] in (0, 1)
        assert (m["termination"] == "") == (m["success"] == 1)
        for k in SCALARS:
            assert math.isfinite(m[k]) and m[k] > 0, (m["motion"], k, m[k])
        assert m["mpjpe_g_mm"] < 2000 and m["joint_pos_err"] < 3.0
        assert len(m["body_err_mm"]) == 14 and all(v >= 0 for v in m["body_err_mm"].values())
        assert 0 < m["episode_s"] <= 2.0 + 1e-6 and 0 < m["progress"] <= 1.0
        assert m["steps"] == round(m["episode_s"] / 0.02)
    agg = data["aggregate"]
    assert agg["num_motions"] == 6
    assert agg["success_rate"] == pytest.approx(sum(m["success"] for m in per) / 6)
    assert agg["mpjpe_g_mm"] == pytest.approx(np.mean([m["mpjpe_g_mm"] for m in per]))
    rows = list(csv.DictReader(open(tmp_path / "ev" / "metrics.csv")))
    assert [r["motion"] for r in rows] == MOTIONS and "body_err_mm/pelvis" in rows[0]
    assert summary["aggregate"]["num_motions"] == 6


def test_replay_tracks_reference_exactly(tiny_run):
    """With the reference played kinematically the metrics must read ~0 and every motion succeeds."""
    from sonic_train.eval.evaluator import Evaluator

    _, ckpts = tiny_run
    ev = Evaluator(str(ckpts[-1]), OmegaConf.create({"replay": True, "max_episode_s": 1.0}),
                   motion_names=["walk_slow", "squat"])
    res = ev.run()
    ev.close()
    for m in res:
        assert m["success"] == 1
        assert m["mpjpe_g_mm"] < 1.0 and m["mpjpe_l_mm"] < 1.0 and m["root_ori_err"] < 1e-3, m
        assert m["joint_pos_err"] < 1e-4


def test_train_only_parts_dropped(tiny_run):
    from sonic_train.eval.evaluator import Evaluator

    _, ckpts = tiny_run
    ev = Evaluator(str(ckpts[-1]), OmegaConf.create({"max_episode_s": 0.2}), motion_names=["squat"])
    tenv = ev.tenv
    assert tenv.event_manager.terms == [] and tenv.curriculum_manager.terms == []
    names = [t.name for t in tenv.termination_manager.terms]
    assert "anchor_ori" not in names and "foot_xyz" not in names and "fall_height" in names
    assert float(tenv.encoder_sample_probs[0]) == 1.0 and int(tenv.encoder_index[0]) == 0
    assert float(tenv.command.times[0]) == 0.0
    ev.close()


def test_headless_video_with_ghost(tiny_run, tmp_path):
    from sonic_train.eval.evaluator import Evaluator
    from sonic_train.eval.video import EvalVideoRecorder

    _, ckpts = tiny_run
    ev = Evaluator(str(ckpts[-1]), OmegaConf.create({"max_episode_s": 0.8}), motion_names=["arm_waves"])
    rec = EvalVideoRecorder(ev, tmp_path / "videos", {"width": 256, "height": 192})
    ev.run()
    path = rec.paths["arm_waves"]
    frames = imageio.mimread(str(path))
    assert len(frames) == 40  # 0.8 s at 50 Hz
    assert frames[0].shape == (192, 256, 3)
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 0.5  # the robot moves
    data = ev.tenv.backend.datas[0]
    ref = ev.tenv.command.ref
    rec.renderer.pose_ghost(ref.root_pos[0].numpy(), ref.root_quat[0].numpy(), ref.joint_pos[0].numpy())
    with_ghost = rec.renderer.render(data, ghost=True).astype(int)
    without = rec.renderer.render(data, ghost=False).astype(int)
    changed = (np.abs(with_ghost - without).sum(-1) > 30).mean()
    assert changed > 0.02, changed  # the ghost covers a visible part of the image
    # the ghost is blue-tinted and translucent: changed pixels lean to blue
    mask = np.abs(with_ghost - without).sum(-1) > 30
    assert with_ghost[mask][:, 2].mean() > with_ghost[mask][:, 0].mean()
    rec.close()
    ev.close()


def test_worst_motions_from_metrics_file(tiny_run, tmp_path, compose_config):
    from sonic_train.cli.eval import run

    _, ckpts = tiny_run
    fake = {"per_motion": [{"motion": n, "success": 1, "progress": 1.0, "mpjpe_g_mm": float(i)}
                           for i, n in enumerate(MOTIONS)]}
    fake["per_motion"][2].update(success=0, progress=0.3)
    (tmp_path / "prev.json").write_text(json.dumps(fake))
    cfg = compose_config("base_eval", [f"+checkpoint={ckpts[-1]}", "+run_once=True", "max_episode_s=0.3",
                                    f"+metrics_file={tmp_path / 'prev.json'}", f"output_dir={tmp_path / 'ev'}",
                                    "video.num_videos=2", "video.width=160", "video.height=120"])
    summary = run(cfg)
    # the failure first, then the largest MPJPE
    assert [m["motion"] for m in summary["per_motion"]] == ["stand_idle", "walk_slow"]
    vids = sorted(p.name for p in (tmp_path / "ev" / "worst" / "videos").glob("*.mp4"))
    assert vids == ["stand_idle.mp4", "walk_slow.mp4"]
    assert len(imageio.mimread(str(tmp_path / "ev" / "worst" / "videos" / "walk_slow.mp4"))) == 15
