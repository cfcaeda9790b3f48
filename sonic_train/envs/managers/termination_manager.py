"""Terminations: failure terms end an episode, ``time_out: true`` terms truncate it (the trainer bootstraps)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import torch

from sonic_train.envs.managers.base import parse_terms, print_table
from sonic_train.envs.mdp import terminations as term_mod


class TerminationManager:
    def __init__(self, env, terms_cfg: Mapping[str, Any], quiet: bool = False):
        self.env = env
        self.terms = parse_terms(terms_cfg, term_mod, "terminations", "manager_env.terminations")
        self.by_name = {t.name: t for t in self.terms}
        n, dev = env.num_envs, env.device
        self.is_time_out = torch.tensor([bool(t.time_out) for t in self.terms], dtype=torch.bool, device=dev)
        self.terminated = torch.zeros(n, dtype=torch.bool, device=dev)
        self.time_outs = torch.zeros(n, dtype=torch.bool, device=dev)
        self.dones = torch.zeros(n, len(self.terms), dtype=torch.bool, device=dev)  # [N, T] of the last step
        self._success: dict[str, deque] = {}
        self.observers: list[Callable[[torch.Tensor, torch.Tensor], None]] = []
        self.quiet = quiet

    def add_observer(self, fn: Callable[[torch.Tensor, torch.Tensor], None]) -> None:
        """``fn(terminated, time_outs)`` after every judgement, before finished envs reset (evaluation metrics)."""
        self.observers.append(fn)

    @property
    def term_dones(self) -> dict[str, torch.Tensor]:
        return {t.name: self.dones[:, k] for k, t in enumerate(self.terms)}

    def compute(self) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.terms:
            for fn in self.observers:
                fn(self.terminated, self.time_outs)
            return self.terminated, self.time_outs
        self.dones = torch.stack([t.func(self.env, **t.params).bool() for t in self.terms], dim=1)
        self.terminated = (self.dones & ~self.is_time_out).any(1)
        # a step that both fails and runs out of time counts as a failure
        self.time_outs = (self.dones & self.is_time_out).any(1) & ~self.terminated
        for fn in self.observers:
            fn(self.terminated, self.time_outs)
        return self.terminated, self.time_outs

    def set_param(self, term: str, param: str, value: Any) -> None:
        if term not in self.by_name:
            raise KeyError(f"no termination term {term!r}; have {list(self.by_name)}")
        self.by_name[term].params[param] = value

    def get_param(self, term: str, param: str) -> Any:
        return self.by_name[term].params[param]

    # ------------------------------------------------------------------ success statistics for curricula
    def record(self, env_ids: torch.Tensor) -> dict[str, float]:
        """Log why the ``env_ids`` episodes ended and feed the success windows."""
        means = self.dones[env_ids].float().mean(0).tolist()
        out = {f"termination/{t.name}": m for t, m in zip(self.terms, means)}
        succ = (~self.terminated[env_ids]).float().tolist()
        self._success.setdefault("default", deque(maxlen=4096))
        for win in self._success.values():
            win.extend(succ)
        return out

    def recent_success(self, min_episodes: int, key: str = "default") -> float | None:
        win = self._success.setdefault(key, deque(maxlen=4096))
        return (sum(win) / len(win)) if len(win) >= min_episodes else None

    def reset_success_window(self, key: str = "default") -> None:
        self._success.setdefault(key, deque(maxlen=4096)).clear()

    # ------------------------------------------------------------------ exact resume
    def resume_state(self) -> dict[str, Any]:
        """Last judgement, success windows and (curriculum-tuned) term parameters, for a bit-exact resume."""
        return {"terminated": self.terminated.clone(), "time_outs": self.time_outs.clone(),
                "dones": self.dones.clone(), "success": {k: list(v) for k, v in self._success.items()},
                "params": {t.name: dict(t.params) for t in self.terms}}

    def load_resume_state(self, state: Mapping[str, Any]) -> None:
        """Put back what :meth:`resume_state` captured (resume of a checkpointed run)."""
        self.terminated, self.time_outs = state["terminated"].clone(), state["time_outs"].clone()
        self.dones = state["dones"].clone()
        self._success = {k: deque(v, maxlen=4096) for k, v in state["success"].items()}
        for t in self.terms:
            t.params.update(state["params"].get(t.name, {}))

    def print_summary(self) -> str:
        rows = [[t.name, "time-out" if t.time_out else "failure",
                 ", ".join(f"{k}={v}" for k, v in t.params.items())] for t in self.terms]
        return print_table("Terminations", ["term", "kind", "params"], rows, self.quiet)
