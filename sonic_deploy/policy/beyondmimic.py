"""Adapter for third-party motion-tracking policies in the BeyondMimic / mjlab ONNX format.

Format (as exported by BeyondMimic's ``whole_body_tracking`` and mjlab's tracking task):

* inputs ``obs`` [1, N] float32 and ``time_step`` [1, 1] float32 (the motion frame index, one per control step);
* outputs ``actions`` [1, J], and the reference embedded in the graph at ``time_step``: ``joint_pos`` [1, J],
  ``joint_vel`` [1, J], optionally ``body_pos_w`` [1, B, 3], ``body_quat_w`` [1, B, 4] (wxyz), velocities;
* metadata (comma-separated strings): ``joint_names`` (Isaac Lab order, not Unitree order), ``joint_stiffness``,
  ``joint_damping``, ``default_joint_pos``, ``action_scale``, ``observation_names``, ``anchor_body_name``,
  ``body_names``.

Observation terms in ``observation_names`` order, all in the policy's joint order:
``command`` = [joint_pos_ref, joint_vel_ref] of the motion at the current step (2 J), fed back from the
previous call's outputs; ``motion_anchor_pos_b`` (3) and ``motion_anchor_ori_b`` (6) = the motion's anchor body
pose in the robot anchor's frame (6D = first two columns, row-major, as Isaac Lab flattens ``R[:, :2]``);
``base_lin_vel`` (3, needs a state estimator); ``base_ang_vel`` (3); ``joint_pos`` (J, relative to default);
``joint_vel`` (J); ``actions`` (J, previous raw action). Targets: q* = default + action_scale * action, then
remapped by name to Unitree order. The robot's anchor (``torso_link``) orientation comes from the pelvis IMU
and the waist joints through MuJoCo kinematics; the motion is yaw-aligned to the robot at start.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sonic_deploy.inputs.base import ReferenceFrames
from sonic_deploy.policy.contract import ContractError
from sonic_deploy.policy.embedded import RebasedReference, motion_length
from sonic_deploy.policy.kinematics import G1Kinematics
from sonic_deploy.policy.session import make_session
from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_deploy.utils.rotations import quat_mul, quat_to_matrix, yaw_of

ESTIMATOR_TERMS = ("motion_anchor_pos_b", "base_lin_vel")
KNOWN_TERMS = ("command", "motion_anchor_pos_b", "motion_anchor_ori_b", "base_lin_vel", "base_ang_vel", "joint_pos",
               "joint_vel", "actions")


def _csv(meta: dict, key: str, path: str, cast=float) -> list:
    if key not in meta:
        raise ContractError(path, key, "present in metadata_props (BeyondMimic format)", sorted(meta))
    try:
        return [cast(x.strip()) for x in meta[key].split(",") if x.strip()]
    except ValueError as exc:
        raise ContractError(path, key, "comma-separated values", meta[key][:80]) from exc


def mat_to_6d_rowmajor(r: np.ndarray) -> np.ndarray:
    """Isaac Lab's flattening of R[:, :2]: r00, r01, r10, r11, r20, r21."""
    return r[..., :, :2].reshape(r.shape[:-2] + (6,))


