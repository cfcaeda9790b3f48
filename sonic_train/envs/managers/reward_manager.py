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
        self.terms = [t for t in parse_terms(terms_cfg, rew_mod) if t.weight != 0.0]
        n, dev = env.num_envs, env.device
        self.episode_sums = {t.name: torch.zeros(n, device=dev) for t in self.terms}
        self.step_values: dict[str, torch.Tensor] = {}
        self.quiet = quiet

    def compute(self, dt: float) -> torch.Tensor:
        total = torch.zeros(self.env.num_envs, device=self.env.device)
        for t in self.terms:
            v = t.func(self.env, **t.params).float()
            self.step_values[t.name] = v
            r = t.weight * v * dt
            total += r
            self.episode_sums[t.name] += r
        return total

    def step_means(self) -> dict[str, float]:
        """Batch mean of each unweighted term this step (rollout-averaged by the runner)."""
        return {f"rew/{k}": float(v.mean()) for k, v in self.step_values.items()}

    def reset(self, env_ids: torch.Tensor) -> dict[str, float]:
        out = {}
        length_s = max(float(self.env.max_episode_length_s), 1e-9)
        for k, s in self.episode_sums.items():
            out[f"episode_reward/{k}"] = float(s[env_ids].mean()) / length_s
            s[env_ids] = 0.0
        return out

    def print_summary(self) -> str:
        rows = [[t.name, f"{t.weight:g}", ", ".join(f"{k}={v}" for k, v in t.params.items())] for t in self.terms]
        return print_table("Rewards (x dt)", ["term", "weight", "params"], rows, self.quiet)
