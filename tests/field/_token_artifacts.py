"""A tokenized synthetic policy pair built with onnx.helper (the export will write the real one):

* main graph (``sonic.policy/1``, G1 encoder): 6 arm joints' reference offsets (first future frame) / 0.5 rad,
  bounded to [-1, 1], quantized on FSQ levels [5, 5, 5] in 2 tokens (0.25 rad steps), token indices out;
  actions = the linear tracking policy of ``write_tracking_policy`` (so the main graph runs too);
* decoder graph: token indices -> digits -> codes -> those 6 joints' targets, plus the tracking policy's
  proprioceptive part (joint damping, ankle balance reflex): the robot holds the default pose with its arms
  following the tokens.
"""

import json

import numpy as np

from sonic_deploy.policy.testing import _load_linear, _save, default_contract

ARM_JOINTS = [15, 16, 18, 22, 23, 25]  # shoulder pitch/roll and elbow, left then right
LEVELS = [5, 5, 5]
RANGE = 0.5  # rad per code unit


def write_token_policy(path):
    from onnx import TensorProto, helper, numpy_helper

    c = default_contract(hold_gains=True, num_tokens=2)
    c.fsq_levels = list(LEVELS)
    We, Wp = _load_linear(c)
    scale = np.asarray(c.action_scale)
    E, P = c.encoder_dim, c.proprio_dim
    sel = np.zeros((E, 6), np.float32)
    sel[ARM_JOINTS, np.arange(6)] = 1.0 / RANGE  # frame 0 of command_joint_pos_future
    half = np.array([l // 2 for l in LEVELS] * 2, np.float32)
    basis = np.array([1, 5, 25], np.int64)
    enc_nodes = [
        helper.make_node("MatMul", ["obs_encoder", "sel"], ["z"]),
        helper.make_node("Clip", ["z", "lo", "hi"], ["zb"]),
        helper.make_node("Mul", ["zb", "half"], ["zs"]),
        helper.make_node("Round", ["zs"], ["zq"]),
        helper.make_node("Add", ["zq", "half"], ["dig_f"]),
        helper.make_node("Cast", ["dig_f"], ["dig"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["dig", "grp"], ["dig_g"]),
        helper.make_node("Mul", ["dig_g", "basis"], ["dig_w"]),
        helper.make_node("ReduceSum", ["dig_w", "axis2"], ["token_indices"], keepdims=0),
        helper.make_node("MatMul", ["obs_encoder", "We"], ["a_e"]),
        helper.make_node("MatMul", ["obs_proprio", "Wp"], ["a_p"]),
        helper.make_node("Add", ["a_e", "a_p"], ["actions"]),
    ]
    common = [numpy_helper.from_array(np.array(-1.0, np.float32), "lo"), numpy_helper.from_array(np.array(1.0, np.float32), "hi"),
              numpy_helper.from_array(half, "half"), numpy_helper.from_array(np.array([-1, 2, 3], np.int64), "grp"),
              numpy_helper.from_array(basis, "basis"), numpy_helper.from_array(np.array([2], np.int64), "axis2"),
              numpy_helper.from_array(Wp, "Wp")]
    ins = [helper.make_tensor_value_info("obs_encoder", TensorProto.FLOAT, ["B", E]),
           helper.make_tensor_value_info("obs_proprio", TensorProto.FLOAT, ["B", P])]
    outs = [helper.make_tensor_value_info("actions", TensorProto.FLOAT, ["B", 29]),
            helper.make_tensor_value_info("token_indices", TensorProto.INT64, ["B", 2])]
    graph = helper.make_graph(enc_nodes, "sonic_token_policy", ins, outs,
                              common + [numpy_helper.from_array(sel, "sel"), numpy_helper.from_array(We, "We")])
    meta = json.loads(c.to_json())
    main = _save(graph, path, meta)

    wc = np.zeros((6, 29), np.float32)
    wc[np.arange(6), ARM_JOINTS] = RANGE / scale[ARM_JOINTS]
    dec_nodes = [
        helper.make_node("Unsqueeze", ["token_indices", "axis2"], ["ti"]),
        helper.make_node("Div", ["ti", "basis"], ["q"]),
        helper.make_node("Mod", ["q", "lv"], ["dig"]),
        helper.make_node("Cast", ["dig"], ["dig_f"], to=TensorProto.FLOAT),
        helper.make_node("Reshape", ["dig_f", "flat"], ["dig_flat"]),
        helper.make_node("Sub", ["dig_flat", "half"], ["cs"]),
        helper.make_node("Div", ["cs", "half"], ["codes"]),
        helper.make_node("MatMul", ["codes", "Wc"], ["a_c"]),
        helper.make_node("MatMul", ["obs_proprio", "Wp"], ["a_p"]),
        helper.make_node("Add", ["a_c", "a_p"], ["actions"]),
    ]
    dins = [helper.make_tensor_value_info("token_indices", TensorProto.INT64, ["B", 2]),
            helper.make_tensor_value_info("obs_proprio", TensorProto.FLOAT, ["B", P])]
    douts = [helper.make_tensor_value_info("actions", TensorProto.FLOAT, ["B", 29])]
    dgraph = helper.make_graph(dec_nodes, "sonic_token_decoder", dins, douts,
                               common + [numpy_helper.from_array(np.array(LEVELS, np.int64), "lv"),
                                         numpy_helper.from_array(np.array([-1, 6], np.int64), "flat"),
                                         numpy_helper.from_array(wc, "Wc")])
    dec = _save(dgraph, main.with_name(main.stem + ".decoder.onnx"), meta)
    return main, dec
