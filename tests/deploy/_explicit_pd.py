"""A G1 stand-in whose motors run the PD explicitly, as a motor driver fed at the command rate: every ``pd_dt``
(2 ms, 500 Hz) the torque tau = tau_ff + kp (q* - q) + kd (dq* - dq) is computed in Python from the state at the
start of the interval and held for it (effort-limited), over MuJoCo physics at 1 kHz with the actuators' own PD
switched off. The scene's PD-as-actuators with implicitfast is forgiving of stiff gains; this is not."""

from __future__ import annotations

import mujoco
import numpy as np

from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_deploy.robots.mujoco_robot import MujocoRobot
from sonic_deploy.robots.scene import SceneConfig, load_model


class ExplicitPdRobot(MujocoRobot):
    def __init__(self, spec: RobotSpec = G1, *, pd_dt: float = 0.002, physics_dt: float = 0.001):
        model = load_model(spec, SceneConfig(physics_dt=physics_dt))
        model.actuator_gainprm[:, 0] = 0.0
        model.actuator_biasprm[:, :3] = 0.0
        self._cmd = None
        super().__init__(spec, model=model, float32_io=True)
        self.pd_dt = pd_dt
        self.tau = np.zeros(spec.num_joints)  # the torque the driver applied last

    def apply(self, cmd, enabled=None) -> None:
        self._cmd = cmd
        self.data.ctrl[:] = 0.0

    def advance(self, duration: float | None = None, steps: int | None = None) -> None:
        duration = self.spec.control_dt if duration is None else duration
        sub = int(round(self.pd_dt / self.model.opt.timestep))
        for _ in range(int(round(duration / self.pd_dt))):
            c = self._cmd
            q, dq = self.data.qpos[self._qadr], self.data.qvel[self._dadr]
            tau = np.zeros(self.spec.num_joints) if c is None or not c.enable else \
                c.tau + c.kp * (c.q - q) + c.kd * (c.dq - dq)
            self.tau = np.clip(tau, -self.spec.effort_limit, self.spec.effort_limit)
            self.data.qfrc_applied[self._dadr] = self.tau
            for _ in range(sub):
                mujoco.mj_step(self.model, self.data)
        self.tick_ms += int(round(duration * 1000))

    def read_state(self):
        s = super().read_state()
        s.tau = self.tau.copy()
        return s
