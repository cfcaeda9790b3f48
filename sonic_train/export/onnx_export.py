"""ONNX export of one encoder + FSQ + the ``g1_dyn`` decoder, per the ``sonic.policy/1`` artifact contract.

Graph (opset :data:`OPSET`, TorchScript exporter, batch dimension dynamic):
inputs ``obs_encoder`` [B, E], ``obs_proprio`` [B, P] and, with ``residual=True``, ``latent_residual`` [B, L];
outputs ``actions`` [B, 29] (raw, Unitree order) and ``token_indices`` [B, num_tokens] int64.

Metadata (``metadata_props['sonic']``, :class:`sonic_deploy.policy.contract.PolicyContract` JSON): robot, joints,
default pose, kp/kd and action scale of the spec the env used, control/physics dt, the observation layout read
off the env's observation manager (proprio = the ``policy`` group; encoder = the chosen encoder's tokenizer
terms, in the encoder's input order), FSQ levels, token count, future frames/dt, encoder, a hash of the training
config and the package version.

At export time onnxruntime is compared with PyTorch on random inputs and on inputs recorded from a short
rollout of the policy in the evaluation env; the export fails when the largest absolute action difference
exceeds ``tolerance`` (1e-5) or a token index differs. The file is written atomically (temp + os.replace).

Beside it, always, the *decoder graph* ``<out stem>.decoder.onnx`` of the token input
(:mod:`sonic_deploy.policy.tokens`): inputs ``token_indices`` [B, num_tokens] int64 (FSQ indices,
``sum_i k_i * basis_i`` with ``basis = cumprod([1] + levels[:-1])``) and ``obs_proprio`` [B, P]; output
``actions`` [B, 29]; the same ``sonic`` metadata. It is parity-checked against PyTorch on random tokens and on
the main graph's tokens of the parity inputs, and written atomically after the main file.

At release size (:data:`~sonic_train.export.int8.RELEASE_PARAMS` weights or more) also ``<out stem>.int8.onnx``,
checked against FP32 on the recorded rollout and in a short sim-to-sim (:mod:`sonic_train.export.int8`); the
check's figures and verdict go into the FP32 file's ``sonic.int8`` metadata, which the runner reads to run
INT8 by default on a CPU.
"""

from __future__ import annotations

import inspect
import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from omegaconf import OmegaConf
from torch import nn

from sonic_deploy.policy.contract import (ENCODERS, INPUT_ENCODER, INPUT_PROPRIO, INPUT_RESIDUAL, METADATA_KEY,
                                          OUTPUT_ACTIONS, OUTPUT_TOKENS, PolicyContract, TermSpec)
from sonic_deploy.policy.session import make_session
from sonic_deploy.policy.tokens import INPUT_TOKENS
from sonic_deploy.utils.atomic import atomic_path
from sonic_train.eval.common import EvalError, config_hash, version
from sonic_train.eval.evaluator import Evaluator
from sonic_train.export.int8 import RELEASE_PARAMS, Int8Tolerance, add_int8_metadata, param_count, write_int8

OPSET = 17
TOLERANCE = 1e-5


class ExportError(EvalError):
    pass


class DeployPolicy(nn.Module):
    """``(obs_encoder, obs_proprio[, latent_residual]) -> (actions, token_indices)`` for one encoder."""

    def __init__(self, token_module: nn.Module, encoder: str, residual: bool = False):
        super().__init__()
        self.tm = token_module
        self.encoder = encoder
        self.residual = residual

    def forward(self, obs_encoder: torch.Tensor, obs_proprio: torch.Tensor,
                latent_residual: torch.Tensor | None = None):
        return self.tm.deploy_forward(self.encoder, obs_encoder, obs_proprio,
                                      latent_residual if self.residual else None)


class DecoderPolicy(nn.Module):
    """``(token_indices, obs_proprio) -> actions``: FSQ indices -> codes -> g1_dyn (no encoder)."""

    def __init__(self, token_module: nn.Module):
        super().__init__()
        self.tm = token_module

    def forward(self, token_indices: torch.Tensor, obs_proprio: torch.Tensor) -> torch.Tensor:
        return self.tm.decode_actions(self.tm.tokens_from_indices(token_indices), obs_proprio)


def decoder_path_for(path: str | os.PathLike) -> Path:
    """``<stem>.decoder.onnx`` beside ``path`` (as :func:`sonic_deploy.policy.tokens.decoder_path_for`)."""
    p = Path(path)
    return p.with_name(p.stem + ".decoder.onnx")


def _scale(s: Any) -> Any:
    return float(s) if isinstance(s, (int, float)) else [float(v) for v in s]


