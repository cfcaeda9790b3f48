"""The shared MLP building block, built from a small config."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import nn

_ACTIVATIONS = {
    "elu": nn.ELU,
    "relu": nn.ReLU,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
    "identity": nn.Identity,
}


def make_activation(name: str | None) -> nn.Module:
    if name is None:
        return nn.Identity()
    try:
        return _ACTIVATIONS[name.lower()]()
    except KeyError as exc:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(_ACTIVATIONS)}") from exc


class MLP(nn.Sequential):
    """Linear -> [LayerNorm] -> activation, repeated, then a linear output layer."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        hidden_dims: Sequence[int] = (256, 256),
        activation: str = "elu",
        layer_norm: bool = False,
        output_activation: str | None = None,
    ):
        layers: list[nn.Module] = []
        prev = int(in_dim)
        for h in hidden_dims:
            layers.append(nn.Linear(prev, int(h)))
            if layer_norm:
                layers.append(nn.LayerNorm(int(h)))
            layers.append(make_activation(activation))
            prev = int(h)
        layers.append(nn.Linear(prev, int(out_dim)))
        if output_activation is not None:
            layers.append(make_activation(output_activation))
        super().__init__(*layers)
        self.in_dim = int(in_dim)
        self.out_dim = int(out_dim)


def build_mlp(cfg: Mapping[str, Any], in_dim: int, out_dim: int) -> MLP:
    """Build an :class:`MLP` from ``{hidden_dims, activation, layer_norm, output_activation}``."""
    return MLP(
        in_dim,
        out_dim,
        hidden_dims=list(cfg.get("hidden_dims", (256, 256))),
        activation=cfg.get("activation", "elu"),
        layer_norm=bool(cfg.get("layer_norm", False)),
        output_activation=cfg.get("output_activation", None),
    )
