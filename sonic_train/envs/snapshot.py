"""Exact snapshot of a running tracking environment, for a checkpoint that resumes bit for bit.

``TrackingEnv.state_dict`` keeps what a new run needs to go on (clip weights, curriculum, randomisation level);
this adds everything a *continued* run needs to take the very same steps: per env the clip, time and episode
counters, the MuJoCo integration state (``mj_getState``) and the randomised model parameters, action and
observation-history buffers, reward sums, termination windows and thresholds, event timers, the encoder drawn
at the last reset, and the environment's own random generators. Values are tensors and plain Python only, so
the checkpoint still loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from sonic_train.envs.mdp.state import RobotState

SNAPSHOT_VERSION = 1


def _rng_state(g: np.random.Generator) -> dict[str, Any]:
    s = g.bit_generator.state
    return {"bit_generator": s["bit_generator"], "state": int(s["state"]["state"]), "inc": int(s["state"]["inc"]),
            "has_uint32": int(s["has_uint32"]), "uinteger": int(s["uinteger"])}


def _set_rng_state(g: np.random.Generator, s: Mapping[str, Any]) -> None:
    g.bit_generator.state = {"bit_generator": s["bit_generator"], "state": {"state": s["state"], "inc": s["inc"]},
                             "has_uint32": s["has_uint32"], "uinteger": s["uinteger"]}


def _robot_state(s: RobotState | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {f.name: getattr(s, f.name).clone() for f in dataclasses.fields(s) if torch.is_tensor(getattr(s, f.name))}


def supports(env: Any) -> bool:
    """True for a :class:`TrackingEnv` (or a wrapper of one) on the CPU MuJoCo backend."""
    e = getattr(env, "unwrapped", env)
    return hasattr(e, "command") and hasattr(getattr(e, "backend", None), "datas")


def capture(env: Any) -> dict[str, Any]:
    e = getattr(env, "unwrapped", env)
    cmd, om = e.command, e.observation_manager.resume_state()
    return {
        "version": SNAPSHOT_VERSION,
        **e.resume_state(),
        "np_rng": _rng_state(e.np_rng),
        "torch_rng": e.torch_rng.get_state(),
        "prev_state": _robot_state(e.prev_state),
        "command": {k: getattr(cmd, k).clone() for k in ("clip_ids", "times", "start_times", "episode_counts",
                                                          "failure_counts")},
        "action": {k: getattr(e.action_manager, k).clone() for k in ("action", "prev_action", "joint_offset")},
        "observation_history": om["history"],
        "observation_fill": om["fill"],
        "reward": {"episode_sum": e.reward_manager.episode_sum.clone(), "values": e.reward_manager.values.clone()},
        "termination": e.termination_manager.resume_state(),
        "events": e.event_manager.resume_state(),
        "backend": e.backend.resume_state(),
    }


def restore(env: Any, snap: Mapping[str, Any], obs: Mapping[str, Any] | None = None) -> None:
    """Put ``env`` back into the captured state; ``obs``: the observation the run last returned (the wrapper's)."""
    e = getattr(env, "unwrapped", env)
    if int(snap.get("version", -1)) != SNAPSHOT_VERSION:
        raise ValueError(f"environment snapshot version {snap.get('version')} != {SNAPSHOT_VERSION}")
    b, cmd = e.backend, e.command
    bs = snap["backend"]
    if bs["physics"].shape[0] != b.num_envs:
        raise ValueError(f"environment snapshot has {bs['physics'].shape[0]} envs, this env {b.num_envs}")
    b.load_resume_state(bs)
    e.load_resume_state(snap)
    _set_rng_state(e.np_rng, snap["np_rng"])
    e.torch_rng.set_state(snap["torch_rng"])
    for k, v in snap["command"].items():
        getattr(cmd, k).copy_(v)
    cmd.invalidate()
    for k, v in snap["action"].items():
        setattr(e.action_manager, k, v.clone())
    e.observation_manager.load_resume_state({"history": snap["observation_history"],
                                             "fill": snap["observation_fill"]})
    e.reward_manager.episode_sum.copy_(snap["reward"]["episode_sum"])
    e.reward_manager.values = snap["reward"]["values"].clone()
    e.termination_manager.load_resume_state(snap["termination"])
    e.event_manager.load_resume_state(snap["events"])
    e.state = b.read_state()
    ps = snap["prev_state"]
    e.prev_state = None if ps is None else dataclasses.replace(e.state, **{k: v.clone() for k, v in ps.items()})
    e.step_cache.clear()
    if obs is not None and env is not e and hasattr(env, "load_resume_state"):
        env.load_resume_state({"obs": obs})  # the wrapper resets a fresh env on its first step unless it has one
