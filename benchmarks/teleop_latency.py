"""Teleop latency budget, end to end through DDS: a pose arriving on the teleop input -> the first LowCmd_
computed from it, seen on a DDS reader of rt/lowcmd.

Sim-to-sim: ``sonic-deploy bridge`` free-running (500 Hz LowState_) in its own process on loopback; this process
runs the 50 Hz controller (RateLoop) with a teleop-encoder policy (MLP, so the command depends on the pose),
the TeleopInput behind the WebSocket server, and a DDS reader of rt/lowcmd on its own participant. A client
thread sends poses over the WebSocket (``--path ws``) or calls the ROS 2 path's plain-function entry
(``TeleopInput.push``, ``--path ros2``) at ``--rate`` Hz. Stages per pose:

  ws receive -> teleop input : client send -> TeleopInput.push (JSON, WebSocket, parse); 0 on the ros2 path
  input -> controller step   : push -> start of the first controller step that sees it (waits for the 50 Hz tick)
  step -> LowCmd_ written    : observation, policy, safety, encode + CRC, DDS write
  written -> received        : DDS loopback delivery to the rt/lowcmd reader
The command reflects the pose from that first step on, through the input's smoothing (an exponential filter,
time constant ``smoothing_tau``: the pose's full effect adds that delay). Target: p99 < 20 ms + smoothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rate", type=float, default=30.0, help="poses per second")
    ap.add_argument("--path", choices=("ws", "ros2", "both"), default="both")
    ap.add_argument("--domain", type=int, default=61)
    ap.add_argument("--json")
    args = ap.parse_args()
    import logging

    logging.getLogger().setLevel(logging.ERROR)
    from rich.console import Console
    from rich.table import Table

    res = {}
    for path in (("ws", "ros2") if args.path == "both" else (args.path,)):
        res[path] = run(path, args)
    t = Table(title="teleop latency, pose -> first LowCmd_ computed from it (ms)")
    for col in ("path", "stage", "p50", "p99", "max"):
        t.add_column(col)
    for path, r in res.items():
        for stage, v in r["stages"].items():
            t.add_row(path, stage, f"{v['p50']:.2f}", f"{v['p99']:.2f}", f"{v['max']:.2f}")
        t.add_row(path, f"(poses {r['poses']}, smoothing {r['smoothing_ms']:.0f} ms, target p99 < "
                  f"{20 + r['smoothing_ms']:.0f})", "", "", "")
    Console().print(t)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))


def run(path: str, args) -> dict:
    from sonic_deploy.control.controller import Controller, ControllerConfig
    from sonic_deploy.control.loop import RateLoop
    from sonic_deploy.dds.channel import DdsConfig, lowcmd_reader, participant
    from sonic_deploy.dds.codec import decode_lowcmd
    from sonic_deploy.policy.runner import PolicyRunner
    from sonic_deploy.policy.testing import default_contract, write_mlp_policy
    from sonic_deploy.robots.g1 import G1
    from sonic_deploy.robots.g1_dds import G1DdsRobot
    from sonic_deploy.inputs.vr_calibration import default_vr_reference
    from sonic_deploy.inputs.vr_teleop import TeleopConfig, TeleopInput
    from sonic_deploy.inputs.vr_poses import PoseSample
    from sonic_deploy.teleop.server import StreamServer

    domain = args.domain + (0 if path == "ws" else 1)
    cfg = DdsConfig(domain_id=domain)
    bridge = subprocess.Popen([sys.executable, "-m", "sonic_deploy.bridge", "--domain", str(domain), "--quiet",
                               "--duration", str(args.seconds + 20)], env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        c = default_contract(encoder="teleop", hold_gains=True)
        pol, _ = write_mlp_policy(Path(tempfile.mkdtemp()) / "teleop.onnx", c, encoder_hidden=(256, 256),
                                  decoder_hidden=(256, 256), tracking=True)
        teleop = TeleopInput(TeleopConfig(smoothing_tau=0.03))
        ctrl = Controller(G1, PolicyRunner(pol), teleop, ControllerConfig(auto=True, damping_duration=0.2,
                                                                          ramp_duration=1.0, hold_duration=0.2))
        robot = G1DdsRobot(cfg)
        assert robot.wait_connected(20), "bridge did not answer"
        reader = lowcmd_reader(participant(cfg), depth=16)
        arrivals = {}  # pose seq -> push time
        recv = {}  # q bytes -> receive time
        stop = threading.Event()
        teleop.listeners.append(lambda sample, now: arrivals.setdefault(int(round(sample.t * 1000)), time.perf_counter()))

        def read():
            while not stop.is_set():
                if reader.wait(0.05):
                    t = time.perf_counter()
                    for d in reader.take():
                        recv.setdefault(decode_lowcmd(d).q[:29].tobytes(), t)

        threading.Thread(target=read, daemon=True).start()
        server = StreamServer(teleop=teleop, port=0).start()
        ref = default_vr_reference(G1)
        sent = {}

        def sample(k):
            pos = ref.pos.copy()
            pos[1:, 2] += 0.1 * np.sin(0.5 * k)  # wrists move
            from sonic_deploy.teleop.session import robot_to_webxr

            wp, wq = robot_to_webxr(pos, ref.quat)
            return PoseSample(k / 1000.0, wp, wq, "webxr")

        def client():
            import asyncio

            from websockets.asyncio.client import connect

            async def go():
                async with connect(server.ws_url) as ws:
                    k = 1
                    while not stop.is_set():
                        s = sample(k)
                        sent[k] = time.perf_counter()
                        await ws.send(json.dumps(s.to_message()))
                        k += 1
                        await asyncio.sleep(1.0 / args.rate)

            if path == "ws":
                asyncio.run(go())
            else:
                k = 1
                while not stop.is_set():
                    s = sample(k)
                    sent[k] = time.perf_counter()
                    teleop.push(s, time.monotonic())
                    k += 1
                    time.sleep(1.0 / args.rate)

        threading.Thread(target=client, daemon=True).start()
        loop = RateLoop(1.0 / G1.control_dt)
        steps = []  # (step start, newest pose seq seen, write done, q bytes)
        t_end = time.monotonic() + args.seconds
        while time.monotonic() < t_end:
            loop.wait()
            t2 = time.perf_counter()
            seen = max(arrivals) if arrivals else 0
            st = robot.read_state()
            now = time.monotonic()
            cmd = ctrl.step(st, now)
            robot.write_command(cmd)
            t3 = time.perf_counter()
            steps.append((t2, seen, t3, np.asarray(cmd.q, np.float32).tobytes(), ctrl.mode.value))
        stop.set()
        time.sleep(0.2)
        server.stop()
    finally:
        bridge.terminate()
        bridge.wait(10)
    stages = {k: [] for k in ("ws receive -> teleop input", "input -> controller step", "step -> LowCmd_ written",
                              "written -> received", "end to end")}
    done = set()
    for t2, seen, t3, qb, mode in steps:
        if mode != "active":
            continue
        for seq in [s for s in range(max(done, default=0) + 1, seen + 1) if s in arrivals and s in sent]:
            t4 = recv.get(qb)
            if t4 is None:
                continue
            done.add(seq)
            if seq != seen:
                continue  # superseded within the same period: the step reflects only the newest pose
            t0, t1 = sent[seq], arrivals[seq]
            for name, v in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0)):
                stages[name].append(v * 1e3)
    pct = lambda v: {"p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99)), "max": float(np.max(v))}  # noqa: E731
    return {"poses": len(stages["end to end"]), "smoothing_ms": 30.0, "stages": {k: pct(v) for k, v in stages.items() if v}}


if __name__ == "__main__":
    main()
