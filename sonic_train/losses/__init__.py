"""Auxiliary losses of the universal-token policy."""

from sonic_train.losses.token_losses import (
    TokenAuxLosses,
    latent_alignment_loss,
    reconstruction_loss,
)

__all__ = ["TokenAuxLosses", "latent_alignment_loss", "reconstruction_loss"]
