"""Headless rendering of the G1: a robot ``MjData`` and an optional translucent reference ghost, offscreen.

MuJoCo's offscreen renderer (``MUJOCO_GL=egl``, else ``osmesa``) draws the robot; the ghost is a second
``MjData`` of the same model posed kinematically on the reference (root pose and joint angles), shifted by
``ghost_offset`` (side by side; zeros overlay it), added to the same ``mjvScene`` with ``mjv_addGeoms`` and drawn
with alpha. Used by ``sonic-deploy sim2sim --video`` and by ``sonic-eval`` videos (torch-free, so both can).
"""

from __future__ import annotations

import copy
import ctypes
import ctypes.util
import os
import sys
from collections.abc import Sequence

import numpy as np


def ensure_gl_backend() -> str:
    """Choose a headless GL backend: keep ``MUJOCO_GL``, else ``egl`` when libEGL loads, else ``osmesa``.

    MuJoCo reads ``MUJOCO_GL`` when it is first imported: the commands call this before importing it."""
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
