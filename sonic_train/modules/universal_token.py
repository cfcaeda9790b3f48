"""The universal-token module: several encoders -> FSQ tokens -> decoders.

Encoders (``g1``, ``smpl``, ``teleop``) map their tokenizer observation terms to one latent of size
``len(fsq_level_list) * num_tokens``. Each environment uses one encoder per episode, given by the
``encoder_index`` tokenizer observation (an index into :attr:`UniversalTokenModule.encoder_names`).
All encoders run on the whole batch and each env's latent is gathered by its index: every
parameter takes part in every forward pass (DDP-safe) and the per-encoder latents are there for
the latent-alignment losses.

Decoders: ``g1_dyn`` (tokens + proprioception -> actions; the only one deployed) and ``g1_kin``
(tokens -> future motion frames; auxiliary reconstruction only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from sonic_train.modules.fsq import FSQ
from sonic_train.modules.mlp import build_mlp

LATENT_RESIDUAL_MODES = ("post_quantization", "pre_quantization", "pre_quantization_replace")
ENCODER_INDEX_KEY = "encoder_index"


def encoder_probs_from_cfg(encoder_sample_probs: Mapping[str, float] | Sequence[float],
                           encoder_names: Sequence[str] | None = None) -> torch.Tensor:
    """Sampling probabilities in encoder order, normalised to sum 1.

    ``encoder_sample_probs`` is either a mapping name -> weight (names absent get 0) or a sequence
    aligned with ``encoder_names``.
    """
    if isinstance(encoder_sample_probs, Mapping):
        names = list(encoder_names) if encoder_names is not None else list(encoder_sample_probs)
        unknown = set(encoder_sample_probs) - set(names)
        if unknown:
            raise ValueError(f"encoder_sample_probs names unknown encoders {sorted(unknown)}; have {names}")
        probs = [float(encoder_sample_probs.get(n, 0.0)) for n in names]
    else:
        probs = [float(p) for p in encoder_sample_probs]
        if encoder_names is not None and len(probs) != len(encoder_names):
            raise ValueError(f"{len(probs)} encoder_sample_probs for {len(encoder_names)} encoders")
    p = torch.tensor(probs, dtype=torch.float64)
    if (p < 0).any() or p.sum() <= 0:
        raise ValueError(f"encoder_sample_probs must be >= 0 with a positive sum, got {probs}")
    return (p / p.sum()).to(torch.float32)


def sample_encoder_index(num: int, probs: torch.Tensor | Sequence[float],
                         generator: torch.Generator | None = None,
                         device: torch.device | str | None = None) -> torch.Tensor:
    """Draw ``num`` encoder indices (int64) from ``probs``. The env calls this at each env reset."""
    p = torch.as_tensor(probs, dtype=torch.float32)
    if generator is not None:
        p = p.to(generator.device)
    idx = torch.multinomial(p, num, replacement=True, generator=generator)
    return idx.to(device) if device is not None else idx


class UniversalTokenModule(nn.Module):
    def __init__(
        self,
        encoders: Mapping[str, Mapping[str, Any]],
        decoders: Mapping[str, Mapping[str, Any]],
        quantizer: Mapping[str, Any],
        tokenizer_dims: Mapping[str, int],
        proprio_dim: int,
        num_actions: int,
        encoder_sample_probs: Mapping[str, float] | Sequence[float] | None = None,
        latent_residual_mode: str = "post_quantization",
    ):
        super().__init__()
        if latent_residual_mode not in LATENT_RESIDUAL_MODES:
            raise ValueError(f"latent_residual_mode {latent_residual_mode!r} not in {LATENT_RESIDUAL_MODES}")
        if "g1_dyn" not in decoders:
            raise ValueError("the universal-token module needs a 'g1_dyn' decoder")
        self.latent_residual_mode = latent_residual_mode
        self.fsq = FSQ(quantizer["fsq_level_list"])
        self.num_tokens = int(quantizer.get("num_tokens", 1))
        self.latent_dim = self.fsq.dim * self.num_tokens
        self.proprio_dim = int(proprio_dim)
        self.num_actions = int(num_actions)

        self.encoder_names: list[str] = list(encoders)
        self.encoder_inputs: dict[str, list[str]] = {}
        self.encoder_input_dims: dict[str, int] = {}
        self.encoders = nn.ModuleDict()
        for name, ecfg in encoders.items():
            terms = list(ecfg["inputs"])
            missing = [t for t in terms if t not in tokenizer_dims]
            if missing:
                raise KeyError(f"encoder {name!r} needs tokenizer terms {missing}; the env provides {sorted(tokenizer_dims)}")
            in_dim = sum(int(tokenizer_dims[t]) for t in terms)
            self.encoder_inputs[name] = terms
            self.encoder_input_dims[name] = in_dim
            self.encoders[name] = build_mlp(ecfg, in_dim, self.latent_dim)

        probs = encoder_sample_probs if encoder_sample_probs is not None else [1.0] * len(self.encoder_names)
        self.register_buffer("encoder_sample_probs", encoder_probs_from_cfg(probs, self.encoder_names), persistent=False)

        self.decoders = nn.ModuleDict()
        self.decoders["g1_dyn"] = build_mlp(decoders["g1_dyn"], self.latent_dim + self.proprio_dim, self.num_actions)
        self.kin_target: list[str] = []
        if "g1_kin" in decoders:
            kcfg = decoders["g1_kin"]
            self.kin_target = list(kcfg["target"])
            missing = [t for t in self.kin_target if t not in tokenizer_dims]
            if missing:
                raise KeyError(f"decoder 'g1_kin' reconstructs tokenizer terms {missing}; the env provides {sorted(tokenizer_dims)}")
            out_dim = sum(int(tokenizer_dims[t]) for t in self.kin_target)
            self.decoders["g1_kin"] = build_mlp(kcfg, self.latent_dim, out_dim)

    # ------------------------------------------------------------------ pieces
    def encoder_input(self, name: str, tokenizer: Mapping[str, torch.Tensor]) -> torch.Tensor:
        parts = []
        for t in self.encoder_inputs[name]:
            if t not in tokenizer:
                raise KeyError(f"encoder {name!r} needs tokenizer observation {t!r}; got {sorted(tokenizer)}")
            x = tokenizer[t]
            parts.append(x.reshape(x.shape[0], -1))
        return torch.cat(parts, dim=-1)

    def encode_all(self, tokenizer: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Pre-quantization latents of every encoder, name -> [N, latent_dim]."""
        return {n: self.encoders[n](self.encoder_input(n, tokenizer)) for n in self.encoder_names}

    def select_latent(self, latents: Mapping[str, torch.Tensor], encoder_index: torch.Tensor) -> torch.Tensor:
        """Gather each env's latent from the encoder named by its ``encoder_index``."""
        stacked = torch.stack([latents[n] for n in self.encoder_names], dim=0)  # [E, N, D]
        idx = encoder_index.reshape(1, -1, 1).to(torch.int64).expand(1, stacked.shape[1], stacked.shape[2])
        return torch.gather(stacked, 0, idx).squeeze(0)

    def _fsq_tokens(self, latent: torch.Tensor) -> torch.Tensor:
        shape = latent.shape
        return self.fsq(latent.reshape(*shape[:-1], self.num_tokens, self.fsq.dim)).reshape(shape)

    def quantize(self, latent: torch.Tensor, residual: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Apply FSQ with the latent residual mode.

        Returns ``(tokens, codes)``: ``tokens`` feed the decoders; ``codes`` are the on-grid FSQ codes
        (``tokens`` without the post-quantization residual) from which token indices are taken.
        """
        if residual is None:
            codes = self._fsq_tokens(latent)
            return codes, codes
        mode = self.latent_residual_mode
        if mode == "post_quantization":
            codes = self._fsq_tokens(latent)
            return codes + residual, codes
        if mode == "pre_quantization":
            codes = self._fsq_tokens(latent + residual)
            return codes, codes
        codes = self._fsq_tokens(residual)  # pre_quantization_replace
        return codes, codes

    def token_indices(self, codes: torch.Tensor) -> torch.Tensor:
        """On-grid codes [N, latent_dim] -> token indices [N, num_tokens] (int64)."""
        return self.fsq.codes_to_indices(codes.reshape(*codes.shape[:-1], self.num_tokens, self.fsq.dim))

    def tokens_from_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """Token indices [N, num_tokens] -> codes [N, latent_dim] (tokens from an external planner)."""
        codes = self.fsq.indices_to_codes(indices)
        return codes.reshape(*indices.shape[:-1], self.latent_dim)

    def decode_actions(self, tokens: torch.Tensor, proprio: torch.Tensor) -> torch.Tensor:
        return self.decoders["g1_dyn"](torch.cat([tokens, proprio], dim=-1))

    def kin_target_from(self, tokenizer: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([tokenizer[t].reshape(tokenizer[t].shape[0], -1) for t in self.kin_target], dim=-1)

    # ------------------------------------------------------------------ forwards
    def forward(self, obs: Mapping[str, Any], residual: torch.Tensor | None = None,
                return_aux: bool = False):
        """obs: {"policy": [N, P], "tokenizer": {term: [N, d], "encoder_index": [N]}} -> actions [N, A].

        With ``return_aux`` also returns a dict of per-encoder latents, tokens, codes and (when a
        g1_kin decoder exists) the kinematic reconstruction and its target.
        """
        tokenizer = obs["tokenizer"]
        latents = self.encode_all(tokenizer)
        if ENCODER_INDEX_KEY not in tokenizer:
            raise KeyError(f"tokenizer observations must contain {ENCODER_INDEX_KEY!r}")
        enc_idx = tokenizer[ENCODER_INDEX_KEY]
        latent = self.select_latent(latents, enc_idx)
        tokens, codes = self.quantize(latent, residual)
        actions = self.decode_actions(tokens, obs["policy"])
        if not return_aux:
            return actions
        aux: dict[str, Any] = {
            "latents": latents,
            "latent": latent,
            "tokens": tokens,
            "codes": codes,
            "encoder_index": enc_idx.reshape(-1).to(torch.int64),
        }
        if "g1_kin" in self.decoders:
            aux["kin_pred"] = self.decoders["g1_kin"](tokens)
            aux["kin_target"] = self.kin_target_from(tokenizer)
        return actions, aux

    def deploy_forward(self, encoder_name: str, encoder_inputs: torch.Tensor, proprio: torch.Tensor,
                       residual: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One encoder + FSQ + g1_dyn, traceable (``encoder_name`` is fixed at trace time)."""
        latent = self.encoders[encoder_name](encoder_inputs)
        tokens, codes = self.quantize(latent, residual)
        return self.decode_actions(tokens, proprio), self.token_indices(codes)
