"""The controller's own cost per deploy step: everything but inference and physics.

Runs the shipped policy in-process on a synthetic clip (the sim2sim loop, one core) and times each
``Controller.step`` while the policy is active, minus the time onnxruntime spends in ``session.run``:
observation building, history, safety checks, reference sampling, recording hooks. Physics and inference
are timed in the same run and printed beside it, with the machine's load. ``--baseline DIR`` measures a
second source tree (``git archive <rev> sonic_deploy | tar -x -C DIR``, a directory of your own) before and after
this one, same run, and prints the ratio; ``--parts`` adds where the cost goes (thermal monitor, remote, safety
checks, reference frames, observations, clipping; the rest is the controller's own glue).
Target (issue 21): p50 <= 0.15 ms, p99 <= 0.4 ms.
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

import numpy as np

SHIPPED = Path(__file__).resolve().parents[1] / "policies" / "g1_sonic_smoke" / "policy.onnx"
TARGET_P50_MS, TARGET_P99_MS = 0.15, 0.4


PARTS = (("thermal", "ctrl.thermal", "update"), ("remote", "ctrl.remote", "update"),
         ("check_state", "controller", "check_state"), ("frames", "player", "frames"), ("observe", "runner", "observe"),
         ("clip_targets", "controller", "clip_targets"))  # (name, owner, attribute): --parts times each call


def measure(policy: str | Path, motion: str, duration: float, parts: bool = False) -> dict[str, np.ndarray]:
    """Per active step: controller cost, inference and physics times (ms); with ``parts``, also the time inside
    each of :data:`PARTS` (the wrappers add about a microsecond each to the cost)."""
    from sonic_deploy.motion.synth import synthesize_all
    from sonic_deploy.robots.g1 import G1
    from sonic_deploy.robots.mujoco_robot import MujocoRobot
    from sonic_deploy.sim2sim import Sim2SimConfig, _build

    clip = synthesize_all(tempfile.mkdtemp(), [motion])[0]
    robot = MujocoRobot(G1, float32_io=True)
    _, _, runner, ctrl, _ = _build(str(policy), clip, G1, Sim2SimConfig(duration=duration))
    session_run = runner.session.run
    infer_s = [0.0]

    def timed_run(*a, **kw):
        t0 = time.perf_counter()
        out = session_run(*a, **kw)
        infer_s[0] += time.perf_counter() - t0
        return out

    runner.session.run = timed_run
    part_s = {name: [0.0] for name, _, _ in PARTS} if parts else {}
    if parts:
        import sonic_deploy.control.controller as controller

        owners = {"ctrl.thermal": ctrl.thermal, "ctrl.remote": ctrl.remote, "controller": controller,
                  "player": ctrl.reference, "runner": runner}
        for name, owner, attr in PARTS:
            obj = owners[owner]
            if obj is not None and hasattr(obj, attr):
                setattr(obj, attr, _timed(getattr(obj, attr), part_s[name]))
    part_ms: dict[str, list] = {name: [] for name in part_s}
    cost, infer, physics = [], [], []
    for _ in range(int(round(duration / G1.control_dt))):
        state = robot.read_state()
        now = robot.tick_ms / 1000.0
        infer_s[0] = 0.0
        for acc in part_s.values():
            acc[0] = 0.0
        t0 = time.perf_counter()
        cmd = ctrl.step(state, now)
        t1 = time.perf_counter()
        robot.write_command(cmd)
        robot.advance()
        t2 = time.perf_counter()
        if ctrl.mode.value == "active" and infer_s[0] > 0:
            cost.append(t1 - t0 - infer_s[0])
            infer.append(infer_s[0])
            physics.append(t2 - t1)
            for name, acc in part_s.items():
                part_ms[name].append(acc[0])
    out = {k: np.asarray(v) * 1e3 for k, v in (("cost", cost), ("infer", infer), ("physics", physics))}
    out.update({f"part:{k}": np.asarray(v) * 1e3 for k, v in part_ms.items()})
    return out


def _timed(fn, acc: list):
    """``fn`` adding its run time to ``acc[0]``."""
    def run(*a, **kw):
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            acc[0] += time.perf_counter() - t0
    return run


def _in_tree(tree: str, args) -> dict[str, float]:
    """p50/p99 of :func:`measure` in a child process importing ``sonic_deploy`` from ``tree``."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2]); "
            "import numpy as np, controller_cost as b; c = b.measure(sys.argv[3], sys.argv[4], float(sys.argv[5]))['cost']; "
            "print(json.dumps([float(np.percentile(c, 50)), float(np.percentile(c, 99))]))")
    res = subprocess.run([sys.executable, "-c", code, tree, str(Path(__file__).parent), args.policy, args.motion,
                          str(args.duration)], env=dict(os.environ, PYTHONPATH=tree), capture_output=True, text=True,
                         check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policy", default=str(SHIPPED))
    ap.add_argument("--motion", default="arm_waves")
    ap.add_argument("--duration", type=float, default=12.0, help="simulated seconds (about 2.5 s start-up first)")
    ap.add_argument("--pin-core", type=int, default=0)
    ap.add_argument("--baseline", help="a source tree to measure beside this one (before and after it)")
    ap.add_argument("--parts", action="store_true", help="also time the controller's parts (thermal, remote, safety "
                    "checks, reference frames, observations, clipping) in a second run of this tree")
    args = ap.parse_args()
    if args.pin_core >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.pin_core})
    import logging

    logging.getLogger().setLevel(logging.ERROR)
    from rich.console import Console
    from rich.table import Table

    load = os.getloadavg()[0]
    before = _in_tree(args.baseline, args) if args.baseline else None
    m = measure(args.policy, args.motion, args.duration)
    if args.baseline:
        after = _in_tree(args.baseline, args)
        base = [0.5 * (a + b) for a, b in zip(before, after)]
    c = m["cost"]
    p50, p99 = float(np.percentile(c, 50)), float(np.percentile(c, 99))
    t = Table(title=f"controller cost per step (all but inference and physics), {len(c)} active steps, "
                    f"{Path(args.policy).parent.name}, load {load:.1f} on {os.cpu_count()} cores")
    cols = ["figure", "measured", "target"] + (["baseline", "measured / baseline"] if args.baseline else [])
    for col in cols:
        t.add_column(col, justify="left" if col == "figure" else "right")
    b = (lambda i, v: [f"{base[i]:.3f}", f"{v / base[i]:.2f}"]) if args.baseline else (lambda i, v: [])  # noqa: E731
    t.add_row("controller cost p50 (ms)", f"{p50:.3f}", f"<= {TARGET_P50_MS} {'met' if p50 <= TARGET_P50_MS else 'NOT met'}",
              *b(0, p50))
    t.add_row("controller cost p99 (ms)", f"{p99:.3f}", f"<= {TARGET_P99_MS} {'met' if p99 <= TARGET_P99_MS else 'NOT met'}",
              *b(1, p99))
    pad = ["-", "-"] if args.baseline else []
    for k in ("infer", "physics"):  # same run, for scale
        t.add_row(f"  beside it: {k} p50 (ms)", f"{np.percentile(m[k], 50):.3f}", "-", *pad)
        t.add_row(f"  cost / {k} (p50 ratio)", f"{p50 / np.percentile(m[k], 50):.2f}", "-", *pad)
    Console(width=120).print(t)
    if args.parts:  # a separate run: the wrappers' own overhead stays out of the figures above
        mp = measure(args.policy, args.motion, args.duration, parts=True)
        pt = Table(title="where the cost goes (p50 per active step, ms; a separate run with the parts timed)")
        for col in ("part", "p50 (ms)", "share of cost p50"):
            pt.add_column(col, justify="left" if col == "part" else "right")
        c50 = float(np.percentile(mp["cost"], 50))
        for k in sorted((k for k in mp if k.startswith("part:")), key=lambda k: -np.percentile(mp[k], 50)):
            v = float(np.percentile(mp[k], 50))
            pt.add_row(k[5:], f"{v:.3f}", f"{v / c50:.0%}")
        pt.add_row("rest of the step", f"{c50 - sum(float(np.percentile(mp[k], 50)) for k in mp if k.startswith('part:')):.3f}", "-")
        Console(width=120).print(pt)


if __name__ == "__main__":
    main()
