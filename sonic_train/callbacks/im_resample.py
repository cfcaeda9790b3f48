"""Adaptive motion resampling: clips whose episodes fail more are sampled more.

Every ``interval`` iterations the clip weights become
``w_i = uniform_frac / K + (1 - uniform_frac) * f_i / sum_j f_j`` with ``f_i`` the smoothed failure rate of
clip ``i`` (failures + ``prior`` * 0.5) / (episodes + ``prior``); the counts then decay by ``decay``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from sonic_train.callbacks.base import Callback


def resample_weights(episodes: np.ndarray, failures: np.ndarray, uniform_frac: float, prior: float) -> np.ndarray:
    rate = (failures + 0.5 * prior) / (episodes + prior)
    k = len(rate)
    return uniform_frac / k + (1.0 - uniform_frac) * rate / rate.sum()


class ImResampleCallback(Callback):
    def __init__(self, interval: int, uniform_frac: float, prior: float, decay: float):
        """Values: ``configs/callbacks/im_resample.yaml`` (their one home)."""
        self.interval = max(int(interval), 1)
        self.uniform_frac = float(uniform_frac)
        self.prior = float(prior)
        self.decay = float(decay)
        self.command = None

    def on_train_start(self, runner: Any) -> None:
        super().on_train_start(runner)
        env = runner.env
        env = getattr(env, "unwrapped", env)
        self.command = getattr(env, "command", None)

    def on_update_end(self, iteration: int, stats: Mapping[str, float]) -> None:
        cmd = self.command
        if cmd is None or (iteration + 1) % self.interval != 0 or float(cmd.episode_counts.sum()) == 0:
            return
        eps = cmd.episode_counts.cpu().numpy().astype(np.float64)
        fails = cmd.failure_counts.cpu().numpy().astype(np.float64)
        w = resample_weights(eps, fails, self.uniform_frac, self.prior)
        cmd.set_weights(w)
        with torch.no_grad():
            cmd.episode_counts *= self.decay
            cmd.failure_counts *= self.decay
        if isinstance(stats, dict):
            stats["resample/max_weight"] = float(w.max())
            stats["resample/failure_rate"] = float(fails.sum() / max(eps.sum(), 1e-9))
