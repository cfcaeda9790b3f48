"""Training curves of one or more experiment folders (TensorBoard scalars) as one PNG.

    .venv/bin/python scripts/plot_training.py logs/run_a logs/run_b --out curve.png

Runs are drawn in the order given, so a resumed run continues its parent's curve.
"""

from __future__ import annotations

import argparse
from pathlib import Path

PANELS = (("train/mean_episode_length", "mean episode length (steps)"), ("train/mean_reward", "mean episode reward"),
          ("resample/failure_rate", "motion failure rate"), ("episode/curriculum/event_level", "randomisation level"),
          ("loss/aux/g1_recon", "g1_kin reconstruction loss"), ("perf/fps", "env steps/s"),
          ("episode/termination/motion_end", "episodes reaching the clip end"),
          ("episode/curriculum/foot_xyz_threshold", "foot termination threshold (m)"))


def load(run: Path) -> dict[str, tuple[list[int], list[float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0})
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    return {tag: ([e.step for e in acc.Scalars(tag)], [e.value for e in acc.Scalars(tag)])
            for tag, _ in PANELS if tag in tags}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--out", type=Path, default=Path("training_curve.png"))
    p.add_argument("--title", default="sonic-train, CPU MuJoCo backend")
    args = p.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(19, 7.5), constrained_layout=True)
    for run in args.runs:
        data = load(run)
        for ax, (tag, title) in zip(axes.flat, PANELS):
            if tag in data:
                ax.plot(*data[tag], lw=1, label=run.name)
                ax.set_title(title)
                ax.set_xlabel("iteration")
                ax.grid(alpha=0.3)
    for ax in axes.flat:
        if ax.lines:
            ax.legend(fontsize=7)
    fig.suptitle(args.title)
    fig.savefig(args.out, dpi=90)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
