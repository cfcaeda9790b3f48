"""Sim-to-sim: the deploy controller against MuJoCo, in-process or through the DDS bridge on loopback.

In-process runs on a simulated clock as fast as it can. ``through_dds`` starts ``sonic-deploy bridge`` in
lock-step as a subprocess on loopback and drives it with the real :class:`G1DdsRobot`, so the run uses the
hardware code path (codec, CRC, QoS) and still reproduces the in-process run step for step. ``realtime`` runs as
on the robot: the bridge free-running (physics on the wall clock, the G1 on its virtual gantry until the controller
holds it), the controller on its own 50 Hz wall-clock loop (:class:`~sonic_deploy.control.loop.RateLoop`) reading
whatever state arrived last; the report adds the loop's timing (jitter, overruns, missed cycles). Either way the
controller sequences damping -> ramp -> active; the report has fall (and when), tracking errors (MPJPE
global / root-relative in mm over the tracked bodies, mean absolute joint error), loop timing, real-time
factor and faults. Tracking is evaluated from the simulator's ground-truth trajectory (the bridge records it);
as on the robot, the player knows no position, so the reference's horizontal position is aligned with the
pelvis at activation for the global MPJPE.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import mujoco
import numpy as np

from sonic_deploy.config.loader import load_controller_config
from sonic_deploy.control.controller import Controller, ControllerConfig, Mode
from sonic_deploy.control.loop import RateLoop
from sonic_deploy.control.operator import OperatorQueue
from sonic_deploy.control.remote import RemoteScript
from sonic_deploy.control.safety import SafetyConfig
from sonic_deploy.inputs.motion_player import MotionPlayer
from sonic_deploy.inputs.velocity import VelocitySchedule
from sonic_deploy.motion import load_clip
from sonic_deploy.motion.motion_sets import split_of
from sonic_deploy.policy.base import EmbeddedMotion, VelocityCommanded
from sonic_deploy.policy.formats import load_policy
from sonic_deploy.render import GhostRenderer
from sonic_deploy.robots.base import JointCommand
from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_deploy.robots.mujoco_robot import MujocoRobot
from sonic_deploy.utils.rotations import tilt_deg, yaw_of

FALL_HEIGHT = 0.35  # pelvis below this (m): fell
FALL_TILT = SafetyConfig().max_tilt_deg  # deg: the controller's own fall threshold


@dataclass
class Sim2SimConfig:
    duration: float | None = 10.0  # seconds of simulated time, including damping and ramp (None: the whole
    # embedded motion of a policy that carries one, else 10 s)
    through_dds: bool = False
    domain_id: int = 42
    interface: str = "lo"
    # start-up times; None: the field configuration's (sonic_deploy/config/g1_field.yaml, controller:)
    damping_duration: float | None = None
    ramp_duration: float | None = None
    hold_duration: float | None = None
    field_config: str | None = None  # a user field configuration on top of the packaged one (--field-config)
    remote: tuple[str, ...] = ()  # scripted remote presses "TIME:BUTTON+BUTTON" (RemoteScript; --remote)
    operator: OperatorQueue | None = None  # operator actions from other threads (the keyboard) for the controller
    blend_time: float = 1.0
    speed: float = 1.0
    loop_motion: bool = True
    bridge_timeout: float = 20.0
    cmd_vel: tuple = ()  # velocity-commanded policies: ((t_from, vx, vy, yaw_rate), ...), t in s since active
    velocity_source: object | None = None  # or any velocity ReferenceSource (keyboard, remote): overrides cmd_vel
    realtime: bool = False  # free-running bridge + wall-clock controller loop (implies DDS)
    # realtime: scheduling priority (niceness, negative needs root) of the controller and the bridge while they run,
    # as a robot's control loop runs above the rest of its computer (None: inherit)
    nice: int | None = None
    peers: tuple[str, ...] = ()  # DDS unicast peers (DdsConfig.for_network)
    uint8_kind: str = "byte"
    precision: str = "auto"  # a sonic export's INT8 variant on a CPU where its export checked it; "fp32" forces FP32

    def controller_config(self) -> ControllerConfig:
        """The field configuration for robot ``sim`` (``field_config`` on top of the packaged file) with this run's
        start-up times where given."""
        times = {f"controller.{k}": getattr(self, k) for k in ("damping_duration", "ramp_duration", "hold_duration")
                 if getattr(self, k) is not None}
        return load_controller_config("sim", self.field_config, times)


@dataclass
class Sim2SimReport:
    policy: str
    motion: str
    mode: str
    completed: bool
    fell: bool
    fall_time: float | None
    duration_s: float
    active_s: float
    mpjpe_global_mm: float | None
    mpjpe_root_mm: float | None
    joint_error_rad: float | None
    period_p50_ms: float
    period_p99_ms: float
    step_p50_ms: float
    step_p99_ms: float
    overruns: int
    realtime_factor: float
    faults: list = field(default_factory=list)
    transitions: list = field(default_factory=list)
    dds: dict = field(default_factory=dict)
    policy_format: str = ""
    travel_m: float | None = None  # pelvis displacement over the horizontal plane while active (m)
    forward_m: float | None = None  # of which along the pelvis heading at activation (m)
    turn_deg: float | None = None  # pelvis heading change while active (deg)

    @property
    def ok(self) -> bool:
        return self.completed and not self.faults

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=float)


class _Trace:
    def __init__(self):
        self.tick, self.mode, self.t_active, self.q_ref, self.body_ref, self.wall = [], [], [], [], [], []
        self.root_ref: list = []  # (root_pos, root_quat) of the reference at each step, for the video ghost


def _record_step(trace: _Trace, tick: int, ctrl: Controller, player: MotionPlayer, now: float, wall: float) -> None:
    trace.tick.append(tick)
    trace.mode.append(ctrl.mode.value)
    trace.wall.append(wall)
    fr = ctrl.last_frames  # a policy with its motion embedded reports what it tracked
    fr = fr if getattr(fr, "joint_pos", None) is not None else getattr(ctrl.policy, "last_reference", None)
    if ctrl.mode == Mode.ACTIVE and fr is not None:
        trace.t_active.append(now - ctrl.active_since)
        trace.q_ref.append(fr.joint_pos[0])  # frame 0 = the reference at this step's time
        trace.body_ref.append(fr.body_pos_w[0])
        trace.root_ref.append(None if fr.root_pos is None else (fr.root_pos[0], fr.root_quat[0]))
    else:
        trace.t_active.append(np.nan)
        trace.q_ref.append(None)
        trace.body_ref.append(None)
        trace.root_ref.append(None)


def evaluate(model: mujoco.MjModel, spec: RobotSpec, ticks: np.ndarray, qpos: np.ndarray, trace: _Trace,
             body_names: tuple) -> dict:
    """Tracking metrics from a ground-truth qpos trajectory keyed by tick; the state at tick k is what the
    controller saw when it commanded step k, so it is compared with the reference for that step."""
    data = mujoco.MjData(model)
    bid = np.array([model.body(n).id for n in body_names])
    by_tick = {int(t): i for i, t in enumerate(ticks)}
    errs_g, errs_r, jerr, fall_time, offset = [], [], [], None, None
    active_q = []  # pelvis pose while active: travel and turn of velocity-commanded policies
    for k, tick in enumerate(trace.tick):
        i = by_tick.get(int(tick))
        if i is None:
            continue
        q = qpos[i]
        if trace.mode[k] == "active":
            active_q.append(q[:7])
        tilt = tilt_deg(q[3:7])
        if fall_time is None and (q[2] < FALL_HEIGHT or tilt > FALL_TILT):
            fall_time = tick / 1000.0
        if trace.q_ref[k] is None:
            continue
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        p = data.xpos[bid]
        ref = trace.body_ref[k]
        if offset is None:  # the robot has no odometry: align the reference's xy with the pelvis at activation
            offset = np.array([p[0, 0] - ref[0, 0], p[0, 1] - ref[0, 1], 0.0])
        ref = ref + offset
        errs_g.append(np.linalg.norm(p - ref, axis=-1).mean())
        errs_r.append(np.linalg.norm((p - p[0]) - (ref - ref[0]), axis=-1).mean())
        jerr.append(np.abs(q[7:7 + spec.num_joints] - trace.q_ref[k]).mean())
    mean = lambda v, s=1.0: float(np.mean(v) * s) if v else None  # noqa: E731
    return {"mpjpe_global_mm": mean(errs_g, 1e3), "mpjpe_root_mm": mean(errs_r, 1e3), "joint_error_rad": mean(jerr),
            "fell": fall_time is not None, "fall_time": fall_time, **travel(np.asarray(active_q))}


def travel(root: np.ndarray) -> dict:
    """Horizontal displacement, its part along the initial heading, and the (unwrapped) heading change."""
    if len(root) < 2:
        return {"travel_m": None, "forward_m": None, "turn_deg": None}
    yaw = np.unwrap(yaw_of(root[:, 3:7]))
    d = root[-1, :2] - root[0, :2]
    return {"travel_m": float(np.linalg.norm(d)), "forward_m": float(d @ [np.cos(yaw[0]), np.sin(yaw[0])]),
            "turn_deg": float(np.degrees(yaw[-1] - yaw[0]))}


def _build(policy_path, motion_path, spec, cfg: Sim2SimConfig, robot_position=None):
    clip = player = None
    if motion_path:
        clip = load_clip(motion_path)
        body_names = tuple(b for b in spec.tracked_bodies if b in clip.body_names)
        player = MotionPlayer(clip, speed=cfg.speed, loop=cfg.loop_motion, blend_time=cfg.blend_time,
                              robot_position=robot_position, body_names=body_names)
    runner = load_policy(policy_path, spec, available=player.provides if player else None, precision=cfg.precision)
    if isinstance(runner, EmbeddedMotion):
        if player is not None:
            raise ValueError(f"{policy_path}: the policy embeds its reference motion ({runner.motion_duration:.1f} s); "
                             "run it without --motion")
        body_names = runner.reference_bodies
    elif isinstance(runner, VelocityCommanded):
        if player is not None:
            raise ValueError(f"{policy_path}: a {runner.format} policy walks on velocity commands (--cmd-vel), not --motion")
        player, body_names = cfg.velocity_source or VelocitySchedule(cfg.cmd_vel), ()
    elif player is None:
        raise ValueError(f"{policy_path}: a {runner.format} policy tracks a reference: give --motion")
    ctrl = Controller(spec, runner, player, cfg.controller_config(), operator_queue=cfg.operator)
    return clip, player, runner, ctrl, body_names


def run_inprocess(policy_path, motion_path, cfg: Sim2SimConfig = Sim2SimConfig(), spec: RobotSpec = G1,
                  progress=None):
    robot = MujocoRobot(spec, float32_io=True)
    robot.clock = lambda: robot.tick_ms / 1000.0  # the same clock as the robot's tick over DDS
    clip, player, runner, ctrl, body_names = _build(policy_path, motion_path, spec, cfg)
    remote = RemoteScript.parse(cfg.remote)
    n = int(round(cfg.duration / spec.control_dt))
    trace = _Trace()
    ticks, qpos, step_t = [], [], []
    t_wall0 = time.perf_counter()
    for k in range(n):
        w0 = time.perf_counter()
        state = robot.read_state()
        ticks.append(robot.tick_ms)
        qpos.append(robot.data.qpos.copy())
        now = robot.tick_ms / 1000.0
        if remote.events:  # the remote's bytes in the state, as the bridge puts them in LowState_
            state.wireless_remote = remote.bytes_at(now)
        cmd = ctrl.step(state, now)
        _record_step(trace, robot.tick_ms, ctrl, player, now, w0)
        robot.write_command(cmd)
        robot.advance()
        step_t.append(time.perf_counter() - w0)
        if progress:
            progress(k + 1, n)
    wall = time.perf_counter() - t_wall0
    ev = evaluate(robot.model, spec, np.asarray(ticks), np.asarray(qpos), trace, body_names)
    st = np.asarray(step_t) * 1e3
    return _report(policy_path, motion_path, "in-process", True, cfg, ctrl, ev, np.full(n, spec.control_dt * 1e3), st,
                   0, cfg.duration / wall, {}), (trace, np.asarray(ticks), np.asarray(qpos), robot.model)


def start_bridge(domain_id: int, interface: str, record: str, idle_timeout: float = 5.0, *, lockstep: bool = True,
                 duration: float | None = None, peers: tuple[str, ...] = (), uint8_kind: str = "byte",
                 remote: tuple[str, ...] = (), field_config: str | None = None,
                 nice: int | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "sonic_deploy.bridge", "--domain", str(domain_id), "--interface", interface,
           "--record", record, "--quiet", "--uint8-kind", uint8_kind]
    cmd += ["--lockstep", "--idle-timeout", str(idle_timeout)] if lockstep else ["--duration", str(duration)]
    if peers:
        cmd += ["--peers", ",".join(peers)]
    cmd += [f"--remote={r}" for r in remote]  # scripted remote presses, in the LowState_ the bridge publishes
    if field_config:
        cmd += ["--field-config", str(field_config)]
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    pre = (lambda: _set_nice(nice)) if nice is not None else None
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=pre)


def _set_nice(value: int) -> int | None:
    """Set this process's niceness; returns the previous one (None where not permitted: no root, no such OS call)."""
    try:
        old = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, 0, value)
        return old
    except (OSError, AttributeError):
        return None


