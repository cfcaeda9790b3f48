"""Evaluate a checkpoint on every motion of a library (or a chosen list), each motion once from its start.

The environment is the training run's (``config.yaml`` beside the checkpoint) with the evaluation changes:

- ``eval_overrides`` of the training config, then those of the evaluation config (dotted keys);
- train-only events dropped (domain randomisation, pushes: ``drop_events``), the curriculum dropped and the
  terminations a curriculum adapts dropped (``drop_terminations: adaptive``; or a list of names);
- every env tracks one assigned motion from t = 0 with one encoder (``encoder``); an env that finishes takes
  the next motion still to do, so fewer envs than motions works;
- the policy acts deterministically (the mean action).

Metrics (:mod:`.metrics`) are taken where terminations are judged (after physics, before a reset), as an
observer of the env's termination manager: the terminal state of a failed episode counts. Motions are assigned
through the motion command's sampler (:meth:`MotionCommand.set_sampler`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf, open_dict

from sonic_deploy.motion.library import MotionLibrary
from sonic_deploy.motion.motion_sets import split_of
from sonic_train.envs.factory import make_env, resolve_motions
from sonic_train.eval.common import EvalError, apply_overrides, build_policy, load_train_config, set_dotted
from sonic_train.eval.metrics import TrackingMetrics, aggregate


def _motions_path(eval_cfg: DictConfig, train_cfg: DictConfig, checkpoint: str) -> str:

    path = eval_cfg.get("motions", None) or train_cfg.get("motions", None)
    if not path:
        meta = Path(checkpoint).expanduser().resolve().parent / "meta.yaml"
        if meta.is_file():
            m = OmegaConf.load(meta).get("motions", None)
            if m and Path(str(m)).exists():
                path = str(m)
    return str(resolve_motions(path))


def adaptive_terminations(train_cfg: DictConfig) -> list[str]:
    """Termination terms whose parameters a curriculum term adapts (``params.term``)."""
    cur = OmegaConf.select(train_cfg, "manager_env.curriculum") or {}
    out = []
    for _, t in (OmegaConf.to_container(cur, resolve=True) if isinstance(cur, DictConfig) else cur).items():
        if isinstance(t, dict):
            term = (t.get("params") or {}).get("term")
            if term and term not in out:
                out.append(term)
    return out


def make_eval_config(train_cfg: DictConfig, eval_cfg: DictConfig, num_envs: int, episode_length_s: float) -> DictConfig:
    """The training config turned into the evaluation environment's config (see the module doc)."""
    cfg = OmegaConf.create(OmegaConf.to_container(train_cfg, resolve=True))
    apply_overrides(cfg, cfg.get("eval_overrides", None))
    apply_overrides(cfg, eval_cfg.get("eval_overrides", None))
    me = cfg.manager_env
    with open_dict(cfg):
        drop_ev = eval_cfg.get("drop_events", "all")
        if drop_ev == "all":
            set_dotted(cfg, "manager_env.events.terms", {})
        elif drop_ev:
            for name in drop_ev:
                if OmegaConf.select(cfg, f"manager_env.events.terms.{name}") is not None:
                    me.events.terms.pop(name)
        if me.get("events", None) is not None:
            me.events.level = 0
        drop_t = eval_cfg.get("drop_terminations", "adaptive")
        names = adaptive_terminations(cfg) if drop_t == "adaptive" else list(drop_t or [])
        for name in names:
            if me.get("terminations", None) is not None and name in me.terminations:
                me.terminations.pop(name)
        if eval_cfg.get("drop_curriculum", True):
            me.curriculum = {}
        set_dotted(cfg, "manager_env.commands.motion.random_start", False)
        set_dotted(cfg, "manager_env.commands.motion.start_at_zero_prob", 1.0)
        set_dotted(cfg, "manager_env.config.episode_length_s", float(episode_length_s))
        set_dotted(cfg, "manager_env.config.replay", bool(eval_cfg.get("replay", False)))
        cfg.num_envs = int(num_envs)
        cfg.seed = int(eval_cfg.get("seed", 0))
        cfg.device = "cpu"
        backend = eval_cfg.get("sim_backend", None)
        old_sim = cfg.get("sim", None) or {}
        if backend and backend != old_sim.get("backend", "mujoco"):  # same dt, another simulator
            cfg.sim = {"backend": str(backend), "physics_dt": old_sim.get("physics_dt", 0.005),
                       "decimation": old_sim.get("decimation", 4)}
        if eval_cfg.get("sim_threads", None):
            set_dotted(cfg, "sim.num_threads", int(eval_cfg.sim_threads))
    return cfg


