"""Env steps/s of the MuJoCo training backend against raw ``mj_step`` of the same scene on the same cores.

Rows: raw ``mj_step`` (one thread; a thread pool over MjData chunks; ``mujoco.rollout``), the backend alone
(step + state read), the full tracking env with zero actions, and the env with the smoke policy in the loop.
One env step = ``decimation`` (4) physics steps; "vs raw" compares physics steps/s with the raw thread pool.
Target (DESIGN.md): env steps/s >= half of raw MuJoCo stepping of the same scene.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def _rate(fn, steps: int, repeat: int = 3) -> float:
    best = 0.0
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = max(best, steps / (time.perf_counter() - t))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-envs", type=int, default=64)
    ap.add_argument("--steps", type=int, default=25, help="env steps per timing")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json")
    args = ap.parse_args()

    import mujoco
    import torch
    from hydra import compose, initialize_config_dir
    from mujoco import rollout
    from rich.console import Console
    from rich.table import Table

    from sonic_deploy.robots.scene import SceneConfig, load_model, reset_to_default
    from sonic_train.cli.train import config_dir
    from sonic_train.envs.factory import make_env
    from sonic_train.envs.mujoco import MujocoBackend
    from sonic_train.modules.actor_critic import build_actor_critic, obs_dims_from
    from sonic_train.robots.g1 import G1

    torch.set_num_threads(1)
    n, k, dec = args.num_envs, args.steps, G1.decimation
    model = load_model(G1, SceneConfig())
    datas = [mujoco.MjData(model) for _ in range(n)]
    for d in datas:
        reset_to_default(model, d)
    rows: list[tuple[str, float, float]] = []  # name, physics steps/s, env steps/s

    def raw_serial():
        for _ in range(k):
            for d in datas:
                for _ in range(dec):
                    mujoco.mj_step(model, d)
    r = _rate(raw_serial, n * k * dec)
    rows.append(("raw mj_step, 1 thread", r, r / dec))

    be = MujocoBackend(n, G1, num_threads=args.threads)
    be.ctrl[:] = G1.default_joint_pos
    r = _rate(lambda: [be.raw_step(dec) for _ in range(k)], n * k * dec)
    raw_pool = r
    rows.append((f"raw mj_step, thread pool x{be.num_threads}", r, r / dec))

    size = mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_FULLPHYSICS)
    state = np.zeros((n, size))
    for i, d in enumerate(datas):
        mujoco.mj_getState(model, d, state[i], mujoco.mjtState.mjSTATE_FULLPHYSICS)
    ctrl = np.tile(G1.default_joint_pos, (n, dec, 1))
    ro = rollout.Rollout(nthread=args.threads)
    rdatas = [mujoco.MjData(model) for _ in range(max(args.threads, 1))]

    def raw_rollout():
        s = state
        for _ in range(k):
            out, _ = ro.rollout(model, rdatas, s, ctrl, nstep=dec)
            s = out[:, -1]
    r = _rate(raw_rollout, n * k * dec)
    rows.append((f"mujoco.rollout x{args.threads}", r, r / dec))
    ro.close()

    tgt = torch.as_tensor(G1.default_joint_pos, dtype=torch.float32).expand(n, 29)

    def backend_only():
        for _ in range(k):
            be.step(tgt)
            be.read_state()
    r = _rate(backend_only, n * k * dec)
    rows.append(("backend: step + state read", r, r / dec))
    be.close()

    with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
        cfg = compose("base", overrides=["+exp=manager/universal_token/all_modes/sonic_smoke", f"num_envs={n}",
                                         f"sim.num_threads={args.threads}"])
    env = make_env(cfg, quiet=True)
    obs = env.reset()
    zeros = torch.zeros(n, 29)

    def env_zero():
        for _ in range(k):
            env.step(zeros)
    r = _rate(env_zero, n * k * dec)
    rows.append(("tracking env, no policy", r, r / dec))

    ac = build_actor_critic(cfg, obs_dims_from(obs), 29)
    ac.eval()
    holder = {"obs": obs}

    @torch.no_grad()
    def env_policy():
        for _ in range(k):
            out = ac(holder["obs"])
            a = out["mean"] + out["std"] * torch.randn_like(out["mean"])
            holder["obs"] = env.step(a)[0]
    r = _rate(env_policy, n * k * dec)
    rows.append(("tracking env + smoke policy (actor+critic)", r, r / dec))
    env.close()

    table = Table(title=f"MuJoCo backend throughput: {n} envs, {os.cpu_count()} cores, decimation {dec}")
    for c in ("configuration", "physics steps/s", "env steps/s", "vs raw pool"):
        table.add_column(c, justify="right" if c != "configuration" else "left")
    for name, phys, envs in rows:
        table.add_row(name, f"{phys:,.0f}", f"{envs:,.0f}", f"{phys / raw_pool:.2f}")
    Console().print(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"name": a, "physics_steps_per_s": b, "env_steps_per_s": c} for a, b, c in rows], f, indent=1)


if __name__ == "__main__":
    main()
