"""Drive an in-process lock-step bridge from the real G1 DDS class in one thread: write a command, let the bridge
apply it (one control period of physics) and publish, read the state that follows."""

import time

from sonic_deploy.bridge.server import BridgeConfig, MujocoBridge
from sonic_deploy.robots.g1_dds import G1DdsRobot


def connect(dds_cfg, thermal=None, timeout=15.0):
    bridge = MujocoBridge(BridgeConfig(dds=dds_cfg, lockstep=True, thermal=thermal))
    robot = G1DdsRobot(dds_cfg, lockstep=True)
    t_end = time.time() + timeout
    while time.time() < t_end:
        bridge.publish_state()
        if robot.wait_connected(0.1):
            break
    assert robot.read_state() is not None, "no LowState_ from the bridge"
    return bridge, robot


def step(bridge, robot, ctrl, state, timeout=5.0):
    """One control period: the controller's command on ``state`` -> bridge -> the next state."""
    now = state.tick / 1000.0
    state.timestamp = now
    cmd = ctrl.step(state, now)
    robot.write_command(cmd)
    t_end = time.time() + timeout
    while time.time() < t_end:
        if bridge._apply_pending():
            break
        bridge._reader.wait(0.01)
    nxt = robot.wait_state(state.tick, timeout)
    assert nxt is not None, "the bridge did not answer"
    return cmd, nxt
