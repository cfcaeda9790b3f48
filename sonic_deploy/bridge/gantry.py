"""Virtual gantry: an elastic band on the torso that holds the simulated G1 until it is released.

A real G1 starts hanging in its frame: the motors come up (damping, then the ramp to the default pose) while the
harness carries the weight, and the operator lowers it once the robot stands under its own PD. Unitree's MuJoCo
simulator does the same with an elastic band on the torso. Without it the free-running bridge's G1 collapses the
moment the bridge starts, long before a controller (a ROS 2 node started later, say) has sent a command.

The band is a spring-damper from the torso (where a G1's harness hooks on, and where Unitree's simulator attaches
its band) to the torso's start position: vertical (one-sided, a rope only pulls), horizontal, and rotational (the
harness keeps the torso upright, yaw free), applied as an external wrench each physics step. The pelvis and legs hang
below it, a stable pendulum even with limp motors (held at the pelvis instead, the limp waist lets the torso fold
over within 0.15 s). It holds the torso at its standing height, so a release with the robot standing in the default
pose drops it by nothing.

A release lowers the robot: the band's wrench fades out over ``lower_s`` seconds of physics time, as an operator
lowers a crane, instead of vanishing in one step. Hanging at its standing height, the robot's feet only touch the
floor: the band still carries about 300 N of its 343 N when the legs are stiff, and a rope cut in one step drops all
of it on the PD at once. That step set the held G1 pitching and tipped it over in about half of the start-up
timings measured (robot released anywhere in the ramp, 1-2 s later a fall); faded over 1 s it stood in all of them
(``tests/deploy/test_bridge.py``).

Release (``GantryConfig.release``):

* ``auto`` (the free-running default): when the controller is holding the robot up itself, inferred from the LowCmd_
  stream: every leg motor enabled with kp >= ``stiff_kp_fraction`` of the tracking gains, its target within
  ``pose_tolerance`` rad of the default pose, for ``stiff_hold_s`` seconds. That is the end of the controller's ramp
  (and any active policy standing near the default pose), the moment an operator lowers a real robot. A timer
  would drop the robot on a controller that may not be up yet (a node started after the bridge); a manual release
  needs a person, which CI has not. ``auto`` needs nothing and waits for any controller, however late.
* ``timer``: after ``release_after_s`` seconds of wall time;
* ``manual``: only by :meth:`Gantry.release` (the bridge's stdin: ``release``; ``hold`` hangs it up again);
* ``off``: no band (lock-step runs, where the controller's first command comes at tick 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from sonic_deploy.robots.g1 import RobotSpec
from sonic_deploy.utils.easing import smoothstep

RELEASES = ("auto", "timer", "manual", "off")


@dataclass
class GantryConfig:
    release: str = "auto"
    release_after_s: float = 5.0  # timer
    body: str = "torso_link"
    stiffness: float = 10000.0  # N/m: the G1's 35 kg hang 3.4 cm below the band's point
    damping: float = 1000.0  # N s/m, about critical for the hanging robot
    # N m/rad and N m s/rad, torso roll/pitch back to upright; the torso's own inertia (about 0.11 kg m^2) bounds the
    # damping an explicit 5 ms step keeps stable (80 diverges within 0.2 s)
    rot_stiffness: float = 100.0
    rot_damping: float = 10.0
    stiff_kp_fraction: float = 0.5  # auto: leg kp at least this fraction of the tracking kp ...
    pose_tolerance: float = 0.1  # ... targets within this of the default pose (rad) ...
    stiff_hold_s: float = 0.25  # ... for this long
    lower_s: float = 1.0  # a release fades the band's wrench out over this long (physics time; 0: cut at once)

    def __post_init__(self):
        if self.release not in RELEASES:
            raise ValueError(f"gantry release: expected one of {RELEASES}, got {self.release!r}")


class Gantry:
    """Band wrench on the torso plus the release logic; the bridge calls :meth:`observe` per command and
    :meth:`apply` before every physics step."""

    def __init__(self, cfg: GantryConfig, spec: RobotSpec, model: mujoco.MjModel, data: mujoco.MjData):
        self.cfg = cfg
        self.spec = spec
        self.model = model
        self.data = data
        self.body = model.body(cfg.body).id
        # the body's standing position at start, raised by the band's stretch under the robot's whole weight: hanging,
        # the robot sits at its standing height, so the release drops it by nothing
        weight = float(model.body_subtreemass[0]) * float(np.linalg.norm(model.opt.gravity))
        self.anchor = data.xpos[self.body].copy() + np.array([0.0, 0.0, weight / cfg.stiffness])
        self.engaged = cfg.release != "off"
        self.released_at: float | None = None  # seconds since the bridge started
        self._lower_from: float | None = None  # physics time at which the release began lowering the robot
        self.reason: str | None = None
        self._stiff_since: float | None = None
        legs = np.arange(12)
        self._legs = legs
        self._kp_min = cfg.stiff_kp_fraction * np.asarray(spec.kp)[legs]
        self._q0 = np.asarray(spec.default_joint_pos)[legs]

    def release(self, t: float, reason: str = "command") -> None:
        if self.engaged:
            self.engaged = False
            self.released_at = t
            self.reason = reason
            self._lower_from = float(self.data.time)
            if self.cfg.lower_s <= 0.0:
                self._finish_lowering()

    @property
    def acting(self) -> bool:
        """The band pulls on the robot: hanging, or lowering it after a release."""
        return self.engaged or self._lower_from is not None

    def _finish_lowering(self) -> None:
        self._lower_from = None
        self.data.xfrc_applied[self.body] = 0.0

    def hold(self) -> None:
        """Hang the robot up again (at the band's original point)."""
        if self.cfg.release != "off":
            self.engaged = True
            self._stiff_since = None
            self._lower_from = None
            self.released_at = self.reason = None

    def observe(self, t: float, enabled: np.ndarray, q: np.ndarray, kp: np.ndarray) -> None:
        """One received command (motor enable, target, kp over the spec's joints) at bridge time ``t``."""
        if not self.engaged:
            return
        if self.cfg.release == "timer":
            if t >= self.cfg.release_after_s:
                self.release(t, f"timer ({self.cfg.release_after_s:g} s)")
            return
        if self.cfg.release != "auto":
            return
        legs = self._legs
        stiff = (bool(np.all(enabled[legs])) and bool(np.all(kp[legs] >= self._kp_min))
                 and float(np.max(np.abs(q[legs] - self._q0))) <= self.cfg.pose_tolerance)
        if not stiff:
            self._stiff_since = None
            return
        if self._stiff_since is None:
            self._stiff_since = t
        if t - self._stiff_since >= self.cfg.stiff_hold_s:
            self.release(t, "controller stiff at the standing pose")

    def tick(self, t: float) -> None:
        """Wall-clock check for the timer (called by the bridge loop, commands or not)."""
        if self.engaged and self.cfg.release == "timer" and t >= self.cfg.release_after_s:
            self.release(t, f"timer ({self.cfg.release_after_s:g} s)")

    def apply(self) -> None:
        """Write the band's wrench into ``xfrc_applied`` of the band's body: full while hanging, fading while
        lowering, zero once the robot stands on its own."""
        if not self.acting:
            return
        scale = 1.0
        if not self.engaged:
            frac = (float(self.data.time) - self._lower_from) / self.cfg.lower_s
            if frac >= 1.0:
                self._finish_lowering()
                return
            scale = 1.0 - smoothstep(frac)
        c = self.cfg
        d = self.data
        pos = d.xpos[self.body]
        vel = np.zeros(6)
        mujoco.mj_objectVelocity(self.model, d, mujoco.mjtObj.mjOBJ_BODY, self.body, vel, 0)  # world frame [rot, lin]
        w, v = vel[:3], vel[3:]
        err = self.anchor - pos
        f = c.stiffness * err - c.damping * v
        f[2] = max(f[2], 0.0)  # a rope only pulls
        # roll/pitch back to upright: rotation taking the body's z axis onto the world z axis (yaw left free)
        z = d.xmat[self.body].reshape(3, 3)[:, 2]
        axis = np.cross(z, np.array([0.0, 0.0, 1.0]))
        s = np.linalg.norm(axis)
        angle = np.arctan2(s, z[2])
        rot = axis / s * angle if s > 1e-9 else np.zeros(3)
        torque = c.rot_stiffness * rot - c.rot_damping * np.array([w[0], w[1], 0.0])
        d.xfrc_applied[self.body, :3] = scale * f
        d.xfrc_applied[self.body, 3:] = scale * torque
