"""PPO with the universal-token auxiliary losses.

``total = policy + value_loss_coef * value + aux_scale * sum_i(coef_i * aux_i)``
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from sonic_train.losses.token_losses import TokenAuxLosses
from sonic_train.trainer.ppo import PPOTrainer
from sonic_train.trainer.storage import MiniBatch


class AuxLossPPOTrainer(PPOTrainer):
    needs_aux = True

    def __init__(self, *args: Any, aux_losses: Mapping[str, Any] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.aux = TokenAuxLosses(aux_losses)

    def compute_losses(self, batch: MiniBatch, out: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        losses = super().compute_losses(batch, out)
        aux_terms = self.aux(out["aux"])
        aux_total = self.aux.weighted_sum(aux_terms).to(losses["total"].device)
        losses["total"] = losses["total"] + self.aux.aux_scale * aux_total
        losses["aux"] = aux_total
        for k, v in aux_terms.items():
            losses[f"aux/{k}"] = v
        return losses
