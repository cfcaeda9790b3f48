"""The onnxruntime session factory every policy format runs on: execution providers and threading in one place.

One intra-op thread and sequential execution by default (a control step is one small graph; more threads add
jitter, not speed). Requested providers this onnxruntime lacks fall back to CPU with a warning, so a
configuration written for a CUDA machine still runs on a laptop. Its own module so that the runner and the
INT8 quantizer (which builds sessions for its parity check) both import it without importing each other.
"""

from __future__ import annotations

import logging
from pathlib import Path

import onnxruntime as ort

log = logging.getLogger("sonic_deploy.policy")

# configuration name -> onnxruntime execution provider (CUDA and TensorRT need onnxruntime-gpu: the "gpu" extra)
PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider", "tensorrt": "TensorrtExecutionProvider"}


def resolve_providers(requested=None) -> list[str]:
    """Execution providers for ``requested`` (names from :data:`PROVIDERS`, in preference order; default cpu).
    Providers this onnxruntime lacks are dropped with a warning; CPU always ends the list (the fallback)."""
    names = [requested] if isinstance(requested, str) else list(requested or ["cpu"])
    available = set(ort.get_available_providers())
    out = []
    for name in names:
        key = str(name).lower()
        if key not in PROVIDERS:
            raise ValueError(f"policy provider: expected one of {sorted(PROVIDERS)}, got {name!r}")
        ep = PROVIDERS[key]
        if ep in available:
            out.append(ep)
        else:
            log.warning("execution provider %s (%s) is not available in this onnxruntime (%s); falling back to CPU. "
                        "Install the gpu extra (onnxruntime-gpu) on a CUDA machine.", key, ep, sorted(available))
    if "CPUExecutionProvider" not in out:
        out.append("CPUExecutionProvider")
    return out


def make_session(path: str | Path, threads: int = 1, providers=None) -> ort.InferenceSession:
    """An inference session for the ONNX file at ``path``: ``threads`` intra-op threads, one inter-op thread,
    full graph optimisation, on ``providers`` (see :func:`resolve_providers`)."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(path), sess_options=so, providers=resolve_providers(providers))
    if providers and sess.get_providers()[0] == "CPUExecutionProvider" and resolve_providers(providers)[0] != "CPUExecutionProvider":
        log.warning("%s: the requested provider failed to initialise; running on CPU", path)
    return sess
