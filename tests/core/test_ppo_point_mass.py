"""PPO must solve a task whose optimal return is known."""

import time

import torch
from sonic_core_fakes import PointMassEnv, evaluate_point_mass

from sonic_train.modules.actor_critic import build_actor_critic, obs_dims_from
from sonic_train.trainer.ppo import PPOTrainer
from sonic_train.trainer.runner import Runner

RETURN_THRESHOLD = -8.0  # optimal about -5.7; zero policy about -99; random about -111


def test_ppo_solves_point_mass():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    optimal = evaluate_point_mass(lambda o: (-o["policy"] / PointMassEnv.dt).clamp(-1, 1))
    zero = evaluate_point_mass(lambda o: torch.zeros_like(o["policy"]))
    g = torch.Generator().manual_seed(1)
    rand = evaluate_point_mass(lambda o: torch.randn(o["policy"].shape, generator=g).clamp(-1, 1))
    # the threshold is far above doing nothing or acting randomly, and below the optimum
    assert optimal > RETURN_THRESHOLD > 0.2 * zero and RETURN_THRESHOLD > 0.2 * rand, (optimal, zero, rand)

    env = PointMassEnv(num_envs=64, seed=0)
    cfg = {"backbone": "mlp", "init_noise_std": 1.0, "actor": {"hidden_dims": [64, 64]},
           "critic": {"hidden_dims": [64, 64]}}
    model = build_actor_critic(cfg, obs_dims_from(env.reset()), env.num_actions)
    algo = {"num_steps_per_env": 25, "num_learning_epochs": 5, "num_mini_batches": 4,
            "actor_learning_rate": 1e-3, "critic_learning_rate": 1e-3, "gamma": 0.95, "lam": 0.95,
            "entropy_coef": 0.0, "max_grad_norm": 1.0}
    trainer = PPOTrainer(model, algo, env.num_envs, env.num_actions, seed=0)
    lines = []
    runner = Runner(env, trainer, progress=False, log_fn=lines.append)
    t0 = time.perf_counter()
    runner.learn(120)
    elapsed = time.perf_counter() - t0
    model.eval()
    achieved = evaluate_point_mass(lambda o: model.actor.act_inference(o))
    print(f"point mass: return {achieved:.2f} (optimal {optimal:.2f}, zero {zero:.2f}, random {rand:.2f}) "
          f"in {elapsed:.1f} s")
    assert len(lines) == 120 and lines[0].startswith("it      0 | fps")
    assert achieved > RETURN_THRESHOLD, (achieved, optimal)
