"""Turn a trained checkpoint into a warm start for a new run: its weights, optimizer and RNG, at iteration 0.

The environment state (clip indices and times of another motion set), the last observation and the episode
statistics are dropped, so the new run resets its envs on its own clips. Use: ``sonic-train ... +resume=OUT``.

    python scripts/warm_start.py policies/g1_sonic_smoke/model.pt logs/warm/model_0.pt --num-envs 64
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from sonic_deploy.utils.atomic import atomic_path
from sonic_train.callbacks.model_save import read_checkpoint


def warm_start(src: Path, dst: Path, num_envs: int) -> Path:
    ckpt = read_checkpoint(src)
    runner = ckpt["runner"]
    ckpt["iteration"] = 0
    ckpt["runner"] = {"iteration": 0, "trainer": runner["trainer"], "obs": None,
                      "cur_reward_sum": torch.zeros(num_envs), "cur_episode_length": torch.zeros(num_envs),
                      "reward_buffer": [], "length_buffer": []}
    ckpt["extra"] = {**dict(ckpt.get("extra", {})), "warm_start_from": str(src)}
    dst.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dst) as tmp, open(tmp, "wb") as f:
        torch.save(ckpt, f)
    return dst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--num-envs", type=int, required=True, help="the new run's num_envs")
    a = ap.parse_args()
    print(warm_start(a.src, a.dst, a.num_envs))


if __name__ == "__main__":
    main()
