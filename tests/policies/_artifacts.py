"""Policy files in the field's formats, written by the tests (no third-party weights): tiny linear graphs that
track their reference exactly when the adapter builds the observation the format specifies, so a wrong offset,
order or scale shows up as tracking error.

* BeyondMimic / mjlab: ``obs`` + ``time_step`` -> ``actions`` and the embedded motion (Isaac Lab joint order);
* holosoma tracking: ``obs`` + ``time_step`` -> ``actions``, ``joint_pos``, ``joint_vel``, ``ref_pos_xyz``,
  ``ref_quat_xyzw``; JSON metadata; sorted terms; locomotion: ``actor_obs`` -> ``action``;
* gear_sonic: ``model_encoder.onnx`` + ``model_decoder.onnx`` + ``observation_config.yaml`` in one folder, the
  release configuration's names, order and sizes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import yaml
from onnx import TensorProto, helper, numpy_helper

from sonic_deploy.policy import gear_sonic as gs
from sonic_deploy.robots.g1 import G1

F = TensorProto.FLOAT
# Isaac Lab (breadth-first) index of each Unitree joint (facts sheet, section 1)
ISAAC_INDEX = list(gs.ISAAC_INDEX)
ISAAC_ORDER = [G1.joint_names[i] for i in np.argsort(ISAAC_INDEX)]
BM_OBS = ["command", "motion_anchor_ori_b", "base_ang_vel", "joint_pos", "joint_vel", "actions"]


def csv(v):
    return ",".join(f"{x:.6f}" if isinstance(x, float) else str(x) for x in v)


def _save(nodes, inputs, outputs, inits, path, meta: dict) -> Path:
    graph = helper.make_graph(nodes, "policy", inputs, outputs, [numpy_helper.from_array(a, n) for n, a in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(model, str(path))
    return Path(path)


def elbow_motion(T: int, joint_names, amplitude: float = 0.3) -> np.ndarray:
    """Default pose with both elbows swinging (0.5 Hz), in ``joint_names`` order."""
    perm = G1.joint_index(joint_names)
    t = np.arange(T) / 50.0
    motion = np.tile(G1.default_joint_pos[perm], (T, 1))
    for j in ("left_elbow_joint", "right_elbow_joint"):
        motion[:, list(joint_names).index(j)] += amplitude * np.sin(2 * np.pi * 0.5 * t)
    return motion


def _embedded_motion_nodes(motion, anchor_outputs: dict) -> tuple[list, dict]:
    """time_step -> clamped frame index -> Gather of each embedded array (output name -> [T, ...] array)."""
    T = len(motion)
    inits = {"Tmax": np.array([T - 1], np.int64), "one": np.array([1], np.int64)}
    nodes = [helper.make_node("Cast", ["time_step"], ["ts_i"], to=TensorProto.INT64),
             helper.make_node("Reshape", ["ts_i", "one"], ["ts_1"]), helper.make_node("Min", ["ts_1", "Tmax"], ["ts"])]
    for name, arr in anchor_outputs.items():
        inits[f"M_{name}"] = arr.astype(np.float32)
        nodes.append(helper.make_node("Gather", [f"M_{name}", "ts"], [name], axis=0))
    return nodes, inits


def write_bm_policy(path, *, obs_names=BM_OBS, joint_names=ISAAC_ORDER, T=200):
    perm = G1.joint_index(joint_names)  # policy index -> Unitree index
    J = len(joint_names)
    default = G1.default_joint_pos[perm]
    scale = G1.action_scale[perm]
    motion = elbow_motion(T, joint_names)
    vel = np.gradient(motion, 1 / 50.0, axis=0)
    dims = {"command": 2 * J, "motion_anchor_ori_b": 6, "motion_anchor_pos_b": 3, "base_lin_vel": 3, "base_ang_vel": 3,
            "joint_pos": J, "joint_vel": J, "actions": J, "bogus": 5}
    n_obs = sum(dims[n] for n in obs_names)
    w = np.zeros((n_obs, J), np.float32)
    w[np.arange(J), np.arange(J)] = 1.0 / scale  # command joint_pos part (command is the first term)
    if obs_names == BM_OBS:  # an ankle-pitch balance reflex, as sonic's synthetic tracker has (it stands in real time)
        ankles = [list(joint_names).index(j) for j in ("left_ankle_pitch_joint", "right_ankle_pitch_joint")]
        w[2 * J + 4, ankles] = 1.0 / scale[ankles]  # motion_anchor_ori_b[4] = sin(pitch) of an upright motion
        w[2 * J + 6 + 1, ankles] = 0.2 / scale[ankles]  # base_ang_vel y
    bodies = ["pelvis", "torso_link"]
    nodes, inits = _embedded_motion_nodes(motion, {
        "joint_pos": motion, "joint_vel": vel, "body_quat_w": np.tile([1.0, 0, 0, 0], (T, 2, 1)),
        "body_pos_w": np.tile([[0, 0, 0.76], [0, 0, 0.80]], (T, 1, 1))})
    inits.update(W=w, b=(-default / scale).astype(np.float32))
    nodes += [helper.make_node("MatMul", ["obs", "W"], ["aw"]), helper.make_node("Add", ["aw", "b"], ["actions"])]
    outputs = [helper.make_tensor_value_info(n, F, s) for n, s in (
        ("actions", [1, J]), ("joint_pos", [1, J]), ("joint_vel", [1, J]), ("body_quat_w", [1, 2, 4]),
        ("body_pos_w", [1, 2, 3]))]
    meta = {"joint_names": csv(joint_names), "joint_stiffness": csv(list(G1.hold_kp[perm])),
            "joint_damping": csv(list(G1.hold_kd[perm])), "default_joint_pos": csv(list(default)),
            "action_scale": csv(list(scale)), "observation_names": csv(obs_names), "anchor_body_name": "torso_link",
            "body_names": csv(bodies), "command_names": "motion"}
    _save(nodes, [helper.make_tensor_value_info("obs", F, [1, n_obs]),
                  helper.make_tensor_value_info("time_step", F, [1, 1])], outputs, inits, path, meta)
    return path, motion


HOLOSOMA_DEFAULT = G1.default_joint_pos  # the publisher's G1 stance is the G1 default


def holosoma_meta(joint_names, *, kp=None, kd=None, fps=200, decimation=4, extra=None) -> dict:
    perm = G1.joint_index(joint_names)
    cfg = {"simulator": {"config": {"sim": {"fps": fps, "control_decimation": decimation}}},
           "observation": {"groups": {"actor_obs": {"history_length": 1, "terms": {
               t: {"scale": 1.0} for t in ("motion_command", "motion_ref_ori_b", "base_ang_vel", "dof_pos", "dof_vel",
                                           "actions")}}}}}
    # a position tracker stands only on stiff gains: the hold gains
    meta = {"dof_names": list(joint_names), "kp": list(G1.hold_kp[perm]) if kp is None else kp,
            "kd": list(G1.hold_kd[perm]) if kd is None else kd, "command_ranges": None, "experiment_config": cfg}
    meta.update(extra or {})
    return {k: json.dumps(v) for k, v in meta.items()}


def write_holosoma_wbt(path, *, joint_names=tuple(G1.joint_names), T=300, **meta_kw):
    """Sorted terms: actions 29, base_ang_vel 3, dof_pos 29, dof_vel 29, motion_command 58, motion_ref_ori_b 6;
    action = (motion_command joint_pos - default) / scale: targets follow the command exactly."""
    J = len(joint_names)
    perm = G1.joint_index(joint_names)
    default, scale = HOLOSOMA_DEFAULT[perm], G1.action_scale[perm]
    motion = elbow_motion(T, joint_names)
    vel = np.gradient(motion, 1 / 50.0, axis=0)
    off = J + 3 + J + J  # motion_command starts here
    n_obs = off + 2 * J + 6
    w = np.zeros((n_obs, J), np.float32)
    w[off + np.arange(J), np.arange(J)] = 1.0 / scale
    nodes, inits = _embedded_motion_nodes(motion, {
        "joint_pos": motion, "joint_vel": vel, "ref_pos_xyz": np.tile([0.0, 0.0, 0.80], (T, 1)),
        "ref_quat_xyzw": np.tile([0.0, 0.0, 0.0, 1.0], (T, 1))})
    inits.update(W=w, b=(-default / scale).astype(np.float32))
    nodes += [helper.make_node("MatMul", ["obs", "W"], ["aw"]), helper.make_node("Add", ["aw", "b"], ["actions"])]
    outputs = [helper.make_tensor_value_info(n, F, s) for n, s in (
        ("actions", [1, J]), ("joint_pos", [1, J]), ("joint_vel", [1, J]), ("ref_pos_xyz", [1, 3]),
        ("ref_quat_xyzw", [1, 4]))]
    _save(nodes, [helper.make_tensor_value_info("obs", F, [1, n_obs]),
                  helper.make_tensor_value_info("time_step", F, [1, 1])], outputs, inits, path,
          holosoma_meta(joint_names, **meta_kw))
    return Path(path), motion


def write_holosoma_loco(path, *, joint_names=tuple(G1.joint_names), gain: float = 1.0):
    """actor_obs 100 (sorted terms) -> action: both knees bend by ``gain`` * command_lin_vel x (offset 29+3+1)."""
    J = len(joint_names)
    n_obs = J + 3 + 1 + 2 + 2 + J + J + 3 + 2
    w = np.zeros((n_obs, J), np.float32)
    for j in ("left_knee_joint", "right_knee_joint"):
        w[J + 3 + 1, list(joint_names).index(j)] = gain
    nodes = [helper.make_node("MatMul", ["actor_obs", "W"], ["action"])]
    meta = holosoma_meta(joint_names, extra={"command_ranges": {"lin_vel_x": [-1.0, 1.0], "lin_vel_y": [-0.5, 0.5],
                                                                "ang_vel_yaw": [-1.0, 1.0]}})
    del meta["experiment_config"]
    return _save(nodes, [helper.make_tensor_value_info("actor_obs", F, [1, n_obs])],
                 [helper.make_tensor_value_info("action", F, [1, J])], {"W": w}, path, meta)


# --- gear_sonic ---------------------------------------------------------------------------------------------
RELEASE_CONFIG = {  # names, order and sizes of gear_sonic_deploy/policy/release/observation_config.yaml
    "observations": [{"name": n, "enabled": True} for n in (
        "token_state", "his_base_angular_velocity_10frame_step1", "his_body_joint_positions_10frame_step1",
        "his_body_joint_velocities_10frame_step1", "his_last_actions_10frame_step1", "his_gravity_dir_10frame_step1")],
    "encoder": {"dimension": 64, "use_fp16": False, "encoder_observations": [{"name": n, "enabled": True} for n in (
        "encoder_mode_4", "motion_joint_positions_10frame_step5", "motion_joint_velocities_10frame_step5",
        "motion_root_z_position_10frame_step5", "motion_root_z_position", "motion_anchor_orientation",
        "motion_anchor_orientation_10frame_step5", "motion_joint_positions_lowerbody_10frame_step5",
        "motion_joint_velocities_lowerbody_10frame_step5", "vr_3point_local_target", "vr_3point_local_orn_target",
        "smpl_joints_10frame_step1", "smpl_anchor_orientation_10frame_step1",
        "motion_joint_positions_wrists_10frame_step1")],
        "encoder_modes": [
            {"name": "g1", "mode_id": 0, "required_observations": [
                "encoder_mode_4", "motion_joint_positions_10frame_step5", "motion_joint_velocities_10frame_step5",
                "motion_anchor_orientation_10frame_step5"]},
            {"name": "teleop", "mode_id": 1, "required_observations": [
                "encoder_mode_4", "motion_joint_positions_lowerbody_10frame_step5",
                "motion_joint_velocities_lowerbody_10frame_step5", "vr_3point_local_target",
                "vr_3point_local_orn_target", "motion_anchor_orientation"]},
            {"name": "smpl", "mode_id": 2, "required_observations": [
                "encoder_mode_4", "smpl_joints_10frame_step1", "smpl_anchor_orientation_10frame_step1",
                "motion_joint_positions_wrists_10frame_step1"]}]}}
RELEASE_ENCODER_DIM = 4 + 290 + 290 + 10 + 1 + 6 + 60 + 120 + 120 + 9 + 12 + 720 + 60 + 60  # 1762
RELEASE_DECODER_DIM = 64 + 30 + 290 + 290 + 290 + 30  # 994


def write_gear_sonic(folder, *, config=RELEASE_CONFIG, name="model", encoder_dim=RELEASE_ENCODER_DIM,
                     decoder_dim=RELEASE_DECODER_DIM, token_dim=64, hold_gains: bool = True) -> Path:
    """Encoder: tokens[i] = reference joint i (Isaac Lab order, frame 0) - default; decoder: a joint-space tracker of
    that reference from the tokens and the newest history frame. Only a correct observation tracks. ``hold_gains``:
    the decoder's metadata carries kp/kd (else the deploy's constants apply, as for the released files)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    isaac_default = gs.DEFAULT[np.argsort(gs.ISAAC_INDEX)]
    isaac_scale = gs.ACTION_SCALE[np.argsort(gs.ISAAC_INDEX)]
    we = np.zeros((encoder_dim, token_dim), np.float32)
    we[4 + np.arange(29), np.arange(29)] = 1.0  # after encoder_mode_4: frame 0 of motion_joint_positions
    be = np.zeros(token_dim, np.float32)
    be[:29] = -isaac_default
    _save([helper.make_node("MatMul", ["obs_dict", "We"], ["ew"]), helper.make_node("Add", ["ew", "be"],
                                                                                     ["encoded_tokens"])],
          [helper.make_tensor_value_info("obs_dict", F, [1, encoder_dim])],
          [helper.make_tensor_value_info("encoded_tokens", F, [1, token_dim])], {"We": we, "be": be},
          folder / f"{name}_encoder.onnx", {})
    # action = (ref - default) / scale - kv dq / scale + an ankle-pitch balance reflex on the newest history frame
    # (sonic's synthetic tracker); the decoder carries the G1's hold gains in its metadata: a position tracker does
    # not stand on the deploy's tracking gains
    i = np.arange(29)
    wd = np.zeros((decoder_dim, 29), np.float32)
    wd[i, i] = 1.0 / isaac_scale
    if decoder_dim == RELEASE_DECODER_DIM:
        wd[64 + 30 + 290 + 9 * 29 + i, i] = -0.02 / isaac_scale  # newest joint velocity
        ankles = gs.ISAAC_INDEX[[4, 10]]
        wd[64 + 9 * 3 + 1, ankles] = 0.2 / isaac_scale[ankles]  # newest pitch rate
        wd[64 + 30 + 3 * 290 + 9 * 3, ankles] = 1.0 / isaac_scale[ankles]  # newest gravity x (pelvis frame)
    gains = {"kp": json.dumps(list(G1.hold_kp)), "kd": json.dumps(list(G1.hold_kd))} if hold_gains else {}
    _save([helper.make_node("MatMul", ["obs_dict", "Wd"], ["action"])],
          [helper.make_tensor_value_info("obs_dict", F, [1, decoder_dim])],
          [helper.make_tensor_value_info("action", F, [1, 29])], {"Wd": wd}, folder / f"{name}_decoder.onnx", gains)
    (folder / "observation_config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder
