"""Policy contract: the runner accepts a good artifact, refuses bad ones naming file and field; observation terms."""

import json

import numpy as np
import pytest

pytest.importorskip("onnx", reason="onnx (dev extra) builds the test artifacts")

from sonic_deploy.policy import observations as ob  # noqa: E402
from sonic_deploy.policy.contract import ContractError, PolicyContract, TermSpec  # noqa: E402
from sonic_deploy.policy.runner import PolicyRunner  # noqa: E402
from sonic_deploy.policy.testing import default_contract, write_tracking_policy  # noqa: E402
from sonic_deploy.robots.base import RobotState  # noqa: E402
from sonic_deploy.robots.g1 import G1  # noqa: E402

AVAIL = {"joint_pos", "joint_vel", "root_quat"}


def _contract(**kw) -> dict:
    d = json.loads(default_contract(hold_gains=True).to_json())
    d.update(kw)
    return d


def _refuse(tmp_path, field, *, meta=None, **kw):
    path = tmp_path / "bad.onnx"
    write_tracking_policy(path, default_contract(hold_gains=True), meta_override=meta, **kw)
    with pytest.raises(ContractError) as exc:
        PolicyRunner(path, G1, available=AVAIL)
    msg = str(exc.value)
    assert str(path) in msg and field in msg and "expected" in msg
    assert "\n" not in msg
    return msg


def test_good_artifact_loads_and_maps_actions(tmp_path):
    path = write_tracking_policy(tmp_path / "good.onnx")
    r = PolicyRunner(path, G1, available=AVAIL)
    assert r.contract.encoder == "g1" and r.contract.proprio_dim == 93 and r.contract.encoder_dim == 5 * (29 + 29 + 6)
    np.testing.assert_allclose(r.targets(np.ones(29)), G1.default_joint_pos + G1.action_scale)
    assert r.session.get_session_options().intra_op_num_threads == 1


def test_refuses_wrong_joint_names(tmp_path):
    names = list(G1.joint_names)
    names[0], names[6] = names[6], names[0]
    msg = _refuse(tmp_path, "joint_names", meta={"joint_names": names})
    assert "right_hip_pitch_joint" in msg


def test_refuses_wrong_dims(tmp_path):
    _refuse(tmp_path, "graph input obs_proprio dim", proprio_dim=90)
    _refuse(tmp_path, "graph output actions dim", actions_dim=23)
    layout = json.loads(default_contract().to_json())["observation_layout"]
    layout["obs_proprio"][0]["dim"] = 4
    _refuse(tmp_path, "observation_layout.obs_proprio[0].dim", meta={"observation_layout": layout})


def test_refuses_wrong_dt(tmp_path):
    _refuse(tmp_path, "control_dt", meta={"control_dt": 0.01})
    _refuse(tmp_path, "physics_dt", meta={"physics_dt": 0.002})


def test_refuses_unknown_term_and_unavailable_input(tmp_path):
    layout = json.loads(default_contract().to_json())["observation_layout"]
    layout["obs_proprio"][1]["name"] = "base_lin_vel"
    msg = _refuse(tmp_path, "observation_layout.obs_proprio[1].name", meta={"observation_layout": layout})
    assert "base_lin_vel" in msg
    path = tmp_path / "smpl.onnx"
    write_tracking_policy(path, default_contract(encoder="smpl"))
    with pytest.raises(ContractError, match="needs smpl_joints"):
        PolicyRunner(path, G1, available=AVAIL)


def test_refuses_missing_metadata_and_format(tmp_path):
    _refuse(tmp_path, "format", meta={"format": "other/2"})
    path = tmp_path / "x.onnx"
    path.write_bytes(b"not onnx")
    with pytest.raises(ContractError, match="field 'file'"):
        PolicyRunner(path)


