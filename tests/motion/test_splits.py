"""The held-out split: fixed in the config, refused by training, reported apart by evaluation and sim2sim."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sonic_deploy.motion.deepmimic import fetch_data
from sonic_deploy.motion.motion_sets import MotionSetError, load_motion_set, split_means, split_of


def test_split_of_and_means_keep_held_out_apart():
    assert split_of("dm_walker_walk_forward") == "held_out" and split_of("dm_walk") == "train"
    assert split_of("dm_crawl") == "extra" and split_of("squat") is None
    rows = [{"motion": "dm_walk", "success": 1, "mpjpe": 30.0}, {"motion": "dm_run", "success": 0, "mpjpe": 50.0},
            {"motion": "dm_dance_b", "success": 0, "mpjpe": 90.0}, {"motion": "squat", "success": 1, "mpjpe": 10.0}]
    means = split_means(rows)
    assert means["train"] == {"num_motions": 2, "motions": ["dm_walk", "dm_run"], "success": 0.5, "mpjpe": 40.0}
    assert means["held_out"]["mpjpe"] == 90.0 and means["other"]["motions"] == ["squat"]


def test_eval_table_has_a_row_per_split():
    from sonic_train.eval.metrics import aggregate
    from sonic_train.eval.report import print_summary

    def row(name, ok, err):
        return {"motion": name, "success": ok, "progress": 1.0, "mpjpe_g_mm": err, "mpjpe_l_mm": err / 2,
                "joint_pos_err": 0.1, "joint_vel_err": 1.0, "root_pos_err_mm": err, "root_ori_err": 0.1,
                "termination": None, "episode_s": 5.0, "body_err_mm": {"pelvis": err}}

    rows = [row("dm_walk", 1, 100.0), row("dm_walker_walk_forward", 0, 300.0)]
    summary = {"checkpoint": "model_1.pt", "iteration": 1, "encoder": "g1", "aggregate": aggregate(rows),
               "by_split": {"held_out": aggregate(rows[1:]), "train": aggregate(rows[:1])}, "per_motion": rows}
    text = print_summary(summary)
    assert "HELD_OUT (1)" in text and "TRAIN (1)" in text


def test_training_refuses_held_out_clips(tmp_path):
    out, _ = fetch_data("deepmimic", log=lambda *_: None)
    exe = Path(sys.executable).parent / "sonic-train"
    run = subprocess.run([exe, "+exp=manager/universal_token/all_modes/sonic_smoke", f"+motions={out / 'held_out'}",
                          f"experiment_dir={tmp_path / 'run'}", "num_envs=2"], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode != 0
    assert "held out" in run.stderr + run.stdout and "dm_walker_walk_forward" in run.stderr + run.stdout
    assert not (tmp_path / "run" / "config.yaml").exists()
    with pytest.raises(MotionSetError):
        load_motion_set(tmp_path / "missing.yaml")
