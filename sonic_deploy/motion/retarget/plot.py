"""Human and G1 side by side: stick figures at a few instants, foot heights with contacts, paths from above."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sonic_deploy.motion.retarget.skeleton import SMPL_INDEX

HUMAN_BONES = (
    ("pelvis", "left_hip"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("left_ankle", "left_foot"),
    ("pelvis", "right_hip"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
    ("right_ankle", "right_foot"), ("pelvis", "spine1"), ("spine1", "spine2"), ("spine2", "spine3"),
    ("spine3", "neck"), ("neck", "head"), ("neck", "left_collar"), ("left_collar", "left_shoulder"),
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("neck", "right_collar"),
    ("right_collar", "right_shoulder"), ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
)
G1_BONES = (
    ("pelvis", "left_hip_roll_link"), ("left_hip_roll_link", "left_knee_link"),
    ("left_knee_link", "left_ankle_roll_link"), ("pelvis", "right_hip_roll_link"),
    ("right_hip_roll_link", "right_knee_link"), ("right_knee_link", "right_ankle_roll_link"),
    ("pelvis", "torso_link"), ("torso_link", "left_shoulder_roll_link"),
    ("left_shoulder_roll_link", "left_elbow_link"), ("left_elbow_link", "left_wrist_yaw_link"),
    ("torso_link", "right_shoulder_roll_link"), ("right_shoulder_roll_link", "right_elbow_link"),
    ("right_elbow_link", "right_wrist_yaw_link"),
)


def plot_retarget(result, out: str | Path, snapshots: int = 5) -> Path:
    import matplotlib  # optional at import time: only plotting needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clip, human = result.clip, result.human
    T = clip.num_frames
    t = np.arange(T) / clip.fps
    frames = np.linspace(0, T - 1, snapshots).astype(int)
    fig = plt.figure(figsize=(3.2 * snapshots, 10), constrained_layout=True)
    grid = fig.add_gridspec(3, snapshots)
    body = {n: clip.body_names.index(n) for pair in G1_BONES for n in pair}
    for k, f in enumerate(frames):
        ax = fig.add_subplot(grid[0, k])
        # side view along the pelvis heading of this frame: forward (m) vs height (m)
        root = clip.root_pos[f]
        w, x, y, z = clip.root_quat[f]
        yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
        fwd = np.array([np.cos(yaw), np.sin(yaw)])

        def side(p, shift):
            return (p[..., :2] - root[:2]) @ fwd + shift, p[..., 2]

        for a, b in HUMAN_BONES:
            pa, pb = human.joints[f, SMPL_INDEX[a]], human.joints[f, SMPL_INDEX[b]]
            xs, zs = side(np.stack([pa, pb]), -0.45)
            ax.plot(xs, zs, color="tab:blue", lw=2)
        for a, b in G1_BONES:
            pa, pb = clip.body_pos_w[f, body[a]], clip.body_pos_w[f, body[b]]
            xs, zs = side(np.stack([pa, pb]), 0.45)
            ax.plot(xs, zs, color="tab:orange", lw=2.5)
        vx, vz = side(clip.vr_pos[f], -0.45)
        ax.plot(vx, vz, "k+", ms=8)
        ax.axhline(0.0, color="0.5", lw=1)
        ax.set_xlim(-1.0, 1.0)
        ax.set_ylim(-0.05, 1.45)
        ax.set_aspect("equal")
        ax.set_title(f"t = {t[f]:.2f} s  human (scaled) | G1", fontsize=9)
        ax.grid(alpha=0.3)
    ax = fig.add_subplot(grid[1, :3])
    feet = clip.body_pos_w[:, clip.body_index(("left_ankle_roll_link", "right_ankle_roll_link"))]
    for i, (side_name, color) in enumerate((("left", "tab:blue"), ("right", "tab:red"))):
        ax.plot(t, feet[:, i, 2], color=color, lw=1.5, label=f"G1 {side_name} ankle")
        ax.plot(t, human.joint(f"{side_name}_ankle")[:, 2], color=color, lw=1, ls="--",
                label=f"human {side_name} ankle (scaled)")
        ax.fill_between(t, 0, 0.02 + 0.02 * i, where=result.contacts[:, i], color=color, alpha=0.25,
                        step="mid", label=f"{side_name} planted")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("height (m)")
    ax.legend(fontsize=7, ncol=3)
    ax.grid(alpha=0.3)
    ax.set_title("feet: G1 ankles vs the human's, planted phases shaded")
    ax = fig.add_subplot(grid[1, 3:])
    ax.plot(t, result.fit_errors.mean(axis=1) * 1000, "k-", label="mean over keypoints")
    ax.plot(t, result.fit_errors.max(axis=1) * 1000, color="0.6", label="worst keypoint")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mm")
    ax.set_title("keypoint fit error")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax = fig.add_subplot(grid[2, :])
    ax.plot(human.joint("pelvis")[:, 0], human.joint("pelvis")[:, 1], color="tab:blue", lw=1, ls="--",
            label="human pelvis (scaled)")
    ax.plot(clip.root_pos[:, 0], clip.root_pos[:, 1], color="tab:orange", lw=1.5, label="G1 pelvis")
    for i, color in enumerate(("tab:blue", "tab:red")):
        planted = result.contacts[:, i]
        ax.plot(feet[planted, i, 0], feet[planted, i, 1], ".", color=color, ms=3,
                label=f"G1 {'left' if i == 0 else 'right'} foot, planted")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title("top view (m)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    r = result.report
    fig.suptitle(f"{clip.name}: fit {r.fit_error_mm:.1f} mm, skate {r.skate_cm_s:.2f} cm/s, penetration "
                 f"{r.penetration_cm:.2f} cm, limit violations {r.limit_violations}, scale {result.scale:.3f}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out
