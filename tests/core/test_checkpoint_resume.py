import copy

import pytest
import torch
from sonic_core_fakes import SMALL_AC, FakeTokenEnv

from sonic_train.callbacks.model_save import (
    CheckpointError,
    ModelSaveCallback,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from sonic_train.modules.actor_critic import build_actor_critic, obs_dims_from
from sonic_train.trainer.ppo_aux import AuxLossPPOTrainer
from sonic_train.trainer.runner import Runner

torch.set_num_threads(1)
ALGO = {"num_steps_per_env": 6, "num_learning_epochs": 2, "num_mini_batches": 2, "actor_learning_rate": 1e-3,
        "critic_learning_rate": 1e-3, "schedule": "adaptive", "desired_kl": 0.01}
AUX = {"aux_scale": 1.0, "losses": {"g1_recon": {"type": "reconstruction", "coef": 1.0},
                                    "g1_smpl": {"type": "latent_alignment", "encoders": ["g1", "smpl"], "coef": 0.1}}}


def make_runner(seed: int, callbacks=()):
    torch.manual_seed(seed)
    env = FakeTokenEnv(num_envs=8, seed=seed)
    cfg = copy.deepcopy(SMALL_AC)
    obs = env.reset()
    model = build_actor_critic(cfg, obs_dims_from(obs), env.num_actions)
    tr = AuxLossPPOTrainer(model, ALGO, env.num_envs, env.num_actions, seed=seed, aux_losses=AUX)
    r = Runner(env, tr, callbacks=list(callbacks), progress=False, log_fn=lambda s: None)
    r.obs = obs
    return r


def params(r):
    return {k: v.clone() for k, v in r.trainer.model.state_dict().items()}


def test_resume_is_bit_identical(tmp_path):
    saver = ModelSaveCallback(tmp_path, save_interval=2, save_last=False)
    a = make_runner(0, [saver])
    a.learn(2)
    ckpt = tmp_path / "model_2.pt"
    assert ckpt.is_file() and saver.saved == [ckpt]
    a.callbacks.callbacks.clear()
    a.learn(3)
    pa = params(a)

    b = make_runner(99)  # different seed: everything must come from the checkpoint
    load_checkpoint(ckpt, b)
    assert b.iteration == 2
    b.learn(3)
    pb = params(b)
    assert b.iteration == a.iteration == 5
    assert pa.keys() == pb.keys()
    for k in pa:
        assert torch.equal(pa[k], pb[k]), k
    # the critic's normaliser statistics are part of the state and were updated
    assert float(pb["critic.normalizer.count"]) == 5 * 6 * 8
    # and the run moved the parameters at all
    c = make_runner(0)
    assert any(not torch.equal(c.trainer.model.state_dict()[k], pa[k]) for k in pa)


def test_checkpoint_loads_weights_only(tmp_path, monkeypatch):
    r = make_runner(0)
    r.learn(1)
    path = save_checkpoint(tmp_path / "model_1.pt", r)
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    ckpt = read_checkpoint(path)
    assert calls == [True]
    assert ckpt["iteration"] == 1
    # the file alone loads under the strict unpickler
    real_load(path, weights_only=True)
    assert not list(tmp_path.glob("*.tmp"))


def test_corrupt_or_truncated_checkpoint_names_the_file(tmp_path):
    r = make_runner(0)
    path = save_checkpoint(tmp_path / "model_0.pt", r)
    data = path.read_bytes()
    trunc = tmp_path / "truncated.pt"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated.pt"):
        load_checkpoint(trunc, make_runner(0))
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="garbage.pt"):
        read_checkpoint(garbage)
    with pytest.raises(CheckpointError, match="missing.pt"):
        read_checkpoint(tmp_path / "missing.pt")
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(CheckpointError, match="other.pt"):
        read_checkpoint(other)
