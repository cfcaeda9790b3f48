"""Scheduled config values: a value addressed by a dotted config path, as a function of iteration.

Config (a list, since paths contain dots)::

    schedules:
      - {path: algo.config.actor_learning_rate, kind: linear, start: 2e-5, end: 5e-6, start_iter: 0, end_iter: 10000}
      - {path: algo.config.entropy_coef, kind: step, values: [0.01, 0.003, 0.0], milestones: [2000, 5000]}
      - {path: manager_env.rewards.action_rate_l2.weight, kind: linear, start: -0.01, end: -0.1, end_iter: 5000}
      - {path: manager_env.events.level, kind: step, values: [0, 2, 4], milestones: [1000, 3000]}

Where a value goes: ``algo.config.*`` is the trainer's own config node (it reads it at every update);
``manager_env.*`` goes to the environment through :meth:`TrackingEnv.set_config`, which lists what it can change
at run time (term weights and parameters, the event level, the episode length). Any other path, or a
``manager_env`` path the environment cannot change, is refused when the schedules are built.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sonic_train.envs.managers.base import ConfigError

SCHEDULE_KINDS = ("linear", "step", "constant")


class Schedule:
    def __init__(self, path: str, kind: str = "constant", **params: Any):
        if kind not in SCHEDULE_KINDS:
            raise ValueError(f"schedule for {path!r}: unknown kind {kind!r}; choose from {SCHEDULE_KINDS}")
        self.path = path
        self.kind = kind
        self.p = params
        if kind == "step":
            values, milestones = list(params["values"]), list(params.get("milestones", []))
            if len(values) != len(milestones) + 1:
                raise ValueError(f"step schedule for {path!r} needs len(values) == len(milestones) + 1")
            if milestones != sorted(milestones):
                raise ValueError(f"step schedule for {path!r}: milestones must increase")

    def value_at(self, iteration: int) -> Any:
        p = self.p
        if self.kind == "constant":
            return p["value"]
        if self.kind == "step":
            return list(p["values"])[bisect.bisect_right(list(p.get("milestones", [])), iteration)]
        s, e = int(p.get("start_iter", 0)), int(p["end_iter"])
        frac = 1.0 if e <= s else min(max((iteration - s) / (e - s), 0.0), 1.0)
        return float(p["start"]) + frac * (float(p["end"]) - float(p["start"]))


def set_by_path(root: Any, path: str, value: Any) -> None:
    """Set ``root.a.b.c = value`` for a dotted path over dicts, DictConfigs and objects."""
    if isinstance(root, DictConfig):
        OmegaConf.update(root, path, value, merge=False)
        return
    keys = path.split(".")
    node = root
    for k in keys[:-1]:
        node = node[k] if isinstance(node, Mapping) else getattr(node, k)
    if isinstance(node, DictConfig):
        OmegaConf.update(node, keys[-1], value, merge=False)
    elif isinstance(node, MutableMapping):
        node[keys[-1]] = value
    else:
        setattr(node, keys[-1], value)


ENV_PREFIX = "manager_env."
TRAINER_PREFIX = "algo.config."


class ScheduleManager:
    def __init__(self, specs: Sequence[Mapping[str, Any]] | None, env: Any = None):
        """``env``: the training environment (a wrapper or the env); ``manager_env.*`` paths are checked on it."""
        self.schedules = [Schedule(**dict(s)) for s in (specs or [])]
        self.env = getattr(env, "unwrapped", env)
        for s in self.schedules:
            if s.path.startswith(ENV_PREFIX):
                if self.env is None or not hasattr(self.env, "set_config"):
                    raise ConfigError(f"schedule {s.path}: no environment that takes run-time config changes")
                self.env.check_config(s.path[len(ENV_PREFIX):])
            elif not s.path.startswith(TRAINER_PREFIX):
                raise ConfigError(f"schedule {s.path}: only {TRAINER_PREFIX}* (read by the trainer at every update) "
                                 f"and {ENV_PREFIX}* (applied to the environment) change during a run")

    def apply(self, root: Any, iteration: int) -> dict[str, Any]:
        """Set every scheduled value for ``iteration`` in ``root`` (and in the environment for its paths)."""
        values = {}
        for s in self.schedules:
            v = s.value_at(iteration)
            set_by_path(root, s.path, v)
            if s.path.startswith(ENV_PREFIX):
                self.env.set_config(s.path[len(ENV_PREFIX):], v)
            values[s.path] = v
        return values
