"""Observation terms: plain batched functions ``f(env, **params) -> Tensor[N, d]``.

Shared contract with the deploy runtime (it implements the same formulas in numpy): quaternions (w, x, y, z);
"6D" of a rotation = its first two matrix columns, column 0 then column 1, each (x, y, z). ``env`` provides
``env.state`` (:class:`RobotState`), ``env.command`` (the motion command: ``ref`` at t and ``future(F, dt)``),
``env.action_manager.last_action`` and ``env.robot`` (the robot spec, for the default pose).
"""

from __future__ import annotations

import torch

from sonic_train.envs.mdp.math import (matrix_apply_inverse, quat_inv_mul, quat_to_6d, quat_to_matrix, yaw_matrix,
                                       yaw_of, yaw_quat)
from sonic_train.envs.mdp.state import step_cached


def _default_joint_pos(env) -> torch.Tensor:
    d = getattr(env, "default_joint_pos", None)
    if d is None:
        d = torch.as_tensor(env.robot.default_joint_pos, dtype=torch.float32, device=env.state.joint_pos.device)
        env.default_joint_pos = d
    return d


def ref_root_rot(env) -> torch.Tensor:
    """[N, 3, 3] rotation matrix of the reference pelvis at t."""
    return step_cached(env, "ref_root_rot", lambda: quat_to_matrix(env.command.ref.root_quat))


def ref_root_yaw_rot(env) -> torch.Tensor:
    """[N, 3, 3] R_z(heading of the reference pelvis at t)."""
    return step_cached(env, "ref_root_yaw_rot", lambda: yaw_matrix(yaw_of(env.command.ref.root_quat)))


# ----------------------------------------------------------------------------- policy (proprioception)
def base_ang_vel(env) -> torch.Tensor:
    """[3] pelvis angular velocity in the pelvis frame: R_pelvis^T w_pelvis."""
    return env.state.root_ang_vel_b


def base_lin_vel(env) -> torch.Tensor:
    """[3] pelvis linear velocity in the pelvis frame: R_pelvis^T v_pelvis (privileged)."""
    return env.state.root_lin_vel_b


def projected_gravity(env) -> torch.Tensor:
    """[3] R_pelvis^T (0, 0, -1)."""
    return env.state.projected_gravity


def joint_pos_rel(env) -> torch.Tensor:
    """[J] q - q_default."""
    return env.state.joint_pos - _default_joint_pos(env)


def joint_vel(env) -> torch.Tensor:
    """[J] dq."""
    return env.state.joint_vel


def last_action(env) -> torch.Tensor:
    """[A] the previous raw policy action (before scaling)."""
    return env.action_manager.last_action


# ----------------------------------------------------------------------------- tokenizer (reference)
def _future(env, num_future_frames: int, future_dt: float):
    return env.command.future(int(num_future_frames), float(future_dt))


def command_joint_pos_future(env, num_future_frames: int = 10, future_dt: float = 0.1) -> torch.Tensor:
    """[F*J] q_ref(t + k dt) - q_default, k = 0..F-1, frame-major."""
    f = _future(env, num_future_frames, future_dt)
    return (f.joint_pos - _default_joint_pos(env)).reshape(env.num_envs, -1)


def command_joint_vel_future(env, num_future_frames: int = 10, future_dt: float = 0.1) -> torch.Tensor:
    """[F*J] dq_ref(t + k dt), frame-major."""
    f = _future(env, num_future_frames, future_dt)
    return f.joint_vel.reshape(env.num_envs, -1)


def command_anchor_ori_future(env, num_future_frames: int = 10, future_dt: float = 0.1) -> torch.Tensor:
    """[F*6] 6D of R_robot_pelvis^T R_ref_pelvis(t + k dt), frame-major."""
    f = _future(env, num_future_frames, future_dt)
    rel = quat_inv_mul(env.state.root_quat_w.unsqueeze(1), f.root_quat)
    return quat_to_6d(rel).reshape(env.num_envs, -1)


