"""What the ROS 2 node runs, without ROS: build robot, input, policy and controller from :class:`NodeParams`,
step at 50 Hz on a :class:`~sonic_deploy.control.loop.RateLoop` thread, answer the services, and hand the node
plain data to publish (:mod:`.messages`).

Services (``std_srvs/Trigger`` in the node) map to :meth:`DeployRuntime.service` and succeed only when the
transition happened (checked after the controller's next step); the message names the new mode. ``start``: passive,
damping or a latched e-stop -> ramp to the default pose; once the ramp has finished (the pose is held) -> active.
``stop``: active -> ramp (hold the default pose). ``estop``: latched damping. ``damping``: damping (from an e-stop
too). ``calibrate``: the next teleop pose is the operator's zero. The wireless remote's bindings act inside the
controller's step; the keyboard (``operator.keyboard``, when stdin is a terminal) queues the same actions.
:meth:`DeployRuntime.shutdown` always ends with damping commands, the last thing the motors receive.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from sonic_deploy.control.controller import Controller, Mode
from sonic_deploy.control.loop import RateLoop
from sonic_deploy.control.operator import KeyboardReader
from sonic_deploy.control.remote import RemoteState
from sonic_deploy.inputs.motion_player import MotionPlayer
from sonic_deploy.inputs.motion_stream import MotionStreamInput
from sonic_deploy.inputs.smpl_stream import SmplStream
from sonic_deploy.inputs.timeline import Timeline
from sonic_deploy.inputs.token_stream import TokenStreamInput
from sonic_deploy.inputs.velocity import StickVelocity, TwistVelocity, VelocityMux
from sonic_deploy.inputs.vr_teleop import TeleopInput
from sonic_deploy.motion import find_clip_files, load_clip
from sonic_deploy.policy.formats import EMBEDDED_MOTION, VELOCITY_COMMANDED, detect, load_policy
from sonic_deploy.policy.tokens import TokenPolicy
from sonic_deploy.recording import SessionRecorder
from sonic_deploy.recording.mcap_log import _RecordingReference
from sonic_deploy.robots.base import JointCommand
from sonic_deploy.robots.g1 import G1
from sonic_deploy.ros2 import messages
from sonic_deploy.ros2.params import NodeParams

log = logging.getLogger("sonic_deploy.ros2")
SERVICES = ("start", "stop", "estop", "damping", "calibrate")
MODE_TEXT = {"passive": "passive: motors off", "damping": "damping", "ramp": "ramp: moving to and holding the default pose",
             "active": "active: policy running", "estop": "estop: latched damping (start or damping clears it)"}
LOOP_WINDOW = 500  # control periods kept for the loop's timing in /diagnostics (10 s)
FINAL_DAMPING = (5, 0.02)  # damping commands sent at shutdown, and their spacing (s): one lost packet is not the last


class DeployRuntime:
    def __init__(self, params: NodeParams, *, robot=None, clock=time.monotonic):
        self.params, self.spec, self.clock = params, G1, clock
        self.teleop = self.motion_stream = self.token_input = self.smpl = self.server = self.recorder = None
        self.cmd_vel = self.sticks = None  # velocity-commanded policies: ~/cmd_vel and the remote's sticks
        self._remote_state = RemoteState.decode
        if params["input"] == "tokens":  # decoder-only path: <policy>.decoder.onnx beside the policy
            self.policy = TokenPolicy(params["policy"], G1)
            t = params.group("teleop")
            self.reference = self.token_input = TokenStreamInput.for_policy(
                self.policy, hold_time=t["hold_time"], ease_time=t["ease_time"], resume_time=t["resume_time"])
        elif detect(params["policy"]) in EMBEDDED_MOTION:  # the reference motion is inside the policy
            self.reference, self.policy = None, load_policy(params["policy"], G1)
        elif detect(params["policy"]) in VELOCITY_COMMANDED:  # ~/cmd_vel (Twist), the remote's sticks override
            self.cmd_vel, self.sticks = TwistVelocity(clock=clock), StickVelocity()
            self.reference, self.policy = VelocityMux(self.sticks, self.cmd_vel), load_policy(params["policy"], G1)
        else:
            self.reference = self._make_input(params)
            self.policy = load_policy(params["policy"], G1, available=self.reference.provides)
        self.controller = Controller(G1, self.policy, self.reference,
                                     params.controller_config(params["field_config"] or None))
        self.robot = robot if robot is not None else self._make_robot(params)
        self._lock = threading.Lock()
        self._stepped = threading.Condition()
        self._thread: threading.Thread | None = None
        self._running = False
        self._closed = False
        self.keyboard = None
        self.loop = None
        self.steps = 0
        self._track_since, self._track_sum, self._track_n = None, 0.0, 0
        self.smpl_received = 0
        self.last_state = None
        if params["recording.enabled"]:
            d = Path(params["recording.directory"]).expanduser()
            self.recorder = SessionRecorder(d / time.strftime("sonic_%Y%m%d_%H%M%S.mcap"), self.controller,
                                            info={"params": params.values})
            if self.teleop is not None:
                self.teleop.listeners.append(self.recorder.record_pose)

    # --- construction ---------------------------------------------------------------------------------
    def _make_input(self, p: NodeParams):
        if p["input"] == "teleop":
            self.teleop = TeleopInput(p.teleop_config())
            if p["teleop.server.enabled"]:
                from sonic_deploy.teleop.server import StreamServer  # websockets (deploy extra)

                self.server = StreamServer(host=p["teleop.server.host"], port=p["teleop.server.port"],
                                           teleop=self.teleop, clock=self.clock)
            return self.teleop
        if p["input"] == "motion":
            files = find_clip_files(p["motion"])
            if not files:
                raise ValueError(f"parameter 'motion': no clip found at {p['motion']!r}")
            self.clips = {f.stem: f for f in files}
            tl = Timeline(MotionPlayer(load_clip(files[0]), loop=p["motion_player.loop"],
                                       blend_time=p["motion_player.blend_time"]), name=files[0].stem)
            tl.speed = tl.rate = p["motion_player.speed"]
            return tl
        if p["input"] == "stream":
            self.motion_stream = MotionStreamInput(blend_time=p["motion_player.blend_time"])
            return self.motion_stream
        self.smpl = SmplStream()
        return self.smpl

    @staticmethod
    def _make_robot(p: NodeParams):
        from sonic_deploy.robots.g1_dds import G1DdsRobot  # cyclonedds (deploy extra)

        return G1DdsRobot(p.dds_config())

    def twist(self, vx: float, vy: float, yaw_rate: float) -> None:
        """A geometry_msgs/Twist on ~/cmd_vel (linear.x, linear.y, angular.z) for a velocity-commanded policy."""
        if self.cmd_vel is not None:
            self.cmd_vel.push(self.clock(), vx, vy, yaw_rate)

    # --- the loop -------------------------------------------------------------------------------------
    def step(self) -> None:
        """One control period: read the state, step the controller, write its command. Until the first state
        arrives nothing is commanded (the controller's watchdog starts with the robot's first state)."""
        with self._lock:
            state = self.robot.read_state()
            if state is None and self.last_state is None:
                return
            if self.sticks is not None and state is not None:
                self.sticks.update(self._remote_state(bytes(state.wireless_remote)))
            now = self.clock()
            step = self.recorder.step if self.recorder is not None else self.controller.step
            cmd = step(state, now)
            self.robot.write_command(cmd)
            self.last_state = state
            self._track(state)
        with self._stepped:
            self.steps += 1
            self._stepped.notify_all()

    def _track(self, state) -> None:
        """Joint tracking error of the reference since it (re)started: mean |q - q_ref| over the active steps, the
        definition of sonic_deploy.sim2sim's joint_error_rad (the state each step saw against that step's frame)."""
        c = self.controller
        fr = c.last_frames  # a policy with its motion embedded reports what it tracked
        fr = fr if getattr(fr, "joint_pos", None) is not None else getattr(self.policy, "last_reference", None)
        if c.mode.value != "active" or state is None or fr is None or fr.joint_pos is None:
            return
        if c.active_since != self._track_since:
            self._track_since, self._track_sum, self._track_n = c.active_since, 0.0, 0
        self._track_sum += float(abs(state.q - fr.joint_pos[0]).mean())
        self._track_n += 1

    def tracking(self) -> tuple[float | None, float]:
        """(mean joint error in rad, seconds tracked) of the current reference since it started."""
        n = self._track_n
        return (self._track_sum / n if n else None), n * self.spec.control_dt

    def start_loop(self, stdin=None) -> None:
        """The 50 Hz control thread; the teleop server; the keyboard when ``stdin`` (default: sys.stdin) is a
        terminal and ``operator.keyboard`` is on."""
        if self.server is not None:
            self.server.start()
        stdin = sys.stdin if stdin is None else stdin
        if self.params["operator.keyboard"] and _isatty(stdin):
            keys = getattr(self.controller.cfg, "keyboard", None)
            self.keyboard = KeyboardReader(self.controller.operator, keys).start(stdin)
        self._running = True
        loop = RateLoop(1.0 / self.spec.control_dt)
        # what start-up allocated (policy, model, ROS) leaves the collector's reach: no long collection in a cycle
        gc.collect()
        gc.freeze()

        def run():
            self._realtime(self.params["realtime_priority"])
            while self._running:
                start = loop.wait()
                self.step()
                loop.done(start)
                for series in (loop.stats.periods, loop.stats.compute):  # a node runs for hours: keep a window
                    if len(series) > 2 * LOOP_WINDOW:
                        del series[:-LOOP_WINDOW]

        self._thread = threading.Thread(target=run, name="sonic-control", daemon=True)
        self._thread.start()
        self.loop = loop

    def _realtime(self, priority: int) -> None:
        """SCHED_FIFO at ``priority`` for the control thread (Linux; root or CAP_SYS_NICE), so that other processes
        on the robot's computer cannot delay a cycle; 0 leaves the normal scheduler. Refused: a warning, no fault."""
        self.realtime = None
        if priority <= 0:
            return
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
            self.realtime = priority
        except (AttributeError, OSError) as exc:
            log.warning("realtime_priority %d refused (%s): the control loop runs at normal priority", priority, exc)

    def shutdown(self) -> None:
        """Stop the loop and leave the motors damped (the last commands sent), then close everything; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._running = False
        if self.keyboard is not None:
            self.keyboard.stop()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        with self._lock:  # leave the motors damped, never on their last command
            count, spacing = FINAL_DAMPING
            for i in range(count):
                state = self.robot.read_state() if i == 0 else None
                self.last_state = state if state is not None else self.last_state
                q = self.last_state.q if self.last_state is not None else self.spec.default_joint_pos
                self.robot.write_command(JointCommand.damping(q, self.controller.damping_kd))
                if i + 1 < count:
                    time.sleep(spacing)
        if self.server is not None:
            self.server.stop()
        if self.recorder is not None:
            self.recorder.close()
        self.robot.close()

    # --- services -------------------------------------------------------------------------------------
    def service(self, name: str, timeout: float = 0.5) -> tuple[bool, str]:
        """One ``std_srvs/Trigger`` service: (success, message). Success only when the controller made the
        transition, seen after its next step; the message says the mode it is in."""
        if name == "calibrate":
            if self.teleop is None:
                return False, f"no teleop input (input is {self.params['input']})"
            self.teleop.request_calibration()
            return True, "calibration pending: the next operator pose is the operator's zero"
        if name not in SERVICES:
            return False, f"unknown service {name!r} (services: {', '.join(SERVICES)})"
        with self._lock:
            now = self.clock()
            want, refusal = self._plan(name, now)
            if refusal is not None:
                return False, refusal
            self._apply(name, now)
            steps = self.steps
        self._await_step(steps, timeout)
        mode = self.controller.mode.value
        if mode != want:
            return False, f"{mode}: the {name} transition did not happen ({name} wants {want})"
        return True, MODE_TEXT[mode]

    def _plan(self, name: str, now: float) -> tuple[str, str | None]:
        """The mode ``name`` leads to, or why it does nothing from the current mode."""
        c = self.controller
        mode = c.mode
        if name == "start":
            if mode == Mode.ACTIVE:
                return "active", "active: already running the policy"
            if mode == Mode.RAMP:
                left = c.cfg.ramp_duration - (now - c.mode_since)
                if left > 0:
                    return "active", f"ramp: {left:.1f} s until the default pose is held; call start again then"
                return "active", None
            return "ramp", None
        if name == "stop":
            if mode != Mode.ACTIVE:
                return "ramp", f"{mode.value}: the policy is not running, nothing to stop"
            return "ramp", None
        if name == "estop":
            return "estop", ("estop: already latched (damping)" if mode == Mode.ESTOP else None)
        # damping
        return "damping", ("damping: already damping" if mode == Mode.DAMPING else None)

    def _apply(self, name: str, now: float) -> None:
        c, rec = self.controller, self.recorder
        request = rec.request if rec is not None else (lambda m, now=None: c.request(m))
        clear = rec.clear_faults if rec is not None else c.clear_faults
        if name == "estop":
            (rec.estop if rec is not None else c.estop)(now, "ros2 service")
            return
        if c.mode == Mode.ESTOP:  # start and damping leave a latched fault (into damping first)
            clear(now)
        request(Mode.ACTIVE if name == "start" else Mode.RAMP if name == "stop" else Mode.DAMPING, now)

    def _await_step(self, steps: int, timeout: float) -> None:
        """Until the controller has stepped past ``steps``: the loop's next period, or one step here without a loop."""
        if self._thread is None or not self._thread.is_alive():
            self.step()
            return
        with self._stepped:
            self._stepped.wait_for(lambda: self.steps > steps, timeout)

    def motion_command(self, cmd) -> tuple[bool, str]:
        """``~/motion/command``: play a clip (restarting the policy's time base), pause, resume, stop, speed."""
        if not isinstance(self.reference, Timeline):
            return False, f"motion commands need input:=motion (input is {self.params['input']})"
        with self._lock:
            tl = self.reference
            if cmd.speed is not None:
                tl.speed = cmd.speed
            if cmd.action == "play":
                path = self.clips.get(cmd.clip) or (Path(cmd.clip) if Path(cmd.clip).is_file() else None)
                if path is None:
                    return False, f"unknown clip {cmd.clip!r} (have {sorted(self.clips)})"
                player = MotionPlayer(load_clip(path), loop=self.params["motion_player.loop"] if cmd.loop is None else cmd.loop,
                                      blend_time=self.params["motion_player.blend_time"])
                if set(player.provides) < set(self.reference.provides):
                    return False, f"clip {cmd.clip!r} lacks what the policy needs"
                new = Timeline(player, name=path.stem)
                new.speed = new.rate = tl.speed
                self.reference = self.controller.reference = new
                if self.recorder is not None:
                    self.controller.reference = _RecordingReference(new, self.recorder)
                if self.controller.mode == Mode.ACTIVE and self.last_state is not None:
                    now = self.clock()
                    new.start(self.last_state, now)
                    self.controller.active_since = now
                return True, f"playing {cmd.clip} at {tl.speed}x"
            if cmd.action == "pause":
                tl.set_rate(0.0)
                return True, "paused"
            if cmd.action == "resume" or cmd.action == "speed":
                tl.set_rate(tl.speed)
                return True, f"playing at {tl.speed}x"
            if cmd.action == "stop":
                self.controller.request(Mode.RAMP)
                return True, "stopped: holding the default pose"
        return False, f"unknown action {cmd.action!r}"

    # --- what the node subscribes to -----------------------------------------------------------------
    def motion_frame(self, text: str) -> None:
        """``~/motion/frames`` (``std_msgs/String``): one motion frame into the stream input (ValueError if bad)."""
        if self.motion_stream is None:
            raise ValueError(f"motion frames need input:=stream (input is {self.params['input']})")
        self.motion_stream.push_message(messages.motion_frame_from_string(text), self.clock())

    def tokens_in(self, data) -> None:
        """``~/tokens_in`` (``std_msgs/Int32MultiArray.data``): token indices into the token input."""
        if self.token_input is None:
            raise ValueError(f"tokens need input:=tokens (input is {self.params['input']})")
        self.token_input.push(messages.token_indices_from_array(data, self.token_input.codec.num_tokens), self.clock())

    def smpl_in(self, data) -> None:
        """``~/smpl/joints`` (``std_msgs/Float32MultiArray.data``): SMPL joints [F x 24 x 3] into the SMPL input."""
        if self.smpl is None:
            raise ValueError(f"SMPL joints need input:=smpl (input is {self.params['input']})")
        self.smpl.push(self.clock(), **messages.smpl_sample_from_array(data))
        self.smpl_received += 1

    # --- what the node publishes ----------------------------------------------------------------------
    def joint_state(self) -> dict | None:
        s = self.last_state
        return None if s is None else messages.joint_state(self.spec, s)

    def diagnostics(self) -> list[dict]:
        now = self.clock()
        out = messages.diagnostics(self.controller, now, teleop=self.teleop)
        if self.loop is not None:
            out.append(messages.loop_diagnostics(self.loop.stats, self.spec.control_dt))
        out.append(messages.input_diagnostics(self.params["input"], self.reference, now, received=self.smpl_received
                                              if self.smpl is not None else None, tracking=self.tracking()))
        return out

    def tokens(self) -> list[int]:
        return messages.token_list(getattr(self.policy, "tokens", None))  # token policies only


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
