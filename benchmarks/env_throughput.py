"""Env steps/s of the MuJoCo training backend against raw ``mj_step`` of the same scene on the same cores.

Rows: raw ``mj_step`` (one thread; a thread pool over MjData chunks; ``mujoco.rollout``), the backend alone
(step + state read), the full tracking env with zero actions, and the env with the smoke policy in the loop.
One env step = ``decimation`` (4) physics steps; ratios are physics steps/s over the raw thread pool's, taken
within each interleaved round: "vs raw pool" against robots resting in the default pose (they fall and lie
still), "vs raw, env's states" against raw stepping of the env's own robots (moving, in contact), the fair one.
Targets (issue "Speed", item 2): the tracking env with the smoke policy at >= 0.6 of raw stepping from the env's own
states at 64 envs and >= 0.75 at 256; ``--num-envs 64 256`` measures both in one run and ends with a table of the
ratios against those targets. ``mdp ms/step`` is the env's own cost per control step beyond its physics.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def _once(fn, steps: int) -> float:
    t = time.perf_counter()
    elapsed = fn()  # a case may time itself (excluding its set-up) and return the seconds
    return steps / (elapsed if isinstance(elapsed, float) else time.perf_counter() - t)


TARGETS = {64: 0.6, 256: 0.75}  # env + smoke policy vs raw stepping of the env's states
POLICY_CASE = "tracking env + smoke policy (actor+critic)"
SAME_CASE = "raw mj_step, pool, from the env's states"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-envs", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--steps", type=int, default=25, help="env steps per timing")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (medians reported)")
    ap.add_argument("--json")
    args = ap.parse_args()
    summary = [measure(n, args) for n in args.num_envs]
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Tracking env + smoke policy against raw stepping of the env's own states (same run)")
    for c in ("envs", "env steps/s", "raw env steps/s", "ratio", "target", "mdp ms/step", "met"):
        table.add_column(c, justify="right")
    for n, rate, raw, mdp_ms in summary:
        target = TARGETS.get(n)
        ratio = rate / raw
        table.add_row(str(n), f"{rate:,.0f}", f"{raw:,.0f}", f"{ratio:.2f}", "-" if target is None else f"{target:.2f}",
                      f"{mdp_ms:.1f}", "-" if target is None else ("yes" if ratio >= target else "no"))
    Console(width=130).print(table)


def measure(n: int, args) -> tuple[int, float, float, float]:
    """One size: the per-configuration table; returns (envs, env+policy env steps/s, raw same-state env steps/s,
    MDP ms per control step)."""
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
    k, dec = args.steps, G1.decimation
    model = load_model(G1, SceneConfig())
    datas = [mujoco.MjData(model) for _ in range(n)]
    for d in datas:
        reset_to_default(model, d)
    cases: list[tuple[str, object]] = []  # (name, callable running n * k * dec physics steps)

    def raw_serial():
        for _ in range(k):
            for d in datas:
                for _ in range(dec):
                    mujoco.mj_step(model, d)
    cases.append(("raw mj_step, 1 thread", raw_serial))

    be = MujocoBackend(n, G1, num_threads=args.threads)
    be.ctrl[:] = G1.default_joint_pos
    pool_name = f"raw mj_step, thread pool x{be.num_threads}"
    cases.append((pool_name, lambda: [be.raw_step(dec) for _ in range(k)]))

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
    cases.append((f"mujoco.rollout x{args.threads}", raw_rollout))

    tgt = torch.as_tensor(G1.default_joint_pos, dtype=torch.float32).expand(n, 29)

    def backend_only():
        for _ in range(k):
            be.step(tgt)
            be.read_state()
    cases.append(("backend: step + state read", backend_only))

    with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
        cfg = compose("base", overrides=["+exp=manager/universal_token/all_modes/sonic_smoke", f"num_envs={n}",
                                         f"sim.num_threads={args.threads}"])
    env = make_env(cfg, quiet=True)
    obs = env.reset()
    zeros = torch.zeros(n, 29)

    def env_zero():
        for _ in range(k):
            env.step(zeros)
    cases.append(("tracking env, no policy", env_zero))

    ebe = env.unwrapped.backend
    full = mujoco.mjtState.mjSTATE_FULLPHYSICS
    snap = np.zeros((n, mujoco.mj_stateSize(model, full)))

    def raw_env_states() -> float:
        """Raw mj_step (same pool) from the env's current states: walking, squatting, falling robots."""
        for i, d in enumerate(ebe.datas):
            mujoco.mj_getState(ebe.models[i], d, snap[i], full)
        t = time.perf_counter()
        for _ in range(k):
            ebe.raw_step(dec)
        elapsed = time.perf_counter() - t
        for i, d in enumerate(ebe.datas):
            mujoco.mj_setState(ebe.models[i], d, snap[i], full)
            mujoco.mj_forward(ebe.models[i], d)
        return elapsed
    cases.append(("raw mj_step, pool, from the env's states", raw_env_states))

    ac = build_actor_critic(cfg, obs_dims_from(obs), 29)
    ac.eval()
    holder = {"obs": obs}

    tenv = env.unwrapped
    mdp_ms: list[float] = []

    @torch.no_grad()
    def env_policy():
        t, physics0, policy_s = time.perf_counter(), tenv.physics_s, 0.0
        for _ in range(k):
            t0 = time.perf_counter()
            out = ac(holder["obs"])
            a = out["mean"] + out["std"] * torch.randn_like(out["mean"])
            policy_s += time.perf_counter() - t0
            holder["obs"] = env.step(a)[0]
        total = time.perf_counter() - t
        mdp_ms.append(1e3 * (total - policy_s - (tenv.physics_s - physics0)) / k)
        return total
    cases.append(("tracking env + smoke policy (actor+critic)", env_policy))

    # interleaved rounds: machine load drifts, so each configuration is timed once per round and its ratio to
    # the raw thread pool is taken within the round; medians over rounds are reported
    rates: dict[str, list[float]] = {name: [] for name, _ in cases}
    for fn in (c[1] for c in cases):
        fn()  # warm-up
    for _ in range(args.rounds):
        for name, fn in cases:
            rates[name].append(_once(fn, n * k * dec))
    ro.close()
    be.close()
    env.close()
    pool = np.array(rates[pool_name])
    same = np.array(rates["raw mj_step, pool, from the env's states"])
    rows = [(name, float(np.median(r)), float(np.median(np.array(r) / pool)), float(np.median(np.array(r) / same)))
            for name, r in rates.items()]

    table = Table(title=f"MuJoCo backend throughput: {n} envs, {os.cpu_count()} cores, decimation {dec}")
    for c in ("configuration", "physics steps/s", "env steps/s", "vs raw pool", "vs raw, env's states"):
        table.add_column(c, justify="right" if c != "configuration" else "left")
    for name, phys, ratio, ratio_same in rows:
        table.add_row(name, f"{phys:,.0f}", f"{phys / dec:,.0f}", f"{ratio:.2f}", f"{ratio_same:.2f}")
    Console(width=130).print(table)
    if args.json:
        with open(args.json.replace(".json", f"_{n}.json"), "w") as f:
            json.dump([{"name": a, "physics_steps_per_s": b, "env_steps_per_s": b / dec, "vs_raw_pool": c,
                        "vs_raw_env_states": d} for a, b, c, d in rows], f, indent=1)
    rate = float(np.median(np.array(rates[POLICY_CASE]))) / dec
    ratio = float(np.median(np.array(rates[POLICY_CASE]) / same))
    return n, rate, rate / ratio, float(np.median(mdp_ms[1:] or mdp_ms))


if __name__ == "__main__":
    main()
