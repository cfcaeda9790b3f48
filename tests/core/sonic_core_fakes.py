"""Small torch environments for the learning-core tests (no simulator)."""

from __future__ import annotations

import torch

from sonic_train.modules.universal_token import sample_encoder_index

TOKEN_DIMS = {"command_joint_pos_future": 12, "command_joint_vel_future": 12, "command_anchor_ori_future": 6,
              "smpl_joints_future": 15, "vr_3point_pos": 9, "vr_3point_ori": 12}

SMALL_AC = {
    "backbone": "universal_token",
    "init_noise_std": 0.5,
    "obs_history_len": 1,
    "encoder_sample_probs": {"g1": 0.5, "smpl": 0.25, "teleop": 0.25},
    "latent_residual_mode": "post_quantization",
    "encoders": {
        "g1": {"inputs": ["command_joint_pos_future", "command_joint_vel_future", "command_anchor_ori_future"],
               "hidden_dims": [32]},
        "smpl": {"inputs": ["smpl_joints_future", "command_anchor_ori_future"], "hidden_dims": [32]},
        "teleop": {"inputs": ["vr_3point_pos", "vr_3point_ori", "command_anchor_ori_future"], "hidden_dims": [32]},
    },
    "decoders": {"g1_dyn": {"hidden_dims": [32]},
                 "g1_kin": {"target": ["command_joint_pos_future"], "hidden_dims": [32]}},
    "quantizer": {"fsq_level_list": [5, 4, 3], "num_tokens": 2},
    "critic": {"hidden_dims": [32]},
}


class FakeTokenEnv:
    """Deterministic seeded vector env with the tokenizer/policy/critic observation structure.

    A hidden per-env "motion" vector drives every tokenizer term; the reward is highest when the
    action matches a fixed linear map of that motion. Episodes last ``episode_length`` steps (time-out)
    or end early when the action error is large (termination).
    """

    def __init__(self, num_envs: int = 8, num_actions: int = 4, seed: int = 0, episode_length: int = 10,
                 encoder_probs=(0.5, 0.25, 0.25), device: str = "cpu"):
        self.num_envs, self.num_actions, self.device = num_envs, num_actions, torch.device(device)
        self.episode_length = episode_length
        self.encoder_probs = torch.tensor(encoder_probs)
        self.gen = torch.Generator().manual_seed(seed)
        fixed = torch.Generator().manual_seed(1234)
        self.proj = {k: torch.randn(8, d, generator=fixed) for k, d in TOKEN_DIMS.items()}
        self.act_map = torch.randn(8, num_actions, generator=fixed) * 0.3
        self.motion = torch.zeros(num_envs, 8)
        self.t = torch.zeros(num_envs, dtype=torch.long)
        self.encoder_index = torch.zeros(num_envs, dtype=torch.long)
        self.last_action = torch.zeros(num_envs, num_actions)

    def _reset_envs(self, ids: torch.Tensor) -> None:
        n = int(ids.numel())
        if n == 0:
            return
        self.motion[ids] = torch.randn(n, 8, generator=self.gen)
        self.t[ids] = 0
        self.last_action[ids] = 0
        self.encoder_index[ids] = sample_encoder_index(n, self.encoder_probs, self.gen)

    def _obs(self) -> dict:
        phase = (self.t.float() / self.episode_length).unsqueeze(-1)
        tok = {k: torch.tanh(self.motion @ p) for k, p in self.proj.items()}
        tok["encoder_index"] = self.encoder_index.clone()
        policy = torch.cat([self.last_action, phase], dim=-1)
        critic = torch.cat([policy, self.motion], dim=-1)
        return {"policy": policy, "critic": critic, "tokenizer": tok}

    def reset(self) -> dict:
        self._reset_envs(torch.arange(self.num_envs))
        return self._obs()

    def step(self, actions: torch.Tensor):
        target = self.motion @ self.act_map
        err = (actions - target).square().sum(-1)
        rewards = torch.exp(-err)
        self.last_action = actions.detach().clone()
        self.motion = self.motion + 0.05 * torch.randn(self.num_envs, 8, generator=self.gen)
        self.t += 1
        time_outs = self.t >= self.episode_length
        terminated = err > 25.0
        dones = time_outs | terminated
        ids = dones.nonzero().flatten()
        ep = {"rew_track": rewards.mean()}
        self._reset_envs(ids)
        return self._obs(), rewards, dones, {"time_outs": time_outs & ~terminated, "episode": ep}

    def state_dict(self) -> dict:
        return {"gen": self.gen.get_state(), "motion": self.motion.clone(), "t": self.t.clone(),
                "encoder_index": self.encoder_index.clone(), "last_action": self.last_action.clone()}

    def load_state_dict(self, s: dict) -> None:
        self.gen.set_state(s["gen"])
        self.motion, self.t = s["motion"].clone(), s["t"].clone()
        self.encoder_index, self.last_action = s["encoder_index"].clone(), s["last_action"].clone()


class PointMassEnv:
    """2-D point mass: state = error to target in [-2, 2]^2, action = velocity command in [-1, 1]^2.

    ``e' = e + dt * clip(a)``, reward ``-|e'|_1``, 50-step episodes (time-outs). The reward is
    separable per axis and each step's move is bounded, so the greedy controller
    ``a = clip(-e / dt)`` is optimal.
    """

    dt = 0.2

    def __init__(self, num_envs: int = 64, seed: int = 0, episode_length: int = 50):
        self.num_envs, self.num_actions, self.device = num_envs, 2, torch.device("cpu")
        self.episode_length = episode_length
        self.gen = torch.Generator().manual_seed(seed)
        self.e = torch.zeros(num_envs, 2)
        self.t = torch.zeros(num_envs, dtype=torch.long)

    def _obs(self) -> dict:
        phase = (self.t.float() / self.episode_length).unsqueeze(-1)
        return {"policy": self.e.clone(), "critic": torch.cat([self.e, phase], -1), "tokenizer": {}}

    def reset(self) -> dict:
        self.e = torch.rand(self.num_envs, 2, generator=self.gen) * 4 - 2
        self.t.zero_()
        return self._obs()

    def step(self, actions: torch.Tensor):
        self.e = self.e + self.dt * actions.clamp(-1, 1)
        rewards = -self.e.abs().sum(-1)
        self.t += 1
        dones = self.t >= self.episode_length
        ids = dones.nonzero().flatten()
        if ids.numel():
            self.e[ids] = torch.rand(int(ids.numel()), 2, generator=self.gen) * 4 - 2
            self.t[ids] = 0
        return self._obs(), rewards, dones, {"time_outs": dones.clone(), "episode": {}}


def evaluate_point_mass(policy_fn, num_envs: int = 256, seed: int = 123) -> float:
    """Mean undiscounted episode return of ``policy_fn(obs) -> actions`` over one batch of episodes."""
    env = PointMassEnv(num_envs, seed=seed)
    obs = env.reset()
    total = torch.zeros(num_envs)
    for _ in range(env.episode_length):
        obs, r, _, _ = env.step(policy_fn(obs))
        total += r
    return float(total.mean())
