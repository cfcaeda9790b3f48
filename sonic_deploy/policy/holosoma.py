"""Adapters for holosoma's G1 ONNX policies (PyPI ``holosoma-inference``): whole-body tracking and locomotion.

Format, as holosoma's own deploy code (``holosoma_inference/policies/{base,wbt,locomotion}.py``) reads it:

* metadata values are JSON: ``dof_names`` (the policy's joint order), ``kp``, ``kd`` (per joint, that order),
  optionally ``action_scale`` (a number or per joint), ``command_ranges`` (locomotion), ``experiment_config``
  (the training config: observation terms and scales, simulator fps and control decimation);
* observations: one group ``actor_obs``, history 1, terms concatenated in *sorted name order*, each times its
  scale; the default pose is the publisher's G1 stance (below); targets q* = default + scale * action with the
  action clipped to +-100;
* whole-body tracking (``holosoma.wbt``): inputs ``obs`` [1, N], ``time_step`` [1, 1] (motion frame, one per
  control step from 0); outputs ``actions``, the embedded motion at ``time_step``: ``joint_pos``, ``joint_vel``
  (policy order), ``ref_pos_xyz``, ``ref_quat_xyzw`` (the torso's world pose). Terms ``actions``,
  ``base_ang_vel`` (IMU gyro), ``dof_pos`` (q - default), ``dof_vel``, ``motion_command`` ([joint_pos, joint_vel]
  of the previous call's outputs; at the first step the motion at 0), ``motion_ref_ori_b`` (first two columns,
  row-major, of R(robot torso)^T R(motion torso), both with the heading each had at start removed; the robot's
  torso orientation from the pelvis IMU and the waist joints by kinematics). Per-joint action scale
  0.25 * effort / kp unless the metadata has ``action_scale``;
* locomotion (``holosoma.loco``): input ``actor_obs`` [1, 100], output ``action``. Terms ``actions``,
  ``base_ang_vel`` x0.25, ``command_ang_vel`` (yaw rate), ``command_lin_vel`` (vx, vy), ``cos_phase``,
  ``dof_pos``, ``dof_vel`` x0.05, ``projected_gravity``, ``sin_phase``; gait phase of the two feet advances
  2 pi / (50 Hz * 1 s) per step from (0, pi), held at (pi, pi) while the command is zero; action scale 0.25.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sonic_deploy.inputs.base import ReferenceFrames
from sonic_deploy.policy.contract import ContractError
from sonic_deploy.policy.embedded import RebasedReference, motion_length
from sonic_deploy.policy.kinematics import G1Kinematics
from sonic_deploy.policy.session import make_session
from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_deploy.utils.rotations import quat_apply_inverse, quat_conjugate, quat_mul, quat_to_matrix, xyzw_to_wxyz, yaw_of

# the publisher's G1 29-DoF stance (holosoma_inference config robot g1_29dof, default_dof_angles), Unitree order
HOLOSOMA_G1_DEFAULT = np.array([-0.312, 0.0, 0.0, 0.669, -0.363, 0.0, -0.312, 0.0, 0.0, 0.669, -0.363, 0.0,
                                0.0, 0.0, 0.0, 0.2, 0.2, 0.0, 0.6, 0.0, 0.0, 0.0, 0.2, -0.2, 0.0, 0.6, 0.0, 0.0, 0.0])
CONTROL_DT = 0.02  # holosoma's rl_rate 50 Hz
ANCHOR = "torso_link"  # holosoma robot config motion.body_name_ref
WBT_SCALES = {"actions": 1.0, "base_ang_vel": 1.0, "dof_pos": 1.0, "dof_vel": 1.0, "motion_command": 1.0,
              "motion_ref_ori_b": 1.0}
LOCO_SCALES = {"actions": 1.0, "base_ang_vel": 0.25, "command_ang_vel": 1.0, "command_lin_vel": 1.0,
               "cos_phase": 1.0, "dof_pos": 1.0, "dof_vel": 0.05, "projected_gravity": 1.0, "sin_phase": 1.0}
LOCO_ACTION_SCALE = 0.25
GAIT_PERIOD = 1.0


def read_metadata(session, path: str) -> dict:
    """All metadata values JSON-decoded (holosoma writes every value as JSON)."""
    meta = {}
    for k, v in session.get_modelmeta().custom_metadata_map.items():
        try:
            meta[k] = json.loads(v)
        except json.JSONDecodeError:
            meta[k] = v
    for key in ("dof_names", "kp", "kd"):
        if key not in meta:
            raise ContractError(path, f"metadata_props[{key!r}]", "present (holosoma format)", sorted(meta))
    return meta


class _HolosomaBase:
    format = "holosoma"
    startup_damping_s = 0.0  # the publisher's deploy goes straight to a stiff hold: no damping phase before the ramp
    scales: dict[str, float] = {}

    def __init__(self, path: str | Path, spec: RobotSpec = G1, *, threads: int = 1, providers=None):
        self.path = str(path)
        self.spec = spec
        self.session = make_session(self.path, threads, providers)
        self.meta = meta = read_metadata(self.session, self.path)
        names = meta["dof_names"]
        if not isinstance(names, list) or len(names) != spec.num_joints or set(names) != set(spec.joint_names):
            unknown = [n for n in names if n not in spec.joint_names] if isinstance(names, list) else names
            raise ContractError(self.path, "dof_names", f"the {spec.num_joints} {spec.name} joint names in any order",
                                unknown or (len(names) if isinstance(names, list) else names))
        self.joint_names = list(names)
        self.to_unitree = spec.joint_index(names)  # policy index i -> Unitree index
        self.from_unitree = np.argsort(self.to_unitree)  # Unitree index -> policy index
        J = spec.num_joints
        gains = {}
        for key in ("kp", "kd"):
            v = np.asarray(meta[key], np.float64).reshape(-1)
            if v.shape != (J,) or not np.isfinite(v).all() or (v < 0).any():
                raise ContractError(self.path, key, f"{J} non-negative numbers in dof_names order", v.shape)
            gains[key] = v
        self.kp, self.kd = gains["kp"][self.from_unitree], gains["kd"][self.from_unitree]
        self.default_p = HOLOSOMA_G1_DEFAULT[self.to_unitree]
        self.action_scale_p = self._action_scale(meta)
        self._check_rate(meta)
        self.control_dt = CONTROL_DT
        ins = {i.name: i.shape for i in self.session.get_inputs()}
        if set(ins) != set(self.inputs):
            raise ContractError(self.path, "graph inputs", f"{self.inputs} ({self.format})", sorted(ins))
        self.terms = self._terms()
        want = sum(self.dims[t] for t in self.terms)
        got = ins[self.obs_input][-1]
        if isinstance(got, int) and got != want:
            raise ContractError(self.path, f"graph input {self.obs_input} dim",
                                f"{want} (sorted terms {self.terms})", got)
        self.outputs = [o.name for o in self.session.get_outputs()]

    def _action_scale(self, meta) -> np.ndarray:
        J = self.spec.num_joints
        if "action_scale" in meta:
            v = np.asarray(meta["action_scale"], np.float64).reshape(-1)
            if v.size == 1:
                v = np.full(J, v[0])
            if v.shape != (J,):
                raise ContractError(self.path, "action_scale", f"one number or {J}", v.shape)
            return v
        return self.default_action_scale()

    def _check_rate(self, meta) -> None:
        cfg = meta.get("experiment_config")
        if not isinstance(cfg, dict):
            return
        sim = cfg.get("simulator", {}).get("config", {}).get("sim", {})
        fps, dec = sim.get("fps"), sim.get("control_decimation")
        if fps and dec and abs(dec / fps - self.spec.control_dt) > 1e-9:
            raise ContractError(self.path, "experiment_config.simulator.config.sim (control_decimation / fps)",
                                f"{self.spec.control_dt} s (the controller's period)", dec / fps)

    # --- Policy protocol ---------------------------------------------------------------------------------
    def reference_times(self, t: float) -> np.ndarray:
        return np.array([t])

    def term_at(self, input_name: str, index: int) -> str:
        off = 0
        for t in self.terms:
            if off <= index < off + self.dims[t]:
                return t
            off += self.dims[t]
        return "?"

    def _concat(self, parts: dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([np.asarray(parts[t], np.float64).reshape(-1) * self.scales[t]
                               for t in self.terms])[None].astype(np.float32)

    def commit(self, action: np.ndarray) -> None:
        self.last_action_p = np.asarray(action, np.float64)[self.to_unitree]

    def targets(self, action: np.ndarray) -> np.ndarray:
        a_p = np.asarray(action, np.float64)[self.to_unitree]
        return (self.default_p + self.action_scale_p * a_p)[self.from_unitree]

    def summary(self) -> dict:
        same = list(self.joint_names) == list(self.spec.joint_names)
        return {"joint order": "Unitree" if same else "remapped by name (dof_names)",
                "control": f"{1 / self.control_dt:.0f} Hz", "observation": ", ".join(
                    f"{t} {self.dims[t]}" + (f" x{self.scales[t]:g}" if self.scales[t] != 1 else "") for t in self.terms),
                "kp range": f"{self.kp.min():.1f}..{self.kp.max():.1f}", "action scale": (
                    f"{self.action_scale_p[0]:g}" if np.ptp(self.action_scale_p) == 0 else "per joint")}


class HolosomaTracking(_HolosomaBase):
    """holosoma whole-body tracking (``obs`` + ``time_step``; motion embedded)."""

    format = "holosoma.wbt"
    obs_input = "obs"
    inputs = ("obs", "time_step")
    REQUIRED_OUTPUTS = ("actions", "joint_pos", "joint_vel", "ref_quat_xyzw")

    def __init__(self, path, spec: RobotSpec = G1, **kw):
        J = spec.num_joints
        self.dims = {"actions": J, "base_ang_vel": 3, "dof_pos": J, "dof_vel": J, "motion_command": 2 * J,
                     "motion_ref_ori_b": 6}
        self.scales = dict(WBT_SCALES)
        self.path = str(path)
        super().__init__(path, spec, **kw)
        for req in self.REQUIRED_OUTPUTS:
            if req not in self.outputs:
                raise ContractError(self.path, f"graph output {req}", "present (holosoma whole-body tracking)",
                                    self.outputs)
        self.kin = G1Kinematics(spec)
        self.num_frames = motion_length(lambda k: self._run(k)["joint_pos"])
        self.motion_duration = (self.num_frames - 1) * self.control_dt
        self.reference_bodies = tuple(spec.tracked_bodies)
        self.reset()

    def default_action_scale(self) -> np.ndarray:
        return self.spec.action_scale[self.to_unitree].copy()  # 0.25 * effort / kp, as the publisher's G1 table

    def _terms(self) -> list[str]:
        cfg = self.meta.get("experiment_config")
        terms = list(self.dims)
        if isinstance(cfg, dict):
            group = cfg.get("observation", {}).get("groups", {}).get("actor_obs", {})
            if group:
                terms = list(group.get("terms", {}))
                if group.get("history_length", 1) != 1:
                    raise ContractError(self.path, "experiment_config.observation.groups.actor_obs.history_length",
                                        "1", group.get("history_length"))
                for t, tc in group.get("terms", {}).items():
                    if t not in self.dims:
                        raise ContractError(self.path, "experiment_config.observation.groups.actor_obs.terms",
                                            f"holosoma tracking terms {sorted(self.dims)}", t)
                    self.scales[t] = float(tc.get("scale", 1.0))
        return sorted(terms)

    def _run(self, k: int, obs: np.ndarray | None = None) -> dict[str, np.ndarray]:
        if obs is None:
            obs = np.zeros((1, sum(self.dims[t] for t in self.terms)), np.float32)
        out = self.session.run(None, {"obs": obs, "time_step": np.array([[k]], np.float32)})
        return dict(zip(self.outputs, out))

    def motion_frames(self, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
        stop = self.num_frames if stop is None else min(stop, self.num_frames)
        outs = [self._run(k) for k in range(start, stop)]
        jp = np.stack([o["joint_pos"][0] for o in outs]).astype(np.float64)[:, self.from_unitree]
        jv = np.stack([o["joint_vel"][0] for o in outs]).astype(np.float64)[:, self.from_unitree]
        a_pos = np.stack([o["ref_pos_xyz"][0] if "ref_pos_xyz" in o else np.zeros(3) for o in outs]).astype(np.float64)
        a_quat = xyzw_to_wxyz(np.stack([o["ref_quat_xyzw"][0] for o in outs]).astype(np.float64))
        roots = [self.kin.root_from_body(ANCHOR, p, q, j) for p, q, j in zip(a_pos, a_quat, jp)]
        return {"fps": 1.0 / self.control_dt, "joint_pos": jp, "joint_vel": jv,
                "root_pos": np.stack([r[0] for r in roots]), "root_quat": np.stack([r[1] for r in roots])}

    # --- Policy protocol ---------------------------------------------------------------------------------
    def reset(self) -> None:
        self.step_index = 0
        self.last_action_p = np.zeros(self.spec.num_joints)
        self._out = self._run(0)  # the motion at the start frame: the first step's motion_command
        self._command = np.concatenate([self._out["joint_pos"][0], self._out["joint_vel"][0]]).astype(np.float64)
        self._motion_quat = xyzw_to_wxyz(self._out["ref_quat_xyzw"][0].astype(np.float64))
        self._yaw_robot = self._yaw_motion = None
        self._rebase = RebasedReference(self.kin, ANCHOR, self.reference_bodies, self.control_dt)
        self.last_reference: ReferenceFrames | None = None

    @staticmethod
    def _motion_pos(out: dict) -> np.ndarray:
        return out["ref_pos_xyz"][0].astype(np.float64) if "ref_pos_xyz" in out else np.array([0.0, 0.0, 1.0])

    @staticmethod
    def _remove_yaw(q: np.ndarray, yaw: float) -> np.ndarray:
        return quat_mul(np.array([np.cos(-yaw / 2), 0.0, 0.0, np.sin(-yaw / 2)]), q)

    def observe(self, state, frames=None) -> dict[str, np.ndarray]:
        self._state_q = np.asarray(state.q, np.float64)
        a_pos, robot_quat = self.kin.body_pose(ANCHOR, state.imu_quat, state.q)
        if self._yaw_robot is None:  # offsets captured when the policy starts (holosoma: start-policy)
            self._yaw_robot = float(yaw_of(robot_quat))
            self._yaw_motion = float(yaw_of(self._motion_quat))
            self._rebase.start(a_pos, robot_quat, self._motion_pos(self._out), self._motion_quat)
        rel = quat_mul(quat_conjugate(self._remove_yaw(robot_quat, self._yaw_robot)),
                       self._remove_yaw(self._motion_quat, self._yaw_motion))
        parts = {"actions": self.last_action_p, "base_ang_vel": state.imu_gyro,
                 "dof_pos": np.asarray(state.q)[self.to_unitree] - self.default_p,
                 "dof_vel": np.asarray(state.dq)[self.to_unitree], "motion_command": self._command,
                 "motion_ref_ori_b": quat_to_matrix(rel)[:, :2].reshape(-1)}
        return {"obs": self._concat(parts)}

    def infer(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        self._out = self._run(self.step_index, inputs["obs"])
        self.last_reference = self._reference(self._out)
        return np.clip(self._out["actions"][0].astype(np.float64), -100.0, 100.0)[self.from_unitree]

    def commit(self, action: np.ndarray) -> None:
        super().commit(action)
        self._command = np.concatenate([self._out["joint_pos"][0], self._out["joint_vel"][0]]).astype(np.float64)
        self._motion_quat = xyzw_to_wxyz(self._out["ref_quat_xyzw"][0].astype(np.float64))
        self.step_index += 1

    def _reference(self, out: dict) -> ReferenceFrames:
        """The motion at this step, re-based onto the robot (heading and position at start), for the report."""
        jp = out["joint_pos"][0].astype(np.float64)[self.from_unitree]
        jv = out["joint_vel"][0].astype(np.float64)[self.from_unitree]
        m_quat = xyzw_to_wxyz(out["ref_quat_xyzw"][0].astype(np.float64))
        return self._rebase.frames(self.step_index, jp, jv, self._motion_pos(out), m_quat)


class HolosomaLocomotion(_HolosomaBase):
    """holosoma locomotion (``actor_obs`` -> ``action``) on a base velocity command."""

    format = "holosoma.loco"
    obs_input = "actor_obs"
    inputs = ("actor_obs",)

    def __init__(self, path, spec: RobotSpec = G1, **kw):
        J = spec.num_joints
        self.dims = {"actions": J, "base_ang_vel": 3, "command_ang_vel": 1, "command_lin_vel": 2, "cos_phase": 2,
                     "dof_pos": J, "dof_vel": J, "projected_gravity": 3, "sin_phase": 2}
        self.scales = dict(LOCO_SCALES)
        self.path = str(path)
        super().__init__(path, spec, **kw)
        if "action" not in self.outputs:
            raise ContractError(self.path, "graph output action", "present (holosoma locomotion)", self.outputs)
        ranges = self.meta.get("command_ranges") or {}
        self.command_ranges = {k: (float(ranges.get(k, [-1, 1])[0]), float(ranges.get(k, [-1, 1])[1]))
                               for k in ("lin_vel_x", "lin_vel_y", "ang_vel_yaw")}
        self.command = np.zeros(3)
        self.phase_dt = 2 * np.pi / (GAIT_PERIOD / self.control_dt)
        self.reset()

    def _terms(self) -> list[str]:
        return sorted(self.dims)

    def default_action_scale(self) -> np.ndarray:
        return np.full(self.spec.num_joints, LOCO_ACTION_SCALE)

    def set_command(self, vx: float, vy: float, yaw_rate: float) -> None:
        r = self.command_ranges
        self.command = np.array([np.clip(vx, *r["lin_vel_x"]), np.clip(vy, *r["lin_vel_y"]),
                                 np.clip(yaw_rate, *r["ang_vel_yaw"])], np.float64)

    def _advance_phase(self) -> None:
        p = self.phase + self.phase_dt
        self.phase = np.fmod(p + np.pi, 2 * np.pi) - np.pi
        if np.linalg.norm(self.command[:2]) < 0.01 and abs(self.command[2]) < 0.01:
            self.phase = np.full(2, np.pi)  # standing: both feet at the same phase
            self._standing = True
        elif self._standing:
            self.phase = np.array([0.0, np.pi])
            self._standing = False

    def reset(self) -> None:
        self.last_action_p = np.zeros(self.spec.num_joints)
        self.phase = np.array([0.0, np.pi])
        self._standing = False
        self._advance_phase()

    def observe(self, state, frames=None) -> dict[str, np.ndarray]:
        if frames is not None and frames.base_velocity is not None:  # a velocity source is connected
            self.set_command(*frames.base_velocity)
        parts = {"actions": self.last_action_p, "base_ang_vel": state.imu_gyro,
                 "command_ang_vel": self.command[2:3], "command_lin_vel": self.command[:2],
                 "cos_phase": np.cos(self.phase), "sin_phase": np.sin(self.phase),
                 "dof_pos": np.asarray(state.q)[self.to_unitree] - self.default_p,
                 "dof_vel": np.asarray(state.dq)[self.to_unitree],
                 "projected_gravity": quat_apply_inverse(np.asarray(state.imu_quat, np.float64), np.array([0, 0, -1.0]))}
        return {"actor_obs": self._concat(parts)}

    def infer(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        out = self.session.run(["action"], inputs)[0][0].astype(np.float64)
        return np.clip(out, -100.0, 100.0)[self.from_unitree]

    def commit(self, action: np.ndarray) -> None:
        super().commit(action)
        self._advance_phase()
