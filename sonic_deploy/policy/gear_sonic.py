"""Adapter for gear_sonic's released G1 checkpoints (NVIDIA GR00T-WholeBodyControl, ``gear_sonic_deploy``).

Layout, as its C++ deploy (``g1_deploy_onnx_ref``) reads it: ``<name>_encoder.onnx`` (input ``obs_dict`` [1, E],
output ``encoded_tokens`` [1, D]), ``<name>_decoder.onnx`` (input ``obs_dict`` [1, P], output ``action`` [1, 29])
and ``observation_config.yaml`` beside them::

    observations: [{name, enabled}, ...]          # the decoder's input, in this order
    encoder: {dimension: D, encoder_observations: [{name, enabled}, ...],   # the encoder's input, in this order
              encoder_modes: [{name, mode_id, required_observations: [...]}, ...]}

Each name is a registry entry ``<term>[_<N>frame_step<S>]``: N frames S control steps apart (reference terms:
frames ahead of now, clamped to the motion's end; history terms: the last N states, oldest first). Terms
implemented here (the ``g1`` encoder mode: a G1 motion as reference):

* decoder: ``token_state`` (D, the encoder's output), ``base_angular_velocity`` (IMU gyro), ``body_joint_positions``
  (q - default), ``body_joint_velocities``, ``last_actions`` (raw), ``gravity_dir`` (gravity in the pelvis frame),
  each also as ``his_<term>_<N>frame_step<S>``;
* encoder: ``encoder_mode`` (3: mode id, zeros) / ``encoder_mode_4`` (4), ``motion_joint_positions``,
  ``motion_joint_velocities`` (29 per frame; ``_lowerbody`` 12, ``_wrists`` 6), ``motion_anchor_orientation``
  (first two columns, row-major, of R(pelvis)^T R(reference pelvis), the reference heading-aligned at start),
  ``motion_root_z_position`` (1 per frame). Terms of the other modes (``vr_*``, ``smpl_*``) are zero-filled, as the
  deploy does for the observations a mode does not require.

All joint vectors are in Isaac Lab order (breadth-first), remapped by name to the G1's motor order. Gains (unless
the decoder's metadata carries ``kp``/``kd``, JSON lists in Unitree order), action scale and default pose are the
deploy's constants (``policy_parameters.hpp``): kp = armature * (2 pi 10 Hz)^2,
kd = 2 * 2 * armature * 2 pi 10 Hz, ankles and waist roll/pitch twice the 5020 values, action scale
0.25 * effort / kp(single motor); q* = default + scale * action. 50 Hz.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from sonic_deploy.policy.contract import ContractError
from sonic_deploy.policy.session import make_session
from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_deploy.utils.rotations import quat_apply_inverse, quat_conjugate, quat_mul, quat_to_matrix

CONTROL_DT = 0.02
# Unitree joint i -> its index in the policy's (Isaac Lab) vectors (gear_sonic isaaclab_to_mujoco)
ISAAC_INDEX = np.array([0, 3, 6, 9, 13, 17, 1, 4, 7, 10, 14, 18, 2, 5, 8, 11, 15, 19, 21, 23, 25, 27, 12, 16, 20, 22,
                        24, 26, 28])
LOWER_BODY = np.arange(12)  # Unitree joints 0..11 (legs), gathered in Unitree order
WRISTS_ISAAC = np.arange(23, 29)  # Isaac Lab indices 23..28
_W = 2 * np.pi * 10.0
_ARM = {"5020": 0.003609725, "7520_14": 0.010177520, "7520_22": 0.025101925, "4010": 0.00425}
_EFFORT = {"5020": 25.0, "7520_14": 88.0, "7520_22": 139.0, "4010": 5.0}
# motor type and gain multiplier per Unitree joint (policy_parameters.hpp)
_MOTORS = ([("7520_22", 1), ("7520_22", 1), ("7520_14", 1), ("7520_22", 1), ("5020", 2), ("5020", 2)] * 2
           + [("7520_14", 1), ("5020", 2), ("5020", 2)]
           + ([("5020", 1)] * 5 + [("4010", 1)] * 2) * 2)
KP = np.array([_ARM[m] * _W ** 2 * k for m, k in _MOTORS])
KD = np.array([2.0 * 2.0 * _ARM[m] * _W * k for m, k in _MOTORS])
ACTION_SCALE = np.array([0.25 * _EFFORT[m] / (_ARM[m] * _W ** 2) for m, _ in _MOTORS])
DEFAULT = np.array([-0.312, 0.0, 0.0, 0.669, -0.363, 0.0, -0.312, 0.0, 0.0, 0.669, -0.363, 0.0, 0.0, 0.0, 0.0,
                    0.2, 0.2, 0.0, 0.6, 0.0, 0.0, 0.0, 0.2, -0.2, 0.0, 0.6, 0.0, 0.0, 0.0])
MODE_NEEDS = {"g1": {"joint_pos", "joint_vel", "root_quat"}, "teleop": {"vr"}, "smpl": {"smpl_joints"}}

_NAME = re.compile(r"^(?P<base>[a-z0-9_]+?)(?:_(?P<n>\d+)frame_step(?P<s>\d+))?$")
HISTORY = {"base_angular_velocity": 3, "body_joint_positions": 29, "body_joint_velocities": 29, "last_actions": 29,
           "gravity_dir": 3}
MOTION = {"motion_joint_positions": 29, "motion_joint_velocities": 29, "motion_joint_positions_lowerbody": 12,
          "motion_joint_velocities_lowerbody": 12, "motion_joint_positions_wrists": 6,
          "motion_joint_velocities_wrists": 6, "motion_anchor_orientation": 6, "motion_root_z_position": 1}
# other modes' encoder terms: zero-filled here (dims per frame, from the deploy's registry)
ZERO_FILLED = {"vr_3point_local_target": 9, "vr_3point_local_target_compliant": 9, "vr_3point_local_orn_target": 12,
               "vr_3point_compliance": 3, "vr_5point_local_target": 15, "vr_5point_local_orn_target": 20,
               "smpl_joints": 72, "smpl_pose": 63, "smpl_anchor_orientation": 6, "smpl_root_z": 1,
               "smpl_joints_lower": 27, "smpl_elbow_wrist_poses": 12, "heading_diff_robot_ref": 6}


@dataclass
class Term:
    name: str
    base: str
    frames: int
    step: int
    dim: int  # total

    @property
    def per_frame(self) -> int:
        return self.dim // self.frames


@dataclass
class Checkpoint:
    encoder: Path
    decoder: Path
    config: Path


def find_checkpoint(path) -> Checkpoint | None:
    """The checkpoint at ``path``: a folder, the prefix ``<dir>/<name>``, or either ONNX file; None if not one."""
    p = Path(path)
    if p.is_dir():
        decs = sorted(p.glob("*_decoder.onnx"))
        prefix = Path(str(decs[0])[:-len("_decoder.onnx")]) if len(decs) == 1 else None
    elif p.name.endswith(("_decoder.onnx", "_encoder.onnx")):
        prefix = p.with_name(p.name[:-len("_decoder.onnx")])
    else:
        prefix = p
    if prefix is None:
        return None
    enc, dec = Path(f"{prefix}_encoder.onnx"), Path(f"{prefix}_decoder.onnx")
    cfg = prefix.parent / "observation_config.yaml"
    return Checkpoint(enc, dec, cfg) if enc.is_file() and dec.is_file() and cfg.is_file() else None


def parse_term(name: str, token_dim: int, where: str, path: str) -> Term:
    m = _NAME.match(name)
    if name in ("encoder_mode", "encoder_mode_4"):
        return Term(name, name, 1, 1, 3 if name == "encoder_mode" else 4)
    if name == "token_state":
        return Term(name, name, 1, 1, token_dim)
    base, n, s = (m.group("base"), int(m.group("n") or 1), int(m.group("s") or 1)) if m else (name, 1, 1)
    if base.startswith("his_") and base[4:] in HISTORY:
        return Term(name, base[4:], n, s, HISTORY[base[4:]] * n)
    for table in (HISTORY, MOTION, ZERO_FILLED):
        if base in table:
            return Term(name, base, n, s, table[base] * n)
    raise ContractError(path, where, "a gear_sonic observation name (token_state, encoder_mode_4, his_<term>_<N>frame_"
                        f"step<S>, motion_<term>[_<N>frame_step<S>], ...) this runtime implements", name)


def _enabled(items, path: str, where: str) -> list[str]:
    if not isinstance(items, list):
        raise ContractError(path, where, "a list of {name, enabled}", items)
    out = []
    for i, it in enumerate(items):
        if not isinstance(it, dict) or "name" not in it:
            raise ContractError(path, f"{where}[{i}]", "{name, enabled}", it)
        if it.get("enabled", True):
            out.append(str(it["name"]))
    return out


class GearSonicPolicy:
    """Encoder + decoder pair behind the :class:`~sonic_deploy.policy.base.Policy` protocol (encoder mode g1)."""

    format = "gear_sonic"

    def __init__(self, path, spec: RobotSpec = G1, *, available=None, threads: int = 1, providers=None):
        ck = find_checkpoint(path)
        if ck is None:
            raise ContractError(str(path), "gear_sonic checkpoint", "<name>_encoder.onnx, <name>_decoder.onnx and "
                                "observation_config.yaml in one folder")
        self.checkpoint = ck
        self.path = str(ck.decoder)
        self.spec = spec
        self.enc = make_session(ck.encoder, threads, providers)
        self.dec = make_session(ck.decoder, threads, providers)
        for sess, p, out in ((self.enc, ck.encoder, "encoded_tokens"), (self.dec, ck.decoder, "action")):
            ins, outs = [i.name for i in sess.get_inputs()], [o.name for o in sess.get_outputs()]
            if ins != ["obs_dict"]:
                raise ContractError(str(p), "graph inputs", "exactly one input obs_dict", ins)
            if outs != [out]:
                raise ContractError(str(p), "graph outputs", f"exactly one output {out}", outs)
        cfgp = str(ck.config)
        try:
            cfg = yaml.safe_load(ck.config.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ContractError(cfgp, "yaml", "valid YAML", str(exc).splitlines()[0]) from None
        enc_cfg = cfg.get("encoder") or {}
        self.token_dim = int(enc_cfg.get("dimension", 64) or 64)
        tok_shape = self.enc.get_outputs()[0].shape[-1]
        if isinstance(tok_shape, int) and tok_shape != self.token_dim:
            raise ContractError(cfgp, "encoder.dimension", f"{tok_shape} (encoded_tokens of {ck.encoder.name})",
                                self.token_dim)
        self.dec_terms = [parse_term(n, self.token_dim, "observations", cfgp)
                          for n in _enabled(cfg.get("observations"), cfgp, "observations")]
        self.enc_terms = [parse_term(n, self.token_dim, "encoder.encoder_observations", cfgp)
                          for n in _enabled(enc_cfg.get("encoder_observations"), cfgp, "encoder.encoder_observations")]
        for t in self.dec_terms:
            if t.base != "token_state" and t.base not in HISTORY:
                raise ContractError(cfgp, "observations", "decoder terms token_state and (his_)proprioception terms",
                                    t.name)
        modes = {m.get("name"): m for m in enc_cfg.get("encoder_modes") or []}
        if "g1" not in modes:
            raise ContractError(cfgp, "encoder.encoder_modes", "a mode named g1 (motion reference)", sorted(modes))
        self.mode_id = int(modes["g1"].get("mode_id", 0))
        self.required = set(modes["g1"].get("required_observations") or [])
        for t in self.enc_terms:
            if t.name in self.required and t.base in ZERO_FILLED:
                raise ContractError(cfgp, "encoder.encoder_modes[g1].required_observations",
                                    "terms of a G1 motion reference", t.name)
        if available is not None and not MODE_NEEDS["g1"] <= set(available):
            raise ContractError(cfgp, "encoder mode", "a reference input providing joint_pos, joint_vel, root_quat "
                                "(mode g1; teleop and smpl modes are not implemented here)", sorted(available))
        for sess, terms, p in ((self.enc, self.enc_terms, ck.encoder), (self.dec, self.dec_terms, ck.decoder)):
            want, got = sum(t.dim for t in terms), sess.get_inputs()[0].shape[-1]
            if isinstance(got, int) and got != want:
                raise ContractError(str(p), "graph input obs_dict dim", f"{want} (sum of {ck.config.name}'s terms)", got)
        self.kp, self.kd, self.default, self.action_scale = KP.copy(), KD.copy(), DEFAULT.copy(), ACTION_SCALE.copy()
        self.gains_from = "the deploy's constants (policy_parameters.hpp)"
        meta = self.dec.get_modelmeta().custom_metadata_map
        for key in ("kp", "kd"):  # a decoder that carries its gains (JSON, Unitree order) overrides the table
            if key in meta:
                try:
                    v = np.asarray(json.loads(meta[key]), np.float64)
                except (json.JSONDecodeError, ValueError):
                    v = np.zeros(0)
                if v.shape != (29,) or not np.isfinite(v).all() or (v < 0).any():
                    raise ContractError(str(ck.decoder), f"metadata_props[{key!r}]", "29 non-negative numbers (JSON, "
                                        "Unitree order)", meta[key][:80])
                setattr(self, key, v)
                self.gains_from = f"{ck.decoder.name} metadata"
        self.control_dt = CONTROL_DT
        ahead = [(t.frames - 1) * t.step for t in self.enc_terms if t.base in MOTION]
        self.future_steps = max(ahead, default=0) + 1
        self.hist_len = max([(t.frames - 1) * t.step + 1 for t in self.dec_terms if t.base in HISTORY], default=1)
        self.tokens: np.ndarray | None = None
        self.reset()

    def summary(self) -> dict:
        return {"encoder": f"{self.checkpoint.encoder.name}: {sum(t.dim for t in self.enc_terms)} -> {self.token_dim} "
                f"tokens (mode g1, id {self.mode_id})",
                "decoder": f"{self.checkpoint.decoder.name}: {sum(t.dim for t in self.dec_terms)} -> 29 actions",
                "decoder terms": ", ".join(f"{t.name} {t.dim}" for t in self.dec_terms),
                "encoder terms (g1)": ", ".join(f"{t.name} {t.dim}" for t in self.enc_terms if t.name in self.required),
                "reference": f"{self.future_steps} control steps ahead ({(self.future_steps - 1) * CONTROL_DT:.2f} s)",
                "joint order": "Isaac Lab, remapped by name", "control": "50 Hz", "gains": self.gains_from}

    # --- Policy protocol ---------------------------------------------------------------------------------
    def reset(self) -> None:
        self.last_action_i = np.zeros(self.spec.num_joints)  # Isaac Lab order
        self._hist: list[dict[str, np.ndarray]] = []

    def reference_times(self, t: float) -> np.ndarray:
        return t + np.arange(self.future_steps) * CONTROL_DT

    def _motion_term(self, t: Term, state, frames) -> np.ndarray:
        idx = np.minimum(np.arange(t.frames) * t.step, len(frames.times) - 1)
        if t.base.startswith("motion_joint_"):
            src = frames.joint_pos if "positions" in t.base else frames.joint_vel
            rows = np.asarray(src, np.float64)[idx]
            if t.base.endswith("lowerbody"):
                return rows[:, LOWER_BODY].reshape(-1)
            isaac = np.empty_like(rows)
            isaac[:, ISAAC_INDEX] = rows
            return (isaac[:, WRISTS_ISAAC] if t.base.endswith("wrists") else isaac).reshape(-1)
        if t.base == "motion_anchor_orientation":
            rel = quat_mul(quat_conjugate(np.asarray(state.imu_quat, np.float64))[None], np.asarray(frames.root_quat)[idx])
            return quat_to_matrix(rel)[:, :, :2].reshape(-1)
        return np.asarray(frames.root_pos, np.float64)[idx, 2]  # motion_root_z_position

    def _history_entry(self, state) -> dict[str, np.ndarray]:
        q = np.asarray(state.q, np.float64) - self.default
        isaac = lambda v: v[np.argsort(ISAAC_INDEX)]  # noqa: E731 - Isaac Lab index i <- Unitree joint
        return {"base_angular_velocity": np.asarray(state.imu_gyro, np.float64),
                "body_joint_positions": isaac(q), "body_joint_velocities": isaac(np.asarray(state.dq, np.float64)),
                "last_actions": self.last_action_i.copy(),
                "gravity_dir": quat_apply_inverse(np.asarray(state.imu_quat, np.float64), np.array([0.0, 0, -1]))}

    def observe(self, state, frames) -> dict[str, np.ndarray]:
        if frames is None or frames.joint_pos is None:
            raise ValueError(f"{self.path}: gear_sonic (mode g1) needs a motion reference, none is connected")
        enc = []
        for t in self.enc_terms:
            if t.base in ("encoder_mode", "encoder_mode_4"):
                v = np.zeros(t.dim)
                v[0] = self.mode_id
            elif t.name in self.required or (t.base in MOTION and not self.required):
                v = self._motion_term(t, state, frames)
            else:
                v = np.zeros(t.dim)
            enc.append(v)
        self._hist.append(self._history_entry(state))
        if len(self._hist) == 1:
            self._hist = self._hist * self.hist_len  # a fresh history holds the first state
        self._hist = self._hist[-self.hist_len:]
        return {"encoder": np.concatenate(enc)[None].astype(np.float32)}

    def _decoder_obs(self, tokens: np.ndarray) -> np.ndarray:
        parts = []
        for t in self.dec_terms:
            if t.base == "token_state":
                parts.append(tokens)
            else:  # the last N entries S steps apart, oldest first
                idx = len(self._hist) - 1 - np.arange(t.frames)[::-1] * t.step
                parts.append(np.concatenate([self._hist[max(i, 0)][t.base] for i in idx]))
        return np.concatenate(parts)[None].astype(np.float32)

    def term_at(self, input_name: str, index: int) -> str:
        off = 0
        for t in self.enc_terms:
            if off <= index < off + t.dim:
                return t.name
            off += t.dim
        return "?"

    def infer(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        tokens = self.enc.run(["encoded_tokens"], {"obs_dict": inputs["encoder"]})[0].reshape(-1)
        self.tokens = tokens
        a_i = self.dec.run(["action"], {"obs_dict": self._decoder_obs(tokens)})[0][0].astype(np.float64)
        return a_i[ISAAC_INDEX]  # Unitree order

    def commit(self, action: np.ndarray) -> None:
        self.last_action_i = np.asarray(action, np.float64)[np.argsort(ISAAC_INDEX)]

    def targets(self, action: np.ndarray) -> np.ndarray:
        return self.default + self.action_scale * np.asarray(action, np.float64)
