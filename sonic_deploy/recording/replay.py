"""Replay a recorded session through the controller's step function and compare what it does.

A fresh :class:`~sonic_deploy.control.controller.Controller` is built with the recorded controller and safety
config and the recorded policy (its SHA-256 is checked), its reference source answers each step with the
recorded ``stamp`` and ``frames``, operator events are re-issued before the step they preceded, and every
recorded state is stepped at its recorded time. The result holds the largest differences of the raw actions
and of the joint commands, and whether the mode sequence and faults are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from sonic_deploy.config.loader import controller_config_from_dict
from sonic_deploy.control.controller import Controller
from sonic_deploy.control.safety import SafetyConfig
from sonic_deploy.inputs.replay import ReplaySource
from sonic_deploy.policy.contract import TERM_NEEDS
from sonic_deploy.recording.mcap_log import SessionReader, file_sha256, frames_from_dict, state_from_dict
from sonic_deploy.robots.g1 import G1


@dataclass
class ReplayResult:
    steps: int
    actions_compared: int
    max_action_diff: float
    max_command_diff: float
    modes_equal: bool
    faults_equal: bool
    mismatched_steps: list = field(default_factory=list)

    def ok(self, tol: float = 1e-6) -> bool:
        return (self.max_action_diff <= tol and self.max_command_diff <= tol and self.modes_equal
                and self.faults_equal)


def _recorded_config(meta: dict, source: str):
    """The recorded controller and safety config as field-configuration sections (keys a newer controller no
    longer has are dropped: a recording made before them replays with today's defaults for the rest)."""
    c = dict(meta.get("controller", {}))
    known = {f.name for f in fields(SafetyConfig)}
    data = {"controller": {k: c[k] for k in ("ramp_duration", "gain_ramp", "auto", "damping_duration",
                                             "hold_duration") if k in c},
            "safety": {k: v for k, v in meta.get("safety", {}).items() if k in known},
            "thermal": dict(c["thermal"]) if c.get("thermal") else {"enabled": False},
            "remote": c.get("remote"), "keyboard": c.get("keyboard"), "teleop": c.get("teleop")}
    return controller_config_from_dict(data, source)


def replay(path: str | Path, *, policy_path: str | None = None, tol: float = 1e-6) -> ReplayResult:
    from sonic_deploy.policy.runner import PolicyRunner  # onnxruntime (deploy extra), needed only to replay a policy

    rec = SessionReader(path)
    meta = rec.meta
    if meta.get("robot") != G1.name:
        raise ValueError(f"{path}: robot {meta.get('robot')!r}; replay knows {G1.name}")
    policy_path = policy_path or meta.get("policy")
    runner = None
    if policy_path:
        if meta.get("policy_sha256") and file_sha256(policy_path) != meta["policy_sha256"]:
            raise ValueError(f"{path}: policy {policy_path} differs from the recorded one (SHA-256)")
        runner = PolicyRunner(policy_path, G1)
    cfg = _recorded_config(meta, str(path))
    inputs = {m["step"]: {**m, "frames": frames_from_dict(m.get("frames"))} for m in rec["input"]}
    ref = ReplaySource(inputs, _needs(runner) if runner else ())
    has_ref = bool(inputs) or meta.get("reference") not in (None, "NoneType")
    ctrl = Controller(G1, runner, ref if has_ref else None, cfg)
    events = rec.by_step("event")
    actions = {m["step"]: np.asarray(m["action"], np.float64) for m in rec["action"]}
    commands = {m["step"]: m for m in rec["command"]}
    modes = {m["step"]: m["mode"] for m in rec["mode"]}
    max_a = max_c = 0.0
    modes_equal, mism = True, []
    for m in rec["state"]:
        k, now = m["step"], m["now"]
        for ev in events.get(k, []):
            if ev["event"] == "request":
                ctrl.request(ev["mode"])
            elif ev["event"] == "estop":
                ctrl.estop(ev["now"], ev.get("detail", "operator"))
            elif ev["event"] == "clear_faults":
                ctrl.clear_faults(ev["now"])
        ref.step = k
        prev = ctrl.last_action
        cmd = ctrl.step(state_from_dict(m["state"]), now)
        if k in actions:
            if ctrl.last_action is None or ctrl.last_action is prev:
                mism.append(k)
                max_a = np.inf
            else:
                max_a = max(max_a, float(np.abs(ctrl.last_action - actions[k]).max()))
        elif ctrl.last_action is not prev:
            mism.append(k)
        rc = commands.get(k)
        if rc is not None:
            for key in ("q", "dq", "tau", "kp", "kd"):
                max_c = max(max_c, float(np.abs(getattr(cmd, key) - np.asarray(rc[key], np.float64)).max()))
        if modes.get(k) != ctrl.mode.value:
            modes_equal = False
            mism.append(k)
    rec_faults = [(f["cause"], f["joint"]) for f in rec["fault"]]
    got_faults = [(f.cause, f.joint) for f in ctrl.faults]
    return ReplayResult(steps=rec.num_steps, actions_compared=len(actions), max_action_diff=max_a,
                        max_command_diff=max_c, modes_equal=modes_equal, faults_equal=rec_faults == got_faults,
                        mismatched_steps=sorted(set(mism))[:20])


def _needs(runner) -> set:
    return {TERM_NEEDS[t.name] for t in runner.contract.obs_encoder}
