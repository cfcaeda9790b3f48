"""MuJoCo DDS bridge: per-motor PD from LowCmd_, bad-CRC commands rejected and counted, lock-step stepping."""

import dataclasses
import time

import numpy as np
import pytest

from sonic_deploy.bridge.server import BridgeConfig, MujocoBridge
from sonic_deploy.dds.channel import lowcmd_writer, lowstate_reader, participant
from sonic_deploy.dds.codec import LowCmdData, decode_lowstate, encode_lowcmd
from sonic_deploy.robots.g1 import G1


def _pump(bridge, reader, want, timeout=10.0):
    got = []
    t_end = time.time() + timeout
    while time.time() < t_end and len(got) < want:
        bridge._apply_pending()
        got += [decode_lowstate(d) for d in reader.take()]
        time.sleep(0.002)
    return got


def test_bridge_lockstep_pd_and_crc_rejection(dds_cfg):
    bridge = MujocoBridge(BridgeConfig(dds=dds_cfg, lockstep=True))
    dp = participant(dds_cfg)
    writer = lowcmd_writer(dp, reliable=True, depth=64)
    reader = lowstate_reader(dp, reliable=True, depth=64)
    t_end = time.time() + 10
    while (writer.matched() == 0 or reader.matched() == 0) and time.time() < t_end:
        time.sleep(0.01)
    j = G1.joint_names.index("left_shoulder_pitch_joint")
    cmd = LowCmdData(mode_machine=5)
    cmd.mode[:29] = 1
    cmd.q[:29] = G1.default_joint_pos
    cmd.q[j] += 0.5
    cmd.kp[:29] = G1.hold_kp
    cmd.kd[:29] = G1.hold_kd
    good = encode_lowcmd(cmd)
    bad = bytearray(good)
    bad[4 + 28 * 5 + 4] ^= 0x40  # motor 5 q, after the CRC was computed
    writer.write(bytes(bad))
    for _ in range(25):  # half a second of lock-step
        writer.write(good)
    states = _pump(bridge, reader, 25)
    assert bridge.stats.commands_bad_crc == 1 and bridge.stats.commands_received == 25
    assert bridge.stats.physics_steps == 25 * G1.decimation
    assert [s.tick for s in states] == [20 * (k + 1) for k in range(25)]
    last = states[-1]
    assert last.crc_ok and last.mode_machine == 5
    assert abs(last.q[j] - (G1.default_joint_pos[j] + 0.5)) < 0.1  # the shoulder followed its target
    np.testing.assert_allclose(np.linalg.norm(last.quaternion), 1.0, atol=1e-5)  # IMU from the pelvis sensors
    assert abs(last.accelerometer[2]) > 5.0  # gravity seen by the accelerometer while standing


# --- virtual gantry -------------------------------------------------------------------------------------------
def _hang(release: str, seconds: float = 2.0, commands=None):
    """Step a MuJoCo G1 with limp motors (then ``commands(t) -> (enabled, q, kp)``) on the gantry; pelvis z, tilt."""
    from sonic_deploy.bridge.gantry import Gantry, GantryConfig
    from sonic_deploy.robots.base import JointCommand
    from sonic_deploy.robots.mujoco_robot import MujocoRobot
    from sonic_deploy.utils.rotations import tilt_deg

    robot = MujocoRobot(G1, float32_io=False)
    gantry = Gantry(GantryConfig(release=release, release_after_s=1.0), G1, robot.model, robot.data)
    pelvis = robot.model.body("pelvis").id
    dt = robot.model.opt.timestep
    low_z, max_tilt = np.inf, 0.0
    for k in range(int(seconds / dt)):
        t = k * dt
        if commands is not None and k % G1.decimation == 0:
            enabled, q, kp = commands(t)
            robot.apply(JointCommand(q=q, dq=np.zeros(29), tau=np.zeros(29), kp=kp, kd=G1.hold_kd), enabled=enabled)
            gantry.observe(t, enabled, q, kp)
        gantry.tick(t)
        gantry.apply()
        robot.advance(steps=1)
        low_z = min(low_z, robot.data.xpos[pelvis][2])
        max_tilt = max(max_tilt, float(tilt_deg(robot.data.qpos[3:7])))
    return gantry, low_z, max_tilt, robot


