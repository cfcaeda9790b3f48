"""Format detection, the declared Policy protocol, `sonic-deploy inspect`, and each format's contract checks
(joint names mapped by name, gains and pose from the file, control rate), on files the tests write."""

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx (dev extra) builds the test artifacts")
import yaml  # noqa: E402
from _artifacts import (ISAAC_ORDER, RELEASE_CONFIG, write_bm_policy, write_gear_sonic, write_holosoma_loco,  # noqa: E402
                        write_holosoma_wbt)
from onnx import TensorProto, helper  # noqa: E402

from sonic_deploy.cli.deploy import main as deploy_main  # noqa: E402
from sonic_deploy.policy import gear_sonic as gs  # noqa: E402
from sonic_deploy.policy.base import EmbeddedMotion, Policy, VelocityCommanded  # noqa: E402
from sonic_deploy.policy.contract import ContractError  # noqa: E402
from sonic_deploy.policy.formats import detect, load_policy  # noqa: E402
from sonic_deploy.robots.base import RobotState  # noqa: E402
from sonic_deploy.robots.g1 import G1  # noqa: E402
from sonic_deploy.inputs.base import ReferenceFrames  # noqa: E402

SHIPPED = "policies/g1_sonic_smoke/policy.onnx"


def standing_state(q=None) -> RobotState:
    n = G1.num_joints
    return RobotState(timestamp=0.0, q=G1.default_joint_pos.copy() if q is None else q, dq=np.zeros(n),
                      tau=np.zeros(n), imu_quat=np.array([1.0, 0, 0, 0]), imu_gyro=np.zeros(3),
                      imu_acc=np.array([0, 0, 9.81]), temperature=np.zeros(n))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("formats")
    return {"beyondmimic": write_bm_policy(d / "bm.onnx")[0], "holosoma.wbt": write_holosoma_wbt(d / "wbt.onnx")[0],
            "holosoma.loco": write_holosoma_loco(d / "loco.onnx"), "gear_sonic": write_gear_sonic(d / "gs"),
            "sonic.policy/1": SHIPPED}


def test_each_format_is_detected_and_implements_the_policy_protocol(files):
    for fmt, path in files.items():
        assert detect(path) == fmt
        pol = load_policy(path)
        assert isinstance(pol, Policy) and pol.format == fmt
        assert pol.kp.shape == pol.kd.shape == (29,)
    assert isinstance(load_policy(files["holosoma.wbt"]), EmbeddedMotion)
    assert isinstance(load_policy(files["beyondmimic"]), EmbeddedMotion)
    assert isinstance(load_policy(files["holosoma.loco"]), VelocityCommanded)
    assert not isinstance(load_policy(SHIPPED), EmbeddedMotion)
    # a gear_sonic checkpoint is found from its folder, its prefix or either file
    ck = files["gear_sonic"]
    for p in (ck, ck / "model", ck / "model_encoder.onnx", ck / "model_decoder.onnx"):
        assert detect(p) == "gear_sonic"


def test_a_file_of_no_format_gets_one_line_naming_each(tmp_path, capsys):
    path = tmp_path / "plain.onnx"
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(path))
    with pytest.raises(ContractError) as e:
        load_policy(path)
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg
    for want in ("sonic.policy/1: metadata 'sonic'", "beyondmimic: inputs obs+time_step and metadata joint_names",
                 "holosoma: metadata dof_names/kp/kd", "gear_sonic: <name>_encoder.onnx", "inputs ['x']"):
        assert want in msg
    assert deploy_main(["inspect", str(path)]) == 2
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and out.startswith("refused:") and "gear_sonic" in out


def test_inspect_prints_the_detected_format_and_contract(files, capsys):
    for fmt, path in files.items():
        assert deploy_main(["inspect", str(path)]) == 0
        out = capsys.readouterr().out
        assert f"format: {fmt}" in out
    deploy_main(["inspect", str(files["holosoma.wbt"])])
    out = capsys.readouterr().out
    assert "motion_command 58" in out and "embedded motion" in out and "5.98 s" in out  # 300 frames at 50 Hz
    deploy_main(["inspect", str(files["gear_sonic"])])
    out = capsys.readouterr().out
    assert "1762 -> 64" in out and "994 -> 29" in out and "46 control steps ahead" in out