def run_through_dds(policy_path, motion_path, cfg: Sim2SimConfig = Sim2SimConfig(), spec: RobotSpec = G1,
                    progress=None):
    from sonic_deploy.dds.channel import DdsConfig  # lazy: cyclonedds (~0.1 s), only for runs through DDS
    from sonic_deploy.robots.g1_dds import G1DdsRobot  # lazy: cyclonedds, as above

    tmp = tempfile.mkdtemp(prefix="sonic_sim2sim_")
    record = os.path.join(tmp, "bridge_trajectory.npz")
    proc = start_bridge(cfg.domain_id, cfg.interface, record, remote=cfg.remote, field_config=cfg.field_config)
    try:
        robot = G1DdsRobot(DdsConfig.for_network(cfg.interface, cfg.domain_id, cfg.peers, cfg.uint8_kind), spec,
                           lockstep=True)
        clip, player, runner, ctrl, body_names = _build(policy_path, motion_path, spec, cfg)
        if not robot.wait_connected(cfg.bridge_timeout):
            raise RuntimeError(f"bridge on domain {cfg.domain_id} ({cfg.interface}) did not answer within "
                               f"{cfg.bridge_timeout:.0f}s: {proc.poll()=}")
        n = int(round(cfg.duration / spec.control_dt))
        trace = _Trace()
        periods, step_t = [], []
        state = robot.read_state()
        completed = True
        t_wall0 = last = time.perf_counter()
        for k in range(n):
            w0 = time.perf_counter()
            if k:
                state = robot.wait_state(after_tick=state.tick, timeout_s=2.0)
                if state is None:
                    completed = False
                    break
            now = state.tick / 1000.0
            state.timestamp = now
            cmd = ctrl.step(state, now)
            _record_step(trace, state.tick, ctrl, player, now, w0)
            robot.write_command(cmd)
            t1 = time.perf_counter()
            step_t.append(t1 - w0)
            periods.append(t1 - last)
            last = t1
            if progress:
                progress(k + 1, n)
        wall = time.perf_counter() - t_wall0
    finally:
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.terminate()
            out, err = proc.communicate(timeout=5)
    rec, ev, dds = _bridge_outcome(proc, err, record, robot, spec, trace, body_names)
    sim_time = len(step_t) * spec.control_dt
    return _report(policy_path, motion_path, "through-dds (lock-step)", completed, cfg, ctrl, ev,
                   np.asarray(periods[1:] or [0.0]) * 1e3, np.asarray(step_t) * 1e3, 0, sim_time / wall, dds), \
        (trace, rec["tick"], rec["qpos"], None)


