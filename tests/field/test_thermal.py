"""Thermal protection in sim-to-sim through DDS: the bridge heats the motors from their torque, the controller
reads ``motor_state[i].temperature`` from LowState_, warns, derates, and damps at the limit or on a motor fault.

The heating model is accelerated for the test (stated): k = 1.2 C/Nm^2 on the ankle pitch motors (0 on the others,
whose ramp torques would otherwise dominate) and time constant 300 s run at
speedup 100 (3 s effective), so standing on the held default pose (ankle pitch about 6.6 Nm rms under the hold
gains) heats the ankles towards 35 + 1.2 * 6.6^2 = 87 C within seconds. With the project's untrained policies "stays up through the
derate" can only be shown on the hold (ramp) path, which is what this test runs: the controller ramps to and
holds the default pose under the derated gains.
"""

import numpy as np

from sonic_deploy.control.controller import Controller, ControllerConfig, Mode
from sonic_deploy.control.thermal import ThermalConfig, ThermalModel, ThermalModelConfig, ThermalMonitor
from sonic_deploy.robots.g1 import G1

from ._lockstep import connect, step

ANKLES = [G1.joint_names.index("left_ankle_pitch_joint"), G1.joint_names.index("right_ankle_pitch_joint")]
FAST = ThermalModelConfig(ambient=35.0, k=[1.2 if i in ANKLES else 0.0 for i in range(29)], time_constant=300.0, speedup=100.0)


def _run(dds_cfg, thermal_cfg, seconds, bridge_hook=None):
    bridge, robot = connect(dds_cfg, thermal=FAST)
    ctrl = Controller(G1, cfg=ControllerConfig(auto=True, ramp_duration=1.0, thermal=thermal_cfg))
    state = robot.read_state()
    log = []
    for k in range(int(seconds / G1.control_dt)):
        if bridge_hook:
            bridge_hook(k, bridge)
        cmd, state = step(bridge, robot, ctrl, state)
        log.append((ctrl.mode, cmd, state, ctrl.thermal.scale.copy(), bridge.robot.data.qpos[2]))
    return bridge, robot, ctrl, log


def test_heating_warns_derates_and_stays_up(dds_cfg):
    cfg = ThermalConfig(warn=55.0, limit=100.0, derate_floor=0.5, derate_rate=0.25)
    bridge, robot, ctrl, log = _run(dds_cfg, cfg, 6.0)
    temps = np.array([s.temperature for _, _, s, _, _ in log])
    assert temps[0, ANKLES].max() < 40 and temps[-1, ANKLES].min() > 70  # heated through DDS
    assert not ctrl.faults, ctrl.faults
    warned = {w.joint for w in ctrl.thermal.warnings}
    assert {G1.joint_names[i] for i in ANKLES} <= warned
    scales = np.array([sc for *_, sc, _ in log])
    assert scales[-1, ANKLES].max() < 0.8  # derated
    assert np.all(np.diff(scales[:, ANKLES], axis=0) >= -0.25 * G1.control_dt - 1e-9)  # rate-limited
    mode, cmd, *_ = log[-1]
    assert mode == Mode.RAMP
    np.testing.assert_allclose(cmd.kp[ANKLES], G1.hold_kp[ANKLES] * scales[-2, ANKLES], rtol=0.05)  # kp scaled
    cool = [i for i in range(29) if i not in ANKLES and scales[-1, i] == 1.0]
    np.testing.assert_allclose(cmd.kp[cool], G1.hold_kp[cool])
    assert min(z for *_, z in log[60:]) > 0.65  # stayed up through the derate
    summary = ctrl.summary()["thermal"]
    assert summary["peak_temperature"]["left_ankle_pitch_joint"] >= temps[:-1, ANKLES[0]].max() - 1e-9  # the states it saw
    assert ctrl.status()["thermal"]["derate"]


def test_limit_and_motor_fault_end_in_damping(dds_cfg):
    cfg = ThermalConfig(warn=50.0, limit=60.0)
    bridge, robot, ctrl, log = _run(dds_cfg, cfg, 3.0)
    f = ctrl.faults[0]
    assert f.cause == "motor_overtemperature" and f.joint in {G1.joint_names[i] for i in ANKLES} and f.value >= 60
    k = next(i for i, (m, *_) in enumerate(log) if m == Mode.ESTOP)
    assert not log[k][1].kp.any() and log[k][1].kd.all()  # damping in the same step

    def fault_at_40(k, bridge):
        if k == 40:
            bridge.inject_motor_fault(17, 0x4)

    bridge, robot, ctrl, log = _run(dds_cfg, ThermalConfig(warn=150.0, limit=160.0), 1.5, fault_at_40)
    f = ctrl.faults[0]
    assert f.cause == "motor_fault" and f.joint == G1.joint_names[17] and "0x00000004" in f.detail
    k = next(i for i, (m, *_) in enumerate(log) if m == Mode.ESTOP)
    assert k == 41  # the first state carrying the bit
    assert not log[k][1].kp.any()


def test_monitor_units():
    mon = ThermalMonitor(ThermalConfig(warn=[60.0] * 29, limit=80.0, derate=[True] * 12 + [False] * 17,
                                       derate_floor=0.4, derate_rate=1.0), G1.joint_names)
    t = np.full(29, 40.0)
    assert mon.update(t, None, 0.0) is None and not mon.derating
    t[[3, 20]] = 70.0  # halfway: target scale 0.7 on the knee, none on the (non-derated) arm
    for k in range(1, 60):
        assert mon.update(t, np.zeros(29, np.uint32), 0.02 * k) is None
    assert abs(mon.scale[3] - 0.7) < 1e-9 and mon.scale[20] == 1.0
    assert [w.joint for w in mon.warnings] == [G1.joint_names[3], G1.joint_names[20]]
    t[3] = 81.0
    assert mon.update(t, None, 2.0).cause == "motor_overtemperature"
    assert mon.summary()["peak_temperature"][G1.joint_names[3]] == 81.0
    model = ThermalModel(ThermalModelConfig(ambient=30.0, k=0.5, time_constant=10.0), 2)
    for _ in range(1000):
        model.step(np.array([10.0, 0.0]), 0.1)
    np.testing.assert_allclose(model.temperature, [80.0, 30.0], atol=1e-2)  # steady state: ambient + k tau^2
