"""BeyondMimic / mjlab ONNX adapter: metadata parsing, Isaac Lab -> Unitree joint remap, closed loop, refusals."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx (dev extra) builds the test artifacts")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from sonic_deploy.control import Controller, ControllerConfig, Mode  # noqa: E402
from sonic_deploy.policy.beyondmimic import BeyondMimicPolicy, mat_to_6d_rowmajor  # noqa: E402
from sonic_deploy.policy.contract import ContractError  # noqa: E402
from sonic_deploy.robots.g1 import G1  # noqa: E402
from sonic_deploy.robots.mujoco_robot import MujocoRobot  # noqa: E402

# Isaac Lab (breadth-first) index of each Unitree joint (facts sheet, section 1)
ISAAC_INDEX = [0, 3, 6, 9, 13, 17, 1, 4, 7, 10, 14, 18, 2, 5, 8, 11, 15, 19, 21, 23, 25, 27, 12, 16, 20, 22, 24, 26, 28]
ISAAC_ORDER = [G1.joint_names[i] for i in np.argsort(ISAAC_INDEX)]
OBS = ["command", "motion_anchor_ori_b", "base_ang_vel", "joint_pos", "joint_vel", "actions"]


def csv(v):
    return ",".join(f"{x:.6f}" if isinstance(x, float) else str(x) for x in v)


def write_bm_policy(path, *, obs_names=OBS, joint_names=ISAAC_ORDER, T=200):
    perm = G1.joint_index(joint_names)  # policy index -> Unitree index
    J = len(joint_names)
    default = G1.default_joint_pos[perm]
    scale = G1.action_scale[perm]
    t = np.arange(T) / 50.0
    motion = np.tile(default, (T, 1))
    elbows = [joint_names.index("left_elbow_joint"), joint_names.index("right_elbow_joint")]
    motion[:, elbows] += 0.3 * np.sin(2 * np.pi * 0.5 * t)[:, None]
    vel = np.gradient(motion, 1 / 50.0, axis=0)
    dims = {"command": 2 * J, "motion_anchor_ori_b": 6, "motion_anchor_pos_b": 3, "base_lin_vel": 3, "base_ang_vel": 3,
            "joint_pos": J, "joint_vel": J, "actions": J, "bogus": 5}
    n_obs = sum(dims[n] for n in obs_names)
    w = np.zeros((n_obs, J), np.float32)
    w[np.arange(J), np.arange(J)] = 1.0 / scale  # command joint_pos part (command is the first term)
    b = (-default / scale).astype(np.float32)
    bodies = ["pelvis", "torso_link"]
    body_quat = np.tile([1.0, 0, 0, 0], (T, 2, 1)).astype(np.float32)
    body_pos = np.tile([[0, 0, 0.76], [0, 0, 1.0]], (T, 1, 1)).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in (
        (w, "W"), (b, "b"), (motion.astype(np.float32), "M_pos"), (vel.astype(np.float32), "M_vel"),
        (body_quat, "M_bq"), (body_pos, "M_bp"), (np.array([T - 1], np.int64), "Tmax"), (np.array([1], np.int64), "one"))]
    nodes = [helper.make_node("MatMul", ["obs", "W"], ["aw"]), helper.make_node("Add", ["aw", "b"], ["actions"]),
             helper.make_node("Cast", ["time_step"], ["ts_i"], to=TensorProto.INT64),
             helper.make_node("Reshape", ["ts_i", "one"], ["ts_1"]), helper.make_node("Min", ["ts_1", "Tmax"], ["ts"])]
    for src, dst in (("M_pos", "joint_pos"), ("M_vel", "joint_vel"), ("M_bq", "body_quat_w"), ("M_bp", "body_pos_w")):
        nodes.append(helper.make_node("Gather", [src, "ts"], [dst], axis=0))
    f = TensorProto.FLOAT
    graph = helper.make_graph(nodes, "bm", [helper.make_tensor_value_info("obs", f, [1, n_obs]),
                                             helper.make_tensor_value_info("time_step", f, [1, 1])],
                              [helper.make_tensor_value_info("actions", f, [1, J]),
                               helper.make_tensor_value_info("joint_pos", f, [1, J]),
                               helper.make_tensor_value_info("joint_vel", f, [1, J]),
                               helper.make_tensor_value_info("body_quat_w", f, [1, 2, 4]),
                               helper.make_tensor_value_info("body_pos_w", f, [1, 2, 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = {"joint_names": csv(joint_names), "joint_stiffness": csv(list(G1.hold_kp[perm])),
            "joint_damping": csv(list(G1.hold_kd[perm])), "default_joint_pos": csv(list(default)),
            "action_scale": csv(list(scale)), "observation_names": csv(obs_names), "anchor_body_name": "torso_link",
            "body_names": csv(bodies), "command_names": "motion"}
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(model, str(path))
    return path, motion


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