class BeyondMimicPolicy:
    format = "beyondmimic"
    control_dt = 0.02

    def __init__(self, path: str | Path, spec: RobotSpec = G1, *, threads: int = 1, root_state=None):
        self.path = str(path)
        self.spec = spec
        self.session = make_session(self.path, threads)
        meta = self.session.get_modelmeta().custom_metadata_map
        p = self.path
        names = _csv(meta, "joint_names", p, str)
        missing = [n for n in names if n not in spec.joint_names]
        if len(names) != spec.num_joints or missing:
            raise ContractError(p, "joint_names", f"the {spec.num_joints} {spec.name} joints in any order",
                                missing or len(names))
        self.joint_names = names
        self.to_unitree = spec.joint_index(names)  # policy index i -> Unitree index
        self.from_unitree = np.argsort(self.to_unitree)  # Unitree index -> policy index
        J = len(names)
        vals = {}
        for key in ("joint_stiffness", "joint_damping", "default_joint_pos", "action_scale"):
            v = np.asarray(_csv(meta, key, p), np.float64)
            if v.shape == (1,):
                v = np.full(J, v[0])
            if v.shape != (J,) or not np.isfinite(v).all():
                raise ContractError(p, key, f"{J} numbers (or one)", v.shape)
            vals[key] = v
        self.default_p = vals["default_joint_pos"]
        self.scale_p = vals["action_scale"]
        self.kp = vals["joint_stiffness"][self.from_unitree]
        self.kd = vals["joint_damping"][self.from_unitree]
        self.obs_names = _csv(meta, "observation_names", p, str)
        for name in self.obs_names:
            if name not in KNOWN_TERMS:
                raise ContractError(p, "observation_names", f"known BeyondMimic terms {list(KNOWN_TERMS)}", name)
            if name in ESTIMATOR_TERMS and root_state is None:
                raise ContractError(p, "observation_names", f"terms available without a state estimator "
                                    f"({name} needs the root position/velocity; pass root_state)", name)
        dims = {"command": 2 * J, "motion_anchor_pos_b": 3, "motion_anchor_ori_b": 6, "base_lin_vel": 3,
                "base_ang_vel": 3, "joint_pos": J, "joint_vel": J, "actions": J}
        ins = {i.name: i.shape for i in self.session.get_inputs()}
        if set(ins) != {"obs", "time_step"}:
            raise ContractError(p, "graph inputs", "obs and time_step", sorted(ins))
        want = sum(dims[n] for n in self.obs_names)
        got = ins["obs"][-1]
        if isinstance(got, int) and got != want:
            raise ContractError(p, "graph input obs dim", f"{want} (sum of observation_names terms)", got)
        self.outputs = [o.name for o in self.session.get_outputs()]
        for req in ("actions", "joint_pos", "joint_vel"):
            if req not in self.outputs:
                raise ContractError(p, f"graph output {req}", "present", self.outputs)
        self.anchor = meta.get("anchor_body_name", spec.anchor_body)
        self.body_names = _csv(meta, "body_names", p, str) if "body_names" in meta else []
        if "motion_anchor_ori_b" in self.obs_names or "motion_anchor_pos_b" in self.obs_names:
            if "body_quat_w" not in self.outputs or self.anchor not in self.body_names:
                raise ContractError(p, "anchor_body_name", "a body listed in body_names with body_quat_w output",
                                    self.anchor)
        self.root_state = root_state
        self.kin = G1Kinematics(spec)
        self.reference_bodies = tuple(spec.tracked_bodies)  # the report's bodies, from the embedded anchor by kinematics
        self.num_frames = motion_length(lambda k: self._motion(k)["joint_pos"])
        self.motion_duration = (self.num_frames - 1) * self.control_dt
        self.reset()

    def summary(self) -> dict:
        same = list(self.joint_names) == list(self.spec.joint_names)
        return {"joint order": "Unitree" if same else "remapped by name (joint_names)", "control": "50 Hz",
                "observation": ", ".join(self.obs_names), "anchor body": self.anchor,
                "kp range": f"{self.kp.min():.1f}..{self.kp.max():.1f}"}

    def _anchor_of(self, ref: dict) -> tuple[np.ndarray, np.ndarray]:
        """The motion's anchor pose (world) in one step's outputs; the default height when not embedded."""
        if "body_quat_w" in ref and self.anchor in self.body_names:
            bi = self.body_names.index(self.anchor)
            pos = ref["body_pos_w"][0, bi] if "body_pos_w" in ref else np.array([0.0, 0.0, 1.0])
            return np.asarray(pos, np.float64), ref["body_quat_w"][0, bi].astype(np.float64)
        return np.array([0.0, 0.0, 1.0]), np.array([1.0, 0, 0, 0])

    def motion_frames(self, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
        stop = self.num_frames if stop is None else min(stop, self.num_frames)
        outs = [self._motion(k) for k in range(start, stop)]
        jp = np.stack([o["joint_pos"][0] for o in outs]).astype(np.float64)[:, self.from_unitree]
        jv = np.stack([o["joint_vel"][0] for o in outs]).astype(np.float64)[:, self.from_unitree]
        roots = [self.kin.root_from_body(self.anchor, *self._anchor_of(o), j) for o, j in zip(outs, jp)]
        return {"fps": 1.0 / self.control_dt, "joint_pos": jp, "joint_vel": jv,
                "root_pos": np.stack([r[0] for r in roots]), "root_quat": np.stack([r[1] for r in roots])}

    # --- kinematics for the robot's anchor body ------------------------------------------------------
    def _anchor_pose(self, state) -> tuple[np.ndarray, np.ndarray]:
        pos, quat = (self.root_state()[:2] if self.root_state else (np.zeros(3), state.imu_quat))
        return self.kin.body_pose(self.anchor, quat, state.q, pos)

    # --- controller interface ------------------------------------------------------------------------
    def reset(self) -> None:
        self.step_index = 0
        self.last_action_p = np.zeros(len(self.joint_names))
        self._ref = None  # outputs of the previous call (the motion at the current step)
        self._yaw = None
        self._rebase = RebasedReference(self.kin, self.anchor, self.reference_bodies, self.control_dt)
        self.last_reference: ReferenceFrames | None = None

    def reference_times(self, t: float) -> np.ndarray:
        return np.array([t])

    def _motion(self, k: int) -> dict:
        obs_dim = self.session.get_inputs()[0].shape[-1]
        obs = np.zeros((1, obs_dim if isinstance(obs_dim, int) else 1), np.float32)
        out = self.session.run(None, {"obs": obs, "time_step": np.array([[k]], np.float32)})
        return dict(zip(self.outputs, out))

    def observe(self, state, frames=None) -> dict[str, np.ndarray]:
        if self._ref is None:
            self._ref = self._motion(self.step_index)
        ref = self._ref
        self._state_quat, self._state_q = np.asarray(state.imu_quat, np.float64), np.asarray(state.q, np.float64)
        parts = []
        if any(n.startswith("motion_anchor") for n in self.obs_names):
            a_pos, a_quat = self._anchor_pose(state)
            bi = self.body_names.index(self.anchor)
            m_quat = ref["body_quat_w"][0, bi].astype(np.float64)
            m_pos = ref["body_pos_w"][0, bi].astype(np.float64) if "body_pos_w" in ref else np.zeros(3)
            if self._yaw is None:  # align the motion's heading with the robot's once, at start
                dyaw = float(yaw_of(a_quat) - yaw_of(m_quat))
                self._yaw = np.array([np.cos(dyaw / 2), 0, 0, np.sin(dyaw / 2)])
                self._m0 = m_pos.copy()
                self._a0 = a_pos.copy()
            m_quat = quat_mul(self._yaw, m_quat)
            r_a = quat_to_matrix(a_quat)
        for name in self.obs_names:
            if name == "command":
                parts.append(np.concatenate([ref["joint_pos"][0], ref["joint_vel"][0]]))
            elif name == "motion_anchor_ori_b":
                parts.append(mat_to_6d_rowmajor(r_a.T @ quat_to_matrix(m_quat)))
            elif name == "motion_anchor_pos_b":
                yaw_r = quat_to_matrix(self._yaw)
                m_w = self._a0 + yaw_r @ (m_pos - self._m0)
                parts.append(r_a.T @ (m_w - a_pos))
            elif name == "base_lin_vel":
                parts.append(quat_to_matrix(state.imu_quat).T @ self.root_state()[2])
            elif name == "base_ang_vel":
                parts.append(state.imu_gyro)
            elif name == "joint_pos":
                parts.append(state.q[self.to_unitree] - self.default_p)
            elif name == "joint_vel":
                parts.append(state.dq[self.to_unitree])
            elif name == "actions":
                parts.append(self.last_action_p)
        return {"obs": np.concatenate(parts)[None].astype(np.float32)}

    def term_at(self, input_name: str, index: int) -> str:
        J = len(self.joint_names)
        dims = {"command": 2 * J, "motion_anchor_pos_b": 3, "motion_anchor_ori_b": 6, "base_lin_vel": 3,
                "base_ang_vel": 3, "joint_pos": J, "joint_vel": J, "actions": J}
        off = 0
        for n in self.obs_names:
            if off <= index < off + dims[n]:
                return n
            off += dims[n]
        return "?"

    def infer(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        ref = self._ref
        if not self._rebase.started:
            a_pos, a_quat = self.kin.body_pose(self.anchor, self._state_quat, self._state_q)
            self._rebase.start(a_pos, a_quat, *self._anchor_of(ref))
        jp = ref["joint_pos"][0].astype(np.float64)[self.from_unitree]
        jv = ref["joint_vel"][0].astype(np.float64)[self.from_unitree]
        self.last_reference = self._rebase.frames(self.step_index, jp, jv, *self._anchor_of(ref))
        out = dict(zip(self.outputs, self.session.run(None, {"obs": inputs["obs"],
                                                             "time_step": np.array([[self.step_index]], np.float32)})))
        self._next_ref = out
        return out["actions"][0].astype(np.float64)[self.from_unitree]  # Unitree order

    def commit(self, action: np.ndarray) -> None:
        self.last_action_p = np.asarray(action, np.float64)[self.to_unitree]
        self.step_index += 1
        self._ref = self._motion(self.step_index)

    def targets(self, action: np.ndarray) -> np.ndarray:
        a_p = np.asarray(action)[self.to_unitree]
        q_p = self.default_p + self.scale_p * a_p
        return q_p[self.from_unitree]
