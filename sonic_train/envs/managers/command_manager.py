"""The motion command: which clip and time each env tracks, its reference frame now and a future window.

Clips and start times are drawn from the :class:`MotionLibrary` by weight (adaptive resampling changes the
weights); the reference advances with the control step. Frames are looked up for all envs at once from the
library's concatenated arrays, moved to the device once and packed by how terms read them (linear blend of
positions/velocities, slerp of orientations between the two nearest frames).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from sonic_train.envs.managers.base import print_table
from sonic_train.envs.mdp.state import MotionTable, ReferenceFrame


class MotionCommand:
    def __init__(self, env, library, body_names: Sequence[str], joint_names: Sequence[str],
                 random_start: bool = True, start_at_zero_prob: float = 0.0, quiet: bool = False):
        self.env = env
        self.library = library
        self.random_start = bool(random_start)
        self.start_at_zero_prob = float(start_at_zero_prob)
        self.quiet = quiet
        dev = env.device
        if tuple(library.joint_names) != tuple(joint_names):
            raise ValueError(f"motion joints {library.joint_names} differ from the robot's {tuple(joint_names)}")
        missing = [b for b in body_names if b not in library.body_names]
        if missing:
            raise ValueError(f"motion library lacks bodies {missing} the simulator reports")
        perm = [library.body_names.index(b) for b in body_names]
        cat = library.concatenated()
        # the clips' arrays packed by how terms read them (a frame is a few gathers, not two per field)
        self.table = MotionTable({k: torch.as_tensor(v[:, perm] if k.startswith("body_") else v, dtype=torch.float32,
                                                     device=dev) for k, v in cat.items()})
        del cat
        self.fps = torch.as_tensor(library.fps, dtype=torch.float32, device=dev)
        self.num_frames = torch.as_tensor(library.num_frames, dtype=torch.long, device=dev)
        self.offsets = torch.as_tensor(library.offsets, dtype=torch.long, device=dev)
        self.durations = torch.as_tensor(library.durations, dtype=torch.float32, device=dev)
        # frame arithmetic in float32 (exact for frame counts and offsets below 2^24)
        self._last = (self.num_frames - 1).float()
        self.offsets_f = self.offsets.float()
        self._clip_cache: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self.sampler: Callable[[torch.Tensor], tuple[np.ndarray, np.ndarray]] | None = None
        n = env.num_envs
        self.clip_ids = torch.zeros(n, dtype=torch.long, device=dev)
        self.times = torch.zeros(n, device=dev)
        self.start_times = torch.zeros(n, device=dev)
        self._ref: ReferenceFrame | None = None
        self._future: dict[tuple[int, float], ReferenceFrame] = {}
        # per-clip episode outcomes since the last adaptive-resampling update
        self.episode_counts = torch.zeros(len(library), device=dev)
        self.failure_counts = torch.zeros(len(library), device=dev)

    # ------------------------------------------------------------------ lookup
    def frames(self, clip_ids: torch.Tensor, times: torch.Tensor) -> ReferenceFrame:
        """Reference at ``times`` (any shape S, seconds, clamped to each clip) of ``clip_ids`` (shape S).

        Fields are blended on first access only (a future window needs a few of them)."""
        return self._frames(times, self.fps[clip_ids], self._last[clip_ids], self.offsets[clip_ids])

    def _frames(self, times: torch.Tensor, fps: torch.Tensor, last: torch.Tensor, off: torch.Tensor) -> ReferenceFrame:
        """Frame indices and blend weights for ``times``; ``fps``/``last``/``off`` broadcast against it."""
        f = torch.minimum(torch.clamp(times * fps, min=0.0), last)
        i0 = torch.floor(f)
        alpha = f - i0
        i1 = torch.minimum(i0 + 1.0, last)
        return ReferenceFrame.interpolated(self.table, (i0 + off).long(), (i1 + off).long(), alpha)

    def _per_env(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """fps, last frame index and offset of each env's clip (gathered once per step)."""
        if self._clip_cache is None:
            ids = self.clip_ids
            self._clip_cache = (self.fps[ids], self._last[ids], self.offsets_f[ids])
        return self._clip_cache

    @property
    def ref(self) -> ReferenceFrame:
        """The reference at the current time of each env (cached until the next step or reset)."""
        if self._ref is None:
            self._ref = self._frames(self.times, *self._per_env())
        return self._ref

    def future(self, num_frames: int, dt: float) -> ReferenceFrame:
        """Frames at t + k dt, k = 0..F-1: fields shaped [N, F, ...] (cached per (F, dt) until the next step)."""
        key = (int(num_frames), float(dt))
        if key not in self._future:
            k = torch.arange(num_frames, device=self.times.device, dtype=torch.float32) * dt
            fps, last, off = self._per_env()
            self._future[key] = self._frames(self.times[:, None] + k[None], fps[:, None], last[:, None],
                                             off[:, None])
        return self._future[key]

    def time_left(self) -> torch.Tensor:
        return self.durations[self.clip_ids] - self.times

    # ------------------------------------------------------------------ progress
    def invalidate(self) -> None:
        """Drop the cached reference frames (after clip ids or times were changed from outside)."""
        self._ref = None
        self._future.clear()
        self._clip_cache = None

    def step(self, dt: float) -> None:
        self.times += dt
        self.invalidate()

    def set_sampler(self, sampler: Callable[[torch.Tensor], tuple[np.ndarray, np.ndarray]] | None) -> None:
        """``sampler(env_ids) -> (clip ids, start times)`` replaces the library's weighted draw at every reset
        (evaluation assigns motions in order); ``None`` restores it."""
        self.sampler = sampler

    def resample(self, env_ids: torch.Tensor) -> None:
        """New clip and start time for ``env_ids`` (clip by library weight; time uniform in the clip or 0)."""
        n = len(env_ids)
        if n == 0:
            return
        if self.sampler is not None:
            ids, times = self.sampler(env_ids)
            self.clip_ids[env_ids] = torch.as_tensor(ids, dtype=torch.long, device=self.clip_ids.device)
            t = torch.as_tensor(times, dtype=torch.float32, device=self.times.device)
            self.times[env_ids] = t
            self.start_times[env_ids] = t
            self.invalidate()
            return
        ids, times = self.library.sample(n, self.env.np_rng, random_start=self.random_start)
        if self.start_at_zero_prob > 0:
            times = np.where(self.env.np_rng.uniform(size=n) < self.start_at_zero_prob, 0.0, times)
        self.clip_ids[env_ids] = torch.as_tensor(ids, dtype=torch.long, device=self.clip_ids.device)
        t = torch.as_tensor(times, dtype=torch.float32, device=self.times.device)
        self.times[env_ids] = t
        self.start_times[env_ids] = t
        self.invalidate()

    def record_episodes(self, env_ids: torch.Tensor, failed: torch.Tensor) -> None:
        """Count finished episodes and failures per clip (adaptive resampling reads these)."""
        ids = self.clip_ids[env_ids]
        self.episode_counts.index_add_(0, ids, torch.ones_like(ids, dtype=torch.float32))
        self.failure_counts.index_add_(0, ids, failed.float())

    def set_weights(self, weights: np.ndarray) -> None:
        self.library.set_weights(weights)

    def state_dict(self) -> dict:
        return {"clip_ids": self.clip_ids.clone(), "times": self.times.clone(), "start_times": self.start_times.clone(),
                "weights": torch.as_tensor(self.library.weights)}

    def load_state_dict(self, state: dict) -> None:
        self.clip_ids.copy_(state["clip_ids"])
        self.times.copy_(state["times"])
        self.start_times.copy_(state["start_times"])
        self.library.set_weights(state["weights"].numpy())
        self.invalidate()

    def print_summary(self) -> str:
        rows = [[n, f"{d:.2f}", f"{w:.3f}"] for n, d, w in zip(self.library.names, self.library.durations,
                                                               self.library.weights)]
        return print_table(f"Motion command ({len(self.library)} clips)", ["clip", "duration s", "weight"], rows,
                           self.quiet)