def test_holosoma_joint_order_is_mapped_by_name(tmp_path):
    a = load_policy(write_holosoma_wbt(tmp_path / "unitree.onnx")[0])
    b = load_policy(write_holosoma_wbt(tmp_path / "isaac.onnx", joint_names=ISAAC_ORDER)[0])
    np.testing.assert_allclose(a.kp, b.kp)
    np.testing.assert_allclose(a.kp, G1.hold_kp)  # the file's gains, back in Unitree order
    act = np.linspace(-1, 1, 29)  # Unitree order
    np.testing.assert_allclose(a.targets(act), b.targets(act))
    # both track their embedded motion: the first action puts the targets on the motion's first frame
    for pol in (a, b):
        pol.reset()
        q = pol.targets(pol.infer(pol.observe(standing_state())))
        np.testing.assert_allclose(q, pol.last_reference.joint_pos[0], atol=1e-5)
    assert a.motion_duration == pytest.approx(299 * 0.02)


@pytest.mark.parametrize("kw, field", [
    ({"kp": [40.0] * 28}, "kp"), ({"fps": 100}, "control_decimation / fps"),
])
def test_holosoma_contract_refusals_name_the_field(tmp_path, kw, field):
    path = write_holosoma_wbt(tmp_path / "bad.onnx", **kw)[0]
    with pytest.raises(ContractError, match=field) as e:
        load_policy(path)
    assert "expected" in str(e.value)
    if field.startswith("control"):
        assert "0.02 s" in str(e.value)


def test_holosoma_unknown_joint_is_named(tmp_path):
    names = list(G1.joint_names)
    names[3] = "left_toe_joint"
    path = write_holosoma_wbt(tmp_path / "toe.onnx")[0]
    m = onnx.load(str(path))
    for p in m.metadata_props:
        if p.key == "dof_names":
            p.value = json.dumps(names)
    onnx.save(m, str(path))
    with pytest.raises(ContractError, match="dof_names.*left_toe_joint"):
        load_policy(path)


def test_locomotion_command_reaches_its_observation_slot(tmp_path):
    pol = load_policy(write_holosoma_loco(tmp_path / "loco.onnx", gain=2.0))
    knee = G1.joint_names.index("left_knee_joint")
    frames = ReferenceFrames(times=np.zeros(1), base_velocity=np.array([0.4, 0.0, 0.0]))
    a = pol.infer(pol.observe(standing_state(), frames))
    assert a[knee] == pytest.approx(0.8, abs=1e-6)  # command_lin_vel x sits after actions, base_ang_vel, yaw rate
    assert pol.targets(a)[knee] == pytest.approx(G1.default_joint_pos[knee] + 0.25 * 0.8)  # holosoma's 0.25 scale
    pol.set_command(3.0, 2.0, -5.0)  # clipped to the file's command_ranges
    np.testing.assert_allclose(pol.command, [1.0, 0.5, -1.0])
    # the gait phase: held at (pi, pi) while the command is zero, advancing 2 pi / 50 per step from (0, pi) when not
    pol.set_command(0, 0, 0)
    pol.commit(a)
    np.testing.assert_allclose(pol.phase, [np.pi, np.pi])
    pol.set_command(0.5, 0, 0)
    pol.commit(a)
    np.testing.assert_allclose(pol.phase, [0.0, np.pi])
    pol.commit(a)
    np.testing.assert_allclose(pol.phase, [2 * np.pi / 50, -np.pi + 2 * np.pi / 50])


def test_gear_sonic_release_layout_and_gains(files, tmp_path):
    assert load_policy(files["gear_sonic"]).kp.tolist() == G1.hold_kp.tolist()  # gains from the decoder's metadata
    pol = load_policy(write_gear_sonic(tmp_path / "nometa", hold_gains=False))  # as released: the deploy's table
    assert pol.token_dim == 64 and pol.future_steps == 46 and pol.hist_len == 10
    assert sum(t.dim for t in pol.enc_terms) == 1762 and sum(t.dim for t in pol.dec_terms) == 994
    names = list(G1.joint_names)
    assert pol.kp[names.index("left_hip_pitch_joint")] == pytest.approx(99.0984, abs=1e-3)  # 7520-22
    assert pol.kp[names.index("left_ankle_roll_joint")] == pytest.approx(28.5012, abs=1e-3)  # 2 x 5020
    assert pol.action_scale[names.index("left_ankle_roll_joint")] == pytest.approx(0.4386, abs=1e-3)  # 1 x 5020
    np.testing.assert_allclose(gs.DEFAULT, G1.default_joint_pos)


