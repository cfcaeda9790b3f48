"""Reward terms: an error, then ``exp(-error / std**2)`` (or an L2 penalty). The manager applies weight * dt.

Body sets are names (the 5-point set: root, wrists, feet). "Relative" body targets follow the tracking
convention: the reference bodies are moved rigidly so that the reference anchor sits on the robot's anchor
(xy and heading from the robot, height from the reference), then compared with the robot's bodies.
"""

from __future__ import annotations

import torch

from sonic_train.envs.mdp.math import quat_conjugate, quat_error_magnitude, quat_mul, yaw_of, yaw_quat_mul, yaw_rotate
from sonic_train.envs.mdp.state import step_cached


def _relative_reference_all(env, anchor_body: str):
    """Every reference body moved onto the robot's anchor: positions [N, B, 3], orientations [N, B, 4]."""
    s, ref = env.state, env.command.ref
    a = s.body_index(anchor_body)[0]
    robot_anchor_pos, robot_anchor_quat = s.body_pos_w[:, a], s.body_quat_w[:, a]
    ref_anchor_pos, ref_anchor_quat = ref.body_pos_w[:, a], ref.body_quat_w[:, a]
    half = (0.5 * yaw_of(quat_mul(robot_anchor_quat, quat_conjugate(ref_anchor_quat)))).unsqueeze(-1)
    ch, sh = torch.cos(half), torch.sin(half)  # the heading offset as the quaternion (ch, 0, 0, sh)
    cos_yaw, sin_yaw = 1.0 - 2.0 * sh * sh, 2.0 * sh * ch  # its rotation matrix' entries
    delta_p = torch.cat([robot_anchor_pos[:, :2], ref_anchor_pos[:, 2:]], dim=-1)
    pos = delta_p[:, None] + yaw_rotate(cos_yaw, sin_yaw, ref.body_pos_w - ref_anchor_pos[:, None])
    quat = yaw_quat_mul(ch[:, None], sh[:, None], ref.body_quat_w)
    return pos, quat


def relative_reference_bodies(env, body_names: list[str], anchor_body: str = "pelvis"):
    """Reference body positions and orientations moved onto the robot's anchor (xy + heading).

    Returns ``(ids, pos [N, n, 3], quat [N, n, 4])``. Computed once per step for all bodies when the env keeps
    a ``step_cache`` dict (cleared at each state update); body sets are slices of that."""
    def subset():
        ids = env.state.body_ids(body_names)
        pos, quat = step_cached(env, ("relative_reference_all", anchor_body),
                            lambda: _relative_reference_all(env, anchor_body))
        return ids, pos.index_select(1, ids), quat.index_select(1, ids)
    return step_cached(env, ("relative_reference_bodies", tuple(body_names), anchor_body), subset)


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
    err = (pos - env.state.body_pos_w.index_select(1, ids)).square().sum(-1).mean(-1)
    return torch.exp(-err / std**2)


def tracking_relative_body_ori(env, std: float, body_names: list[str], anchor_body: str = "pelvis") -> torch.Tensor:
    """exp(-mean_b angle(q_ref_rel_b, q_b)^2 / std^2)."""
    ids, _, quat = relative_reference_bodies(env, body_names, anchor_body)
    err = quat_error_magnitude(quat, env.state.body_quat_w.index_select(1, ids)).square().mean(-1)
    return torch.exp(-err / std**2)


def tracking_body_linvel(env, std: float, body_names: list[str]) -> torch.Tensor:
    """exp(-mean_b ||v_ref_b - v_b||^2 / std^2) (world frame)."""
    ids = env.state.body_ids(body_names)
    err = (env.command.ref.body_lin_vel_w.index_select(1, ids)
           - env.state.body_lin_vel_w.index_select(1, ids)).square().sum(-1).mean(-1)
    return torch.exp(-err / std**2)


def tracking_body_angvel(env, std: float, body_names: list[str]) -> torch.Tensor:
    """exp(-mean_b ||w_ref_b - w_b||^2 / std^2) (world frame)."""
    ids = env.state.body_ids(body_names)
    err = (env.command.ref.body_ang_vel_w.index_select(1, ids)
           - env.state.body_ang_vel_w.index_select(1, ids)).square().sum(-1).mean(-1)
    return torch.exp(-err / std**2)


def action_rate_l2(env) -> torch.Tensor:
    """sum (a_t - a_{t-1})^2 (use a negative weight)."""
    am = env.action_manager
    return (am.action - am.prev_action).square().sum(-1)


def feet_acc(env, body_names: list[str]) -> torch.Tensor:
    """sum_feet ||(v_foot(t) - v_foot(t - dt)) / dt||^2 (use a negative weight)."""
    ids = env.state.body_ids(body_names)
    prev = env.prev_state
    if prev is None:
        return torch.zeros(env.num_envs, device=env.state.joint_pos.device)
    acc = (env.state.body_lin_vel_w.index_select(1, ids) - prev.body_lin_vel_w.index_select(1, ids)) / env.step_dt
    return acc.square().sum(-1).sum(-1)


def joint_limit(env, soft_factor: float = 0.9) -> torch.Tensor:
    """sum of joint-position excursions past the soft limits (use a negative weight)."""
    lo, hi = env.soft_joint_limits(soft_factor)
    q = env.state.joint_pos
    return ((lo - q).clamp_min(0) + (q - hi).clamp_min(0)).sum(-1)

