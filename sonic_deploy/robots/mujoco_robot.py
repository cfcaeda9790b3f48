"""In-process MuJoCo G1: the same scene and PD as training (actuator gains per command, dt 0.005, decimation 4).

``write_command`` writes the command's kp/kd into the position actuators (``set_pd_gains``), its q* into
``ctrl`` and ``tau + kd dq*`` into ``qfrc_applied``; ``advance`` steps physics. ``read_state`` returns what
the robot's ``rt/lowstate`` would carry (pelvis IMU sensors, joint q/dq/tau), optionally rounded to float32
as on the wire. Ground-truth accessors (body poses) are for evaluation only.
"""

from __future__ import annotations

import time

import mujoco
import numpy as np

from sonic_deploy.robots.base import JointCommand, RobotState
from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_deploy.robots.scene import SceneConfig, load_model, reset_to_default, set_pd_gains

SIM_TEMPERATURE = 35.0


class MujocoRobot:
    def __init__(self, spec: RobotSpec = G1, *, model: mujoco.MjModel | None = None, float32_io: bool = True,
                 clock=None):
        self.spec = spec
        self.model = model if model is not None else load_model(spec, SceneConfig(physics_dt=spec.physics_dt))
        self.data = mujoco.MjData(self.model)
        self.float32_io = float32_io
        self.clock = clock or time.monotonic
        n = spec.num_joints
        self._qadr = np.array([self.model.jnt_qposadr[self.model.joint(j).id] for j in spec.joint_names])
        self._dadr = np.array([self.model.jnt_dofadr[self.model.joint(j).id] for j in spec.joint_names])
        self._sens = {k: self._sensor_slice(f"imu_pelvis_{k}") for k in ("quat", "gyro", "acc")}
        self._kp = np.full(n, np.nan)
        self._kd = np.full(n, np.nan)
        self._neg_effort = -np.asarray(spec.effort_limit, np.float64)
        self.tick_ms = 0
        self.reset()

    def _sensor_slice(self, name: str) -> slice:
        s = self.model.sensor(name)
        return slice(int(s.adr[0]), int(s.adr[0] + s.dim[0]))

    # --- lifecycle -----------------------------------------------------------------------------------
    def reset(self, root_height: float | None = None) -> None:
        reset_to_default(self.model, self.data, self.spec, root_height)
        self.apply(JointCommand.passive(self.spec.num_joints))
        self.tick_ms = 0
        mujoco.mj_forward(self.model, self.data)

    def close(self) -> None:
        pass

    # --- Robot protocol ------------------------------------------------------------------------------
    def read_state(self) -> RobotState:
        d = self.data
        f = (lambda x: np.asarray(x, np.float32).astype(np.float64)) if self.float32_io else np.array
        n = self.spec.num_joints
        return RobotState(
            timestamp=self.clock(), q=f(d.qpos[self._qadr]), dq=f(d.qvel[self._dadr]), tau=f(d.actuator_force[:n]),
            imu_quat=f(d.sensordata[self._sens["quat"]]), imu_gyro=f(d.sensordata[self._sens["gyro"]]),
            imu_acc=f(d.sensordata[self._sens["acc"]]), temperature=np.full(n, SIM_TEMPERATURE),
            mode_machine=self.spec.mode_machine, tick=self.tick_ms)

    def write_command(self, cmd: JointCommand) -> None:
        if self.float32_io:
            cmd = JointCommand(*(np.asarray(a, np.float32).astype(np.float64) for a in (cmd.q, cmd.dq, cmd.tau, cmd.kp, cmd.kd)),
                               enable=cmd.enable)
        self.apply(cmd)

    def apply(self, cmd: JointCommand, enabled: np.ndarray | None = None) -> None:
        """Per-motor PD through the actuators: tau = tau_ff + kp (q* - q) + kd (dq* - dq), effort-limited."""
        n = self.spec.num_joints
        if enabled is None and cmd.enable:  # every motor on (the controller's commands): no masking
            kp, kd, q, ff = cmd.kp, cmd.kd, cmd.q, cmd.tau + cmd.kd * cmd.dq
        else:
            on = np.full(n, bool(cmd.enable)) if enabled is None else enabled.astype(bool)
            kp = np.where(on, cmd.kp, 0.0)
            kd = np.where(on, cmd.kd, 0.0)
            q = np.where(on, cmd.q, self.data.qpos[self._qadr])
            ff = np.where(on, cmd.tau + kd * cmd.dq, 0.0)
        if not (np.array_equal(kp, self._kp) and np.array_equal(kd, self._kd)):
            set_pd_gains(self.model, kp, kd)
            self._kp, self._kd = np.array(kp, np.float64), np.array(kd, np.float64)
        self.data.ctrl[:n] = q
        self.data.qfrc_applied[self._dadr] = np.minimum(np.maximum(ff, self._neg_effort), self.spec.effort_limit)

    def advance(self, duration: float | None = None, steps: int | None = None) -> None:
        """Step physics (``steps`` physics steps, or ``duration`` seconds; default one control period)."""
        if steps is None:
            steps = int(round((duration if duration is not None else self.spec.control_dt) / self.model.opt.timestep))
        for _ in range(steps):
            mujoco.mj_step(self.model, self.data)
        self.tick_ms += int(round(steps * self.model.opt.timestep * 1000))

    # --- ground truth (evaluation only) --------------------------------------------------------------
    @property
    def sim_time(self) -> float:
        return float(self.data.time)

    def body_ids(self, names) -> np.ndarray:
        return np.array([self.model.body(n).id for n in names])

    def body_pos_w(self, names) -> np.ndarray:
        return self.data.xpos[self.body_ids(names)].copy()

    def body_quat_w(self, names) -> np.ndarray:
        return self.data.xquat[self.body_ids(names)].copy()

    def root_pose(self) -> tuple[np.ndarray, np.ndarray]:
        return self.data.qpos[0:3].copy(), self.data.qpos[3:7].copy()
