"""INT8 beside FP32 for release-size exports, checked on the recorded rollout and in sim-to-sim before it is the default.

A policy at release size (at least :data:`RELEASE_PARAMS` weights in its graph) runs 4-6x faster in INT8 on a
CPU (``benchmarks/int8_latency.py``). ``sonic-export`` writes ``<stem>.int8.onnx``
(:func:`sonic_deploy.policy.quantize.quantize_policy`) and checks it against the FP32 graph:

* action error on the inputs recorded from the evaluation rollout: max |a_int8 - a_fp32| <= ``action_tol``;
* tracking: the same short synthetic clip in in-process sim-to-sim with each graph; INT8 must fall exactly
  when FP32 falls, and its MPJPE (global and root-relative) stay within max(``mpjpe_tol_mm``, ``mpjpe_rel`` x
  FP32's) of FP32's.

The figures go into the FP32 file's ``sonic.int8`` metadata with ``tracking_checked`` and ``default`` (both
checks passed); the deploy runner runs the INT8 file on a CPU only where ``default`` is true.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sonic_deploy.motion.synth import synthesize_all
from sonic_deploy.policy.quantize import INT8_METADATA_KEY, int8_path_for, parity, quantize_policy
from sonic_deploy.sim2sim import Sim2SimConfig, run_inprocess

RELEASE_PARAMS = 4_000_000  # smoke exports (~0.2 M) stay FP32 only; sonic_release's g1 + g1_dyn graph is ~11 M


@dataclass
class Int8Tolerance:
    action_tol: float = 0.05  # raw action units (q* moves by action_scale times this: <= 0.02 rad on the G1)
    mpjpe_tol_mm: float = 5.0
    mpjpe_rel: float = 0.10
    motion: str = "squat"  # synthetic clip of the tracking check
    duration: float = 2.5  # s of sim-to-sim: 0.6 s start-up, then the policy


def param_count(proto) -> int:
    return int(sum(np.prod(t.dims) for t in proto.graph.initializer))


def _track(policy: Path, clip: Path, tol: Int8Tolerance) -> dict:
    cfg = Sim2SimConfig(duration=tol.duration, damping_duration=0.1, ramp_duration=0.4, hold_duration=0.1)
    rep, _ = run_inprocess(str(policy), str(clip), cfg)
    return {"fell": rep.fell, "mpjpe_global_mm": rep.mpjpe_global_mm, "mpjpe_root_mm": rep.mpjpe_root_mm,
            "joint_error_rad": rep.joint_error_rad, "active_s": rep.active_s}


def check_int8(fp32: Path, int8: Path, recorded: list[dict], tol: Int8Tolerance = Int8Tolerance()) -> dict:
    """The ``sonic.int8`` record: action error on ``recorded`` feeds, tracking of both graphs, and the verdict."""
    par = parity(fp32, int8, samples=0 if recorded else 64, inputs=recorded)  # random inputs only without a rollout
    with tempfile.TemporaryDirectory() as d:
        clip = synthesize_all(d, [tol.motion])[0]
        t32, t8 = _track(fp32, clip, tol), _track(int8, clip, tol)
    reasons = []
    if par.max_abs_action_diff > tol.action_tol:
        reasons.append(f"action error {par.max_abs_action_diff:.4f} > {tol.action_tol}")
    if t8["fell"] != t32["fell"]:
        reasons.append(f"fell fp32={t32['fell']} int8={t8['fell']}")
    for k in ("mpjpe_global_mm", "mpjpe_root_mm"):
        a, b = t32[k], t8[k]
        if a is None or b is None:
            reasons.append(f"{k}: not measured")
        elif abs(b - a) > max(tol.mpjpe_tol_mm, tol.mpjpe_rel * a):
            reasons.append(f"{k} {b:.1f} vs fp32 {a:.1f}")
    return {"file": int8.name, "tracking_checked": True, "default": not reasons, "refused": reasons,
            "action_max_abs_diff": par.max_abs_action_diff, "action_mean_abs_diff": par.mean_abs_action_diff,
            "action_max_abs_fp32": par.max_abs_action_fp32, "recorded_samples": par.samples,
            "tracking": {"motion": tol.motion, "duration_s": tol.duration, "fp32": t32, "int8": t8},
            "tolerance": asdict(tol)}


def write_int8(fp32_cand: Path, out: Path, recorded: list[dict], tol: Int8Tolerance = Int8Tolerance()) -> tuple[Path, dict]:
    """Quantize the FP32 candidate to ``int8_path_for(out)`` and check it; returns (path, ``sonic.int8`` record)."""
    dst = int8_path_for(out)
    cand = quantize_policy(fp32_cand, fp32_cand.with_name(dst.name))
    info = check_int8(fp32_cand, cand, recorded, tol)
    return cand, info


def add_int8_metadata(proto, info: dict) -> None:
    p = proto.metadata_props.add()
    p.key, p.value = INT8_METADATA_KEY, json.dumps(info, default=float)