def test_gantry_holds_a_limp_g1_upright():
    gantry, low_z, tilt, _ = _hang("manual")
    assert gantry.engaged and low_z > 0.70 and tilt < 15.0  # hangs at about its standing height (0.79 m)
    off, low_z_off, _, _ = _hang("off")
    assert not off.engaged and low_z_off < 0.5  # without it the limp robot collapses


def test_gantry_auto_release_needs_sustained_stiff_standing_commands():
    on = np.ones(29, bool)
    stand = lambda t: (on, G1.default_joint_pos.copy(), G1.hold_kp.copy())  # noqa: E731
    gantry, _, _, robot = _hang("auto", 1.0, stand)
    assert not gantry.engaged and gantry.released_at == pytest.approx(0.25, abs=0.03)
    assert gantry.acting and 0.0 < robot.data.xfrc_applied[gantry.body, 2] < 150.0  # lowering: 0.75 s of 1 s
    gantry, _, _, robot = _hang("auto", 1.5, stand)
    assert not gantry.acting and not robot.data.xfrc_applied.any()  # lowered by 1.25 s
    # stiff but far from standing (a squat), or standing but soft: it keeps holding
    squat = G1.default_joint_pos.copy()
    squat[[3, 9]] += 0.5
    for cmd in (lambda t: (on, squat, G1.hold_kp.copy()), lambda t: (on, G1.default_joint_pos.copy(), 0.1 * G1.kp)):
        g, _, _, _ = _hang("auto", 1.0, cmd)
        assert g.engaged
    # an interruption restarts the count
    flicker = lambda t: (on, G1.default_joint_pos.copy(), G1.hold_kp * (0.0 if 0.2 <= t < 0.22 else 1.0))  # noqa: E731
    g, _, _, _ = _hang("auto", 1.0, flicker)
    assert g.released_at == pytest.approx(0.22 + 0.25, abs=0.03)


@pytest.mark.parametrize("delay", [0.0, 0.2, 1.0])
def test_the_start_up_stands_wherever_in_the_ramp_the_gantry_lets_go(delay):
    """A controller started ``delay`` s after the bridge: the auto release comes at a different point of its ramp
    (0.36, 1.56, 2.38 s). With the ankles at 8x / sqrt(8)x and the band cut in one step, these three timings fell
    (benchmarks/gantry_release.py: 8 of 20); ankles at 16x / 2x with the band lowered over 1 s, none does."""
    from _gantry_start import start_up
    from sonic_deploy.bridge.gantry import GantryConfig

    r = start_up(delay, seconds=4.5)
    assert r.released_s is not None and r.stood, r
    assert r.peak_tilt_deg < 8.0 and r.final_tilt_deg < 3.0, r
    if delay == 0.0:  # the same timing, the old start-up: it falls (the test can see the defect)
        ankle = np.array(["ankle" in n for n in G1.joint_names])
        kp, kd = G1.hold_kp.copy(), G1.hold_kd.copy()
        kp[ankle], kd[ankle] = 8.0 * G1.kp[ankle], np.sqrt(8.0) * G1.kd[ankle]
        old = start_up(delay, 4.5, GantryConfig(lower_s=0.0), dataclasses.replace(G1, hold_kp=kp, hold_kd=kd))
        assert not old.stood and old.mode == "estop", old


def test_gantry_timer_release():
    gantry, _, _, _ = _hang("timer", 1.5)
    assert not gantry.engaged and gantry.released_at == pytest.approx(1.0, abs=0.01)
