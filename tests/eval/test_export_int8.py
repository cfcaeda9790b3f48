"""sonic-export at release size writes INT8 beside FP32, checked on the recorded rollout and in sim-to-sim; the runner
runs INT8 on a CPU only where the export's ``sonic.int8`` record says its tracking passed, and FP32 on request."""

from __future__ import annotations

import json
import shutil

import onnx
import pytest
import torch
from conftest import SMOKE, compose_cfg  # tests/eval is on sys.path (pytest rootdir-relative import)

from sonic_deploy.policy.contract import ContractError
from sonic_deploy.policy.quantize import INT8_METADATA_KEY
from sonic_deploy.policy.runner import PolicyRunner
from sonic_train.export import export_checkpoint
from sonic_train.export.int8 import RELEASE_PARAMS, Int8Tolerance, check_int8, param_count

RELEASE = "+exp=manager/universal_token/all_modes/sonic_release"


@pytest.fixture(scope="module")
def release_checkpoint(tmp_path_factory, synthetic_motions):
    """An (untrained: one short iteration) checkpoint at sonic_release sizes."""
    from sonic_train.cli.train import run

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("release_run")
    cfg = compose_cfg("base", [RELEASE, "num_envs=2", "algo.config.num_learning_iterations=1",
                               "algo.config.num_steps_per_env=4", "algo.config.num_mini_batches=1",
                               "algo.config.num_learning_epochs=1", f"experiment_dir={out}",
                               f"+motions={synthetic_motions}", "callbacks=[model_save]",
                               "callbacks.model_save.save_interval=1", "sim.num_threads=1"])
    run(cfg)
    return sorted(out.glob("model_*.pt"))[-1]


@pytest.fixture(scope="module")
def release_export(release_checkpoint, tmp_path_factory):
    return export_checkpoint(release_checkpoint, tmp_path_factory.mktemp("release_export") / "policy.onnx",
                             recorded_steps=5)


def _int8_record(path) -> dict:
    return json.loads({p.key: p.value for p in onnx.load(str(path)).metadata_props}[INT8_METADATA_KEY])


def test_release_export_writes_checked_int8_and_runner_picks_it(release_export):
    res = release_export
    assert res.int8_path == res.path.with_name("policy.int8.onnx") and res.int8_path.is_file()
    rec = _int8_record(res.path)
    assert rec == json.loads(json.dumps(res.int8, default=float))
    assert rec["tracking_checked"] and rec["recorded_samples"] == res.recorded_steps == 10  # 2 envs x 5 steps
    for prec in ("fp32", "int8"):  # an untrained policy may fall: both are measured, and must fall alike
        assert rec["tracking"][prec]["mpjpe_global_mm"] is not None
    assert rec["default"] == (not rec["refused"])
    assert 0 < rec["action_max_abs_diff"] <= rec["tolerance"]["action_tol"] or not rec["default"]
    auto, fp32 = PolicyRunner(res.path), PolicyRunner(res.path, precision="fp32")
    assert fp32.precision == "fp32" and fp32.path == str(res.path)
    assert auto.precision == ("int8" if rec["default"] else "fp32")
    assert auto.path == str(res.int8_path if rec["default"] else res.path)


def test_int8_past_tolerance_is_not_the_default(release_export, tmp_path):
    res = release_export
    rec = check_int8(res.path, res.int8_path, [], Int8Tolerance(action_tol=0.0, duration=1.2))
    assert rec["tracking_checked"] and not rec["default"]
    assert any(r.startswith("action error") for r in rec["refused"])
    model = onnx.load(str(res.path))  # the FP32 file as an export with this verdict writes it
    for p in model.metadata_props:
        if p.key == INT8_METADATA_KEY:
            p.value = json.dumps(rec, default=float)
    fp32 = tmp_path / "policy.onnx"
    onnx.save(model, str(fp32))
    shutil.copyfile(res.int8_path, tmp_path / "policy.int8.onnx")
    assert PolicyRunner(fp32).precision == "fp32"
    with pytest.raises(ContractError, match="sonic.int8"):
        PolicyRunner(fp32, precision="int8")


def test_small_exports_stay_fp32_only(tiny_run, tmp_path):
    _, ckpts = tiny_run
    res = export_checkpoint(ckpts[-1], tmp_path / "small.onnx", recorded_steps=3)
    assert res.int8_path is None and not (tmp_path / "small.int8.onnx").exists()
    assert param_count(onnx.load(str(res.path))) < RELEASE_PARAMS
