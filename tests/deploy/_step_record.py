"""Records what the deploy step produces over a short in-process sim2sim run of the shipped policy.

Wraps the runner's ``observe``/``infer`` and the controller's ``step`` to keep every observation, raw action
and joint command (q*, kp, kd) of the run; used to pin the step's behaviour across rewrites of its hot path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sonic_deploy.motion.synth import synthesize_all
from sonic_deploy.sim2sim import Sim2SimConfig, _build, run_inprocess

SHIPPED = Path(__file__).resolve().parents[2] / "policies" / "g1_sonic_smoke" / "policy.onnx"
MOTION = "arm_waves"
DURATION = 4.0  # s: damping, ramp and hold (2.5 s in the field configuration), then 1.5 s active


def record(tmp: str | Path, policy: str | Path = SHIPPED, motion: str = MOTION, duration: float = DURATION) -> dict:
    """Run sim2sim in-process and return stacked arrays: obs_proprio, obs_encoder, action, cmd_q, cmd_kp, cmd_kd."""
    clip = synthesize_all(str(tmp), [motion])[0]
    out = {k: [] for k in ("obs_proprio", "obs_encoder", "action", "cmd_q", "cmd_kp", "cmd_kd")}
    import sonic_deploy.sim2sim as s2s

    build = s2s._build

    def traced_build(*a, **kw):
        clip_, player, runner, ctrl, bodies = build(*a, **kw)
        observe, infer, step = runner.observe, runner.infer, ctrl.step

        def obs(state, frames):
            o = observe(state, frames)
            out["obs_proprio"].append(np.array(o["obs_proprio"][0], np.float64))
            out["obs_encoder"].append(np.array(o["obs_encoder"][0], np.float64))
            return o

        def inf(inputs):
            a_ = infer(inputs)
            out["action"].append(np.array(a_, np.float64))
            return a_

        def stp(state, now):
            c = step(state, now)
            out["cmd_q"].append(np.array(c.q, np.float64))
            out["cmd_kp"].append(np.array(c.kp, np.float64))
            out["cmd_kd"].append(np.array(c.kd, np.float64))
            return c

        runner.observe, runner.infer, ctrl.step = obs, inf, stp
        return clip_, player, runner, ctrl, bodies

    s2s._build = traced_build
    try:
        rep, _ = run_inprocess(str(policy), clip, Sim2SimConfig(duration=duration))
    finally:
        s2s._build = build
    assert not rep.fell and rep.active_s > 1.0, rep
    return {k: np.asarray(v) for k, v in out.items()}


if __name__ == "__main__":
    import sys
    import tempfile

    dst = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "data" / "step_golden.npz")
    with tempfile.TemporaryDirectory() as d:
        rec = record(d)
    np.savez_compressed(dst, **rec)
    print(dst, {k: v.shape for k, v in rec.items()})
