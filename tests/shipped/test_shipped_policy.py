"""The shipped policy: trained by this stack, exported, and tracking in sim-to-sim exactly as evaluation says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sonic_deploy.motion.motion_sets import load_motion_set
from sonic_deploy.policy.runner import PolicyRunner
from sonic_deploy.sim2sim import Sim2SimConfig, run, run_each_clip

SHIPPED = Path(__file__).resolve().parents[2] / "policies" / "g1_sonic_smoke"
STANDING_AND_SLOW = ("stand_idle", "step_in_place", "walk_slow", "torso_twist")
HELD_OUT_DIR = load_motion_set("deepmimic").default_out() / "held_out"
# sim2sim on the held-out real clips: measured 85 / 202 / 129 mm (policies/g1_sonic_real/SHIPPED.md compares)
HELD_OUT_ROOT_MPJPE_MM = {"dm_walker_walk_forward": 100.0, "dm_walker_turn_right1": 230.0, "dm_dance_b": 150.0}
needs_clips = pytest.mark.skipif(not HELD_OUT_DIR.is_dir(),
                                 reason=f"no held-out clips in {HELD_OUT_DIR}: run `sonic-motion fetch-data`")


@pytest.fixture(scope="module")
def sim2sim_results(synthetic_motions):
    return run_each_clip(SHIPPED / "policy.onnx", sorted(synthetic_motions.glob("*.npz")))


def test_artifact_meets_the_deploy_contract():
    runner = PolicyRunner(SHIPPED / "policy.onnx")
    assert runner.contract.encoder == "g1"
    assert (SHIPPED / "model.pt").is_file() and (SHIPPED / "config.yaml").is_file()
    assert "iteration" in (SHIPPED / "SHIPPED.md").read_text()


def test_tracks_standing_and_slow_motions_without_a_fall(sim2sim_results):
    for name in STANDING_AND_SLOW:
        r = sim2sim_results[name]
        assert r["success"] == 1 and not r["fell"], (name, r)
        assert r["mpjpe_root_mm"] < 70.0, (name, r)  # measured 23-40 mm for the shipped checkpoint
    assert sim2sim_results["stand_idle"]["mpjpe_root_mm"] < 45.0


def test_eval_of_the_checkpoint_agrees_with_sim2sim_of_its_export(tmp_path, synthetic_motions, sim2sim_results):
    from sonic_train.cli.eval import main as eval_main

    out = tmp_path / "eval"
    assert eval_main([f"+checkpoint={SHIPPED / 'model.pt'}", "+run_once=True", f"+output_dir={out}",
                      f"+motions={synthetic_motions}", "+quiet=True"]) in (0, None)
    metrics = json.loads((out / "metrics.json").read_text())
    eval_success = {m["motion"]: int(m["success"]) for m in metrics["per_motion"]}
    assert set(eval_success) == set(sim2sim_results)
    assert eval_success == {k: v["success"] for k, v in sim2sim_results.items()}


def test_through_dds(synthetic_motions):
    report = run(SHIPPED / "policy.onnx", synthetic_motions / "stand_idle.npz",
                 Sim2SimConfig(duration=4.0, through_dds=True, domain_id=57))[0]
    assert report.completed and not report.fell and not report.faults
    assert report.dds["states_bad_crc"] == 0 and report.dds["bridge_commands_bad_crc"] == 0


@needs_clips
def test_held_out_real_clips_without_a_fall():
    """The default policy on the held-out real clips (README command 1 runs the walk): up through every clip,
    tracking in place (global MPJPE 0.4-2.3 m: it does not travel), root-relative MPJPE pinned."""
    results = run_each_clip(SHIPPED / "policy.onnx", sorted(HELD_OUT_DIR.glob("*.npz")))
    assert sorted(results) == sorted(load_motion_set("deepmimic").held_out)
    for clip, r in results.items():
        assert r["success"] == 1 and not r["fell"], (clip, r)
        assert r["mpjpe_root_mm"] < HELD_OUT_ROOT_MPJPE_MM[clip], (clip, r)


@needs_clips
def test_held_out_walk_through_dds_like_readme_command_one():
    report = run(SHIPPED / "policy.onnx", HELD_OUT_DIR / "dm_walker_walk_forward.npz",
                 Sim2SimConfig(duration=5.0, through_dds=True, domain_id=58))[0]
    assert report.completed and not report.fell and not report.faults
    assert report.dds["states_bad_crc"] == 0 and report.dds["bridge_commands_bad_crc"] == 0


def test_decoder_graph_for_the_token_input_decodes_the_policy_tokens():
    import numpy as np
    import onnxruntime as ort

    main = ort.InferenceSession(str(SHIPPED / "policy.onnx"), providers=["CPUExecutionProvider"])
    dec = ort.InferenceSession(str(SHIPPED / "policy.decoder.onnx"), providers=["CPUExecutionProvider"])
    dims = {i.name: i.shape[1] for i in main.get_inputs()}
    rng = np.random.default_rng(0)
    feeds = {name: rng.normal(size=(4, d)).astype(np.float32) for name, d in dims.items()}
    actions, tokens = main.run(["actions", "token_indices"], feeds)
    (decoded,) = dec.run(["actions"], {"token_indices": tokens, "obs_proprio": feeds["obs_proprio"]})
    np.testing.assert_allclose(decoded, actions, atol=1e-5)
