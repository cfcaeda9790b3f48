"""Motor temperature and fault monitoring (controller side) and a first-order motor heating model (bridge side).

Monitor, per joint, on every controller step (the temperature is the larger of the two values the G1 reports
in ``motor_state[i].temperature``; the fault bits are ``motor_state[i].motorstate``):

* ``T >= warn``: a warning (logged once per joint and crossing, kept in :attr:`ThermalMonitor.warnings`,
  reported in :meth:`status`), and, where ``derate`` is set for the joint, a derate scale that falls linearly
  from 1 at ``warn`` to ``derate_floor`` at ``limit``, moving at most ``derate_rate`` per second (so the gains
  never jump). The controller multiplies that joint's kp and its torque limit by the scale;
* ``T >= limit`` or ``motorstate & motor_fault_mask``: a fault (``motor_overtemperature`` / ``motor_fault``),
  which the controller turns into damping with the cause.

:meth:`summary` gives the session's peak temperature per joint.

Model (the MuJoCo bridge): dT/dt = (k tau^2 - (T - T_ambient)) / time_constant per joint, with tau the joint's
actuator torque; ``speedup`` multiplies the rate (an accelerated model for tests, stated where used).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from sonic_deploy.control.safety import Fault

log = logging.getLogger("sonic_deploy.control.thermal")


def _per_joint(value, n: int, name: str, dtype=np.float64) -> np.ndarray:
    arr = np.asarray(value, dtype)
    if arr.ndim == 0:
        return np.full(n, arr, dtype)
    if arr.shape != (n,):
        raise ValueError(f"thermal.{name}: expected a number or {n} per-joint values, got shape {arr.shape}")
    return arr.copy()


@dataclass
class ThermalConfig:
    """Thresholds in deg C (a number for every joint or one value per joint, Unitree order). The field
    configuration (``thermal:`` in sonic_deploy/config/g1_field.yaml) and the ROS 2 parameter file mirror these
    defaults. Unitree publishes no temperature limits for the G1's joint motors: these are conservative
    engineering values, well below the 120-155 C insulation classes of small BLDC windings."""

    warn: float | list = 70.0
    limit: float | list = 90.0
    derate: bool | list = True  # derate this joint between warn and limit
    derate_floor: float = 0.5  # kp and torque-limit scale reached at the limit
    derate_rate: float = 0.25  # largest change of the scale per second
    motor_fault_mask: int = 0xFFFFFFFF  # motorstate bits that count as a motor fault

    def arrays(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        warn, limit = _per_joint(self.warn, n, "warn"), _per_joint(self.limit, n, "limit")
        if (limit <= warn).any():
            i = int(np.argmax(limit <= warn))
            raise ValueError(f"thermal: limit ({limit[i]}) must be above warn ({warn[i]}) for joint {i}")
        if not 0.0 < self.derate_floor <= 1.0 or self.derate_rate <= 0:
            raise ValueError("thermal: derate_floor in (0, 1] and derate_rate > 0")
        return warn, limit, _per_joint(self.derate, n, "derate", bool)


class ThermalMonitor:
    def __init__(self, cfg: ThermalConfig, joint_names):
        self.cfg = cfg
        self.names = tuple(joint_names)
        n = len(self.names)
        self.warn, self.limit, self.derate_mask = cfg.arrays(n)
        self.scale = np.ones(n)
        self.peak = np.full(n, -np.inf)
        self.temperature = np.full(n, np.nan)
        self.warnings: list[Fault] = []
        self._warned = np.zeros(n, bool)
        self._last_now: float | None = None
        self.min_scale = 1.0
        self._cool = self.warn - 2.0  # below this a warned motor may warn again
        self._nominal = True  # no warning latched, every scale exactly 1: the cool path may skip the rest

    def target_scale(self, temperature: np.ndarray) -> np.ndarray:
        frac = np.clip((temperature - self.warn) / (self.limit - self.warn), 0.0, 1.0)
        return np.where(self.derate_mask, 1.0 - (1.0 - self.cfg.derate_floor) * frac, 1.0)

    def update(self, temperature: np.ndarray, motor_error: np.ndarray | None, now: float) -> Fault | None:
        t = np.asarray(temperature, np.float64)
        self.temperature = t.copy()
        np.fmax(self.peak, t, out=self.peak)
        if motor_error is not None and np.any(motor_error):
            bits = np.asarray(motor_error, np.uint64) & np.uint64(self.cfg.motor_fault_mask)
            if bits.any():
                i = int(np.argmax(bits != 0))
                return Fault("motor_fault", self.names[i], float(bits[i]), now, f"motorstate bits 0x{int(bits[i]):08x}")
        if (t >= self.limit).any():
            i = int(np.argmax(t - self.limit))
            return Fault("motor_overtemperature", self.names[i], float(t[i]), now, f"limit {self.limit[i]:.1f} C")
        dt = 0.0 if self._last_now is None else max(0.0, now - self._last_now)
        self._last_now = now
        if self._nominal and (t < self._cool).all():
            return None  # every motor below its warning hysteresis, nothing warned or derated: nothing changes
        hot = t >= self.warn
        for i in np.flatnonzero(hot & ~self._warned):
            w = Fault("motor_temperature_warning", self.names[i], float(t[i]), now,
                      f"warn {self.warn[i]:.1f} C, limit {self.limit[i]:.1f} C" + (", derating" if self.derate_mask[i] else ""))
            self.warnings.append(w)
            log.warning("%s", w)
        self._warned = hot | (self._warned & (t >= self._cool))  # 2 C hysteresis before warning again
        step = self.cfg.derate_rate * dt
        self.scale = np.clip(self.target_scale(t), self.scale - step, self.scale + step)
        self.min_scale = min(self.min_scale, float(self.scale.min()))
        self._nominal = not self._warned.any() and bool((self.scale == 1.0).all())
        return None

    @property
    def derating(self) -> bool:
        return bool((self.scale < 1.0 - 1e-9).any())

    def status(self) -> dict:
        hot = np.flatnonzero(self.temperature >= self.warn)
        return {"max_temperature": float(np.nanmax(self.temperature)) if np.isfinite(self.temperature).any() else None,
                "hottest_joint": self.names[int(np.nanargmax(self.temperature))] if np.isfinite(self.temperature).any() else None,
                "warning_joints": [self.names[i] for i in hot],
                "derate": {self.names[i]: float(self.scale[i]) for i in np.flatnonzero(self.scale < 1.0 - 1e-9)}}

    def summary(self) -> dict:
        """Peak temperature per joint over the session, and the warnings raised."""
        return {"peak_temperature": {n: (float(p) if np.isfinite(p) else None) for n, p in zip(self.names, self.peak)},
                "warnings": [str(w) for w in self.warnings], "min_derate_scale": float(self.min_scale)}


@dataclass
class ThermalModelConfig:
    """Bridge heating model. Defaults are order-of-magnitude values, not identified on a G1: a 10 Nm continuous
    load raises a winding by 10 C at steady state (k = 0.1 C/Nm^2), with a 5-minute time constant."""

    ambient: float = 35.0
    k: float | list = 0.1  # C per Nm^2 at steady state
    time_constant: float | list = 300.0  # s
    speedup: float = 1.0  # > 1: accelerated heating (tests)
    initial: float | list | None = None  # C at start (None: ambient)


class ThermalModel:
    def __init__(self, cfg: ThermalModelConfig, n: int):
        self.cfg = cfg
        self.k = _per_joint(cfg.k, n, "k")
        self.tc = _per_joint(cfg.time_constant, n, "time_constant")
        self.temperature = _per_joint(cfg.ambient if cfg.initial is None else cfg.initial, n, "initial")

    def step(self, tau: np.ndarray, dt: float) -> np.ndarray:
        """Advance by ``dt`` seconds with joint torques ``tau`` (exact for constant torque over the step)."""
        steady = self.cfg.ambient + self.k * np.square(np.asarray(tau, np.float64))
        a = np.exp(-dt * self.cfg.speedup / self.tc)
        self.temperature = steady + (self.temperature - steady) * a
        return self.temperature