def test_layout_history_term_major_oldest_first(tmp_path):
    c = default_contract(proprio_history=3)
    c.obs_proprio[0].scale = 0.25
    path = write_tracking_policy(tmp_path / "hist.onnx", c)
    r = PolicyRunner(path, G1, available=AVAIL)
    assert r.contract.proprio_dim == 3 * 93

    def state(gyro):
        return RobotState(0.0, G1.default_joint_pos.copy(), np.zeros(29), np.zeros(29), np.array([1.0, 0, 0, 0]),
                          np.asarray(gyro, float), np.zeros(3), np.zeros(29))
    from sonic_deploy.inputs.base import ReferenceFrames
    frames = ReferenceFrames(times=np.zeros(5), joint_pos=np.tile(G1.default_joint_pos, (5, 1)), joint_vel=np.zeros((5, 29)),
                             root_quat=np.tile([1.0, 0, 0, 0], (5, 1)))
    r.observe(state([1, 0, 0]), frames)
    r.observe(state([2, 0, 0]), frames)
    obs = r.observe(state([3, 0, 0]), frames)["obs_proprio"][0]
    # base_ang_vel occupies the first 3 * 3 values: oldest first, scaled by 0.25
    np.testing.assert_allclose(obs[:9], 0.25 * np.array([1, 0, 0, 2, 0, 0, 3, 0, 0]))
    # projected gravity follows (history 3 of [0, 0, -1])
    np.testing.assert_allclose(obs[9:18], np.tile([0, 0, -1.0], 3))


def test_observation_formulas():
    # pelvis pitched by +30 deg about y
    a = np.radians(30)
    q = np.array([np.cos(a / 2), 0, np.sin(a / 2), 0])
    np.testing.assert_allclose(ob.projected_gravity(q), [np.sin(a), 0, -np.cos(a)], atol=1e-12)
    np.testing.assert_allclose(ob.base_ang_vel(q, np.array([0, 1.0, 0])), [0, 1.0, 0], atol=1e-12)
    # anchor orientation of identical frames is the identity's first two columns
    ref = np.tile(q, (3, 1))
    np.testing.assert_allclose(ob.command_anchor_ori_future(q, ref), np.tile([1, 0, 0, 0, 1, 0.0], 3), atol=1e-12)
    # heading-frame SMPL joints: yaw 90 deg maps world +y to local +x
    yaw = np.array([np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)])
    smpl = np.zeros((2, 24, 3))
    smpl[:, :, 1] = 1.0
    local = ob.smpl_joints_future(np.zeros(3), yaw, smpl).reshape(2, 24, 3)
    np.testing.assert_allclose(local[..., 0], 1.0, atol=1e-12)
    vr = ob.vr_3point_ori(yaw, np.tile(yaw, (3, 1)))
    np.testing.assert_allclose(vr, np.tile([1, 0, 0, 0, 1, 0.0], 3), atol=1e-12)
    # batch dimensions pass through
    assert ob.projected_gravity(np.tile(q, (7, 1))).shape == (7, 3)
    assert ob.command_joint_pos_future(np.zeros((4, 5, 29)), G1.default_joint_pos).shape == (4, 145)


def test_deploy_path_anchor_orientation_equals_the_parity_tested_formula():
    """The runner's one-robot-quaternion variant (the deploy step's path) against command_anchor_ori_future, which
    tests/env/test_obs_parity.py compares with training: the same values on random orientations."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        robot = rng.normal(size=4)
        ref = rng.normal(size=(10, 4))
        robot /= np.linalg.norm(robot)
        ref /= np.linalg.norm(ref, axis=-1, keepdims=True)
        np.testing.assert_allclose(ob.command_anchor_ori_future_one(robot, ref),
                                   ob.command_anchor_ori_future(robot, ref), rtol=0, atol=1e-15)


def test_contract_roundtrip():
    c = default_contract(encoder="teleop")
    back = PolicyContract.from_json(c.to_json())
    assert back.obs_encoder == [TermSpec("vr_3point_pos", 9, 1, 1.0), TermSpec("vr_3point_ori", 18, 1, 1.0)]
    assert json.loads(c.to_json())["observation_layout"]["obs_proprio"][0] == {
        "name": "base_ang_vel", "dim": 3, "history": 1, "scale": 1.0}


def test_sonic_runner_and_token_decoder_implement_the_declared_policy_protocol(tmp_path):
    from sonic_deploy.policy.base import Policy
    from sonic_deploy.policy.tokens import TokenPolicy

    runner = PolicyRunner(write_tracking_policy(tmp_path / "p.onnx"))
    assert isinstance(runner, Policy) and runner.format == "sonic.policy/1"
    tok = TokenPolicy("policies/g1_sonic_smoke/policy.onnx")
    assert isinstance(tok, Policy) and tok.format == "sonic.tokens/1" and tok.path.endswith("policy.onnx")
    for name in ("reset", "reference_times", "observe", "term_at", "infer", "commit", "targets"):
        assert callable(getattr(Policy, name))
