"""PPO update throughput (samples/s) on CPU for the sonic_release and smoke network sizes.

    python benchmarks/ppo_update.py [--seconds 3] [--threads 1 2] [--envs 256] [--steps 32]

Each measurement fills a rollout (envs x steps samples) with G1-sized random observations and
times full AuxLossPPOTrainer.update() calls (epochs x mini-batches, with the aux losses).
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from hydra import compose, initialize_config_dir
from rich.console import Console
from rich.table import Table

from sonic_train.modules.actor_critic import build_actor_critic
from sonic_train.trainer.ppo_aux import AuxLossPPOTrainer

CONFIG_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs")
PRESETS = {"sonic_release": "+exp=manager/universal_token/all_modes/sonic_release",
           "sonic_smoke": "+exp=manager/universal_token/all_modes/sonic_smoke"}
# G1 observation sizes (10 future frames; policy history 930), as assumed by the sonic_release preset.
DIMS = {"policy": 930, "critic": 600,
        "tokenizer": {"command_joint_pos_future": 290, "command_joint_vel_future": 290,
                      "command_anchor_ori_future": 60, "smpl_joints_future": 720, "vr_3point_pos": 9,
                      "vr_3point_ori": 18}}
NUM_ACTIONS = 29


def fake_obs(n: int, g: torch.Generator) -> dict:
    tok = {k: torch.randn(n, d, generator=g) for k, d in DIMS["tokenizer"].items()}
    tok["encoder_index"] = torch.randint(0, 3, (n,), generator=g)
    return {"policy": torch.randn(n, DIMS["policy"], generator=g),
            "critic": torch.randn(n, DIMS["critic"], generator=g), "tokenizer": tok}


def measure(preset: str, threads: int, envs: int, steps: int, seconds: float) -> dict:
    torch.set_num_threads(threads)
    with initialize_config_dir(config_dir=os.path.abspath(CONFIG_DIR), version_base="1.3"):
        cfg = compose("base", overrides=[PRESETS[preset], f"algo.config.num_steps_per_env={steps}"])
    torch.manual_seed(0)
    model = build_actor_critic(cfg, DIMS, NUM_ACTIONS)
    tr = AuxLossPPOTrainer(model, cfg.algo.config, envs, NUM_ACTIONS, aux_losses=cfg.aux_losses)
    g = torch.Generator().manual_seed(0)
    params = sum(p.numel() for p in model.parameters())

    def fill() -> None:
        for _ in range(steps):
            tr.act(fake_obs(envs, g))
            tr.process_env_step(torch.randn(envs, generator=g), torch.zeros(envs, dtype=torch.bool), {})
        tr.compute_returns(fake_obs(envs, g))

    samples = envs * steps * int(cfg.algo.config.num_learning_epochs)  # samples passed through per update
    fill()
    tr.update()  # warm-up
    total_t, n = 0.0, 0
    while total_t < seconds or n == 0:
        fill()
        t0 = time.perf_counter()
        tr.update()
        total_t += time.perf_counter() - t0
        n += 1
    return {"preset": preset, "threads": threads, "params_m": params / 1e6, "updates": n,
            "update_s": total_t / n, "samples_per_s": samples * n / total_t}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=3.0, help="timed update seconds per row")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--envs", type=int, default=64)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--presets", nargs="+", default=list(PRESETS))
    args = ap.parse_args()
    rows = [measure(p, t, args.envs, args.steps, args.seconds) for p in args.presets for t in args.threads]
    table = Table(title=f"PPO update throughput on CPU ({args.envs} envs x {args.steps} steps, aux losses on)")
    for col in ("preset", "params (M)", "threads", "updates", "s / update", "samples / s"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(r["preset"], f"{r['params_m']:.2f}", str(r["threads"]), str(r["updates"]),
                      f"{r['update_s']:.3f}", f"{r['samples_per_s']:,.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
