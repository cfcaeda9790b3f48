"""Teleop units: calibration, smoothing delay, dropout hold/ease timings, the wire format, the stream server."""

import json
import urllib.request

import numpy as np
import pytest

from sonic_deploy.inputs.vr_calibration import HEAD_HEIGHT_PER_BODY_HEIGHT, default_vr_reference
from sonic_deploy.inputs.vr_filters import ExpSmoother
from sonic_deploy.inputs.vr_teleop import TeleopConfig, TeleopInput
from sonic_deploy.inputs.vr_poses import PoseFormatError, PoseSample, parse_pose_message
from sonic_deploy.teleop.session import robot_to_webxr
from sonic_deploy.utils.rotations import quat_mul

TOL = 1e-9


def operator_sample(ref, *, scale=1.3, yaw=1.0, offset=(0.5, -2.0), dpos=None, t=0.0) -> PoseSample:
    """The G1's default 3-point pose as a bigger operator standing elsewhere, facing elsewhere, in WebXR axes."""
    pos = ref.pos.copy() if dpos is None else ref.pos + dpos
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    anchor = np.array([ref.pos[0, 0], ref.pos[0, 1], 0.0])
    p = scale * (pos - anchor) @ rot.T + np.array([*offset, 0.0])
    q = quat_mul(np.broadcast_to([np.cos(yaw / 2), 0, 0, np.sin(yaw / 2)], (3, 4)), ref.quat)
    wp, wq = robot_to_webxr(p, q)
    return PoseSample(t, wp, wq, "webxr")


def test_axes_webxr_to_robot():
    # WebXR forward (-z) is robot +x, WebXR left (-x) is robot +y, up is up
    s = PoseSample(0.0, np.array([[0, 1.6, -1.0], [-1.0, 0, 0], [0, 0, 0]]), np.tile([1.0, 0, 0, 0], (3, 1)))
    r = s.to_robot_axes()
    np.testing.assert_allclose(r.pos, [[1.0, 0, 1.6], [0, 1.0, 0], [0, 0, 0]], atol=TOL)
    # a headset turned 90 deg to its left (about WebXR +y) faces robot +y: heading +90 deg
    q = np.array([np.cos(np.pi / 4), 0, np.sin(np.pi / 4), 0])
    r = PoseSample(0.0, np.zeros((3, 3)), np.tile(q, (3, 1))).to_robot_axes()
    np.testing.assert_allclose(r.quat[0], [np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)], atol=TOL)


def test_calibration_maps_operator_pose_to_default_reference():
    ref = default_vr_reference()
    inp = TeleopInput(TeleopConfig(smoothing_tau=0.0))
    inp.push(operator_sample(ref), 0.0)
    cal = inp.calibration
    assert cal.yaw == pytest.approx(1.0) and cal.s_head == pytest.approx(1 / 1.3) and cal.s_arm == pytest.approx(1 / 1.3)
    inp.stamp(0.0)
    pos, quat = inp.pose_at(0.0)
    np.testing.assert_allclose(pos, ref.pos, atol=TOL)
    np.testing.assert_allclose(np.abs(np.sum(quat * ref.quat, axis=-1)), 1.0, atol=TOL)
    # the operator raises the head by 13 cm and moves the left hand 26 cm forward: G1 proportions (1 / 1.3)
    d = np.zeros((3, 3))
    d[0, 2], d[1, 0] = 0.1, 0.2
    inp.push(operator_sample(ref, dpos=d, t=0.02), 0.02)
    pos, _ = inp.pose_at(0.02)
    np.testing.assert_allclose(pos - ref.pos, [[0, 0, 0.1], [0.2, 0, 0], [0, 0, 0]], atol=1e-9)
    # robot frame output at start: turned onto the robot's heading, pelvis above the origin
    from types import SimpleNamespace

    inp.start(SimpleNamespace(imu_quat=np.array([np.cos(0.25), 0, 0, np.sin(0.25)])), 0.02)
    fr = inp.frames(np.array([0.0]))
    assert fr.root_pos[0] == pytest.approx([0, 0, ref.root_height])
    c, s = np.cos(0.5), np.sin(0.5)
    np.testing.assert_allclose(fr.vr_pos, pos @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]).T, atol=TOL)


def test_calibration_from_operator_height_and_arm_length():
    ref = default_vr_reference()
    inp = TeleopInput(TeleopConfig(smoothing_tau=0.0, operator_height=1.80, operator_arm_length=0.70))
    inp.push(operator_sample(ref), 0.0)
    assert inp.calibration.s_head == pytest.approx(ref.pos[0, 2] / (HEAD_HEIGHT_PER_BODY_HEIGHT * 1.80))
    assert inp.calibration.s_arm == pytest.approx(ref.arm_length / 0.70)
    assert 0.4 < ref.arm_length < 0.6 and 1.1 < ref.pos[0, 2] < 1.35  # G1 proportions


def test_smoothing_delay_as_stated():
    tau, dt, v = 0.03, 1 / 90, 0.8
    sm = ExpSmoother(tau)
    q = np.tile([1.0, 0, 0, 0], (3, 1))
    for k in range(400):  # 4.4 s of a constant-velocity hand
        t = k * dt
        out, _ = sm(t, np.full((3, 3), v * t), q)
    lag = (v * t - out[0, 0]) / v
    assert lag == pytest.approx(sm.lag(dt), abs=1e-9)
    assert abs(lag - (tau - dt / 2)) < dt * (dt / tau) / 12 + 1e-5 and lag == pytest.approx(0.02479, abs=1e-5)
    # a step is 63 % through after tau
    sm2 = ExpSmoother(0.05)
    sm2(0.0, np.zeros((3, 3)), q)
    out, _ = sm2(0.05, np.ones((3, 3)), q)
    assert out[0, 0] == pytest.approx(1 - np.exp(-1))
    assert ExpSmoother(0.0).lag(dt) == 0.0


