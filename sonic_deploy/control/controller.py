"""The controller: one plain ``step(state, now) -> JointCommand`` per control period.

State machine: PASSIVE (motors off) -> DAMPING (kp 0, kd > 0) -> RAMP (to the default pose over
``ramp_duration``; the gains blend from damping to the robot's hold gains over its first ``gain_ramp`` seconds,
the target from the measured pose to the default pose over all of it, so nothing steps) -> ACTIVE (policy) ; any fault or e-stop -> ESTOP (damping, latched until
:meth:`Controller.clear_faults`). Every fault is recorded as a :class:`Fault` and the command returned in
the same step is already damping; no exception leaves ``step``. ``auto`` sequences damping -> ramp ->
active by time (sim-to-sim); on hardware the operator calls :meth:`request`.

Time (``now``) is whatever clock the caller runs on (monotonic seconds on hardware, simulated time in
sim-to-sim); the controller never reads a clock itself, so tests drive it without real time.
"""

from __future__ import annotations

import enum
import logging
import math
from dataclasses import dataclass, field

import numpy as np

from sonic_deploy.control.operator import DEFAULT_KEYS, OperatorQueue, check_keys
from sonic_deploy.control.remote import RemoteBindings, RemoteWatcher
from sonic_deploy.control.safety import (Fault, LimitWatch, SafetyConfig, check_state, clip_command, clip_targets,
                                         soft_limits)
from sonic_deploy.control.thermal import ThermalConfig, ThermalMonitor
from sonic_deploy.inputs.base import ReferenceSource
from sonic_deploy.inputs.vr_teleop import TeleopConfig
from sonic_deploy.policy.base import Policy
from sonic_deploy.robots.base import JointCommand, RobotState
from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_deploy.utils.easing import smoothstep

log = logging.getLogger("sonic_deploy.control")


class Mode(enum.Enum):
    PASSIVE = "passive"
    DAMPING = "damping"
    RAMP = "ramp"
    ACTIVE = "active"
    ESTOP = "estop"


