"""The training loop: rollouts, updates, schedules, logging and callbacks."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from tqdm import tqdm

from sonic_train.callbacks.base import Callback, CallbackList
from sonic_train.envs import snapshot as env_snapshot
from sonic_train.trainer.ppo import PPOTrainer
from sonic_train.trainer.schedules import ScheduleManager
from sonic_train.trainer.storage import tree_map

TIME_SPLIT = ("physics", "mdp", "policy", "update")  # one PPO iteration: rollout physics, MDP, policy, update


def _scalar(v: Any) -> float | None:
    if isinstance(v, torch.Tensor):
        return float(v.float().mean()) if v.numel() else None
    if isinstance(v, (int, float)):
        return float(v)
    return None


class Runner:
    """Owns iteration count, the current observation, episode statistics, logging and callbacks."""

    def __init__(self, env: Any, trainer: PPOTrainer, cfg: Any = None, callbacks: Sequence[Callback] = (),
                 schedules: ScheduleManager | None = None, accelerator: Any = None, progress: bool = True,
                 log_fn: Any = None, timing_interval: int = 0):
        self.env = env
        self.trainer = trainer
        self.cfg = cfg if cfg is not None else {"algo": {"config": trainer.cfg}}
        self.callbacks = CallbackList(list(callbacks))
        self.schedules = schedules or ScheduleManager([])
        self.accelerator = accelerator
        self.progress = progress
        self.log_fn = log_fn
        self.iteration = 0
        self.obs: dict[str, Any] | None = None
        n, dev = trainer.num_envs, trainer.device
        self.cur_reward_sum = torch.zeros(n, device=dev)
        self.cur_episode_length = torch.zeros(n, device=dev)
        self.reward_buffer: deque[float] = deque(maxlen=100)
        self.length_buffer: deque[float] = deque(maxlen=100)
        self.last_stats: dict[str, float] = {}
        self.timing_interval = int(timing_interval)  # print the time split every N iterations (0: never)
        self._split: dict[str, float] = {}
        self._split_iters = 0

    @property
    def is_main_process(self) -> bool:
        return self.accelerator is None or self.accelerator.is_main_process

    def _print(self, line: str) -> None:
        if not self.is_main_process:
            return
        if self.log_fn is not None:
            self.log_fn(line)
        else:
            tqdm.write(line)

    def _physics_s(self) -> float:
        """Seconds the env has spent in its simulator so far (0 for an env that does not count them)."""
        return float(getattr(getattr(self.env, "unwrapped", self.env), "physics_s", 0.0))

    def _rollout(self) -> tuple[dict[str, float], int]:
        tr = self.trainer
        ep_logs: dict[str, list[float]] = {}
        steps = int(tr.cfg.num_steps_per_env)
        policy_s = env_s = 0.0
        physics0 = self._physics_s()
        with torch.no_grad():
            for _ in range(steps):
                t0 = time.perf_counter()
                actions = tr.act(self.obs)
                t1 = time.perf_counter()
                obs, rewards, dones, infos = self.env.step(actions)
                t2 = time.perf_counter()
                tr.process_env_step(rewards, dones, infos)
                policy_s += (t1 - t0) + (time.perf_counter() - t2)
                env_s += t2 - t1
                self.obs = obs
                rewards = rewards.to(tr.device).reshape(-1)
                dones = dones.to(tr.device).reshape(-1).bool()
                self.cur_reward_sum += rewards
                self.cur_episode_length += 1
                if dones.any():
                    self.reward_buffer.extend(self.cur_reward_sum[dones].tolist())
                    self.length_buffer.extend(self.cur_episode_length[dones].tolist())
                    self.cur_reward_sum[dones] = 0
                    self.cur_episode_length[dones] = 0
                for k, v in (infos.get("episode", None) or {}).items():
                    s = _scalar(v)
                    if s is not None:
                        ep_logs.setdefault(k, []).append(s)
            tr.compute_returns(self.obs)
        physics_s = self._physics_s() - physics0
        stats = {f"episode/{k}": sum(v) / len(v) for k, v in ep_logs.items()}
        stats.update({"perf/physics_s": physics_s, "perf/mdp_s": max(env_s - physics_s, 0.0), "perf/policy_s": policy_s})
        return stats, steps * tr.num_envs

    def learn(self, num_iterations: int) -> dict[str, float]:
        if self.obs is None:
            self.obs = self.env.reset()
        self.trainer.model.train()
        self.callbacks.on_train_start(self)
        start = self.iteration
        bar = tqdm(total=num_iterations, desc="train", unit="it", dynamic_ncols=True,
                   disable=not (self.progress and self.is_main_process))
        try:
            for it in range(start, start + num_iterations):
                sched = self.schedules.apply(self.cfg, it)
                t0 = time.perf_counter()
                ep_stats, n_steps = self._rollout()
                t1 = time.perf_counter()
                self.callbacks.on_rollout_end(it)
                stats = self.trainer.update()
                t2 = time.perf_counter()
                self.iteration = it + 1
                stats.update(ep_stats)
                stats.update({f"schedule/{k}": float(v) for k, v in sched.items() if _scalar(v) is not None})
                stats["perf/fps"] = n_steps / max(t2 - t0, 1e-9)
                stats["perf/collection_s"] = t1 - t0
                stats["perf/learn_s"] = t2 - t1
                stats["perf/update_s"] = t2 - t1
                stats["train/mean_reward"] = (sum(self.reward_buffer) / len(self.reward_buffer)
                                              if self.reward_buffer else float("nan"))
                stats["train/mean_episode_length"] = (sum(self.length_buffer) / len(self.length_buffer)
                                                      if self.length_buffer else float("nan"))
                self.last_stats = stats
                self._print(self.format_line(it, stats))
                self._add_time_split(it, stats)
                bar.update(1)
                self.callbacks.on_update_end(it, stats)
        finally:
            bar.close()
        self.callbacks.on_train_end()
        return self.last_stats

    def _add_time_split(self, it: int, stats: Mapping[str, float]) -> None:
        """Sum the iteration's time split; every ``timing_interval`` iterations print it and start again."""
        for k in TIME_SPLIT:
            self._split[k] = self._split.get(k, 0.0) + float(stats.get(f"perf/{k}_s", 0.0))
        self._split_iters += 1
        if self.timing_interval > 0 and self._split_iters >= self.timing_interval:
            self._print(self.format_time_split(it, self._split, self._split_iters))
            self._split, self._split_iters = {}, 0

    @staticmethod
    def format_time_split(it: int, split: Mapping[str, float], iterations: int) -> str:
        total = max(sum(split.values()), 1e-9)
        parts = " | ".join(f"{k} {1e3 * split[k] / iterations:7.1f} ms {100 * split[k] / total:3.0f}%" for k in TIME_SPLIT)
        return f"time/it over its {it + 1 - iterations}-{it}: {parts} | total {1e3 * total / iterations:.1f} ms"

    @staticmethod
    def format_line(it: int, stats: Mapping[str, float]) -> str:
        losses = " ".join(f"{k[5:]}={stats[k]:.4g}" for k in ("loss/policy", "loss/value", "loss/aux", "loss/kl")
                          if k in stats)
        return (f"it {it:6d} | fps {stats['perf/fps']:9.0f} | reward {stats['train/mean_reward']:9.3f} | "
                f"ep_len {stats['train/mean_episode_length']:7.1f} | {losses}")

    # ------------------------------------------------------------------ state (for exact resume)
    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "iteration": self.iteration,
            "trainer": self.trainer.state_dict(),
            "obs": tree_map(lambda x: x.clone(), self.obs) if self.obs is not None else None,
            "cur_reward_sum": self.cur_reward_sum.clone(),
            "cur_episode_length": self.cur_episode_length.clone(),
            "reward_buffer": list(self.reward_buffer),
            "length_buffer": list(self.length_buffer),
        }
        if hasattr(self.env, "state_dict"):
            state["env"] = self.env.state_dict()
        if env_snapshot.supports(self.env):
            state["env_exact"] = env_snapshot.capture(self.env)  # per-env physics, buffers, RNG: exact resume
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.iteration = int(state["iteration"])
        self.trainer.load_state_dict(state["trainer"])
        self.obs = state.get("obs", None)
        self.cur_reward_sum.copy_(state["cur_reward_sum"])
        self.cur_episode_length.copy_(state["cur_episode_length"])
        self.reward_buffer = deque(state.get("reward_buffer", []), maxlen=100)
        self.length_buffer = deque(state.get("length_buffer", []), maxlen=100)
        if "env" in state and hasattr(self.env, "load_state_dict"):
            self.env.load_state_dict(state["env"])
        if "env_exact" in state and env_snapshot.supports(self.env):
            env_snapshot.restore(self.env, state["env_exact"], obs=self.obs)
