"""Checkpoints: atomic writes, everything needed for an exact resume, safe (weights-only) loading.

A checkpoint is a dict of tensors and plain Python values only (RNG states included), so it loads
with ``torch.load(..., weights_only=True)``; arbitrary objects are never unpickled.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sonic_deploy.utils.atomic import atomic_path
from sonic_train.callbacks.base import Callback

CHECKPOINT_VERSION = 1


class CheckpointError(RuntimeError):
    pass


def get_rng_state() -> dict[str, Any]:
    py = random.getstate()
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "python": {"version": int(py[0]), "state": torch.tensor(py[1], dtype=torch.int64),
                   "gauss_next": py[2]},
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
    }


def set_rng_state(state: Mapping[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    py = state["python"]
    random.setstate((py["version"], tuple(int(v) for v in py["state"].tolist()), py["gauss_next"]))
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))


def save_checkpoint(path: str | os.PathLike, runner: Any, extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``runner``'s full state to ``path`` atomically (temp file in the same folder + os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ckpt = {"version": CHECKPOINT_VERSION, "iteration": int(runner.iteration), "runner": runner.state_dict(),
            "rng": get_rng_state(), "extra": dict(extra or {})}
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        torch.save(ckpt, f)
    return path


def read_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; any failure names the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # truncated zip, bad pickle, unsupported global ...
        raise CheckpointError(f"checkpoint {path} is corrupt or not a sonic checkpoint: {exc}") from exc
    if not isinstance(ckpt, dict) or "runner" not in ckpt or "version" not in ckpt:
        raise CheckpointError(f"checkpoint {path} is not a sonic checkpoint (missing 'runner'/'version')")
    return ckpt


def load_checkpoint(path: str | os.PathLike, runner: Any, restore_rng: bool = True) -> dict[str, Any]:
    ckpt = read_checkpoint(path, map_location=runner.trainer.device)
    try:
        runner.load_state_dict(ckpt["runner"])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {path} does not match this model/trainer: {exc}") from exc
    if restore_rng:
        set_rng_state(ckpt["rng"])
    return ckpt


def latest_checkpoint(directory: str | os.PathLike) -> Path | None:
    found = []
    for p in Path(directory).glob("model_*.pt"):
        m = re.fullmatch(r"model_(\d+)\.pt", p.name)
        if m:
            found.append((int(m.group(1)), p))
    return max(found)[1] if found else None


class ModelSaveCallback(Callback):
    """Save ``model_<iteration>.pt`` every ``save_interval`` iterations and at the end (main process only)."""

    def __init__(self, save_dir: str | os.PathLike, save_interval: int = 500, save_last: bool = True):
        self.save_dir = Path(save_dir)
        self.save_interval = int(save_interval)
        self.save_last = save_last
        self.saved: list[Path] = []
        self.last_saved_iteration: int | None = None

    def _save(self) -> None:
        r = self.runner
        if r.accelerator is not None:
            r.accelerator.wait_for_everyone()
        self.last_saved_iteration = r.iteration  # on every rank: on_train_end must agree on the barrier
        if r.is_main_process:
            self.saved.append(save_checkpoint(self.save_dir / f"model_{r.iteration}.pt", r))

    def on_update_end(self, iteration: int, stats: Mapping[str, float]) -> None:
        if self.save_interval > 0 and (iteration + 1) % self.save_interval == 0:
            self._save()

    def on_train_end(self) -> None:
        if self.save_last and self.last_saved_iteration != self.runner.iteration:
            self._save()
