"""Velocity commands for locomotion policies, as reference sources (``provides`` = ``base_velocity``).

The controller samples a source each active step like any reference; the frame's ``base_velocity`` is
(vx, vy in m/s, yaw rate in rad/s, body frame). Sources:

* :class:`VelocitySchedule` — piecewise-constant ``(t_from, vx, vy, yaw_rate)`` in seconds since the policy became
  active (sim-to-sim, tests);
* :class:`KeyboardVelocity` — keys as holosoma's deploy binds them: w/s vx +-0.1, a/d vy +-0.1, e/q yaw rate
  +-0.1, space or z zero;
* :class:`StickVelocity` — the wireless remote's sticks (``RemoteState`` lx, ly, rx in [-1, 1]): ly forward, -lx
  left, -rx yaw, each times the policy's command range;
* :class:`TwistVelocity` — ``geometry_msgs/Twist`` on ``~/cmd_vel`` (linear.x, linear.y, angular.z); older than
  ``timeout`` the command falls to zero (the ROS convention; the robot stands, the controller stays active).
"""

from __future__ import annotations

import threading

import numpy as np

from sonic_deploy.inputs.base import ReferenceFrames

PROVIDES = frozenset({"base_velocity"})
KEYS = {"w": (0, 0.1), "s": (0, -0.1), "a": (1, 0.1), "d": (1, -0.1), "e": (2, 0.1), "q": (2, -0.1)}


class _Velocity:
    provides = PROVIDES

    def start(self, state, now: float) -> None:
        pass

    def stamp(self, now: float) -> float:
        return now

    def command(self, t: float) -> np.ndarray:
        raise NotImplementedError

    def frames(self, times: np.ndarray, state=None) -> ReferenceFrames:
        times = np.atleast_1d(np.asarray(times, np.float64))
        return ReferenceFrames(times=times, base_velocity=np.asarray(self.command(float(times[0])), np.float64))


class VelocitySchedule(_Velocity):
    def __init__(self, steps=()):
        self.steps = sorted((float(s[0]), np.asarray(s[1:4], np.float64)) for s in steps)

    @classmethod
    def parse(cls, specs: list[str]) -> "VelocitySchedule":
        """``["0:0.5,0,0", "4:0,0,0.8"]`` -> from 0 s walk 0.5 m/s, from 4 s turn at 0.8 rad/s."""
        steps = []
        for s in specs:
            try:
                t, v = s.split(":")
                vx, vy, wz = (float(x) for x in v.split(","))
            except ValueError:
                raise ValueError(f"--cmd-vel {s!r}: expected T:VX,VY,YAW_RATE (seconds since active: m/s, m/s, "
                                 "rad/s), e.g. 0:0.5,0,0") from None
            steps.append((float(t), vx, vy, wz))
        return cls(steps)

    def command(self, t: float) -> np.ndarray:
        out = np.zeros(3)
        for t0, v in self.steps:
            if t >= t0:
                out = v
        return out


class KeyboardVelocity(_Velocity):
    """Keys pushed from a reader thread (:meth:`key`); the command accumulates as in holosoma's deploy."""

    def __init__(self):
        self._v = np.zeros(3)
        self._lock = threading.Lock()

    def key(self, ch: str) -> None:
        with self._lock:
            if ch in (" ", "z"):
                self._v[:] = 0.0
            elif ch.lower() in KEYS:
                i, d = KEYS[ch.lower()]
                self._v[i] = round(self._v[i] + d, 3)

    def command(self, t: float) -> np.ndarray:
        with self._lock:
            return self._v.copy()

    def read_stream(self, stream, stop: threading.Event) -> None:
        """Feed keys from a text stream (a terminal in cbreak mode, a pipe) until ``stop`` or end of stream."""
        while not stop.is_set():
            ch = stream.read(1)
            if not ch:
                return
            self.key(ch)


class StickVelocity(_Velocity):
    """The wireless remote's sticks: ``update(remote_state)`` each cycle with an object carrying lx, ly, rx."""

    def __init__(self, max_vx: float = 1.0, max_vy: float = 1.0, max_yaw: float = 1.0, deadband: float = 0.05):
        self.scale = np.array([max_vx, max_vy, max_yaw])
        self.deadband = deadband
        self._v = np.zeros(3)

    def update(self, remote) -> None:
        raw = np.array([remote.ly, -remote.lx, -remote.rx], np.float64)
        raw[np.abs(raw) < self.deadband] = 0.0
        self._v = np.clip(raw, -1.0, 1.0) * self.scale

    def command(self, t: float) -> np.ndarray:
        return self._v.copy()


class TwistVelocity(_Velocity):
    """The newest Twist, pushed by the node's subscription (:meth:`push` with the controller clock's time)."""

    def __init__(self, timeout: float = 0.5, clock=None):
        self.timeout = timeout
        self.clock = clock
        self._v = np.zeros(3)
        self._stamp = -np.inf
        self._lock = threading.Lock()

    def push(self, now: float, vx: float, vy: float, yaw_rate: float) -> None:
        with self._lock:
            self._v = np.array([vx, vy, yaw_rate], np.float64)
            self._stamp = now

    def stamp(self, now: float) -> float:
        self._now = now
        return now

    def command(self, t: float) -> np.ndarray:
        now = self.clock() if self.clock else getattr(self, "_now", 0.0)
        with self._lock:
            return self._v.copy() if now - self._stamp <= self.timeout else np.zeros(3)


class VelocityMux(_Velocity):
    """The first source with a non-zero command wins (the operator's sticks before a planner's Twist)."""

    def __init__(self, *sources: _Velocity):
        self.sources = sources

    def stamp(self, now: float) -> float:
        for s in self.sources:
            s.stamp(now)
        return now

    def command(self, t: float) -> np.ndarray:
        for s in self.sources:
            v = s.command(t)
            if np.any(v != 0.0):
                return v
        return np.zeros(3)
