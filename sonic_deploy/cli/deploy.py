"""``sonic-deploy``: run the deploy runtime (sim-to-sim, the MuJoCo DDS bridge, policy inspection).

Imports are deferred to the subcommand that needs them so ``sonic-deploy --help`` stays instant.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sonic-deploy", description="sonic deploy runtime: a 50 Hz controller for the "
                                "Unitree G1 running a sonic ONNX policy against MuJoCo or the robot over DDS.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sim2sim", help="run the controller against MuJoCo (in-process or through DDS) and report",
                       description="Run damping -> ramp -> active headless and report fall, tracking error, loop "
                       "timing, real-time factor and faults. Exit code 0 only without a safety fault.")
    s.add_argument("--policy", required=True, help="policy: sonic.policy/1, BeyondMimic/mjlab or holosoma ONNX, or a "
                   "gear_sonic checkpoint (folder or <name> of <name>_encoder/_decoder.onnx); see `inspect`")
    s.add_argument("--motion", help="motion clip (.npz, canonical format); not for a policy that embeds its motion "
                   "(BeyondMimic, holosoma tracking) or walks on velocity commands (holosoma locomotion)")
    s.add_argument("--cmd-vel", action="append", default=[], metavar="T:VX,VY,YAW",
                   help="velocity command from T seconds after the policy starts (m/s, m/s, rad/s), repeatable; "
                   "for locomotion policies (default: stand)")
    s.add_argument("--keyboard", action="store_true", help="locomotion: velocity from the keyboard (w/s vx, a/d vy, "
                   "e/q yaw rate, steps of 0.1; space zero), read from stdin")
    s.add_argument("--through-dds", action="store_true", help="start the bridge (lock-step) on loopback and drive it "
                   "through the real G1 DDS robot class")
    s.add_argument("--realtime", action="store_true", help="as on the robot: start the bridge free-running (the G1 on "
                   "its virtual gantry until the controller holds it) and run the controller on its own 50 Hz wall-clock "
                   "loop through DDS; --duration is then wall-clock seconds")
    s.add_argument("--nice", type=int, default=None, help="--realtime: niceness of the controller and the bridge "
                   "while they run (negative: above the rest of the machine, needs root; default inherit)")
    s.add_argument("--duration", type=float, default=None, help="simulated seconds (default: lead-in plus the whole "
                   "embedded motion of a policy that carries one, else 10)")
    s.add_argument("--domain", type=int, default=42, help="DDS domain id for --through-dds/--realtime (default 42)")
    s.add_argument("--precision", choices=("auto", "fp32", "int8"), default="auto", help="sonic exports: auto runs the "
                   "INT8 variant on a CPU where sonic-export checked its tracking (sonic.int8 metadata); fp32 forces FP32")
    _network_args(s, domain=False)
    s.add_argument("--damping", type=float, default=None, help="damping phase before the ramp (s; default: the "
                   "policy's start-up, 0 for holosoma, whose deploy starts from a stiff hold, else the field "
                   "configuration's)")
    s.add_argument("--ramp", type=float, default=None, help="ramp-to-default duration (s; default: the field "
                   "configuration's)")
    s.add_argument("--field-config", metavar="PATH", help="field configuration (safety, thermal, remote, keyboard, "
                   "teleop) on top of the packaged sonic_deploy/config/g1_field.yaml; the bridge gets it too")
    s.add_argument("--remote", action="append", default=[], metavar="T:BUTTON+BUTTON", help="scripted wireless-remote "
                   "press from T seconds (e.g. 4:L2+B e-stop, 5:L2+X clear, 6: release), repeatable; through DDS the "
                   "bridge puts it in LowState_.wireless_remote. With stdin a terminal (and no --keyboard), keys act "
                   "too: space/e e-stop, d damping, x stop, s start, c clear")
    s.add_argument("--blend", type=float, default=1.0, help="motion blend-in time (s)")
    s.add_argument("--speed", type=float, default=1.0, help="motion playback speed")
    s.add_argument("--report", help="write the report as JSON here")
    s.add_argument("--video", help="render an MP4 of the run here (offscreen: MUJOCO_GL=egl or osmesa)")
    s.add_argument("--plot", help="write a PNG plot (pelvis height, joint error, mode) here")

    b = sub.add_parser("bridge", help="MuJoCo G1 that speaks the robot's DDS protocol (rt/lowstate, rt/lowcmd)",
                       description="Publish LowState_ at --rate Hz and apply LowCmd_ PD per motor; --lockstep advances "
                       "physics one control period per command (deterministic tests).")
    b.add_argument("--domain", type=int, default=0, help="DDS domain id (default 0)")
    _network_args(b, domain=False)
    b.add_argument("--lockstep", action="store_true", help="advance physics only when a command arrives")
    b.add_argument("--rate", type=float, default=500.0, help="LowState_ publish rate in free-running mode (Hz)")
    b.add_argument("--duration", type=float, default=None, help="stop after this many wall-clock seconds")
    b.add_argument("--idle-timeout", type=float, default=None, help="lock-step: stop after this long without commands")
    b.add_argument("--record", help="write the ground-truth trajectory (tick, qpos) as .npz on exit")
    b.add_argument("--gantry", choices=("auto", "timer", "manual", "off"), default="auto", help="free-running: how the "
                   "virtual gantry lets the G1 go: auto (default: once the controller holds the standing pose with stiff "
                   "legs), timer (--gantry-release-after), manual (type 'release' on stdin), off (no gantry); stdin "
                   "'release' / 'hold' work in every mode")
    b.add_argument("--gantry-release-after", type=float, default=5.0, help="--gantry timer: seconds (default 5)")
    b.add_argument("--field-config", metavar="PATH", help="field configuration on top of the packaged "
                   "sonic_deploy/config/g1_field.yaml (the bridge reads its motor heating model, thermal_model:)")
    b.add_argument("--remote", action="append", default=[], metavar="T:BUTTON+BUTTON", help="scripted wireless-remote "
                   "press from T seconds of bridge time, in LowState_.wireless_remote, repeatable")
    b.add_argument("--quiet", action="store_true")

    q = sub.add_parser("quantize", help="INT8 dynamic quantization of a policy artifact, with an FP32 parity check",
                       description="Write an INT8 (dynamic, onnxruntime) copy of a sonic.policy/1 artifact with its "
                       "metadata, atomically, and report the max abs action difference against FP32.")
    q.add_argument("policy")
    q.add_argument("--out", help="output path (default <policy>.int8.onnx)")
    q.add_argument("--samples", type=int, default=256, help="random observations for the parity check")
    q.add_argument("--max-diff", type=float, default=None, help="exit 1 when the max abs action difference exceeds this")

    i = sub.add_parser("inspect", help="validate a policy artifact against the G1 and print its contract")
    i.add_argument("policy")
    return p


def _network_args(p: argparse.ArgumentParser, domain: bool = True) -> None:
    """Interface, peers and one-byte type description, as DdsConfig.for_network takes them."""
    if domain:
        p.add_argument("--domain", type=int, default=0, help="DDS domain id (default 0)")
    p.add_argument("--interface", default="lo", help="network interface name or address: multicast discovery there "
                   "(the robot's NIC, e.g. enp3s0); lo uses unicast to 127.0.0.1 (default lo)")
    p.add_argument("--peers", default="", help="comma-separated addresses for unicast discovery in addition to "
                   "multicast (default none)")
    p.add_argument("--uint8-kind", choices=("byte", "uint8"), default="byte", help="type description of the one-byte "
                   "fields: byte (default: the robot's octet, Cyclone 0.10) or uint8 (TK_UINT8, Cyclone 11 peers whose "
                   "IDL says uint8); a peer of the other kind gets its own endpoints unless --no-type-adapt")
    p.add_argument("--no-type-adapt", action="store_true", help="never add endpoints for a peer whose one-byte fields "
                   "are described the other way (it is then only reported)")


def _dds_config(args):
    from sonic_deploy.dds.channel import DdsConfig  # lazy: cyclonedds (~0.3 s at --help)

    peers = tuple(p.strip() for p in args.peers.split(",") if p.strip())
    cfg = DdsConfig.for_network(args.interface, args.domain, peers, args.uint8_kind)
    if args.no_type_adapt:
        cfg = replace(cfg, adapt_uint8=False)
    return cfg


def _cmd_sim2sim(args) -> int:
    if args.video:
        from sonic_deploy.render import ensure_gl_backend  # lazy: numpy (~0.07 s at --help)

        ensure_gl_backend()
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from sonic_deploy.control.operator import KeyboardReader, OperatorQueue  # lazy: loads mujoco (~0.25 s at --help)
    from sonic_deploy.control.remote import RemoteScript  # lazy: as above
    from sonic_deploy.policy.contract import ContractError  # lazy: numpy (~0.07 s at --help)
    # lazy: mujoco and onnxruntime (~0.35 s at --help); mujoco only after ensure_gl_backend has set MUJOCO_GL
    from sonic_deploy.sim2sim import Sim2SimConfig, resolve_config, run, write_plot, write_video

    console = Console()
    dds = _dds_config(args)
    cfg = Sim2SimConfig(duration=args.duration, through_dds=args.through_dds, domain_id=args.domain,
                        ramp_duration=args.ramp, blend_time=args.blend, speed=args.speed, realtime=args.realtime,
                        nice=args.nice, interface=dds.interface, peers=tuple(p for p in dds.peers if p != "127.0.0.1"),
                        uint8_kind=dds.uint8_kind, field_config=args.field_config, remote=tuple(args.remote),
                        precision=args.precision)
    keyboard = None
    try:
        RemoteScript.parse(cfg.remote)
        cfg = _velocity_input(args, resolve_config(args.policy, cfg, damping=args.damping))
        if sys.stdin.isatty() and not args.keyboard:  # operator keys; --keyboard gives stdin to the velocity input
            cfg = replace(cfg, operator=OperatorQueue())
            keyboard = KeyboardReader(cfg.operator.put, cfg.controller_config().keyboard).start(sys.stdin)
            console.print("keys: space/e e-stop, d damping, x stop, s start, c clear")
        with Progress(console=console, transient=True) as prog:
            task = prog.add_task("sim2sim", total=int(round(cfg.duration / 0.02)))
            report, (trace, ticks, qpos, model) = run(args.policy, args.motion, cfg,
                                                      progress=lambda k, n: prog.update(task, completed=k))
    except ContractError as exc:
        console.print(f"[red]policy refused:[/red] {exc}", soft_wrap=True)
        return 2
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        console.print(f"[red]sim2sim failed:[/red] {exc}", soft_wrap=True)
        return 2
    finally:
        if keyboard is not None:
            keyboard.stop()
    t = Table(title=f"sim2sim {report.mode}: {report.policy_format}, {os.path.basename(args.motion or report.motion)}")
    t.add_column("metric")
    t.add_column("value", justify="right")
    fmt = lambda v, f="{:.2f}": "-" if v is None else f.format(v)  # noqa: E731
    rows = [("completed", str(report.completed)), ("fell", f"{report.fell}" + (f" at {report.fall_time:.2f}s" if report.fell else "")),
            ("active time (s)", fmt(report.active_s)), ("MPJPE global (mm)", fmt(report.mpjpe_global_mm, "{:.1f}")),
            ("MPJPE root-relative (mm)", fmt(report.mpjpe_root_mm, "{:.1f}")),
            ("joint error (rad)", fmt(report.joint_error_rad, "{:.4f}")),
            ("period p50 / p99 (ms)", f"{report.period_p50_ms:.2f} / {report.period_p99_ms:.2f}"),
            ("step p50 / p99 (ms)", f"{report.step_p50_ms:.3f} / {report.step_p99_ms:.3f}"),
            ("overruns", str(report.overruns)), ("real-time factor", f"{report.realtime_factor:.1f}x"),
            ("faults", "; ".join(f"{f['cause']} {f['joint'] or ''} @ {f['time']:.2f}s" for f in report.faults) or "none")]
    if report.travel_m is not None and report.joint_error_rad is None:  # velocity-commanded: where it walked
        rows += [("forward / travel (m)", f"{report.forward_m:.2f} / {report.travel_m:.2f}"),
                 ("turn (deg)", f"{report.turn_deg:.1f}")]
    for k, v in report.dds.items():
        rows.append((f"dds {k}", str(v)))
    for r in rows:
        t.add_row(*r)
    console.print(t)
    if args.report:
        with open(args.report, "w") as f:
            f.write(report.to_json())
    if args.plot:
        write_plot(args.plot, report, trace, ticks, qpos)
        console.print(f"plot: {args.plot}")
    if args.video:
        try:
            write_video(args.video, qpos, model, trace=trace, ticks=ticks)
            console.print(f"video: {args.video}")
        except RuntimeError as exc:
            console.print(f"[yellow]video skipped:[/yellow] {exc}. Install EGL (libegl1) or OSMesa "
                          "(libosmesa6) and set MUJOCO_GL=egl or MUJOCO_GL=osmesa.")
    return 0 if report.ok else 1


def _cmd_bridge(args) -> int:
    from sonic_deploy.bridge.gantry import GantryConfig  # lazy: mujoco and cyclonedds (~0.45 s at --help)
    from sonic_deploy.bridge.server import BridgeConfig, MujocoBridge  # lazy: as above
    from sonic_deploy.config.loader import load_field_config  # lazy: mujoco (~0.25 s at --help)
    from sonic_deploy.control.remote import RemoteScript  # lazy: loads mujoco (~0.25 s at --help)

    dds = _dds_config(args)
    try:
        field_cfg = load_field_config("sim", args.field_config)
        remote = RemoteScript.parse(args.remote)
    except ValueError as exc:
        print(f"bridge: {exc}", file=sys.stderr)
        return 2
    cfg = BridgeConfig(dds=dds, lockstep=args.lockstep, state_rate=args.rate, duration=args.duration,
                       idle_timeout=args.idle_timeout, record=args.record,
                       gantry=GantryConfig(release=args.gantry, release_after_s=args.gantry_release_after),
                       thermal=field_cfg.thermal_model, remote=remote)
    bridge = MujocoBridge(cfg)
    signal.signal(signal.SIGTERM, lambda *_: bridge.stop())
    signal.signal(signal.SIGINT, lambda *_: bridge.stop())
    if not args.lockstep and cfg.gantry.release != "off":
        threading.Thread(target=_gantry_stdin, args=(bridge, args.quiet), daemon=True).start()
    if not args.quiet:
        disc = "unicast 127.0.0.1" if not dds.multicast else "multicast" + (f" + peers {','.join(dds.peers)}" if dds.peers else "")
        mode = "lock-step" if args.lockstep else f"{args.rate:.0f} Hz, gantry {cfg.gantry.release}"
        print(f"bridge: domain {dds.domain_id} on {dds.interface} ({disc}), {mode}, one-byte fields {dds.uint8_kind}"
              f"{'' if dds.adapt_uint8 else ' (no type adaptation)'}", flush=True)
    stats = bridge.run()
    if not args.quiet:
        g = bridge.gantry
        if g.released_at is not None:
            print(f"bridge: gantry released at {g.released_at:.2f}s ({g.reason})", flush=True)
        print(f"bridge: states sent {stats.states_sent}, commands {stats.commands_received}, "
              f"bad CRC {stats.commands_bad_crc}, physics steps {stats.physics_steps}", flush=True)
    return 0


def _gantry_stdin(bridge, quiet: bool) -> None:
    """``release`` / ``hold`` lines on stdin move the virtual gantry (EOF, as in CI without stdin, ends this)."""
    for line in sys.stdin:
        word = line.strip().lower()
        if word in ("release", "r"):
            bridge.release_gantry("stdin")
        elif word in ("hold", "h"):
            bridge.gantry.hold()
        elif word:
            print("bridge: stdin commands are 'release' and 'hold'", flush=True)
            continue
        if not quiet:
            print(f"bridge: gantry {'holding' if bridge.gantry.engaged else 'released'}", flush=True)


def _cmd_inspect(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from sonic_deploy.policy.contract import ContractError  # lazy: numpy (~0.07 s at --help)
    from sonic_deploy.policy.base import describe  # lazy: numpy, as above
    from sonic_deploy.policy.formats import load_policy  # lazy: onnxruntime and mujoco (~0.3 s at --help)

    console = Console()
    try:
        pol = load_policy(args.policy)
    except ContractError as exc:
        console.print(f"[red]refused:[/red] {exc}", soft_wrap=True, markup=True, highlight=False)
        return 2
    console.print(f"format: {pol.format} ({pol.path})", soft_wrap=True, highlight=False)
    c = getattr(pol, "contract", None)
    if c is not None:  # sonic.policy/1: the observation layout
        t = Table(title=f"{args.policy}: {c.format}, encoder {c.encoder}, {c.num_tokens} tokens")
        for col in ("group", "term", "dim", "history", "size"):
            t.add_column(col)
        for group in ("obs_proprio", "obs_encoder"):
            for term in getattr(c, group):
                t.add_row(group, term.name, str(term.dim), str(term.history), str(term.size))
        console.print(t)
        return 0
    t = Table(title=f"{args.policy}: {pol.format}, contract as this runtime runs it")
    t.add_column("field")
    t.add_column("value")
    for k, v in describe(pol).items():
        t.add_row(k, str(v))
    console.print(t)
    return 0


def _velocity_input(args, cfg):
    """--keyboard: a stdin reader thread feeding a KeyboardVelocity (a terminal is put in cbreak mode)."""
    from sonic_deploy.inputs.velocity import KeyboardVelocity, VelocitySchedule  # lazy: numpy (~0.07 s at --help)

    cfg = replace(cfg, cmd_vel=tuple((t, *v) for t, v in VelocitySchedule.parse(args.cmd_vel).steps))
    if not args.keyboard:
        return cfg
    kb = KeyboardVelocity()
    stop = threading.Event()
    if sys.stdin.isatty():
        import atexit  # terminal handling: POSIX only, and only with --keyboard
        import termios
        import tty

        old = termios.tcgetattr(sys.stdin)
        tty.setcbreak(sys.stdin)
        atexit.register(termios.tcsetattr, sys.stdin, termios.TCSADRAIN, old)
    threading.Thread(target=kb.read_stream, args=(sys.stdin, stop), daemon=True).start()
    return replace(cfg, velocity_source=kb)


def _cmd_quantize(args) -> int:
    from sonic_deploy.policy.quantize import parity, quantize_policy  # lazy: onnxruntime (~0.13 s at --help)
    from sonic_deploy.policy.runner import PolicyRunner  # lazy: onnxruntime, as above

    src = Path(args.policy)
    out = Path(args.out) if args.out else src.with_name(src.stem + ".int8.onnx")
    PolicyRunner(src)  # refuse an artifact the runtime could not run
    quantize_policy(src, out)
    PolicyRunner(out)  # and check the quantized one loads with its contract
    p = parity(src, out, samples=args.samples)
    tok = "" if p.token_agreement is None else f", token agreement {100 * p.token_agreement:.1f}%"
    print(f"{out}: {out.stat().st_size / 1e6:.2f} MB (fp32 {src.stat().st_size / 1e6:.2f} MB); parity on {p.samples} "
          f"observations: max abs action diff {p.max_abs_action_diff:.4g} (largest fp32 action {p.max_abs_action_fp32:.3g}), "
          f"mean {p.mean_abs_action_diff:.4g}{tok}")
    return 1 if args.max_diff is not None and p.max_abs_action_diff > args.max_diff else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return {"sim2sim": _cmd_sim2sim, "bridge": _cmd_bridge, "inspect": _cmd_inspect,
            "quantize": _cmd_quantize}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
