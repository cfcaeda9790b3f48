"""``sonic-motion``: make, convert, inspect and plot motion clips; fetch the G1 model."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def _cmd_fetch_robot(args: argparse.Namespace) -> int:
    from sonic_deploy.robots.assets import fetch_g1

    path = fetch_g1(force=args.force, wheel=Path(args.wheel) if args.wheel else None)
    print(f"G1 model ready: {path}")
    return 0


def _cmd_fetch_data(args: argparse.Namespace) -> int:
    from sonic_deploy.motion.deepmimic import fetch_data

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


def _cmd_synth(args: argparse.Namespace) -> int:
    from rich.progress import track

    from sonic_deploy.motion.clip import save_clip
    from sonic_deploy.motion.kinematics import Kinematics
    from sonic_deploy.motion.synth import MOTIONS, synthesize

    names = args.motions or list(MOTIONS)
    kin = Kinematics()
    out = Path(args.out)
    for name in track(names, description="synthesizing"):
        save_clip(synthesize(name, kin), out / f"{name}.npz")
    print(f"wrote {len(names)} clips to {out}")
    return _inspect_paths([out / f"{n}.npz" for n in names], plot_dir=None)


def _cmd_convert(args: argparse.Namespace) -> int:
    from sonic_deploy.motion.clip import save_clip
    from sonic_deploy.motion.importers import import_beyondmimic_npz, import_csv, import_pkl

    src = Path(args.input)
    fmt = args.format or {".pkl": "pkl", ".csv": "csv", ".npz": "beyondmimic"}.get(src.suffix.lower())
    if fmt is None:
        print(f"error: {src}: cannot tell the format from the suffix; pass --format", file=sys.stderr)
        return 2
    if fmt == "pkl":
        clips = import_pkl(src)
    elif fmt == "csv":
        clips = [import_csv(src, fps=args.fps)]
    else:
        clips = [import_beyondmimic_npz(src, joint_order=args.joint_order)]
    out = Path(args.out)
    paths = [save_clip(c, out / f"{c.name}.npz") for c in clips]
    print(f"wrote {len(paths)} clip(s) to {out}")
    return _inspect_paths(paths, plot_dir=None)


def _inspect_paths(paths: list[Path], plot_dir: Path | None) -> int:
    from rich.console import Console
    from rich.table import Table

    from sonic_deploy.motion.clip import load_clip
    from sonic_deploy.motion.plot import plot_clip

    table = Table(title="motion clips")
    for col in ("clip", "frames", "fps", "seconds", "root travel (m)", "pelvis z (m)", "max |joint vel|", "smpl", "vr"):
        table.add_column(col, justify="right" if col != "clip" else "left")
    for path in paths:
        clip = load_clip(path)
        travel = float(np.linalg.norm(np.diff(clip.root_pos[:, :2], axis=0), axis=1).sum())
        z = clip.root_pos[:, 2]
        table.add_row(clip.name, str(clip.num_frames), f"{clip.fps:g}", f"{clip.duration:.2f}", f"{travel:.2f}",
                      f"{z.min():.3f}-{z.max():.3f}", f"{np.abs(clip.joint_vel).max():.2f}",
                      "yes" if clip.smpl_joints is not None else "no", "yes" if clip.vr_pos is not None else "no")
        if plot_dir is not None:
            out = plot_clip(clip, plot_dir / f"{clip.name}.png")
            print(f"plot: {out}")
    Console().print(table)
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from sonic_deploy.motion.library import find_clip_files

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
    c.add_argument("--joint-order", choices=["isaaclab", "unitree"], default="isaaclab",
                   help="joint order of a BeyondMimic NPZ (default isaaclab; mjlab files use unitree)")
    c.set_defaults(func=_cmd_convert)
    i = sub.add_parser("inspect", help="summary table of clips; --plot writes a PNG per clip",
                       description="Validate clips and print a summary table; --plot [DIR] writes joint "
                                   "trajectories, the root path and heights as PNGs.")
    i.add_argument("paths", nargs="+", help="clip files, folders or globs")
    i.add_argument("--plot", nargs="?", const="", default=None, metavar="DIR",
                   help="write one PNG per clip into DIR (default motion_plots/)")
    i.set_defaults(func=_cmd_inspect)
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
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from sonic_deploy.motion.clip import MotionFormatError
    from sonic_deploy.motion.safe_pickle import UnsafePickleError

    try:
        return args.func(args)
    except (MotionFormatError, UnsafePickleError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
