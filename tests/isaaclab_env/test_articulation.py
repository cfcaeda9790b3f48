"""The G1 on Isaac Lab 3 (Newton, MuJoCo Warp, CPU): asset, applied properties, standing, passive fall vs MuJoCo."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from sonic_deploy.robots.g1 import G1
from sonic_deploy.robots.scene import SceneConfig, load_model, reset_to_default
from sonic_train.envs.isaaclab import G1_USD, GROUND_USD
from sonic_train.envs.isaaclab.robot_cfg import G1_BODY_ORDER

from isaaclab_env_helpers import tilt_deg

DT = 0.005


def _mujoco_passive(gains: str, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Root height and pelvis tilt after every physics step of the MuJoCo scene (KNEES_BENT, targets = default)."""
    model = load_model(cfg=SceneConfig(gains=gains))
    data = mujoco.MjData(model)
    reset_to_default(model, data)
    h, q = [], []
    for _ in range(int(round(seconds / model.opt.timestep))):
        mujoco.mj_step(model, data)
        h.append(data.qpos[2])
        q.append(data.qpos[3:7].copy())
    return np.array(h), tilt_deg(np.array(q))


def _backend_from_experiment(gains: str):
    """The backend as ``sonic-train`` builds it: the smoke experiment composed with ``sim=isaaclab``; one env,
    decimation 1 (one physics step per ``step``) so the fall is sampled at every physics step like MuJoCo's."""
    from hydra import compose, initialize_config_dir

    from sonic_train.cli.train import config_dir
    from sonic_train.envs.factory import make_backend

    with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
        cfg = compose("base", overrides=["+exp=manager/universal_token/all_modes/sonic_smoke", "sim=isaaclab",
                                         f"sim.gains={gains}", "sim.decimation=1", "num_envs=1"])
    assert cfg.sim.backend == "isaaclab" and cfg.sim.physics == "newton"
    return make_backend(cfg.sim, int(cfg.num_envs), G1, device=str(cfg.device))


def _isaaclab_passive(make, gains: str, seconds: float) -> tuple[np.ndarray, np.ndarray, object]:
    b = make(builder=lambda: _backend_from_experiment(gains))
    target = torch.as_tensor(G1.default_joint_pos, dtype=torch.float32)[None]
    h, q = [], []
    for _ in range(int(round(seconds / DT))):
        b.step(target)
        s = b.read_state()
        h.append(float(s.root_pos_w[0, 2]))
        q.append(s.root_quat_w[0].numpy())
    return np.array(h), tilt_deg(np.array(q)), b


def _tip_time(tilts: np.ndarray) -> float:
    return (int(np.argmax(tilts > 10.0)) + 1) * DT if tilts.max() > 10.0 else float("inf")


def test_usd_holds_the_spec_robot():
    from pxr import Usd, UsdPhysics

    stage = Usd.Stage.Open(str(G1_USD))
    joints = [p.GetName() for p in stage.Traverse() if p.IsA(UsdPhysics.RevoluteJoint)]
    bodies = [p.GetName() for p in stage.Traverse() if p.HasAPI(UsdPhysics.RigidBodyAPI)]
    assert sorted(joints) == sorted(G1.joint_names)
    assert sorted(bodies) == sorted(G1_BODY_ORDER)
    meshes = [p for p in stage.Traverse() if p.GetTypeName() == "Mesh"]
    assert not meshes, "the committed asset is physics only"
    ground = Usd.Stage.Open(str(GROUND_USD))
    assert [p.GetTypeName() for p in ground.Traverse()].count("Plane") == 1


