"""The free-running start-up, deterministic: the bridge's G1 on its gantry (limp motors until the first command),
a controller that starts ``delay`` seconds after the bridge and runs damping -> ramp -> hold on the 50 Hz command
grid, the gantry's ``auto`` release and its lowering, all in one process on physics time. It is what a node started
late against ``sonic-deploy bridge`` does, without the DDS and wall-clock jitter that make the real run
unrepeatable; the start timing decides what the ramp's pose and gains are when the gantry lets go."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sonic_deploy.bridge.gantry import Gantry, GantryConfig
from sonic_deploy.config import load_controller_config
from sonic_deploy.control.controller import Controller
from sonic_deploy.robots.base import JointCommand
from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_deploy.robots.mujoco_robot import MujocoRobot
from sonic_deploy.utils.rotations import tilt_deg


@dataclass
class StartOutcome:
    delay: float  # s from the bridge's start to the controller's first command
    released_s: float | None  # bridge time of the gantry's release
    peak_tilt_deg: float  # pelvis tilt after the release
    final_tilt_deg: float
    final_z: float
    mode: str  # the controller's mode at the end ("ramp": still holding; "estop": it saw a fall)

    @property
    def stood(self) -> bool:
        return self.mode == "ramp" and self.final_z > 0.65 and self.peak_tilt_deg < 15.0


def start_up(delay: float, seconds: float = 6.0, gantry: GantryConfig | None = None,
             spec: RobotSpec = G1) -> StartOutcome:
    robot = MujocoRobot(spec, float32_io=False)
    band = Gantry(gantry or GantryConfig(), spec, robot.model, robot.data)
    ctrl = Controller(spec, None, None, load_controller_config("sim"))
    dt = robot.model.opt.timestep
    on = np.ones(spec.num_joints, bool)
    robot.apply(JointCommand.passive(spec.num_joints))
    released, peak, next_cmd = None, 0.0, delay
    for k in range(int(round(seconds / dt))):
        t = k * dt
        if t >= next_cmd - 1e-9:
            state = robot.read_state()
            state.timestamp = t - delay  # the controller's clock: seconds since its loop started
            cmd = ctrl.step(state, t - delay)
            robot.apply(cmd, enabled=on if cmd.enable else ~on)
            if band.engaged:
                band.observe(t, on if cmd.enable else ~on, cmd.q, cmd.kp)
                released = None if band.engaged else t
            next_cmd += spec.control_dt
        band.apply()
        robot.advance(steps=1)
        if released is not None:
            peak = max(peak, float(tilt_deg(robot.data.qpos[3:7])))
    return StartOutcome(delay, released, peak, float(tilt_deg(robot.data.qpos[3:7])), float(robot.data.qpos[2]),
                        ctrl.mode.value)
