"""``ManagerEnvWrapper``: the trainer-facing view of a :class:`TrackingEnv`.

- flattens observation groups: ``{"policy": [N, P], "critic": [N, C], "tokenizer": {term: [N, d],
  "encoder_index": [N] long}}`` (a non-tokenizer group configured as a dict is concatenated here);
- optional pretrained action-transform module: the policy's actions become its latent residual and the
  frozen module maps (observation, residual) to joint actions;
- motion replay: the reference is played kinematically, actions are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from sonic_train.callbacks.model_save import read_checkpoint
from sonic_train.modules.actor_critic import build_actor_critic, obs_dims_from

KEEP_AS_DICT = ("tokenizer",)


class ManagerEnvWrapper:
    def __init__(self, env, replay: bool = False, action_transform: torch.nn.Module | None = None,
                 action_transform_dim: int | None = None):
        self.env = env
        self.replay = bool(replay)
        self.action_transform = action_transform
        if action_transform is not None:
            action_transform.eval()
            for p in action_transform.parameters():
                p.requires_grad_(False)
        self.num_envs = env.num_envs
        self.num_actions = int(action_transform_dim) if action_transform is not None else env.num_actions
        self.device = env.device
        self._obs: dict[str, Any] | None = None

    @property
    def unwrapped(self):
        return self.env

    def _flatten(self, groups: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for g, v in groups.items():
            if isinstance(v, Mapping) and g not in KEEP_AS_DICT:
                v = torch.cat([t.reshape(t.shape[0], -1).float() for t in v.values()], dim=-1)
            out[g] = v
        return out

    def reset(self) -> dict[str, Any]:
        self._obs = self._flatten(self.env.reset())
        return self._obs

    @torch.no_grad()
    def _transform(self, actions: torch.Tensor) -> torch.Tensor:
        return self.action_transform(self._obs, residual=actions)

    def step(self, actions: torch.Tensor):
        if self._obs is None:
            self.reset()
        if self.replay:
            actions = torch.zeros(self.num_envs, self.env.num_actions, device=self.device)
        elif self.action_transform is not None:
            actions = self._transform(actions)
        obs, rew, dones, infos = self.env.step(actions, replay=self.replay)
        self._obs = self._flatten(obs)
        return self._obs, rew, dones, infos

    def observation_layout(self) -> dict[str, list[dict[str, Any]]]:
        return self.env.observation_layout()

    def state_dict(self) -> dict[str, Any]:
        return self.env.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.env.load_state_dict(state)

    def resume_state(self) -> dict[str, Any]:
        """The last observation: a resumed run steps on from it instead of resetting every env first."""
        return {"obs": self._obs}

    def load_resume_state(self, state: Mapping[str, Any]) -> None:
        """Put back what :meth:`resume_state` captured (resume of a checkpointed run)."""
        self._obs = state["obs"]

    def close(self) -> None:
        self.env.close()


def load_action_transform(checkpoint: str, cfg: Any, obs: Mapping[str, Any], num_actions: int) -> torch.nn.Module:
    """The actor of a trained checkpoint as a frozen action-transform module (latent residual -> actions)."""
    model = build_actor_critic(cfg, obs_dims_from(obs), num_actions)
    ckpt = read_checkpoint(checkpoint)
    model.load_state_dict(ckpt["runner"]["trainer"]["model"])
    return model.actor.backbone
