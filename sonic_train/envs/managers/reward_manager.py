"""Reward = sum_i weight_i * term_i * dt; per-term episode sums for logging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from sonic_train.envs.managers.base import parse_terms, print_table
from sonic_train.envs.mdp import rewards as rew_mod


class RewardManager:
    def __init__(self, env, terms_cfg: Mapping[str, Any], quiet: bool = False):
        self.env = env
        self.terms = [t for t in parse_terms(terms_cfg, rew_mod, "rewards", "manager_env.rewards") if t.weight != 0.0]
        n, dev = env.num_envs, env.device
        self.weights = torch.tensor([t.weight for t in self.terms], dtype=torch.float32, device=dev)
        self.episode_sum = torch.zeros(n, len(self.terms), device=dev)  # [N, T] weighted, dt-scaled sums
        self.values = torch.zeros(n, len(self.terms), device=dev)  # [N, T] unweighted values of the last step
        self.quiet = quiet

    @property
    def step_values(self) -> dict[str, torch.Tensor]:
        return {t.name: self.values[:, k] for k, t in enumerate(self.terms)}

    def set_weight(self, name: str, weight: float) -> None:
        """A new weight for term ``name`` (a schedule); a term configured with weight 0 is not active."""
        k = [t.name for t in self.terms].index(name)
        self.terms[k].weight = float(weight)
        self.weights[k] = float(weight)

    def compute(self, dt: float) -> torch.Tensor:
        if not self.terms:
            return torch.zeros(self.env.num_envs, device=self.env.device)
        self.values = torch.stack([t.func(self.env, **t.params).float() for t in self.terms], dim=1)
        weighted = self.values * (self.weights * dt)
        self.episode_sum += weighted
        return weighted.sum(1)

    def step_means(self) -> dict[str, float]:
        """Batch mean of each unweighted term this step (rollout-averaged by the runner)."""
        means = self.values.mean(0).tolist()
        return {f"rew/{t.name}": m for t, m in zip(self.terms, means)}

    def reset(self, env_ids: torch.Tensor) -> dict[str, float]:
        length_s = max(float(self.env.max_episode_length_s), 1e-9)
        means = (self.episode_sum[env_ids].mean(0) / length_s).tolist()
        self.episode_sum[env_ids] = 0.0
        return {f"episode_reward/{t.name}": m for t, m in zip(self.terms, means)}

    def print_summary(self) -> str:
        rows = [[t.name, f"{t.weight:g}", ", ".join(f"{k}={v}" for k, v in t.params.items())] for t in self.terms]
        return print_table("Rewards (x dt)", ["term", "weight", "params"], rows, self.quiet)
