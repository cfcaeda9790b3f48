"""Sim-to-sim speed: in-process MuJoCo G1 with the controller and an ONNX policy in the loop, one core.

Measures the real-time factor (simulated seconds per wall second) of the same loop ``sonic-deploy sim2sim``
runs: state read, observation build, onnxruntime inference, safety, PD write, 4 physics steps. Rows: the
plain physics loop (no controller), a tiny linear policy, and a sonic_release-sized MLP (fp32 and int8).
Target (DESIGN.md): > 50x real time on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=10.0, help="simulated seconds per row")
    ap.add_argument("--motion", default="squat")
    ap.add_argument("--pin-core", type=int, default=0)
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.pin_core >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.pin_core})
    import logging

    logging.getLogger().setLevel(logging.ERROR)
    from rich.console import Console
    from rich.table import Table

    from sonic_deploy.motion.synth import synthesize_all
    from sonic_deploy.policy.testing import default_contract, write_mlp_policy, write_tracking_policy
    from sonic_deploy.robots.g1 import G1
    from sonic_deploy.robots.mujoco_robot import MujocoRobot
    from sonic_deploy.sim2sim import Sim2SimConfig, run_inprocess

    tmp = tempfile.mkdtemp()
    clip = synthesize_all(tmp, [args.motion])[0]
    rows = {}
    robot = MujocoRobot(G1)
    n = int(args.duration / G1.physics_dt)
    t = time.perf_counter()
    robot.advance(steps=n)
    rows["physics only (mj_step)"] = args.duration / (time.perf_counter() - t)
    policies = {"linear policy": write_tracking_policy(os.path.join(tmp, "lin.onnx"))}
    mlp, params = write_mlp_policy(os.path.join(tmp, "mlp.onnx"), default_contract(hold_gains=True),
                                   encoder_hidden=(2048, 2048, 1536), decoder_hidden=(2048, 2048, 1536), tracking=True)
    policies[f"MLP {params / 1e6:.1f} M fp32 (+ linear replay)"] = mlp
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        q = os.path.join(tmp, "mlp_int8.onnx")
        quantize_dynamic(str(mlp), q, weight_type=QuantType.QInt8)
        policies[f"MLP {params / 1e6:.1f} M int8 (+ linear replay)"] = q
    except Exception as exc:  # noqa: BLE001
        print(f"int8 row skipped: {exc}")
    details = {}
    for name, p in policies.items():
        rep, _ = run_inprocess(p, clip, Sim2SimConfig(duration=args.duration))
        rows[name] = rep.realtime_factor
        details[name] = {"rtf": rep.realtime_factor, "step_p50_ms": rep.step_p50_ms, "step_p99_ms": rep.step_p99_ms,
                         "fell": rep.fell, "active_s": rep.active_s}
    t = Table(title=f"sim2sim real-time factor, in-process, one core, {args.duration:.0f} s of {args.motion}")
    t.add_column("loop")
    t.add_column("real-time factor", justify="right")
    t.add_column("step p50 / p99 (ms)", justify="right")
    t.add_column("active s / fell", justify="right")
    t.add_column("> 50x", justify="right")
    for name, rtf in rows.items():
        d = details.get(name)
        t.add_row(name, f"{rtf:.1f}x", f"{d['step_p50_ms']:.2f} / {d['step_p99_ms']:.2f}" if d else "-",
                  f"{d['active_s']:.1f} / {d['fell']}" if d else "-", "met" if rtf > 50 else "NOT met")
    Console(width=120).print(t)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "details": details}, f, indent=2)


if __name__ == "__main__":
    main()
