"""What the ROS 2 node runs, without ROS: build robot, input, policy and controller from :class:`NodeParams`,
step at 50 Hz on a :class:`~sonic_deploy.control.loop.RateLoop` thread, answer the services, and hand the node
plain data to publish (:mod:`.messages`).

Services (``std_srvs/Trigger`` in the node) map to :meth:`DeployRuntime.service`: ``start`` (the first call ramps
to the default pose, a second one once it is held activates the policy; from an e-stop it first clears the fault), ``stop`` (back to the held default pose),
``estop`` (latched damping), ``damping``; ``calibrate`` zeroes the teleop operator.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sonic_deploy.ros2 import messages
from sonic_deploy.ros2.params import NodeParams


class DeployRuntime:
    def __init__(self, params: NodeParams, *, robot=None, clock=time.monotonic):
        from sonic_deploy.control.controller import Controller
        from sonic_deploy.policy.runner import PolicyRunner
        from sonic_deploy.robots.g1 import G1

        self.params, self.spec, self.clock = params, G1, clock
        self.teleop = self.motion_stream = self.token_input = self.server = self.recorder = None
        if params["input"] == "tokens":  # decoder-only path: <policy>.decoder.onnx beside the policy
            from sonic_deploy.field.tokens import TokenStreamInput
            from sonic_deploy.policy.tokens import TokenPolicy

            self.policy = TokenPolicy(params["policy"], G1)
            t = params.group("teleop")
            self.reference = self.token_input = TokenStreamInput.for_policy(
                self.policy, hold_time=t["hold_time"], ease_time=t["ease_time"], resume_time=t["resume_time"])
        else:
            self.reference = self._make_input(params)
            self.policy = PolicyRunner(params["policy"], G1, available=self.reference.provides)
        self.controller = Controller(G1, self.policy, self.reference, params.controller_config())
        self.robot = robot if robot is not None else self._make_robot(params)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._running = False
        self.last_state = None
        if params["recording.enabled"]:
            from sonic_deploy.recording import SessionRecorder

            d = Path(params["recording.directory"]).expanduser()
            self.recorder = SessionRecorder(d / time.strftime("sonic_%Y%m%d_%H%M%S.mcap"), self.controller,
                                            info={"params": params.values})
            if self.teleop is not None:
                self.teleop.listeners.append(self.recorder.record_pose)

    # --- construction ---------------------------------------------------------------------------------
    def _make_input(self, p: NodeParams):
        if p["input"] == "teleop":
            from sonic_deploy.teleop.input import TeleopInput

            self.teleop = TeleopInput(p.teleop_config())
            if p["teleop.server.enabled"]:
                from sonic_deploy.teleop.server import StreamServer

                self.server = StreamServer(host=p["teleop.server.host"], port=p["teleop.server.port"],
                                           teleop=self.teleop, clock=self.clock)
            return self.teleop
        if p["input"] == "motion":
            from sonic_deploy.inputs.motion_player import MotionPlayer
            from sonic_deploy.motion import find_clip_files, load_clip

            files = find_clip_files(p["motion"])
            if not files:
                raise ValueError(f"parameter 'motion': no clip found at {p['motion']!r}")
            self.clips = {f.stem: f for f in files}
            tl = Timeline(MotionPlayer(load_clip(files[0]), loop=p["motion_player.loop"],
                                       blend_time=p["motion_player.blend_time"]))
            tl.speed = tl.rate = p["motion_player.speed"]
            return tl
        if p["input"] == "stream":
            from sonic_deploy.teleop.motion_stream import MotionStreamInput

            self.motion_stream = MotionStreamInput(blend_time=p["motion_player.blend_time"])
            return self.motion_stream
        from sonic_deploy.inputs.streams import SmplStream

        return SmplStream()

    @staticmethod
    def _make_robot(p: NodeParams):
        from sonic_deploy.dds.channel import DdsConfig
        from sonic_deploy.robots.g1_dds import G1DdsRobot

        return G1DdsRobot(DdsConfig(domain_id=p["domain_id"], interface=p["network_interface"]))

    # --- the loop -------------------------------------------------------------------------------------
    def step(self) -> None:
        with self._lock:
            state = self.robot.read_state()
            now = self.clock()
            step = self.recorder.step if self.recorder is not None else self.controller.step
            cmd = step(state, now)
            self.robot.write_command(cmd)
            self.last_state = state

    def start_loop(self) -> None:
        from sonic_deploy.control.loop import RateLoop

        if self.server is not None:
            self.server.start()
        self._running = True
        loop = RateLoop(1.0 / self.spec.control_dt)

        def run():
            while self._running:
                start = loop.wait()
                self.step()
                loop.done(start)

        self._thread = threading.Thread(target=run, name="sonic-control", daemon=True)
        self._thread.start()
        self.loop = loop

    def shutdown(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        with self._lock:  # leave the motors damped, never on their last command
            from sonic_deploy.robots.base import JointCommand

            q = self.last_state.q if self.last_state is not None else self.spec.default_joint_pos
            self.robot.write_command(JointCommand.damping(q, self.controller.damping_kd))
        if self.server is not None:
            self.server.stop()
        if self.recorder is not None:
            self.recorder.close()
        self.robot.close()

    # --- services -------------------------------------------------------------------------------------
    def service(self, name: str) -> tuple[bool, str]:
        from sonic_deploy.control.controller import Mode

        with self._lock:
            now = self.clock()
            c = self.controller
            req = self.recorder.request if self.recorder is not None else (lambda m, now=None: c.request(m))
            if name == "start":
                if c.mode == Mode.ESTOP:
                    (self.recorder.clear_faults if self.recorder else c.clear_faults)(now)
                req(Mode.ACTIVE, now)  # the controller ramps first unless the default pose is already held
                return True, "ramp to the default pose" if c.mode != Mode.RAMP else "policy active"
            if name == "stop":
                req(Mode.RAMP, now)
                return True, "holding the default pose"
            if name == "estop":
                (self.recorder.estop if self.recorder else c.estop)(now, "ros2 service")
                return True, "e-stop latched (damping)"
            if name == "damping":
                if c.mode == Mode.ESTOP:
                    (self.recorder.clear_faults if self.recorder else c.clear_faults)(now)
                req(Mode.DAMPING, now)
                return True, "damping"
            if name == "calibrate":
                if self.teleop is None:
                    return False, "no teleop input"
                self.teleop.request_calibration()
                return True, "the next operator pose calibrates"
        return False, f"unknown service {name!r}"

    def motion_command(self, cmd) -> tuple[bool, str]:
        """``~/motion/command``: play a clip (restarting the policy's time base), pause, resume, stop, speed."""
        from sonic_deploy.control.controller import Mode

        if not isinstance(self.reference, Timeline):
            return False, f"motion commands need input:=motion (input is {self.params['input']})"
        with self._lock:
            tl = self.reference
            if cmd.speed is not None:
                tl.speed = cmd.speed
            if cmd.action == "play":
                from sonic_deploy.inputs.motion_player import MotionPlayer
                from sonic_deploy.motion import load_clip

                path = self.clips.get(cmd.clip) or (Path(cmd.clip) if Path(cmd.clip).is_file() else None)
                if path is None:
                    return False, f"unknown clip {cmd.clip!r} (have {sorted(self.clips)})"
                player = MotionPlayer(load_clip(path), loop=self.params["motion_player.loop"] if cmd.loop is None else cmd.loop,
                                      blend_time=self.params["motion_player.blend_time"])
                if set(player.provides) < set(self.reference.provides):
                    return False, f"clip {cmd.clip!r} lacks what the policy needs"
                new = Timeline(player)
                new.speed = new.rate = tl.speed
                self.reference = self.controller.reference = new
                if self.recorder is not None:
                    from sonic_deploy.recording.mcap_log import _RecordingReference

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

    # --- what the node publishes ----------------------------------------------------------------------
    def joint_state(self) -> dict | None:
        s = self.last_state
        return None if s is None else messages.joint_state(self.spec, s)

    def diagnostics(self) -> list[dict]:
        return messages.diagnostics(self.controller, self.clock(), teleop=self.teleop)

    def tokens(self) -> list[int]:
        return messages.token_list(self.policy.tokens)


class Timeline:
    """Wraps a motion player: clip time = anchor + rate (t - t_anchor), so pause (rate 0), resume and speed changes
    continue from where the clip is instead of jumping; joint velocities scale with the rate."""

    def __init__(self, player):
        self.player = player
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

    def clip_time(self, t):
        return self._c_anchor + self.rate * (t - self._t_anchor)

    def set_rate(self, rate: float) -> None:
        self._c_anchor = float(self.clip_time(self._t_last))
        self._t_anchor = self._t_last
        self.rate = rate

    def frames(self, times, state=None):
        import numpy as np

        times = np.atleast_1d(np.asarray(times, np.float64))
        self._t_last = float(times[0])
        fr = self.player.frames(self.clip_time(times), state)
        if fr.joint_vel is not None:
            fr.joint_vel = fr.joint_vel * self.rate
        return fr
