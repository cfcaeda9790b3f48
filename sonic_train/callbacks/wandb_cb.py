"""Weights & Biases logging. ``WANDB_MODE=offline`` (or ``mode: offline``) logs to disk; online when logged in."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

from sonic_train.callbacks.base import Callback


class WandbCallback(Callback):
    def __init__(self, project: str = "sonic", entity: str | None = None, name: str | None = None,
                 group: str | None = None, mode: str | None = None, log_dir: str | os.PathLike | None = None,
                 config: Mapping[str, Any] | None = None, tags: list[str] | None = None):
        self.kwargs = {"project": project, "entity": entity, "name": name, "group": group, "tags": tags,
                       "mode": mode or os.environ.get("WANDB_MODE", None),
                       "dir": str(log_dir) if log_dir is not None else None,
                       "config": dict(config) if config is not None else None}
        self.run: Any = None

    def on_train_start(self, runner: Any) -> None:
        super().on_train_start(runner)
        if runner.is_main_process and self.run is None:
            import wandb

            if self.kwargs["dir"]:
                os.makedirs(self.kwargs["dir"], exist_ok=True)
            self.run = wandb.init(**{k: v for k, v in self.kwargs.items() if v is not None})
            if self.kwargs["dir"]:  # the checkpoint monitor resumes this run by its id

                with open(os.path.join(self.kwargs["dir"], "wandb_run.json"), "w") as f:
                    json.dump({"id": self.run.id, "project": self.run.project, "entity": self.run.entity}, f)

    def on_update_end(self, iteration: int, stats: Mapping[str, float]) -> None:
        if self.run is None:
            return
        self.run.log({k: v for k, v in stats.items() if isinstance(v, (int, float)) and math.isfinite(v)},
                     step=iteration)

    def on_train_end(self) -> None:
        if self.run is not None:
            self.run.finish()
            self.run = None
