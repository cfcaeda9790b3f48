"""The sonic policy artifact contract (``sonic.policy/1``): what an exported ONNX must carry to be deployed.

Graph
    inputs  ``obs_encoder`` [B, E] float32 — the chosen encoder's tokenizer terms, concatenated;
            ``obs_proprio`` [B, P] float32 — proprioception terms, concatenated;
            ``latent_residual`` [B, L] float32 — optional (the runner feeds zeros);
    outputs ``actions`` [B, 29] float32 — raw policy actions, Unitree joint order;
            ``token_indices`` [B, T] int64 — the FSQ token of each latent group.

Metadata: ``metadata_props`` key ``sonic`` holds one JSON object::

    {"format": "sonic.policy/1", "robot": "g1_29dof", "joint_names": [29 names, Unitree order],
     "default_joint_pos": [29], "kp": [29], "kd": [29], "action_scale": [29],
     "control_dt": 0.02, "physics_dt": 0.005, "encoder": "g1" | "smpl" | "teleop",
     "fsq_levels": [...], "num_tokens": T, "future_frames": F, "future_dt": s,
     "observation_layout": {"obs_proprio": [{"name", "dim", "history", "scale"}, ...],
                            "obs_encoder": [{"name", "dim", "history", "scale"}, ...]},
     "config_hash": str, "version": str}

Layout rules: terms are concatenated in the listed order; a term with history H occupies H * dim values,
oldest first, term-major (all of one term's history, then the next term); value = raw * scale (scale a
number or a list of ``dim`` numbers). Targets: q* = default_joint_pos + action_scale * action.

Term names and dims (F = future_frames; formulas in :mod:`sonic_deploy.policy.observations`):
proprio ``base_ang_vel`` 3, ``projected_gravity`` 3, ``joint_pos_rel`` 29, ``joint_vel`` 29, ``last_action`` 29;
encoder ``command_joint_pos_future`` 29 F, ``command_joint_vel_future`` 29 F, ``command_anchor_ori_future`` 6 F,
``smpl_joints_future`` 72 F, ``vr_3point_pos`` 9, ``vr_3point_ori`` 18.

A runner refuses, with ``ContractError`` naming the file, the field and what was expected, any artifact whose
joints, dims, dt or terms it cannot meet.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

FORMAT = "sonic.policy/1"
METADATA_KEY = "sonic"
ENCODERS = ("g1", "smpl", "teleop")
INPUT_ENCODER, INPUT_PROPRIO, INPUT_RESIDUAL = "obs_encoder", "obs_proprio", "latent_residual"
OUTPUT_ACTIONS, OUTPUT_TOKENS = "actions", "token_indices"

PROPRIO_TERMS = {"base_ang_vel": 3, "projected_gravity": 3, "joint_pos_rel": 29, "joint_vel": 29, "last_action": 29}
# encoder term -> (dim per future frame, or fixed dim when the second item is False)
ENCODER_TERMS = {"command_joint_pos_future": (29, True), "command_joint_vel_future": (29, True),
                 "command_anchor_ori_future": (6, True), "smpl_joints_future": (72, True),
                 "vr_3point_pos": (9, False), "vr_3point_ori": (18, False)}
# which reference data each encoder term needs
TERM_NEEDS = {"command_joint_pos_future": "joint_pos", "command_joint_vel_future": "joint_vel",
              "command_anchor_ori_future": "root_quat", "smpl_joints_future": "smpl_joints",
              "vr_3point_pos": "vr", "vr_3point_ori": "vr"}


class ContractError(ValueError):
    def __init__(self, path: str, field_name: str, expected: str, got=None):
        got_s = "" if got is None else f", got {got!r}"[:200]
        super().__init__(f"{path}: field '{field_name}': expected {expected}{got_s}")
        self.path, self.field, self.expected = path, field_name, expected


@dataclass
class TermSpec:
    name: str
    dim: int
    history: int = 1
    scale: float | list = 1.0

    @property
    def size(self) -> int:
        return self.dim * self.history

    def scale_array(self) -> np.ndarray:
        return np.broadcast_to(np.asarray(self.scale, np.float64), (self.dim,)).copy()


@dataclass
class PolicyContract:
    joint_names: list
    default_joint_pos: list
    kp: list
    kd: list
    action_scale: list
    encoder: str
    obs_proprio: list  # [TermSpec]
    obs_encoder: list  # [TermSpec]
    control_dt: float = 0.02
    physics_dt: float = 0.005
    fsq_levels: list = field(default_factory=list)
    num_tokens: int = 0
    future_frames: int = 1
    future_dt: float = 0.02
    robot: str = "g1_29dof"
    config_hash: str = ""
    version: str = ""
    format: str = FORMAT

    @property
    def proprio_dim(self) -> int:
        return sum(t.size for t in self.obs_proprio)

    @property
    def encoder_dim(self) -> int:
        return sum(t.size for t in self.obs_encoder)

    def to_json(self) -> str:
        d = asdict(self)
        layout = {"obs_proprio": d.pop("obs_proprio"), "obs_encoder": d.pop("obs_encoder")}
        d["observation_layout"] = layout
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str, path: str = "<policy>") -> "PolicyContract":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ContractError(path, METADATA_KEY, "a JSON object", str(exc)) from None
        if not isinstance(d, dict):
            raise ContractError(path, METADATA_KEY, "a JSON object", type(d).__name__)
        if d.get("format") != FORMAT:
            raise ContractError(path, "format", repr(FORMAT), d.get("format"))
        required = ("robot", "joint_names", "default_joint_pos", "kp", "kd", "action_scale", "control_dt",
                    "physics_dt", "encoder", "fsq_levels", "num_tokens", "future_frames", "future_dt",
                    "observation_layout", "config_hash", "version")
        for key in required:
            if key not in d:
                raise ContractError(path, key, "present")
        layout = d.pop("observation_layout")
        if not isinstance(layout, dict):
            raise ContractError(path, "observation_layout", "an object with obs_proprio and obs_encoder")
        groups = {}
        for group in ("obs_proprio", "obs_encoder"):
            terms = layout.get(group)
            if not isinstance(terms, list):
                raise ContractError(path, f"observation_layout.{group}", "a list of terms", terms)
            specs = []
            for i, t in enumerate(terms):
                if not isinstance(t, dict) or not {"name", "dim"} <= set(t):
                    raise ContractError(path, f"observation_layout.{group}[{i}]", "{name, dim, history, scale}", t)
                specs.append(TermSpec(str(t["name"]), int(t["dim"]), int(t.get("history", 1)), t.get("scale", 1.0)))
            groups[group] = specs
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known}, **groups)


def expected_term_dim(name: str, future_frames: int) -> int | None:
    if name in PROPRIO_TERMS:
        return PROPRIO_TERMS[name]
    if name in ENCODER_TERMS:
        per, future = ENCODER_TERMS[name]
        return per * future_frames if future else per
    return None


def validate(c: PolicyContract, spec, path: str, *, input_dims: dict[str, int | None],
             output_dims: dict[str, int | None], available: set[str] | None = None) -> None:
    """Check an artifact's contract against the robot spec, the graph and what the reference source provides."""
    n = spec.num_joints
    if c.robot != spec.name:
        raise ContractError(path, "robot", repr(spec.name), c.robot)
    if list(c.joint_names) != list(spec.joint_names):
        diff = next((i for i, (a, b) in enumerate(zip(c.joint_names, spec.joint_names)) if a != b), min(len(c.joint_names), n))
        raise ContractError(path, "joint_names", f"the {n} {spec.name} joints in Unitree order "
                            f"(first difference at index {diff}: {spec.joint_names[diff] if diff < n else None!r})",
                            c.joint_names[diff] if diff < len(c.joint_names) else None)
    for key in ("default_joint_pos", "kp", "kd", "action_scale"):
        arr = np.asarray(getattr(c, key), np.float64)
        if arr.shape != (n,) or not np.isfinite(arr).all():
            raise ContractError(path, key, f"{n} finite numbers", getattr(c, key))
    if not np.allclose(c.default_joint_pos, spec.default_joint_pos, atol=1e-4):
        raise ContractError(path, "default_joint_pos", f"the {spec.name} default pose", c.default_joint_pos)
    if (np.asarray(c.kp) < 0).any() or (np.asarray(c.kd) < 0).any():
        raise ContractError(path, "kp/kd", "non-negative gains")
    if abs(c.control_dt - spec.control_dt) > 1e-9:
        raise ContractError(path, "control_dt", f"{spec.control_dt}", c.control_dt)
    if abs(c.physics_dt - spec.physics_dt) > 1e-9:
        raise ContractError(path, "physics_dt", f"{spec.physics_dt}", c.physics_dt)
    if c.encoder not in ENCODERS:
        raise ContractError(path, "encoder", f"one of {ENCODERS}", c.encoder)
    if c.future_frames < 1 or c.future_dt <= 0:
        raise ContractError(path, "future_frames/future_dt", "future_frames >= 1 and future_dt > 0",
                            (c.future_frames, c.future_dt))
    for group, allowed in (("obs_proprio", PROPRIO_TERMS), ("obs_encoder", ENCODER_TERMS)):
        for i, t in enumerate(getattr(c, group)):
            fld = f"observation_layout.{group}[{i}]"
            if t.name not in allowed:
                raise ContractError(path, f"{fld}.name", f"a known {group} term {sorted(allowed)}", t.name)
            want = expected_term_dim(t.name, c.future_frames)
            if t.dim != want:
                raise ContractError(path, f"{fld}.dim", f"{want} for {t.name}", t.dim)
            if t.history < 1:
                raise ContractError(path, f"{fld}.history", ">= 1", t.history)
            sc = np.asarray(t.scale, np.float64)
            if sc.ndim > 1 or (sc.ndim == 1 and sc.shape[0] != t.dim) or not np.isfinite(sc).all():
                raise ContractError(path, f"{fld}.scale", f"a number or {t.dim} numbers", t.scale)
            if available is not None and group == "obs_encoder" and TERM_NEEDS[t.name] not in available:
                raise ContractError(path, f"{fld}.name", f"a term the reference input can provide "
                                    f"(it provides {sorted(available)}; {t.name} needs {TERM_NEEDS[t.name]})", t.name)
    for name, want in ((INPUT_PROPRIO, c.proprio_dim), (INPUT_ENCODER, c.encoder_dim)):
        if name not in input_dims:
            raise ContractError(path, f"graph input {name}", "present", sorted(input_dims))
        got = input_dims[name]
        if got is not None and got != want:
            raise ContractError(path, f"graph input {name} dim", f"{want} (sum of the layout's terms)", got)
    unknown = set(input_dims) - {INPUT_PROPRIO, INPUT_ENCODER, INPUT_RESIDUAL}
    if unknown:
        raise ContractError(path, "graph inputs", f"only {INPUT_ENCODER}, {INPUT_PROPRIO}, {INPUT_RESIDUAL}", sorted(unknown))
    if OUTPUT_ACTIONS not in output_dims:
        raise ContractError(path, f"graph output {OUTPUT_ACTIONS}", "present", sorted(output_dims))
    if output_dims[OUTPUT_ACTIONS] not in (None, n):
        raise ContractError(path, f"graph output {OUTPUT_ACTIONS} dim", str(n), output_dims[OUTPUT_ACTIONS])
    if OUTPUT_TOKENS in output_dims and output_dims[OUTPUT_TOKENS] not in (None, c.num_tokens):
        raise ContractError(path, f"graph output {OUTPUT_TOKENS} dim", f"num_tokens = {c.num_tokens}",
                            output_dims[OUTPUT_TOKENS])
