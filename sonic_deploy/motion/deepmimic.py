"""``sonic-motion fetch-data``: DeepMimic's motion capture, from PyPI to retargeted G1 clips on disk.

pybullet's wheel (zlib licence) carries DeepMimic's human clips and the humanoid they were captured for. The
wheel is downloaded *without installing it* (a pinned platform tag, so every machine fetches the same bytes),
its sha256 checked, and only the motion files and the humanoid URDF unpacked into the asset folder. Each clip
is then converted to joint positions by that humanoid's own skeleton and retargeted to the G1, into
``train/``, ``held_out/`` and ``extra/`` as the motion-set config says. A clip whose source bytes, config
entry and retargeter version are unchanged is not redone (content hash in ``manifest.json``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

from sonic_deploy.motion.clip import save_clip
from sonic_deploy.motion.motion_sets import ClipEntry, MotionSet, load_motion_set
from sonic_deploy.motion.retarget.deepmimic import DeepMimicSkeleton, load_deepmimic
from sonic_deploy.motion.retarget.pipeline import RetargetConfig, Retargeter
from sonic_deploy.motion.retarget.skeleton import tile_cycles
from sonic_deploy.robots.assets import asset_root
from sonic_deploy.utils.atomic import atomic_path
from sonic_deploy.utils.wheels import pinned_wheel

RETARGET_VERSION = 1  # bump to redo every cached clip (a change of the retargeter's code does so by itself)
CODE_FILES = (*Path(__file__).with_name("retarget").glob("*.py"), Path(__file__).with_name("kinematics.py"),
              Path(__file__).with_name("clip.py"))
PROVENANCE = (
    "DeepMimic human motion-capture clips (Peng et al., 2018) and the DeepMimic humanoid URDF, unpacked from the "
    "PyPI wheel {wheel} (sha256 {sha256}), paths {motions_dir}/ and {skeleton}. pybullet and its data are "
    "distributed under the zlib licence. Not modified.\n"
)


def raw_dir(ms: MotionSet) -> Path:
    return asset_root() / ms.name


# the pybullet wheel is platform-specific; the one pinned is the same file on every machine that unpacks it
_WHEEL_PLATFORM = ("--only-binary=:all:", "--platform", "manylinux2014_x86_64", "--python-version", "3.11",
                   "--implementation", "cp")


def fetch_raw(ms: MotionSet, wheel: Path | None = None, force: bool = False) -> Path:
    """Unpack the motion files and the humanoid URDF (once); atomic: a half-done fetch leaves nothing."""
    target = raw_dir(ms)
    src = ms.source
    if (target / "PROVENANCE.txt").is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        tmp_path = Path(tmp)
        wheel = pinned_wheel(src["package"], src["wheel"], src["sha256"], tmp_path, wheel and Path(wheel),
                             _WHEEL_PLATFORM)
        staging = tmp_path / ms.name
        wanted = {src["skeleton"]} | {f"{src['motions_dir']}/{c.file}" for c in ms.clips.values()}
        with zipfile.ZipFile(wheel) as zf:
            names = set(zf.namelist())
            missing = sorted(wanted - names)
            if missing:
                raise RuntimeError(f"{wheel}: files {missing} not in the wheel")
            for name in sorted(wanted):
                out = staging / name
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(zf.read(name))
        (staging / "PROVENANCE.txt").write_text(PROVENANCE.format(**src))
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    return target


def _clip_hash(raw: Path, ms: MotionSet, entry: ClipEntry) -> str:
    h = hashlib.sha256()
    h.update((raw / ms.source["motions_dir"] / entry.file).read_bytes())
    h.update((raw / ms.source["skeleton"]).read_bytes())
    h.update(json.dumps([asdict(entry), ms.fps, RETARGET_VERSION]).encode())
    for code in sorted(CODE_FILES):  # the retargeter's own source: a changed method redoes the clips
        h.update(code.read_bytes())
    return h.hexdigest()


_worker: dict = {}  # per worker process: one Retargeter (G1 model, IK) reused for every clip it converts


def _convert_one(raw: str, ms_path: str, name: str, out: str) -> dict:
    ms = load_motion_set(ms_path)
    entry = ms.clips[name]
    if "retargeter" not in _worker:
        _worker["retargeter"] = Retargeter(config=RetargetConfig(fps=ms.fps))
    raw_path = Path(raw)
    skeleton = DeepMimicSkeleton.from_urdf(raw_path / ms.source["skeleton"])
    human = tile_cycles(load_deepmimic(raw_path / ms.source["motions_dir"] / entry.file, skeleton, name=name),
                        entry.cycles)
    t0 = time.perf_counter()
    result = _worker["retargeter"].retarget(human, name=name)
    save_clip(result.clip, Path(out))
    report = result.report.as_dict()
    report.update(split=ms.split_of(name), kind=entry.kind, source=entry.file, scale=round(result.scale, 4),
                  seconds_to_retarget=round(time.perf_counter() - t0, 2))
    return report


def fetch_data(motion_set: str | Path = "deepmimic", out: Path | None = None, wheel: Path | None = None,
               force: bool = False, jobs: int | None = None, clips: list[str] | None = None,
               log=print) -> tuple[Path, list[dict]]:
    """Fetch, convert and retarget the set; returns the output folder and one quality row per clip."""
    ms = load_motion_set(motion_set)
    raw = fetch_raw(ms, wheel=wheel, force=force)
    out = Path(out) if out else ms.default_out()
    names = [n for n in (*ms.train, *ms.held_out, *ms.extra) if clips is None or n in clips]
    unknown = sorted(set(clips or ()) - set(ms.clips))
    if unknown:
        raise KeyError(f"clips {unknown} are not in {ms.path}")
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() and not force else {}
    entries = manifest.get("clips", {})
    todo, rows = [], {}
    for n in names:
        dest = out / ms.split_of(n) / f"{n}.npz"
        digest = _clip_hash(raw, ms, ms.clips[n])
        cached = entries.get(n)
        if cached and cached.get("hash") == digest and dest.is_file():
            rows[n] = cached["report"]
        else:
            todo.append((n, dest, digest))
    # a clip that moved between splits (config edited) must not linger in its old folder
    for split in ("train", "held_out", "extra"):
        for stale in (out / split).glob("*.npz") if (out / split).is_dir() else ():
            if stale.stem not in ms.clips or ms.split_of(stale.stem) != split:
                stale.unlink()
    if todo:
        # longest first, so the processes finish together
        todo.sort(key=lambda t: -(raw / ms.source["motions_dir"] / ms.clips[t[0]].file).stat().st_size
                  * ms.clips[t[0]].cycles)
        jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
        log(f"retargeting {len(todo)} clip(s) to the G1 with {jobs} process(es); {len(rows)} up to date")
        for _, dest, _ in todo:
            dest.parent.mkdir(parents=True, exist_ok=True)
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_convert_one, str(raw), str(ms.path), n, str(dest)): (n, digest)
                       for n, dest, digest in todo}
            for fut, (n, digest) in futures.items():
                report = fut.result()
                rows[n] = report
                entries[n] = {"hash": digest, "report": report}
                log(f"  {n}: {report['frames']} frames, fit {report['fit_error_mm']:.1f} mm, "
                    f"skate {report['skate_cm_s']:.2f} cm/s, {report['seconds_to_retarget']:.1f} s")
    entries = {n: e for n, e in entries.items() if n in ms.clips}
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(manifest_path) as tmp:
        Path(tmp).write_text(json.dumps({"motion_set": str(ms.path), "retarget_version": RETARGET_VERSION,
                                         "clips": entries}, indent=1))
    ordered = [rows[n] for n in names]
    every = [entries[n]["report"] for n in (*ms.train, *ms.held_out, *ms.extra) if n in entries]
    write_quality(out, every)
    (out / "PROVENANCE.txt").write_text(PROVENANCE.format(**ms.source)
                                        + f"Retargeted to the Unitree G1 by sonic-motion fetch-data; split from "
                                          f"{ms.path.name}: train/ for training, held_out/ never trained on.\n")
    return out, ordered


def write_quality(out: Path, rows: list[dict]) -> None:
    with atomic_path(out / "quality.json") as tmp:
        Path(tmp).write_text(json.dumps(rows, indent=1))
    lines = ["| clip | split | seconds | fit error (mm) | skate in contact (cm/s) | penetration (cm) | "
             "limit violations | velocity violations |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['clip']} | {r['split']} | {r['seconds']:.2f} | {r['fit_error_mm']:.1f} | "
                     f"{r['skate_cm_s']:.2f} | {r['penetration_cm']:.2f} | {r['limit_violations']} | "
                     f"{r['velocity_violations']} |")
    with atomic_path(out / "quality.md") as tmp:
        Path(tmp).write_text("\n".join(lines) + "\n")
