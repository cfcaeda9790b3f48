"""Domain-randomisation events by mode (startup, reset, interval) at a curriculum level 0..max_level."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from sonic_train.envs.managers.base import check_keys, parse_terms, print_table, to_plain
from sonic_train.envs.mdp import events as ev_mod

MODES = ("startup", "reset", "interval")


class EventManager:
    def __init__(self, env, cfg: Mapping[str, Any] | None, quiet: bool = False):
        cfg = dict(to_plain(cfg) or {})
        check_keys("manager_env.events", cfg, ("max_level", "level", "terms"))
        self.env = env
        self.max_level = int(cfg.get("max_level", 4))
        self.level = int(cfg.get("level", 0))
        self.terms = parse_terms(cfg.get("terms", {}), ev_mod, "events", "manager_env.events.terms")
        for t in self.terms:
            if t.mode not in MODES:
                raise ValueError(f"manager_env.events.terms.{t.name}: mode {t.mode!r} not in {MODES}")
        n, dev = env.num_envs, env.device
        self.time_left = {t.name: torch.zeros(n, device=dev) for t in self.terms if t.mode == "interval"}
        self.quiet = quiet
        self._applied = False

    @property
    def level_frac(self) -> float:
        return self.level / self.max_level if self.max_level > 0 else 0.0

    def set_level(self, level: int) -> None:
        self.level = int(min(max(level, 0), self.max_level))

    def _draw_interval(self, t, n: int) -> torch.Tensor:
        lo, hi = t.interval_range_s
        return lo + (hi - lo) * torch.rand(n, generator=self.env.torch_rng).to(self.env.device)

    def apply(self, mode: str, env_ids: torch.Tensor | None = None, dt: float = 0.0) -> None:
        env = self.env
        if env_ids is None:
            env_ids = torch.arange(env.num_envs, device=env.device)
        for t in self.terms:
            if t.mode != mode:
                continue
            if mode == "interval":
                tl = self.time_left[t.name]
                tl -= dt
                due = (tl <= 0).nonzero().flatten()
                if len(due):
                    if self.level_frac > 0:
                        t.func(env, due, self.level_frac, **t.params)
                    tl[due] = self._draw_interval(t, len(due))
            elif mode == "reset" and t.name in self.time_left:
                continue
            elif self.level_frac > 0 or self._applied:
                # at level 0 nothing is randomised (models stay shared) until a level above 0 was used
                t.func(env, env_ids, self.level_frac, **t.params)
        if self.level_frac > 0 and mode in ("startup", "reset"):
            self._applied = True

    def reset(self, env_ids: torch.Tensor) -> None:
        for t in self.terms:
            if t.name in self.time_left:
                self.time_left[t.name][env_ids] = self._draw_interval(t, len(env_ids))

    def resume_state(self) -> dict[str, Any]:
        """Interval timers, whether randomisation was used, and the level, for a bit-exact resume."""
        return {"time_left": {k: v.clone() for k, v in self.time_left.items()}, "applied": bool(self._applied),
                "level": int(self.level)}

    def load_resume_state(self, state: Mapping[str, Any]) -> None:
        """Put back what :meth:`resume_state` captured (resume of a checkpointed run)."""
        for k, v in state["time_left"].items():
            self.time_left[k].copy_(v)
        self._applied = bool(state["applied"])
        self.set_level(int(state["level"]))

    def print_summary(self) -> str:
        rows = [[t.name, t.mode, ", ".join(f"{k}={v}" for k, v in t.params.items())]
                for t in self.terms]
        return print_table(f"Events (level {self.level}/{self.max_level})", ["term", "mode", "params"], rows,
                           self.quiet)
