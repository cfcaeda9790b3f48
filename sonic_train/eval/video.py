"""Headless MP4s of evaluated motions: the simulated robot and a translucent kinematic reference ghost.

MuJoCo's offscreen renderer (``MUJOCO_GL=egl``, else ``osmesa``) draws the robot from the evaluation env's
``MjData``; the ghost is a second ``MjData`` of the same model posed kinematically on the reference (root pose
and joint angles at the same time), shifted by ``ghost_offset`` (side by side; zeros overlay it), added to the
same ``mjvScene`` with ``mjv_addGeoms`` and drawn with alpha ``ghost_alpha`` in ``ghost_rgb``. Frames are
captured where terminations are judged (after physics, before a reset), one per control step.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def ensure_gl_backend() -> str:
    """Choose a headless GL backend: keep ``MUJOCO_GL``, else ``egl`` when libEGL loads, else ``osmesa``.

    MuJoCo reads ``MUJOCO_GL`` when it is first imported: the commands call this before importing it."""
    import ctypes
    import ctypes.util
    import sys

    if os.environ.get("MUJOCO_GL"):
        return os.environ["MUJOCO_GL"]
    chosen = "osmesa"
    for lib in ("EGL", "libEGL.so.1"):
        try:
            ctypes.CDLL(ctypes.util.find_library(lib) or lib)
            chosen = "egl"
            break
        except OSError:
            continue
    os.environ["MUJOCO_GL"] = chosen
    os.environ.setdefault("PYOPENGL_PLATFORM", chosen)
    if "mujoco" in sys.modules:
        print(f"warning: mujoco was imported before MUJOCO_GL was set; set MUJOCO_GL={chosen} for headless video",
              file=sys.stderr)
    return chosen


class GhostRenderer:
    """Render one robot ``MjData`` plus an optional reference ghost into RGB frames."""

    def __init__(self, model, width: int = 640, height: int = 480, ghost_alpha: float = 0.35,
                 ghost_rgb: Sequence[float] = (0.2, 0.6, 1.0), ghost_offset: Sequence[float] = (0.0, 0.9, 0.0),
                 distance: float = 3.2, azimuth: float = 160.0, elevation: float = -15.0, fast: bool = True):
        import copy

        import mujoco

        self.mujoco = mujoco
        self.fast = bool(fast)
        if self.fast:  # software GL (llvmpipe) is ~10x faster without MSAA, shadows and reflections
            model = copy.copy(model)
            model.vis.quality.offsamples = 0
            model.vis.quality.shadowsize = 0
        self.model = model
        width = min(int(width), int(model.vis.global_.offwidth))
        height = min(int(height), int(model.vis.global_.offheight))
        self.renderer = mujoco.Renderer(model, height, width)
        self.ghost = mujoco.MjData(model)
        self.ghost_rgba = np.array([*ghost_rgb, ghost_alpha], np.float32)
        self.ghost_offset = np.asarray(ghost_offset, np.float64)
        self.opt = mujoco.MjvOption()
        self.pert = mujoco.MjvPerturb()
        self.cam = mujoco.MjvCamera()
        self.cam.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.cam.distance, self.cam.azimuth, self.cam.elevation = distance, azimuth, elevation
        self.nj = model.nq - 7

    def pose_ghost(self, root_pos: np.ndarray, root_quat: np.ndarray, joint_pos: np.ndarray) -> None:
        g = self.ghost
        g.qpos[:3] = np.asarray(root_pos, np.float64) + self.ghost_offset
        g.qpos[3:7] = root_quat
        g.qpos[7:7 + len(joint_pos)] = joint_pos
        self.mujoco.mj_kinematics(self.model, g)

    def render(self, data, ghost: bool = True) -> np.ndarray:
        mj = self.mujoco
        root = np.asarray(data.qpos[:3], np.float64)
        self.cam.lookat[:] = root + (0.5 * self.ghost_offset if ghost else 0.0)
        self.cam.lookat[2] = max(root[2] - 0.1, 0.4)
        self.renderer.update_scene(data, camera=self.cam)
        if self.fast:
            self.renderer.scene.flags[mj.mjtRndFlag.mjRND_SHADOW] = 0
            self.renderer.scene.flags[mj.mjtRndFlag.mjRND_REFLECTION] = 0
        if ghost:
            scn = self.renderer.scene
            n0 = scn.ngeom
            mj.mjv_addGeoms(self.model, self.ghost, self.opt, self.pert, int(mj.mjtCatBit.mjCAT_DYNAMIC), scn)
            for i in range(n0, scn.ngeom):
                scn.geoms[i].rgba[:] = self.ghost_rgba
        return self.renderer.render().copy()

    def close(self) -> None:
        self.renderer.close()


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
            self.renderer.pose_ghost(ref.root_pos_w[e].cpu().numpy(), ref.root_quat_w[e].cpu().numpy(),
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
