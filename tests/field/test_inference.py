"""Inference providers (CPU fallback; no GPU machine runs CI, so CUDA/TensorRT are tested only for the fallback
path) and INT8 dynamic quantization (metadata kept, atomic write, parity, the runner and the CLI take it)."""

import logging

import onnx
import pytest

from sonic_deploy.cli.deploy import main as deploy_main
from sonic_deploy.policy.contract import METADATA_KEY
from sonic_deploy.policy.quantize import parity, quantize_policy
from sonic_deploy.policy.runner import PolicyRunner
from sonic_deploy.policy.session import resolve_providers
from sonic_deploy.policy.testing import default_contract, write_mlp_policy


def test_gpu_providers_fall_back_to_cpu_with_a_warning(tmp_path, caplog):
    path, _ = write_mlp_policy(tmp_path / "p.onnx", default_contract(), encoder_hidden=(64,), decoder_hidden=(64,))
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("a CUDA onnxruntime is installed: the fallback path is not what runs here")
    with caplog.at_level(logging.WARNING, logger="sonic_deploy.policy"):
        r = PolicyRunner(path, providers=["tensorrt", "cuda", "cpu"])
    assert r.session.get_providers() == ["CPUExecutionProvider"]
    assert "falling back to CPU" in caplog.text and "gpu extra" in caplog.text
    assert resolve_providers(None) == ["CPUExecutionProvider"]
    with pytest.raises(ValueError, match="provider"):
        resolve_providers(["rocm"])


def test_int8_quantization_keeps_contract_and_parity(tmp_path, capsys):
    path, _ = write_mlp_policy(tmp_path / "p.onnx", default_contract(), encoder_hidden=(256, 256),
                               decoder_hidden=(256, 256), tracking=True)
    out = quantize_policy(path, tmp_path / "p.int8.onnx")
    m = onnx.load(str(out))
    meta = {p.key: p.value for p in m.metadata_props}
    assert meta[METADATA_KEY] == {p.key: p.value for p in onnx.load(str(path)).metadata_props}[METADATA_KEY]
    assert "sonic.quantization" in meta
    assert any(n.op_type in ("MatMulInteger", "DynamicQuantizeMatMul") for n in m.graph.node)
    assert not any(n.op_type == "Gemm" for n in m.graph.node)
    assert not list(tmp_path.glob("*.part"))  # atomic: no leftovers
    PolicyRunner(out)  # the runner takes it
    p = parity(path, out, samples=64)
    assert p.max_abs_action_diff < 0.02 * p.max_abs_action_fp32, p  # within 2% of the action range
    assert deploy_main(["quantize", str(path), "--out", str(tmp_path / "cli.onnx"), "--samples", "16"]) == 0
    assert "max abs action diff" in capsys.readouterr().out
