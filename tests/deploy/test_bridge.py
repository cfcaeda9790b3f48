"""MuJoCo DDS bridge: per-motor PD from LowCmd_, bad-CRC commands rejected and counted, lock-step stepping."""

import time

import numpy as np

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
