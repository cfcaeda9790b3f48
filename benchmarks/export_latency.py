"""onnxruntime latency of real ``sonic-export`` artifacts of an untrained sonic_release model (batch 1, one thread).

Builds the sonic_release actor-critic through the trainer's builder on the training env (1 env), saves an
iteration-0 checkpoint beside its config.yaml, runs ``sonic-export`` for each encoder (parity < 1e-5 checked
at export) and times ``session.run`` per step with the deploy runtime's session options (1 intra-op thread,
sequential), the process pinned to one core. Target (DESIGN.md): p99 < 1 ms.

    .venv/bin/python benchmarks/export_latency.py [--encoders g1 smpl teleop] [--iters 2000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

RELEASE = "+exp=manager/universal_token/all_modes/sonic_release"


def make_release_checkpoint(run_dir: Path) -> Path:
    import torch
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from sonic_train.callbacks.model_save import save_checkpoint
    from sonic_train.cli.train import config_dir
    from sonic_train.envs.factory import make_env
    from sonic_train.trainer.builder import build_runner

    torch.manual_seed(0)
    with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
        cfg = compose("base", overrides=[RELEASE, "num_envs=2", f"experiment_dir={run_dir}", "sim.num_threads=1"])
    env = make_env(cfg, quiet=True)
    runner = build_runner(cfg, env, callbacks=[])
    OmegaConf.save(cfg, run_dir / "config.yaml", resolve=True)
    path = save_checkpoint(run_dir / "model_0.pt", runner)
    env.close()
    return path


def time_session(path: Path, iters: int, warmup: int) -> dict[str, float]:
    from sonic_deploy.policy.runner import PolicyRunner

    runner = PolicyRunner(path)  # validates the contract the way the deploy side does
    c = runner.contract
    rng = np.random.default_rng(0)
    feed = {"obs_encoder": rng.standard_normal((1, c.encoder_dim)).astype(np.float32),
            "obs_proprio": rng.standard_normal((1, c.proprio_dim)).astype(np.float32)}
    sess = runner.session
    outs = ["actions", "token_indices"]
    for _ in range(warmup):
        sess.run(outs, feed)
    ts = np.empty(iters)
    for i in range(iters):
        t = time.perf_counter_ns()
        sess.run(outs, feed)
        ts[i] = (time.perf_counter_ns() - t) / 1e6
    return {"p50_ms": float(np.percentile(ts, 50)), "p99_ms": float(np.percentile(ts, 99)),
            "mean_ms": float(ts.mean()), "max_ms": float(ts.max()), "encoder_dim": c.encoder_dim,
            "proprio_dim": c.proprio_dim}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoders", nargs="+", default=["g1", "smpl", "teleop"])
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--pin-core", type=int, default=0, help="pin the process to this CPU (-1: no pinning)")
    ap.add_argument("--dir", help="keep the run folder and artifacts here (default: a temp folder)")
    ap.add_argument("--json")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    from rich.console import Console
    from rich.table import Table

    from sonic_train.cli.export import main as export_main

    run_dir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="sonic_release_"))
    run_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ckpt = make_release_checkpoint(run_dir)
    print(f"untrained sonic_release checkpoint {ckpt} ({time.perf_counter() - t0:.1f} s)")
    if args.pin_core >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.pin_core})
    rows = []
    for enc in args.encoders:
        out = run_dir / f"policy_{enc}.onnx"
        rc = export_main([f"+checkpoint={ckpt}", f"+encoder={enc}", f"+out={out}"])
        if rc != 0:
            raise SystemExit(f"sonic-export failed for encoder {enc} (rc {rc})")
        r = time_session(out, args.iters, args.warmup)
        r.update({"encoder": enc, "artifact": str(out), "size_mb": out.stat().st_size / 1e6})
        rows.append(r)
    table = Table(title="sonic-export artifacts (untrained sonic_release), onnxruntime batch 1, 1 thread")
    for col in ("encoder", "obs_encoder", "obs_proprio", "MB", "p50 ms", "p99 ms", "mean ms", "max ms"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["encoder"], str(r["encoder_dim"]), str(r["proprio_dim"]), f"{r['size_mb']:.1f}",
                      f"{r['p50_ms']:.3f}", f"{r['p99_ms']:.3f}", f"{r['mean_ms']:.3f}", f"{r['max_ms']:.3f}")
    Console().print(table)
    if args.json:
        Path(args.json).write_text(json.dumps({"iters": args.iters, "results": rows}, indent=2))


if __name__ == "__main__":
    main()
