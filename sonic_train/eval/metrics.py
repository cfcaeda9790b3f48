"""Tracking metrics, accumulated per env over an episode and reported per motion and aggregated.

Per control step (post-physics state against the reference at the same time, the moment terminations are
judged), over the robot spec's tracked bodies:

- ``mpjpe_g_mm``: mean over bodies of ||p_body - p_ref_body|| (world frame), millimetres;
- ``mpjpe_l_mm``: the same after subtracting each side's root (pelvis) position (root-relative);
- ``joint_pos_err``: mean |q - q_ref| over the 29 joints (rad); ``joint_vel_err``: mean |dq - dq_ref| (rad/s);
- ``root_pos_err_mm``: ||p_root - p_ref_root||; ``root_ori_err``: angle of R_ref^T R_root (rad);
- ``body_err_mm``: per tracked body, ||p_body - p_ref_body|| (mm).

Episode values are means over its steps; ``success`` is 1 when no failure termination ended it (the clip
ran out, or the evaluation's time cap was reached). Aggregates are means over motions (each motion counts once).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from sonic_train.envs.mdp.math import quat_error_magnitude

SCALARS = ("mpjpe_g_mm", "mpjpe_l_mm", "joint_pos_err", "joint_vel_err", "root_pos_err_mm", "root_ori_err")


class TrackingMetrics:
    def __init__(self, num_envs: int, body_names: Sequence[str], body_ids: Sequence[int], device="cpu"):
        self.body_names = list(body_names)
        self.body_ids = list(body_ids)
        self.sums = {k: torch.zeros(num_envs, dtype=torch.float64, device=device) for k in SCALARS}
        self.body_sums = torch.zeros(num_envs, len(self.body_ids), dtype=torch.float64, device=device)
        self.steps = torch.zeros(num_envs, dtype=torch.long, device=device)

    def reset(self, env_ids: torch.Tensor) -> None:
        for v in self.sums.values():
            v[env_ids] = 0.0
        self.body_sums[env_ids] = 0.0
        self.steps[env_ids] = 0

    @staticmethod
    def step_errors(state, ref, body_ids: Sequence[int]) -> dict[str, torch.Tensor]:
        """Per-env errors of one step (see the module doc)."""
        ids = list(body_ids)
        p, pr = state.body_pos_w[:, ids], ref.body_pos_w[:, ids]
        body = (p - pr).norm(dim=-1)  # [N, B] metres
        root, root_ref = state.body_pos_w[:, 0], ref.body_pos_w[:, 0]
        local = ((p - root[:, None]) - (pr - root_ref[:, None])).norm(dim=-1)
        return {
            "mpjpe_g_mm": body.mean(-1) * 1000.0,
            "mpjpe_l_mm": local.mean(-1) * 1000.0,
            "joint_pos_err": (state.joint_pos - ref.joint_pos).abs().mean(-1),
            "joint_vel_err": (state.joint_vel - ref.joint_vel).abs().mean(-1),
            "root_pos_err_mm": (root - root_ref).norm(dim=-1) * 1000.0,
            "root_ori_err": quat_error_magnitude(state.body_quat_w[:, 0], ref.body_quat_w[:, 0]),
            "body_mm": body * 1000.0,
        }

    def update(self, state, ref, active: torch.Tensor) -> None:
        e = self.step_errors(state, ref, self.body_ids)
        m = active.to(torch.float64)
        for k in SCALARS:
            self.sums[k] += torch.nan_to_num(e[k].to(torch.float64), nan=1e6) * m
        self.body_sums += torch.nan_to_num(e["body_mm"].to(torch.float64), nan=1e6) * m[:, None]
        self.steps += active.to(torch.long)

    def episode(self, i: int) -> dict[str, Any]:
        n = max(int(self.steps[i]), 1)
        out = {k: float(self.sums[k][i]) / n for k in SCALARS}
        out["body_err_mm"] = {b: float(self.body_sums[i, j]) / n for j, b in enumerate(self.body_names)}
        out["steps"] = int(self.steps[i])
        return out


def aggregate(per_motion: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over motions of each scalar, success rate, per-body means and the episode count."""
    if not per_motion:
        return {"num_motions": 0}
    out: dict[str, Any] = {"num_motions": len(per_motion),
                           "success_rate": sum(float(m["success"]) for m in per_motion) / len(per_motion)}
    for k in SCALARS:
        vals = [m[k] for m in per_motion if math.isfinite(m[k])]
        out[k] = sum(vals) / len(vals) if vals else float("nan")
    succ = [m for m in per_motion if m["success"]]
    out["mpjpe_g_mm_success"] = sum(m["mpjpe_g_mm"] for m in succ) / len(succ) if succ else float("nan")
    bodies = per_motion[0]["body_err_mm"].keys()
    out["body_err_mm"] = {b: sum(m["body_err_mm"][b] for m in per_motion) / len(per_motion) for b in bodies}
    out["mean_episode_s"] = sum(m["episode_s"] for m in per_motion) / len(per_motion)
    return out


def hardest(per_motion: list[dict[str, Any]], n: int) -> list[str]:
    """Names of the ``n`` worst motions: failures first (earliest failure first), then by global MPJPE."""
    ranked = sorted(per_motion, key=lambda m: (m["success"], m["progress"] if not m["success"] else 0.0,
                                               -m["mpjpe_g_mm"]))
    return [m["motion"] for m in ranked[:max(n, 0)]]
