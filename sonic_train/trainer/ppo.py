"""PPO: act, store the transition, compute returns (GAE), update (epochs x mini-batches)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from sonic_train.config import config_dir
from sonic_train.modules.actor_critic import PolicyAndValueWrapper
from sonic_train.trainer.storage import MiniBatch, RolloutStorage

# The PPO hyperparameters the trainer reads; their values live in one place, configs/algo/ppo_im_phc.yaml.
PPO_KEYS = ("num_steps_per_env", "num_learning_epochs", "num_mini_batches", "actor_learning_rate",
            "critic_learning_rate", "clip_param", "gamma", "lam", "entropy_coef", "value_loss_coef", "max_grad_norm",
            "use_clipped_value_loss", "normalize_advantage", "schedule", "desired_kl", "min_lr", "max_lr", "adam_eps")
DEFAULTS_FILE = "algo/ppo_im_phc.yaml"


def ppo_config(overrides: Mapping[str, Any] | None = None) -> DictConfig:
    """The reference PPO config (``configs/algo/ppo_im_phc.yaml``'s ``config``) with ``overrides`` on top."""
    base = OmegaConf.load(config_dir() / DEFAULTS_FILE).config
    return OmegaConf.merge(base, OmegaConf.create(dict(overrides or {})))


def gaussian_kl(mu0: torch.Tensor, s0: torch.Tensor, mu1: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
    """KL(N(mu0, s0) || N(mu1, s1)) summed over the action dims."""
    return (torch.log(s1 / s0) + (s0.square() + (mu0 - mu1).square()) / (2.0 * s1.square()) - 0.5).sum(-1)


class PPOTrainer:
    needs_aux = False

    def __init__(self, model: PolicyAndValueWrapper, cfg: Mapping[str, Any] | DictConfig, num_envs: int,
                 num_actions: int, device: torch.device | str = "cpu", accelerator: Any = None, seed: int = 0):
        if not isinstance(cfg, DictConfig):  # a partial mapping (tests, benchmarks): the reference values fill it
            cfg = ppo_config(cfg)
        missing = [k for k in PPO_KEYS if cfg.get(k, None) is None and k != "max_grad_norm"]
        if missing:
            raise ValueError(f"algo.config lacks {missing} (the reference values are in configs/{DEFAULTS_FILE})")
        self.cfg = cfg  # the run's own config node: schedules on algo.config.* change what the next update reads
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.accelerator = accelerator
        self.num_envs = int(num_envs)
        self.num_actions = int(num_actions)
        actor_params = list(self.model.actor.parameters())
        critic_params = list(self.model.critic.parameters())
        self.optimizer = torch.optim.Adam(
            [{"params": actor_params, "lr": float(cfg.actor_learning_rate), "name": "actor"},
             {"params": critic_params, "lr": float(cfg.critic_learning_rate), "name": "critic"}],
            eps=float(cfg.adam_eps))
        if accelerator is not None:
            self.train_model, self.optimizer = accelerator.prepare(self.model, self.optimizer)
        else:
            self.train_model = self.model
        self.storage = RolloutStorage(num_envs, int(cfg.num_steps_per_env), num_actions, self.device)
        self.generator = torch.Generator().manual_seed(int(seed))
        self._pending: dict[str, Any] | None = None
        self._adaptive_actor_lr: float | None = None

    # ------------------------------------------------------------------ rollout
    @torch.no_grad()
    def act(self, obs: Mapping[str, Any]) -> torch.Tensor:
        """Sample actions for the current observation and remember what the update will need."""
        obs = dict(obs)
        if self.model.training:
            self.model.critic.update_normalization(obs)
        out = self.model(obs)
        mean, std = out["mean"], out["std"]
        actions = mean + std * torch.randn_like(mean)
        log_prob = torch.distributions.Normal(mean, std).log_prob(actions).sum(-1)
        self._pending = {"obs": obs, "actions": actions, "values": out["value"], "log_probs": log_prob,
                         "mu": mean, "sigma": std}
        return actions

    @torch.no_grad()
    def process_env_step(self, rewards: torch.Tensor, dones: torch.Tensor, infos: Mapping[str, Any]) -> None:
        """Store the transition; truncated (time-out) steps bootstrap with ``gamma * V(s_t)``."""
        p = self._pending
        if p is None:
            raise RuntimeError("process_env_step() before act()")
        rewards = rewards.to(self.device).reshape(-1).float().clone()
        time_outs = infos.get("time_outs", None) if infos else None
        if time_outs is not None:
            rewards += float(self.cfg.gamma) * p["values"] * time_outs.to(self.device).reshape(-1).float()
        self.storage.add(p["obs"], p["actions"], rewards, dones.to(self.device), p["values"], p["log_probs"],
                         p["mu"], p["sigma"])
        self._pending = None

    @torch.no_grad()
    def compute_returns(self, last_obs: Mapping[str, Any]) -> None:
        last_values = self.model.critic(last_obs)
        self.storage.compute_returns(last_values, float(self.cfg.gamma), float(self.cfg.lam),
                                     bool(self.cfg.normalize_advantage))

    # ------------------------------------------------------------------ update
    def sync_learning_rates(self) -> None:
        """Take learning rates from the (possibly scheduled) config; the adaptive schedule owns the actor lr."""
        for g in self.optimizer.param_groups:
            if g["name"] == "actor":
                if self.cfg.schedule == "adaptive" and self._adaptive_actor_lr is not None:
                    g["lr"] = self._adaptive_actor_lr
                else:
                    g["lr"] = float(self.cfg.actor_learning_rate)
            elif g["name"] == "critic":
                g["lr"] = float(self.cfg.critic_learning_rate)

    @property
    def learning_rates(self) -> dict[str, float]:
        return {g["name"]: float(g["lr"]) for g in self.optimizer.param_groups}

    def compute_losses(self, batch: MiniBatch, out: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """PPO losses; ``policy`` = clipped surrogate - entropy_coef * entropy; ``total`` adds the value term."""
        clip = float(self.cfg.clip_param)
        ratio = torch.exp(out["log_prob"] - batch.log_probs)
        surr = -batch.advantages * ratio
        surr_clipped = -batch.advantages * ratio.clamp(1.0 - clip, 1.0 + clip)
        surrogate = torch.max(surr, surr_clipped).mean()
        value = out["value"]
        if bool(self.cfg.use_clipped_value_loss):
            v_clipped = batch.values + (value - batch.values).clamp(-clip, clip)
            value_loss = torch.max((value - batch.returns).square(), (v_clipped - batch.returns).square()).mean()
        else:
            value_loss = (value - batch.returns).square().mean()
        entropy = out["entropy"].mean()
        policy = surrogate - float(self.cfg.entropy_coef) * entropy
        total = policy + float(self.cfg.value_loss_coef) * value_loss
        return {"total": total, "policy": policy, "surrogate": surrogate, "value": value_loss, "entropy": entropy}

    def _backward(self, loss: torch.Tensor) -> None:
        if self.accelerator is not None:
            self.accelerator.backward(loss)
        else:
            loss.backward()

    def _adapt_lr(self, batch: MiniBatch, out: Mapping[str, Any]) -> float:
        with torch.no_grad():
            kl = gaussian_kl(batch.mu, batch.sigma, out["mean"], out["std"]).mean()
            if torch.distributed.is_available() and torch.distributed.is_initialized():
                torch.distributed.all_reduce(kl)
                kl /= torch.distributed.get_world_size()
        kl = float(kl)
        if self.cfg.schedule == "adaptive":
            lr = self.learning_rates["actor"]
            if kl > 2.0 * float(self.cfg.desired_kl):
                lr = max(float(self.cfg.min_lr), lr / 1.5)
            elif 0.0 < kl < 0.5 * float(self.cfg.desired_kl):
                lr = min(float(self.cfg.max_lr), lr * 1.5)
            self._adaptive_actor_lr = lr
            for g in self.optimizer.param_groups:
                if g["name"] == "actor":
                    g["lr"] = lr
        return kl

    def update(self) -> dict[str, float]:
        self.sync_learning_rates()
        sums: dict[str, float] = defaultdict(float)
        n = 0
        max_norm = self.cfg.max_grad_norm
        actor_params = list(self.model.actor.parameters())
        critic_params = list(self.model.critic.parameters())
        for batch in self.storage.mini_batch_generator(int(self.cfg.num_mini_batches),
                                                       int(self.cfg.num_learning_epochs), self.generator):
            out = self.train_model(batch.obs, batch.actions, return_aux=self.needs_aux)
            kl = self._adapt_lr(batch, out)
            losses = self.compute_losses(batch, out)
            self.optimizer.zero_grad(set_to_none=True)
            self._backward(losses["total"])
            if max_norm is not None and float(max_norm) > 0:
                torch.nn.utils.clip_grad_norm_(actor_params, float(max_norm))
                torch.nn.utils.clip_grad_norm_(critic_params, float(max_norm))
            self.optimizer.step()
            for k, v in losses.items():
                sums[k] += float(v.detach())
            sums["kl"] += kl
            n += 1
        self.storage.clear()
        stats = {f"loss/{k}": v / max(n, 1) for k, v in sums.items()}
        stats.update({f"lr/{k}": v for k, v in self.learning_rates.items()})
        stats["policy/std"] = float(self.model.actor.std.detach().mean())
        return stats

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "generator": self.generator.get_state(),
                "adaptive_actor_lr": self._adaptive_actor_lr}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        self._adaptive_actor_lr = state.get("adaptive_actor_lr", None)
