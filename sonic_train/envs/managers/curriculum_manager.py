"""Curriculum terms run at each reset batch; their current values are logged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from sonic_train.envs.managers.base import parse_terms, print_table
from sonic_train.envs.mdp import curriculum as cur_mod


class CurriculumManager:
    def __init__(self, env, terms_cfg: Mapping[str, Any] | None, quiet: bool = False):
        self.env = env
        self.terms = parse_terms(terms_cfg, cur_mod, "curriculum", "manager_env.curriculum")
        self.states: dict[str, dict] = {t.name: {} for t in self.terms}
        self.values: dict[str, float] = {}
        self.quiet = quiet

    def compute(self, env_ids: torch.Tensor) -> dict[str, float]:
        for t in self.terms:
            self.values[t.name] = float(t.func(self.env, env_ids, self.states[t.name], **t.params))
        return {f"curriculum/{k}": v for k, v in self.values.items()}

    def state_dict(self) -> dict[str, Any]:
        return {k: dict(v) for k, v in self.states.items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for k, v in state.items():
            if k in self.states:
                self.states[k] = dict(v)
        self.compute(torch.zeros(0, dtype=torch.long))

    def print_summary(self) -> str:
        rows = [[t.name, ", ".join(f"{k}={v}" for k, v in t.params.items())] for t in self.terms]
        return print_table("Curriculum", ["term", "params"], rows, self.quiet)