def future_spacing(tenv) -> set[tuple[int, float]]:
    """(future frames, their spacing in s) of each tokenizer term that looks ahead, as the env computed it.

    Read off the term's function call (its params over its function's defaults), so the contract carries the
    spacing the env used whether the config sets it or leaves it to the term."""
    out = set()
    for t in tenv.observation_manager.groups.get("tokenizer", []):
        sig = inspect.signature(t.cfg.func)
        if "num_future_frames" not in sig.parameters:
            continue
        call = sig.bind_partial(**t.cfg.params)
        call.apply_defaults()
        out.add((int(call.arguments["num_future_frames"]), float(call.arguments["future_dt"])))
    return out


def build_contract(train_cfg, tenv, token_module, encoder: str, layout: dict) -> PolicyContract:
    """The artifact contract from the env (spec, action scale, observation layout) and the model."""
    robot = tenv.robot
    policy_rows = layout.get("policy", [])
    proprio = [TermSpec(r["name"], int(r["dim"]), int(r["history"]), _scale(r["scale"])) for r in policy_rows]
    tok = {r["name"]: r for r in layout.get("tokenizer", [])}
    enc_terms = []
    for name in token_module.encoder_inputs[encoder]:
        if name not in tok:
            raise ExportError(f"encoder {encoder!r} input {name!r} is not a tokenizer term of the env")
        r = tok[name]
        enc_terms.append(TermSpec(name, int(r["dim"]) * int(r["history"]), 1, _scale(r["scale"])))
    futures = future_spacing(tenv)
    if len(futures) > 1:
        raise ExportError(f"tokenizer terms disagree on future frames/dt: {sorted(futures)}")
    ff, fdt = futures.pop() if futures else (1, float(tenv.step_dt))
    scale = tenv.action_manager.scale.detach().cpu().numpy().astype(np.float64)
    be = tenv.backend
    kp, kd = be.base_kp, be.base_kd  # the gains the policy was trained under (SimulatorBackend)
    return PolicyContract(
        joint_names=list(robot.joint_names), default_joint_pos=[float(x) for x in robot.default_joint_pos],
        kp=[float(x) for x in kp], kd=[float(x) for x in kd], action_scale=[float(x) for x in scale],
        encoder=encoder, obs_proprio=proprio, obs_encoder=enc_terms, control_dt=float(tenv.step_dt),
        physics_dt=float(be.physics_dt), fsq_levels=[int(v) for v in token_module.fsq.level_list],
        num_tokens=int(token_module.num_tokens), future_frames=ff, future_dt=fdt, robot=robot.name,
        config_hash=config_hash(train_cfg), version=version())


@dataclass
class ExportResult:
    path: Path
    contract: PolicyContract
    parity: dict[str, float] = field(default_factory=dict)
    recorded_steps: int = 0
    seconds: float = 0.0
    decoder_path: Path | None = None
    int8_path: Path | None = None  # the INT8 variant (release size), its check in ``int8``
    int8: dict | None = None


def _torch_io(model: DeployPolicy, e: np.ndarray, p: np.ndarray, r: np.ndarray | None):
    with torch.no_grad():
        a, t = model(torch.from_numpy(e), torch.from_numpy(p), None if r is None else torch.from_numpy(r))
    return a.numpy(), t.numpy()


def check_parity(path: str | os.PathLike, model: DeployPolicy, batches: dict[str, dict[str, np.ndarray]],
                 tolerance: float = TOLERANCE) -> dict[str, float]:
    """Max |actions_ort - actions_torch| per batch; raises :class:`ExportError` past ``tolerance`` or on a token
    mismatch."""

    sess = make_session(path, threads=1)
    out = {}
    for label, feed in batches.items():
        a_ort, t_ort = sess.run([OUTPUT_ACTIONS, OUTPUT_TOKENS], feed)
        a_pt, t_pt = _torch_io(model, feed[INPUT_ENCODER], feed[INPUT_PROPRIO], feed.get(INPUT_RESIDUAL))
        diff = float(np.abs(a_ort - a_pt).max())
        tok_bad = int((t_ort != t_pt).any(-1).sum())
        out[f"{label}/max_abs_diff"] = diff
        out[f"{label}/token_mismatch_rows"] = tok_bad
        if not np.isfinite(diff) or diff > tolerance or tok_bad:
            raise ExportError(f"{path}: onnxruntime differs from PyTorch on {label} inputs: max |diff| {diff:.3g} "
                              f"(tolerance {tolerance:g}), {tok_bad} rows with other tokens")
    return out


