"""Domain-randomisation events: ``f(env, env_ids, level, **params)``.

``level`` in [0, 1] is the curriculum's randomisation strength (level index / max level): 0 is no
randomisation, 1 the full ranges given in the config. Every event goes through backend calls, never a
simulator type.
"""

from __future__ import annotations

import torch


def _uniform(env, n: int, lo: float, hi: float, dim: int | None = None) -> torch.Tensor:
    shape = (n,) if dim is None else (n, dim)
    return lo + (hi - lo) * torch.rand(shape, generator=env.torch_rng, device="cpu").to(env.device)


def _scaled_range(range_: list[float], level: float, nominal: float) -> tuple[float, float]:
    lo, hi = float(range_[0]), float(range_[1])
    return nominal + level * (lo - nominal), nominal + level * (hi - nominal)


def randomize_friction(env, env_ids: torch.Tensor, level: float, range: list[float] = (0.3, 1.6)) -> None:
    """Scale the foot friction by U(range) (shrunk toward 1 by the level)."""
    lo, hi = _scaled_range(range, level, 1.0)
    env.backend.set_friction_scale(env_ids, _uniform(env, len(env_ids), lo, hi))


def randomize_mass(env, env_ids: torch.Tensor, level: float, body_names: list[str] = ("torso_link",),
                   range: list[float] = (-1.0, 3.0)) -> None:
    """Add U(range) kg to each of ``body_names``."""
    lo, hi = _scaled_range(range, level, 0.0)
    for name in body_names:
        env.backend.set_body_mass_delta(env_ids, name, _uniform(env, len(env_ids), lo, hi))


def randomize_pd_gains(env, env_ids: torch.Tensor, level: float, kp_range: list[float] = (0.9, 1.1),
                       kd_range: list[float] = (0.9, 1.1)) -> None:
    """Scale every joint's kp and kd by U(range) per env and joint."""
    klo, khi = _scaled_range(kp_range, level, 1.0)
    dlo, dhi = _scaled_range(kd_range, level, 1.0)
    n, j = len(env_ids), env.num_actions
    env.backend.set_gain_scale(env_ids, _uniform(env, n, klo, khi, j), _uniform(env, n, dlo, dhi, j))


def randomize_joint_offsets(env, env_ids: torch.Tensor, level: float, range: list[float] = (-0.01, 0.01)) -> None:
    """Joint calibration offset U(range) rad added to every PD target (the policy does not see it)."""
    lo, hi = _scaled_range(range, level, 0.0)
    env.action_manager.joint_offset[env_ids] = _uniform(env, len(env_ids), lo, hi, env.num_actions)


def push_robot(env, env_ids: torch.Tensor, level: float, velocity_range: dict | None = None) -> None:
    """Add a random root velocity: keys x, y, z (m/s), roll, pitch, yaw (rad/s), each a [lo, hi] range."""
    velocity_range = velocity_range or {}
    n = len(env_ids)
    dv = torch.zeros(n, 6, device=env.device)
    for k, key in enumerate(("x", "y", "z", "roll", "pitch", "yaw")):
        if key in velocity_range:
            lo, hi = _scaled_range(velocity_range[key], level, 0.0)
            dv[:, k] = _uniform(env, n, lo, hi)
    env.backend.add_root_velocity(env_ids, dv[:, :3], dv[:, 3:])
