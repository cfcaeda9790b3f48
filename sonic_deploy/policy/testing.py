"""Synthetic ``sonic.policy/1`` artifacts for tests, benchmarks and demos, built with onnx.helper.

``default_contract`` gives a G1 contract for an encoder; ``write_tracking_policy`` writes a linear policy
that replays the reference (q* = q_ref(t) - kv dq), good enough to exercise the whole loop;
``write_mlp_policy`` writes encoder + decoder MLPs of a chosen size (latency benchmarks). Needs ``onnx``
(dev/train extras); the runtime itself never imports this module.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from sonic_deploy.policy.contract import (METADATA_KEY, PROPRIO_TERMS, PolicyContract, TermSpec, expected_term_dim)
from sonic_deploy.robots.g1 import G1, RobotSpec

ENCODER_LAYOUTS = {
    "g1": ("command_joint_pos_future", "command_joint_vel_future", "command_anchor_ori_future"),
    "smpl": ("smpl_joints_future", "command_anchor_ori_future"),
    "teleop": ("vr_3point_pos", "vr_3point_ori"),
}


def default_contract(spec: RobotSpec = G1, encoder: str = "g1", future_frames: int = 5, future_dt: float = 0.1,
                     hold_gains: bool = False, proprio_history: int = 1, num_tokens: int = 4) -> PolicyContract:
    kp, kd = (spec.hold_kp, spec.hold_kd) if hold_gains else (spec.kp, spec.kd)
    proprio = [TermSpec(n, d, proprio_history, 1.0) for n, d in PROPRIO_TERMS.items()]
    enc = [TermSpec(n, expected_term_dim(n, future_frames), 1, 1.0) for n in ENCODER_LAYOUTS[encoder]]
    return PolicyContract(joint_names=list(spec.joint_names), default_joint_pos=spec.default_joint_pos.tolist(),
                          kp=kp.tolist(), kd=kd.tolist(), action_scale=spec.action_scale.tolist(), encoder=encoder,
                          obs_proprio=proprio, obs_encoder=enc, control_dt=spec.control_dt, physics_dt=spec.physics_dt,
                          fsq_levels=[8, 8, 8, 5, 5, 5], num_tokens=num_tokens, future_frames=future_frames,
                          future_dt=future_dt, robot=spec.name, config_hash="synthetic", version="0.0.0")


def _save(graph, path: Path, contract: PolicyContract | None, extra_meta: dict | None = None) -> Path:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="sonic")
    model.ir_version = 8
    meta = dict(extra_meta or {})
    if contract is not None:
        meta[METADATA_KEY] = contract.to_json() if isinstance(contract, PolicyContract) else json.dumps(contract)
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _io(contract: PolicyContract, encoder_dim=None, proprio_dim=None, actions_dim=29, with_residual=False):
    from onnx import TensorProto, helper

    ins = [helper.make_tensor_value_info("obs_encoder", TensorProto.FLOAT, ["B", encoder_dim or contract.encoder_dim]),
           helper.make_tensor_value_info("obs_proprio", TensorProto.FLOAT, ["B", proprio_dim or contract.proprio_dim])]
    if with_residual:
        ins.append(helper.make_tensor_value_info("latent_residual", TensorProto.FLOAT, ["B", 8]))
    outs = [helper.make_tensor_value_info("actions", TensorProto.FLOAT, ["B", actions_dim]),
            helper.make_tensor_value_info("token_indices", TensorProto.INT64, ["B", contract.num_tokens])]
    return ins, outs


def write_tracking_policy(path, contract: PolicyContract | None = None, *, kv: float = 0.02, balance: float = 1.0,
                          balance_rate: float = 0.2,
                          encoder_dim=None, proprio_dim=None, actions_dim=29, meta_override: dict | None = None) -> Path:
    """actions = (q_ref(t) - default) / action_scale - kv * dq / action_scale (first future frame), plus an
    ankle-pitch balance reflex on the pelvis tilt (projected gravity x) and pitch rate (gyro y)."""
    from onnx import TensorProto, helper, numpy_helper

    c = contract or default_contract(hold_gains=True)
    E, P = encoder_dim or c.encoder_dim, proprio_dim or c.proprio_dim
    scale = np.asarray(c.action_scale)
    we = np.zeros((E, actions_dim), np.float32)
    wp = np.zeros((P, actions_dim), np.float32)
    n = min(29, actions_dim)
    if c.obs_encoder and c.obs_encoder[0].name == "command_joint_pos_future":
        we[np.arange(n), np.arange(n)] = 1.0 / scale[:n]
    off = 0
    for t in c.obs_proprio:
        base = off + (t.history - 1) * t.dim
        if t.name == "joint_vel":
            wp[base + np.arange(n), np.arange(n)] = -kv / scale[:n]
        ankles = [4, 10] if n > 10 else []
        if t.name == "projected_gravity":
            wp[base + 0, ankles] = balance / scale[ankles]
        if t.name == "base_ang_vel":
            wp[base + 1, ankles] = balance_rate / scale[ankles]
        off += t.size
    wt = np.zeros((P, c.num_tokens), np.float32)
    nodes = [helper.make_node("MatMul", ["obs_encoder", "We"], ["a_e"]),
             helper.make_node("MatMul", ["obs_proprio", "Wp"], ["a_p"]),
             helper.make_node("Add", ["a_e", "a_p"], ["actions"]),
             helper.make_node("MatMul", ["obs_proprio", "Wt"], ["t_f"]),
             helper.make_node("Cast", ["t_f"], ["token_indices"], to=TensorProto.INT64)]
    inits = [numpy_helper.from_array(we, "We"), numpy_helper.from_array(wp[:P], "Wp"), numpy_helper.from_array(wt, "Wt")]
    ins, outs = _io(c, E, P, actions_dim)
    graph = helper.make_graph(nodes, "sonic_tracking_policy", ins, outs, inits)
    meta = json.loads(c.to_json())
    meta.update(meta_override or {})
    return _save(graph, path, meta)


def write_mlp_policy(path, contract: PolicyContract | None = None, *, encoder_hidden=(2048, 2048, 1024),
                     decoder_hidden=(2048, 2048, 1024), latent: int = 64, seed: int = 0,
                     tracking: bool = False) -> tuple[Path, int]:
    """Encoder MLP -> latent (FSQ-style bounded + rounded) -> decoder MLP on [latent, proprio]; returns (path, params).

    ``tracking``: add the linear replay policy of :func:`write_tracking_policy` to a 1e-3-scaled MLP output, so
    a simulated robot keeps standing while the full-size network is evaluated every step (speed benchmarks)."""
    from onnx import TensorProto, helper, numpy_helper

    c = contract or default_contract()
    rng = np.random.default_rng(seed)
    nodes, inits, params = [], [], 0

    def mlp(x, dims, prefix, last_act=False):
        nonlocal params
        for i in range(len(dims) - 1):
            w = (rng.standard_normal((dims[i], dims[i + 1])) / np.sqrt(dims[i])).astype(np.float32)
            b = np.zeros(dims[i + 1], np.float32)
            inits.extend([numpy_helper.from_array(w, f"{prefix}W{i}"), numpy_helper.from_array(b, f"{prefix}b{i}")])
            params += w.size + b.size
            nodes.append(helper.make_node("Gemm", [x, f"{prefix}W{i}", f"{prefix}b{i}"], [f"{prefix}h{i}"]))
            x = f"{prefix}h{i}"
            if i < len(dims) - 2 or last_act:
                nodes.append(helper.make_node("Elu", [x], [f"{prefix}a{i}"]))
                x = f"{prefix}a{i}"
        return x

    z = mlp("obs_encoder", (c.encoder_dim, *encoder_hidden, latent), "enc_")
    nodes += [helper.make_node("Tanh", [z], ["z_t"]), helper.make_node("Mul", ["z_t", "half_levels"], ["z_s"]),
              helper.make_node("Round", ["z_s"], ["z_q"]), helper.make_node("Div", ["z_q", "half_levels"], ["z_n"]),
              helper.make_node("Concat", ["z_n", "obs_proprio"], ["dec_in"], axis=1)]
    inits.append(numpy_helper.from_array(np.full(latent, 3.0, np.float32), "half_levels"))
    a = mlp("dec_in", (latent + c.proprio_dim, *decoder_hidden, 29), "dec_")
    if tracking:
        lin = _load_linear(c)
        inits += [numpy_helper.from_array(lin[0], "lin_We"), numpy_helper.from_array(lin[1], "lin_Wp"),
                  numpy_helper.from_array(np.array(1e-3, np.float32), "mlp_gain")]
        nodes += [helper.make_node("MatMul", ["obs_encoder", "lin_We"], ["lin_e"]),
                  helper.make_node("MatMul", ["obs_proprio", "lin_Wp"], ["lin_p"]),
                  helper.make_node("Mul", [a, "mlp_gain"], ["mlp_small"]),
                  helper.make_node("Add", ["lin_e", "lin_p"], ["lin_a"]),
                  helper.make_node("Add", ["lin_a", "mlp_small"], ["mlp_out"])]
        a = "mlp_out"
    nodes += [helper.make_node("Identity", [a], ["actions"]),
              helper.make_node("Reshape", ["z_q", "tok_shape"], ["z_g"]),
              helper.make_node("ReduceSum", ["z_g", "tok_axes"], ["z_sum"], keepdims=0),
              helper.make_node("Cast", ["z_sum"], ["token_indices"], to=TensorProto.INT64)]
    inits += [numpy_helper.from_array(np.array([-1, c.num_tokens, latent // c.num_tokens], np.int64), "tok_shape"),
              numpy_helper.from_array(np.array([2], np.int64), "tok_axes")]
    ins, outs = _io(c)
    graph = helper.make_graph(nodes, "sonic_mlp_policy", ins, outs, inits)
    return _save(graph, path, c), params


def _load_linear(c: PolicyContract) -> tuple[np.ndarray, np.ndarray]:
    """The weights of write_tracking_policy for contract ``c`` (built once into a temporary file)."""
    import onnx
    from onnx import numpy_helper

    with tempfile.TemporaryDirectory() as d:
        m = onnx.load(str(write_tracking_policy(Path(d) / "lin.onnx", c)))
    w = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    return w["We"], w["Wp"]