def check_decoder_parity(path: str | os.PathLike, model: DecoderPolicy, batches: dict[str, dict[str, np.ndarray]],
                         tolerance: float = TOLERANCE) -> dict[str, float]:
    """Max |actions_ort - actions_torch| of the decoder graph per batch; raises :class:`ExportError` past
    ``tolerance``."""

    sess = make_session(path, threads=1)
    out = {}
    for label, feed in batches.items():
        a_ort = sess.run([OUTPUT_ACTIONS], feed)[0]
        with torch.no_grad():
            a_pt = model(torch.from_numpy(feed[INPUT_TOKENS]), torch.from_numpy(feed[INPUT_PROPRIO])).numpy()
        diff = float(np.abs(a_ort - a_pt).max())
        out[f"decoder/{label}/max_abs_diff"] = diff
        if not np.isfinite(diff) or diff > tolerance:
            raise ExportError(f"{path}: onnxruntime differs from PyTorch on {label} tokens: max |diff| {diff:.3g} "
                              f"(tolerance {tolerance:g})")
    return out


def build_decoder_proto(model: DecoderPolicy, num_tokens: int, proprio_dim: int, metadata: dict[str, str], doc: str):


    ex_t = torch.zeros(2, num_tokens, dtype=torch.int64)
    ex_p = torch.zeros(2, proprio_dim)
    names_in = [INPUT_TOKENS, INPUT_PROPRIO]
    dyn = {n: {0: "batch"} for n in names_in + [OUTPUT_ACTIONS]}
    with tempfile.TemporaryDirectory() as d:
        raw = Path(d) / "decoder.onnx"
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(model, (ex_t, ex_p), str(raw), dynamo=False, opset_version=OPSET, input_names=names_in,
                              output_names=[OUTPUT_ACTIONS], dynamic_axes=dyn, do_constant_folding=True)
        proto = onnx.load(str(raw))
    proto.producer_name = "sonic-export"
    proto.producer_version = version()
    proto.doc_string = doc
    for k, v in metadata.items():
        p = proto.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(proto)
    return proto


def _save_atomic(model_proto, path: Path) -> None:

    with atomic_path(path) as tmp:
        onnx.save(model_proto, str(tmp))