def _bridge_outcome(proc, err: str, record: str, robot, spec: RobotSpec, trace: _Trace, body_names):
    """The bridge's recorded trajectory, its evaluation against the trace, and the DDS counters of both ends."""
    if not os.path.exists(record):
        raise RuntimeError(f"bridge exited ({proc.returncode}) without a trajectory: {err[-2000:]}")
    rec = np.load(record)
    ev = evaluate(MujocoRobot(spec).model, spec, rec["tick"], rec["qpos"], trace, body_names)
    dds = {"states_received": robot.stats.states_received, "states_bad_crc": robot.stats.states_bad_crc,
           "commands_sent": robot.stats.commands_sent, "bridge_commands_received": int(rec["commands_received"]),
           "bridge_commands_bad_crc": int(rec["commands_bad_crc"])}
    return rec, ev, dds


def _report(policy, motion, mode, completed, cfg, ctrl, ev, periods_ms, step_ms, overruns, rtf, dds) -> Sim2SimReport:
    active = [t for t, m in ctrl.transitions if m == "active"]
    end = cfg.duration
    return Sim2SimReport(
        policy=str(policy), motion=str(motion) if motion else "embedded" if isinstance(ctrl.policy, EmbeddedMotion)
        else "velocity command", mode=mode, completed=completed, fell=ev["fell"], fall_time=ev["fall_time"],
        duration_s=cfg.duration, active_s=(end - active[0]) if active and ctrl.mode == Mode.ACTIVE else 0.0,
        mpjpe_global_mm=ev["mpjpe_global_mm"], mpjpe_root_mm=ev["mpjpe_root_mm"], joint_error_rad=ev["joint_error_rad"],
        period_p50_ms=float(np.percentile(periods_ms, 50)), period_p99_ms=float(np.percentile(periods_ms, 99)),
        step_p50_ms=float(np.percentile(step_ms, 50)), step_p99_ms=float(np.percentile(step_ms, 99)), overruns=overruns,
        realtime_factor=float(rtf), faults=[asdict(f) for f in ctrl.faults], transitions=list(ctrl.transitions), dds=dds,
        policy_format=getattr(ctrl.policy, "format", ""), travel_m=ev.get("travel_m"), forward_m=ev.get("forward_m"),
        turn_deg=ev.get("turn_deg"))


