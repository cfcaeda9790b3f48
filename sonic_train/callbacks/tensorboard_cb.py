"""Scalar logging to TensorBoard (main process only)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from sonic_train.callbacks.base import Callback


class TensorboardCallback(Callback):
    def __init__(self, log_dir: str | os.PathLike, flush_secs: int = 30):
        self.log_dir = str(log_dir)
        self.flush_secs = flush_secs
        self.writer: Any = None

    def on_train_start(self, runner: Any) -> None:
        super().on_train_start(runner)
        if runner.is_main_process and self.writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(self.log_dir, flush_secs=self.flush_secs)

    def on_update_end(self, iteration: int, stats: Mapping[str, float]) -> None:
        if self.writer is None:
            return
        for k, v in stats.items():
            if isinstance(v, (int, float)) and math.isfinite(v):
                self.writer.add_scalar(k, v, iteration)

    def on_train_end(self) -> None:
        if self.writer is not None:
            self.writer.flush()
            self.writer.close()
            self.writer = None
