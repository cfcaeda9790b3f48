"""The motion-tracking environment: managers over a simulator backend (no simulator type in here).

One ``step``: actions -> joint targets -> backend (decimation physics steps) -> state -> command advances ->
terminations -> rewards -> reset of finished envs (new clip, start on its reference frame, events, encoder) ->
observations. Observations are returned as groups of terms; :class:`ManagerEnvWrapper` gives the trainer
its flat layout.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from sonic_train.envs.managers import (CurriculumManager, EventManager, MotionCommand, ObservationManager,
                                       RewardManager, TerminationManager)
from sonic_train.envs.managers.base import ConfigError, check_keys, to_plain
from sonic_train.envs.mdp.actions import JointPositionAction
from sonic_train.modules.universal_token import sample_encoder_index


MANAGER_ENV_KEYS = ("observations", "rewards", "terminations", "events", "commands", "curriculum", "actions", "config")
ENV_CONFIG_KEYS = ("episode_length_s", "replay", "action_transform")


class TrackingEnv:
    def __init__(self, cfg: Mapping[str, Any], backend, library, robot, seed: int = 0,
                 encoder_sample_probs: torch.Tensor | None = None, quiet: bool = False):
        cfg = to_plain(cfg)
        check_keys("manager_env", cfg, MANAGER_ENV_KEYS)
        self.cfg = cfg
        env_cfg = dict(cfg.get("config", {}) or {})
        check_keys("manager_env.config", env_cfg, ENV_CONFIG_KEYS)
        self.backend = backend
        self.robot = robot
        self.num_envs = backend.num_envs
        self.num_actions = robot.num_joints
        self.device = backend.device
        self.step_dt = backend.control_dt
        self.max_episode_length_s = float(env_cfg["episode_length_s"])  # configs/manager_env/base_env.yaml
        self.max_episode_length = int(math.ceil(self.max_episode_length_s / self.step_dt))
        self.np_rng = np.random.default_rng(seed)
        self.torch_rng = torch.Generator().manual_seed(int(seed))
        self.quiet = quiet
        self.default_joint_pos = torch.as_tensor(robot.default_joint_pos, dtype=torch.float32, device=self.device)
        probs = encoder_sample_probs if encoder_sample_probs is not None else torch.ones(1)
        self.encoder_sample_probs = torch.as_tensor(probs, dtype=torch.float32)
        self.encoder_index = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self.episode_length_buf = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self.common_step_counter = 0
        self.physics_s = 0.0  # seconds spent in the backend's step and resets (the trainer's time split reads it)

        self.state = backend.read_state()
        self.prev_state = None
        self.step_cache: dict = {}  # per-step results shared by terms (cleared whenever the state changes)
        commands = dict(cfg.get("commands", {}) or {})
        check_keys("manager_env.commands", commands, ("motion",))
        cmd_cfg = dict(commands.get("motion", {}) or {})
        check_keys("manager_env.commands.motion", cmd_cfg, ("random_start", "start_at_zero_prob"))
        self.command = MotionCommand(self, library, backend.body_names, robot.joint_names,
                                     random_start=cmd_cfg["random_start"], start_at_zero_prob=cmd_cfg["start_at_zero_prob"],
                                     quiet=quiet)  # configs/manager_env/commands/motion.yaml
        actions = dict(cfg.get("actions", {}) or {})
        check_keys("manager_env.actions", actions, ("joint_pos",))
        act_cfg = dict(actions.get("joint_pos", {}) or {})
        check_keys("manager_env.actions.joint_pos", act_cfg, ("scale", "clip"))
        self.action_manager = JointPositionAction(self, scale=act_cfg["scale"], clip=act_cfg["clip"])
        self.observation_manager = ObservationManager(self, cfg.get("observations", {}), quiet=quiet)
        self.reward_manager = RewardManager(self, cfg.get("rewards", {}), quiet=quiet)
        self.termination_manager = TerminationManager(self, cfg.get("terminations", {}), quiet=quiet)
        self.event_manager = EventManager(self, cfg.get("events", {}), quiet=quiet)
        self.curriculum_manager = CurriculumManager(self, cfg.get("curriculum", {}), quiet=quiet)
        self.extras: dict[str, Any] = {}
        self._soft_limits: dict[float, tuple[torch.Tensor, torch.Tensor]] = {}
        self._started = False

    # ------------------------------------------------------------------ helpers
    def soft_joint_limits(self, factor: float = 0.9) -> tuple[torch.Tensor, torch.Tensor]:
        """Joint limits shrunk about their middle by ``factor`` (made once per factor)."""
        if factor not in self._soft_limits:
            lo = torch.as_tensor(self.robot.joint_lower, dtype=torch.float32, device=self.device)
            hi = torch.as_tensor(self.robot.joint_upper, dtype=torch.float32, device=self.device)
            mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo) * factor
            self._soft_limits[factor] = (mid - half, mid + half)
        return self._soft_limits[factor]

    def print_summary(self) -> None:
        if any(t.dim == 0 and not t.is_index for ts in self.observation_manager.groups.values() for t in ts):
            self.observation_manager.compute()  # term dims are read off one computation
            self.observation_manager.reset(torch.arange(self.num_envs, device=self.device))
        for m in (self.command, self.observation_manager, self.reward_manager, self.termination_manager,
                  self.event_manager, self.curriculum_manager):
            m.print_summary()

    def observation_layout(self) -> dict[str, list[dict[str, Any]]]:
        return self.observation_manager.layout()

    # ------------------------------------------------------------------ reset
    def _place_on_reference(self, env_ids: torch.Tensor) -> None:
        ref = self.command.frames(self.command.clip_ids[env_ids], self.command.times[env_ids])
        args = (ref.root_pos, ref.root_quat, ref.body_lin_vel_w[:, 0], ref.body_ang_vel_w[:, 0], ref.joint_pos,
                ref.joint_vel)
        t0 = time.perf_counter()
        self.backend.reset_envs(env_ids, *args)
        self.physics_s += time.perf_counter() - t0

    def _reset_idx(self, env_ids: torch.Tensor) -> dict[str, float]:
        log: dict[str, float] = {}
        if len(env_ids) == 0:
            return log
        if self._started:
            log.update(self.reward_manager.reset(env_ids))
            log.update(self.termination_manager.record(env_ids))
            self.command.record_episodes(env_ids, self.termination_manager.terminated[env_ids])
            log["episode_length_s"] = float(self.episode_length_buf[env_ids].float().mean()) * self.step_dt
            log.update(self.curriculum_manager.compute(env_ids))
        self.command.resample(env_ids)
        self.event_manager.apply("reset", env_ids)
        self.event_manager.reset(env_ids)
        self._place_on_reference(env_ids)
        self.action_manager.reset(env_ids)
        self.observation_manager.reset(env_ids)
        self.episode_length_buf[env_ids] = 0
        self.encoder_index[env_ids] = sample_encoder_index(len(env_ids), self.encoder_sample_probs,
                                                           generator=self.torch_rng, device=self.device)
        return log

    def reset(self) -> dict[str, Any]:
        ids = torch.arange(self.num_envs, device=self.device)
        if not self._started:
            self.event_manager.apply("startup", ids)
        self._reset_idx(ids)
        self._started = True
        self.state = self.backend.read_state()
        self.step_cache.clear()
        self.prev_state = None
        return self.observation_manager.compute()

    # ------------------------------------------------------------------ step
    def step(self, actions: torch.Tensor, replay: bool = False):
        """Advance one control step. ``replay``: ignore actions, put every env on its reference frame."""
        self.action_manager.process(actions)
        if replay:
            self.command.step(self.step_dt)
            self._place_on_reference(torch.arange(self.num_envs, device=self.device))
        else:
            self.event_manager.apply("interval", dt=self.step_dt)
            targets = self.action_manager.joint_targets()
            t0 = time.perf_counter()
            self.backend.step(targets)
            self.physics_s += time.perf_counter() - t0
            self.command.step(self.step_dt)
        self.prev_state = self.state
        self.state = self.backend.read_state()
        self.step_cache.clear()
        self.episode_length_buf += 1
        self.common_step_counter += 1

        terminated, time_outs = self.termination_manager.compute()
        rewards = self.reward_manager.compute(self.step_dt)
        dones = terminated | time_outs
        episode: dict[str, float] = dict(self.reward_manager.step_means())
        reset_ids = dones.nonzero().flatten()
        if len(reset_ids):
            episode.update(self._reset_idx(reset_ids))
            self.state = self.backend.read_state()
            self.step_cache.clear()
            # a reset env has no previous state of its own episode
            self.prev_state.body_lin_vel_w[reset_ids] = self.state.body_lin_vel_w[reset_ids]
        episode["curriculum/event_level"] = float(self.event_manager.level)
        obs = self.observation_manager.compute()
        infos = {"time_outs": time_outs.clone(), "terminated": terminated.clone(), "episode": episode}
        return obs, rewards, dones, infos

    # ------------------------------------------------------------------ run-time configuration (schedules)
    def _config_target(self, path: str):
        """(setter, description) for a ``manager_env``-relative dotted path, or a ConfigError naming what can be set."""
        keys = path.split(".")
        managers = {"rewards": self.reward_manager, "terminations": self.termination_manager,
                    "curriculum": self.curriculum_manager}
        term = None
        if keys[0] in managers and len(keys) >= 3:
            term = {t.name: t for t in managers[keys[0]].terms}.get(keys[1])
            rest = keys[2:]
        elif keys[:2] == ["events", "terms"] and len(keys) >= 5:
            term = {t.name: t for t in self.event_manager.terms}.get(keys[2])
            rest = keys[3:]
        elif keys[0] == "observations" and len(keys) >= 6 and keys[2] == "terms":
            term = {t.name: t.cfg for t in self.observation_manager.groups.get(keys[1], [])}.get(keys[3])
            rest = keys[4:]
        if term is not None and len(rest) == 2 and rest[0] == "params" and rest[1] in term.params:
            return lambda v: term.params.__setitem__(rest[1], v)
        if term is not None and keys[0] == "rewards" and rest == ["weight"]:
            return lambda v: self.reward_manager.set_weight(term.name, float(v))
        if keys == ["events", "level"]:
            return lambda v: self.event_manager.set_level(int(v))
        if keys == ["config", "episode_length_s"]:
            return self._set_episode_length
        raise ConfigError(f"manager_env.{path}: not a value the environment can change at run time; it can change "
                          "rewards.<term>.weight, <rewards|terminations|curriculum>.<term>.params.<name>, "
                          "events.terms.<term>.params.<name>, observations.<group>.terms.<term>.params.<name> "
                          "(parameters the term's config sets), events.level and config.episode_length_s")

    def check_config(self, path: str) -> None:
        """Raise :class:`ConfigError` unless :meth:`set_config` can change ``manager_env.<path>``."""
        self._config_target(path)

    def set_config(self, path: str, value: Any) -> None:
        """Change ``manager_env.<path>`` at run time (a schedule): term weights and parameters, the event level,
        the episode length."""
        self._config_target(path)(value)
        self.step_cache.clear()

    def _set_episode_length(self, seconds: float) -> None:
        self.max_episode_length_s = float(seconds)
        self.max_episode_length = int(math.ceil(self.max_episode_length_s / self.step_dt))

    # ------------------------------------------------------------------ checkpoint state
    def state_dict(self) -> dict[str, Any]:
        return {"command": self.command.state_dict(), "curriculum": self.curriculum_manager.state_dict(),
                "event_level": self.event_manager.level}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if "command" in state:
            self.command.library.set_weights(state["command"]["weights"].numpy())
        self.event_manager.set_level(int(state.get("event_level", self.event_manager.level)))
        if "curriculum" in state:
            self.curriculum_manager.load_state_dict(state["curriculum"])

    def resume_state(self) -> dict[str, Any]:
        """Whether the first reset happened, and the episode, step and encoder counters, for a bit-exact resume
        (:mod:`sonic_train.envs.snapshot`; :meth:`state_dict` keeps only what a new run needs)."""
        return {"started": bool(self._started), "episode_length_buf": self.episode_length_buf.clone(),
                "common_step_counter": int(self.common_step_counter), "encoder_index": self.encoder_index.clone()}

    def load_resume_state(self, state: Mapping[str, Any]) -> None:
        """Put back what :meth:`resume_state` captured (resume of a checkpointed run)."""
        self._started = bool(state["started"])
        self.episode_length_buf.copy_(state["episode_length_buf"])
        self.common_step_counter = int(state["common_step_counter"])
        self.encoder_index.copy_(state["encoder_index"])

    def close(self) -> None:
        if hasattr(self.backend, "close"):
            self.backend.close()
