"""Actor (backbone + diagonal Gaussian), critic (normalised MLP) and the wrapper that holds both."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.distributions import Normal

from sonic_train.modules.mlp import build_mlp
from sonic_train.modules.universal_token import UniversalTokenModule


def _get(cfg: Any, key: str, default: Any = None) -> Any:
    try:
        v = cfg.get(key, default)
    except AttributeError:
        v = getattr(cfg, key, default)
    return default if v is None else v


def _required(cfg: Any, key: str, where: str = "actor_critic") -> Any:
    """``cfg[key]``, which the config always sets (configs/actor_critic): no code default, so the config stays its
    one home; a missing one is an error that names it."""
    v = _get(cfg, key)
    if v is None:
        raise ValueError(f"{where}.{key} is not set (the actor_critic config, configs/actor_critic, sets it)")
    return v


class MLPBackbone(nn.Module):
    """A plain MLP on ``obs["policy"]`` with the same call signature as the token module."""

    def __init__(self, cfg: Mapping[str, Any], in_dim: int, num_actions: int):
        super().__init__()
        self.mlp = build_mlp(cfg, in_dim, num_actions)

    def forward(self, obs: Mapping[str, Any], residual: torch.Tensor | None = None, return_aux: bool = False):
        out = self.mlp(obs["policy"])
        return (out, {}) if return_aux else out


class Actor(nn.Module):
    """Backbone (token module or MLP) giving the mean of a diagonal Gaussian with learnable log std."""

    def __init__(self, backbone: nn.Module, num_actions: int, init_noise_std: float = 1.0):
        super().__init__()
        self.backbone = backbone
        self.num_actions = int(num_actions)
        self.log_std = nn.Parameter(torch.full((self.num_actions,), math.log(float(init_noise_std))))

    @property
    def std(self) -> torch.Tensor:
        return self.log_std.exp()

    def forward(self, obs: Mapping[str, Any], residual: torch.Tensor | None = None, return_aux: bool = False):
        return self.backbone(obs, residual=residual, return_aux=return_aux)

    def distribution(self, mean: torch.Tensor) -> Normal:
        return Normal(mean, self.std.expand_as(mean))

    @torch.no_grad()
    def act_inference(self, obs: Mapping[str, Any]) -> torch.Tensor:
        return self.backbone(obs)


class EmpiricalNormalization(nn.Module):
    """Running mean/std of inputs; updated only in training mode; statistics are saved in state_dict.

    Under torch.distributed the batch moments are summed over ranks so every rank keeps the same
    statistics.
    """

    def __init__(self, dim: int, eps: float = 1e-2, until: int | None = None):
        super().__init__()
        self.eps = eps
        self.until = until
        self.register_buffer("mean", torch.zeros(dim, dtype=torch.float64))
        self.register_buffer("var", torch.ones(dim, dtype=torch.float64))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = self.mean.to(x.dtype)
        std = torch.sqrt(self.var + self.eps).to(x.dtype)
        return (x - mean) / std

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        if not self.training or (self.until is not None and self.count >= self.until):
            return
        x = x.reshape(-1, x.shape[-1]).to(torch.float64)
        moments = torch.cat([x.new_tensor([x.shape[0]]), x.sum(0), (x * x).sum(0)])
        if torch.distributed.is_available() and torch.distributed.is_initialized() \
                and torch.distributed.get_world_size() > 1:
            torch.distributed.all_reduce(moments)
        d = x.shape[-1]
        n = moments[0]
        b_mean = moments[1:1 + d] / n
        b_var = (moments[1 + d:] / n - b_mean * b_mean).clamp_min(0.0)
        tot = self.count + n
        delta = b_mean - self.mean
        new_mean = self.mean + delta * (n / tot)
        m2 = self.var * self.count + b_var * n + delta * delta * self.count * n / tot
        self.mean.copy_(new_mean)
        self.var.copy_(m2 / tot)
        self.count.copy_(tot)


class Critic(nn.Module):
    def __init__(self, cfg: Mapping[str, Any], obs_dim: int):
        super().__init__()
        self.normalize_obs = bool(_get(cfg, "normalize_obs", True))
        self.normalizer = EmpiricalNormalization(obs_dim) if self.normalize_obs else nn.Identity()
        self.mlp = build_mlp(cfg, obs_dim, 1)

    def update_normalization(self, obs: Mapping[str, Any]) -> None:
        if self.normalize_obs:
            self.normalizer.update(obs["critic"])

    def forward(self, obs: Mapping[str, Any]) -> torch.Tensor:
        return self.mlp(self.normalizer(obs["critic"])).squeeze(-1)


class PolicyAndValueWrapper(nn.Module):
    """Holds actor and critic so that one forward (and one DDP wrapper) covers both."""

    def __init__(self, actor: Actor, critic: Critic):
        super().__init__()
        self.actor = actor
        self.critic = critic

    def forward(self, obs: Mapping[str, Any], actions: torch.Tensor | None = None,
                return_aux: bool = False, residual: torch.Tensor | None = None) -> dict[str, Any]:
        if return_aux:
            mean, aux = self.actor(obs, residual=residual, return_aux=True)
        else:
            mean, aux = self.actor(obs, residual=residual), {}
        dist = self.actor.distribution(mean)
        out: dict[str, Any] = {"mean": mean, "std": dist.stddev, "value": self.critic(obs),
                               "entropy": dist.entropy().sum(-1), "aux": aux}
        if actions is not None:
            out["log_prob"] = dist.log_prob(actions).sum(-1)
        return out


def build_actor_critic(cfg: Any, obs_dims: Mapping[str, Any], num_actions: int) -> PolicyAndValueWrapper:
    """Build actor + critic from config and observation dims.

    ``cfg`` is the root config (with ``actor_critic``) or the ``actor_critic`` node itself.
    ``obs_dims = {"policy": P, "critic": C, "tokenizer": {term: d}}``. ``backbone``, ``init_noise_std``,
    ``critic`` and, for the universal-token backbone, ``encoder_sample_probs`` and ``latent_residual_mode`` are
    required (the actor_critic config sets them; ``init_noise_std`` interpolates ``algo.config``'s).
    """
    ac = _get(cfg, "actor_critic", None) or cfg
    init_noise_std = float(_required(ac, "init_noise_std"))
    if int(_get(ac, "obs_history_len", 1)) != 1:  # a key of older configs; history is the env's (history_length)
        raise ValueError(f"actor_critic.obs_history_len={_get(ac, 'obs_history_len')}: the actor keeps no history "
                         "of its own; set history_length on the observation group (manager_env/observations)")
    policy_dim = int(obs_dims["policy"])
    backbone_kind = _required(ac, "backbone")
    if backbone_kind == "universal_token":
        tok_dims = {k: int(v) for k, v in dict(obs_dims.get("tokenizer", {})).items()}
        backbone: nn.Module = UniversalTokenModule(
            encoders=_get(ac, "encoders"),
            decoders=_get(ac, "decoders"),
            quantizer=_get(ac, "quantizer"),
            tokenizer_dims=tok_dims,
            proprio_dim=policy_dim,
            num_actions=num_actions,
            encoder_sample_probs=_required(ac, "encoder_sample_probs"),
            latent_residual_mode=_required(ac, "latent_residual_mode"),
        )
    elif backbone_kind == "mlp":
        backbone = MLPBackbone(_get(ac, "actor", {}), policy_dim, num_actions)
    else:
        raise ValueError(f"unknown actor backbone {backbone_kind!r} (universal_token or mlp)")
    actor = Actor(backbone, num_actions, init_noise_std=init_noise_std)
    critic = Critic(_required(ac, "critic"), int(obs_dims["critic"]))
    return PolicyAndValueWrapper(actor, critic)


def obs_dims_from(obs: Mapping[str, Any]) -> dict[str, Any]:
    """Observation dims in the form :func:`build_actor_critic` takes, read off one observation."""
    tok = {k: (1 if v.dim() == 1 else int(v.reshape(v.shape[0], -1).shape[1]))
           for k, v in obs.get("tokenizer", {}).items()}
    return {"policy": int(obs["policy"].shape[-1]), "critic": int(obs["critic"].shape[-1]), "tokenizer": tok}
