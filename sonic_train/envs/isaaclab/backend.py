"""Isaac Lab backend: the sonic backend interface over an Isaac Lab ``ManagerBasedRLEnv``.

Same contract as :class:`sonic_train.envs.mujoco.MujocoBackend`: ``step(joint_targets)`` holds the targets for
``decimation`` physics steps (PD inside the simulator), ``read_state()`` returns a
:class:`~sonic_train.envs.mdp.state.RobotState` (wxyz quaternions, world frame, bodies in the MuJoCo scene's order,
linear velocities at the body frame origins, contact force on every body), ``reset_envs`` puts envs on a given
state, and the randomisation hooks (friction, mass, gains, pushes) act on the articulation. Isaac Lab 3 keeps
quaternions as (x, y, z, w): converted at this boundary and nowhere else.

Physics: ``physics="newton"`` (kit-less: Newton with the MuJoCo Warp solver, CPU or CUDA) or ``"physx"`` (Isaac Sim
with PhysX, RTX servers; the PhysX path needs Isaac Sim's app running, see README.md beside this file).
"""

from __future__ import annotations

import os
import random
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_train.envs.backend import BackendUnavailable
from sonic_train.envs.mdp.state import RobotState


def _xyzw_to_wxyz(q: torch.Tensor) -> torch.Tensor:
    return torch.cat([q[..., 3:4], q[..., :3]], dim=-1)


def _wxyz_to_xyzw(q: torch.Tensor) -> torch.Tensor:
    return torch.cat([q[..., 1:], q[..., :1]], dim=-1)


def _t(x) -> torch.Tensor:
    return x.torch if hasattr(x, "torch") else x


def _save_rng() -> tuple:
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    return random.getstate(), np.random.get_state(), torch.get_rng_state(), cuda


def _restore_rng(state: tuple) -> None:
    py, npy, cpu, cuda = state
    random.setstate(py)
    np.random.set_state(npy)
    torch.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state_all(cuda)


def default_warp_cache() -> str:
    """Warp's kernel cache: the repository's ``.cache/warp`` (ignored by git) unless ``WARP_CACHE_PATH`` is set."""
    return os.environ.setdefault("WARP_CACHE_PATH", str(Path(__file__).resolve().parents[3] / ".cache" / "warp"))