@dataclass
class ControllerConfig:
    """Everything the controller and its live inputs run with: the one home of every safety and teleop default.

    sonic_deploy/config/g1_field.yaml and the ROS 2 parameter file mirror these values (a test compares them);
    :func:`sonic_deploy.config.load_controller_config` builds one from that file for robot ``sim`` or ``real``."""

    ramp_duration: float = 2.0  # s from the measured pose to the default pose
    # s (from the start of the ramp) over which kp/kd blend from damping to the hold gains. A G1 on its feet must
    # be caught quickly: measured (benchmarks/hold_gains.py, hold factor 8) 0.2-0.5 s holds, 1 s falls.
    gain_ramp: float = 0.4
    auto: bool = False  # sequence damping -> ramp -> active by time (sim-to-sim; never on the real robot)
    # auto: time in damping before the ramp. One control period: with nothing holding it (no gantry in-process), a
    # G1 on its feet in damping collapses; measured, 0.1 s of damping before the ramp falls, 0.02 s stands.
    damping_duration: float = 0.02
    hold_duration: float = 0.5  # auto: time holding the default pose after the ramp, before active
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    # per-joint thermal thresholds and derate; None: no temperature protection (refused for the real robot)
    thermal: ThermalConfig | None = field(default_factory=ThermalConfig)
    remote: RemoteBindings = field(default_factory=RemoteBindings)  # wireless-remote bindings, checked every step
    keyboard: dict = field(default_factory=lambda: dict(DEFAULT_KEYS))  # sim-to-sim keys -> the same actions
    teleop: TeleopConfig = field(default_factory=TeleopConfig)  # dropout times of the live inputs (VR, tokens)

    def validate(self) -> "ControllerConfig":
        for name in ("ramp_duration", "gain_ramp", "damping_duration", "hold_duration"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not v >= 0:
                raise ValueError(f"controller.{name}: expected a number >= 0, got {v!r}")
        self.safety.validate()
        self.teleop.validate()
        check_keys(self.keyboard)
        return self

    def check_live_inputs(self) -> "ControllerConfig":
        """For a controller fed by a live input (VR teleop, tokens) with ``self.teleop``'s dropout times: the ease to
        the safe pose must finish before the input watchdog damps."""
        total = self.teleop.hold_time + self.teleop.ease_time
        if total > self.safety.input_timeout + 1e-9:
            raise ValueError(f"teleop.ease_time: expected teleop.hold_time + teleop.ease_time ({total:g}) <= "
                             f"safety.input_timeout ({self.safety.input_timeout:g}) so the ease to the safe pose "
                             "finishes before the input watchdog damps")
        return self


class Controller:
    def __init__(self, spec: RobotSpec = G1, policy: Policy | None = None, reference: ReferenceSource | None = None,
                 cfg: ControllerConfig | None = None, operator_queue: OperatorQueue | None = None):
        """``operator_queue``: where other threads' operator actions arrive (a keyboard reader, services); the
        controller drains it at the start of each step (default: its own, fed by :meth:`operator`)."""
        self.spec = spec
        self.policy = policy
        self.reference = reference
        self.cfg = (cfg or ControllerConfig()).validate()
        s = self.cfg.safety
        self.damping_kd = np.asarray(s.damping_kd if s.damping_kd is not None else 2.0 * spec.kd, np.float64)
        # zero velocity and torque targets stay exactly zero through clip_command when every limit is > 0
        self._zero_feedforward_clips_to_zero = bool((spec.effort_limit > 0).all() and (spec.velocity_limit > 0).all())
        self.lo, self.hi = soft_limits(spec, s.soft_limit_factor or spec.soft_limit_factor)
        self.mode = Mode.PASSIVE
        self.mode_since = 0.0
        self.faults: list[Fault] = []
        self.transitions: list[tuple[float, str]] = []
        self._requested: Mode | None = Mode.DAMPING if self.cfg.auto else None
        self._auto = self.cfg.auto  # time-sequenced start-up; off after the first operator action or fault
        self._ramp_start_q: np.ndarray | None = None
        self._last_q: np.ndarray | None = None
        self.active_since: float | None = None
        self.last_action: np.ndarray | None = None
        self.last_frames = None  # the reference frames used by the last active step
        self.steps = 0
        self.limits = LimitWatch(spec, s)
        self.thermal = ThermalMonitor(self.cfg.thermal, spec.joint_names) if self.cfg.thermal is not None else None
        self.remote = RemoteWatcher(self.cfg.remote)
        self.operator_queue = operator_queue if operator_queue is not None else OperatorQueue()
        self.operator_log: list[tuple[float, str, str]] = []  # (time, action, source)

    # --- operator interface --------------------------------------------------------------------------
    def request(self, mode: Mode | str) -> None:
        self._requested = Mode(mode)
        self._auto = False

    def estop(self, now: float, detail: str = "operator") -> None:
        self._fault(Fault("estop", None, None, now, detail), now)

    def clear_faults(self, now: float) -> None:
        if self.mode == Mode.ESTOP:
            self._enter(Mode.DAMPING, now)

    def operator(self, action: str, source: str = "operator") -> None:
        """Queue an operator action (estop, damping, stop, start, clear) for the next step; thread-safe."""
        self.operator_queue.put(action, source)

    def _operator_actions(self, state: RobotState | None, now: float) -> None:
        actions = self.operator_queue.drain()
        if state is not None:
            actions += [(a, "remote") for a in self.remote.update(state.wireless_remote)]
        for action, source in actions:
            self._auto = False  # the operator has taken over from the time-sequenced start-up
            if action != "estop" or not self.operator_log or self.operator_log[-1][1:] != (action, source):
                self.operator_log.append((now, action, source))
            if action == "estop":
                if self.mode != Mode.ESTOP or not self.faults or self.faults[-1].cause not in ("remote_estop", "estop"):
                    cause = "remote_estop" if source == "remote" else "estop"
                    self._fault(Fault(cause, None, None, now, source), now)
            elif action == "clear":
                self._requested = None
                self.clear_faults(now)
            elif self.mode == Mode.ESTOP:
                continue  # a latched fault is cleared only by "clear"
            elif action == "damping":
                self._requested = Mode.DAMPING
            elif action == "stop":
                self._requested = Mode.RAMP if self.mode == Mode.ACTIVE else None
            elif action == "start":
                self._requested = Mode.ACTIVE

    def status(self, now: float | None = None) -> dict:
        """Mode, last fault, thermal state (warnings, derate), last remote buttons: for status and diagnostics."""
        st = {"mode": self.mode.value, "fault": str(self.fault) if self.fault else None, "steps": self.steps}
        if self.thermal is not None:
            st["thermal"] = self.thermal.status()
        st["remote_buttons"] = list(self.remote.last.buttons)
        return st

    def summary(self) -> dict:
        """Session summary: transitions, faults, operator actions and, with thermal monitoring, the peak
        temperature per joint."""
        out = {"transitions": list(self.transitions), "faults": [str(f) for f in self.faults],
               "operator": list(self.operator_log)}
        if self.thermal is not None:
            out["thermal"] = self.thermal.summary()
        return out

    @property
    def fault(self) -> Fault | None:
        return self.faults[-1] if self.faults else None

    # --- the step -------------------------------------------------------------------------------------
    def step(self, state: RobotState | None, now: float) -> JointCommand:
        self.steps += 1
        try:
            return self._step(state, now)
        except Exception as exc:  # noqa: BLE001 - nothing may escape the loop
            self._fault(Fault("exception", None, None, now, f"{type(exc).__name__}: {exc}"), now)
            return self._damping()

    def _step(self, state: RobotState | None, now: float) -> JointCommand:
        s = self.cfg.safety
        self._operator_actions(state, now)  # remote and keyboard first: they need nothing but the state
        if self.thermal is not None and state is not None:
            fault = self.thermal.update(state.temperature, state.motor_error, now)
            if fault is not None and self.mode not in (Mode.PASSIVE, Mode.ESTOP):
                return self._fail(fault, now)
        if self.mode in (Mode.PASSIVE, Mode.ESTOP) and self._requested is None:
            if state is not None:
                self._last_q = state.q.copy()
            return JointCommand.passive(self.spec.num_joints) if self.mode == Mode.PASSIVE else self._damping()
        if state is None:
            return self._fail(Fault("state_missing", None, None, now, "no robot state received"), now)
        if now - state.timestamp > s.state_timeout + 1e-9:
            return self._fail(Fault("state_stale", None, now - state.timestamp, now,
                                    f"state older than {s.state_timeout:.3f}s"), now)
        if math.isfinite(float(np.add.reduce(state.q))) or np.isfinite(state.q).all():  # a finite sum: all finite
            self._last_q = state.q.copy()  # damping holds q* = the measured position
        fault = check_state(state, self.spec, s, self.limits, now)
        if fault is not None:
            return self._fail(fault, now)
        self._transitions(state, now)
        if self.mode == Mode.PASSIVE:
            return JointCommand.passive(self.spec.num_joints)
        if self.mode == Mode.DAMPING:
            return self._damping()
        if self.mode == Mode.RAMP:
            return self._derate(self._ramp(state, now), state)
        if self.mode == Mode.ACTIVE:
            return self._derate(self._active(state, now), state)
        return self._damping()

    def _derate(self, cmd: JointCommand, state: RobotState) -> JointCommand:
        """Thermal derate: that joint's kp and torque limit times the monitor's scale (1 when cool)."""
        if self.thermal is None or not self.thermal.derating or not cmd.kp.any():
            return cmd
        scale = self.thermal.scale
        kp = cmd.kp * scale
        effort = self.spec.effort_limit * scale
        with np.errstate(divide="ignore"):
            reach = np.where(kp > 0, effort / np.maximum(kp, 1e-9), np.inf)
        q = np.clip(np.clip(cmd.q, state.q - reach, state.q + reach), self.lo, self.hi)  # limits last
        return JointCommand(q=q, dq=cmd.dq, tau=np.clip(cmd.tau, -effort, effort), kp=kp, kd=cmd.kd, enable=cmd.enable)

    def _transitions(self, state: RobotState, now: float) -> None:
        req, self._requested = self._requested, None
        if req is not None and req != self.mode:
            if req == Mode.ESTOP:
                self._fault(Fault("estop", None, None, now, "requested"), now)
            elif self.mode != Mode.ESTOP or req == Mode.DAMPING:
                if req == Mode.ACTIVE and self.mode != Mode.RAMP:
                    req = Mode.RAMP  # the policy starts only from the held default pose
                self._enter(req, now, state)
        if self._auto:
            t = now - self.mode_since
            if self.mode == Mode.DAMPING and t >= self.cfg.damping_duration:
                self._enter(Mode.RAMP, now, state)
            elif (self.mode == Mode.RAMP and t >= self.cfg.ramp_duration + self.cfg.hold_duration
                  and self.policy is not None):
                self._enter(Mode.ACTIVE, now, state)

    def _enter(self, mode: Mode, now: float, state: RobotState | None = None) -> None:
        self.mode = mode
        self.mode_since = now
        self.transitions.append((now, mode.value))
        if mode == Mode.RAMP and state is not None:
            self._ramp_start_q = state.q.copy()
        if mode == Mode.ACTIVE:
            self.active_since = now
            if self.policy is not None:
                self.policy.reset()
            if self.reference is not None and state is not None:
                self.reference.start(state, now)

    # --- commands -------------------------------------------------------------------------------------
    def _damping(self) -> JointCommand:
        q = self._last_q if self._last_q is not None else np.zeros(self.spec.num_joints)
        return JointCommand.damping(q, self.damping_kd)

    def _ramp(self, state: RobotState, now: float) -> JointCommand:
        """Target: measured pose at entry -> default pose; gains: damping (kp 0) -> hold gains. Both smoothstep,
        so the command is continuous with the damping before it."""
        start = self._ramp_start_q if self._ramp_start_q is not None else state.q
        t = now - self.mode_since
        a = smoothstep(t / max(self.cfg.ramp_duration, 1e-6))
        g = smoothstep(t / max(self.cfg.gain_ramp, 1e-6))
        target = (1.0 - a) * start + a * self.spec.default_joint_pos
        n = self.spec.num_joints
        cmd = JointCommand(q=target, dq=np.zeros(n), tau=np.zeros(n), kp=g * self.spec.hold_kp,
                           kd=(1.0 - g) * self.damping_kd + g * self.spec.hold_kd)
        return clip_command(cmd, state, self.spec, self.lo, self.hi)

    def _active(self, state: RobotState, now: float) -> JointCommand:
        s = self.cfg.safety
        t = now - (self.active_since or now)
        frames = None
        if self.reference is not None:
            stamp = self.reference.stamp(now)
            if now - stamp > s.input_timeout + 1e-9:
                return self._fail(Fault("input_stale", None, now - stamp, now,
                                        f"reference older than {s.input_timeout:.3f}s"), now)
            frames = self.reference.frames(self.policy.reference_times(t) if self.policy else np.array([t]), state)
            self.last_frames = frames
        inputs = self.policy.observe(state, frames)
        for name, arr in inputs.items():
            if math.isfinite(float(np.add.reduce(arr, axis=None))):  # one sum; the culprit only when it is not finite
                continue
            bad = ~np.isfinite(arr)
            if bad.any():
                i = int(np.argmax(bad.reshape(-1)))
                return self._fail(Fault("nan_observation", None, float(arr.reshape(-1)[i]), now,
                                        f"{name}[{i}] ({self.policy.term_at(name, i)})"), now)
        action = self.policy.infer(inputs)
        if not math.isfinite(float(np.add.reduce(action, axis=None))):
            bad = ~np.isfinite(action)
            if bad.any():
                i = int(np.argmax(bad))
                return self._fail(Fault("nan_action", self.spec.joint_names[i], float(action[i]), now), now)
        self.policy.commit(action)
        self.last_action = action
        n = self.spec.num_joints
        kp = self.policy.kp.copy()
        q = clip_targets(self.policy.targets(action), kp, state, self.spec, self.lo, self.hi)
        cmd = JointCommand(q=q, dq=np.zeros(n), tau=np.zeros(n), kp=kp, kd=self.policy.kd.copy())
        # clip_command's dq and tau clips leave zeros zero inside +- positive limits: only a spec without them needs it
        return cmd if self._zero_feedforward_clips_to_zero else clip_command(cmd, state, self.spec, self.lo, self.hi)

    # --- faults ---------------------------------------------------------------------------------------
    def _fault(self, fault: Fault, now: float) -> None:
        self.faults.append(fault)
        self._auto = False
        log.error("fault -> damping: %s", fault)
        if self.mode != Mode.ESTOP:
            self.mode = Mode.ESTOP
            self.mode_since = now
            self.transitions.append((now, Mode.ESTOP.value))
        self._requested = None

    def _fail(self, fault: Fault, now: float) -> JointCommand:
        self._fault(fault, now)
        return self._damping()
