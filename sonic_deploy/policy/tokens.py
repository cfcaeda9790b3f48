"""Decoder-only policy path for the token input: FSQ token indices + proprioception -> actions.

The artifact pair: the usual ``sonic.policy/1`` model (encoder + FSQ + decoder; used once, to compute the
standing pose's tokens, and for its contract) and a *decoder graph* beside it:

    inputs  ``token_indices`` [B, T] int64 — T = contract ``num_tokens``, indices as in :mod:`sonic_deploy.inputs.token_stream`;
            ``obs_proprio``  [B, P] float32 — the same proprioception layout as the main graph;
    outputs ``actions`` [B, 29] float32;
    metadata ``sonic``: the same contract JSON as the main model (checked equal: config_hash, fsq_levels,
            num_tokens, proprio layout).

Found as ``decoder_path`` or, by default, ``<policy stem>.decoder.onnx`` next to the policy. The class offers
the controller the same interface as :class:`~sonic_deploy.policy.runner.PolicyRunner`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sonic_deploy.inputs.base import ReferenceFrames
from sonic_deploy.policy.contract import (INPUT_ENCODER, INPUT_PROPRIO, OUTPUT_ACTIONS, OUTPUT_TOKENS, ContractError,
                                          PolicyContract, METADATA_KEY)
from sonic_deploy.policy.runner import PolicyRunner
from sonic_deploy.policy.session import make_session
from sonic_deploy.robots.base import RobotState
from sonic_deploy.robots.g1 import G1, RobotSpec

INPUT_TOKENS = "token_indices"


def decoder_path_for(policy_path: str | Path) -> Path:
    p = Path(policy_path)
    return p.with_name(p.stem + ".decoder.onnx")


class TokenPolicy:
    format = "sonic.tokens/1"

    def __init__(self, policy_path, spec: RobotSpec = G1, *, decoder_path=None, threads: int = 1, providers=None):
        self.runner = PolicyRunner(policy_path, spec, threads=threads, providers=providers)
        self.contract: PolicyContract = self.runner.contract
        self.path = self.runner.path
        self.spec = spec
        c = self.contract
        if not c.num_tokens or not c.fsq_levels:
            raise ContractError(self.runner.path, "num_tokens/fsq_levels", "a tokenized policy (num_tokens > 0, fsq_levels)")
        dpath = Path(decoder_path) if decoder_path else decoder_path_for(policy_path)
        if not dpath.is_file():
            raise ContractError(str(dpath), "file", f"the decoder graph of {policy_path} (token_indices + obs_proprio -> "
                                "actions); the export writes it as <policy>.decoder.onnx")
        self.decoder_path = str(dpath)
        self.session = make_session(dpath, threads, providers)
        meta = self.session.get_modelmeta().custom_metadata_map
        if METADATA_KEY not in meta:
            raise ContractError(self.decoder_path, f"metadata_props[{METADATA_KEY!r}]", "the policy's contract JSON")
        dc = PolicyContract.from_json(meta[METADATA_KEY], self.decoder_path)
        for key in ("config_hash", "fsq_levels", "num_tokens", "joint_names", "action_scale"):
            if getattr(dc, key) != getattr(c, key):
                raise ContractError(self.decoder_path, key, f"{getattr(c, key)!r} (as in {self.runner.path})", getattr(dc, key))
        if dc.proprio_dim != c.proprio_dim:
            raise ContractError(self.decoder_path, "observation_layout.obs_proprio", f"{c.proprio_dim} values", dc.proprio_dim)
        ins = {i.name: i.shape for i in self.session.get_inputs()}
        if set(ins) != {INPUT_TOKENS, INPUT_PROPRIO}:
            raise ContractError(self.decoder_path, "graph inputs", f"{INPUT_TOKENS} and {INPUT_PROPRIO}", sorted(ins))
        if OUTPUT_ACTIONS not in {o.name for o in self.session.get_outputs()}:
            raise ContractError(self.decoder_path, f"graph output {OUTPUT_ACTIONS}", "present")
        self.kp, self.kd, self.default = self.runner.kp, self.runner.kd, self.runner.default
        self.tokens: np.ndarray | None = None
        self._standing: np.ndarray | None = None

    # --- the standing pose's tokens (the token input's safe reference) ---------------------------------
    def standing_tokens(self) -> np.ndarray:
        """Run the encoder once on the default standing reference (robot standing still at the default pose)."""
        if self._standing is None:
            if self.contract.encoder != "g1":
                raise ContractError(self.runner.path, "encoder", "g1 to compute the standing tokens here (give "
                                    "safe_tokens to TokenStreamInput for other encoders)", self.contract.encoder)
            n, f = self.spec.num_joints, self.contract.future_frames
            st = RobotState(timestamp=0.0, q=self.default.copy(), dq=np.zeros(n), tau=np.zeros(n),
                            imu_quat=np.array([1.0, 0, 0, 0]), imu_gyro=np.zeros(3), imu_acc=np.array([0, 0, 9.81]),
                            temperature=np.zeros(n))
            fr = ReferenceFrames(times=np.zeros(f), joint_pos=np.tile(self.default, (f, 1)), joint_vel=np.zeros((f, n)),
                                 root_pos=np.zeros((f, 3)), root_quat=np.tile([1.0, 0, 0, 0], (f, 1)))
            self.runner.reset()
            self._standing = self.encode(st, fr)
            self.runner.reset()
        return self._standing.copy()

    def encode(self, state, frames) -> np.ndarray:
        """Tokens the full model computes for this state and reference (recording token streams)."""
        inputs = self.runner.observe(state, frames)
        out = self.runner.session.run([OUTPUT_TOKENS], {k: v for k, v in inputs.items()
                                                        if k in (INPUT_PROPRIO, INPUT_ENCODER)})
        return out[0][0].astype(np.int64)

    # --- controller interface (as PolicyRunner) --------------------------------------------------------
    def reset(self) -> None:
        self.runner.reset()

    def reference_times(self, t: float) -> np.ndarray:
        return np.array([t])

    def observe(self, state, frames) -> dict[str, np.ndarray]:
        if frames is None or frames.tokens is None:
            raise ValueError("TokenPolicy: the reference gave no tokens (connect a TokenStreamInput)")
        c = self.contract
        proprio = self.runner._group("obs_proprio", c.obs_proprio, state, frames)
        return {INPUT_PROPRIO: proprio, INPUT_TOKENS: np.asarray(frames.tokens, np.int64)[None]}

    def term_at(self, input_name: str, index: int) -> str:
        return self.runner.term_at(input_name, index) if input_name != INPUT_TOKENS else f"token {index}"

    def infer(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        self.tokens = inputs[INPUT_TOKENS][0]
        return self.session.run([OUTPUT_ACTIONS], inputs)[0][0].astype(np.float64)

    def commit(self, action: np.ndarray) -> None:
        self.runner.commit(action)

    def targets(self, action: np.ndarray) -> np.ndarray:
        return self.runner.targets(action)
