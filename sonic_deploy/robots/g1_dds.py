"""The real G1 (or the MuJoCo bridge) over Unitree DDS: subscribe ``rt/lowstate``, publish ``rt/lowcmd``.

Commands fill motor slots 0..28 (slots 29..34 stay zero), ``mode_pr`` 0 (pitch/roll), ``mode_machine``
echoed from the last state, per-motor mode (1 = enable) / q / dq / tau / kp / kd, and the Unitree CRC.
States whose CRC does not match are dropped and counted. ``lockstep=True`` (only against the bridge in
lock-step mode) makes reads reliable and lets :meth:`wait_state` block for the state that follows a command.
Endpoints come from :class:`~sonic_deploy.dds.endpoints.LowLevelLink` (role ``controller``): a robot whose types
describe the one-byte members the other way is followed, a peer with a type that cannot match is named in one line.
"""

from __future__ import annotations

import time

import numpy as np

from sonic_deploy.dds.channel import DdsConfig, participant
from sonic_deploy.dds.codec import NUM_MOTORS, LowCmdData, decode_lowstate, encode_lowcmd
from sonic_deploy.dds.endpoints import LowLevelLink
from sonic_deploy.robots.base import JointCommand, RobotState, RobotStats
from sonic_deploy.robots.g1 import G1, RobotSpec


class G1DdsRobot:
    def __init__(self, cfg: DdsConfig = DdsConfig(), spec: RobotSpec = G1, *, lockstep: bool = False, clock=None):
        self.spec = spec
        self.cfg = cfg
        self.lockstep = lockstep
        self.clock = clock or time.monotonic
        self._dp = participant(cfg)
        # the driver follows the robot's type description: a LowState_ writer of the other one-byte description
        # (an SDK stand-in on Cyclone 11) adds a reader/writer pair of that description
        self.link = LowLevelLink(self._dp, "controller", uint8_kind=cfg.uint8_kind, adapt=cfg.adapt_uint8,
                                 reliable_in=lockstep, depth_in=16 if lockstep else 1, reliable_out=True,
                                 depth_out=16 if lockstep else 1)
        self._latest: RobotState | None = None
        self.stats = RobotStats()
        self._n = spec.num_joints

    def wait_connected(self, timeout_s: float = 10.0) -> bool:
        t_end = time.monotonic() + timeout_s
        while time.monotonic() < t_end:
            state = self.read_state()  # also runs the link's discovery poll
            if state is not None and self.link.matched_in() and self.link.matched_out():
                return True
            self.link.wait(0.05)
        return False

    def _ingest(self) -> bool:
        got = False
        for data in self.link.take():
            try:
                msg = decode_lowstate(data)
            except ValueError:
                self.stats.states_bad_crc += 1
                continue
            if not msg.crc_ok:
                self.stats.states_bad_crc += 1
                continue
            self.stats.states_received += 1
            n = self._n
            f = lambda a: np.asarray(a[:n], np.float64)  # noqa: E731
            self._latest = RobotState(
                timestamp=self.clock(), q=f(msg.q), dq=f(msg.dq), tau=f(msg.tau_est),
                imu_quat=msg.quaternion.astype(np.float64), imu_gyro=msg.gyroscope.astype(np.float64),
                imu_acc=msg.accelerometer.astype(np.float64),
                temperature=msg.temperature[:n].max(axis=1).astype(np.float64),
                mode_machine=msg.mode_machine, tick=msg.tick, wireless_remote=msg.wireless_remote,
                motor_error=msg.motorstate[:n].copy())
            got = True
        return got

    def read_state(self) -> RobotState | None:
        self._ingest()
        return self._latest

    def wait_state(self, after_tick: int, timeout_s: float) -> RobotState | None:
        """Block until a state with tick > ``after_tick`` arrives (lock-step); None on timeout."""
        t_end = time.monotonic() + timeout_s
        while True:
            self._ingest()
            if self._latest is not None and self._latest.tick > after_tick:
                return self._latest
            left = t_end - time.monotonic()
            if left <= 0:
                return None
            self.link.wait(min(left, 0.05))

    def write_command(self, cmd: JointCommand) -> None:
        n = self._n
        msg = LowCmdData(mode_pr=0, mode_machine=self._latest.mode_machine if self._latest else self.spec.mode_machine)
        if cmd.enable:
            msg.mode[:n] = 1
        for name in ("q", "dq", "tau", "kp", "kd"):
            arr = np.zeros(NUM_MOTORS, np.float32)
            arr[:n] = getattr(cmd, name)
            setattr(msg, name, arr)
        self.link.write(encode_lowcmd(msg))
        self.stats.commands_sent += 1

    def close(self) -> None:
        pass