def run_realtime(policy_path, motion_path, cfg: Sim2SimConfig = Sim2SimConfig(), spec: RobotSpec = G1,
                 progress=None):
    """The controller on a 50 Hz wall-clock loop against the free-running bridge through DDS, as on the robot.

    The bridge starts first with the G1 on its gantry; the controller sequences damping -> ramp -> hold -> active
    on its own clock (seconds since its loop started), reading the latest state each cycle. Tracking is evaluated
    from the bridge's ground truth at the ticks the controller saw; the video and plot get one frame per cycle."""
    from sonic_deploy.dds.channel import DdsConfig  # lazy: cyclonedds (~0.1 s), only for runs through DDS
    from sonic_deploy.robots.g1_dds import G1DdsRobot  # lazy: cyclonedds, as above

    tmp = tempfile.mkdtemp(prefix="sonic_sim2sim_rt_")
    record = os.path.join(tmp, "bridge_trajectory.npz")
    proc = start_bridge(cfg.domain_id, cfg.interface, record, lockstep=False,
                        duration=cfg.duration + 2 * cfg.bridge_timeout, peers=cfg.peers, uint8_kind=cfg.uint8_kind,
                        remote=cfg.remote, field_config=cfg.field_config, nice=cfg.nice)
    old_nice = _set_nice(cfg.nice) if cfg.nice is not None else None
    trace = _Trace()
    loop = RateLoop(1.0 / spec.control_dt)
    n = int(round(cfg.duration / spec.control_dt))
    try:
        robot = G1DdsRobot(DdsConfig.for_network(cfg.interface, cfg.domain_id, cfg.peers, cfg.uint8_kind), spec)
        clip, player, runner, ctrl, body_names = _build(policy_path, motion_path, spec, cfg)
        if not robot.wait_connected(cfg.bridge_timeout):
            raise RuntimeError(f"bridge on domain {cfg.domain_id} ({cfg.interface}) did not answer within "
                               f"{cfg.bridge_timeout:.0f}s: {proc.poll()=}")
        t_begin = time.monotonic()
        robot.clock = lambda: time.monotonic() - t_begin  # the controller's clock: seconds since its loop started
        ticks_seen: list[int] = []

        def cycle(start: float) -> None:
            now = start - t_begin
            state = robot.read_state()
            cmd = ctrl.step(state, now)
            _record_step(trace, state.tick if state is not None else -1, ctrl, player, now, start)
            robot.write_command(cmd)
            ticks_seen.append(state.tick if state is not None else -1)
            if progress:
                progress(min(len(ticks_seen), n), n)

        loop.run(cycle, cfg.duration)
        last = robot.read_state()
        if last is not None:  # leave the motors braking, as the node does on exit
            robot.write_command(JointCommand.damping(last.q, ctrl.damping_kd))
    finally:
        if old_nice is not None:
            _set_nice(old_nice)
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate(timeout=5)
    rec, ev, dds = _bridge_outcome(proc, err, record, robot, spec, trace, body_names)
    timing = loop.stats.summary(spec.control_dt)
    dds |= {"gantry_released_s": float(rec["gantry_released_s"]) if "gantry_released_s" in rec else None,
            "loop_jitter_p99_ms": timing["jitter_p99_ms"], "loop_jitter_max_ms": timing["jitter_max_ms"],
            "loop_missed": timing["missed"], "loop_compute_max_ms": 1e3 * max(loop.stats.compute, default=0.0)}
    by_tick = {int(t): i for i, t in enumerate(rec["tick"])}
    idx = [by_tick[t] for t in ticks_seen if t in by_tick]
    periods = np.asarray(loop.stats.periods or [spec.control_dt]) * 1e3
    compute = np.asarray(loop.stats.compute or [0.0]) * 1e3
    seen = [t for t in ticks_seen if t >= 0]
    rtf = (seen[-1] - seen[0]) / 1000.0 / cfg.duration if len(seen) > 1 else 0.0  # bridge time per controller time
    # ran to the end of its wall-clock duration with a state every cycle (an overrun re-anchors the loop's schedule,
    # so the cycle count on a loaded machine may fall short of duration / dt)
    completed = bool(trace.wall) and trace.wall[-1] - t_begin >= cfg.duration - 2 * spec.control_dt \
        and min(ticks_seen, default=-1) >= 0
    report = _report(policy_path, motion_path, "real-time (free-running bridge)", completed, cfg,
                     ctrl, ev, periods, compute, timing["overruns"], rtf, dds)
    return report, (trace, rec["tick"][idx], rec["qpos"][idx], None)


