"""``sonic-deploy``: run the deploy runtime (sim-to-sim, the MuJoCo DDS bridge, policy inspection).

Imports are deferred to the subcommand that needs them so ``sonic-deploy --help`` stays instant.
"""

from __future__ import annotations

import argparse
import os
import sys


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sonic-deploy", description="sonic deploy runtime: a 50 Hz controller for the "
                                "Unitree G1 running a sonic ONNX policy against MuJoCo or the robot over DDS.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sim2sim", help="run the controller against MuJoCo (in-process or through DDS) and report",
                       description="Run damping -> ramp -> active headless and report fall, tracking error, loop "
                       "timing, real-time factor and faults. Exit code 0 only without a safety fault.")
    s.add_argument("--policy", required=True, help="sonic.policy/1 ONNX artifact")
    s.add_argument("--motion", required=True, help="motion clip (.npz, canonical format)")
    s.add_argument("--through-dds", action="store_true", help="start the bridge (lock-step) on loopback and drive it "
                   "through the real G1 DDS robot class")
    s.add_argument("--duration", type=float, default=10.0, help="simulated seconds (default 10)")
    s.add_argument("--domain", type=int, default=42, help="DDS domain id for --through-dds (default 42)")
    s.add_argument("--ramp", type=float, default=1.0, help="ramp-to-default duration (s)")
    s.add_argument("--blend", type=float, default=1.0, help="motion blend-in time (s)")
    s.add_argument("--speed", type=float, default=1.0, help="motion playback speed")
    s.add_argument("--report", help="write the report as JSON here")
    s.add_argument("--video", help="render an MP4 of the run here (offscreen: MUJOCO_GL=egl or osmesa)")
    s.add_argument("--plot", help="write a PNG plot (pelvis height, joint error, mode) here")

    b = sub.add_parser("bridge", help="MuJoCo G1 that speaks the robot's DDS protocol (rt/lowstate, rt/lowcmd)",
                       description="Publish LowState_ at --rate Hz and apply LowCmd_ PD per motor; --lockstep advances "
                       "physics one control period per command (deterministic tests).")
    b.add_argument("--domain", type=int, default=0, help="DDS domain id (default 0)")
    b.add_argument("--interface", default="lo", help="network interface name or address (default lo)")
    b.add_argument("--lockstep", action="store_true", help="advance physics only when a command arrives")
    b.add_argument("--rate", type=float, default=500.0, help="LowState_ publish rate in free-running mode (Hz)")
    b.add_argument("--duration", type=float, default=None, help="stop after this many wall-clock seconds")
    b.add_argument("--idle-timeout", type=float, default=None, help="lock-step: stop after this long without commands")
    b.add_argument("--record", help="write the ground-truth trajectory (tick, qpos) as .npz on exit")
    b.add_argument("--uint8-kind", choices=("byte", "uint8"), default="byte", help="type description of the one-byte "
                   "fields: byte (Cyclone 0.10 and the robot) or uint8 (11.x peers whose IDL says uint8)")
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


def _cmd_sim2sim(args) -> int:
    if args.video:
        from sonic_deploy.render import ensure_gl_backend

        ensure_gl_backend()
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from sonic_deploy.policy.contract import ContractError
    from sonic_deploy.sim2sim import Sim2SimConfig, run, write_plot, write_video

    console = Console()
    cfg = Sim2SimConfig(duration=args.duration, through_dds=args.through_dds, domain_id=args.domain,
                        ramp_duration=args.ramp, blend_time=args.blend, speed=args.speed)
    try:
        with Progress(console=console, transient=True) as prog:
            task = prog.add_task("sim2sim", total=int(round(args.duration / 0.02)))
            report, (trace, ticks, qpos, model) = run(args.policy, args.motion, cfg,
                                                      progress=lambda k, n: prog.update(task, completed=k))
    except ContractError as exc:
        console.print(f"[red]policy refused:[/red] {exc}")
        return 2
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        console.print(f"[red]sim2sim failed:[/red] {exc}")
        return 2
    t = Table(title=f"sim2sim {report.mode}: {os.path.basename(args.motion)}")
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
    import signal

    from sonic_deploy.bridge.server import BridgeConfig, MujocoBridge
    from sonic_deploy.dds.channel import DdsConfig

    peers = ("127.0.0.1",) if args.interface in ("lo", "127.0.0.1") else ()
    cfg = BridgeConfig(dds=DdsConfig(domain_id=args.domain, interface=args.interface, peers=peers,
                                     multicast=not peers, uint8_kind=args.uint8_kind), lockstep=args.lockstep, state_rate=args.rate,
                       duration=args.duration, idle_timeout=args.idle_timeout, record=args.record)
    bridge = MujocoBridge(cfg)
    signal.signal(signal.SIGTERM, lambda *_: bridge.stop())
    signal.signal(signal.SIGINT, lambda *_: bridge.stop())
    if not args.quiet:
        print(f"bridge: domain {args.domain} on {args.interface}, {'lock-step' if args.lockstep else f'{args.rate:.0f} Hz'}",
              flush=True)
    stats = bridge.run()
    if not args.quiet:
        print(f"bridge: states sent {stats.states_sent}, commands {stats.commands_received}, "
              f"bad CRC {stats.commands_bad_crc}, physics steps {stats.physics_steps}", flush=True)
    return 0


def _cmd_inspect(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from sonic_deploy.policy.contract import ContractError
    from sonic_deploy.policy.runner import PolicyRunner

    console = Console()
    try:
        r = PolicyRunner(args.policy)
    except ContractError as exc:
        console.print(f"[red]refused:[/red] {exc}")
        return 2
    c = r.contract
    t = Table(title=f"{args.policy}: {c.format}, encoder {c.encoder}, {c.num_tokens} tokens")
    for col in ("group", "term", "dim", "history", "size"):
        t.add_column(col)
    for group in ("obs_proprio", "obs_encoder"):
        for term in getattr(c, group):
            t.add_row(group, term.name, str(term.dim), str(term.history), str(term.size))
    console.print(t)
    return 0


def _cmd_quantize(args) -> int:
    from pathlib import Path

    from sonic_deploy.policy.quantize import parity, quantize_policy
    from sonic_deploy.policy.runner import PolicyRunner

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
