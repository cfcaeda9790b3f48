"""Record a deployment session to MCAP (JSON message encoding, one JSON-schema per channel); read it back.

Channels (every message carries ``step``, the controller step it belongs to, and ``now``, the controller clock):

=================  =================================================================================
``/sonic/meta``    once: robot, policy path and SHA-256, controller and safety config, free-form ``info``
``/sonic/state``   the :class:`RobotState` the step was given (``null`` when none)
``/sonic/input``   what the reference source answered in the step: ``stamp``, ``frames`` (every field of
                   :class:`ReferenceFrames`), and ``start`` when the policy became active
``/sonic/command`` the :class:`JointCommand` sent (q, dq, tau, kp, kd, enable)
``/sonic/action``  the raw policy action and token indices, when the policy ran
``/sonic/mode``    the controller mode after the step
``/sonic/fault``   each new fault (cause, joint, value, time, detail)
``/sonic/event``   operator requests (``request``, ``estop``, ``clear_faults``) before the step they precede
``/sonic/teleop``  raw operator pose samples as they arrived (optional, see :meth:`record_pose`)
=================  =================================================================================

Floats are written with Python's shortest round-trip repr, so float64 values read back bit for bit.
Log times are the controller clock in nanoseconds (monotonic on hardware, simulated time in sim-to-sim).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from sonic_deploy.inputs.base import ReferenceFrames
from sonic_deploy.robots.base import JointCommand, RobotState

CHANNELS = ("meta", "state", "input", "command", "action", "mode", "fault", "event", "teleop")
PROFILE = "sonic.session/1"


def _jsonable(x):
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, bytes):
        return x.hex()
    if isinstance(x, tuple):
        return list(x)
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    return x


def _dumps(obj) -> bytes:
    return json.dumps(obj, default=_jsonable, allow_nan=True).encode()


def state_to_dict(s: RobotState | None) -> dict | None:
    if s is None:
        return None
    return {f.name: _jsonable(getattr(s, f.name)) for f in fields(s)}


def state_from_dict(d: dict | None) -> RobotState | None:
    if d is None:
        return None
    kw = {}
    for f in fields(RobotState):
        v = d[f.name]
        if f.name == "wireless_remote":
            v = bytes.fromhex(v)
        elif isinstance(v, list):
            v = np.asarray(v, np.float64)
        kw[f.name] = v
    return RobotState(**kw)


def frames_to_dict(fr: ReferenceFrames | None) -> dict | None:
    if fr is None:
        return None
    return {f.name: _jsonable(getattr(fr, f.name)) for f in fields(fr)}


def frames_from_dict(d: dict | None) -> ReferenceFrames | None:
    if d is None:
        return None
    kw = {k: (tuple(v) if k == "body_names" else (None if v is None else np.asarray(v, np.float64)))
          for k, v in d.items()}
    return ReferenceFrames(**kw)


def command_to_dict(c: JointCommand) -> dict:
    return {f.name: _jsonable(getattr(c, f.name)) for f in fields(c)}


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _RecordingReference:
    """Wraps the controller's reference source; records what it answered in each step."""

    def __init__(self, inner, recorder: "SessionRecorder"):
        self.inner, self.rec = inner, recorder
        self.provides = inner.provides

    def start(self, state, now: float) -> None:
        self.inner.start(state, now)
        self.rec._input["start"] = True

    def stamp(self, now: float) -> float:
        v = self.inner.stamp(now)
        self.rec._input["stamp"] = float(v)
        return v

    def frames(self, times, state=None):
        fr = self.inner.frames(times, state)
        self.rec._input["frames"] = frames_to_dict(fr)
        return fr

    def __getattr__(self, name):
        return getattr(self.inner, name)


