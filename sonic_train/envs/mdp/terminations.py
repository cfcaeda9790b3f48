"""Termination terms: ``f(env, **params) -> BoolTensor[N]``. Thresholds may be retuned by the curriculum."""

from __future__ import annotations

import torch

from sonic_train.envs.mdp.rewards import relative_reference_bodies


def time_out(env) -> torch.Tensor:
    """Episode reached its maximum length."""
    return env.episode_length_buf >= env.max_episode_length


def motion_end(env) -> torch.Tensor:
    """The reference clip has ended."""
    return env.command.time_left() <= 0.0


def _gravity_z_b(q: torch.Tensor) -> torch.Tensor:
    """z of R(q)^T (0, 0, -1): minus R_22 = 2 (x^2 + y^2) - 1."""
    return 2.0 * (q[:, 1].square() + q[:, 2].square()) - 1.0


def anchor_ori_deviation(env, threshold: float, anchor_body: str = "pelvis") -> torch.Tensor:
    """|g_ref_z - g_z| > threshold, with g = R_anchor^T (0, 0, -1) (tilt of the anchor against the reference)."""
    s, ref = env.state, env.command.ref
    a = s.body_index(anchor_body)[0]
    return (_gravity_z_b(ref.body_quat_w[:, a]) - _gravity_z_b(s.body_quat_w[:, a])).abs() > threshold


def anchor_height_deviation(env, threshold: float, anchor_body: str = "pelvis") -> torch.Tensor:
    """|z_ref_anchor - z_anchor| > threshold."""
    a = env.state.body_index(anchor_body)[0]
    return (env.command.ref.body_pos_w[:, a, 2] - env.state.body_pos_w[:, a, 2]).abs() > threshold


def foot_pos_deviation(env, threshold: float, body_names: list[str], anchor_body: str = "pelvis") -> torch.Tensor:
    """max over feet of ||p_ref_rel_foot - p_foot|| (xyz, reference moved onto the robot's anchor) > threshold."""
    ids, pos, _ = relative_reference_bodies(env, body_names, anchor_body)
    return (pos - env.state.body_pos_w.index_select(1, ids)).norm(dim=-1).amax(-1) > threshold


def root_height_below(env, min_height: float) -> torch.Tensor:
    """Pelvis height below ``min_height`` (a fall)."""
    return env.state.root_pos_w[:, 2] < min_height


def illegal_contact(env, body_names: list[str], threshold: float = 1.0) -> torch.Tensor:
    """Any of ``body_names`` carries a contact force above ``threshold`` N (a fall onto a non-foot body)."""
    ids = env.state.body_ids(body_names)
    return (env.state.body_contact_force_w.index_select(1, ids).norm(dim=-1) > threshold).any(-1)


def bad_state(env) -> torch.Tensor:
    """Non-finite simulator state (the backend diverged)."""
    s = env.state
    return ~(torch.isfinite(s.joint_pos).all(-1) & torch.isfinite(s.root_pos_w).all(-1)
             & torch.isfinite(s.joint_vel).all(-1))
