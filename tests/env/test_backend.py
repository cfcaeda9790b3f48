"""The MuJoCo backend and the tracking env on it: standing, resets onto the reference, exact replay, speed."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir

from sonic_deploy.motion.library import MotionLibrary
from sonic_train.cli.train import config_dir
from sonic_train.envs.factory import make_env
from sonic_train.envs.mujoco import MujocoBackend
from sonic_train.robots.g1 import G1

SMOKE = "+exp=manager/universal_token/all_modes/sonic_smoke"


def compose_cfg(*overrides: str):
    with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
        return compose("base", overrides=[SMOKE, *overrides])


@pytest.fixture(scope="module")
def library(synthetic_motions):
    return MotionLibrary.from_paths(synthetic_motions)


def test_g1_stands_under_hold_gains():
    be = MujocoBackend(4, G1, gains="hold", num_threads=2)
    targets = torch.as_tensor(G1.default_joint_pos, dtype=torch.float32).expand(4, 29)
    heights, speeds, forces = [], [], []
    for i in range(150):  # 3 s
        be.step(targets)
        if i >= 100:  # the last second
            s = be.read_state()
            heights.append(s.root_pos_w[:, 2])
            speeds.append(s.root_lin_vel_w.norm(dim=-1))
            forces.append(s.foot_contact_force.sum(-1))
    s = be.read_state()
    assert torch.stack(heights).min() > 0.72
    assert s.root_pos_w[:, :2].norm(dim=-1).max() < 0.1  # no walking away
    assert torch.stack(speeds).mean() < 0.1
    assert (s.joint_pos - targets).abs().max() < 0.07  # ankle pitch under the weight: 0.055 rad at 8x hold kp
    # the feet carry the robot's weight on average (33.3 kg * 9.81 = 327 N)
    mean_force = torch.stack(forces).mean()
    assert 250 < mean_force < 400, mean_force
    be.close()


def test_body_velocities_match_finite_differences():
    be = MujocoBackend(2, G1, num_threads=1)
    be.add_root_velocity(torch.arange(2), torch.tensor([[0.3, 0.0, 0.0]] * 2), torch.tensor([[0.0, 0.0, 1.0]] * 2))
    targets = torch.as_tensor(G1.default_joint_pos, dtype=torch.float32).expand(2, 29)
    be.step(targets)
    s0 = be.read_state()
    be.decimation = 1
    be.step(targets)
    s1 = be.read_state()
    fd = (s1.body_pos_w - s0.body_pos_w) / be.physics_dt
    mid = 0.5 * (s0.body_lin_vel_w + s1.body_lin_vel_w)
    assert (fd - mid).abs().max() < 0.05
    be.close()


def test_reset_puts_the_robot_on_the_reference_frame(synthetic_motions):
    cfg = compose_cfg("num_envs=6", f"+motions={synthetic_motions}")
    env = make_env(cfg, quiet=True)
    env.reset()
    e = env.unwrapped
    ref = e.command.ref
    assert torch.allclose(e.state.joint_pos, ref.joint_pos, atol=1e-5)
    assert torch.allclose(e.state.root_pos_w, ref.root_pos, atol=1e-5)
    assert torch.allclose(e.state.body_pos_w, ref.body_pos_w, atol=2e-4)
    # the clip's stored frame, not only the interpolation: a start time on a frame boundary
    lib = e.command.library
    e.command.times[:] = 10.0 / lib.fps[0]
    e.command.step(0.0)
    ids = torch.arange(6)
    e._place_on_reference(ids)
    s = e.backend.read_state()
    for i in range(6):
        clip = lib.clips[int(e.command.clip_ids[i])]
        np.testing.assert_allclose(s.joint_pos[i].numpy(), clip.joint_pos[10], atol=1e-5)
    env.close()


def test_replay_tracks_the_reference_exactly(synthetic_motions):
    cfg = compose_cfg("num_envs=4", f"+motions={synthetic_motions}")
    env = make_env(cfg, quiet=True, replay=True)
    env.reset()
    for _ in range(60):
        obs, rew, dones, info = env.step(torch.randn(4, 29))
        e = env.unwrapped
        live = ~dones
        assert torch.allclose(e.state.joint_pos[live], e.command.ref.joint_pos[live], atol=1e-5)
        for k in ("tracking_anchor_pos", "tracking_anchor_ori", "tracking_relative_body_pos",
                  "tracking_relative_body_ori", "tracking_body_linvel", "tracking_body_angvel"):
            assert info["episode"][f"rew/{k}"] > 0.999, k
        assert not info["terminated"].any()
    env.close()


def test_observation_contract_shapes_and_layout(synthetic_motions):
    cfg = compose_cfg("num_envs=3", f"+motions={synthetic_motions}")
    env = make_env(cfg, quiet=True)
    obs = env.reset()
    assert obs["policy"].shape == (3, 930)
    tok = obs["tokenizer"]
    dims = {k: v.shape[-1] for k, v in tok.items() if k != "encoder_index"}
    assert dims == {"command_joint_pos_future": 290, "command_joint_vel_future": 290, "command_anchor_ori_future": 60,
                    "smpl_joints_future": 720, "vr_3point_pos": 9, "vr_3point_ori": 18}
    assert tok["encoder_index"].dtype == torch.long and tok["encoder_index"].shape == (3,)
    layout = env.observation_layout()
    pol = layout["policy"]
    assert [r["name"] for r in pol] == ["base_ang_vel", "projected_gravity", "joint_pos_rel", "joint_vel", "last_action"]
    assert [r["history"] for r in pol] == [10] * 5 and sum(r["size"] for r in pol) == 930
    assert pol[3]["scale"] == 0.05
    # a freshly reset env's history is its current frame repeated: the projected gravity block is 10 copies
    g = obs["policy"][:, 30:60].reshape(3, 10, 3)
    assert torch.allclose(g, g[:, :1].expand(-1, 10, -1))
    env.close()


def test_env_steps_per_second_reported(synthetic_motions, capsys):
    cfg = compose_cfg("num_envs=32", f"+motions={synthetic_motions}")
    env = make_env(cfg, quiet=True)
    env.reset()
    a = torch.zeros(32, 29)
    env.step(a)
    t = time.perf_counter()
    n = 25
    for _ in range(n):
        env.step(a)
    rate = 32 * n / (time.perf_counter() - t)
    with capsys.disabled():
        print(f"\n[env] MuJoCo backend, 32 envs: {rate:.0f} env-steps/s ({4 * rate:.0f} physics steps/s)")
    assert rate > 100
    env.close()
