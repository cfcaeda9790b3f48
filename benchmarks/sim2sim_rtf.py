"""Sim-to-sim speed of the shipped policy: in-process (one core) and through DDS lock-step, side by side in one run.

Real-time factor = simulated seconds per wall second of the loop ``sonic-deploy sim2sim`` runs (state read,
observation, onnxruntime, safety, PD write, 4 physics steps; over DDS the bridge steps the physics in its own
process and waits for each command). Rows, all in this run: the plain physics loop (no controller), the shipped
policy in-process, the shipped policy through DDS lock-step; ``--baseline DIR`` repeats the two policy rows with
the source tree in DIR (e.g. ``git archive <rev> | tar -x -C DIR``) interleaved with these, and prints the ratio.
``--sizes`` adds the linear policy and a sonic_release-sized MLP (fp32, int8).
Targets (issue 21): in-process >= 50x on one core, DDS lock-step >= 25x.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHIPPED = Path(__file__).resolve().parents[1] / "policies" / "g1_sonic_smoke" / "policy.onnx"
TARGETS = {"in-process": 50.0, "dds lock-step": 25.0}


def policy_rows(policy: str, motion: str, duration: float, domain: int) -> dict[str, dict]:
    """RTF and step times of ``policy`` in-process and through DDS lock-step (this process's source tree)."""
    from sonic_deploy.motion.synth import synthesize_all
    from sonic_deploy.sim2sim import Sim2SimConfig, run_inprocess, run_through_dds

    clip = synthesize_all(tempfile.mkdtemp(), [motion])[0]
    out = {}
    for mode, fn, cfg in (("in-process", run_inprocess, Sim2SimConfig(duration=duration)),
                          ("dds lock-step", run_through_dds, Sim2SimConfig(duration=duration, through_dds=True,
                                                                           domain_id=domain))):
        rep, _ = fn(policy, clip, cfg)
        out[mode] = {"rtf": rep.realtime_factor, "step_p50_ms": rep.step_p50_ms, "step_p99_ms": rep.step_p99_ms,
                     "fell": rep.fell, "mpjpe_root_mm": rep.mpjpe_root_mm}
    return out


def _in_tree(tree: str, args) -> dict[str, dict]:
    """:func:`policy_rows` run by a child process importing ``sonic_deploy`` from ``tree``."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2]); "
            "import sim2sim_rtf as b; print(json.dumps(b.policy_rows(sys.argv[3], sys.argv[4], float(sys.argv[5]), "
            "int(sys.argv[6]))))")
    env = dict(os.environ, PYTHONPATH=tree)
    res = subprocess.run([sys.executable, "-c", code, tree, str(Path(__file__).parent), args.policy, args.motion,
                          str(args.duration), str(args.domain + 1)], env=env, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _size_rows(duration: float, motion: str) -> dict[str, float]:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from sonic_deploy.motion.synth import synthesize_all
    from sonic_deploy.policy.testing import default_contract, write_mlp_policy, write_tracking_policy
    from sonic_deploy.sim2sim import Sim2SimConfig, run_inprocess

    tmp = tempfile.mkdtemp()
    clip = synthesize_all(tmp, [motion])[0]
    pols = {"linear policy": write_tracking_policy(os.path.join(tmp, "lin.onnx"))}
    mlp, params = write_mlp_policy(os.path.join(tmp, "mlp.onnx"), default_contract(hold_gains=True),
                                   encoder_hidden=(2048, 2048, 1536), decoder_hidden=(2048, 2048, 1536), tracking=True)
    pols[f"MLP {params / 1e6:.1f} M fp32"] = mlp
    q = os.path.join(tmp, "mlp_int8.onnx")
    quantize_dynamic(str(mlp), q, weight_type=QuantType.QInt8)
    pols[f"MLP {params / 1e6:.1f} M int8"] = q
    return {n: run_inprocess(p, clip, Sim2SimConfig(duration=duration))[0].realtime_factor for n, p in pols.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policy", default=str(SHIPPED))
    ap.add_argument("--duration", type=float, default=10.0, help="simulated seconds per row")
    ap.add_argument("--motion", default="squat")
    ap.add_argument("--domain", type=int, default=71)
    ap.add_argument("--pin-core", type=int, default=0, help="this process (the controller) on one core; -1: none")
    ap.add_argument("--baseline", help="a source tree to measure beside this one (same rows, interleaved)")
    ap.add_argument("--sizes", action="store_true", help="add the linear and release-sized MLP rows (in-process)")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.pin_core >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.pin_core})
    import logging

    logging.getLogger().setLevel(logging.ERROR)
    from rich.console import Console
    from rich.table import Table

    from sonic_deploy.robots.g1 import G1
    from sonic_deploy.robots.mujoco_robot import MujocoRobot

    load = os.getloadavg()[0]
    robot = MujocoRobot(G1)
    n = int(args.duration / G1.physics_dt)
    t0 = time.perf_counter()
    robot.advance(steps=n)
    physics = args.duration / (time.perf_counter() - t0)
    base = _in_tree(args.baseline, args) if args.baseline else None
    rows = policy_rows(args.policy, args.motion, args.duration, args.domain)
    if args.baseline:  # again after this tree's rows: the baseline measured on both sides of them
        again = _in_tree(args.baseline, args)
        for mode in base:
            base[mode]["rtf"] = 0.5 * (base[mode]["rtf"] + again[mode]["rtf"])
    t = Table(title=f"sim2sim real-time factor, {Path(args.policy).parent.name}, {args.duration:.0f} s of {args.motion}, "
                    f"load {load:.1f} on {os.cpu_count()} cores (controller pinned to core {args.pin_core})")
    for col in ["loop", "real-time factor", "step p50 / p99 (ms)", "fell", "target"] + (["baseline", "ratio"] if base else []):
        t.add_column(col, justify="left" if col == "loop" else "right")
    t.add_row("physics only (mj_step, no controller)", f"{physics:.1f}x", "-", "-", "-", *(["-", "-"] if base else []))
    for mode, r in rows.items():
        extra = [f"{base[mode]['rtf']:.1f}x", f"{r['rtf'] / base[mode]['rtf']:.2f}"] if base else []
        t.add_row(f"shipped policy, {mode}", f"{r['rtf']:.1f}x", f"{r['step_p50_ms']:.2f} / {r['step_p99_ms']:.2f}",
                  str(r["fell"]), f">= {TARGETS[mode]:.0f}x {'met' if r['rtf'] >= TARGETS[mode] else 'NOT met'}", *extra)
    t.add_row("in-process / physics only", f"{rows['in-process']['rtf'] / physics:.2f}", "-", "-", "-",
              *(["-", "-"] if base else []))
    sizes = _size_rows(args.duration, args.motion) if args.sizes else {}
    for name, rtf in sizes.items():
        t.add_row(f"{name}, in-process", f"{rtf:.1f}x", "-", "-", "-", *(["-", "-"] if base else []))
    Console(width=160).print(t)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"load": load, "physics": physics, "rows": rows, "baseline": base, "sizes": sizes}, f, indent=2)


if __name__ == "__main__":
    main()