def test_spec_values_reach_the_simulator(isaaclab_backend):
    """Gains, armature, effort and position limits, default pose and masses, read back from the articulation."""
    b = isaaclab_backend(num_envs=2, gains="tracking")
    p = b.applied_joint_properties()
    f32 = dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p["stiffness"].numpy(), G1.kp, **f32)
    np.testing.assert_allclose(p["damping"].numpy(), G1.kd, **f32)
    np.testing.assert_allclose(p["armature"].numpy(), G1.armature, **f32)
    np.testing.assert_allclose(p["effort_limit"].numpy(), G1.effort_limit, **f32)
    np.testing.assert_allclose(p["lower"].numpy(), G1.joint_lower, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(p["upper"].numpy(), G1.joint_upper, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(p["default_joint_pos"].numpy(), G1.default_joint_pos, atol=1e-6)
    model = load_model()
    np.testing.assert_allclose(p["body_mass"].numpy(), model.body_mass[1:], rtol=1e-5)
    assert b.body_names == tuple(model.body(i).name for i in range(1, model.nbody))
    s = b.read_state()
    assert s.root_pos_w[:, 2].tolist() == pytest.approx([G1.default_root_height] * 2, abs=1e-6)
    assert s.root_quat_w.tolist() == [[1.0, 0.0, 0.0, 0.0]] * 2
    np.testing.assert_allclose(s.joint_pos.numpy(), np.tile(G1.default_joint_pos, (2, 1)), atol=1e-6)


def test_hold_gains_stand_for_two_seconds(isaaclab_backend):
    """The hold gains (G1.hold_kp/hold_kd) stand: height within 1 cm of 0.76 m over the last 0.5 s, no tip.

    The stand rocks a few degrees before settling (measured at the former 10x gains: max tilt 5.41 degrees, 3.8 at
    2 s; at the measured 8x kp, ankles 16x kp / 2x kd, the MuJoCo scene peaks at 1.53 and is at 0.79 at 2 s,
    tests/foundation; Isaac Lab the same to 0.01 degree); both
    simulators settle the same way (max tilt within 1 degree of each other, final tilt within 0.5 degree).
    """
    h, tilts, _ = _isaaclab_passive(isaaclab_backend, "hold", 2.0)
    hm, tm = _mujoco_passive("hold", 2.0)
    print(f"\n[stand] isaaclab h(2)={h[-1]:.4f} max tilt={tilts.max():.2f} final={tilts[-1]:.2f}  "
          f"mujoco h(2)={hm[-1]:.4f} max tilt={tm.max():.2f} final={tm[-1]:.2f}")
    assert abs(h[-1] - G1.default_root_height) < 0.01, h[-1]
    assert np.all(np.abs(h[-100:] - G1.default_root_height) < 0.01)
    assert tilts.max() < 6.0
    assert abs(tilts.max() - tm.max()) < 1.0
    assert abs(tilts[-1] - tm[-1]) < 0.5


def test_tracking_gains_passive_fall_follows_mujoco(isaaclab_backend):
    """Same sink and same tip as the MuJoCo scene: height at 0.5 s within 2 mm, tip within 0.03 s.

    Measured (CPU): Isaac Lab 3 Newton/MuJoCo Warp 0.73358 m at 0.5 s, tip at 0.930 s; the MuJoCo scene in this
    environment (mujoco 3.12) 0.73358 m and 0.930 s, pinned in the main environment (mujoco 4.0) 0.7336 m, 0.935 s.
    """
    h, tilts, b = _isaaclab_passive(isaaclab_backend, "tracking", 1.5)
    s = b.read_state()
    hm, tm = _mujoco_passive("tracking", 1.5)
    print(f"\n[fall] isaaclab h(0.5)={h[99]:.5f} tip={_tip_time(tilts):.3f}  "
          f"mujoco h(0.5)={hm[99]:.5f} tip={_tip_time(tm):.3f}")
    assert h[99] == pytest.approx(hm[99], abs=2e-3)
    assert h[99] == pytest.approx(0.7336, abs=2e-3)  # the MuJoCo scene's pinned figure (mujoco 4.0)
    assert _tip_time(tilts) == pytest.approx(_tip_time(tm), abs=0.03)
    assert _tip_time(tilts) == pytest.approx(0.935, abs=0.03)
    assert h[-1] < 0.6  # on the floor by 1.5 s
    # lying on the floor: some non-foot body carries a contact force
    non_feet = [i for i in range(len(s.body_names)) if i not in s.feet_ids]
    assert s.body_contact_force_w[0, non_feet].norm(dim=-1).max() > 1.0


def test_physx_config_is_the_same_robot_and_refuses_clearly_without_isaac_sim():
    """sim.physics=physx: the same articulation (USD, gains, pose, orderings) on PhysX; without Isaac Sim (here)
    the backend says what is missing instead of exiting."""
    from sonic_train.envs.factory import BackendUnavailable
    from sonic_train.envs.isaaclab.backend import IsaacLabBackend
    from sonic_train.envs.isaaclab.env_cfg import make_env_cfg

    newton, physx = make_env_cfg(2, physics="newton"), make_env_cfg(2, physics="physx", device="cuda:0")
    assert type(physx.sim.physics).__name__ == "PhysxCfg" and type(newton.sim.physics).__name__ == "NewtonCfg"
    rn, rp = newton.scene.robot, physx.scene.robot
    assert rp.spawn.usd_path == rn.spawn.usd_path == str(G1_USD)
    assert rp.joint_ordering == rn.joint_ordering == G1.joint_names
    assert rp.body_ordering == rn.body_ordering == G1_BODY_ORDER
    assert rp.init_state == rn.init_state
    for name in G1.joint_names:
        a, b = rp.actuators[name], rn.actuators[name]
        assert (a.stiffness, a.damping, a.armature, a.effort_limit_sim) == (
            b.stiffness, b.damping, b.armature, b.effort_limit_sim)
    try:
        import isaacsim  # noqa: F401
    except ImportError:
        with pytest.raises(BackendUnavailable, match="Isaac Sim"):
            IsaacLabBackend(num_envs=1, physics="physx", device="cpu")


def test_randomisation_hooks_reach_the_simulator(isaaclab_backend):
    """Friction, mass, PD gains and pushes act on the chosen envs only (what sonic's events call)."""
    b = isaaclab_backend(num_envs=2, gains="tracking")
    b.set_friction_scale(torch.tensor([1]), torch.tensor([0.5]))
    mu = b._friction_view[:, b._foot_shapes]
    assert torch.allclose(mu[0], torch.full_like(mu[0], 0.6)) and torch.allclose(mu[1], torch.full_like(mu[1], 0.3))
    torso = b.body_names.index("torso_link")
    base = float(b.applied_joint_properties()["body_mass"][torso])
    b.set_body_mass_delta(torch.tensor([1]), "torso_link", torch.tensor([2.0]))
    masses = b.articulation.data.body_mass.torch[:, torso]
    assert masses.tolist() == pytest.approx([base, base + 2.0], abs=1e-5)
    b.set_gain_scale(torch.tensor([0]), torch.full((1, 29), 1.1), torch.full((1, 29), 0.9))
    kp = b.articulation.data.joint_stiffness.torch
    np.testing.assert_allclose(kp[0].numpy(), 1.1 * G1.kp, rtol=1e-5)
    np.testing.assert_allclose(kp[1].numpy(), G1.kp, rtol=1e-5)
    b.add_root_velocity(torch.tensor([0]), torch.tensor([[0.5, 0.0, 0.0]]), torch.zeros(1, 3))
    v = b.read_state().root_lin_vel_w
    assert float(v[0, 0]) == pytest.approx(0.5, abs=1e-4) and float(v[1, 0]) == pytest.approx(0.0, abs=1e-4)


def test_building_the_backend_leaves_the_run_seeding_alone(isaaclab_backend):
    """Isaac Lab seeds torch/numpy/random when its env starts; the backend restores the run's generators, so
    ``seed=`` means the same on every backend (the model's initial weights come from it)."""
    torch.manual_seed(123)
    np.random.seed(123)
    expect_t, expect_n = torch.rand(3), np.random.rand(3)
    torch.manual_seed(123)
    np.random.seed(123)
    isaaclab_backend(num_envs=1)
    assert torch.equal(torch.rand(3), expect_t)
    assert np.array_equal(np.random.rand(3), expect_n)
