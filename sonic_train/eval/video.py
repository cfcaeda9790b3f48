"""Headless MP4s of evaluated motions: the simulated robot and a translucent kinematic reference ghost.

MuJoCo's offscreen renderer (``MUJOCO_GL=egl``, else ``osmesa``) draws the robot from the evaluation env's
``MjData``; the ghost is a second ``MjData`` of the same model posed kinematically on the reference (root pose
and joint angles at the same time), shifted by ``ghost_offset`` (side by side; zeros overlay it), added to the
same ``mjvScene`` with ``mjv_addGeoms`` and drawn with alpha ``ghost_alpha`` in ``ghost_rgb``. Frames are
captured where terminations are judged (after physics, before a reset), one per control step.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from sonic_deploy.render import GhostRenderer, ensure_gl_backend


class EvalVideoRecorder:
    """Step hook for :class:`~sonic_train.eval.evaluator.Evaluator`: one video per env's first episode."""

    def __init__(self, evaluator, out_dir: str | os.PathLike, video_cfg: Any = None):
        cfg = dict(video_cfg or {})
        ensure_gl_backend()
        self.ev = evaluator
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        be = evaluator.tenv.backend
        self.backend = be
        self.ghost = bool(cfg.get("ghost", True))
        self.max_frames = int(float(cfg.get("max_seconds", 20.0)) / evaluator.tenv.step_dt)
        self.fps = float(cfg.get("fps", 0) or round(1.0 / evaluator.tenv.step_dt))
        self.renderer = GhostRenderer(be.model, width=cfg.get("width", 640), height=cfg.get("height", 480),
                                      ghost_alpha=float(cfg.get("ghost_alpha", 0.35)),
                                      ghost_offset=tuple(cfg.get("ghost_offset", (0.0, 0.9, 0.0))),
                                      fast=bool(cfg.get("fast", True)))
        n = evaluator.env.num_envs
        self.frames: list[list[np.ndarray]] = [[] for _ in range(n)]
        self.clip_of: list[str | None] = [None] * n
        self.paths: dict[str, Path] = {}
        evaluator.step_hooks.append(self)

    def _frame(self, tenv, e: int) -> np.ndarray:
        ref = tenv.command.ref
        if self.ghost:
            self.renderer.pose_ghost(ref.root_pos[e].cpu().numpy(), ref.root_quat[e].cpu().numpy(),
                                     ref.joint_pos[e].cpu().numpy())
        return self.renderer.render(self.backend.datas[e], ghost=self.ghost)

    def __call__(self, tenv, active) -> None:
        lib = tenv.command.library
        for e in range(tenv.num_envs):
            if not bool(active[e]):
                continue
            if self.clip_of[e] is None:
                self.clip_of[e] = lib.names[int(tenv.command.clip_ids[e])]
            if len(self.frames[e]) < self.max_frames:
                self.frames[e].append(self._frame(tenv, e))
            ended = bool(tenv.termination_manager.terminated[e] | tenv.termination_manager.time_outs[e])
            if ended:
                self._write(e)

    def _write(self, e: int) -> None:
        import imageio.v2 as imageio

        name = self.clip_of[e]
        path = self.out_dir / f"{name}.mp4"
        tmp = path.with_name(f".{path.stem}.tmp.mp4")
        with imageio.get_writer(str(tmp), fps=self.fps, codec="libx264", quality=7, macro_block_size=8,
                                ffmpeg_log_level="error") as w:
            for f in self.frames[e]:
                w.append_data(f)
        os.replace(tmp, path)
        self.paths[name] = path
        self.frames[e] = []
        self.clip_of[e] = None

    def close(self) -> None:
        self.renderer.close()
