"""Start-up gains: the hold gains are the measured ones, switch on without a step, and a robot stand-in that runs
the motor PD explicitly at 500 Hz (as a motor driver fed at the command rate) stays stable through
passive -> damping -> ramp -> active -> damping; the old start-up (10x kp and 10x kd, on in one step) does not."""

import dataclasses
import math

import numpy as np
import pytest

from sonic_deploy.control.controller import Controller, ControllerConfig, Mode
from sonic_deploy.robots.base import RobotState
from sonic_deploy.robots.g1 import G1, HOLD_ANKLE_KD_FACTOR, HOLD_ANKLE_KP_FACTOR, HOLD_GAIN_FACTOR
from sonic_deploy.utils.rotations import tilt_deg

from _explicit_pd import ExplicitPdRobot  # tests/deploy is on sys.path (pytest rootdir-relative import)

N = G1.num_joints
DT = G1.control_dt


class ZeroActionPolicy:
    """The policy interface at the tracking gains, holding the default pose (action 0)."""

    kp, kd = G1.kp.copy(), G1.kd.copy()

    def reset(self):
        pass

    def reference_times(self, t):
        return np.array([t])

    def observe(self, state, frames):
        return {"obs_proprio": state.q[None].astype(np.float32)}

    def term_at(self, name, i):
        return "joint_pos"

    def infer(self, inputs):
        return np.zeros(N)

    def commit(self, action):
        pass

    def targets(self, action):
        return G1.default_joint_pos + G1.action_scale * action


def _sequence(spec, cfg: ControllerConfig) -> tuple[Controller, list]:
    """passive 0.1 s -> damping (one period) -> ramp (2 s) + hold -> active 0.5 s -> damping 0.3 s, on the stand-in."""
    robot = ExplicitPdRobot(spec)
    robot.clock = lambda: robot.tick_ms / 1000.0
    ctrl = Controller(spec, ZeroActionPolicy(), None, cfg)
    t_active = 0.12 + cfg.ramp_duration + 0.5
    plan = {5: "damping", 6: "ramp", int(round(t_active / DT)): "active", int(round((t_active + 0.5) / DT)): "damping"}
    rows = []
    for k in range(int(round((t_active + 0.8) / DT))):
        if k in plan:
            ctrl.request(plan[k])
        now = robot.tick_ms / 1000.0
        state = robot.read_state()
        cmd = ctrl.step(state, now)
        robot.write_command(cmd)
        robot.advance()
        rows.append((ctrl.mode, state, cmd, float(tilt_deg(robot.data.qpos[3:7]))))
    return ctrl, rows


def stability_problems(ctrl: Controller, rows: list) -> list[str]:
    out = [f"fault {f}" for f in ctrl.faults]
    modes = [m for _, m in ctrl.transitions]
    if modes != ["damping", "ramp", "active", "damping"]:
        out.append(f"transitions {modes}")
    for phase, max_tilt in ((Mode.RAMP, 8.0), (Mode.ACTIVE, 20.0)):  # active: tracking gains, no balance policy
        r = [(s, t) for m, s, _, t in rows if m == phase]
        if not r:
            continue
        dq = max(np.abs(s.dq).max() for s, _ in r)
        tilt = max(t for _, t in r)
        if dq > 4.0 or not all(np.isfinite(s.q).all() for s, _ in r):
            out.append(f"{phase.value}: joint speed {dq:.1f} rad/s")
        if tilt > max_tilt:
            out.append(f"{phase.value}: pelvis tilt {tilt:.1f} deg")
    last = rows[-1]
    if last[0] != Mode.DAMPING or last[2].kp.any() or not np.isfinite(last[1].q).all():
        out.append("did not end in damping")
    return out


