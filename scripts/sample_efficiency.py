"""Sample efficiency of training methods on the real motion set: env steps to reach a fixed success level.

Each arm is one ``sonic-train`` run of the ``sonic_real`` preset with a few overrides; all arms run side by side
(``nice``) until they finish or a wall-clock deadline, then ``report`` reads their TensorBoard scalars.

Success of an iteration = share of the episodes ended in it that reached the clip end or the time limit
(``episode/termination/motion_end + time_out``), smoothed over ``--window`` iterations; env steps =
iteration * num_envs * num_steps_per_env. Arms with adaptive sampling draw hard clips more often, so their
success is measured on a harder mix than the uniform arms' (the comparison favours uniform sampling).

    python scripts/sample_efficiency.py run --out logs/sample_eff --num-envs 32 --iterations 400 --deadline 20:50
    python scripts/sample_efficiency.py report --out logs/sample_eff --level 0.5 --png curve.png --md table.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

TRAIN_MOTIONS = Path("~/.cache/sonic/motions/deepmimic/train").expanduser()
EXP = "+exp=manager/universal_token/all_modes/sonic_real"


@dataclass(frozen=True)
class Arm:
    name: str
    overrides: tuple[str, ...]
    warm: bool = False
    what: str = ""


ARMS = (
    Arm("scratch_uniform", ("callbacks.im_resample.enabled=false",), what="baseline: from scratch, clips uniform"),
    Arm("scratch_adaptive", (), what="adaptive clip sampling (failure-weighted), from scratch"),
    Arm("warm_uniform", ("callbacks.im_resample.enabled=false",), warm=True,
        what="warm start from g1_sonic_smoke (synthetic set), clips uniform"),
    Arm("warm_adaptive", (), warm=True, what="warm start + adaptive sampling"),
)


def arm_command(arm: Arm, out: Path, num_envs: int, iterations: int, warm_ckpt: Path) -> list[str]:
    cmd = [str(Path(sys.executable).parent / "sonic-train"), EXP, f"experiment_dir={out / arm.name}",
           f"num_envs={num_envs}", f"algo.config.num_learning_iterations={iterations}",
           "algo.config.save_interval=100", f"+motions={TRAIN_MOTIONS}", *arm.overrides]
    if arm.warm:
        cmd.append(f"+resume={warm_ckpt}")
    return cmd


def run(args: argparse.Namespace) -> None:
    from warm_start import warm_start  # scripts/warm_start.py, beside this file

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    warm_ckpt = warm_start(Path(args.warm_from), out / "warm" / "model_0.pt", args.num_envs)
    h, m = (int(x) for x in args.deadline.split(":"))
    now = dt.datetime.now(dt.timezone.utc)
    deadline = now.replace(hour=h, minute=m, second=0, microsecond=0)
    procs = {}
    for arm in ARMS:
        if args.arms and arm.name not in args.arms:
            continue
        log = open(out / f"{arm.name}.log", "w")
        cmd = ["nice", "-n", str(args.nice), *arm_command(arm, out, args.num_envs, args.iterations, warm_ckpt)]
        print(" ".join(cmd[3:]), flush=True)
        procs[arm.name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    while any(p.poll() is None for p in procs.values()):
        if dt.datetime.now(dt.timezone.utc) >= deadline:
            for name, p in procs.items():
                if p.poll() is None:
                    print(f"{name}: deadline {args.deadline} UTC reached, stopping", flush=True)
                    os.killpg(p.pid, signal.SIGTERM)
            break
        time.sleep(20)
    for p in procs.values():
        p.wait()


def curve(run_dir: Path, window: int) -> tuple[list[int], list[float], int]:
    """(env steps, smoothed success, steps per iteration) of one run's TensorBoard scalars."""
    import numpy as np
    import yaml
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    per_it = int(cfg["num_envs"]) * int(cfg["algo"]["config"]["num_steps_per_env"])
    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0})
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    parts = [dict((e.step, e.value) for e in acc.Scalars(t)) for t in
             ("episode/termination/motion_end", "episode/termination/time_out") if t in tags]
    if not parts:
        return [], [], per_it
    its = sorted(parts[0])
    raw = np.array([sum(p.get(i, 0.0) for p in parts) for i in its])
    smooth = [float(raw[max(0, k - window + 1):k + 1].mean()) for k in range(len(raw))]
    return [(i + 1) * per_it for i in its], smooth, per_it


def report(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [Path(r) for r in args.runs] if args.runs else [args.out / a.name for a in ARMS]
    what = {a.name: a.what for a in ARMS}
    rows = ["| arm | what | env steps run | success at start / best / last | env steps to "
            f"{args.level:.0%} success |", "|---|---|---|---|---|"]
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    for run_dir in runs:
        if not (run_dir / "config.yaml").is_file():
            continue
        steps, succ, _ = curve(run_dir, args.window)
        if not steps:
            continue
        ax.plot(steps, succ, lw=1.2, label=run_dir.name)
        hit = next((s for k, (s, v) in enumerate(zip(steps, succ)) if k >= args.window - 1 and v >= args.level),
                   None)  # a full window only: the first iterations average a handful of episodes
        head = succ[min(args.window - 1, len(succ) - 1)]
        full = succ[args.window - 1:] or succ
        rows.append(f"| {run_dir.name} | {what.get(run_dir.name, '')} | {steps[-1]:,} | "
                    f"{head:.2f} / {max(full):.2f} / {succ[-1]:.2f} | "
                    f"{f'{hit:,}' if hit else 'not reached'} |")
    ax.axhline(args.level, color="k", lw=0.8, ls="--")
    ax.set_xlabel("env steps")
    ax.set_ylabel(f"episode success (clip end reached), mean of {args.window} iterations")
    ax.set_title("sample efficiency on the real training clips (CPU MuJoCo)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if args.png:
        fig.savefig(args.png, dpi=90)
        print(f"wrote {args.png}")
    table = "\n".join(rows)
    print(table)
    if args.md:
        Path(args.md).write_text(table + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--out", type=Path, default=Path("logs/sample_eff"))
    r.add_argument("--num-envs", type=int, default=32)
    r.add_argument("--iterations", type=int, default=400)
    r.add_argument("--deadline", default="23:59", help="HH:MM UTC: stop the arms still running then")
    r.add_argument("--nice", type=int, default=15)
    r.add_argument("--warm-from", default="policies/g1_sonic_smoke/model.pt")
    r.add_argument("--arms", nargs="*", help="run only these arms")
    q = sub.add_parser("report")
    q.add_argument("--out", type=Path, default=Path("logs/sample_eff"))
    q.add_argument("--runs", nargs="*", help="run folders (default: the arms under --out)")
    q.add_argument("--level", type=float, default=0.5)
    q.add_argument("--window", type=int, default=20)
    q.add_argument("--png", type=Path)
    q.add_argument("--md", type=Path)
    args = p.parse_args()
    (run if args.cmd == "run" else report)(args)


if __name__ == "__main__":
    main()