def test_dropout_hold_then_ease_then_resume():
    ref = default_vr_reference()
    cfg = TeleopConfig(smoothing_tau=0.0, hold_time=0.2, ease_time=0.5, resume_time=0.3)
    inp = TeleopInput(cfg)
    d = np.zeros((3, 3))
    d[:, 0] = 0.3
    inp.push(operator_sample(ref, t=0.98), 0.98)  # calibrates
    inp.push(operator_sample(ref, dpos=d, t=1.0), 1.0)  # last sample: everything 0.3 m (G1 scale) forward
    live, _ = inp.pose_at(1.0)
    np.testing.assert_allclose(live[:, 0] - ref.pos[:, 0], 0.3, atol=TOL)
    assert inp.stamp(1.5) == 1.0  # staleness reported as the newest arrival, for the input watchdog

    def at(t):
        return inp.pose_at(t)[0]

    for t, status in ((1.05, "live"), (1.19, "holding")):
        np.testing.assert_allclose(at(t), live, atol=TOL)
        assert inp.status(t) == status
    np.testing.assert_allclose(at(1.2 + 0.25), 0.5 * (live + ref.pos), atol=TOL)  # smoothstep midpoint
    assert inp.status(1.45) == "easing"
    np.testing.assert_allclose(at(1.2 + 0.5), ref.pos, atol=TOL)
    np.testing.assert_allclose(at(5.0), ref.pos, atol=TOL)
    assert inp.status(5.0) == "safe"
    # samples return: blend from the safe pose back to the live pose over resume_time
    for t, expect in ((6.0, ref.pos), (6.15, 0.5 * (live + ref.pos)), (6.3, live)):
        inp.push(operator_sample(ref, dpos=d, t=t), t)
        np.testing.assert_allclose(at(t), expect, atol=TOL)


def test_lost_controller_keeps_last_wrist_pose():
    ref = default_vr_reference()
    inp = TeleopInput(TeleopConfig(smoothing_tau=0.0))
    inp.push(operator_sample(ref), 0.0)
    msg = operator_sample(ref, dpos=np.full((3, 3), 0.13), t=0.02).to_message()
    del msg["right"]
    inp.push(parse_pose_message(msg), 0.02)
    pos, _ = inp.pose_at(0.02)
    np.testing.assert_allclose(pos[:2], ref.pos[:2] + 0.13, atol=1e-9)
    np.testing.assert_allclose(pos[2], ref.pos[2], atol=1e-9)


@pytest.mark.parametrize("msg, field", [
    ({"left": {"p": [0, 0, 0], "q": [1, 0, 0, 0]}}, "head"),
    ({"head": {"p": [0, 0], "q": [1, 0, 0, 0]}}, "head.p"),
    ({"head": {"p": [0, 0, 0], "q": [1, 0, 0, 0]}, "left": {"p": [0, 0, 0], "q": [1, 0, 0]}}, "left.q"),
    ({"head": {"p": [0, 0, 0], "q": [0, 0, 0, 0]}}, "head.q"),
    ({"head": {"p": [0, "x", 0], "q": [1, 0, 0, 0]}}, "head.p"),
    ({"head": {"p": [0, 0, 0], "q": [1, 0, 0, 0]}, "frame": "unity"}, "frame"),
])
def test_pose_message_validation_names_the_field(msg, field):
    with pytest.raises(PoseFormatError, match=f"field '{field}'"):
        parse_pose_message(msg)


def test_bad_config_named():
    with pytest.raises(ValueError, match="teleop.hold_time"):
        TeleopConfig(hold_time=-1).validate()
    with pytest.raises(ValueError, match="teleop.operator_height"):
        TeleopConfig(operator_height=17.0).validate()


def test_stream_server_http_ws_ack_and_errors():
    from websockets.sync.client import connect

    from sonic_deploy.teleop.server import StreamServer

    ref = default_vr_reference()
    inp = TeleopInput(TeleopConfig(smoothing_tau=0.0))
    clock = {"t": 3.0}
    with StreamServer(port=0, teleop=inp, clock=lambda: clock["t"]) as srv:
        html = urllib.request.urlopen(srv.url, timeout=5).read().decode()
        assert "navigator.xr" in html and "sonicInjectPose" in html
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(srv.url + "nope", timeout=5)
        with connect(srv.ws_url) as ws:
            ws.send(json.dumps({"type": "hello"}))
            assert json.loads(ws.recv())["teleop"] is True
            ws.send(json.dumps({**operator_sample(ref).to_message(), "ack": 7}))
            assert json.loads(ws.recv()) == {"type": "ack", "ack": 7}
            ws.send(json.dumps({"head": {"p": [0, 0], "q": [1, 0, 0, 0]}}))
            err = json.loads(ws.recv())
            assert err["type"] == "error" and "head.p" in err["error"]
            ws.send("not json")
            assert json.loads(ws.recv())["type"] == "error"
    assert inp.received == 1 and inp.stamp(3.0) == 3.0 and srv.stats.errors == 2
    np.testing.assert_allclose(inp.pose_at(3.0)[0], ref.pos, atol=TOL)
