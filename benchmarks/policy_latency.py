"""ONNX policy latency, batch 1, one intra-op thread, for sonic_release-sized MLPs (~16.7 M parameters).

The model is an encoder MLP (G1 future-motion terms -> 64-d latent, FSQ-style rounding) and a decoder MLP
(latent + proprioception -> 29 actions), built with onnx.helper. Prints a table; ``--json`` writes it.
Target (DESIGN.md): p99 < 1 ms on one CPU core. At batch 1 a 16.7 M-parameter fp32 MLP is bound by memory
bandwidth (67 MB of weights read per call), so the table also measures the same graph with int8 weights
(onnxruntime dynamic quantization, an export-time step).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--hidden", type=int, nargs=3, default=[2048, 2048, 1536], help="hidden sizes of each MLP")
    ap.add_argument("--pin-core", type=int, default=0, help="pin the process to this CPU (-1: no pinning)")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.pin_core >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.pin_core})
    from rich.console import Console
    from rich.table import Table

    from sonic_deploy.policy.session import make_session
    from sonic_deploy.policy.testing import default_contract, write_mlp_policy

    c = default_contract(future_frames=10, future_dt=0.1)
    path = os.path.join(tempfile.mkdtemp(), "mlp.onnx")
    import logging

    logging.getLogger().setLevel(logging.ERROR)
    path, params = write_mlp_policy(path, c, encoder_hidden=tuple(args.hidden), decoder_hidden=tuple(args.hidden))
    variants = {"fp32": path}
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        q = path.with_name("mlp_int8.onnx")
        quantize_dynamic(str(path), str(q), weight_type=QuantType.QInt8)
        variants["int8 weights"] = q
    except Exception as exc:  # noqa: BLE001
        print(f"int8 variant skipped: {exc}")
    rng = np.random.default_rng(0)
    feed = {"obs_encoder": rng.standard_normal((1, c.encoder_dim)).astype(np.float32),
            "obs_proprio": rng.standard_normal((1, c.proprio_dim)).astype(np.float32)}
    res = {"params_million": params / 1e6, "encoder_dim": c.encoder_dim, "proprio_dim": c.proprio_dim,
           "iters": args.iters}
    ref_out = None
    for name, p in variants.items():
        sess = make_session(p, threads=1)
        for _ in range(args.warmup):
            out = sess.run(["actions", "token_indices"], feed)[0]
        ref_out = out if ref_out is None else ref_out
        lat = np.empty(args.iters)
        for i in range(args.iters):
            t = time.perf_counter()
            sess.run(["actions", "token_indices"], feed)
            lat[i] = time.perf_counter() - t
        lat *= 1e3
        res[name] = {"p50_ms": float(np.percentile(lat, 50)), "p90_ms": float(np.percentile(lat, 90)),
                     "p99_ms": float(np.percentile(lat, 99)), "max_ms": float(lat.max()), "mean_ms": float(lat.mean()),
                     "max_abs_diff_vs_fp32": float(np.abs(out - ref_out).max())}
    t = Table(title=f"ONNX policy latency, {res['params_million']:.2f} M parameters (batch 1, 1 thread, CPU)")
    t.add_column("variant")
    for col in ("mean", "p50", "p90", "p99", "max"):
        t.add_column(f"{col} (ms)", justify="right")
    t.add_column("|a - a_fp32| max", justify="right")
    t.add_column("p99 < 1 ms", justify="right")
    for name in variants:
        r = res[name]
        t.add_row(name, *(f"{r[k]:.3f}" for k in ("mean_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms")),
                  f"{r['max_abs_diff_vs_fp32']:.2e}", "met" if r["p99_ms"] < 1.0 else "NOT met")
    Console(width=130).print(t)
    Console().print(f"inputs: obs_encoder {c.encoder_dim}, obs_proprio {c.proprio_dim}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
