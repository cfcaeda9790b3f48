"""BeyondMimic / mjlab ONNX adapter: metadata parsing, Isaac Lab -> Unitree joint remap, closed loop, refusals."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx (dev extra) builds the test artifacts")
from _artifacts import BM_OBS, ISAAC_ORDER, csv, write_bm_policy  # noqa: E402

from sonic_deploy.control import Controller, ControllerConfig, Mode  # noqa: E402
from sonic_deploy.policy.beyondmimic import BeyondMimicPolicy, mat_to_6d_rowmajor  # noqa: E402
from sonic_deploy.policy.contract import ContractError  # noqa: E402
from sonic_deploy.robots.g1 import G1  # noqa: E402
from sonic_deploy.robots.mujoco_robot import MujocoRobot  # noqa: E402

OBS = BM_OBS


def test_metadata_and_joint_remap(tmp_path):
    path, motion = write_bm_policy(tmp_path / "bm.onnx")
    pol = BeyondMimicPolicy(path)
    assert ISAAC_ORDER[1] == "right_hip_pitch_joint" and ISAAC_ORDER != list(G1.joint_names)
    np.testing.assert_allclose(pol.kp, G1.hold_kp, rtol=1e-5)  # back in Unitree order
    np.testing.assert_allclose(pol.kd, G1.hold_kd, rtol=1e-5)
    a = np.zeros(29)
    a[G1.joint_names.index("left_knee_joint")] = 1.0  # Unitree-order action
    q = pol.targets(a)
    np.testing.assert_allclose(q, G1.default_joint_pos + a * G1.action_scale, atol=1e-5)
    r = np.eye(3)
    assert mat_to_6d_rowmajor(r).tolist() == [1, 0, 0, 1, 0, 0]


def test_closed_loop_tracks_motion(tmp_path):
    path, motion = write_bm_policy(tmp_path / "bm.onnx")
    pol = BeyondMimicPolicy(path)
    robot = MujocoRobot(G1)
    ctrl = Controller(G1, pol, None, ControllerConfig(auto=True, ramp_duration=0.5, damping_duration=0.1,
                                                      hold_duration=0.1))
    elbow = G1.joint_names.index("left_elbow_joint")
    errs = []
    for k in range(150):
        now = robot.tick_ms / 1000.0
        st = robot.read_state()
        cmd = ctrl.step(st, now)
        robot.write_command(cmd)
        robot.advance()
        if ctrl.mode == Mode.ACTIVE and pol.step_index > 5:
            ref = motion[min(pol.step_index - 1, len(motion) - 1), ISAAC_ORDER.index("left_elbow_joint")]
            errs.append(abs(robot.read_state().q[elbow] - ref))
    assert not ctrl.faults and ctrl.mode == Mode.ACTIVE
    assert pol.step_index > 100
    assert np.mean(errs) < 0.1  # the elbow follows the embedded motion (0.3 rad amplitude)


def test_refusals(tmp_path):
    path, _ = write_bm_policy(tmp_path / "a.onnx", obs_names=OBS[:-1] + ["bogus"])
    with pytest.raises(ContractError, match="observation_names.*bogus"):
        BeyondMimicPolicy(path)
    path, _ = write_bm_policy(tmp_path / "b.onnx", obs_names=["command", "motion_anchor_pos_b"] + OBS[1:])
    with pytest.raises(ContractError, match="state estimator"):
        BeyondMimicPolicy(path)
    names = list(ISAAC_ORDER)
    names[3] = "left_toe_joint"
    path, _ = write_bm_policy(tmp_path / "c.onnx", joint_names=ISAAC_ORDER)
    m = onnx.load(str(path))
    for p in m.metadata_props:
        if p.key == "joint_names":
            p.value = csv(names)
    onnx.save(m, str(path))
    with pytest.raises(ContractError, match=f"{path}.*joint_names.*left_toe_joint"):
        BeyondMimicPolicy(path)
