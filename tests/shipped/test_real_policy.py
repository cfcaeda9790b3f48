"""g1_sonic_real (the policy fine-tuned on the real training clips) on the held-out real clips.

Pins what the shipped checkpoint measures on clips training never sampled (SHIPPED.md has the tables). It does
not reach the goal: in sim-to-sim it takes the first steps of each held-out clip and falls 1.5-2 s in (success 0
of 3, as ``sonic-eval`` says too), so the pins are on tracking error while it is up (root-relative MPJPE, joint
error) and on eval and sim-to-sim agreeing clip by clip; a change that makes it fall sooner or track worse fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sonic_deploy.motion.motion_sets import load_motion_set
from sonic_deploy.policy.runner import PolicyRunner
from sonic_deploy.sim2sim import run_each_clip

SHIPPED = Path(__file__).resolve().parents[2] / "policies" / "g1_sonic_real"
MOTION_SET = load_motion_set("deepmimic")
HELD_OUT_DIR = MOTION_SET.default_out() / "held_out"
# sim2sim pins of the shipped checkpoint (measured 144 / 124 / 221 mm and 0.154 / 0.140 / 0.214 rad; ~15% room)
ROOT_MPJPE_MM = {"dm_walker_walk_forward": 165.0, "dm_walker_turn_right1": 145.0, "dm_dance_b": 255.0}
JOINT_ERR_RAD = {"dm_walker_walk_forward": 0.18, "dm_walker_turn_right1": 0.16, "dm_dance_b": 0.245}

needs_clips = pytest.mark.skipif(not HELD_OUT_DIR.is_dir(),
                                 reason=f"no held-out clips in {HELD_OUT_DIR}: run `sonic-motion fetch-data`")


@pytest.fixture(scope="module")
def held_out_sim2sim():
    return run_each_clip(SHIPPED / "policy.onnx", sorted(HELD_OUT_DIR.glob("*.npz")))


def test_artifacts_meet_the_deploy_contract():
    for name, enc in (("policy.onnx", "g1"), ("policy_smpl.onnx", "smpl"), ("policy_teleop.onnx", "teleop")):
        assert PolicyRunner(SHIPPED / name).contract.encoder == enc
    text = (SHIPPED / "SHIPPED.md").read_text()
    assert "total env steps" in text and "total wall time" in text and "held_out" in text
    assert sorted(json.loads((SHIPPED / "sim2sim.json").read_text())) == sorted(MOTION_SET.train + MOTION_SET.held_out)


@needs_clips
def test_held_out_tracking_error_pins(held_out_sim2sim):
    assert sorted(held_out_sim2sim) == sorted(MOTION_SET.held_out)
    for clip, r in held_out_sim2sim.items():
        assert r["split"] == "held_out", (clip, r)
        assert r["mpjpe_root_mm"] < ROOT_MPJPE_MM[clip], (clip, r)
        assert r["joint_error_rad"] < JOINT_ERR_RAD[clip], (clip, r)


@needs_clips
def test_eval_of_the_checkpoint_agrees_with_sim2sim_per_clip(tmp_path, held_out_sim2sim):
    from sonic_train.cli.eval import main as eval_main

    out = tmp_path / "eval"
    assert eval_main([f"+checkpoint={SHIPPED / 'model.pt'}", "+run_once=True", f"+output_dir={out}",
                      f"motions={HELD_OUT_DIR}", "+quiet=True"]) in (0, None)
    per_clip = {m["motion"]: m for m in json.loads((out / "metrics.json").read_text())["per_motion"]}
    assert set(per_clip) == set(held_out_sim2sim)
    for clip, m in per_clip.items():
        s = held_out_sim2sim[clip]
        assert m["success"] == s["success"], (clip, m, s)
        # same physics, different start (eval: on the reference frame; sim2sim: damping -> ramp from standing)
        assert abs(m["mpjpe_l_mm"] - s["mpjpe_root_mm"]) < 0.5 * s["mpjpe_root_mm"], (clip, m, s)
