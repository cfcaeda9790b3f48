"""Runs a ``sonic.policy/1`` ONNX artifact: validate the contract, build observations, infer, map to targets.

The runner reads the contract from the model's metadata (``sonic`` key), checks it against the robot spec,
the graph's inputs/outputs and what the reference source provides (see :mod:`.contract`), then on each
step builds ``obs_proprio`` / ``obs_encoder`` from the layout (history buffers filled with the first
value after a reset), runs onnxruntime (1 intra-op thread by default) and returns the raw action;
:meth:`targets` maps it to q* = default + action_scale * action.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from sonic_deploy.policy import observations as ob
from sonic_deploy.policy.contract import (INPUT_ENCODER, INPUT_PROPRIO, INPUT_RESIDUAL, METADATA_KEY, OUTPUT_ACTIONS,
                                          OUTPUT_TOKENS, ContractError, PolicyContract, validate)
from sonic_deploy.policy.quantize import PRECISIONS, int8_default
from sonic_deploy.policy.session import make_session
from sonic_deploy.robots.g1 import G1, RobotSpec


log = logging.getLogger("sonic_deploy.policy")

def _last_dim(shape) -> int | None:
    d = shape[-1] if shape else None
    return d if isinstance(d, int) else None


class PolicyRunner:
    format = "sonic.policy/1"

    def __init__(self, path: str | Path, spec: RobotSpec = G1, *, available: set[str] | frozenset | None = None,
                 threads: int = 1, providers=None, precision: str = "auto"):
        """``precision``: ``auto`` runs the INT8 variant beside an FP32 export on a CPU when the export's
        ``sonic.int8`` metadata says its tracking was checked within tolerance; ``fp32`` always the given file."""
        if precision not in PRECISIONS:
            raise ValueError(f"policy precision: expected one of {PRECISIONS}, got {precision!r}")
        self.path = str(path)
        self.spec = spec
        if not Path(self.path).is_file():
            raise ContractError(self.path, "file", "an existing ONNX file")
        try:
            self.session = make_session(self.path, threads, providers)
        except Exception as exc:  # noqa: BLE001
            raise ContractError(self.path, "file", "a loadable ONNX model", str(exc).splitlines()[0]) from None
        meta = self.session.get_modelmeta().custom_metadata_map
        self.precision = "int8" if "sonic.quantization" in meta else "fp32"
        on_cpu = self.session.get_providers()[0] == "CPUExecutionProvider"
        int8 = int8_default(meta, self.path) if precision != "fp32" and on_cpu else None
        if precision == "int8" and int8 is None and self.precision != "int8":
            raise ContractError(self.path, "metadata_props['sonic.int8']", "an INT8 variant checked by the export")
        if int8 is not None:  # the export checked this variant's tracking: the CPU default
            self.path, self.precision = str(int8), "int8"
            self.session = make_session(self.path, threads, providers)
            meta = self.session.get_modelmeta().custom_metadata_map
            log.info("%s: running the INT8 variant (tracking checked at export; precision='fp32' to force FP32)", self.path)
        if METADATA_KEY not in meta:
            raise ContractError(self.path, f"metadata_props[{METADATA_KEY!r}]", "the sonic.policy/1 JSON contract",
                                sorted(meta))
        self.contract = c = PolicyContract.from_json(meta[METADATA_KEY], self.path)
        ins = {i.name: _last_dim(i.shape) for i in self.session.get_inputs()}
        outs = {o.name: _last_dim(o.shape) for o in self.session.get_outputs()}
        validate(c, spec, self.path, input_dims=ins, output_dims=outs, available=available)
        self.default = np.asarray(c.default_joint_pos, np.float64)
        self.kp = np.asarray(c.kp, np.float64)
        self.kd = np.asarray(c.kd, np.float64)
        self.action_scale = np.asarray(c.action_scale, np.float64)
        self._residual = (np.zeros((1, ins[INPUT_RESIDUAL] or 0), np.float32) if INPUT_RESIDUAL in ins else None)
        self._outputs = [OUTPUT_ACTIONS] + ([OUTPUT_TOKENS] if OUTPUT_TOKENS in outs else [])
        self._scales = {t.name: t.scale_array() for t in c.obs_proprio + c.obs_encoder}
        self._offsets = {}
        for group in ("obs_proprio", "obs_encoder"):
            off = 0
            for t in getattr(c, group):
                self._offsets[(group, t.name)] = (off, t)
                off += t.size
        self.future_times = np.arange(c.future_frames) * c.future_dt
        self.tokens: np.ndarray | None = None
        self._plans: dict[str, _GroupPlan] = {}  # per input group: its history and term views (built on first use)
        self.reset()

    # --- controller interface -------------------------------------------------------------------------
    def reset(self) -> None:
        self.last_action = np.zeros(self.spec.num_joints)
        for plan in self._plans.values():
            plan.history.reset()  # the first value after a reset fills the histories again

    def reference_times(self, t: float) -> np.ndarray:
        return t + self.future_times

    def _raw(self, name: str, state, frames) -> np.ndarray:
        if name == "base_ang_vel":
            return np.asarray(state.imu_gyro, np.float64)
        if name == "projected_gravity":
            return ob.projected_gravity(state.imu_quat)
        if name == "joint_pos_rel":
            return ob.joint_pos_rel(state.q, self.default)
        if name == "joint_vel":
            return ob.joint_vel(state.dq)
        if name == "last_action":
            return ob.last_action(self.last_action)
        if frames is None:
            raise ValueError(f"{self.path}: term {name} needs a reference input, none is connected")
        if name == "command_joint_pos_future":
            return ob.command_joint_pos_future(frames.joint_pos, self.default)
        if name == "command_joint_vel_future":
            return ob.command_joint_vel_future(frames.joint_vel)
        if name == "command_anchor_ori_future":
            return ob.command_anchor_ori_future(state.imu_quat, frames.root_quat)
        if name == "smpl_joints_future":
            return ob.smpl_joints_future(frames.root_pos[0], frames.root_quat[0], frames.smpl_joints)
        if name == "vr_3point_pos":
            return ob.vr_3point_pos(frames.root_pos[0], frames.root_quat[0], frames.vr_pos)
        if name == "vr_3point_ori":
            return ob.vr_3point_ori(frames.root_quat[0], frames.vr_quat)
        raise KeyError(name)

    def _group(self, group: str, terms, state, frames) -> np.ndarray:
        """One input vector, [1, size] float32: each term's scaled value written into its slice of the group's
        :class:`~.observations.GroupHistory` (with history: the layout training's observation manager keeps)."""
        plan = self._plans.get(group)
        if plan is None or plan.terms is not terms:
            plan = self._plan(group, terms)
        for write, dst, scale in plan.parts:
            write(dst, state, frames)
            if scale is not None:
                dst *= scale
        return plan.history.push()

    def _plan(self, group: str, terms) -> "_GroupPlan":
        """The group's history and each term's view of its new values, built once per group."""
        hist = ob.GroupHistory([(t.history, t.dim) for t in terms])
        writers = self._writers()
        parts, off = [], 0
        for t in terms:
            scale = self._scales[t.name] if t.name in self._scales else t.scale_array()
            write = writers.get(t.name) or (lambda dst, state, frames, name=t.name: self._w_raw(name, dst, state, frames))
            parts.append((write, hist.new[off:off + t.dim], None if (scale == 1.0).all() else scale))  # v * 1 is v
            off += t.dim
        plan = self._plans[group] = _GroupPlan(terms, hist, parts)
        return plan

    def _w_raw(self, name: str, dst: np.ndarray, state, frames) -> None:
        """Any other term: :meth:`_raw`'s array copied into ``dst``."""
        dst[:] = self._raw(name, state, frames)

    def _writers(self) -> dict:
        """The terms written in place, without :meth:`_raw`'s intermediate array (the same values)."""
        return {"base_ang_vel": self._w_base_ang_vel,
                "joint_pos_rel": self._w_joint_pos_rel, "joint_vel": self._w_joint_vel, "last_action": self._w_last_action,
                "command_joint_pos_future": self._w_command_joint_pos_future,
                "command_joint_vel_future": self._w_command_joint_vel_future,
                "command_anchor_ori_future": self._w_command_anchor_ori_future}

    def _w_base_ang_vel(self, dst, state, frames) -> None:
        dst[:] = state.imu_gyro

    def _w_joint_pos_rel(self, dst, state, frames) -> None:
        np.subtract(state.q, self.default, out=dst)

    def _w_joint_vel(self, dst, state, frames) -> None:
        dst[:] = state.dq

    def _w_last_action(self, dst, state, frames) -> None:
        dst[:] = self.last_action

    def _w_command_joint_pos_future(self, dst, state, frames) -> None:
        if frames is None:
            return self._w_raw("command_joint_pos_future", dst, state, frames)  # raises: no reference connected
        np.subtract(frames.joint_pos, self.default, out=dst.reshape(np.shape(frames.joint_pos)))

    def _w_command_joint_vel_future(self, dst, state, frames) -> None:
        if frames is None:
            return self._w_raw("command_joint_vel_future", dst, state, frames)
        dst.reshape(np.shape(frames.joint_vel))[...] = frames.joint_vel

    def _w_command_anchor_ori_future(self, dst, state, frames) -> None:
        if frames is None or np.shape(state.imu_quat) != (4,) or np.ndim(frames.root_quat) != 2:
            return self._w_raw("command_anchor_ori_future", dst, state, frames)
        dst[:] = ob.command_anchor_ori_future_one(state.imu_quat, frames.root_quat)

    def observe(self, state, frames) -> dict[str, np.ndarray]:
        c = self.contract
        return {INPUT_PROPRIO: self._group("obs_proprio", c.obs_proprio, state, frames),
                INPUT_ENCODER: self._group("obs_encoder", c.obs_encoder, state, frames)}

    def term_at(self, input_name: str, index: int) -> str:
        for (group, name), (off, t) in self._offsets.items():
            if group == input_name and off <= index < off + t.size:
                return name
        return "?"

    def infer(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        feed = dict(inputs)
        if self._residual is not None:
            feed[INPUT_RESIDUAL] = self._residual
        out = self.session.run(self._outputs, feed)
        if len(out) > 1:
            self.tokens = out[1][0]
        return out[0][0].astype(np.float64)

    def commit(self, action: np.ndarray) -> None:
        self.last_action = np.asarray(action, np.float64).copy()

    def targets(self, action: np.ndarray) -> np.ndarray:
        return self.default + self.action_scale * action


class _GroupPlan:
    """A group's terms (the contract's list), its history and each term's (name, view of the new values, scale or
    None where every scale is 1)."""

    __slots__ = ("terms", "history", "parts")

    def __init__(self, terms, history: ob.GroupHistory, parts: list):
        self.terms, self.history, self.parts = terms, history, parts
