"""Real-time sim-to-sim, as on the robot: the shipped policy on its own 50 Hz wall-clock loop against the free-running
bridge through DDS (the G1 on its virtual gantry until the controller holds it), 30 s per motion, compared with the
lock-step run of the same motion (in-process, which the DDS lock-step run equals: tests/deploy/test_sim2sim.py).

Tolerances: the two runs differ in how they start (the real-time G1 hangs on the gantry through damping and ramp,
the lock-step one stands on the floor from tick 0) and in timing (the real-time controller reads whatever state
arrived last, 0-2 ms old, on a loaded machine); measured here: root-relative MPJPE 19.5 vs 19.3 mm (stand_idle) and
22.4 vs 23.0 mm (step_in_place), joint error 0.044 vs 0.045 and 0.054 vs 0.056 rad. Global MPJPE is reported, not
compared: without odometry it measures drift, which the different start changes.

Needs the CPU a robot's computer gives its control loop: on 2 cores at load 4-5 (other jobs running) the jitter p99
is 6-8 ms and both motions track; with the same machine 8x oversubscribed (load 16) the jitter p99 reached 25-28 ms,
cycles took up to 110 ms and the robot fell, even at niceness -10.
"""

from dataclasses import replace
from pathlib import Path

import pytest

from sonic_deploy.config import load_controller_config
from sonic_deploy.sim2sim import Sim2SimConfig, run_inprocess, run_realtime

POLICY = Path(__file__).resolve().parents[2] / "policies" / "g1_sonic_smoke" / "policy.onnx"
DURATION = 30.0
TOL_MPJPE_ROOT_MM = 10.0
TOL_JOINT_RAD = 0.02


@pytest.mark.slow
@pytest.mark.parametrize("motion", ["stand_idle", "step_in_place"])
def test_realtime_tracks_like_lockstep(motion, synthetic_motions, dds_cfg):
    clip = synthetic_motions / f"{motion}.npz"
    cfg = Sim2SimConfig(duration=DURATION, domain_id=dds_cfg.domain_id)
    rt_cfg = replace(cfg, realtime=True, nice=-10)  # above the other work on the machine, as on the robot (root)
    ref, _ = run_inprocess(POLICY, clip, cfg)
    rt, (trace, ticks, qpos, _) = run_realtime(POLICY, clip, rt_cfg)
    print(f"{motion}: lock-step root {ref.mpjpe_root_mm:.1f} mm joint {ref.joint_error_rad:.4f} rad global "
          f"{ref.mpjpe_global_mm:.1f} mm | real-time root {rt.mpjpe_root_mm:.1f} mm joint {rt.joint_error_rad:.4f} rad "
          f"global {rt.mpjpe_global_mm:.1f} mm, period p99 {rt.period_p99_ms:.2f} ms, {rt.dds}")
    assert ref.ok and not ref.fell, ref.faults
    # a loop starved of CPU (other work on the machine: jitter p99 over about 10 ms) falls as a robot would
    assert rt.completed and rt.ok and not rt.fell, (rt.faults, rt.dds)
    assert [m for _, m in rt.transitions] == ["damping", "ramp", "active"]
    start = load_controller_config("sim")  # the start-up the run used: damping, the ramp, the hold
    assert rt.active_s > DURATION - (start.damping_duration + start.ramp_duration + start.hold_duration) - 1.0  # + discovery
    assert abs(rt.mpjpe_root_mm - ref.mpjpe_root_mm) < TOL_MPJPE_ROOT_MM
    assert abs(rt.joint_error_rad - ref.joint_error_rad) < TOL_JOINT_RAD
    # the gantry let go once the controller held the standing pose, and nothing was lost on the wire
    assert rt.dds["gantry_released_s"] is not None and rt.dds["gantry_released_s"] > 0
    assert rt.dds["states_bad_crc"] == 0 and rt.dds["bridge_commands_bad_crc"] == 0
    assert rt.dds["bridge_commands_received"] >= 0.95 * rt.dds["commands_sent"]
    assert len(ticks) >= 0.95 * DURATION / 0.02 and len(qpos) == len(ticks)  # one video/plot frame per cycle
