"""The callback protocol the runner calls; evaluation and resampling callbacks plug in here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Callback:
    """Override what you need. ``runner`` is set by ``on_train_start``."""

    runner: Any = None

    def on_train_start(self, runner: Any) -> None:
        self.runner = runner

    def on_rollout_end(self, iteration: int) -> None:
        pass

    def on_update_end(self, iteration: int, stats: Mapping[str, float]) -> None:
        pass

    def on_train_end(self) -> None:
        pass


class CallbackList(Callback):
    def __init__(self, callbacks: list[Callback]):
        self.callbacks = callbacks

    def on_train_start(self, runner: Any) -> None:
        self.runner = runner
        for c in self.callbacks:
            c.on_train_start(runner)

    def on_rollout_end(self, iteration: int) -> None:
        for c in self.callbacks:
            c.on_rollout_end(iteration)

    def on_update_end(self, iteration: int, stats: Mapping[str, float]) -> None:
        for c in self.callbacks:
            c.on_update_end(iteration, stats)

    def on_train_end(self) -> None:
        for c in self.callbacks:
            c.on_train_end()
