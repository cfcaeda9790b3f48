"""How far, and for how long, real tracking policies push the G1's joints past the model's range in the scene.

The figures set ``SafetyConfig.position_margin`` and ``position_persistence``. Each policy runs through
``sonic-deploy sim2sim`` in-process (the product path: the controller's start-up, clipping and watchdogs) with the
position-limit fault switched off for the measurement (margins of 10 rad), and the measured joint positions the
controller saw (50 Hz) are compared with the model's range (``G1.joint_lower``/``joint_upper``, the MJCF ranges).
Per joint: the largest excursion past the range (rad) and the longest stretch spent past it (s); the worst is
reported with the time it happened.

Policies: holosoma's published G1 whole-body-tracking policies (PPO and FastSAC, dance clip embedded; fetched with
``python -m sonic_deploy.policy.holosoma_assets``) and the shipped policy on every synthetic clip.

    .venv/bin/python benchmarks/joint_excursions.py [--json OUT] [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sonic_deploy.policy.holosoma_assets import holosoma_model  # noqa: E402
from sonic_deploy.robots.g1 import G1  # noqa: E402
from sonic_deploy.sim2sim import Sim2SimConfig, resolve_config, run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "policies" / "g1_sonic_smoke" / "policy.onnx"
NO_LIMIT_FAULT = "safety:\n  position_margin: 10.0\n  position_margin_immediate: 10.0\n"


def excursions(q: np.ndarray, dt: float) -> dict:
    """q [T, 29] measured joint positions -> per joint max excursion past the range and longest stretch past it."""
    over = np.maximum(G1.joint_lower - q, q - G1.joint_upper)  # > 0: past the range
    out = {}
    for j, name in enumerate(G1.joint_names):
        past = over[:, j] > 0
        longest = run_len = 0
        for p in past:
            run_len = run_len + 1 if p else 0
            longest = max(longest, run_len)
        out[name] = {"max_rad": float(max(over[:, j].max(), 0.0)), "longest_s": longest * dt,
                     "total_s": float(past.sum() * dt), "at_s": float(np.argmax(over[:, j]) * dt) if past.any() else None}
    return out


def measure(policy: Path, motion: Path | None, seconds: float | None, field_config: str) -> dict:
    cfg = Sim2SimConfig(duration=None, field_config=field_config, loop_motion=False)
    cfg = resolve_config(policy, cfg)
    if seconds is not None:
        c = cfg.controller_config()
        cfg = Sim2SimConfig(**{**cfg.__dict__, "duration": c.damping_duration + c.ramp_duration + c.hold_duration + seconds})
    report, (trace, ticks, qpos, model) = run(policy, motion, cfg)
    active = np.array([m == "active" for m in trace.mode])
    q = np.asarray(qpos)[:, 7:7 + G1.num_joints][active[:len(qpos)]]
    ex = excursions(q, G1.control_dt)
    worst = max(ex, key=lambda n: ex[n]["max_rad"])
    return {"policy": policy.name, "motion": motion.name if motion else "(embedded)", "active_s": len(q) * G1.control_dt,
            "fell": report.fell, "faults": [f["cause"] for f in report.faults], "joint_error_rad": report.joint_error_rad,
            "worst_joint": worst, "worst": ex[worst], "joints": {n: v for n, v in ex.items() if v["max_rad"] > 0}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=None, help="active seconds per run (default: the whole motion)")
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args(argv)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(NO_LIMIT_FAULT)
    runs = [(holosoma_model("wbt"), None), (holosoma_model("wbt_fastsac"), None)]
    runs += [(SHIPPED, clip) for clip in sorted((ROOT / "motions" / "synthetic").glob("*.npz"))]
    rows = []
    print(f"{'policy':32} {'motion':20} {'active s':>8} {'worst joint':26} {'max past (rad)':>14} {'longest (s)':>11} "
          f"{'total (s)':>9} fell")
    for policy, motion in runs:
        r = measure(policy, motion, args.seconds, f.name)
        rows.append(r)
        w = r["worst"]
        print(f"{r['policy']:32} {r['motion']:20} {r['active_s']:8.1f} {r['worst_joint']:26} {w['max_rad']:14.3f} "
              f"{w['longest_s']:11.2f} {w['total_s']:9.2f} {r['fell']}", flush=True)
        for name, v in r["joints"].items():
            if name != r["worst_joint"]:
                print(f"{'':54}  {name:26} {v['max_rad']:14.3f} {v['longest_s']:11.2f} {v['total_s']:9.2f}")
    peak = max(rows, key=lambda r: r["worst"]["max_rad"])
    longest = max(rows, key=lambda r: max((v["longest_s"] for v in r["joints"].values()), default=0.0))
    print(f"largest excursion: {peak['worst']['max_rad']:.3f} rad ({peak['worst_joint']}, {peak['policy']}); longest "
          f"stretch past a limit: {max((v['longest_s'] for v in longest['joints'].values()), default=0.0):.2f} s "
          f"({longest['policy']} {longest['motion']})")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