def test_hold_gains_are_the_measured_factors():
    assert HOLD_GAIN_FACTOR == 8.0 and HOLD_ANKLE_KP_FACTOR == 16.0 and HOLD_ANKLE_KD_FACTOR == 2.0
    ankle = np.array(["ankle" in n for n in G1.joint_names])
    assert ankle.sum() == 4
    np.testing.assert_allclose(G1.hold_kp[~ankle], HOLD_GAIN_FACTOR * G1.kp[~ankle])
    np.testing.assert_allclose(G1.hold_kd[~ankle], math.sqrt(HOLD_GAIN_FACTOR) * G1.kd[~ankle])
    np.testing.assert_allclose(G1.hold_kp[ankle], HOLD_ANKLE_KP_FACTOR * G1.kp[ankle])  # 456: the balancing joints
    np.testing.assert_allclose(G1.hold_kd[ankle], HOLD_ANKLE_KD_FACTOR * G1.kd[ankle])
    assert G1.hold_kp.max() < 800  # was 991 at 10x


def test_ramp_blends_gains_and_targets_without_a_step():
    cfg = ControllerConfig(ramp_duration=2.0, gain_ramp=0.4)
    ctrl = Controller(G1, None, None, cfg)
    start_q = G1.default_joint_pos + 0.02  # inside every joint's torque reach at hold gains
    st = lambda t: RobotState(timestamp=t, q=start_q.copy(), dq=np.zeros(N), tau=np.zeros(N),  # noqa: E731
                              imu_quat=np.array([1.0, 0, 0, 0]), imu_gyro=np.zeros(3), imu_acc=np.zeros(3),
                              temperature=np.full(N, 40.0))
    ctrl.request("damping")
    damping = ctrl.step(st(0.0), 0.0)
    ctrl.request("ramp")
    cmds = [damping] + [ctrl.step(st(k * DT), k * DT) for k in range(1, 130)]
    kp = np.array([c.kp for c in cmds])
    kd = np.array([c.kd for c in cmds])
    q = np.array([c.q for c in cmds])
    assert kp[0].max() == 0 and kp[1].max() == 0  # the first ramp command is still the damping command's gains
    np.testing.assert_allclose(kd[1], ctrl.damping_kd)
    np.testing.assert_allclose(kp[-1], G1.hold_kp)
    np.testing.assert_allclose(kp[int(0.4 / DT) + 1], G1.hold_kp)  # full hold gains after gain_ramp
    assert np.all(np.diff(kp, axis=0) >= -1e-9)  # monotone
    assert np.abs(np.diff(kp, axis=0)).max() <= 1.5 * G1.hold_kp.max() * DT / 0.4 + 1e-9  # no step: <= 1.5x mean rate
    # targets start at the measured pose (clipped into the soft limits) and reach the default pose at the end
    np.testing.assert_allclose(q[1], np.clip(start_q, ctrl.lo, ctrl.hi))
    np.testing.assert_allclose(q[int(2.0 / DT) + 1], G1.default_joint_pos, atol=1e-12)
    assert np.abs(np.diff(q[1:], axis=0)).max() <= 0.02 * 1.5 * DT / 2.0 + 1e-9  # smoothstep: at most 1.5x mean rate


def test_explicit_pd_standin_stays_stable_through_startup_and_back_to_damping():
    ctrl, rows = _sequence(G1, ControllerConfig())
    assert stability_problems(ctrl, rows) == []
    hold = [s for m, s, _, _ in rows if m == Mode.RAMP][-10:]  # holding the default pose before the policy
    assert max(np.abs(s.q - G1.default_joint_pos).mean() for s in hold) < 0.02


def test_old_step_to_ten_times_gains_is_unstable_in_the_same_standin():
    old = dataclasses.replace(G1, hold_kp=10.0 * G1.kp, hold_kd=10.0 * G1.kd)
    ctrl, rows = _sequence(old, ControllerConfig(gain_ramp=1e-6))  # gains on in one step
    problems = stability_problems(ctrl, rows)
    assert any("joint speed" in p for p in problems) and any(p.startswith("fault") for p in problems), problems


@pytest.mark.parametrize("gain_ramp", [1e-6])
def test_measured_factor_with_a_step_still_holds_but_blending_is_the_default(gain_ramp):
    """The factor, not only the blend, is what keeps the explicit stand-in stable: 8x with sqrt(8)x kd holds even
    switched on in one step (the blend is for the mechanics: no torque jump)."""
    assert ControllerConfig().gain_ramp > 0.1
    ctrl, rows = _sequence(G1, ControllerConfig(gain_ramp=gain_ramp))
    assert stability_problems(ctrl, rows) == []