class MotionQueue:
    """The motion command's sampler in evaluation: each reset env takes the next motion to do, from t = 0."""
    def __init__(self, num_envs: int, clip_ids: Sequence[int]):
        self.todo = list(clip_ids)
        self.active = torch.zeros(num_envs, dtype=torch.bool)
        self.fallback = int(clip_ids[0]) if len(clip_ids) else 0

    def __call__(self, env_ids: torch.Tensor) -> tuple[list[int], list[float]]:
        ids = []
        for e in env_ids.tolist():
            if self.todo:
                ids.append(int(self.todo.pop(0)))
                self.active[e] = True
            else:
                ids.append(self.fallback)
                self.active[e] = False
        return ids, [0.0] * len(ids)


class Evaluator:
    """Build the eval env and policy for ``checkpoint``; :meth:`run` evaluates the selected motions once."""
    def __init__(self, checkpoint: str, eval_cfg: DictConfig, motion_names: Sequence[str] | None = None,
                 num_envs: int | None = None, quiet: bool = True):

        self.checkpoint = str(checkpoint)
        self.eval_cfg = eval_cfg
        self.train_cfg = load_train_config(checkpoint)
        torch.set_num_threads(int(eval_cfg.get("torch_threads", None) or 1))
        self.motions_path = _motions_path(eval_cfg, self.train_cfg, self.checkpoint)
        lib = MotionLibrary.from_paths(self.motions_path)
        names = list(motion_names if motion_names is not None else (eval_cfg.get("motion_names", None) or lib.names))
        unknown = [n for n in names if n not in lib.names]
        if unknown:
            raise EvalError(f"motions {unknown} are not in the library {self.motions_path} (it has {lib.names})")
        if not names:
            raise EvalError(f"no motions to evaluate in {self.motions_path}")
        self.motion_names = names
        clip_ids = [lib.names.index(n) for n in names]
        max_dur = max(float(lib.durations[i]) for i in clip_ids)
        cap = eval_cfg.get("max_episode_s", None)
        self.max_episode_s = float(cap) if cap else None
        ep_len = min(max_dur + 1.0, self.max_episode_s) if self.max_episode_s else max_dur + 1.0
        n = int(num_envs or eval_cfg.get("num_envs", None) or min(len(names), int(eval_cfg.get("max_envs", 32))))
        n = max(1, min(n, len(names)))
        self.cfg = make_eval_config(self.train_cfg, eval_cfg, n, ep_len)
        self.env = make_env(self.cfg, quiet=quiet, motions=self.motions_path)
        self.tenv = tenv = self.env.unwrapped
        lib = tenv.command.library
        self.clip_ids = [lib.names.index(nm) for nm in names]
        self.durations = {nm: float(lib.durations[lib.names.index(nm)]) for nm in names}

        # encoder: every env uses the chosen one
        ac = self.train_cfg.actor_critic
        enc_names = list(ac.encoders.keys()) if ac.get("encoders", None) is not None else []
        self.encoder = str(eval_cfg.get("encoder", None) or (enc_names[0] if enc_names else ""))
        if enc_names:
            if self.encoder not in enc_names:
                raise EvalError(f"encoder {self.encoder!r} not in the model's encoders {enc_names}")
            probs = torch.zeros(len(enc_names))
            probs[enc_names.index(self.encoder)] = 1.0
            tenv.encoder_sample_probs = probs

        self.queue = MotionQueue(n, self.clip_ids)
        tenv.command.set_sampler(self.queue)
        body_ids = tenv.state.body_index(list(tenv.robot.tracked_bodies))
        self.metrics = TrackingMetrics(n, tenv.robot.tracked_bodies, body_ids)
        self.step_hooks: list[Callable[[Any, torch.Tensor], None]] = []
        self.results: list[dict[str, Any]] = []
        self._episode_clip = torch.zeros(n, dtype=torch.long)
        tenv.termination_manager.add_observer(self._on_judged)

        obs = self.env.reset()
        self.obs = obs
        self._start_episodes(torch.arange(n))
        self.model, self.iteration = build_policy(self.train_cfg, obs, self.env.num_actions, self.checkpoint)

    # ------------------------------------------------------------------ hooks
    def _start_episodes(self, env_ids: torch.Tensor) -> None:
        self.metrics.reset(env_ids)
        self._episode_clip[env_ids] = self.tenv.command.clip_ids[env_ids].cpu()

    def _on_judged(self, terminated: torch.Tensor, time_outs: torch.Tensor) -> None:
        tenv = self.tenv
        active = self.queue.active.clone()
        self.metrics.update(tenv.state, tenv.command.ref, active.to(tenv.state.joint_pos.device))
        for hook in self.step_hooks:
            hook(tenv, active)
        dones = (terminated | time_outs).cpu() & active
        lib = tenv.command.library
        for e in dones.nonzero().flatten().tolist():
            clip = int(self._episode_clip[e])
            name = lib.names[clip]
            ep = self.metrics.episode(e)
            ep_s = ep["steps"] * tenv.step_dt
            failed_terms = [k for k, v in tenv.termination_manager.term_dones.items()
                            if bool(v[e]) and k not in ("time_out", "motion_end")]
            ep.update({"motion": name, "success": int(not bool(terminated[e])), "episode_s": ep_s,
                       "duration_s": self.durations[name],
                       "progress": min(ep_s / max(self.durations[name], 1e-9), 1.0),
                       "termination": ",".join(failed_terms) if bool(terminated[e]) else ""})
            self.results.append(ep)
        self._pending_starts = (terminated | time_outs).cpu()

    # ------------------------------------------------------------------ run
    @torch.no_grad()
    def run(self, max_steps: int | None = None, progress: bool = False) -> list[dict[str, Any]]:
        """Run until every selected motion has finished one episode; returns the per-motion results."""
        actor = self.model.actor
        total = len(self.motion_names)
        limit = max_steps or int(math.ceil(sum(self.durations.values()) / self.tenv.step_dt)) + 10 * total + 100
        obs = self.obs
        steps = 0
        t0 = time.perf_counter()
        while len(self.results) < total and steps < limit:
            self._pending_starts = None
            actions = actor.act_inference(obs)
            obs, _, dones, _ = self.env.step(actions)
            if self._pending_starts is not None and self._pending_starts.any():
                self._start_episodes(self._pending_starts.nonzero().flatten())
            steps += 1
            if progress and steps % 50 == 0:
                print(f"  step {steps}: {len(self.results)}/{total} motions done "
                      f"({steps * self.env.num_envs / max(time.perf_counter() - t0, 1e-9):.0f} env steps/s)")
        self.obs = obs
        self.steps = steps
        if len(self.results) < total:
            raise EvalError(f"evaluation stopped after {steps} steps with {len(self.results)}/{total} motions done")
        order = {n: i for i, n in enumerate(self.motion_names)}
        self.results.sort(key=lambda r: order[r["motion"]])
        return self.results

    def summary(self) -> dict[str, Any]:
        return {"checkpoint": self.checkpoint, "iteration": self.iteration, "encoder": self.encoder,
                "motions_path": self.motions_path, "num_envs": self.env.num_envs,
                "max_episode_s": self.max_episode_s, "tracked_bodies": list(self.tenv.robot.tracked_bodies),
                "aggregate": aggregate(self.results), "by_split": self.by_split(), "per_motion": self.results}

    def by_split(self) -> dict[str, Any]:
        """Aggregates per split of the motion-set config (held_out apart from train); {} for unlisted clips."""
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in self.results:
            groups.setdefault(split_of(r["motion"]) or "other", []).append(r)
        return {} if set(groups) <= {"other"} else {k: aggregate(v) for k, v in sorted(groups.items())}

    def close(self) -> None:
        self.env.close()
