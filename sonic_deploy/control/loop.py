"""Fixed-rate loop on the monotonic clock: sleep until shortly before the deadline, then spin.

Overruns (a cycle that starts more than ``overrun_tolerance`` after its deadline) are counted and the
schedule is re-anchored instead of bursting to catch up. Period statistics come from the measured start
times of consecutive cycles.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class LoopStats:
    periods: list = field(default_factory=list)  # measured start-to-start periods (s)
    compute: list = field(default_factory=list)  # time spent in the body (s)
    overruns: int = 0
    missed: int = 0  # deadlines skipped entirely

    def summary(self, nominal: float) -> dict:
        p = np.asarray(self.periods) if self.periods else np.array([nominal])
        c = np.asarray(self.compute) if self.compute else np.zeros(1)
        jitter = np.abs(p - nominal)
        return {"cycles": len(self.periods) + 1 if self.periods else 0, "period_mean_ms": 1e3 * float(p.mean()),
                "period_p50_ms": 1e3 * float(np.percentile(p, 50)), "period_p99_ms": 1e3 * float(np.percentile(p, 99)),
                "period_max_ms": 1e3 * float(p.max()), "jitter_p50_ms": 1e3 * float(np.percentile(jitter, 50)),
                "jitter_p99_ms": 1e3 * float(np.percentile(jitter, 99)), "jitter_max_ms": 1e3 * float(jitter.max()),
                "compute_p50_ms": 1e3 * float(np.percentile(c, 50)), "compute_p99_ms": 1e3 * float(np.percentile(c, 99)),
                "overruns": self.overruns, "missed": self.missed}


class RateLoop:
    def __init__(self, rate_hz: float, *, spin_s: float = 0.002, overrun_tolerance: float | None = None,
                 clock=time.monotonic, sleep=time.sleep):
        self.period = 1.0 / rate_hz
        self.spin_s = spin_s
        self.tol = overrun_tolerance if overrun_tolerance is not None else 0.5 * self.period
        self.clock = clock
        self.sleep = sleep
        self.stats = LoopStats()
        self._deadline: float | None = None
        self._last_start: float | None = None

    def wait(self) -> float:
        """Block until the next cycle's start; returns its start time."""
        now = self.clock()
        if self._deadline is None:
            self._deadline = now
        else:
            self._deadline += self.period
            late = now - self._deadline
            if late > self.tol:
                self.stats.overruns += 1
                skipped = int(late // self.period)
                self.stats.missed += skipped
                self._deadline += skipped * self.period
                if now - self._deadline > self.tol:
                    self._deadline = now
            remaining = self._deadline - now
            if remaining > self.spin_s:
                self.sleep(remaining - self.spin_s)
            while self.clock() < self._deadline:
                pass
        start = self.clock()
        if self._last_start is not None:
            self.stats.periods.append(start - self._last_start)
        self._last_start = start
        return start

    def done(self, start: float) -> None:
        self.stats.compute.append(self.clock() - start)

    def run(self, body, duration: float, *, freeze_gc: bool = True) -> LoopStats:
        """Run ``body(start_time)`` every period for ``duration`` seconds. ``freeze_gc`` moves everything
        allocated so far out of the collector's reach and disables automatic collection during the loop (the
        loop allocates only short-lived arrays, freed by reference counting), so no collection pause lands in
        a cycle; the collector is restored afterwards."""
        was_enabled = gc.isenabled()
        if freeze_gc:
            gc.collect()
            gc.freeze()
            gc.disable()
        t0 = None
        try:
            while True:
                start = self.wait()
                t0 = start if t0 is None else t0
                if start - t0 >= duration:
                    break
                body(start)
                self.done(start)
        finally:
            if freeze_gc:
                gc.unfreeze()
                if was_enabled:
                    gc.enable()
        return self.stats
