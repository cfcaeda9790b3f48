"""Many clips in one object: weighted sampling of (clip, time) and vectorised frame lookup.

Clips are concatenated into flat arrays with per-clip offsets so a batch of environments can look up their
reference frames with one fancy-index, no per-env Python loop. Weights are per clip; adaptive resampling (failed
motions sampled more) only has to call ``set_weights``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sonic_deploy.motion.clip import MotionClip, MotionFormatError, load_clip


def find_clip_files(paths: list[str | Path] | str | Path) -> list[Path]:
    """Expand files, folders (all *.npz inside, sorted) and globs into a sorted, de-duplicated list."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out.extend(sorted(p.rglob("*.npz")))
        elif p.is_file():
            out.append(p)
        else:
            matches = sorted(Path().glob(str(item))) if any(c in str(item) for c in "*?[") else []
            if not matches:
                raise MotionFormatError(f"{item}: no motion file or folder there")
            out.extend(matches)
    return list(dict.fromkeys(out))


@dataclass
class FrameLookup:
    """Indices into the concatenated arrays for a batch of (clip, time) queries, with linear blend weights."""

    i0: np.ndarray
    i1: np.ndarray
    alpha: np.ndarray


class MotionLibrary:
    def __init__(self, clips: list[MotionClip], weights: np.ndarray | None = None):
        if not clips:
            raise MotionFormatError("motion library: no clips given")
        ref = clips[0]
        for c in clips[1:]:
            if c.joint_names != ref.joint_names or c.body_names != ref.body_names:
                raise MotionFormatError(f"clip {c.name}: joint/body names differ from clip {ref.name}; "
                                        "convert all clips with the same robot model")
        self.clips = clips
        self.names = [c.name for c in clips]
        self.joint_names, self.body_names = ref.joint_names, ref.body_names
        self.fps = np.array([c.fps for c in clips])
        self.num_frames = np.array([c.num_frames for c in clips], dtype=np.int64)
        self.durations = (self.num_frames - 1) / self.fps
        self.offsets = np.concatenate([[0], np.cumsum(self.num_frames)[:-1]]).astype(np.int64)
        self.has_smpl = all(c.smpl_joints is not None for c in clips)
        self.has_vr = all(c.vr_pos is not None for c in clips)
        self.set_weights(np.ones(len(clips)) if weights is None else weights)

    @classmethod
    def from_paths(cls, paths: list[str | Path] | str | Path) -> "MotionLibrary":
        return cls([load_clip(p) for p in find_clip_files(paths)])

    def __len__(self) -> int:
        return len(self.clips)

    def set_weights(self, weights: np.ndarray) -> None:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(self.clips),) or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError(f"motion weights must be {len(self.clips)} non-negative numbers with a positive sum")
        self.weights = w / w.sum()

    def sample(self, n: int, rng: np.random.Generator, random_start: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` clips by weight and a start time in each (uniform over the clip, or 0)."""
        ids = rng.choice(len(self.clips), size=n, p=self.weights)
        times = rng.uniform(0.0, 1.0, size=n) * self.durations[ids] if random_start else np.zeros(n)
        return ids, times

    def lookup(self, clip_ids: np.ndarray, times: np.ndarray) -> FrameLookup:
        """Frame indices into ``concatenated()`` arrays for times clamped to each clip."""
        f = np.clip(np.asarray(times) * self.fps[clip_ids], 0.0, self.num_frames[clip_ids] - 1)
        i0 = np.floor(f).astype(np.int64)
        i1 = np.minimum(i0 + 1, self.num_frames[clip_ids] - 1)
        off = self.offsets[clip_ids]
        return FrameLookup(off + i0, off + i1, f - i0)

    def concatenated(self) -> dict[str, np.ndarray]:
        """All clips' arrays stacked along time (the training backends move these to their device once)."""
        keys = ["joint_pos", "joint_vel", "body_pos_w", "body_quat_w", "body_lin_vel_w", "body_ang_vel_w"]
        if self.has_smpl:
            keys.append("smpl_joints")
        if self.has_vr:
            keys += ["vr_pos", "vr_quat"]
        return {k: np.concatenate([getattr(c, k) for c in self.clips], axis=0) for k in keys}
