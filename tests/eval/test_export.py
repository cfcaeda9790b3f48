"""sonic-export: parity for every encoder, the deploy runner accepts the artifact, a tampered one is refused."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from sonic_deploy.policy.contract import METADATA_KEY, ContractError
from sonic_deploy.policy.runner import PolicyRunner
from sonic_deploy.robots.g1 import G1
from sonic_train.export import OPSET, export_checkpoint


@pytest.mark.parametrize("encoder", ["g1", "smpl", "teleop"])
def test_export_parity_and_runner(tiny_run, tmp_path, encoder):
    _, ckpts = tiny_run
    res = export_checkpoint(ckpts[-1], tmp_path / f"{encoder}.onnx", encoder=encoder)
    for label in ("random", "batch1", "recorded"):
        assert res.parity[f"{label}/max_abs_diff"] < 1e-5
        assert res.parity[f"{label}/token_mismatch_rows"] == 0
    assert res.recorded_steps >= 40
    m = onnx.load(str(res.path))
    assert m.opset_import[0].version == OPSET
    assert [i.name for i in m.graph.input] == ["obs_encoder", "obs_proprio"]
    assert [o.name for o in m.graph.output] == ["actions", "token_indices"]
    assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    meta = json.loads({p.key: p.value for p in m.metadata_props}[METADATA_KEY])
    assert meta["encoder"] == encoder and meta["joint_names"] == list(G1.joint_names)
    assert meta["fsq_levels"] == [8, 5, 5, 5] and meta["num_tokens"] == 2
    assert meta["future_frames"] == 10 and meta["future_dt"] == pytest.approx(0.1)
    assert len(meta["config_hash"]) == 16 and meta["version"]
    prop = meta["observation_layout"]["obs_proprio"]
    assert [t["name"] for t in prop] == ["base_ang_vel", "projected_gravity", "joint_pos_rel", "joint_vel",
                                         "last_action"]
    assert [t["history"] for t in prop] == [10] * 5 and prop[0]["scale"] == 0.25 and prop[3]["scale"] == 0.05
    enc = meta["observation_layout"]["obs_encoder"]
    want = {"g1": ["command_joint_pos_future", "command_joint_vel_future", "command_anchor_ori_future"],
            "smpl": ["smpl_joints_future", "command_anchor_ori_future"],
            "teleop": ["vr_3point_pos", "vr_3point_ori", "command_anchor_ori_future"]}[encoder]
    assert [t["name"] for t in enc] == want

    runner = PolicyRunner(res.path)  # the deploy side validates and accepts the contract
    c = runner.contract
    assert c.proprio_dim == 930 and c.encoder == encoder
    sess = ort.InferenceSession(str(res.path), providers=["CPUExecutionProvider"])
    out = sess.run(None, {"obs_encoder": np.zeros((7, c.encoder_dim), np.float32),
                          "obs_proprio": np.zeros((7, c.proprio_dim), np.float32)})
    assert out[0].shape == (7, 29) and out[1].shape == (7, 2) and out[1].dtype == np.int64  # dynamic batch
    a = runner.infer({"obs_encoder": np.zeros((1, c.encoder_dim), np.float32),
                      "obs_proprio": np.zeros((1, c.proprio_dim), np.float32)})
    assert a.shape == (29,) and np.isfinite(a).all()


def test_export_with_residual_input(tiny_run, tmp_path):
    _, ckpts = tiny_run
    res = export_checkpoint(ckpts[-1], tmp_path / "res.onnx", encoder="g1", residual=True)
    assert max(v for k, v in res.parity.items() if k.endswith("max_abs_diff")) < 1e-5
    m = onnx.load(str(res.path))
    assert [i.name for i in m.graph.input] == ["obs_encoder", "obs_proprio", "latent_residual"]
    runner = PolicyRunner(res.path)
    assert runner._residual is not None and runner._residual.shape == (1, 8)  # 2 tokens x 4 FSQ dims


def test_tampered_artifact_refused(tiny_run, tmp_path):
    _, ckpts = tiny_run
    res = export_checkpoint(ckpts[-1], tmp_path / "ok.onnx", encoder="g1")
    m = onnx.load(str(res.path))
    for p in m.metadata_props:
        if p.key == METADATA_KEY:
            d = json.loads(p.value)
            d["joint_names"][14] = "waist_pitch_joint_typo"
            p.value = json.dumps(d)
    bad = tmp_path / "bad.onnx"
    onnx.save(m, str(bad))
    with pytest.raises(ContractError) as exc:
        PolicyRunner(bad)
    assert exc.value.field == "joint_names" and "index 14" in str(exc.value)


def test_export_refuses_unknown_encoder(tiny_run, tmp_path):
    from sonic_train.export import ExportError

    _, ckpts = tiny_run
    with pytest.raises(ExportError, match="encoder"):
        export_checkpoint(ckpts[-1], tmp_path / "x.onnx", encoder="vision")
    assert not (tmp_path / "x.onnx").exists()


def test_future_spacing_is_the_one_the_env_computed_with():
    """The contract's future frames/dt: the term's params where the config sets them, its function's otherwise."""
    import inspect
    from types import SimpleNamespace

    from sonic_train.envs.mdp import observations as O
    from sonic_train.export.onnx_export import future_spacing

    def env_of(*params):
        terms = [SimpleNamespace(cfg=SimpleNamespace(func=O.smpl_joints_future, params=p)) for p in params]
        terms.append(SimpleNamespace(cfg=SimpleNamespace(func=O.base_ang_vel, params={})))
        return SimpleNamespace(observation_manager=SimpleNamespace(groups={"tokenizer": terms}))

    assert future_spacing(env_of({"num_future_frames": 5, "future_dt": 0.05})) == {(5, 0.05)}
    term_dt = inspect.signature(O.smpl_joints_future).parameters["future_dt"].default
    assert future_spacing(env_of({"num_future_frames": 5}, {"num_future_frames": 5, "future_dt": 0.2})) == {
        (5, term_dt), (5, 0.2)}
