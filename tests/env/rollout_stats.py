"""Deterministic roll-outs of a policy in a tracking env: mean episode length and per-step tracking reward.

A test helper (the smoke-training test compares the initial and the trained policy with it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

TRACKING_TERMS = ("tracking_anchor_pos", "tracking_anchor_ori", "tracking_relative_body_pos",
                  "tracking_relative_body_ori", "tracking_body_linvel", "tracking_body_angvel")


@torch.no_grad()
def rollout_stats(env: Any, policy: Callable[[dict], torch.Tensor], steps: int, seed: int = 0) -> dict[str, float]:
    """Run ``steps`` control steps from a fresh reset (rngs reseeded with ``seed``).

    ``episode_length``: env steps per episode, counting the episodes still running at the end
    (``N * steps / (finished + N)``); ``failure_rate``: failed episodes per finished episode;
    ``tracking_reward``: mean over steps and envs of the mean unweighted tracking term.
    """
    e = getattr(env, "unwrapped", env)
    e.np_rng = np.random.default_rng(seed)
    e.torch_rng = torch.Generator().manual_seed(seed)
    obs = env.reset()
    n = env.num_envs
    finished = failed = 0
    track = []
    for _ in range(steps):
        obs, _, dones, infos = env.step(policy(obs))
        finished += int(dones.sum())
        failed += int(infos["terminated"].sum())
        ep = infos["episode"]
        track.append(float(np.mean([ep[f"rew/{k}"] for k in TRACKING_TERMS if f"rew/{k}" in ep])))
    return {"episode_length": n * steps / (finished + n), "failure_rate": failed / max(finished, 1),
            "tracking_reward": float(np.mean(track)), "failures_per_1k_steps": 1000.0 * failed / (n * steps)}
