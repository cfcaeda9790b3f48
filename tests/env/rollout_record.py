"""A short, fixed rollout of the smoke tracking env: what the MDP returns for a fixed action sequence.

Actions do not depend on observations, so the physics is the same whatever the MDP code does: the recorded
observations, rewards and dones pin the MDP's arithmetic. Randomisation runs at level 2 (friction, mass, gains,
offsets, pushes), episodes are 0.5 s and the height threshold tight, so time-outs and failures reset envs inside the window.

``python tests/env/rollout_record.py OUT.npz`` writes a recording; tests/env/test_rollout_golden.py replays it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from hydra import compose, initialize_config_dir

from sonic_train.cli.train import config_dir
from sonic_train.envs.factory import make_env

NUM_ENVS, STEPS, SEED = 4, 40, 3
OVERRIDES = ["+exp=manager/universal_token/all_modes/sonic_smoke", f"num_envs={NUM_ENVS}", "sim.num_threads=2",
             "manager_env.events.level=2", "manager_env.config.episode_length_s=0.5",
             "manager_env.terminations.anchor_height.params.threshold=0.04", f"seed={SEED}"]
SMPL_KEEP = 96  # first values of the 7,200-value SMPL future window kept per step (the rest is the same formula)


def record(motions: str | None = None) -> dict[str, np.ndarray]:
    """Run the rollout; arrays keyed ``obs/<group>[/<term>]``, ``reward``, ``done``, ``time_out``, ``qpos``."""
    with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
        cfg = compose("base", overrides=OVERRIDES)
    env = make_env(cfg, quiet=True, motions=motions)
    gen = torch.Generator().manual_seed(SEED)
    out: dict[str, list[np.ndarray]] = {}

    def put(key: str, x: torch.Tensor) -> None:
        out.setdefault(key, []).append(x.detach().cpu().numpy().copy())

    def put_obs(obs: dict) -> None:
        for g, v in obs.items():
            if isinstance(v, dict):
                for k, t in v.items():
                    put(f"obs/{g}/{k}", t[:, :SMPL_KEEP] if k == "smpl_joints_future" else t)
            else:
                put(f"obs/{g}", v)

    put_obs(env.reset())
    for _ in range(STEPS):
        a = 0.8 * torch.randn(NUM_ENVS, env.num_actions, generator=gen)
        obs, rew, done, info = env.step(a)
        put_obs(obs)
        put("reward", rew)
        put("done", done)
        put("time_out", info["time_outs"])
        put("qpos", torch.as_tensor(env.unwrapped.backend.qpos))
    env.close()
    return {k: np.stack(v) for k, v in out.items()}


if __name__ == "__main__":
    data = record()
    np.savez_compressed(sys.argv[1], **data)
    print(Path(sys.argv[1]).stat().st_size, "bytes;", {k: v.shape for k, v in data.items()})