def export_checkpoint(checkpoint: str | os.PathLike, out: str | os.PathLike | None = None, encoder: str = "g1",
                      residual: bool = False, tolerance: float = TOLERANCE, recorded_steps: int = 25,
                      random_batch: int = 64, seed: int = 0, motions: str | None = None,
                      sim_backend: str | None = "mujoco", int8: bool | None = None,
                      int8_tolerance: Int8Tolerance | None = None) -> ExportResult:
    """Export ``checkpoint`` (its training config.yaml beside it) to ``out`` and check parity.

    The layout and the recorded parity inputs come from the evaluation env on ``sim_backend`` (default the CPU
    MuJoCo backend, whatever simulator trained the checkpoint; ``None``: the training run's). ``int8``: write and
    check the INT8 variant (None: at release size)."""


    t0 = time.perf_counter()
    if encoder not in ENCODERS:
        raise ExportError(f"encoder {encoder!r}: the contract knows {ENCODERS}")
    checkpoint = str(checkpoint)
    out = Path(out) if out else Path(checkpoint).with_name(f"{Path(checkpoint).stem}_{encoder}.onnx")
    ev_cfg = OmegaConf.create({"encoder": encoder, "num_envs": 2, "max_episode_s": 2.0, "motions": motions,
                               "seed": seed, "sim_backend": sim_backend})
    ev = Evaluator(checkpoint, ev_cfg, num_envs=2)
    try:
        actor = ev.model.actor
        tm = actor.backbone
        if not hasattr(tm, "deploy_forward"):
            raise ExportError(f"{checkpoint}: the actor is not a universal-token policy (backbone "
                              f"{type(tm).__name__}); only token policies export to the sonic contract")
        if encoder not in tm.encoder_names:
            raise ExportError(f"encoder {encoder!r} is not in the model (it has {tm.encoder_names})")
        layout = ev.env.observation_layout()
        contract = build_contract(ev.train_cfg, ev.tenv, tm, encoder, layout)
        model = DeployPolicy(tm, encoder, residual).eval()

        # recorded inputs: a short deterministic rollout in the evaluation env
        rec_e, rec_p = [], []
        obs = ev.obs
        with torch.no_grad():
            for _ in range(recorded_steps):
                rec_e.append(tm.encoder_input(encoder, obs["tokenizer"]).numpy().astype(np.float32))
                rec_p.append(obs["policy"].numpy().astype(np.float32))
                obs, _, _, _ = ev.env.step(actor.act_inference(obs))
    finally:
        ev.close()
    E, P, L = contract.encoder_dim, contract.proprio_dim, tm.latent_dim
    if rec_e and (rec_e[0].shape[1] != E or rec_p[0].shape[1] != P):
        raise ExportError(f"recorded inputs ({rec_e[0].shape[1]}, {rec_p[0].shape[1]}) do not match the layout "
                          f"({E}, {P})")

    g = torch.Generator().manual_seed(seed)
    ex_e, ex_p = torch.randn(2, E, generator=g), torch.randn(2, P, generator=g)
    ex_r = torch.zeros(2, L) if residual else None
    names_in = [INPUT_ENCODER, INPUT_PROPRIO] + ([INPUT_RESIDUAL] if residual else [])
    names_out = [OUTPUT_ACTIONS, OUTPUT_TOKENS]
    dyn = {n: {0: "batch"} for n in names_in + names_out}
    args = (ex_e, ex_p, ex_r) if residual else (ex_e, ex_p)
    with tempfile.TemporaryDirectory() as d:
        raw = Path(d) / "raw.onnx"
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter (no onnxscript needed)
            torch.onnx.export(model, args, str(raw), dynamo=False, opset_version=OPSET, input_names=names_in,
                              output_names=names_out, dynamic_axes=dyn, do_constant_folding=True)
        proto = onnx.load(str(raw))
    proto.producer_name = "sonic-export"
    proto.producer_version = version()
    proto.doc_string = f"sonic universal-token policy: encoder {encoder} + FSQ + g1_dyn; {Path(checkpoint).name}"
    metadata = {METADATA_KEY: contract.to_json(), "checkpoint": Path(checkpoint).name, "opset": str(OPSET)}
    for k, v in metadata.items():
        p = proto.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(proto)
    decoder = DecoderPolicy(tm).eval()
    dec_proto = build_decoder_proto(decoder, contract.num_tokens, P, metadata,
                                    f"sonic token decoder: FSQ token indices + proprio -> g1_dyn; {Path(checkpoint).name}")
    out = Path(out)
    dec_out = decoder_path_for(out)
    # parity on the final bytes, before they replace anything at ``out``
    tmp_dir = out.parent if out.parent.exists() else None
    with tempfile.TemporaryDirectory(dir=tmp_dir) as d:
        cand = Path(d) / out.name
        onnx.save(proto, str(cand))
        rng = np.random.default_rng(seed)
        batches = {"random": {INPUT_ENCODER: rng.standard_normal((random_batch, E)).astype(np.float32),
                              INPUT_PROPRIO: rng.standard_normal((random_batch, P)).astype(np.float32)},
                   "batch1": {INPUT_ENCODER: rng.standard_normal((1, E)).astype(np.float32),
                              INPUT_PROPRIO: rng.standard_normal((1, P)).astype(np.float32)}}
        if rec_e:
            batches["recorded"] = {INPUT_ENCODER: np.concatenate(rec_e), INPUT_PROPRIO: np.concatenate(rec_p)}
        for b in batches.values():
            if residual:
                b[INPUT_RESIDUAL] = (0.05 * rng.standard_normal((b[INPUT_ENCODER].shape[0], L))).astype(np.float32)
        parity = check_parity(cand, model, batches, tolerance)
        # the decoder graph: random tokens, and the main graph's tokens of the parity inputs

        dec_cand = Path(d) / dec_out.name
        onnx.save(dec_proto, str(dec_cand))
        cb = int(np.prod(contract.fsq_levels))
        main_sess = make_session(cand, threads=1)
        dec_batches = {"random": {INPUT_TOKENS: rng.integers(0, cb, (random_batch, contract.num_tokens), dtype=np.int64),
                                  INPUT_PROPRIO: rng.standard_normal((random_batch, P)).astype(np.float32)}}
        for label, b in batches.items():
            toks = main_sess.run([OUTPUT_TOKENS], b)[0]
            dec_batches[f"{label}_tokens"] = {INPUT_TOKENS: toks.astype(np.int64), INPUT_PROPRIO: b[INPUT_PROPRIO]}
        parity.update(check_decoder_parity(dec_cand, decoder, dec_batches, tolerance))
        int8_info = int8_out = None
        if int8 or (int8 is None and param_count(proto) >= RELEASE_PARAMS):
            rec = batches.get("recorded", batches["batch1"])
            feeds = [{k: v[i:i + 1] for k, v in rec.items()} for i in range(len(rec[INPUT_ENCODER]))]
            int8_cand, int8_info = write_int8(cand, out, feeds, int8_tolerance or Int8Tolerance())
            add_int8_metadata(proto, int8_info)
            int8_out = out.with_name(int8_cand.name)
            with atomic_path(int8_out) as part:
                shutil.copyfile(int8_cand, part)
    _save_atomic(proto, out)
    _save_atomic(dec_proto, dec_out)
    return ExportResult(out, contract, parity, len(rec_e) * 2, time.perf_counter() - t0, dec_out, int8_out, int8_info)
