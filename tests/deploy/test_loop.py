"""Fixed-rate loop: period statistics and overrun accounting on a fake clock; a short real run."""

import numpy as np

from sonic_deploy.control.loop import RateLoop


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        self.t += 1e-6  # every read advances time a little (so spinning terminates)
        return self.t

    def sleep(self, s):
        self.t += s


def test_overruns_counted_and_schedule_reanchored():
    clk = FakeClock()
    loop = RateLoop(50.0, clock=clk, sleep=clk.sleep)
    work = {3: 0.05, 7: 0.015}  # cycle 3 takes 2.5 periods, cycle 7 takes 0.75 period (no overrun)
    for k in range(12):
        start = loop.wait()
        clk.t += work.get(k, 0.001)
        loop.done(start)
    s = loop.stats.summary(0.02)
    assert loop.stats.overruns == 1 and loop.stats.missed == 1
    assert s["period_p50_ms"] == np.float64(s["period_p50_ms"]) and abs(s["period_p50_ms"] - 20.0) < 0.01
    assert s["period_max_ms"] > 40.0


def test_real_clock_short_run():
    loop = RateLoop(50.0)
    n = []
    stats = loop.run(lambda now: n.append(now), 0.5)
    s = stats.summary(0.02)
    assert 24 <= len(n) <= 26
    assert abs(s["period_mean_ms"] - 20.0) < 1.0