class IsaacLabBackend:
    name = "isaaclab"

    def __init__(self, num_envs: int, robot: RobotSpec = G1, physics: str = "newton", device: str = "cpu",
                 physics_dt: float | None = None, decimation: int | None = None, gains: str = "tracking",
                 env_spacing: float = 2.5, seed: int = 0, physics_overrides: dict | None = None,
                 contact_forces: bool = True, state_device: str | None = None):
        default_warp_cache()
        from isaaclab.envs import ManagerBasedRLEnv  # optional heavy dependency: isaaclab (.venv-isaaclab)

        from sonic_train.envs.isaaclab.env_cfg import make_env_cfg  # imports isaaclab
        from sonic_train.envs.isaaclab.robot_cfg import G1_BODY_ORDER  # imports isaaclab

        self.robot = robot
        self.physics = physics
        self.num_envs = int(num_envs)
        self.cfg = make_env_cfg(num_envs, robot, physics=physics, device=device, physics_dt=physics_dt,
                                decimation=decimation, gains=gains, env_spacing=env_spacing, seed=seed,
                                physics_overrides=physics_overrides)
        # Isaac Lab's launcher: a no-op for kit-less Newton; starts Isaac Sim (Kit, headless) for PhysX
        from isaaclab.app.sim_launcher import launch_simulation  # optional heavy dependency: isaaclab

        self._runtime = ExitStack()
        try:
            self._runtime.enter_context(launch_simulation(self.cfg, {"headless": True, "device": str(device)}))
        except SystemExit as exc:  # Isaac Lab exits when the runtime it needs (Isaac Sim for PhysX) is missing
            raise BackendUnavailable(
                f"sim=isaaclab sim.physics={physics}: Isaac Lab could not start its runtime (PhysX needs Isaac Sim "
                "and an RTX GPU; see sonic_train/envs/isaaclab/README.md); sim.physics=newton runs kit-less"
            ) from exc
        rng = _save_rng()  # Isaac Lab reseeds the process-wide generators; the run's own seeding stays in charge
        try:
            self.env = ManagerBasedRLEnv(self.cfg)
        except BaseException:
            self._runtime.close()
            raise
        finally:
            _restore_rng(rng)
        self.sim_device = torch.device(self.env.device)
        self.device = torch.device(state_device) if state_device else self.sim_device
        self.physics_dt = float(self.cfg.sim.dt)
        self.decimation = int(self.cfg.decimation)
        self.control_dt = self.physics_dt * self.decimation
        self.contact_forces = bool(contact_forces)
        self.articulation = self.env.scene["robot"]
        self.sensor = self.env.scene["contact_forces"]
        art = self.articulation
        if tuple(art.joint_names) != tuple(robot.joint_names):
            raise RuntimeError(f"articulation joint order {art.joint_names} is not the spec's {robot.joint_names}")
        if tuple(art.body_names) != G1_BODY_ORDER:
            raise RuntimeError(f"articulation body order {art.body_names} is not the MuJoCo scene's")
        self.body_names = tuple(art.body_names)
        self.joint_names = tuple(robot.joint_names)
        names = list(getattr(self.sensor, "sensor_names", None) or self.sensor.body_names)
        self._sensor_ids = torch.tensor([names.index(b) for b in self.body_names], device=self.sim_device)
        self.feet_ids = tuple(self.body_names.index(b) for b in robot.feet_bodies)
        self._origins = self.env.scene.env_origins.clone()  # [N, 3]: each env's offset in the shared world
        self.targets = torch.as_tensor(robot.default_joint_pos, dtype=torch.float32,
                                       device=self.sim_device).repeat(self.num_envs, 1)
        self._env_kp = _t(art.data.joint_stiffness).clone()  # [N, J]: randomisation scales these
        self._env_kd = _t(art.data.joint_damping).clone()
        # per-joint gains as the MuJoCo backend exposes them (the ONNX export reads the contract's kp/kd here)
        self.base_kp = self._env_kp[0].cpu().numpy().astype("float64")
        self.base_kd = self._env_kd[0].cpu().numpy().astype("float64")
        self._base_mass = _t(art.data.body_mass).clone()
        self.env.reset()
        ids = torch.arange(self.num_envs, device=self.sim_device)
        z = torch.zeros(self.num_envs, 3, device=self.sim_device)
        pos = z.clone()
        pos[:, 2] = robot.default_root_height
        quat = torch.tensor([1.0, 0.0, 0.0, 0.0], device=self.sim_device).repeat(self.num_envs, 1)
        self.reset_envs(ids, pos, quat, z, z, self.targets.clone(), torch.zeros_like(self.targets))

    # ------------------------------------------------------------------ stepping
    def step(self, joint_targets: torch.Tensor) -> None:
        """Hold ``joint_targets`` [N, J] for ``decimation`` physics steps in every env."""
        self.targets[:] = torch.as_tensor(joint_targets, dtype=torch.float32).to(self.sim_device)
        self.env.step(self.targets)

    def raw_step(self, nsteps: int = 1) -> None:
        """``nsteps`` physics steps with the current targets (benchmarks)."""
        env = self.env
        env.action_manager.process_action(self.targets)
        for _ in range(nsteps):
            env.action_manager.apply_action()
            env.scene.write_data_to_sim()
            env.sim.step(render=False)
            env.scene.update(dt=self.physics_dt)

    # ------------------------------------------------------------------ state
    def read_state(self) -> RobotState:
        d = self.articulation.data
        f = lambda x: _t(x).to(self.device, torch.float32)  # noqa: E731
        origins = self._origins.to(self.device)
        body_pos = f(d.body_link_pos_w) - origins[:, None, :]
        if self.contact_forces:
            forces = f(_t(self.sensor.data.net_forces_w)[:, self._sensor_ids])
        else:
            forces = torch.zeros_like(body_pos)
        return RobotState(
            body_names=self.body_names,
            root_pos_w=f(d.root_link_pos_w) - origins, root_quat_w=_xyzw_to_wxyz(f(d.root_link_quat_w)),
            root_lin_vel_w=f(d.root_link_lin_vel_w), root_ang_vel_w=f(d.root_link_ang_vel_w),
            joint_pos=f(d.joint_pos).clone(), joint_vel=f(d.joint_vel).clone(),
            body_pos_w=body_pos, body_quat_w=_xyzw_to_wxyz(f(d.body_link_quat_w)),
            body_lin_vel_w=f(d.body_link_lin_vel_w).clone(), body_ang_vel_w=f(d.body_link_ang_vel_w).clone(),
            body_contact_force_w=forces.clone(), feet_ids=self.feet_ids,
        )

    # ------------------------------------------------------------------ resets
    def reset_envs(self, env_ids, root_pos, root_quat, root_lin_vel_w, root_ang_vel_w, joint_pos, joint_vel) -> None:
        """Put ``env_ids`` on the given root pose/velocity (world, wxyz) and joint state; targets = joint_pos."""
        dev = self.sim_device
        g = lambda x: torch.as_tensor(x, dtype=torch.float32).to(dev)  # noqa: E731
        ids = torch.as_tensor(env_ids, dtype=torch.long).to(dev).reshape(-1)
        q = g(root_quat)
        q = q / q.norm(dim=-1, keepdim=True)
        pose = torch.cat([g(root_pos) + self._origins[ids], _wxyz_to_xyzw(q)], dim=-1)
        vel = torch.cat([g(root_lin_vel_w), g(root_ang_vel_w)], dim=-1)
        art = self.articulation
        art.write_root_link_pose_to_sim_index(root_pose=pose, env_ids=ids)
        art.write_root_link_velocity_to_sim_index(root_velocity=vel, env_ids=ids)
        art.write_joint_state_to_sim_index(position=g(joint_pos), velocity=g(joint_vel), env_ids=ids)
        self.targets[ids] = g(joint_pos)
        art.set_joint_position_target_index(target=self.targets[ids], env_ids=ids)
        self.env.sim.forward()
        self.env.scene.update(dt=0.0)

    # ------------------------------------------------------------------ randomisation
    def set_friction_scale(self, env_ids, scale) -> None:
        """Scale the feet's friction per env (the MuJoCo backend scales the foot geoms' sliding friction)."""
        if self.physics != "newton":
            raise NotImplementedError("sim.physics=physx: foot friction randomisation goes through PhysX materials, "
                                      "not wired yet; drop the friction event (events.terms.friction=null)")
        import warp as wp  # optional heavy dependencies of physics=newton
        from newton import ModelFlags

        if not hasattr(self, "_friction_view"):
            mgr = self.env.sim.physics_manager
            binding = self.articulation._root_view.get_attribute("shape_material_mu", mgr.get_model())[:, 0]
            self._friction_view = wp.to_torch(binding)
            base = self._friction_view[0].clone()
            # the foot capsules are the robot's only shapes with the foot friction of the scene (0.6)
            self._foot_shapes = torch.nonzero((base - 0.6).abs() < 1e-4).flatten()
            self._base_friction = base[self._foot_shapes]
            if len(self._foot_shapes) != 14:
                raise RuntimeError(f"expected 14 foot collision shapes, found {len(self._foot_shapes)}")
        dev = self._friction_view.device
        ids = torch.as_tensor(env_ids, dtype=torch.long).to(dev).reshape(-1)
        s = torch.as_tensor(scale, dtype=torch.float32).to(dev).reshape(-1, 1)
        self._friction_view[ids[:, None], self._foot_shapes[None, :]] = self._base_friction[None, :] * s
        self.env.sim.physics_manager.add_model_change(ModelFlags.SHAPE_PROPERTIES)

    def set_body_mass_delta(self, env_ids, body: str, delta) -> None:
        dev = self.sim_device
        ids = torch.as_tensor(env_ids, dtype=torch.long).to(dev).reshape(-1)
        b = self.body_names.index(body)
        mass = (self._base_mass[ids, b] + torch.as_tensor(delta, dtype=torch.float32).to(dev)).clamp_min(0.1)
        self.articulation.set_masses_index(masses=mass[:, None], body_ids=[b], env_ids=ids)

    def set_gain_scale(self, env_ids, kp_scale, kd_scale) -> None:
        dev = self.sim_device
        ids = torch.as_tensor(env_ids, dtype=torch.long).to(dev).reshape(-1)
        # [n] (one scale per env) or [n, J] (per env and joint, as sonic's randomize_pd_gains draws them)
        kps = torch.as_tensor(kp_scale, dtype=torch.float32).to(dev).reshape(len(ids), -1)
        kds = torch.as_tensor(kd_scale, dtype=torch.float32).to(dev).reshape(len(ids), -1)
        art = self.articulation
        art.write_joint_stiffness_to_sim_index(stiffness=self._env_kp[ids] * kps, env_ids=ids)
        art.write_joint_damping_to_sim_index(damping=self._env_kd[ids] * kds, env_ids=ids)

    def add_root_velocity(self, env_ids, lin_vel_w, ang_vel_w) -> None:
        dev = self.sim_device
        ids = torch.as_tensor(env_ids, dtype=torch.long).to(dev).reshape(-1)
        d = self.articulation.data
        vel = torch.cat([_t(d.root_link_lin_vel_w)[ids] + torch.as_tensor(lin_vel_w, dtype=torch.float32).to(dev),
                         _t(d.root_link_ang_vel_w)[ids] + torch.as_tensor(ang_vel_w, dtype=torch.float32).to(dev)],
                        dim=-1)
        self.articulation.write_root_link_velocity_to_sim_index(root_velocity=vel, env_ids=ids)

    # ------------------------------------------------------------------ introspection
    def applied_joint_properties(self) -> dict[str, Any]:
        """What the simulator holds for the joints (to check the spec reached it)."""
        d = self.articulation.data
        lim = _t(d.joint_pos_limits)
        return {"stiffness": _t(d.joint_stiffness)[0].cpu(), "damping": _t(d.joint_damping)[0].cpu(),
                "armature": _t(d.joint_armature)[0].cpu(), "effort_limit": _t(d.joint_effort_limits)[0].cpu(),
                "lower": lim[0, :, 0].cpu(), "upper": lim[0, :, 1].cpu(),
                "default_joint_pos": _t(d.default_joint_pos)[0].cpu(), "body_mass": _t(d.body_mass)[0].cpu()}

    def close(self) -> None:
        env = getattr(self, "env", None)
        if env is not None:
            env.close()
            self.env = None
        runtime = getattr(self, "_runtime", None)
        if runtime is not None:
            self._runtime = None
            runtime.close()
