"""Shared by evaluation, the checkpoint monitor and export: the training run's config and a trained policy.

A checkpoint ``<run>/model_<it>.pt`` sits beside the training ``config.yaml`` (written by ``sonic-train``);
everything here reconstructs the experiment from that file, so evaluating or exporting needs nothing but the
run folder. Checkpoints are read with ``weights_only=True`` (:func:`sonic_train.callbacks.model_save.read_checkpoint`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from importlib.metadata import version as _v
from pathlib import Path
from typing import Any

import hydra
import torch
from omegaconf import DictConfig, OmegaConf, open_dict

import sonic_train
from sonic_deploy.utils.atomic import atomic_path
from sonic_train.callbacks.model_save import CheckpointError, read_checkpoint
from sonic_train.config import config_dir
from sonic_train.modules.actor_critic import build_actor_critic, obs_dims_from

CHECKPOINT_RE = re.compile(r"model_(\d+)\.pt")


class EvalError(RuntimeError):
    """A checkpoint, config or motion selection that cannot be evaluated/exported; the message says why."""


def checkpoint_iteration(path: str | os.PathLike) -> int | None:
    m = CHECKPOINT_RE.fullmatch(Path(path).name)
    return int(m.group(1)) if m else None


def train_config_path(checkpoint: str | os.PathLike) -> Path:
    return Path(checkpoint).expanduser().resolve().parent / "config.yaml"


def load_train_config(checkpoint: str | os.PathLike) -> DictConfig:
    """The resolved training config saved beside ``checkpoint``."""
    p = train_config_path(checkpoint)
    if not p.is_file():
        raise EvalError(f"{checkpoint}: no training config.yaml beside the checkpoint (expected {p})")
    cfg = OmegaConf.load(p)
    if not isinstance(cfg, DictConfig) or "actor_critic" not in cfg or "manager_env" not in cfg:
        raise EvalError(f"{p}: not a sonic training config (needs actor_critic and manager_env)")
    return cfg


def config_hash(cfg: DictConfig | dict) -> str:
    """sha256 (first 16 hex digits) of the resolved config as canonical JSON."""
    data = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def set_dotted(cfg: DictConfig, key: str, value: Any) -> None:
    """``cfg[key] = value`` for a dotted key, creating nodes as needed (``value: null`` deletes the key)."""
    with open_dict(cfg):
        if value is None and OmegaConf.select(cfg, key) is not None:
            parent_key, _, leaf = key.rpartition(".")
            parent = OmegaConf.select(cfg, parent_key) if parent_key else cfg
            parent.pop(leaf, None)
            return
        OmegaConf.update(cfg, key, value, merge=False, force_add=True)


def apply_overrides(cfg: DictConfig, overrides: Any) -> None:
    """Apply ``eval_overrides``: a mapping of dotted keys (or nested mappings) onto ``cfg``."""
    if not overrides:
        return
    ov = OmegaConf.to_container(overrides, resolve=True) if not isinstance(overrides, dict) else overrides
    for k, v in ov.items():
        set_dotted(cfg, str(k), v)


def version() -> str:
    try:
        return _v("sonic")
    except Exception:  # noqa: BLE001
        return str(getattr(sonic_train, "__version__", "0"))


def build_policy(train_cfg: DictConfig, obs: dict, num_actions: int, checkpoint: str | os.PathLike):
    """The actor-critic of ``train_cfg`` with the checkpoint's weights, in eval mode, on the CPU."""
    model = build_actor_critic(train_cfg, obs_dims_from(obs), num_actions)
    try:
        ckpt = read_checkpoint(checkpoint)
        model.load_state_dict(ckpt["runner"]["trainer"]["model"])
    except CheckpointError as exc:
        raise EvalError(str(exc)) from None
    except (KeyError, RuntimeError) as exc:
        raise EvalError(f"checkpoint {checkpoint} does not match the model of its config.yaml: {exc}") from None
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, int(ckpt.get("iteration", checkpoint_iteration(checkpoint) or 0))


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """Write JSON to ``path`` through a temp file in the same folder and os.replace (never half-written)."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(data, f, indent=2, sort_keys=False, default=float)
    return path


def hydra_argv(argv: list[str], keys: set[str]) -> list[str]:
    """``+key=value`` for our free keys becomes ``++key=value`` (works whether or not the config has it)."""
    out = []
    for a in argv:
        if a.startswith("+") and not a.startswith("++") and a[1:].split("=", 1)[0].split(".")[0] in keys:
            a = "+" + a
        out.append(a)
    return out


def run_hydra(config_name: str, argv: list[str], fn, prog: str) -> Any:
    """Compose ``configs/<config_name>.yaml`` with ``argv`` overrides through Hydra's main and call ``fn(cfg)``."""
    cdir = config_dir()
    if not (cdir / f"{config_name}.yaml").is_file():
        raise SystemExit(f"{prog}: no {config_name}.yaml in {cdir}; set SONIC_CONFIG_DIR to the repository's configs/")
    defaults = ["hydra.output_subdir=null", "hydra/job_logging=none", "hydra/hydra_logging=none",
                "hydra.run.dir=."]
    result: dict[str, Any] = {}

    @hydra.main(config_path=str(cdir), config_name=config_name, version_base=None)
    def _main(cfg: DictConfig) -> None:
        result["out"] = fn(cfg)

    old = sys.argv
    sys.argv = [prog] + defaults + list(argv)
    try:
        _main()
    finally:
        sys.argv = old
    return result.get("out")
