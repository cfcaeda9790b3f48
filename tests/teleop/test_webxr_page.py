"""The WebXR page in headless Chromium: loads without console errors and, with no XR device, streams injected
poses through the page's WebSocket into the teleop input."""

import json

import numpy as np
import pytest

from sonic_deploy.inputs.vr_calibration import default_vr_reference
from sonic_deploy.inputs.vr_teleop import TeleopConfig, TeleopInput
from sonic_deploy.teleop.server import StreamServer

from ._cdp import Browser, find_chromium
from .test_teleop_units import operator_sample

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (scripts/install.sh installs it "
                                                          "when CI=true or SONIC_INSTALL_BROWSER=1)")


def test_webxr_page_loads_and_streams_injected_poses():
    ref = default_vr_reference()
    inp = TeleopInput(TeleopConfig(smoothing_tau=0.0))
    arrivals = []
    inp.listeners.append(lambda s, now: arrivals.append(s))
    clock = {"t": 0.0}
    with StreamServer(port=0, teleop=inp, clock=lambda: clock["t"]) as srv:
        b = Browser(CHROMIUM)
        try:
            b.send("Runtime.enable")
            b.send("Log.enable")
            b.send("Page.enable")
            b.send("Page.navigate", url=srv.url)
            b.wait_for("window.sonicStatus && window.sonicStatus().connected")
            xr = b.wait_for("window.sonicStatus().xr !== 'checking' && window.sonicStatus().xr")
            assert "inject" in xr or "unavailable" in xr, xr  # no XR device here
            d = np.zeros((3, 3))
            for k in range(20):
                clock["t"] = 0.02 * k
                d[:, 0] = 0.01 * k  # G1-scale: everything moves forward 1 cm per sample
                msg = operator_sample(ref, dpos=d, t=0.02 * k).to_message()
                msg.pop("frame")
                ack = b.evaluate(f"window.sonicInjectPose({json.dumps(msg)})", await_promise=True)
                assert ack == {"type": "ack", "ack": k + 1}
                inp.stamp(clock["t"])
                pos, _ = inp.pose_at(clock["t"])
                np.testing.assert_allclose(pos, ref.pos + d, atol=1e-9)  # calibrated on the first pose
            status = b.evaluate("window.sonicStatus()")
            b.drain()
            errors = b.console_errors()
        finally:
            b.close()
    assert errors == []
    assert status["sent"] == 20 and status["acked"] == 20 and status["errors"] == 0
    assert inp.received == 20 and len(arrivals) == 20 and all(s.frame == "webxr" for s in arrivals)
    assert srv.stats.errors == 0
