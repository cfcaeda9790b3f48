"""``sonic-train``: PPO training of the universal-token policy (Hydra: config_path configs, config_name base).

The config folder is the repository's ``configs/`` (editable install) or ``$SONIC_CONFIG_DIR``. Extra keys:
``+motions=PATH`` (default: the synthetic set, generated on first use into the cache folder),
``+resume=PATH`` (a checkpoint, or an experiment folder: its latest checkpoint), ``sim=mujoco|isaaclab``.
"""

from __future__ import annotations

# Imports of torch, the simulator and the training stack sit inside the command's functions: `--help` and a bad
# argument answer before they load (seconds on a small machine). No import is deferred to avoid a cycle.

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sonic_train.config import config_dir

__all__ = ["config_dir", "main", "run"]

DESCRIPTION = "Train the universal-token policy with PPO on a simulator backend (sim=mujoco|isaaclab)."
EPILOG = """examples:
  sonic-train +exp=manager/universal_token/all_modes/sonic_release sim=mujoco num_envs=64
  sonic-train +exp=manager/universal_token/all_modes/sonic_smoke +resume=logs/sonic_smoke/model_20.pt
"""


def _git_hash() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or None
    except Exception:  # noqa: BLE001
        return None


def build_meta(cfg: Any, env: Any, motions: str) -> dict[str, Any]:
    import mujoco
    import torch

    import sonic_train
    from sonic_train.robots.g1 import G1

    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "argv": sys.argv[1:],
        "git": _git_hash(),
        "version": getattr(sonic_train, "__version__", None),
        "torch": str(torch.__version__),
        "mujoco": str(mujoco.__version__),
        "sim": str(cfg.sim.get("backend", "mujoco")) if cfg.get("sim") is not None else "mujoco",
        "num_envs": int(env.num_envs),
        "num_actions": int(env.num_actions),
        "motions": str(motions),
        "robot": {"name": G1.name, "joint_names": list(G1.joint_names),
                  "default_joint_pos": [float(x) for x in G1.default_joint_pos],
                  "kp": [float(x) for x in G1.kp], "kd": [float(x) for x in G1.kd],
                  "action_scale": [float(x) for x in G1.action_scale], "control_dt": G1.control_dt},
        "observation_layout": env.observation_layout(),
    }


def _resolve_resume(path: str) -> Path:
    from sonic_train.callbacks.model_save import latest_checkpoint

    p = Path(path).expanduser()
    if p.is_dir():
        found = latest_checkpoint(p)
        if found is None:
            raise FileNotFoundError(f"+resume={path}: no model_*.pt in that folder")
        return found
    return p


def _final_table(stats: dict[str, float]) -> None:
    from sonic_train.envs.managers.base import print_table

    keys = ["train/mean_reward", "train/mean_episode_length", "perf/fps"]
    keys += sorted(k for k in stats if k.startswith("episode/rew/tracking") or k.startswith("episode/termination/"))
    rows = [[k, f"{stats[k]:.4g}"] for k in keys if k in stats]
    print_table("Last iteration", ["metric", "value"], rows)