def test_gear_sonic_observation_order_and_scaling(files):
    """The encoder sees the reference's frames 0, 5, 10.. in Isaac Lab order after the mode id; the decoder's
    history is the last 10 states, oldest first, relative to the default pose in Isaac Lab order."""
    pol = load_policy(files["gear_sonic"])
    T = pol.future_steps
    jp = np.tile(G1.default_joint_pos, (T, 1)) + np.arange(T)[:, None] * 0.01
    fr = ReferenceFrames(times=np.arange(T) * 0.02, joint_pos=jp, joint_vel=np.zeros((T, 29)),
                         root_pos=np.tile([0, 0, 0.79], (T, 1)), root_quat=np.tile([1.0, 0, 0, 0], (T, 1)))
    enc = pol.observe(standing_state(), fr)["encoder"][0]
    assert enc[:4].tolist() == [0, 0, 0, 0]  # g1 mode id 0
    isaac = np.argsort(gs.ISAAC_INDEX)
    np.testing.assert_allclose(enc[4:33], jp[0][isaac], atol=1e-6)
    np.testing.assert_allclose(enc[4 + 29:4 + 58], jp[5][isaac], atol=1e-6)
    assert np.count_nonzero(enc[4 + 290 + 290:4 + 290 + 290 + 11]) == 0  # root z terms: not required by mode g1
    a = pol.infer(pol.observe(standing_state(), fr))
    np.testing.assert_allclose(pol.targets(a), jp[0], atol=1e-5)  # at rest on the default pose: frame 0 exactly
    q = G1.default_joint_pos + 0.01  # the newest history frame is this state: a velocity and tilt reflex only
    st = standing_state(q)
    st.dq = np.full(29, 0.5)
    a = pol.infer(pol.observe(st, fr))
    np.testing.assert_allclose(pol.targets(a), jp[0] - 0.02 * 0.5, atol=1e-4)


@pytest.mark.parametrize("edit, field", [
    (lambda c: c["encoder"].update(dimension=32), "encoder.dimension"),
    (lambda c: c["observations"].append({"name": "his_body_joint_torques_10frame_step1", "enabled": True}),
     "observations"),
    (lambda c: c["observations"].pop(), "graph input obs_dict dim"),
])
def test_gear_sonic_refusals_name_the_field(tmp_path, edit, field):
    cfg = yaml.safe_load(yaml.safe_dump(RELEASE_CONFIG))
    edit(cfg)
    folder = write_gear_sonic(tmp_path / "ck")
    (folder / "observation_config.yaml").write_text(yaml.safe_dump(cfg))
    with pytest.raises(ContractError, match=field):
        load_policy(folder)


def test_export_embedded_motion_as_a_canonical_clip(tmp_path, capsys):
    from sonic_deploy.cli.motion import main as motion_main
    from sonic_deploy.motion import load_clip

    path, motion = write_holosoma_wbt(tmp_path / "wbt.onnx", joint_names=ISAAC_ORDER, T=60)
    out = tmp_path / "embedded.npz"
    assert motion_main(["export-embedded", str(path), str(out)]) == 0
    clip = load_clip(out)
    perm = G1.joint_index(ISAAC_ORDER)
    np.testing.assert_allclose(clip.joint_pos[:, perm], motion, atol=1e-6)  # Unitree order in the clip
    assert clip.fps == 50 and clip.num_frames == 60
    torso = clip.body_index(["torso_link"])[0]
    np.testing.assert_allclose(clip.body_pos_w[:, torso, 2], 0.80, atol=1e-5)  # the embedded anchor height
    assert "not for training" in capsys.readouterr().out
    assert motion_main(["export-embedded", SHIPPED, str(tmp_path / "x.npz")]) == 2