def resolve_config(policy_path, cfg: Sim2SimConfig, spec: RobotSpec = G1, *, damping: float | None = None
                   ) -> Sim2SimConfig:
    """``duration`` None: lead-in plus the whole embedded motion of a policy that carries one, else 10 s.
    ``damping`` None: the policy's own start-up (``startup_damping_s``: holosoma starts from its stiff hold, with no
    damping phase in which the unsupported G1 sags) or the config's."""
    policy = load_policy(policy_path, spec)
    if damping is None:
        damping = getattr(policy, "startup_damping_s", cfg.damping_duration)
    cfg = replace(cfg, damping_duration=damping)
    if cfg.duration is not None:
        return cfg
    c = cfg.controller_config()
    lead_in = c.damping_duration + c.ramp_duration + c.hold_duration
    body = policy.motion_duration + spec.control_dt if isinstance(policy, EmbeddedMotion) else 10.0 - lead_in
    return replace(cfg, duration=round(lead_in + body, 2))


def run(policy_path, motion_path, cfg: Sim2SimConfig = Sim2SimConfig(), spec: RobotSpec = G1, progress=None):
    cfg = cfg if cfg.duration is not None else resolve_config(policy_path, cfg, spec, damping=cfg.damping_duration)
    fn = run_realtime if cfg.realtime else run_through_dds if cfg.through_dds else run_inprocess
    return fn(policy_path, motion_path, cfg, spec, progress)


