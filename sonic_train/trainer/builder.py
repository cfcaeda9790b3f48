"""Build the runner (actor-critic, trainer, schedules, callbacks) from the composed Hydra config."""

from __future__ import annotations

import os
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from sonic_train.callbacks.base import Callback
from sonic_train.callbacks.im_resample import ImResampleCallback
from sonic_train.callbacks.model_save import ModelSaveCallback
from sonic_train.callbacks.tensorboard_cb import TensorboardCallback
from sonic_train.callbacks.wandb_cb import WandbCallback
from sonic_train.modules.actor_critic import build_actor_critic, obs_dims_from
from sonic_train.trainer.ppo import PPOTrainer
from sonic_train.trainer.ppo_aux import AuxLossPPOTrainer
from sonic_train.trainer.runner import Runner
from sonic_train.trainer.schedules import ScheduleManager

TRAINERS = {"ppo": PPOTrainer, "ppo_aux": AuxLossPPOTrainer}


def build_callbacks(cfg: DictConfig, experiment_dir: str) -> list[Callback]:
    """The callbacks the config enables, adaptive resampling first."""
    out: list[Callback] = []
    cbs = cfg.get("callbacks", None) or {}
    im = cbs.get("im_resample", None)
    if im is not None and im.get("enabled", True):  # values: configs/callbacks/im_resample.yaml
        out.append(ImResampleCallback(interval=im.interval, uniform_frac=im.uniform_frac, prior=im.prior,
                                      decay=im.decay))
    if cbs.get("model_save", None) is not None and cbs.model_save.get("enabled", True):
        out.append(ModelSaveCallback(experiment_dir, save_interval=int(cbs.model_save.save_interval)))
    if cbs.get("tensorboard", None) is not None and cbs.tensorboard.get("enabled", True):
        out.append(TensorboardCallback(os.path.join(experiment_dir, "tensorboard")))
    if cbs.get("wandb", None) is not None and cbs.wandb.get("enabled", True):
        w = cfg.opt.wandb  # configs/opt/wandb.yaml: the one home of these defaults
        out.append(WandbCallback(project=w.project, entity=w.entity, name=w.name, group=w.group, mode=w.mode,
                                 log_dir=experiment_dir,
                                 config=OmegaConf.to_container(cfg, resolve=True)))
    return out


def build_runner(cfg: DictConfig, env: Any, accelerator: Any = None,
                 callbacks: list[Callback] | None = None) -> Runner:
    obs = env.reset()
    model = build_actor_critic(cfg, obs_dims_from(obs), env.num_actions)
    kind = cfg.trainer.kind  # configs/trainer/*.yaml
    if kind not in TRAINERS:
        raise ValueError(f"trainer.kind {kind!r} not in {sorted(TRAINERS)}")
    kwargs: dict[str, Any] = {}
    if kind == "ppo_aux":
        kwargs["aux_losses"] = cfg.get("aux_losses", None)
    trainer = TRAINERS[kind](model, cfg.algo.config, env.num_envs, env.num_actions,
                             device=torch.device(str(env.device)), accelerator=accelerator,
                             seed=int(cfg.get("seed", 0)), **kwargs)
    exp_dir = str(cfg.experiment_dir)  # configs/base.yaml
    cbs = build_callbacks(cfg, exp_dir) if callbacks is None else callbacks
    runner = Runner(env, trainer, cfg, cbs, ScheduleManager(cfg.get("schedules", None), env), accelerator,
                    timing_interval=int(cfg.trainer.timing_interval))
    runner.obs = obs
    return runner
