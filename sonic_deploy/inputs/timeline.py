"""Timeline: a motion player whose clip time is anchored, so pause, resume and speed changes continue the clip.

The ROS 2 node's ``input:=motion`` source. ``~/motion/command`` pause, resume and speed call
:meth:`Timeline.set_rate`, and the clip goes on from the time it was at instead of jumping to ``rate * t`` (what
changing the player's own speed would do); ``/diagnostics`` reports the clip, its time and the rate.
"""

from __future__ import annotations

import numpy as np

from sonic_deploy.inputs.base import ReferenceFrames
from sonic_deploy.inputs.motion_player import MotionPlayer


class Timeline:
    """Wraps a motion player: clip time = anchor + rate (t - t_anchor), so pause (rate 0), resume and speed changes
    continue from where the clip is instead of jumping; joint velocities scale with the rate."""

    def __init__(self, player: MotionPlayer, name: str = ""):
        self.player = player
        self.name = name
        self.provides = player.provides
        player.speed = 1.0
        self.rate, self.speed = 1.0, 1.0
        self._t_anchor = self._c_anchor = 0.0
        self._t_last = 0.0

    def start(self, state, now: float) -> None:
        self.player.start(state, now)
        self._t_anchor = self._c_anchor = self._t_last = 0.0

    def stamp(self, now: float) -> float:
        return self.player.stamp(now)

    def clip_time(self, t: float | np.ndarray) -> float | np.ndarray:
        return self._c_anchor + self.rate * (t - self._t_anchor)

    def set_rate(self, rate: float) -> None:
        self._c_anchor = float(self.clip_time(self._t_last))
        self._t_anchor = self._t_last
        self.rate = rate

    def frames(self, times, state=None) -> ReferenceFrames:
        times = np.atleast_1d(np.asarray(times, np.float64))
        self._t_last = float(times[0])
        fr = self.player.frames(self.clip_time(times), state)
        if fr.joint_vel is not None:
            fr.joint_vel = fr.joint_vel * self.rate
        return fr
