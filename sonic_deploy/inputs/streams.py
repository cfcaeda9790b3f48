"""Plug points for live reference streams (VR 3-point teleop, SMPL joints).

These define the interface the teleop / SMPL inputs implement; the transports (websocket receivers,
calibration, smoothing, dropout handling) are not part of this module. :meth:`push` is how a receiver
hands a sample in; :meth:`frames` holds the newest sample (zero-order hold) and :meth:`stamp` reports its
arrival time so the controller's input watchdog damps the robot when the stream stops.
"""

from __future__ import annotations

import numpy as np

from sonic_deploy.inputs.base import ReferenceFrames, StreamNotConnected


class _LatestSample:
    provides: frozenset = frozenset()

    def __init__(self):
        self._sample: dict | None = None
        self._stamp = -np.inf

    def push(self, now: float, **sample) -> None:
        self._sample = {k: np.asarray(v, np.float64) for k, v in sample.items()}
        self._stamp = now

    def start(self, state, now: float) -> None:
        if self._sample is None:
            raise StreamNotConnected(f"{type(self).__name__}: no sample received yet")

    def stamp(self, now: float) -> float:
        return self._stamp


class TeleopStream(_LatestSample):
    """VR 3-point input: push(now, root_pos=[3], root_quat=[4], vr_pos=[3, 3], vr_quat=[3, 4]) in the robot's world."""

    provides = frozenset({"vr"})

    def frames(self, times: np.ndarray, state=None) -> ReferenceFrames:
        s = self._sample
        if s is None:
            raise StreamNotConnected("TeleopStream: no sample received yet")
        f = len(np.atleast_1d(times))
        return ReferenceFrames(times=np.atleast_1d(times), root_pos=np.tile(s["root_pos"], (f, 1)),
                               root_quat=np.tile(s["root_quat"], (f, 1)), vr_pos=s["vr_pos"], vr_quat=s["vr_quat"])


class SmplStream(_LatestSample):
    """SMPL joint input: push(now, root_pos=[3], root_quat=[4], smpl_joints=[F, 24, 3]) (future frames if known)."""

    provides = frozenset({"smpl_joints", "root_quat"})  # frames carry the root pose the SMPL encoder reads

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