class SessionRecorder:
    """``rec = SessionRecorder(path, controller)``; then ``cmd = rec.step(state, now)`` instead of
    ``controller.step``; operator actions through :meth:`request` / :meth:`estop` / :meth:`clear_faults`;
    :meth:`close` (or ``with``) finishes the file."""

    def __init__(self, path: str | Path, controller, *, policy_path: str | None = None, info: dict | None = None):
        from mcap.writer import Writer  # mcap (deploy extra), needed only to record

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.ctrl = controller
        self._f = open(self.path, "wb")
        self._w = Writer(self._f)
        self._w.start(profile=PROFILE, library="sonic")
        self._ch = {}
        for name in CHANNELS:
            sid = self._w.register_schema(name=f"sonic.{name}", encoding="jsonschema",
                                          data=json.dumps({"type": "object", "title": f"sonic {name}"}).encode())
            self._ch[name] = self._w.register_channel(topic=f"/sonic/{name}", message_encoding="json", schema_id=sid)
        self._seq = 0
        self.steps = 0
        self._input: dict = {}
        self._nfaults = len(controller.faults)
        self._last_now = 0.0
        if controller.reference is not None and not isinstance(controller.reference, _RecordingReference):
            controller.reference = _RecordingReference(controller.reference, self)
        policy = getattr(controller.policy, "path", None) if policy_path is None else policy_path
        cfg = controller.cfg
        meta = {"format": PROFILE, "robot": controller.spec.name, "policy": policy,
                "policy_sha256": file_sha256(policy) if policy and Path(policy).is_file() else None,
                "controller": {k: v for k, v in asdict(cfg).items() if k != "safety"},
                "safety": {k: v for k, v in asdict(cfg.safety).items() if k not in ("warnings",)},
                "reference": type(getattr(controller.reference, "inner", controller.reference)).__name__,
                "info": info or {}}
        self._write("meta", 0.0, meta)

    def _write(self, channel: str, now: float, payload: dict) -> None:
        t = max(0, int(round(now * 1e9)))
        self._w.add_message(channel_id=self._ch[channel], log_time=t, publish_time=t, sequence=self._seq,
                            data=_dumps(payload))
        self._seq += 1

    # --- operator events ------------------------------------------------------------------------------
    def request(self, mode, now: float | None = None) -> None:
        self._write("event", self._last_now if now is None else now,
                    {"step": self.steps, "event": "request", "mode": getattr(mode, "value", mode)})
        self.ctrl.request(mode)

    def estop(self, now: float, detail: str = "operator") -> None:
        self._write("event", now, {"step": self.steps, "event": "estop", "now": now, "detail": detail})
        self.ctrl.estop(now, detail)

    def clear_faults(self, now: float) -> None:
        self._write("event", now, {"step": self.steps, "event": "clear_faults", "now": now})
        self.ctrl.clear_faults(now)

    def record_pose(self, sample, now: float) -> None:
        """Listener for :class:`~sonic_deploy.inputs.vr_teleop.TeleopInput` (``teleop.listeners.append(rec.record_pose)``)."""
        self._write("teleop", now, {"step": self.steps, "now": now, "sample": sample.to_message()})

    # --- the step -------------------------------------------------------------------------------------
    def step(self, state: RobotState | None, now: float) -> JointCommand:
        k = self.steps
        self._input = {}
        prev_action = self.ctrl.last_action
        cmd = self.ctrl.step(state, now)
        self._last_now = now
        self._write("state", now, {"step": k, "now": now, "state": state_to_dict(state)})
        if self._input:
            self._write("input", now, {"step": k, "now": now, **self._input})
        self._write("command", now, {"step": k, "now": now, **command_to_dict(cmd)})
        if self.ctrl.last_action is not None and self.ctrl.last_action is not prev_action:
            tokens = getattr(self.ctrl.policy, "tokens", None)
            self._write("action", now, {"step": k, "now": now, "action": self.ctrl.last_action,
                                        "tokens": None if tokens is None else np.asarray(tokens).tolist()})
        self._write("mode", now, {"step": k, "now": now, "mode": self.ctrl.mode.value})
        for f in self.ctrl.faults[self._nfaults:]:
            self._write("fault", now, {"step": k, "now": now, **asdict(f)})
        self._nfaults = len(self.ctrl.faults)
        self.steps += 1
        return cmd

    def close(self) -> None:
        if self._f is not None:
            self._w.finish()
            self._f.close()
            self._f = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SessionReader:
    """Reads a session file without ROS: ``meta``, and per channel a list of decoded messages in step order."""

    def __init__(self, path: str | Path):
        from mcap.reader import make_reader  # mcap (deploy extra), needed only to read a recording

        self.path = Path(path)
        self.channels: dict[str, list[dict]] = {c: [] for c in CHANNELS}
        with open(self.path, "rb") as f:
            reader = make_reader(f)
            header = reader.get_header()
            if header.profile != PROFILE:
                raise ValueError(f"{self.path}: profile {header.profile!r}, expected {PROFILE!r}")
            for _schema, channel, message in reader.iter_messages(log_time_order=False):
                name = channel.topic.rsplit("/", 1)[-1]
                self.channels.setdefault(name, []).append((message.sequence, json.loads(message.data)))
        for name, msgs in self.channels.items():
            self.channels[name] = [m for _, m in sorted(msgs, key=lambda x: x[0])]
        self.meta = self.channels["meta"][0] if self.channels["meta"] else {}

    def __getitem__(self, channel: str) -> list[dict]:
        return self.channels[channel]

    @property
    def num_steps(self) -> int:
        return len(self.channels["state"])

    def by_step(self, channel: str) -> dict[int, list[dict]]:
        out: dict[int, list[dict]] = {}
        for m in self.channels[channel]:
            out.setdefault(m["step"], []).append(m)
        return out

    def actions(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps [N], actions [N, 29]) of the steps where the policy ran."""
        a = self.channels["action"]
        return np.array([m["step"] for m in a], np.int64), np.array([m["action"] for m in a], np.float64).reshape(len(a), -1)
