"""G1 floor scene: load time and raw mj_step throughput on one core (the ceiling every backend is measured against)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import mujoco
import numpy as np
from rich.console import Console
from rich.table import Table

from sonic_deploy.robots.scene import SceneConfig, load_model, reset_to_default


def measure_load(repeats: int) -> list[float]:
    """Fresh-process load times (mesh decoding included), the figure a user waits for at start-up."""
    code = ("import time; t=time.perf_counter(); from sonic_deploy.robots.scene import load_model; "
            "load_model(); print(time.perf_counter()-t)")
    return [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(repeats)]


def measure_steps(seconds: float, gains: str) -> tuple[float, int]:
    model = load_model(cfg=SceneConfig(gains=gains))
    data = mujoco.MjData(model)
    reset_to_default(model, data)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            mujoco.mj_step(model, data)
        steps += 200
        if data.qpos[2] < 0.3:
            reset_to_default(model, data)
    return steps / (time.perf_counter() - start), data.ncon


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--load-repeats", type=int, default=3)
    args = p.parse_args()
    loads = measure_load(args.load_repeats)
    table = Table(title="G1 floor scene, one core")
    for col in ("figure", "value"):
        table.add_column(col)
    table.add_row("scene load, fresh process (s)", f"{np.median(loads):.3f} (median of {len(loads)})")
    for gains in ("hold", "tracking"):
        rate, ncon = measure_steps(args.seconds, gains)
        table.add_row(f"mj_step/s, {gains} gains", f"{rate:,.0f} ({rate * 0.005:.1f}x real time, {ncon} contacts)")
    Console().print(table)


if __name__ == "__main__":
    main()
