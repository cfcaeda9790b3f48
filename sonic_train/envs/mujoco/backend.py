"""CPU MuJoCo backend: ``num_envs`` MjData stepped in parallel by a thread pool over chunks.

``mj_step`` releases the GIL, so worker threads step their chunk of environments on separate cores (see
``benchmarks/env_throughput.py`` for the measured choice against ``mujoco.rollout`` and processes). The scene is
the robot spec's (``load_model``): PD runs inside MuJoCo as position actuators, so a control step is: write
``ctrl`` = joint targets, step x decimation.

A control step costs no more physics than raw ``mj_step``: the first physics step is ``mj_step2`` and the control
step ends with ``mj_step1`` of the new state, which is the position/velocity stage the next ``mj_step`` would run
anyway and leaves the post-step body poses, velocities and subtree centre of mass in MjData (bitwise the same as
``mj_step`` x decimation then ``mj_kinematics``/``mj_comPos``/``mj_comVel``). An env whose model or velocity was
changed since (randomisation, pushes) takes a full ``mj_step`` first. Each worker then copies its envs' arrays
into shared numpy buffers through views made once; :meth:`read_state` turns those buffers into a torch
:class:`RobotState` with batched array maths only.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import mujoco
import numpy as np
import torch

from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_deploy.robots.scene import SceneConfig, load_model, set_pd_gains
from sonic_deploy.utils.rotations import quat_apply, quat_apply_inverse
from sonic_train.envs.mdp.state import RobotState

_STATE_SPEC = mujoco.mjtState.mjSTATE_INTEGRATION
# model fields the randomisation writes (friction, mass, PD gains); kept for envs with a private model
_MODEL_FIELDS = ("geom_friction", "body_mass", "actuator_gainprm", "actuator_biasprm")
_RESUME_ARRAYS = ("ctrl", "qpos", "qvel", "xpos", "xquat", "cvel", "com", "cfrc")


def _as_np(x, dtype=np.float64) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def _tensor(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(x, copy=True))


class MujocoBackend:
    name = "mujoco"

    def __init__(self, num_envs: int, robot: RobotSpec = G1, scene: SceneConfig | None = None,
                 decimation: int | None = None, num_threads: int | None = None, device: str = "cpu",
                 contact_forces: bool = True, gains: str = "tracking"):
        scene = scene or SceneConfig(physics_dt=robot.physics_dt, gains=gains)
        self.robot = robot
        self.num_envs = int(num_envs)
        self.device = torch.device(device)
        self.model = load_model(robot, scene)
        self.physics_dt = float(self.model.opt.timestep)
        self.decimation = int(decimation or robot.decimation)
        self.control_dt = self.physics_dt * self.decimation
        self.contact_forces = bool(contact_forces)
        m = self.model
        self.body_names = tuple(m.body(i).name for i in range(1, m.nbody))
        self.joint_names = robot.joint_names
        self.nq, self.nv, self.nb, self.nu = m.nq, m.nv, m.nbody - 1, m.nu
        self.models = [m] * self.num_envs  # a private copy replaces the shared one at the first randomisation
        self.datas = [mujoco.MjData(m) for _ in range(self.num_envs)]
        self.base_kp = m.actuator_gainprm[:, 0].copy()  # [J] the scene's PD gains (randomisation scales these)
        self.base_kd = -m.actuator_biasprm[:, 2].copy()
        self._base_friction = m.geom_friction[:, 0].copy()
        self._base_mass = m.body_mass.copy()
        self._foot_geoms = np.array([i for i in range(m.ngeom)
                                     if "foot" in (m.geom(i).name or "") and m.geom_conaffinity[i]], dtype=np.int64)
        n, nb = self.num_envs, self.nb
        self.ctrl = np.zeros((n, self.nu))
        self.qpos = np.zeros((n, self.nq))
        self.qvel = np.zeros((n, self.nv))
        self.xpos = np.zeros((n, nb, 3))
        self.xquat = np.zeros((n, nb, 4))
        self.cvel = np.zeros((n, nb, 6))
        self.com = np.zeros((n, 3))
        self.cfrc = np.zeros((n, nb, 6))
        self._lever = np.zeros((n, nb, 3))  # read_state's scratch: body origin - subtree centre of mass
        self._cross_tmp = np.zeros((n, nb))
        # (source in MjData, destination row) views per env, made once: the copy-out is plain copies
        self._copies = [self._copy_views(i) for i in range(n)]
        self._fresh = np.zeros(n, dtype=bool)  # MjData holds mj_step1 of its current state (see the module doc)
        threads = int(num_threads or os.cpu_count() or 1)
        self.num_threads = max(1, min(threads, self.num_envs))
        self.chunks = [np.arange(i, self.num_envs, self.num_threads) for i in range(self.num_threads)]
        self.pool = ThreadPoolExecutor(self.num_threads - 1) if self.num_threads > 1 else None
        self.feet_ids = tuple(self.body_names.index(b) for b in robot.feet_bodies)
        for i in range(self.num_envs):
            self._reset_default(i)

    # ------------------------------------------------------------------ stepping
    def _copy_views(self, i: int) -> list[tuple[np.ndarray, np.ndarray]]:
        d = self.datas[i]
        pairs = [(d.qpos, self.qpos[i]), (d.qvel, self.qvel[i]), (d.xpos[1:], self.xpos[i]),
                 (d.xquat[1:], self.xquat[i]), (d.cvel[1:], self.cvel[i]), (d.subtree_com[1], self.com[i])]
        if self.contact_forces:
            pairs.append((d.cfrc_ext[1:], self.cfrc[i]))
        return pairs

    def _copy_out(self, i: int) -> None:
        for src, dst in self._copies[i]:
            np.copyto(dst, src)

    def _step_chunk(self, ids: np.ndarray) -> None:
        dec, fresh, ctrl = self.decimation, self._fresh, self.ctrl
        for i in ids:
            m, d = self.models[i], self.datas[i]
            np.copyto(d.ctrl, ctrl[i])
            if fresh[i]:
                mujoco.mj_step2(m, d)  # mj_step1 of this state ran at the end of the last control step
            else:
                mujoco.mj_step(m, d)
            for _ in range(dec - 1):
                mujoco.mj_step(m, d)
            if self.contact_forces:
                mujoco.mj_rnePostConstraint(m, d)  # contact forces of the last step's state
            mujoco.mj_step1(m, d)  # body poses and velocities of the post-step state (and the next step's start)
            if d.time == 0.0:  # mj_step1 found a diverged state and reset the data: report it as non-finite
                fresh[i] = False
                self._copy_out(i)
                self.qpos[i] = np.nan
                continue
            fresh[i] = True
            self._copy_out(i)

    def _run(self, fn) -> None:
        """``fn`` over every chunk: the pool takes all chunks but the last, this thread runs the last one."""
        if self.pool is None:
            fn(self.chunks[0])
            return
        futures = [self.pool.submit(fn, c) for c in self.chunks[:-1]]
        fn(self.chunks[-1])
        for f in futures:
            f.result()

    def step(self, joint_targets: torch.Tensor) -> None:
        """Hold ``joint_targets`` [N, J] for ``decimation`` physics steps in every env."""
        self.ctrl[:] = _as_np(joint_targets)
        self._run(self._step_chunk)

    def raw_step(self, nsteps: int = 1) -> None:
        """``mj_step`` every env ``nsteps`` times with the current ctrl, through the same pool (benchmarks)."""
        def fn(ids):
            for i in ids:
                m, d = self.models[i], self.datas[i]
                for _ in range(nsteps):
                    mujoco.mj_step(m, d)
        self._fresh[:] = False
        self._run(fn)

    # ------------------------------------------------------------------ state
    def read_state(self) -> RobotState:
        """The state of all envs as torch tensors (batched maths only, no per-env Python)."""
        f = lambda a: torch.from_numpy(a).to(self.device, torch.float32)  # noqa: E731
        qpos, qvel = self.qpos, self.qvel
        quat = qpos[:, 3:7]
        # free joint: linear velocity in world, angular velocity in the body frame
        w_local = qvel[:, 3:6]
        ang_w = quat_apply(quat, w_local)
        # cvel = [ang, lin] about the subtree centre of mass; move the linear part to each body origin
        ang_b = self.cvel[..., :3]
        lin_b = self.cvel[..., 3:] + self._cross_ang(ang_b, np.subtract(self.xpos, self.com[:, None, :], out=self._lever))
        return RobotState(
            body_names=self.body_names,
            root_pos_w=f(qpos[:, :3]), root_quat_w=f(quat), root_lin_vel_w=f(qvel[:, :3]), root_ang_vel_w=f(ang_w),
            joint_pos=f(qpos[:, 7:]), joint_vel=f(qvel[:, 6:]),
            body_pos_w=f(self.xpos), body_quat_w=f(self.xquat), body_lin_vel_w=f(lin_b), body_ang_vel_w=f(ang_b),
            body_contact_force_w=f(self.cfrc[..., 3:]), feet_ids=self.feet_ids,
        )

    def _cross_ang(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``np.cross(a, b)`` of [N, B, 3] arrays by its own component formulas (a1 b2 - a2 b1, ...: bitwise the
        same) into preallocated scratch, without np.cross's broadcasting set-up and temporaries."""
        out, tmp = np.empty_like(a), self._cross_tmp
        for k, (i, j) in enumerate(((1, 2), (2, 0), (0, 1))):
            np.multiply(a[..., i], b[..., j], out=out[..., k])
            np.multiply(a[..., j], b[..., i], out=tmp)
            out[..., k] -= tmp
        return out

    # ------------------------------------------------------------------ resets
    def _reset_default(self, i: int) -> None:
        m, d = self.models[i], self.datas[i]
        mujoco.mj_resetData(m, d)
        d.qpos[:3] = (0.0, 0.0, self.robot.default_root_height)
        d.qpos[3:7] = (1.0, 0.0, 0.0, 0.0)
        d.qpos[7:] = self.robot.default_joint_pos
        d.ctrl[:] = self.robot.default_joint_pos
        self.ctrl[i] = self.robot.default_joint_pos
        mujoco.mj_forward(m, d)
        self._fresh[i] = True
        self._copy_out(i)

    def reset_envs(self, env_ids, root_pos, root_quat, root_lin_vel_w, root_ang_vel_w, joint_pos, joint_vel) -> None:
        """Put ``env_ids`` on the given root pose/velocity (world) and joint state, at rest otherwise."""
        ids = _as_np(env_ids, np.int64).reshape(-1)
        rp, rq = _as_np(root_pos), _as_np(root_quat)
        rq = rq / np.linalg.norm(rq, axis=-1, keepdims=True)
        lv, av = _as_np(root_lin_vel_w), _as_np(root_ang_vel_w)
        av_local = quat_apply_inverse(rq, av)
        jp, jv = _as_np(joint_pos), _as_np(joint_vel)
        for k, i in enumerate(ids):
            m, d = self.models[i], self.datas[i]
            mujoco.mj_resetData(m, d)
            d.qpos[:3] = rp[k]
            d.qpos[3:7] = rq[k]
            d.qpos[7:] = jp[k]
            d.qvel[:3] = lv[k]
            d.qvel[3:6] = av_local[k]
            d.qvel[6:] = jv[k]
            d.ctrl[:] = jp[k]
            self.ctrl[i] = jp[k]
            mujoco.mj_forward(m, d)
            if self.contact_forces:
                mujoco.mj_rnePostConstraint(m, d)
            self._fresh[i] = True
            self._copy_out(i)

    # ------------------------------------------------------------------ randomisation
    def _own_model(self, i: int) -> mujoco.MjModel:
        self._fresh[i] = False  # the model changes: the next control step starts with a full mj_step
        if self.models[i] is self.model:
            self.models[i] = copy.copy(self.model)
        return self.models[i]

    def set_friction_scale(self, env_ids, scale) -> None:
        s = _as_np(scale)
        for k, i in enumerate(_as_np(env_ids, np.int64).reshape(-1)):
            m = self._own_model(i)
            m.geom_friction[self._foot_geoms, 0] = self._base_friction[self._foot_geoms] * s[k]

    def set_body_mass_delta(self, env_ids, body: str, delta) -> None:
        b = self.model.body(body).id
        dm = _as_np(delta)
        for k, i in enumerate(_as_np(env_ids, np.int64).reshape(-1)):
            m = self._own_model(i)
            m.body_mass[b] = max(self._base_mass[b] + dm[k], 0.1)

    def set_gain_scale(self, env_ids, kp_scale, kd_scale) -> None:
        kps, kds = _as_np(kp_scale), _as_np(kd_scale)
        for k, i in enumerate(_as_np(env_ids, np.int64).reshape(-1)):
            set_pd_gains(self._own_model(i), self.base_kp * kps[k], self.base_kd * kds[k])

    def add_root_velocity(self, env_ids, lin_vel_w, ang_vel_w) -> None:
        ids = _as_np(env_ids, np.int64).reshape(-1)
        lv, av = _as_np(lin_vel_w), _as_np(ang_vel_w)
        av_local = quat_apply_inverse(self.qpos[ids, 3:7], av)
        self._fresh[ids] = False
        for k, i in enumerate(ids):
            self.datas[i].qvel[:3] += lv[k]
            self.datas[i].qvel[3:6] += av_local[k]
            self.qvel[i] = self.datas[i].qvel

    # ------------------------------------------------------------------ exact resume
    def resume_state(self) -> dict[str, torch.Tensor | dict[str, torch.Tensor | None]]:
        """Per env the MuJoCo integration state, private model parameters and shared buffers, so that a resumed
        run takes the very same physics steps (see :mod:`sonic_train.envs.snapshot`)."""
        state = np.empty(mujoco.mj_stateSize(self.model, _STATE_SPEC))
        physics = []
        for m, d in zip(self.models, self.datas):
            mujoco.mj_getState(m, d, state, _STATE_SPEC)
            physics.append(state.copy())
        own = [i for i, m in enumerate(self.models) if m is not self.model]
        fields = {f: _tensor(np.stack([getattr(self.models[i], f) for i in own])) if own else None
                  for f in _MODEL_FIELDS}
        return {"physics": _tensor(np.stack(physics)), "own_models": torch.tensor(own, dtype=torch.long),
                "model_fields": fields, **{k: _tensor(getattr(self, k)) for k in _RESUME_ARRAYS},
                "_fresh": _tensor(self._fresh)}

    def load_resume_state(self, state: Mapping[str, Any]) -> None:
        """Put back what :meth:`resume_state` captured (resume of a checkpointed run)."""
        own = state["own_models"].tolist()
        for i in range(self.num_envs):
            if i not in own:
                self.models[i] = self.model  # randomised in this process but not in the captured one
        for k, i in enumerate(own):
            m = self._own_model(i)
            for f in _MODEL_FIELDS:
                np.copyto(getattr(m, f), state["model_fields"][f][k].numpy())
        for k in (*_RESUME_ARRAYS, "_fresh"):
            np.copyto(getattr(self, k), state[k].numpy())
        for i, (m, d) in enumerate(zip(self.models, self.datas)):
            mujoco.mj_setState(m, d, state["physics"][i].numpy(), _STATE_SPEC)
            if self._fresh[i]:
                mujoco.mj_step1(m, d)  # the stage a fresh env's next mj_step2 continues from

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None
