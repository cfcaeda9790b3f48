"""Retargeting of the real motion set: per-clip quality, time per clip, and human-vs-G1 plots of chosen clips.

    .venv/bin/python benchmarks/retarget_quality.py [--fresh] [--plot dm_walker_walk_forward dm_spinkick]

--fresh retargets every clip again into a temporary folder (the wall time of `sonic-motion fetch-data` with the
wheel already unpacked); without it the cached set's quality table is printed. Plots go to motion_plots/retarget/.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sonic_deploy.cli.motion import _print_quality
from sonic_deploy.motion.deepmimic import fetch_data, raw_dir
from sonic_deploy.motion.motion_sets import load_motion_set
from sonic_deploy.motion.retarget.deepmimic import DeepMimicSkeleton, load_deepmimic
from sonic_deploy.motion.retarget.pipeline import Retargeter
from sonic_deploy.motion.retarget.plot import plot_retarget
from sonic_deploy.motion.retarget.skeleton import tile_cycles


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fresh", action="store_true")
    p.add_argument("--plot", nargs="*", default=[], help="clip names to plot")
    p.add_argument("--plot-dir", default="motion_plots/retarget")
    args = p.parse_args()
    t0 = time.perf_counter()
    if args.fresh:
        with tempfile.TemporaryDirectory() as tmp:
            out, rows = fetch_data(out=Path(tmp), force=False)
    else:
        out, rows = fetch_data()
    wall = time.perf_counter() - t0
    _print_quality(rows, title=f"real motion set -> G1 ({'fresh' if args.fresh else 'cached'}, {wall:.1f} s)")
    total = sum(r.get("seconds_to_retarget", 0.0) for r in rows)
    print(f"wall {wall:.1f} s; per-clip retargeting times sum to {total:.1f} s over {len(rows)} clips")
    ms = load_motion_set("deepmimic")
    skeleton = DeepMimicSkeleton.from_urdf(raw_dir(ms) / ms.source["skeleton"])
    retargeter = Retargeter() if args.plot else None
    for name in args.plot:
        entry = ms.clips[name]
        human = tile_cycles(load_deepmimic(raw_dir(ms) / ms.source["motions_dir"] / entry.file, skeleton, name=name),
                            min(entry.cycles, 2))
        result = retargeter.retarget(human, name=name)
        print(f"plot: {plot_retarget(result, Path(args.plot_dir) / f'{name}.png')}")


if __name__ == "__main__":
    main()