def smpl_joints_future(env, num_future_frames: int = 10, future_dt: float = 0.1) -> torch.Tensor:
    """[F*24*3] R_yaw(ref pelvis at t)^T (p_smpl(t + k dt) - p_ref_pelvis(t)), frame-major, joint-major."""
    f = _future(env, num_future_frames, future_dt)
    ref = env.command.ref
    if f.smpl_joints is None:
        raise KeyError("smpl_joints_future: the motion library has no SMPL joints")
    d = (f.smpl_joints - ref.root_pos[:, None, None, :]).reshape(env.num_envs, -1, 3)
    return matrix_apply_inverse(ref_root_yaw_rot(env), d).reshape(env.num_envs, -1)


def vr_3point_pos(env) -> torch.Tensor:
    """[9] R_yaw(ref pelvis at t)^T (p_vr(t) - p_ref_pelvis(t)) for head, left wrist, right wrist."""
    ref = env.command.ref
    if ref.vr_pos is None:
        raise KeyError("vr_3point_pos: the motion library has no VR targets")
    d = ref.vr_pos - ref.root_pos[:, None, :]
    return matrix_apply_inverse(ref_root_yaw_rot(env), d).reshape(env.num_envs, -1)


def vr_3point_ori(env) -> torch.Tensor:
    """[18] 6D of R_yaw(ref pelvis at t)^T R_vr(t) for head, left wrist, right wrist."""
    ref = env.command.ref
    if ref.vr_quat is None:
        raise KeyError("vr_3point_ori: the motion library has no VR targets")
    yaw = yaw_quat(ref.root_quat)[:, None, :]
    return quat_to_6d(quat_inv_mul(yaw, ref.vr_quat)).reshape(env.num_envs, -1)


def encoder_index(env) -> torch.Tensor:
    """[N] long: which encoder each env uses this episode (resampled at every reset)."""
    return env.encoder_index


# ----------------------------------------------------------------------------- critic (privileged)
def body_pos_b(env, body_names: list[str]) -> torch.Tensor:
    """[B*3] R_pelvis^T (p_body - p_pelvis) for the given bodies."""
    s = env.state
    return s.body_pos_b.index_select(1, s.body_ids(body_names)).reshape(env.num_envs, -1)


def body_ori_b(env, body_names: list[str]) -> torch.Tensor:
    """[B*6] 6D of R_pelvis^T R_body for the given bodies."""
    s = env.state
    q = s.body_quat_w.index_select(1, s.body_ids(body_names))
    return quat_to_6d(quat_inv_mul(s.root_quat_w.unsqueeze(1), q)).reshape(env.num_envs, -1)


def joint_pos_error(env) -> torch.Tensor:
    """[J] q_ref(t) - q."""
    return env.command.ref.joint_pos - env.state.joint_pos


def anchor_pos_error_b(env) -> torch.Tensor:
    """[3] R_pelvis^T (p_ref_pelvis(t) - p_pelvis)."""
    s = env.state
    return matrix_apply_inverse(s.root_rot, env.command.ref.root_pos - s.root_pos_w)


def body_pos_error_b(env, body_names: list[str]) -> torch.Tensor:
    """[B*3] (R_ref_pelvis^T (p_ref_body - p_ref_pelvis)) - (R_pelvis^T (p_body - p_pelvis))."""
    s, ref = env.state, env.command.ref
    ids = s.body_ids(body_names)
    robot = s.body_pos_b.index_select(1, ids)
    target = matrix_apply_inverse(ref_root_rot(env), ref.body_pos_w.index_select(1, ids) - ref.root_pos[:, None])
    return (target - robot).reshape(env.num_envs, -1)


def anchor_ori_error(env) -> torch.Tensor:
    """[6] 6D of R_pelvis^T R_ref_pelvis(t)."""
    return quat_to_6d(quat_inv_mul(env.state.root_quat_w, env.command.ref.root_quat))
