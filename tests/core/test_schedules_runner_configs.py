import os

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from sonic_core_fakes import FakeTokenEnv

from sonic_train.callbacks.base import Callback
from sonic_train.modules.actor_critic import build_actor_critic
from sonic_train.trainer.builder import build_runner
from sonic_train.trainer.schedules import Schedule, ScheduleManager

torch.set_num_threads(1)
CONFIG_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "configs")
SMOKE = "+exp=manager/universal_token/all_modes/sonic_smoke"
RELEASE = "+exp=manager/universal_token/all_modes/sonic_release"


def _compose(*overrides):
    with initialize_config_dir(config_dir=os.path.abspath(CONFIG_DIR), version_base="1.3"):
        return compose("base", overrides=list(overrides))


def test_schedule_kinds():
    lin = Schedule("a.b", "linear", start=1.0, end=0.0, start_iter=10, end_iter=20)
    assert [lin.value_at(i) for i in (0, 10, 15, 20, 99)] == [1.0, 1.0, 0.5, 0.0, 0.0]
    step = Schedule("a.b", "step", values=[3, 2, 1], milestones=[5, 8])
    assert [step.value_at(i) for i in (0, 4, 5, 7, 8, 100)] == [3, 3, 2, 2, 1, 1]
    assert Schedule("a.b", "constant", value=7).value_at(123) == 7
    with pytest.raises(ValueError):
        Schedule("a.b", "cosine")
    with pytest.raises(ValueError):
        Schedule("a.b", "step", values=[1, 2], milestones=[])


def test_schedules_set_config_values_and_learning_rates():
    cfg = _compose(SMOKE, "num_envs=8", "callbacks={}", "algo.config.num_steps_per_env=4",
                   "algo.config.num_learning_epochs=1",
                   "+schedules=[{path: algo.config.actor_learning_rate, kind: linear, start: 1e-3, end: 0.0, "
                   "start_iter: 0, end_iter: 4}, {path: algo.config.entropy_coef, kind: step, values: [0.1, 0.0], "
                   "milestones: [2]}]")
    env = FakeTokenEnv(num_envs=8)
    seen = []

    class Spy(Callback):
        def on_update_end(self, iteration, stats):
            seen.append((iteration, stats["lr/actor"], float(self.runner.cfg.algo.config.entropy_coef)))

    runner = build_runner(cfg, env, callbacks=[Spy()])
    runner.progress = False
    runner.log_fn = lambda s: None
    runner.learn(4)
    assert [s[0] for s in seen] == [0, 1, 2, 3]
    assert [s[1] for s in seen] == pytest.approx([1e-3, 7.5e-4, 5e-4, 2.5e-4])
    assert [s[2] for s in seen] == [0.1, 0.1, 0.0, 0.0]


def test_runner_prints_a_line_per_iteration_and_calls_callbacks(tmp_path):
    cfg = _compose(SMOKE, "num_envs=8", f"experiment_dir={tmp_path}", "algo.config.num_steps_per_env=8",
                   "algo.config.save_interval=2", "+callbacks=wandb", "opt.wandb.mode=offline")
    env = FakeTokenEnv(num_envs=8, episode_length=5)
    runner = build_runner(cfg, env)
    events = []

    class Rec(Callback):
        def on_train_start(self, runner):
            super().on_train_start(runner)
            events.append("start")

        def on_rollout_end(self, iteration):
            events.append(f"rollout{iteration}")

        def on_update_end(self, iteration, stats):
            events.append(f"update{iteration}")

        def on_train_end(self):
            events.append("end")

    runner.callbacks.callbacks.append(Rec())
    lines = []
    runner.log_fn = lines.append
    runner.progress = False
    stats = runner.learn(3)
    assert events == ["start", "rollout0", "update0", "rollout1", "update1", "rollout2", "update2", "end"]
    assert len(lines) == 3
    for i, line in enumerate(lines):
        assert line.startswith(f"it {i:6d} | fps")
        assert "reward" in line and "ep_len" in line and "policy=" in line and "aux=" in line
    assert stats["train/mean_episode_length"] <= 5.0 and stats["train/mean_reward"] > 0
    assert "episode/rew_track" in stats
    assert sorted(p.name for p in tmp_path.glob("model_*.pt")) == ["model_2.pt", "model_3.pt"]
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert list((tmp_path / "wandb").glob("offline-run-*"))


def test_base_config_loads_alone_and_sonic_release_size():
    base = _compose()
    assert base.algo.config.num_steps_per_env == 32 and base.algo.config.actor_learning_rate == 2e-5
    assert base.algo.config.critic_learning_rate == 1e-3 and base.algo.config.init_noise_std == 0.05
    assert base.algo.config.save_interval == 500 and base.actor_critic.latent_residual_mode == "post_quantization"
    cfg = _compose(RELEASE)
    # G1 tokenizer dims (10 future frames) and a 930-d policy history, as in the preset's comment
    dims = {"policy": 930, "critic": 600,
            "tokenizer": {"command_joint_pos_future": 290, "command_joint_vel_future": 290,
                          "command_anchor_ori_future": 60, "smpl_joints_future": 720, "vr_3point_pos": 9,
                          "vr_3point_ori": 18, "encoder_index": 1}}
    model = build_actor_critic(cfg, dims, 29)
    tok = model.actor.backbone
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    enc_dec = count(tok.encoders) + count(tok.decoders)
    print(f"sonic_release: encoders {count(tok.encoders) / 1e6:.2f} M, g1_dyn {count(tok.decoders['g1_dyn']) / 1e6:.2f} M, "
          f"g1_kin {count(tok.decoders['g1_kin']) / 1e6:.2f} M, critic {count(model.critic) / 1e6:.2f} M")
    assert 15.5e6 < enc_dec < 17.5e6, enc_dec
    assert OmegaConf.select(cfg, "actor_critic.init_noise_std") == 0.05
