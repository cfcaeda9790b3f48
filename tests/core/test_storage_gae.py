import torch

from sonic_train.modules.actor_critic import Actor, Critic, MLPBackbone, PolicyAndValueWrapper
from sonic_train.trainer.ppo import PPOTrainer
from sonic_train.trainer.storage import compute_gae

torch.set_num_threads(1)


def test_gae_hand_computed_with_done_and_time_out():
    """3 steps, 2 envs, gamma 0.9, lambda 0.8.

    env 0: step 1 terminates (done), step 2 is a time-out (done + time_out -> reward += gamma * V(s_2)).
    env 1: no episode end; bootstraps from last_value.
    """
    gamma, lam = 0.9, 0.8
    model = PolicyAndValueWrapper(Actor(MLPBackbone({"hidden_dims": [4]}, 1, 1), 1),
                                  Critic({"hidden_dims": [4], "normalize_obs": False}, 1))
    tr = PPOTrainer(model, {"num_steps_per_env": 3, "gamma": gamma, "lam": lam, "normalize_advantage": False},
                    num_envs=2, num_actions=1)
    values = [torch.tensor([0.5, 0.0]), torch.tensor([1.0, 0.0]), torch.tensor([1.5, 0.0])]
    rewards = [torch.tensor([1.0, 1.0]), torch.tensor([2.0, 1.0]), torch.tensor([3.0, 1.0])]
    dones = [torch.tensor([False, False]), torch.tensor([True, False]), torch.tensor([True, False])]
    time_outs = [torch.tensor([False, False]), torch.tensor([False, False]), torch.tensor([True, False])]
    obs = {"policy": torch.zeros(2, 1), "critic": torch.zeros(2, 1), "tokenizer": {}}
    for t in range(3):
        z = torch.zeros(2, 1)
        tr._pending = {"obs": obs, "actions": z, "values": values[t], "log_probs": torch.zeros(2), "mu": z, "sigma": z}
        tr.process_env_step(rewards[t], dones[t], {"time_outs": time_outs[t]})
    assert torch.allclose(tr.storage.rewards[:, 0], torch.tensor([1.0, 2.0, 3.0 + 0.9 * 1.5]))
    last_values = torch.tensor([7.0, 1.0])  # env 0's is never used (its last step is done)
    tr.storage.compute_returns(last_values, gamma, lam, normalize_advantage=False)
    # env 0: A2 = 4.35 - 1.5 = 2.85; A1 = 2 - 1 = 1.0; A0 = 1 + 0.9*1.0 - 0.5 + 0.72*1.0 = 2.12
    # env 1: A2 = 1 + 0.9*1 = 1.9; A1 = 1 + 0.72*1.9 = 2.368; A0 = 1 + 0.72*2.368 = 2.70496
    exp_adv = torch.tensor([[2.12, 2.70496], [1.0, 2.368], [2.85, 1.9]])
    assert torch.allclose(tr.storage.advantages, exp_adv, atol=1e-5)
    assert torch.allclose(tr.storage.returns, exp_adv + torch.stack(values), atol=1e-5)


def test_compute_gae_lambda_one_equals_discounted_return():
    r = torch.tensor([[1.0], [1.0], [1.0], [1.0]])
    v = torch.zeros(4, 1)
    d = torch.zeros(4, 1)
    adv, ret = compute_gae(r, v, d, torch.tensor([0.0]), gamma=0.5, lam=1.0)
    assert torch.allclose(ret[:, 0], torch.tensor([1.875, 1.75, 1.5, 1.0]))


def test_minibatches_cover_every_sample_once_per_epoch():
    model = PolicyAndValueWrapper(Actor(MLPBackbone({"hidden_dims": [4]}, 1, 1), 1),
                                  Critic({"hidden_dims": [4]}, 1))
    tr = PPOTrainer(model, {"num_steps_per_env": 4}, num_envs=3, num_actions=1)
    for t in range(4):
        obs = {"policy": torch.full((3, 1), float(t)), "critic": torch.arange(3.0).unsqueeze(1) + 10 * t}
        tr.act(obs)
        tr.process_env_step(torch.zeros(3), torch.zeros(3, dtype=torch.bool), {})
    seen = []
    for b in tr.storage.mini_batch_generator(2, 1, torch.Generator().manual_seed(0)):
        seen += b.obs["critic"][:, 0].tolist()
    assert sorted(seen) == sorted([float(c + 10 * t) for t in range(4) for c in range(3)])