def run(cfg: Any) -> dict[str, float]:
    """Train from a composed config (the Hydra main calls this; tests can too)."""
    import numpy as np
    import torch
    from omegaconf import OmegaConf

    from sonic_deploy.motion.library import find_clip_files
    from sonic_deploy.motion.motion_sets import MotionSetError, check_not_held_out
    from sonic_train.callbacks.model_save import load_checkpoint
    from sonic_train.envs.factory import BackendUnavailable, make_env, resolve_motions
    from sonic_train.envs.managers.base import ConfigError
    from sonic_train.trainer.builder import build_callbacks, build_runner

    torch.set_num_threads(int(cfg.get("torch_threads", None) or 1))
    accelerator = None
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # accelerate launch / torchrun: one env per rank
        from sonic_train.accel import make_accelerator, rank_seed

        acc_cfg = cfg.get("accelerate", None) or {}
        accelerator = make_accelerator(cpu=str(cfg.get("device", "cpu")) == "cpu",
                                       find_unused_parameters=bool(acc_cfg.get("find_unused_parameters", False)))
        if accelerator.device.type == "cuda":
            cfg.device = str(accelerator.device)  # this rank's GPU: the backend simulates there
        cfg.seed = rank_seed(int(cfg.get("seed", 0)), accelerator)
    seed = int(cfg.get("seed", 0))
    torch.manual_seed(seed)
    np.random.seed(seed)
    exp_dir = Path(str(cfg.get("experiment_dir", "logs/sonic")))
    exp_dir.mkdir(parents=True, exist_ok=True)
    motions = resolve_motions(cfg.get("motions", None))
    try:
        # held-out clips (configs/motion_sets/*.yaml) are evaluation material: training refuses them
        check_not_held_out([p.stem for p in find_clip_files(motions)])
    except MotionSetError as exc:
        raise SystemExit(f"sonic-train: {exc}") from None
    try:
        env = make_env(cfg, motions=str(motions))
    except (BackendUnavailable, ConfigError) as exc:
        raise SystemExit(f"sonic-train: {exc}") from None
    env.unwrapped.print_summary()
    try:
        runner = build_runner(cfg, env, accelerator=accelerator, callbacks=build_callbacks(cfg, str(exp_dir)))
    except ConfigError as exc:  # a schedule on a path nothing reads during a run
        env.close()
        raise SystemExit(f"sonic-train: {exc}") from None
    if accelerator is None or accelerator.is_main_process:
        OmegaConf.save(cfg, exp_dir / "config.yaml", resolve=True)
        OmegaConf.save(OmegaConf.create(build_meta(cfg, env, str(motions))), exp_dir / "meta.yaml")
    resume = cfg.get("resume", None)
    if resume:
        ckpt = _resolve_resume(str(resume))
        load_checkpoint(ckpt, runner)
        print(f"resumed from {ckpt} at iteration {runner.iteration}")
    total = int(cfg.algo.config.num_learning_iterations)
    todo = max(total - runner.iteration, 0)
    print(f"experiment {exp_dir}: {env.num_envs} envs, iterations {runner.iteration} -> {total}")
    stats = runner.learn(todo) if todo else {}
    if stats:
        _final_table(stats)
    env.close()
    return stats


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(a in ("-h", "--help") for a in argv):
        print(f"usage: sonic-train [HYDRA OVERRIDES ...]\n\n{DESCRIPTION}\n\n{EPILOG}\n"
              f"config folder: {config_dir()} (set SONIC_CONFIG_DIR to use another)\n"
              "Hydra's own help: sonic-train --hydra-help")
        return 0
    import hydra
    from omegaconf import DictConfig

    cdir = config_dir()
    if not (cdir / "base.yaml").is_file():
        print(f"sonic-train: no base.yaml in {cdir}; set SONIC_CONFIG_DIR to the repository's configs/ folder",
              file=sys.stderr)
        return 2
    for a in argv:
        if a.split("=", 1)[0].lstrip("+~") == "sim" and "=" in a:
            name = a.split("=", 1)[1]
            known = sorted(p.stem for p in (cdir / "sim").glob("*.yaml"))
            if name not in known:
                from sonic_train.envs.factory import BACKENDS

                print(f"sonic-train: sim={name}: unknown simulator backend; choose one of {known} "
                      f"({'; '.join(f'{k}: {v}' for k, v in BACKENDS.items())})", file=sys.stderr)
                return 2
    # the experiment folder is the run folder; hydra keeps its own record inside it
    defaults = ["hydra.run.dir=${experiment_dir}", "hydra.output_subdir=.hydra", "hydra/job_logging=none",
                "hydra/hydra_logging=none"]
    overrides = [d for d in defaults if d.split("=")[0] not in {a.split("=")[0].lstrip("+") for a in argv}] + argv
    result: dict[str, Any] = {}

    @hydra.main(config_path=str(cdir), config_name="base", version_base=None)
    def _main(cfg: DictConfig) -> None:
        result["stats"] = run(cfg)

    old = sys.argv
    sys.argv = [old[0] if old else "sonic-train"] + overrides
    try:
        _main()
    finally:
        sys.argv = old
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
