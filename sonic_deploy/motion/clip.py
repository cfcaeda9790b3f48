"""The canonical motion clip: one NPZ per clip, validated field by field on load.

Every importer ends here and every consumer (training command manager, deploy player, evaluation) starts
here, so a malformed file fails once, at the door, with the file and the field named.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from sonic_deploy.utils.atomic import atomic_path

FORMAT_VERSION = 1
NUM_SMPL_JOINTS = 24


class MotionFormatError(ValueError):
    """A motion file that does not meet the canonical format; the message names the file and the field."""


@dataclass
class MotionClip:
    name: str
    fps: float
    joint_names: tuple[str, ...]
    joint_pos: np.ndarray  # [T, J]
    joint_vel: np.ndarray  # [T, J]
    body_names: tuple[str, ...]
    body_pos_w: np.ndarray  # [T, B, 3]
    body_quat_w: np.ndarray  # [T, B, 4] wxyz
    body_lin_vel_w: np.ndarray  # [T, B, 3]
    body_ang_vel_w: np.ndarray  # [T, B, 3]
    smpl_joints: np.ndarray | None = None  # [T, 24, 3] world
    vr_pos: np.ndarray | None = None  # [T, 3, 3] world: head, left wrist, right wrist
    vr_quat: np.ndarray | None = None  # [T, 3, 4] wxyz

    @property
    def num_frames(self) -> int:
        return int(self.joint_pos.shape[0])

    @property
    def duration(self) -> float:
        return (self.num_frames - 1) / self.fps

    @property
    def dt(self) -> float:
        return 1.0 / self.fps

    @property
    def root_pos(self) -> np.ndarray:
        return self.body_pos_w[:, 0]

    @property
    def root_quat(self) -> np.ndarray:
        return self.body_quat_w[:, 0]

    def body_index(self, names: tuple[str, ...] | list[str]) -> np.ndarray:
        lookup = {n: i for i, n in enumerate(self.body_names)}
        missing = [n for n in names if n not in lookup]
        if missing:
            raise KeyError(f"clip {self.name}: bodies {missing} not stored (has {list(self.body_names)})")
        return np.array([lookup[n] for n in names], dtype=np.int64)

    def frame_at(self, t: float | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Indices (i0, i1) and blend weight for time(s) ``t``, clamped to the clip."""
        f = np.clip(np.asarray(t, dtype=np.float64) * self.fps, 0.0, self.num_frames - 1)
        i0 = np.floor(f).astype(np.int64)
        i1 = np.minimum(i0 + 1, self.num_frames - 1)
        return i0, i1, f - i0


_ARRAY_FIELDS = ("joint_pos", "joint_vel", "body_pos_w", "body_quat_w", "body_lin_vel_w", "body_ang_vel_w",
                 "smpl_joints", "vr_pos", "vr_quat")
_OPTIONAL = ("smpl_joints", "vr_pos", "vr_quat")


def _fail(source: str, field: str, message: str) -> MotionFormatError:
    return MotionFormatError(f"{source}: field '{field}' {message}")


