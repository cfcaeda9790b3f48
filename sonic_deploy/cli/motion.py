"""``sonic-motion``: make, convert, inspect and plot motion clips; fetch the G1 model."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from sonic_deploy.motion.clip import MotionFormatError, load_clip, save_clip
from sonic_deploy.motion.library import find_clip_files
from sonic_deploy.motion.plot import plot_clip
from sonic_deploy.motion.retarget.skeleton import HumanMotionError, tile_cycles
from sonic_deploy.motion.safe_pickle import UnsafePickleError
from sonic_deploy.utils.atomic import atomic_path

# Subcommand modules that load MuJoCo (~0.1 s), onnxruntime or PyYAML stay imported inside their commands
# so that ``sonic-motion --help`` does not pay for them.


def _cmd_fetch_robot(args: argparse.Namespace) -> int:
    from sonic_deploy.robots.assets import fetch_g1  # lazy: hashlib, subprocess, zipfile (~10 ms at --help)

    path = fetch_g1(force=args.force, wheel=Path(args.wheel) if args.wheel else None)
    print(f"G1 model ready: {path}")
    return 0


def _cmd_fetch_data(args: argparse.Namespace) -> int:
    from sonic_deploy.motion.deepmimic import fetch_data  # lazy: mujoco, yaml

    t0 = time.perf_counter()
    out, rows = fetch_data(args.set, out=Path(args.out) if args.out else None,
                           wheel=Path(args.wheel) if args.wheel else None, force=args.force, jobs=args.jobs,
                           clips=args.clips or None)
    _print_quality(rows, title=f"{args.set} motion set -> G1 ({out})")
    for split in ("train", "held_out", "extra"):
        n = sum(r["split"] == split for r in rows)
        if n:
            print(f"{split}: {n} clips in {out / split}")
    print(f"fetch-data: {time.perf_counter() - t0:.1f} s")
    return 0


def _print_quality(rows: list[dict], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    cols = ("clip", "split", "seconds", "fit (mm)", "skate (cm/s)", "penetration (cm)", "limit viol.", "vel viol.")
    for col in cols:
        table.add_column(col, justify="left" if col in ("clip", "split") else "right")
    for r in rows:
        fit = "-" if r.get("fit_error_mm") is None else f"{r['fit_error_mm']:.1f}"
        table.add_row(r["clip"], r.get("split", ""), f"{r['seconds']:.2f}", fit, f"{r['skate_cm_s']:.2f}",
                      f"{r['penetration_cm']:.2f}", str(r["limit_violations"]), str(r["velocity_violations"]))
    Console(width=max(Console().width, 120)).print(table)


def _cmd_retarget(args: argparse.Namespace) -> int:
    from sonic_deploy.motion.motion_sets import load_motion_set  # lazy: yaml
    from sonic_deploy.motion.deepmimic import raw_dir  # lazy: mujoco
    from sonic_deploy.motion.retarget.deepmimic import DeepMimicSkeleton, load_deepmimic  # lazy: ~10 ms
    from sonic_deploy.motion.retarget.pipeline import Retargeter  # lazy: mujoco
    from sonic_deploy.motion.retarget.plot import plot_retarget  # lazy: with the retargeting modules above
    from sonic_deploy.motion.retarget.sources import load_bvh, load_positions_npz  # lazy: yaml

    out = Path(args.out)
    retargeter = Retargeter()
    rows = []
    for item in args.inputs:
        src = Path(item)
        fmt = args.format
        if fmt == "auto":
            fmt = {".bvh": "bvh", ".npz": "positions", ".txt": "deepmimic"}.get(src.suffix.lower())
            if fmt is None:
                print(f"error: {src}: cannot tell the format from the suffix; pass --format", file=sys.stderr)
                return 2
        if fmt == "bvh":
            human = load_bvh(src, args.joint_map, args.up, args.unit_scale)
        elif fmt == "positions":
            human = load_positions_npz(src, args.joint_map, args.up, args.unit_scale, args.fps)
        else:
            ms = load_motion_set("deepmimic")
            urdf = Path(args.skeleton) if args.skeleton else raw_dir(ms) / ms.source["skeleton"]
            if not urdf.is_file():
                print(f"error: {urdf}: DeepMimic humanoid not on disk; run `sonic-motion fetch-data` or pass "
                      "--skeleton", file=sys.stderr)
                return 1
            human = load_deepmimic(src, DeepMimicSkeleton.from_urdf(urdf))
        human = tile_cycles(human, args.cycles)
        name = args.name if args.name and len(args.inputs) == 1 else human.name
        t0 = time.perf_counter()
        result = retargeter.retarget(human, name=name)
        path = save_clip(result.clip, out / f"{name}.npz")
        row = result.report.as_dict()
        row.update(source=str(src), scale=round(result.scale, 4), arm_scale=round(result.arm_scale, 4),
                   derived_joints=list(human.derived), seconds_to_retarget=round(time.perf_counter() - t0, 2),
                   **{k: v for k, v in human.info.items() if k in ("up_axis", "unit_scale", "cycles")})
        rows.append(row)
        print(f"wrote {path}")
        if args.plot is not None:
            plot_dir = Path(args.plot) if args.plot else out
            print(f"plot: {plot_retarget(result, plot_dir / f'{name}.png')}")
    with atomic_path(out / "retarget_report.json") as tmp:
        Path(tmp).write_text(json.dumps(rows, indent=1))
    _print_quality(rows, title=f"retargeted to the G1 ({out})")
    return 0


def _cmd_synth(args: argparse.Namespace) -> int:
    from rich.progress import track

    from sonic_deploy.motion.kinematics import Kinematics  # lazy: mujoco
    from sonic_deploy.motion.synth import MOTIONS, synthesize  # lazy: mujoco

    names = args.motions or list(MOTIONS)
    kin = Kinematics()
    out = Path(args.out)
    for name in track(names, description="synthesizing"):
        save_clip(synthesize(name, kin), out / f"{name}.npz")
    print(f"wrote {len(names)} clips to {out}")
    return _inspect_paths([out / f"{n}.npz" for n in names], plot_dir=None)


def _cmd_convert(args: argparse.Namespace) -> int:
    from sonic_deploy.motion.importers import import_beyondmimic_npz, import_csv, import_pkl  # lazy: mujoco

    src = Path(args.input)
    fmt = args.format or {".pkl": "pkl", ".csv": "csv", ".npz": "beyondmimic"}.get(src.suffix.lower())
    if fmt is None:
        print(f"error: {src}: cannot tell the format from the suffix; pass --format", file=sys.stderr)
        return 2
    if fmt == "pkl":
        clips = import_pkl(src, accept_limit_violations=args.accept_limit_violations)
    elif fmt == "csv":
        clips = [import_csv(src, fps=args.fps, accept_limit_violations=args.accept_limit_violations)]
    else:
        clips = [import_beyondmimic_npz(src, joint_order=args.joint_order,
                                        accept_limit_violations=args.accept_limit_violations)]
    out = Path(args.out)
    paths = [save_clip(c, out / f"{c.name}.npz") for c in clips]
    print(f"wrote {len(paths)} clip(s) to {out}")
    return _inspect_paths(paths, plot_dir=None)


def _inspect_paths(paths: list[Path], plot_dir: Path | None) -> int:
    from rich.console import Console
    from rich.table import Table

    from sonic_deploy.motion.kinematics import Kinematics  # lazy: mujoco
    from sonic_deploy.motion.retarget.quality import FloorGeometry, assess  # lazy: mujoco

    floor = FloorGeometry(Kinematics().model)
    table = Table(title="motion clips (limits: frames with a joint beyond its range; skate: foot speed while "
                        "within 5 mm of standing height)")
    for col in ("clip", "frames", "fps", "seconds", "root travel (m)", "pelvis z (m)", "max |joint vel|",
                "limit frames", "worst limit (rad)", "skate (cm/s)", "penetration (cm)", "smpl", "vr"):
        table.add_column(col, justify="right" if col != "clip" else "left")
    for path in paths:
        clip = load_clip(path)
        travel = float(np.linalg.norm(np.diff(clip.root_pos[:, :2], axis=0), axis=1).sum())
        z = clip.root_pos[:, 2]
        q = assess(clip, floor)
        worst = f"{q.worst_limit_excess:.2f} {q.worst_limit_joint.replace('_joint', '')}" if q.limit_violations else "0"
        table.add_row(clip.name, str(clip.num_frames), f"{clip.fps:g}", f"{clip.duration:.2f}", f"{travel:.2f}",
                      f"{z.min():.3f}-{z.max():.3f}", f"{np.abs(clip.joint_vel).max():.2f}",
                      f"{q.limit_frames_frac:.0%}", worst, f"{q.skate_cm_s:.2f}", f"{q.penetration_cm:.2f}",
                      "yes" if clip.smpl_joints is not None else "no", "yes" if clip.vr_pos is not None else "no")
        if plot_dir is not None:
            out = plot_clip(clip, plot_dir / f"{clip.name}.png")
            print(f"plot: {out}")
    Console(width=max(Console().width, 160)).print(table)
    return 0


def _cmd_export_embedded(args: argparse.Namespace) -> int:
    from sonic_deploy.policy.base import EmbeddedMotion  # lazy: the policy modules, ~15 ms
    from sonic_deploy.policy.contract import ContractError  # lazy: as above
    from sonic_deploy.policy.embedded import export_clip  # lazy: mujoco
    from sonic_deploy.policy.formats import load_policy  # lazy: onnxruntime, mujoco

    try:
        policy = load_policy(args.policy)
    except ContractError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    if not isinstance(policy, EmbeddedMotion):
        print(f"{args.policy}: a {policy.format} policy carries no motion (formats that do: beyondmimic, holosoma.wbt)",
              file=sys.stderr)
        return 2
    clip = export_clip(policy, Path(args.out).stem)
    save_clip(clip, args.out)
    print(f"{args.out}: {clip.num_frames} frames at {clip.fps:g} fps ({clip.duration:.2f} s) from {policy.format} "
          f"{args.policy}; evaluation material (the publisher's motion), not for training")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    plot_dir = None
    if args.plot is not None:
        plot_dir = Path(args.plot) if args.plot else Path("motion_plots")
    return _inspect_paths(find_clip_files(args.paths), plot_dir)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sonic-motion",
        description="Motion library tools: synthesize the built-in G1 test motions, convert outside data to the "
                    "canonical NPZ clip, inspect clips (summary table, --plot for PNGs), fetch the G1 model.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("synth", help="write the deterministic synthetic G1 motion set",
                       description="Write stand_idle, squat, arm_waves, torso_twist, step_in_place, walk_slow "
                                   "(50 fps, feet on the floor, within joint limits) as canonical NPZ clips.")
    s.add_argument("--out", default="motions/synthetic", help="output folder (default: motions/synthetic)")
    s.add_argument("motions", nargs="*", help="subset of motion names (default: all)")
    s.set_defaults(func=_cmd_synth)
    c = sub.add_parser("convert", help="import PKL / CSV / BeyondMimic NPZ into canonical clips",
                       description="Import the reference PKL (joblib, loaded without executing code), a "
                                   "LAFAN1-style G1 CSV (x y z qx qy qz qw + 29 joints per row) or a "
                                   "BeyondMimic/mjlab NPZ; forward kinematics fills bodies and velocities.")
    c.add_argument("input", help="source file")
    c.add_argument("--out", required=True, help="output folder for the NPZ clips")
    c.add_argument("--format", choices=["pkl", "csv", "beyondmimic"], help="source format (default: by suffix)")
    c.add_argument("--fps", type=float, default=30.0, help="frame rate of a CSV (default 30)")
    c.add_argument("--joint-order", choices=["auto", "isaaclab", "unitree"], default="auto",
                   help="joint order of a BeyondMimic-family NPZ without joint_names (a file's own joint_names "
                        "always win): isaaclab (BeyondMimic), unitree (mjlab), auto (the one that breaks fewer "
                        "joint limits; default)")
    c.add_argument("--accept-limit-violations", action="store_true",
                   help="import a clip even if most of its frames break the G1's joint limits (refused otherwise)")
    c.set_defaults(func=_cmd_convert)
    i = sub.add_parser("inspect", help="summary table of clips with limit, skate and penetration checks; --plot",
                       description="Validate clips and print a summary table: joint-limit violations, foot skate "
                                   "and floor penetration per clip; --plot [DIR] writes joint trajectories, the "
                                   "root path and heights as PNGs.")
    i.add_argument("paths", nargs="+", help="clip files, folders or globs")
    i.add_argument("--plot", nargs="?", const="", default=None, metavar="DIR",
                   help="write one PNG per clip into DIR (default motion_plots/)")
    i.set_defaults(func=_cmd_inspect)
    e = sub.add_parser("export-embedded", help="write a policy's embedded motion (BeyondMimic, holosoma tracking) "
                       "as a canonical clip: evaluation material, never training data")
    e.add_argument("policy")
    e.add_argument("out", help="output clip (.npz)")
    e.set_defaults(func=_cmd_export_embedded)
    f = sub.add_parser("fetch-robot", help="put the G1 MJCF and meshes on disk (once, from PyPI)",
                       description="Download the mjlab 1.6.0 wheel without installing it, verify its sha256 and "
                                   "unpack the G1 model into $SONIC_ASSET_DIR (default ~/.cache/sonic/assets).")
    f.add_argument("--force", action="store_true", help="fetch again even if present")
    f.add_argument("--wheel", help="use an already downloaded mjlab-1.6.0 wheel")
    f.set_defaults(func=_cmd_fetch_robot)
    d = sub.add_parser("fetch-data", help="the real motion set: DeepMimic mocap from PyPI, retargeted to the G1",
                       description="Download the pybullet 3.2.7 wheel without installing it, verify its sha256, "
                                   "unpack DeepMimic's motion clips and humanoid into $SONIC_ASSET_DIR/deepmimic, "
                                   "convert them by that humanoid's skeleton and retarget them to the G1 into "
                                   "train/, held_out/ and extra/ as configs/motion_sets/<set>.yaml says, with a "
                                   "quality table (quality.md, quality.json). Unchanged clips are not redone.")
    d.add_argument("--set", default="deepmimic", help="motion-set config name or YAML path (default deepmimic)")
    d.add_argument("--out", help="output folder (default ~/.cache/sonic/motions/<set>; SONIC_CACHE_DIR moves it)")
    d.add_argument("--wheel", help="use an already downloaded pybullet wheel (same sha256)")
    d.add_argument("--force", action="store_true", help="unpack and retarget again even if up to date")
    d.add_argument("--jobs", type=int, help="worker processes (default: CPU count)")
    d.add_argument("clips", nargs="*", help="subset of clip names (default: all)")
    d.set_defaults(func=_cmd_fetch_data)
    r = sub.add_parser("retarget", help="human motion (BVH, named joint positions, SMPL joints) -> G1 clips",
                       description="Retarget human motion to the G1: BVH (any skeleton; LAFAN1, CMU, Mixamo and "
                                   "SMPL joint names are mapped by default, --joint-map adds yours), an NPZ of "
                                   "named world joint positions (positions [T,J,3], joint_names, fps) or of "
                                   "SMPL-layout joints (joints [T,24,3], fps), or a DeepMimic .txt clip. Scales "
                                   "the subject to the G1, keeps planted feet flat and still, solves IK on the G1 "
                                   "model within joint and velocity limits; stores the human's joints as "
                                   "smpl_joints and VR 3-point targets from its head and hands. Prints a quality "
                                   "table and writes retarget_report.json; --plot draws human and G1 side by side.")
    r.add_argument("inputs", nargs="+", help="source files")
    r.add_argument("--out", required=True, help="output folder for the NPZ clips")
    r.add_argument("--format", choices=["auto", "bvh", "positions", "deepmimic"], default="auto",
                   help="source format (default: by suffix: .bvh, .npz, .txt)")
    r.add_argument("--joint-map", help="YAML of source joint name -> SMPL joint name, on top of the shipped map")
    r.add_argument("--up", choices=["auto", "x", "y", "z", "-y", "-z"], default="auto",
                   help="the source's up axis (default: detected from head above feet)")
    r.add_argument("--unit-scale", type=float, help="metres per source unit (default: 0.01 if the subject is "
                                                    "taller than 3 units, else 1)")
    r.add_argument("--fps", type=float, help="frame rate of a positions NPZ without an fps field")
    r.add_argument("--cycles", type=int, default=1, help="repeat a looping clip this many times (default 1)")
    r.add_argument("--skeleton", help="DeepMimic humanoid URDF (default: the one fetch-data unpacked)")
    r.add_argument("--name", help="clip name (one input only; default: the file name)")
    r.add_argument("--plot", nargs="?", const="", default=None, metavar="DIR",
                   help="write a human-vs-G1 PNG per clip into DIR (default: the output folder)")
    r.set_defaults(func=_cmd_retarget)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from sonic_deploy.motion.motion_sets import MotionSetError  # lazy: yaml (~10 ms at --help)

    try:
        return args.func(args)
    except (MotionFormatError, UnsafePickleError, FileNotFoundError, HumanMotionError, MotionSetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
