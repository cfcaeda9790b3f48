"""Reward terms: an error, then ``exp(-error / std**2)`` (or an L2 penalty). The manager applies weight * dt.

Body sets are names (the 5-point set: root, wrists, feet). "Relative" body targets follow the tracking
convention: the reference bodies are moved rigidly so that the reference anchor sits on the robot's anchor
(xy and heading from the robot, height from the reference), then compared with the robot's bodies.
"""

from __future__ import annotations

import torch

from sonic_train.envs.mdp.math import quat_apply, quat_conjugate, quat_error_magnitude, quat_mul, yaw_quat


def relative_reference_bodies(env, body_names: list[str], anchor_body: str = "pelvis"):
    """Reference body positions and orientations moved onto the robot's anchor (xy + heading).

    Cached for the current step when the env keeps a ``step_cache`` dict (cleared at each state update)."""
    cache = getattr(env, "step_cache", None)
    key = ("relative_reference_bodies", tuple(body_names), anchor_body)
    if cache is not None and key in cache:
        return cache[key]
    s, ref = env.state, env.command.ref
    ids = s.body_index(body_names)
    a = s.body_index(anchor_body)[0]
    robot_anchor_pos = s.body_pos_w[:, a]
    robot_anchor_quat = s.body_quat_w[:, a]
    ref_anchor_pos = ref.body_pos_w[:, a]
    ref_anchor_quat = ref.body_quat_w[:, a]
    delta_q = yaw_quat(quat_mul(robot_anchor_quat, quat_conjugate(ref_anchor_quat)))
    delta_p = torch.cat([robot_anchor_pos[:, :2], ref_anchor_pos[:, 2:]], dim=-1)
    n = len(ids)
    dq = delta_q[:, None].expand(-1, n, -1)
    pos = delta_p[:, None] + quat_apply(dq, ref.body_pos_w[:, ids] - ref_anchor_pos[:, None])
    quat = quat_mul(dq, ref.body_quat_w[:, ids])
    if cache is not None:
        cache[key] = (ids, pos, quat)
    return ids, pos, quat


def tracking_anchor_pos(env, std: float, anchor_body: str = "pelvis") -> torch.Tensor:
    """exp(-||p_ref_anchor - p_anchor||^2 / std^2) (world frame)."""
    a = env.state.body_index(anchor_body)[0]
    err = (env.command.ref.body_pos_w[:, a] - env.state.body_pos_w[:, a]).square().sum(-1)
    return torch.exp(-err / std**2)


def tracking_anchor_ori(env, std: float, anchor_body: str = "pelvis") -> torch.Tensor:
    """exp(-angle(q_ref_anchor, q_anchor)^2 / std^2)."""
    a = env.state.body_index(anchor_body)[0]
    err = quat_error_magnitude(env.command.ref.body_quat_w[:, a], env.state.body_quat_w[:, a]).square()
    return torch.exp(-err / std**2)


def tracking_relative_body_pos(env, std: float, body_names: list[str], anchor_body: str = "pelvis") -> torch.Tensor:
    """exp(-mean_b ||p_ref_rel_b - p_b||^2 / std^2)."""
    ids, pos, _ = relative_reference_bodies(env, body_names, anchor_body)
    err = (pos - env.state.body_pos_w[:, ids]).square().sum(-1).mean(-1)
    return torch.exp(-err / std**2)


def tracking_relative_body_ori(env, std: float, body_names: list[str], anchor_body: str = "pelvis") -> torch.Tensor:
    """exp(-mean_b angle(q_ref_rel_b, q_b)^2 / std^2)."""
    ids, _, quat = relative_reference_bodies(env, body_names, anchor_body)
    err = quat_error_magnitude(quat, env.state.body_quat_w[:, ids]).square().mean(-1)
    return torch.exp(-err / std**2)


def tracking_body_linvel(env, std: float, body_names: list[str]) -> torch.Tensor:
    """exp(-mean_b ||v_ref_b - v_b||^2 / std^2) (world frame)."""
    ids = env.state.body_index(body_names)
    err = (env.command.ref.body_lin_vel_w[:, ids] - env.state.body_lin_vel_w[:, ids]).square().sum(-1).mean(-1)
    return torch.exp(-err / std**2)


def tracking_body_angvel(env, std: float, body_names: list[str]) -> torch.Tensor:
    """exp(-mean_b ||w_ref_b - w_b||^2 / std^2) (world frame)."""
    ids = env.state.body_index(body_names)
    err = (env.command.ref.body_ang_vel_w[:, ids] - env.state.body_ang_vel_w[:, ids]).square().sum(-1).mean(-1)
    return torch.exp(-err / std**2)


def action_rate_l2(env) -> torch.Tensor:
    """sum (a_t - a_{t-1})^2 (use a negative weight)."""
    am = env.action_manager
    return (am.action - am.prev_action).square().sum(-1)


def feet_acc(env, body_names: list[str]) -> torch.Tensor:
    """sum_feet ||(v_foot(t) - v_foot(t - dt)) / dt||^2 (use a negative weight)."""
    ids = env.state.body_index(body_names)
    prev = env.prev_state
    if prev is None:
        return torch.zeros(env.num_envs, device=env.state.joint_pos.device)
    acc = (env.state.body_lin_vel_w[:, ids] - prev.body_lin_vel_w[:, ids]) / env.step_dt
    return acc.square().sum(-1).sum(-1)


def joint_limit(env, soft_factor: float = 0.9) -> torch.Tensor:
    """sum of joint-position excursions past the soft limits (use a negative weight)."""
    lo, hi = env.soft_joint_limits(soft_factor)
    q = env.state.joint_pos
    return ((lo - q).clamp_min(0) + (q - hi).clamp_min(0)).sum(-1)
