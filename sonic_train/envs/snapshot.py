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
from collections import deque
from collections.abc import Mapping
from typing import Any

import mujoco
import numpy as np
import torch

from sonic_train.envs.mdp.state import RobotState

SNAPSHOT_VERSION = 1
_STATE_SPEC = mujoco.mjtState.mjSTATE_INTEGRATION
# model fields the backend's randomisation writes (friction, mass, PD gains); saved for envs with a private model
_MODEL_FIELDS = ("geom_friction", "body_mass", "actuator_gainprm", "actuator_biasprm")
_BACKEND_ARRAYS = ("ctrl", "qpos", "qvel", "xpos", "xquat", "cvel", "com", "cfrc", "_fresh")


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(x, copy=True))


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
    b, cmd = e.backend, e.command
    state = np.empty(mujoco.mj_stateSize(b.model, _STATE_SPEC))
    physics = []
    for m, d in zip(b.models, b.datas):
        mujoco.mj_getState(m, d, state, _STATE_SPEC)
        physics.append(state.copy())
    own = [i for i, m in enumerate(b.models) if m is not b.model]
    obs_bufs = {g: [None if t.buf is None else t.buf.clone() for t in terms]
                for g, terms in e.observation_manager.groups.items()}
    tm = e.termination_manager
    return {
        "version": SNAPSHOT_VERSION,
        "started": bool(e._started),
        "episode_length_buf": e.episode_length_buf.clone(),
        "common_step_counter": int(e.common_step_counter),
        "encoder_index": e.encoder_index.clone(),
        "np_rng": _rng_state(e.np_rng),
        "torch_rng": e.torch_rng.get_state(),
        "prev_state": _robot_state(e.prev_state),
        "command": {k: getattr(cmd, k).clone() for k in ("clip_ids", "times", "start_times", "episode_counts",
                                                          "failure_counts")},
        "action": {k: getattr(e.action_manager, k).clone() for k in ("action", "prev_action", "joint_offset")},
        "observation_history": obs_bufs,
        "observation_fill": [ids.clone() for ids in e.observation_manager._fill],
        "reward": {"episode_sum": e.reward_manager.episode_sum.clone(), "values": e.reward_manager.values.clone()},
        "termination": {"terminated": tm.terminated.clone(), "time_outs": tm.time_outs.clone(),
                        "dones": tm.dones.clone(), "success": {k: list(v) for k, v in tm._success.items()},
                        "params": {t.name: dict(t.params) for t in tm.terms}},
        "events": {"time_left": {k: v.clone() for k, v in e.event_manager.time_left.items()},
                   "applied": bool(e.event_manager._applied), "level": int(e.event_manager.level)},
        "backend": {"physics": _t(np.stack(physics)), "own_models": torch.tensor(own, dtype=torch.long),
                    "model_fields": {f: _t(np.stack([getattr(b.models[i], f) for i in own]))
                                     if own else None for f in _MODEL_FIELDS},
                    **{k: _t(getattr(b, k)) for k in _BACKEND_ARRAYS}},
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
    own = bs["own_models"].tolist()
    for i in range(b.num_envs):
        if i not in own:
            b.models[i] = b.model  # randomised in this process but not in the captured one
    for k, i in enumerate(own):
        m = b._own_model(i)
        for f in _MODEL_FIELDS:
            np.copyto(getattr(m, f), bs["model_fields"][f][k].numpy())
    for k in _BACKEND_ARRAYS:
        np.copyto(getattr(b, k), bs[k].numpy())
    for i, (m, d) in enumerate(zip(b.models, b.datas)):
        mujoco.mj_setState(m, d, bs["physics"][i].numpy(), _STATE_SPEC)
        if b._fresh[i]:
            mujoco.mj_step1(m, d)  # the stage a fresh env's next mj_step2 continues from
    e._started = bool(snap["started"])
    e.episode_length_buf.copy_(snap["episode_length_buf"])
    e.common_step_counter = int(snap["common_step_counter"])
    e.encoder_index.copy_(snap["encoder_index"])
    _set_rng_state(e.np_rng, snap["np_rng"])
    e.torch_rng.set_state(snap["torch_rng"])
    for k, v in snap["command"].items():
        getattr(cmd, k).copy_(v)
    cmd.invalidate()
    for k, v in snap["action"].items():
        setattr(e.action_manager, k, v.clone())
    for g, bufs in snap["observation_history"].items():
        for t, buf in zip(e.observation_manager.groups[g], bufs):
            t.buf = None if buf is None else buf.clone()
    e.observation_manager._fill = [ids.clone() for ids in snap["observation_fill"]]
    e.reward_manager.episode_sum.copy_(snap["reward"]["episode_sum"])
    e.reward_manager.values = snap["reward"]["values"].clone()
    tm, ts = e.termination_manager, snap["termination"]
    tm.terminated, tm.time_outs, tm.dones = ts["terminated"].clone(), ts["time_outs"].clone(), ts["dones"].clone()
    tm._success = {k: deque(v, maxlen=4096) for k, v in ts["success"].items()}
    for t in tm.terms:
        t.params.update(ts["params"].get(t.name, {}))
    ev = snap["events"]
    for k, v in ev["time_left"].items():
        e.event_manager.time_left[k].copy_(v)
    e.event_manager._applied = bool(ev["applied"])
    e.event_manager.set_level(int(ev["level"]))
    e.state = b.read_state()
    ps = snap["prev_state"]
    e.prev_state = None if ps is None else dataclasses.replace(e.state, **{k: v.clone() for k, v in ps.items()})
    e.step_cache.clear()
    if obs is not None and hasattr(env, "_obs"):
        env._obs = obs  # the wrapper resets a fresh env on its first step unless it has an observation
