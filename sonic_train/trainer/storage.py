"""Rollout storage for on-policy training, GAE and mini-batches."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch


def tree_map(fn: Callable[[torch.Tensor], Any], tree: Any) -> Any:
    """Apply ``fn`` to every tensor in a nested dict of tensors."""
    if isinstance(tree, Mapping):
        return {k: tree_map(fn, v) for k, v in tree.items()}
    return fn(tree)


def tree_map2(fn: Callable[[torch.Tensor, torch.Tensor], Any], a: Any, b: Any) -> Any:
    if isinstance(a, Mapping):
        return {k: tree_map2(fn, a[k], b[k]) for k in a}
    return fn(a, b)


@dataclass
class MiniBatch:
    obs: dict[str, Any]
    actions: torch.Tensor
    values: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    log_probs: torch.Tensor
    mu: torch.Tensor
    sigma: torch.Tensor


def compute_gae(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor, last_values: torch.Tensor,
                gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over [T, N] tensors; returns ``(advantages, returns)``.

    ``dones[t]`` ends the episode after step ``t`` (no bootstrap from ``values[t + 1]``). Time-outs are
    handled before this, by adding ``gamma * V(s_t)`` to the reward of a truncated step.
    """
    T = rewards.shape[0]
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(last_values)
    for t in reversed(range(T)):
        next_values = last_values if t == T - 1 else values[t + 1]
        not_done = 1.0 - dones[t].to(rewards.dtype)
        delta = rewards[t] + gamma * next_values * not_done - values[t]
        running = delta + gamma * lam * not_done * running
        adv[t] = running
    return adv, adv + values


class RolloutStorage:
    def __init__(self, num_envs: int, num_steps: int, num_actions: int, device: torch.device | str = "cpu"):
        self.num_envs = int(num_envs)
        self.num_steps = int(num_steps)
        self.num_actions = int(num_actions)
        self.device = torch.device(device)
        T, N, A = self.num_steps, self.num_envs, self.num_actions
        z = lambda *s: torch.zeros(*s, device=self.device)  # noqa: E731
        self.obs: dict[str, Any] | None = None
        self.actions = z(T, N, A)
        self.mu = z(T, N, A)
        self.sigma = z(T, N, A)
        self.rewards = z(T, N)
        self.dones = z(T, N)
        self.values = z(T, N)
        self.log_probs = z(T, N)
        self.advantages = z(T, N)
        self.returns = z(T, N)
        self.step = 0

    def add(self, obs: Mapping[str, Any], actions: torch.Tensor, rewards: torch.Tensor, dones: torch.Tensor,
            values: torch.Tensor, log_probs: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor) -> None:
        if self.step >= self.num_steps:
            raise RuntimeError("rollout storage is full; call clear() after the update")
        if self.obs is None:
            self.obs = tree_map(lambda x: torch.zeros((self.num_steps,) + tuple(x.shape), dtype=x.dtype,
                                                      device=self.device), obs)
        t = self.step
        tree_map2(lambda buf, x: buf[t].copy_(x), self.obs, obs)
        self.actions[t].copy_(actions)
        self.rewards[t].copy_(rewards.reshape(-1))
        self.dones[t].copy_(dones.reshape(-1).to(self.dones.dtype))
        self.values[t].copy_(values.reshape(-1))
        self.log_probs[t].copy_(log_probs.reshape(-1))
        self.mu[t].copy_(mu)
        self.sigma[t].copy_(sigma)
        self.step += 1

    def clear(self) -> None:
        self.step = 0

    def compute_returns(self, last_values: torch.Tensor, gamma: float, lam: float,
                        normalize_advantage: bool = True) -> None:
        adv, ret = compute_gae(self.rewards, self.values, self.dones, last_values.reshape(-1), gamma, lam)
        self.returns.copy_(ret)
        if normalize_advantage:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        self.advantages.copy_(adv)

    def mini_batch_generator(self, num_mini_batches: int, num_epochs: int,
                             generator: torch.Generator | None = None) -> Iterator[MiniBatch]:
        total = self.num_steps * self.num_envs
        size = total // num_mini_batches
        flat = lambda x: x.reshape(total, *x.shape[2:])  # noqa: E731
        obs = tree_map(flat, self.obs)
        fields = [flat(x) for x in (self.actions, self.values, self.advantages, self.returns,
                                     self.log_probs, self.mu, self.sigma)]
        for _ in range(num_epochs):
            perm = torch.randperm(total, generator=generator).to(self.device)
            for i in range(num_mini_batches):
                idx = perm[i * size:(i + 1) * size]
                yield MiniBatch(tree_map(lambda x: x[idx], obs), *[f[idx] for f in fields])
