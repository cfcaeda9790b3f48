"""Reconstruction and latent-alignment losses on the universal-token module's auxiliary outputs.

The aux outputs come from ``UniversalTokenModule.forward(obs, return_aux=True)``: per-encoder
pre-quantization ``latents``, the g1_kin reconstruction ``kin_pred`` and its ``kin_target``.
Every encoder sees the same motion (all tokenizer terms are computed for every env), so latents of
two encoders for the same env can be pulled together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

LOSS_TYPES = ("reconstruction", "latent_alignment")


def reconstruction_loss(aux: Mapping[str, Any]) -> torch.Tensor:
    """MSE between the g1_kin decoder's output and the future-frame target."""
    if "kin_pred" not in aux:
        raise KeyError("reconstruction loss needs a 'g1_kin' decoder in the actor config")
    return F.mse_loss(aux["kin_pred"], aux["kin_target"])


def latent_alignment_loss(aux: Mapping[str, Any], encoder_a: str, encoder_b: str,
                          detach_a: bool = False) -> torch.Tensor:
    """MSE between the pre-quantization latents of two encoders on the same motion."""
    lat = aux["latents"]
    for n in (encoder_a, encoder_b):
        if n not in lat:
            raise KeyError(f"latent alignment names encoder {n!r}; the module has {sorted(lat)}")
    a = lat[encoder_a].detach() if detach_a else lat[encoder_a]
    return F.mse_loss(lat[encoder_b], a)


@dataclass
class AuxTerm:
    name: str
    type: str
    coef: float
    encoders: tuple[str, str] | None = None
    detach_first: bool = False

    def __call__(self, aux: Mapping[str, Any]) -> torch.Tensor:
        if self.type == "reconstruction":
            return reconstruction_loss(aux)
        return latent_alignment_loss(aux, self.encoders[0], self.encoders[1], self.detach_first)


class TokenAuxLosses:
    """Named, weighted aux losses from config::

        aux_scale: 1.0
        losses:
          g1_recon: {type: reconstruction, coef: 1.0}
          g1_smpl_latent: {type: latent_alignment, encoders: [g1, smpl], coef: 0.1}
    """

    def __init__(self, cfg: Mapping[str, Any] | None):
        cfg = cfg or {}
        self.aux_scale = float(cfg.get("aux_scale", 1.0))
        self.terms: list[AuxTerm] = []
        for name, t in (cfg.get("losses", None) or {}).items():
            kind = t.get("type", "reconstruction")
            if kind not in LOSS_TYPES:
                raise ValueError(f"aux loss {name!r}: unknown type {kind!r}; choose from {LOSS_TYPES}")
            enc = t.get("encoders", None)
            if kind == "latent_alignment" and (enc is None or len(enc) != 2):
                raise ValueError(f"aux loss {name!r}: latent_alignment needs 'encoders: [a, b]'")
            self.terms.append(AuxTerm(name, kind, float(t.get("coef", 1.0)),
                                      tuple(enc) if enc is not None else None,
                                      bool(t.get("detach_first", False))))

    def __call__(self, aux: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        return {t.name: t(aux) for t in self.terms}

    def weighted_sum(self, losses: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``sum_i coef_i * loss_i`` (without ``aux_scale``)."""
        total = None
        for t in self.terms:
            v = t.coef * losses[t.name]
            total = v if total is None else total + v
        return total if total is not None else torch.zeros(())