def validate_clip(clip: MotionClip, source: str = "<memory>") -> MotionClip:
    """Check shapes, dtypes, finiteness, unit quaternions and fps; return the clip with float32 arrays."""
    if not np.isfinite(clip.fps) or clip.fps <= 0:
        raise _fail(source, "fps", f"must be a finite number > 0, got {clip.fps}")
    J, B = len(clip.joint_names), len(clip.body_names)
    if J == 0 or B == 0:
        raise _fail(source, "joint_names" if J == 0 else "body_names", "is empty")
    T = None
    expected = {
        "joint_pos": ("[T, J]", (J,)), "joint_vel": ("[T, J]", (J,)),
        "body_pos_w": ("[T, B, 3]", (B, 3)), "body_quat_w": ("[T, B, 4]", (B, 4)),
        "body_lin_vel_w": ("[T, B, 3]", (B, 3)), "body_ang_vel_w": ("[T, B, 3]", (B, 3)),
        "smpl_joints": ("[T, 24, 3]", (NUM_SMPL_JOINTS, 3)), "vr_pos": ("[T, 3, 3]", (3, 3)),
        "vr_quat": ("[T, 3, 4]", (3, 4)),
    }
    out = {}
    for name in _ARRAY_FIELDS:
        value = getattr(clip, name)
        if value is None:
            if name in _OPTIONAL:
                out[name] = None
                continue
            raise _fail(source, name, "is missing")
        arr = np.asarray(value)
        text, tail = expected[name]
        if arr.dtype.kind not in "fiu":
            raise _fail(source, name, f"expected a float array {text}, got dtype {arr.dtype}")
        if arr.ndim != 1 + len(tail) or tuple(arr.shape[1:]) != tail:
            raise _fail(source, name, f"expected shape {text} = (T, {', '.join(map(str, tail))}) "
                                      f"with J={J}, B={B}; got {tuple(arr.shape)}")
        T = arr.shape[0] if T is None else T
        if arr.shape[0] != T:
            raise _fail(source, name, f"has {arr.shape[0]} frames, expected T={T} like joint_pos")
        if not np.all(np.isfinite(arr)):
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise _fail(source, name, f"has a non-finite value at index {tuple(int(i) for i in bad)}")
        out[name] = arr.astype(np.float32, copy=False)
    if T is None or T < 2:
        raise _fail(source, "joint_pos", f"needs at least 2 frames, got {T}")
    for qname in ("body_quat_w", "vr_quat"):
        q = out[qname]
        if q is None:
            continue
        err = np.abs(np.linalg.norm(q, axis=-1) - 1.0)
        if err.max() > 1e-3:
            bad = np.unravel_index(np.argmax(err), err.shape)
            raise _fail(source, qname, f"is not a unit quaternion (wxyz) at index {tuple(int(i) for i in bad)}: "
                                       f"norm {1 + float(err.max()):.4f}")
    return replace(clip, fps=float(clip.fps), joint_names=tuple(clip.joint_names), body_names=tuple(clip.body_names),
                   **out)


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of an NPZ file, never unpickled (``allow_pickle=False``); a bad file is one MotionFormatError
    naming it. Clips, importers and retargeting sources all read their NPZ files through this."""
    source = str(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise MotionFormatError(f"{source}: no such file") from None
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise MotionFormatError(f"{source}: not a readable NPZ archive (truncated or corrupt: {exc})") from None
    except ValueError as exc:  # object arrays refused by allow_pickle=False
        raise MotionFormatError(f"{source}: refused ({exc}); clips hold only numeric and string arrays") from None


def load_clip(path: str | Path) -> MotionClip:
    """Read and validate one canonical NPZ clip. Never unpickles (``allow_pickle=False``)."""
    path = Path(path)
    source = str(path)
    raw = read_npz(path)
    for required in ("fps", "joint_names", "body_names", "joint_pos"):
        if required not in raw:
            raise _fail(source, required, "is missing")
    if raw["joint_names"].dtype.kind != "U" or raw["body_names"].dtype.kind != "U":
        raise _fail(source, "joint_names", "must be an array of strings")
    fps = raw["fps"]
    if fps.size != 1:
        raise _fail(source, "fps", f"must be a scalar, got shape {fps.shape}")
    clip = MotionClip(
        name=str(raw["name"]) if "name" in raw else path.stem,
        fps=float(fps.reshape(())),
        joint_names=tuple(str(n) for n in raw["joint_names"]),
        body_names=tuple(str(n) for n in raw["body_names"]),
        **{k: raw.get(k) for k in _ARRAY_FIELDS},
    )
    return validate_clip(clip, source)


def save_clip(clip: MotionClip, path: str | Path) -> Path:
    """Validate and write ``clip`` atomically (temp file + rename): a crash never leaves half a clip."""
    path = Path(path)
    clip = validate_clip(clip, str(path))
    arrays = {f.name: getattr(clip, f.name) for f in fields(clip) if getattr(clip, f.name) is not None}
    arrays["joint_names"] = np.array(clip.joint_names)
    arrays["body_names"] = np.array(clip.body_names)
    arrays["name"] = np.array(clip.name)
    arrays["fps"] = np.array(clip.fps)
    arrays["format_version"] = np.array(FORMAT_VERSION)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path
