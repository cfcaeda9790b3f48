"""Build the training environment from the composed Hydra config: backend, motion library, MDP, wrapper."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from sonic_deploy.motion.library import MotionLibrary
from sonic_deploy.motion.synth import synthesize_all
from sonic_deploy.robots.scene import SceneConfig
from sonic_train.envs.backend import BACKENDS, BackendUnavailable, SimulatorBackend
from sonic_train.envs.managers.base import to_plain
from sonic_train.envs.mujoco import MujocoBackend
from sonic_train.envs.tracking_env import TrackingEnv
from sonic_train.envs.wrapper import ManagerEnvWrapper, load_action_transform
from sonic_train.modules.universal_token import encoder_probs_from_cfg
from sonic_train.robots.g1 import G1

__all__ = ["BACKENDS", "BackendUnavailable", "make_backend", "make_env", "resolve_motions"]


def default_motion_cache() -> Path:
    return Path(os.environ.get("SONIC_CACHE_DIR", Path.home() / ".cache" / "sonic")) / "motions" / "synthetic"


def resolve_motions(path: str | None, experiment_dir: str | None = None) -> Path:
    """``path`` if given; else the synthetic set, generated on first use into the cache folder."""
    if path:
        p = Path(path).expanduser()
        if not p.exists():
            raise FileNotFoundError(f"+motions={path}: no such file or folder")
        return p
    out = default_motion_cache()
    if not out.is_dir() or not any(out.glob("*.npz")):
        out.mkdir(parents=True, exist_ok=True)
        synthesize_all(out)
    return out


def make_backend(sim_cfg: Any, num_envs: int, robot, device: str = "cpu") -> SimulatorBackend:
    sim = dict(to_plain(sim_cfg) or {"backend": "mujoco"})
    name = sim.get("backend", "mujoco")
    if name == "mujoco":
        scene = SceneConfig(physics_dt=float(sim.get("physics_dt", robot.physics_dt)))
        return MujocoBackend(num_envs, robot, scene, decimation=sim.get("decimation"),
                             num_threads=sim.get("num_threads"), device=device,
                             contact_forces=bool(sim.get("contact_forces", True)))
    if name == "isaaclab":
        try:
            import isaaclab.envs  # noqa: F401  (a real install, not a folder named isaaclab on sys.path)
        except ImportError as exc:
            raise BackendUnavailable(f"sim=isaaclab: Isaac Lab is not installed here; install {BACKENDS[name]}") from exc
        from sonic_train.envs.isaaclab.backend import IsaacLabBackend  # optional heavy dependency: isaaclab

        return IsaacLabBackend(num_envs, robot, physics=str(sim.get("physics", "newton")),
                               device=str(sim.get("device") or device), physics_dt=sim.get("physics_dt"),
                               decimation=sim.get("decimation"), gains=str(sim.get("gains", "tracking")),
                               env_spacing=float(sim.get("env_spacing", 2.5)),
                               physics_overrides=dict(sim.get(str(sim.get("physics", "newton"))) or {}),
                               contact_forces=bool(sim.get("contact_forces", True)), state_device=device)
    raise BackendUnavailable(f"sim={name}: unknown simulator backend; choose one of {sorted(BACKENDS)}")


def make_env(cfg: DictConfig, quiet: bool = False, replay: bool | None = None, motions: str | None = None):
    """The wrapped env for the root config (``num_envs``, ``sim``, ``manager_env``, ``seed``, ``motions``)."""
    me = cfg.get("manager_env", None)
    if me is None:
        raise ValueError("no manager_env in the config (base.yaml's default is manager_env: base_env)")
    env_cfg = dict(to_plain(me.get("config", {})) or {})
    backend = make_backend(cfg.get("sim", None), int(cfg.num_envs), G1, device=str(cfg.get("device", "cpu")))
    lib = MotionLibrary.from_paths(str(resolve_motions(motions or cfg.get("motions", None))))
    ac = cfg.get("actor_critic", None)
    probs = None
    if ac is not None and ac.get("encoder_sample_probs", None) is not None and ac.get("encoders", None) is not None:
        probs = encoder_probs_from_cfg(to_plain(ac.encoder_sample_probs), list(ac.encoders.keys()))
    env = TrackingEnv(me, backend, lib, G1, seed=int(cfg.get("seed", 0)), encoder_sample_probs=probs, quiet=quiet)
    replay = bool(env_cfg.get("replay", False)) if replay is None else replay
    wrapped = ManagerEnvWrapper(env, replay=replay)
    if env_cfg.get("action_transform"):
        obs = wrapped.reset()
        module = load_action_transform(env_cfg["action_transform"], cfg, obs, env.num_actions)
        dim = getattr(module, "latent_dim", env.num_actions)
        wrapped = ManagerEnvWrapper(env, replay=replay, action_transform=module, action_transform_dim=dim)
    return wrapped
