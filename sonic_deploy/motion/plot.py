"""A picture of a clip: joint trajectories by limb group, the root path seen from above, and root height."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sonic_deploy.motion.clip import MotionClip

GROUPS = (("left leg", slice(0, 6)), ("right leg", slice(6, 12)), ("waist", slice(12, 15)),
          ("left arm", slice(15, 22)), ("right arm", slice(22, 29)))


def plot_clip(clip: MotionClip, out: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.arange(clip.num_frames) / clip.fps
    fig = plt.figure(figsize=(14, 9), constrained_layout=True)
    grid = fig.add_gridspec(3, 3)
    for k, (label, sl) in enumerate(GROUPS):
        ax = fig.add_subplot(grid[k // 3 if k < 3 else 1, k % 3 if k < 3 else k - 3])
        for j in range(sl.start, min(sl.stop, clip.joint_pos.shape[1])):
            ax.plot(t, clip.joint_pos[:, j], lw=1.2, label=clip.joint_names[j].replace("_joint", ""))
        ax.set_title(f"{label} joints (rad)")
        ax.set_xlabel("time (s)")
        ax.legend(fontsize=6, loc="upper right")
        ax.grid(alpha=0.3)
    ax = fig.add_subplot(grid[1, 2])
    root = clip.root_pos
    ax.plot(root[:, 0], root[:, 1], "k-", lw=1.5, label="pelvis")
    for name, color in (("left_ankle_roll_link", "tab:blue"), ("right_ankle_roll_link", "tab:red")):
        if name in clip.body_names:
            p = clip.body_pos_w[:, clip.body_names.index(name)]
            ax.plot(p[:, 0], p[:, 1], color=color, lw=1, label=name.split("_")[0] + " foot")
    ax.plot(*root[0, :2], "go", label="start")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title("root path, top view (m)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax = fig.add_subplot(grid[2, :])
    ax.plot(t, root[:, 2], "k-", label="pelvis height")
    for name, color in (("left_ankle_roll_link", "tab:blue"), ("right_ankle_roll_link", "tab:red")):
        if name in clip.body_names:
            ax.plot(t, clip.body_pos_w[:, clip.body_names.index(name), 2], color=color, label=name + " height")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("m")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.suptitle(f"{clip.name}: {clip.num_frames} frames at {clip.fps:g} fps ({clip.duration:.2f} s)")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
