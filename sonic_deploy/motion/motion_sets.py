"""Motion sets named in the config (configs/motion_sets/<name>.yaml): their clips and the fixed held-out split.

The split lives in the config, not in code or in a random draw, so every run, evaluation and report agrees on
which clips were never trained on. ``check_not_held_out`` is the guard a training entry point calls on the
clip names it is about to sample.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml


class MotionSetError(ValueError):
    """A motion-set config that is missing or inconsistent; the message names the file and the field."""


def config_dir() -> Path:
    """The repository's ``configs/`` (editable install) or ``$SONIC_CONFIG_DIR``, as sonic-train finds it."""
    env = os.environ.get("SONIC_CONFIG_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "configs"


def cache_dir() -> Path:
    return Path(os.environ.get("SONIC_CACHE_DIR", Path.home() / ".cache" / "sonic"))


@dataclass(frozen=True)
class ClipEntry:
    name: str
    file: str
    cycles: int
    kind: str  # standing | ground


@dataclass(frozen=True)
class MotionSet:
    name: str
    path: Path
    source: dict
    fps: float
    clips: dict[str, ClipEntry]
    train: tuple[str, ...]
    held_out: tuple[str, ...]
    extra: tuple[str, ...]

    def split_of(self, clip: str) -> str:
        for split in ("train", "held_out", "extra"):
            if clip in getattr(self, split):
                return split
        raise KeyError(clip)

    def default_out(self) -> Path:
        return cache_dir() / "motions" / self.name


def load_motion_set(name_or_path: str | Path = "deepmimic") -> MotionSet:
    p = Path(name_or_path)
    path = p if p.suffix in (".yaml", ".yml") else config_dir() / "motion_sets" / f"{name_or_path}.yaml"
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise MotionSetError(f"{path}: cannot read the motion-set config ({exc})") from None
    for key in ("name", "source", "fps", "clips", "train", "held_out"):
        if key not in (raw or {}):
            raise MotionSetError(f"{path}: field '{key}' is missing")
    clips = {}
    for name, entry in raw["clips"].items():
        if "file" not in entry:
            raise MotionSetError(f"{path}: field 'clips.{name}.file' is missing")
        clips[name] = ClipEntry(name, str(entry["file"]), int(entry.get("cycles", 1)), str(entry.get("kind", "standing")))
    splits = {k: tuple(raw.get(k) or ()) for k in ("train", "held_out", "extra")}
    seen: dict[str, str] = {}
    for split, names in splits.items():
        for n in names:
            if n not in clips:
                raise MotionSetError(f"{path}: field '{split}' names clip '{n}', which 'clips' does not define")
            if n in seen:
                raise MotionSetError(f"{path}: clip '{n}' is in both '{seen[n]}' and '{split}'")
            seen[n] = split
    return MotionSet(name=str(raw["name"]), path=path, source=dict(raw["source"]), fps=float(raw["fps"]),
                     clips=clips, **splits)


def check_not_held_out(clip_names: list[str] | tuple[str, ...], motion_set: str | Path | None = None) -> None:
    """Raise if any of ``clip_names`` is held out (in ``motion_set``, or in any set): held-out stays held out."""
    if motion_set is not None:
        ms = load_motion_set(motion_set)
        bad = sorted(set(clip_names) & set(ms.held_out))
    else:
        bad = sorted(n for n in set(clip_names) if split_of(n) == "held_out")
    if bad:
        raise MotionSetError(f"clips {bad} are held out (field 'held_out' of {config_dir() / 'motion_sets'}/*.yaml) "
                             f"and never trained on; train on {cache_dir() / 'motions' / '<set>' / 'train'} instead")


def split_of(clip: str) -> str | None:
    """The split (train / held_out / extra) a clip name has in any motion set under configs/motion_sets."""
    folder = config_dir() / "motion_sets"
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
        ms = load_motion_set(path)
        if clip in ms.clips:
            return ms.split_of(clip) if clip in (*ms.train, *ms.held_out, *ms.extra) else None
    return None


def split_means(rows: list[dict], name_key: str = "motion") -> dict[str, dict]:
    """Per split (held_out, train, extra; clips of no motion set: 'other'): clip count and the mean of every
    numeric field of ``rows`` (one dict per clip), so held-out results are never averaged into training ones."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(split_of(str(r[name_key])) or "other", []).append(r)
    out = {}
    for split in ("held_out", "train", "extra", "other"):
        members = groups.get(split)
        if not members:
            continue
        keys = [k for k, v in members[0].items() if isinstance(v, (int, float))]  # bools count as 0/1
        means = {}
        for k in keys:
            vals = [float(m[k]) for m in members if isinstance(m.get(k), (int, float)) and np.isfinite(float(m[k]))]
            if vals:
                means[k] = float(np.mean(vals))
        out[split] = {"num_motions": len(members), "motions": [str(m[name_key]) for m in members], **means}
    return out
