"""FP32 vs INT8 (sonic_deploy.policy.quantize) policy latency and sim-to-sim tracking.

Latency: batch 1, one intra-op thread, sonic_release-sized MLPs (encoder and decoder 2048-2048-1536, 10 future
frames), p50/p99 over ``--iters`` runs. Tracking: in-process sim-to-sim on the synthetic motions for two policies
in both precisions: the linear tracking policy (every action goes through the quantized MatMuls) and the
full-size MLP with the tracking path (``write_mlp_policy(tracking=True)``). Success = completed without a fault
and without a fall; MPJPE global / root-relative in mm. INT8 matches when every motion's success is equal and
each MPJPE is within max(5 mm, 10 %) of FP32 (the tolerance under which INT8 may be the deployment default).
``--export FILE`` instead times a ``sonic-export`` output: what the runner picks by default (INT8 where the
export's ``sonic.int8`` record allows) against ``precision="fp32"``, interleaved in one run, with that record.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def latency(path, feed, iters, warmup):
    from sonic_deploy.policy.session import make_session

    sess = make_session(path, threads=1)
    for _ in range(warmup):
        sess.run(["actions"], feed)
    lat = np.empty(iters)
    for i in range(iters):
        t = time.perf_counter()
        sess.run(["actions"], feed)
        lat[i] = time.perf_counter() - t
    return {"p50_ms": float(np.percentile(lat, 50) * 1e3), "p99_ms": float(np.percentile(lat, 99) * 1e3)}


def export_table(path: str, iters: int, warmup: int):
    """FP32 vs the runner's default for one export, run alternately (same load), and the export's INT8 record."""
    from rich.table import Table

    from sonic_deploy.policy.quantize import INT8_METADATA_KEY
    from sonic_deploy.policy.runner import PolicyRunner

    auto, fp32 = PolicyRunner(path), PolicyRunner(path, precision="fp32")
    c = auto.contract
    rng = np.random.default_rng(0)
    feed = {"obs_encoder": rng.standard_normal((1, c.encoder_dim)).astype(np.float32),
            "obs_proprio": rng.standard_normal((1, c.proprio_dim)).astype(np.float32)}
    lat = {auto.precision + " (default)": [], "fp32 (forced)": []}
    for i in range(warmup + iters):
        for r, key in ((auto, next(iter(lat))), (fp32, "fp32 (forced)")):
            t = time.perf_counter()
            r.infer(feed)
            if i >= warmup:
                lat[key].append(time.perf_counter() - t)
    rec = fp32.session.get_modelmeta().custom_metadata_map.get(INT8_METADATA_KEY, "{}")
    t = Table(title=f"{path}: runner default vs FP32, batch 1, 1 thread, load {os.getloadavg()[0]:.1f}")
    for col in ("precision", "p50 (ms)", "p99 (ms)", "fp32 p50 / this p50"):
        t.add_column(col, justify="left" if col == "precision" else "right")
    ref = np.percentile(lat["fp32 (forced)"], 50)
    for k, v in lat.items():
        t.add_row(k, f"{np.percentile(v, 50) * 1e3:.2f}", f"{np.percentile(v, 99) * 1e3:.2f}", f"{ref / np.percentile(v, 50):.2f}")
    return t, json.loads(rec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--duration", type=float, default=8.0, help="simulated seconds per motion")
    ap.add_argument("--motions", nargs="*", default=None)
    ap.add_argument("--pin-core", type=int, default=0)
    ap.add_argument("--export", help="a sonic-export output: its runner default vs FP32")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.pin_core >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.pin_core})
    if args.export:
        from rich.console import Console

        table, rec = export_table(args.export, args.iters, args.warmup)
        Console(width=120).print(table)
        print("sonic.int8:", json.dumps({k: rec.get(k) for k in ("default", "refused", "action_max_abs_diff",
                                                                   "action_max_abs_fp32", "tracking")}, default=float))
        return
    import logging

    logging.getLogger().setLevel(logging.ERROR)
    from rich.console import Console
    from rich.table import Table

    from sonic_deploy.motion.synth import synthesize_all
    from sonic_deploy.policy.quantize import parity, quantize_policy
    from sonic_deploy.policy.testing import default_contract, write_mlp_policy, write_tracking_policy
    from sonic_deploy.sim2sim import Sim2SimConfig, run_inprocess

    tmp = Path(tempfile.mkdtemp(prefix="sonic_int8_"))
    c = default_contract(future_frames=10, future_dt=0.1)
    big, params = write_mlp_policy(tmp / "release.onnx", c, encoder_hidden=(2048, 2048, 1536),
                                   decoder_hidden=(2048, 2048, 1536), tracking=True)
    lin = write_tracking_policy(tmp / "linear.onnx")
    pols = {"linear tracking": lin, f"MLP {params / 1e6:.1f} M + tracking": big}
    q = {name: quantize_policy(p, p.with_name(p.stem + ".int8.onnx")) for name, p in pols.items()}
    rng = np.random.default_rng(0)
    feed = {"obs_encoder": rng.standard_normal((1, c.encoder_dim)).astype(np.float32),
            "obs_proprio": rng.standard_normal((1, c.proprio_dim)).astype(np.float32)}
    res = {"latency": {"fp32": latency(big, feed, args.iters, args.warmup),
                       "int8": latency(q[list(pols)[1]], feed, args.iters, args.warmup)},
           "params_million": params / 1e6, "size_mb": {"fp32": big.stat().st_size / 1e6,
                                                       "int8": q[list(pols)[1]].stat().st_size / 1e6},
           "parity": {name: parity(p, q[name], samples=64).to_dict() for name, p in pols.items()}, "tracking": {}}
    motions = synthesize_all(tmp / "motions", args.motions)
    cfg = Sim2SimConfig(duration=args.duration)
    matches = True
    for name, p in pols.items():
        for m in motions:
            row = {}
            for prec, path in (("fp32", p), ("int8", q[name])):
                rep, _ = run_inprocess(path, m, cfg)
                row[prec] = {"success": bool(rep.completed and not rep.fell and not rep.faults),
                             "mpjpe_global_mm": rep.mpjpe_global_mm, "mpjpe_root_mm": rep.mpjpe_root_mm}
            a, b = row["fp32"], row["int8"]
            ok = a["success"] == b["success"] and all(
                a[k] is None or b[k] is None or abs(a[k] - b[k]) <= max(5.0, 0.1 * a[k])
                for k in ("mpjpe_global_mm", "mpjpe_root_mm"))
            row["match"] = ok
            matches &= ok
            res["tracking"][f"{name} / {Path(m).stem}"] = row
    res["int8_matches"] = matches
    con = Console()
    t = Table(title=f"policy latency, {params / 1e6:.1f} M parameters, batch 1, 1 thread (CPU)")
    for col in ("precision", "p50 (ms)", "p99 (ms)", "size (MB)"):
        t.add_column(col)
    for prec in ("fp32", "int8"):
        t.add_row(prec, f"{res['latency'][prec]['p50_ms']:.3f}", f"{res['latency'][prec]['p99_ms']:.3f}",
                  f"{res['size_mb'][prec]:.1f}")
    con.print(t)
    t = Table(title="sim-to-sim tracking, FP32 vs INT8 (success, MPJPE global / root-relative mm)")
    for col in ("policy / motion", "fp32", "int8", "match"):
        t.add_column(col)
    f = lambda r: f"{'ok' if r['success'] else 'FAIL'} {r['mpjpe_global_mm'] or 0:.1f} / {r['mpjpe_root_mm'] or 0:.1f}"  # noqa: E731
    for k, r in res["tracking"].items():
        t.add_row(k, f(r["fp32"]), f(r["int8"]), "yes" if r["match"] else "NO")
    con.print(t)
    for name, p in res["parity"].items():
        con.print(f"parity {name}: max |a_int8 - a_fp32| {p['max_abs_action_diff']:.4g} "
                  f"(largest action {p['max_abs_action_fp32']:.3g}), token agreement {p['token_agreement']}")
    con.print(f"INT8 matches FP32 within tolerance on every motion: {matches}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