# --- outputs ------------------------------------------------------------------------------------------
def write_plot(path, report: Sim2SimReport, trace: _Trace, ticks, qpos) -> Path:
    import matplotlib  # lazy: matplotlib (~0.3 s), only for --plot

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_tick = {int(t): i for i, t in enumerate(ticks)}
    t = np.array([tk / 1000.0 for tk in trace.tick])
    idx = [by_tick.get(int(tk)) for tk in trace.tick]
    height = np.array([qpos[i][2] if i is not None else np.nan for i in idx])
    jerr = np.array([np.abs(qpos[i][7:36] - r).mean() if (i is not None and r is not None) else np.nan
                     for i, r in zip(idx, trace.q_ref)])
    fig, ax = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
    ax[0].plot(t, height)
    ax[0].set_ylabel("pelvis z (m)")
    ax[1].plot(t, jerr)
    ax[1].set_ylabel("joint err (rad)")
    modes = ["passive", "damping", "ramp", "active", "estop"]
    ax[2].step(t, [modes.index(m) for m in trace.mode], where="post")
    ax[2].set_yticks(range(len(modes)), modes)
    ax[2].set_xlabel("time (s)")
    fig.suptitle(f"{Path(report.motion).stem} ({report.mode})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def write_video(path, qpos, model=None, fps: int = 50, width: int = 640, height: int = 480, trace: _Trace | None = None,
                ticks: np.ndarray | None = None) -> Path:
    """Render the run offscreen with the reference as a translucent ghost beside the robot (when ``trace`` is given).

    Raises RuntimeError with the reason if no GL backend works (MUJOCO_GL=egl or osmesa)."""
    import imageio  # lazy: imageio (deploy extra), only for --video

    model = model or MujocoRobot(G1).model
    data = mujoco.MjData(model)
    try:
        renderer = GhostRenderer(model, width=width, height=height)
    except Exception as exc:  # noqa: BLE001
        raise RuntimeError(f"offscreen rendering unavailable (MUJOCO_GL={os.environ.get('MUJOCO_GL')!r}): {exc}") from None
    ghost_at = {}
    if trace is not None:
        for tick, q_ref, root in zip(trace.tick, trace.q_ref, trace.root_ref):
            if q_ref is not None and root is not None:
                ghost_at[int(tick)] = (root[0], root[1], q_ref)
    with imageio.get_writer(str(path), fps=fps, codec="libx264", quality=7) as w:
        for i, q in enumerate(qpos):
            data.qpos[:] = q
            mujoco.mj_kinematics(model, data)
            ghost = ghost_at.get(int(ticks[i])) if ticks is not None else None
            if ghost is not None:
                renderer.pose_ghost(*ghost)
            w.append_data(renderer.render(data, ghost=ghost is not None))
    renderer.close()
    return Path(path)


def run_each_clip(policy_path, clips, cfg: Sim2SimConfig = Sim2SimConfig(), spec: RobotSpec = G1) -> dict[str, dict]:
    """In-process sim2sim of every clip, each played once from its start after damping -> ramp -> hold.

    The per-clip summary (success = completed without fall or fault, MPJPE, joint error) is what evaluation
    in training (``sonic-eval``) reports too, so the two can be compared motion by motion."""
    out = {}
    c = cfg.controller_config()
    lead_in = c.damping_duration + c.ramp_duration + c.hold_duration
    for clip_path in clips:
        with np.load(clip_path) as z:
            duration = (len(z["joint_pos"]) - 1) / float(z["fps"])
        report = run(policy_path, clip_path, replace(cfg, duration=lead_in + duration, loop_motion=False), spec)[0]
        out[Path(clip_path).stem] = {
            "success": int(report.completed and not report.fell and not report.faults), "fell": report.fell,
            "mpjpe_global_mm": report.mpjpe_global_mm, "mpjpe_root_mm": report.mpjpe_root_mm,
            "joint_error_rad": report.joint_error_rad, "realtime_factor": report.realtime_factor,
            "split": split_of(Path(clip_path).stem) or "other"}  # held_out clips are reported apart from train
    return out
