"""Gantry release: does the G1 stand when the free-running bridge's gantry lets go, whatever the start timing?

A controller started ``delay`` seconds after the bridge (a ROS 2 node launched late, a slow discovery) reaches the
gantry's ``auto`` release criterion at a different point of its ramp each time. This sweeps that delay on the
deterministic stand-in of the free-running start (tests/deploy/_gantry_start.py: physics time, no policy, the
hold kept for the whole run, a harsher case than the real start where the policy takes over after 0.5 s of hold)
and prints, per start timing, when the gantry let go and how far the pelvis tilted afterwards.
Run: ``.venv/bin/python benchmarks/gantry_release.py [--lower-s 0] [--hold-factor 8 --ankle-kp 8 --ankle-kd 2.83]``
(about 3 s per timing on one core).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "deploy"))

from _gantry_start import start_up  # noqa: E402  (the stand-in of tests/deploy/test_bridge.py)
from sonic_deploy.bridge.gantry import GantryConfig  # noqa: E402
from sonic_deploy.robots.g1 import G1  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--delays", type=float, nargs="+", default=[round(x, 2) for x in np.arange(0.0, 2.0, 0.1)])
    p.add_argument("--seconds", type=float, default=6.0, help="s of bridge time per run")
    p.add_argument("--lower-s", type=float, default=GantryConfig().lower_s, help="gantry lowering time (0: cut)")
    p.add_argument("--pose-tolerance", type=float, default=GantryConfig().pose_tolerance)
    p.add_argument("--ankle-kp", type=float, help="ankle hold kp as a factor of the tracking kp (default: G1's)")
    p.add_argument("--ankle-kd", type=float, help="ankle hold kd as a factor of the tracking kd (default: G1's)")
    args = p.parse_args(argv)
    logging.disable(logging.ERROR)  # the controller logs each fall; the table says it
    spec = G1
    ankle = np.array(["ankle" in n for n in G1.joint_names])
    if args.ankle_kp is not None or args.ankle_kd is not None:
        kp, kd = G1.hold_kp.copy(), G1.hold_kd.copy()
        if args.ankle_kp is not None:
            kp[ankle] = args.ankle_kp * G1.kp[ankle]
        if args.ankle_kd is not None:
            kd[ankle] = args.ankle_kd * G1.kd[ankle]
        spec = dataclasses.replace(G1, hold_kp=kp, hold_kd=kd)
    gantry = GantryConfig(lower_s=args.lower_s, pose_tolerance=args.pose_tolerance)
    print(f"ankle hold kp {spec.hold_kp[ankle][0]:.0f} kd {spec.hold_kd[ankle][0]:.2f}, gantry lowering "
          f"{args.lower_s:g} s, pose tolerance {args.pose_tolerance:g} rad")
    print(f"{'delay s':>7} {'released s':>10} {'peak tilt':>9} {'end tilt':>8} {'end z':>6}  stood")
    falls, peaks = 0, []
    for delay in args.delays:
        r = start_up(delay, args.seconds, gantry, spec)
        falls += not r.stood
        peaks.append(r.peak_tilt_deg)
        rel = "-" if r.released_s is None else f"{r.released_s:.2f}"
        print(f"{delay:7.2f} {rel:>10} {r.peak_tilt_deg:9.1f} {r.final_tilt_deg:8.1f} {r.final_z:6.3f}  {r.stood}",
              flush=True)
    print(f"fell in {falls} of {len(args.delays)} start timings; peak tilt {max(peaks):.1f} deg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
