"""The SMPL joint input: human joint positions from an external pose estimator or motion generator.

A receiver (the ROS 2 node's ``~/smpl/joints`` subscription, or anything else) hands samples in through
:meth:`SmplStream.push` with the controller-clock time of arrival. :meth:`SmplStream.frames` holds the newest
sample (zero-order hold; future frames when the sender gives them) and :meth:`SmplStream.stamp` reports its
arrival time, so the controller's input watchdog damps the robot when the stream stops.
"""

from __future__ import annotations

import numpy as np

from sonic_deploy.inputs.base import ReferenceFrames, StreamNotConnected


class SmplStream:
    """push(now, root_pos=[3], root_quat=[4], smpl_joints=[F, 24, 3]) in the robot's world (future frames if known)."""

    provides = frozenset({"smpl_joints", "root_quat"})  # frames carry the root pose the SMPL encoder reads

    def __init__(self):
        self._sample: dict | None = None
        self._stamp = -np.inf

    def push(self, now: float, **sample) -> None:
        self._sample = {k: np.asarray(v, np.float64) for k, v in sample.items()}
        self._stamp = now

    def start(self, state, now: float) -> None:
        if self._sample is None:
            raise StreamNotConnected("SmplStream: no sample received yet")

    def stamp(self, now: float) -> float:
        return self._stamp

    def frames(self, times: np.ndarray, state=None) -> ReferenceFrames:
        s = self._sample
        if s is None:
            raise StreamNotConnected("SmplStream: no sample received yet")
        times = np.atleast_1d(times)
        j = s["smpl_joints"]
        j = j[None] if j.ndim == 2 else j
        idx = np.minimum(np.arange(len(times)), len(j) - 1)
        return ReferenceFrames(times=times, root_pos=np.tile(s["root_pos"], (len(times), 1)),
                               root_quat=np.tile(s["root_quat"], (len(times), 1)), smpl_joints=j[idx])
