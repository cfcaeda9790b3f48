"""A recorded session's reference, step by step: what the live source answered, answered again.

:func:`sonic_deploy.recording.replay` decodes the ``/sonic/input`` channel into one entry per controller step
(``stamp`` and ``frames``), sets :attr:`ReplaySource.step` before each step, and the controller reads the
recorded answers as it read the live ones.
"""

from __future__ import annotations

import copy

from sonic_deploy.inputs.base import ReferenceFrames


class ReplaySource:
    def __init__(self, inputs: dict[int, dict], provides):
        """``inputs``: step -> ``{"stamp": float, "frames": ReferenceFrames | None}`` (missing keys: not recorded)."""
        self.inputs = inputs
        self.provides = frozenset(provides)
        self.step = 0

    def _rec(self) -> dict:
        return self.inputs.get(self.step, {})

    def start(self, state, now: float) -> None:
        pass

    def stamp(self, now: float) -> float:
        return float(self._rec().get("stamp", now))

    def frames(self, times, state=None) -> ReferenceFrames:
        fr = self._rec().get("frames")
        if fr is None:
            raise RuntimeError(f"replay: step {self.step} asked for reference frames the recording does not hold")
        return copy.deepcopy(fr)  # a fresh frame per call, as a live source gives
