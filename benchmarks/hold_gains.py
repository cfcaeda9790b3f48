"""Hold gains: the lowest factor over the tracking gains that holds the G1 in its default pose in the scene.

The G1 starts in the default pose on the floor, supported only by its feet (no gantry), and goes through the
controller's own start-up: damping (``damping_duration``) -> ramp to the default pose (``ramp_duration``, gains
blended from damping) -> ``hold`` seconds holding it. Hold gains are ``factor * kp`` and ``factor**kd_exponent *
kd`` of the tracking gains (exponent 0.5 keeps the damping ratio of the tracking gains). Physics is the scene's
(PD as MuJoCo actuators, implicitfast, 200 Hz) or, with ``--explicit``, the explicit-PD stand-in of
tests/deploy/test_startup_gains.py (the PD computed in Python every 2 ms, as a motor driver at the command rate).

A factor holds when, over the last second of the hold, the pelvis tilt stays under ``--max-tilt`` degrees, the
pelvis stays above 0.65 m, and the mean absolute joint error to the default pose stays under ``--max-joint-err``
rad. Run: ``.venv/bin/python benchmarks/hold_gains.py`` (about 1 s per factor on one core).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "deploy"))

from sonic_deploy.control.controller import Controller, ControllerConfig, Mode  # noqa: E402
from sonic_deploy.robots.g1 import G1, RobotSpec  # noqa: E402
from sonic_deploy.robots.mujoco_robot import MujocoRobot  # noqa: E402
from _explicit_pd import ExplicitPdRobot  # noqa: E402  (the stand-in of tests/deploy/test_startup_gains.py)
from sonic_deploy.utils.rotations import tilt_deg  # noqa: E402


def with_hold_gains(factor: float, kd_exponent: float = 0.5, spec: RobotSpec = G1) -> RobotSpec:
    return dataclasses.replace(spec, hold_kp=factor * spec.kp, hold_kd=factor ** kd_exponent * spec.kd)


def measure(factor: float, kd_exponent: float = 0.5, *, hold: float = 3.0, explicit: bool = False,
            cfg: ControllerConfig | None = None) -> dict:
    spec = with_hold_gains(factor, kd_exponent)
    cfg = cfg or ControllerConfig(auto=True)
    ctrl = Controller(spec, None, None, cfg)
    robot = ExplicitPdRobot(spec) if explicit else MujocoRobot(spec, float32_io=True)
    robot.clock = lambda: robot.tick_ms / 1000.0
    t_end = cfg.damping_duration + cfg.ramp_duration + hold
    n = int(round(t_end / spec.control_dt))
    tilt, z, jerr, t = [], [], [], []
    for _ in range(n):
        state = robot.read_state()
        now = robot.tick_ms / 1000.0
        robot.write_command(ctrl.step(state, now))
        robot.advance()
        q = robot.data.qpos
        t.append(now)
        tilt.append(float(tilt_deg(q[3:7])))
        z.append(float(q[2]))
        jerr.append(float(np.abs(state.q - spec.default_joint_pos).mean()))
    t, tilt, z, jerr = map(np.asarray, (t, tilt, z, jerr))
    last = t >= t_end - 1.0
    finite = bool(np.isfinite(robot.data.qpos).all())
    return {"factor": factor, "kd_exponent": kd_exponent, "explicit": explicit, "kp_max": float(spec.hold_kp.max()),
            "kd_max": float(spec.hold_kd.max()), "peak_tilt_deg": float(np.nanmax(tilt)) if finite else None,
            "tilt_last_s_deg": float(tilt[last].max()) if finite else None,
            "z_min_last_s": float(z[last].min()) if finite else None,
            "joint_err_last_s_rad": float(jerr[last].max()) if finite else None,
            "faults": [str(f) for f in ctrl.faults], "mode": ctrl.mode.value, "finite": finite}


def holds(r: dict, max_tilt: float, max_joint_err: float) -> bool:
    return bool(r["finite"] and r["mode"] == Mode.RAMP.value and not r["faults"] and r["tilt_last_s_deg"] < max_tilt
                and r["z_min_last_s"] > 0.65 and r["joint_err_last_s_rad"] < max_joint_err)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--factors", type=float, nargs="+", default=[1, 2, 3, 4, 5, 6, 7, 8, 10])
    p.add_argument("--kd-exponent", type=float, default=0.5)
    p.add_argument("--hold", type=float, default=6.0, help="s of hold after the ramp")
    p.add_argument("--explicit", action="store_true", help="the explicit-PD stand-in (500 Hz) instead of the scene")
    p.add_argument("--max-tilt", type=float, default=5.0)
    p.add_argument("--max-joint-err", type=float, default=0.05)
    d = ControllerConfig()
    p.add_argument("--damping", type=float, default=d.damping_duration, help="s of damping before the ramp")
    p.add_argument("--ramp", type=float, default=d.ramp_duration, help="s of ramp")
    p.add_argument("--gain-ramp", type=float, default=d.gain_ramp, help="s over which the gains blend in")
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args(argv)
    cfg = ControllerConfig(auto=True, damping_duration=args.damping, ramp_duration=args.ramp, gain_ramp=args.gain_ramp)
    rows = []
    print(f"{'factor':>6} {'kp max':>7} {'kd max':>6} {'peak tilt':>9} {'tilt 1s':>8} {'z min':>6} {'jerr':>6}  holds")
    for f in args.factors:
        r = measure(f, args.kd_exponent, hold=args.hold, explicit=args.explicit, cfg=cfg)
        r["holds"] = holds(r, args.max_tilt, args.max_joint_err)
        rows.append(r)
        fmt = lambda v, s="{:.3f}": "nan" if v is None else s.format(v)  # noqa: E731
        print(f"{f:6.2f} {r['kp_max']:7.1f} {r['kd_max']:6.2f} {fmt(r['peak_tilt_deg'], '{:.2f}'):>9} "
              f"{fmt(r['tilt_last_s_deg'], '{:.2f}'):>8} {fmt(r['z_min_last_s']):>6} {fmt(r['joint_err_last_s_rad']):>6}"
              f"  {r['holds']} {'; '.join(r['faults'])[:60]}", flush=True)
    ok = [r["factor"] for r in rows if r["holds"]]
    print(f"lowest factor that holds: {min(ok) if ok else None}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
