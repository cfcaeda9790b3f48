"""Env steps/s of the Isaac Lab backend (Newton + MuJoCo Warp, kit-less) beside the CPU MuJoCo backend.

Run in the Isaac Lab environment: ``.venv-isaaclab/bin/python benchmarks/isaaclab_throughput.py`` (add
``--device cuda:0`` on a GPU server). Rows per env count: each backend alone (``step`` + ``read_state``, the
G1 standing on the hold gains), and the full tracking env of the smoke experiment with zero actions. One env step
= decimation (4) physics steps at 200 Hz; env steps/s counts every env. Env creation time is reported too (the
first Isaac Lab creation compiles Warp kernels into WARP_CACHE_PATH; later ones reuse them).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("WARP_CACHE_PATH", str(Path(__file__).resolve().parents[1] / ".cache" / "warp"))


def _rate(fn, steps: int, n: int, repeat: int = 3) -> float:
    best = 0.0
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = max(best, steps * n / (time.perf_counter() - t))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-envs", type=int, nargs="+", default=[4, 16])
    ap.add_argument("--steps", type=int, default=25, help="env steps per timing (best of 3)")
    ap.add_argument("--device", default="cpu", help="Isaac Lab device (cpu, cuda:0)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="MuJoCo backend threads")
    ap.add_argument("--no-env", action="store_true", help="backends only, skip the tracking-env rows")
    ap.add_argument("--json")
    args = ap.parse_args()

    import torch
    from hydra import compose, initialize_config_dir
    from rich.console import Console
    from rich.table import Table

    from sonic_deploy.robots.g1 import G1
    from sonic_train.cli.train import config_dir
    from sonic_train.envs.factory import make_env, resolve_motions
    from sonic_train.envs.isaaclab.backend import IsaacLabBackend
    from sonic_train.envs.mujoco import MujocoBackend

    torch.set_num_threads(1)
    k = args.steps
    rows: list[dict] = []

    def bench_backend(name, make, n):
        t = time.perf_counter()
        b = make(n)
        created = time.perf_counter() - t
        target = torch.as_tensor(G1.default_joint_pos, dtype=torch.float32).repeat(n, 1)

        def run():
            for _ in range(k):
                b.step(target)
                b.read_state()

        run()  # warm-up
        rows.append({"backend": name, "what": "backend step + state", "num_envs": n,
                     "env_steps_per_s": _rate(run, k, n), "create_s": created})
        b.close()

    def bench_env(sim, n):
        with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
            cfg = compose("base", overrides=["+exp=manager/universal_token/all_modes/sonic_smoke", f"sim={sim}",
                                             f"num_envs={n}", f"+motions={resolve_motions(None)}"]
                          + ([f"sim.device={args.device}"] if sim == "isaaclab" else []))
        t = time.perf_counter()
        env = make_env(cfg, quiet=True)
        created = time.perf_counter() - t
        env.reset()
        zeros = torch.zeros(n, env.num_actions)

        def run():
            for _ in range(k):
                env.step(zeros)

        run()
        rows.append({"backend": sim, "what": "tracking env, zero actions", "num_envs": n,
                     "env_steps_per_s": _rate(run, k, n), "create_s": created})
        env.close()

    for n in args.num_envs:
        bench_backend("mujoco", lambda m: MujocoBackend(m, G1, gains="hold", num_threads=args.threads), n)
        bench_backend("isaaclab", lambda m: IsaacLabBackend(m, G1, gains="hold", device=args.device,
                                                            state_device="cpu"), n)
        if not args.no_env:
            bench_env("mujoco", n)
            bench_env("isaaclab", n)

    table = Table(title=f"env steps/s (decimation {G1.decimation}, {os.cpu_count()} cores, "
                        f"Isaac Lab device {args.device})")
    for c in ("backend", "what", "envs", "env steps/s", "physics steps/s", "create (s)"):
        table.add_column(c, justify="right" if c not in ("backend", "what") else "left")
    for r in rows:
        table.add_row(r["backend"], r["what"], str(r["num_envs"]), f"{r['env_steps_per_s']:.0f}",
                      f"{r['env_steps_per_s'] * G1.decimation:.0f}", f"{r['create_s']:.1f}")
    Console(width=120).print(table)
    if args.json:
        Path(args.json).write_text(json.dumps({"device": args.device, "cores": os.cpu_count(), "rows": rows},
                                              indent=2))


if __name__ == "__main__":
    main()
