"""MuJoCo bridge: plays the G1 on DDS.

* publishes ``LowState_`` (pelvis IMU sensors, joint q/dq/tau, tick in ms, CRC) at ``state_rate`` Hz;
* applies the latest ``LowCmd_`` per motor (tau = tau_ff + kp (q* - q) + kd (dq* - dq), effort-limited,
  via the actuators' gains; motors with mode 0 are limp) and rejects commands with a bad CRC (counted);
* free-running: physics follows the wall clock at ``physics_dt``; the G1 hangs on a virtual gantry
  (:mod:`sonic_deploy.bridge.gantry`) until the controller holds it up itself (``auto``), a timer, or ``release``;
* lock-step: physics advances one control period per received command, then one state is published,
  so a run through DDS reproduces an in-process run step for step (no gantry: deterministic, as in-process);
* motor heating: a first-order thermal model per joint from the actuator torque
  (:class:`~sonic_deploy.control.thermal.ThermalModel`), published in ``motor_state[i].temperature``;
* injection hooks for tests and drills: :meth:`MujocoBridge.inject_remote` (the ``wireless_remote`` bytes the
  next states carry) and :meth:`MujocoBridge.inject_motor_fault` (``motorstate`` bits of one motor).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from sonic_deploy.bridge.gantry import Gantry, GantryConfig
from sonic_deploy.dds.channel import DdsConfig, participant
from sonic_deploy.dds.codec import NUM_MOTORS, LowStateData, decode_lowcmd, encode_lowstate
from sonic_deploy.dds.endpoints import LowLevelLink
from sonic_deploy.control.remote import RemoteScript
from sonic_deploy.control.thermal import ThermalModel, ThermalModelConfig
from sonic_deploy.robots.base import JointCommand
from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_deploy.robots.mujoco_robot import MujocoRobot


@dataclass
class BridgeConfig:
    dds: DdsConfig = field(default_factory=DdsConfig)
    lockstep: bool = False
    state_rate: float = 500.0
    duration: float | None = None  # seconds of wall time (None: until stopped)
    idle_timeout: float | None = None  # lock-step: stop after this long without a command
    record: str | None = None  # write the ground-truth trajectory (tick, qpos) here (.npz) on exit
    thermal: ThermalModelConfig | None = field(default_factory=ThermalModelConfig)  # None: constant temperature
    gantry: GantryConfig = field(default_factory=GantryConfig)  # free-running only; lock-step never hangs the robot
    remote: RemoteScript = field(default_factory=RemoteScript)  # scripted remote presses (bridge tick time)


@dataclass
class BridgeStats:
    states_sent: int = 0
    commands_received: int = 0
    commands_bad_crc: int = 0
    physics_steps: int = 0


class MujocoBridge:
    def __init__(self, cfg: BridgeConfig, spec: RobotSpec = G1, robot: MujocoRobot | None = None):
        self.cfg = cfg
        self.spec = spec
        self.robot = robot or MujocoRobot(spec, float32_io=False)
        dp = participant(cfg.dds)
        # the robot's role: any controller whose types describe the one-byte members the other way gets its own
        # reader/writer pair (sonic_deploy.dds.endpoints)
        self.link = LowLevelLink(dp, "robot", uint8_kind=cfg.dds.uint8_kind, adapt=cfg.dds.adapt_uint8,
                                 reliable_in=cfg.lockstep, depth_in=64 if cfg.lockstep else 1, reliable_out=True,
                                 depth_out=64 if cfg.lockstep else 1)
        self.stats = BridgeStats()
        self._stop = False
        self._rec_tick: list[int] = []
        self._rec_qpos: list[np.ndarray] = []
        self.thermal = ThermalModel(cfg.thermal, spec.num_joints) if cfg.thermal is not None else None
        self.remote = bytes(40)
        self.motor_error = np.zeros(NUM_MOTORS, np.uint32)
        gcfg = GantryConfig(**{**cfg.gantry.__dict__, "release": "off"}) if cfg.lockstep else cfg.gantry
        self.gantry = Gantry(gcfg, spec, self.robot.model, self.robot.data)
        self._t0 = time.monotonic()
        self._release_tick = -1
        self._last_sample: tuple | None = None

    # --- injection hooks ------------------------------------------------------------------------------
    def inject_remote(self, data: bytes) -> None:
        """The ``wireless_remote`` bytes every following LowState_ carries (40 bytes; zeros: released)."""
        self.remote = bytes(data).ljust(40, b"\0")[:40]

    def inject_motor_fault(self, motor: int, bits: int) -> None:
        """Set ``motor_state[motor].motorstate`` (0 clears it)."""
        self.motor_error[motor] = bits

    def elapsed(self) -> float:
        """Wall-clock seconds since the bridge started running."""
        return time.monotonic() - self._t0

    def release_gantry(self, reason: str = "command") -> None:
        if self.gantry.engaged:
            self.gantry.release(self.elapsed(), reason)
            self._release_tick = self.robot.tick_ms

    def _advance(self, steps: int) -> None:
        if self.gantry.acting:
            for _ in range(steps):
                self.gantry.apply()
                self.robot.advance(steps=1)
        else:
            self.robot.advance(steps=steps)
        self.stats.physics_steps += steps
        if self.thermal is not None:
            n = self.spec.num_joints
            self.thermal.step(self.robot.data.actuator_force[:n], steps * self.robot.model.opt.timestep)

    def stop(self) -> None:
        self._stop = True

    def state_message(self) -> LowStateData:
        s = self.robot.read_state()
        n = self.spec.num_joints
        msg = LowStateData(mode_machine=self.spec.mode_machine, tick=self.robot.tick_ms)
        msg.quaternion = s.imu_quat.astype(np.float32)
        msg.gyroscope = s.imu_gyro.astype(np.float32)
        msg.accelerometer = s.imu_acc.astype(np.float32)
        msg.q[:n], msg.dq[:n], msg.tau_est[:n] = s.q, s.dq, s.tau
        temp = self.thermal.temperature if self.thermal is not None else s.temperature
        msg.temperature[:n] = np.round(temp).astype(np.int16)[:, None]
        msg.mode[:n] = 1
        msg.motorstate[:] = self.motor_error
        msg.wireless_remote = self.cfg.remote.bytes_at(self.robot.tick_ms / 1000.0) if self.cfg.remote.events else self.remote
        return msg

    def publish_state(self) -> None:
        # free-running, LowState_ goes out at 500 Hz over 200 Hz physics: a state whose tick, remote bytes and motor
        # fault bits are unchanged is the same sample, sent again without encoding it again
        key = (self.robot.tick_ms, self.remote, self.motor_error.tobytes())
        if self._last_sample is None or self._last_sample[0] != key:
            self._last_sample = (key, encode_lowstate(self.state_message()))
        self.link.write(self._last_sample[1])
        self.stats.states_sent += 1
        if self.cfg.record and (not self._rec_tick or self._rec_tick[-1] != self.robot.tick_ms):
            self._rec_tick.append(self.robot.tick_ms)
            self._rec_qpos.append(self.robot.data.qpos.copy())

    def save_record(self) -> None:
        if self.cfg.record:
            np.savez(self.cfg.record, tick=np.asarray(self._rec_tick, np.int64),
                     qpos=np.asarray(self._rec_qpos), commands_bad_crc=self.stats.commands_bad_crc,
                     commands_received=self.stats.commands_received,
                     gantry_released_s=np.nan if self.gantry.released_at is None else self.gantry.released_at,
                     gantry_release_tick=self._release_tick)

    def _apply_pending(self) -> int:
        """Apply every valid command waiting (lock-step: advance after each); returns how many were valid."""
        applied = 0
        n = self.spec.num_joints
        for data in self.link.take():
            try:
                cmd = decode_lowcmd(data)
            except ValueError:
                self.stats.commands_bad_crc += 1
                continue
            if not cmd.crc_ok:
                self.stats.commands_bad_crc += 1
                continue
            self.stats.commands_received += 1
            jc = JointCommand(q=cmd.q[:n].astype(np.float64), dq=cmd.dq[:n].astype(np.float64),
                              tau=cmd.tau[:n].astype(np.float64), kp=cmd.kp[:n].astype(np.float64),
                              kd=cmd.kd[:n].astype(np.float64), enable=True)
            self.robot.apply(jc, enabled=cmd.mode[:n] == 1)
            if self.gantry.engaged:
                self.gantry.observe(self.elapsed(), cmd.mode[:n] == 1, jc.q, jc.kp)
                if not self.gantry.engaged:
                    self._release_tick = self.robot.tick_ms
            applied += 1
            if self.cfg.lockstep:
                self._advance(self.spec.decimation)
                self.publish_state()
        return applied

    def run(self) -> BridgeStats:
        t0 = self._t0 = time.monotonic()
        period = 1.0 / self.cfg.state_rate
        dt = self.robot.model.opt.timestep
        last_cmd = t0
        next_pub = t0
        while not self._stop:
            now = time.monotonic()
            if self.cfg.duration is not None and now - t0 > self.cfg.duration:
                break
            if self.cfg.lockstep:
                if self._apply_pending():
                    last_cmd = time.monotonic()
                elif self.stats.commands_received == 0 and now >= next_pub:
                    self.publish_state()  # announce the initial state until the controller answers
                    next_pub = now + 0.05
                if self.cfg.idle_timeout is not None and time.monotonic() - last_cmd > self.cfg.idle_timeout:
                    break
                self.link.wait(0.01)
                continue
            self._apply_pending()
            if self.gantry.engaged:
                self.gantry.tick(now - t0)
                if not self.gantry.engaged:
                    self._release_tick = self.robot.tick_ms
            target_steps = int((now - t0) / dt)
            while self.stats.physics_steps < target_steps:
                self._advance(1)
            if now >= next_pub:
                self.publish_state()
                # a fixed schedule: a late cycle is made up by the next one (the rate holds on a loaded machine);
                # only a stall of more than 0.1 s re-anchors it
                next_pub += period
                if next_pub < now - 0.1:
                    next_pub = now + period
            sleep = min(next_pub, t0 + (self.stats.physics_steps + 1) * dt) - time.monotonic()
            if sleep > 0:
                time.sleep(sleep)
        self.save_record()
        return self.stats
