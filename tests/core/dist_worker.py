"""One rank of the two-process DDP test (run by test_distributed.py with RANK/WORLD_SIZE set)."""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sonic_core_fakes import SMALL_AC, FakeTokenEnv  # noqa: E402

from sonic_train.accel import make_accelerator, rank_seed  # noqa: E402
from sonic_train.modules.actor_critic import build_actor_critic, obs_dims_from  # noqa: E402
from sonic_train.trainer.ppo_aux import AuxLossPPOTrainer  # noqa: E402
from sonic_train.trainer.runner import Runner  # noqa: E402

ALGO = {"num_steps_per_env": 8, "num_learning_epochs": 2, "num_mini_batches": 2, "actor_learning_rate": 1e-3,
        "critic_learning_rate": 1e-3, "schedule": "adaptive"}
AUX = {"aux_scale": 1.0, "losses": {"g1_recon": {"type": "reconstruction", "coef": 1.0},
                                    "g1_smpl": {"type": "latent_alignment", "encoders": ["g1", "smpl"], "coef": 0.1}}}


def main(out_dir: str) -> None:
    torch.set_num_threads(1)
    acc = make_accelerator(cpu=True)
    rank = acc.process_index
    torch.manual_seed(100 + rank)  # different initial weights per rank: DDP must broadcast rank 0's
    env = FakeTokenEnv(num_envs=8, seed=rank_seed(0, acc))  # different data per rank
    obs = env.reset()
    model = build_actor_critic(SMALL_AC, obs_dims_from(obs), env.num_actions)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    tr = AuxLossPPOTrainer(model, ALGO, env.num_envs, env.num_actions, accelerator=acc, seed=rank, aux_losses=AUX)
    broadcast = {k: v.clone() for k, v in model.state_dict().items()}
    runner = Runner(env, tr, accelerator=acc, progress=False, log_fn=lambda s: None)
    runner.obs = obs
    first_obs = obs["critic"].clone()
    runner.learn(3)
    torch.save({"world_size": acc.num_processes, "rank": rank, "initial": initial, "broadcast": broadcast, "final": model.state_dict(),
                "first_obs": first_obs, "lr": tr.learning_rates["actor"]}, os.path.join(out_dir, f"rank{rank}.pt"))
    acc.wait_for_everyone()
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
