"""Joint position action: PD target q* = q_default + offset + action_scale * action."""

from __future__ import annotations

import torch


class JointPositionAction:
    def __init__(self, env, scale: str | float | list[float] = "robot", clip: float | None = None,
                 use_default_offset: bool = True):
        n, j, dev = env.num_envs, env.num_actions, env.device
        spec = env.robot
        if isinstance(scale, str):
            if scale != "robot":
                raise ValueError(f"action scale {scale!r}: a number, a list, or 'robot' (the spec's action_scale)")
            scale = spec.action_scale
        self.scale = torch.as_tensor(scale, dtype=torch.float32, device=dev).expand(j).clone()
        self.default = (torch.as_tensor(spec.default_joint_pos, dtype=torch.float32, device=dev) if use_default_offset
                        else torch.zeros(j, device=dev))
        self.clip = clip
        self.action = torch.zeros(n, j, device=dev)
        self.prev_action = torch.zeros(n, j, device=dev)
        self.joint_offset = torch.zeros(n, j, device=dev)

    @property
    def last_action(self) -> torch.Tensor:
        return self.action

    def process(self, actions: torch.Tensor) -> None:
        a = actions.to(self.action.device, torch.float32)
        if self.clip is not None:
            a = a.clamp(-self.clip, self.clip)
        self.prev_action = self.action
        self.action = a.clone()

    def joint_targets(self) -> torch.Tensor:
        return self.default + self.joint_offset + self.scale * self.action

    def reset(self, env_ids: torch.Tensor) -> None:
        self.action[env_ids] = 0.0
        self.prev_action[env_ids] = 0.0

    def summary(self) -> list[tuple[str, str]]:
        return [("joint_pos", f"default + scale * action (scale {float(self.scale.min()):.3f}.."
                              f"{float(self.scale.max()):.3f}, clip {self.clip})")]
