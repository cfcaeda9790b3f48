"""Teleop end to end: a recorded VR session (made from a synthetic clip's VR targets, as a bigger operator
standing elsewhere would stream them in WebXR's y-up frame) drives the controller through the WebSocket server
into in-process MuJoCo sim-to-sim: calibration on the first pose, a 0.8 s dropout in the middle (hold, ease to
the safe pose, resume: no fault), then the operator leaves and the input watchdog damps the robot.

The policy is the synthetic linear policy of the deploy runtime with the teleop encoder's layout: untrained,
its encoder weights are zero, so "stays up" here is its hold-the-default-pose + ankle balance path under hold
gains, not teleop tracking. What is asserted about teleop is the reference the controller receives: it equals
the clip's VR targets after calibration within the smoother's lag times the clip's top speed (+ 1 mm,
+ 0.01 rad).
"""

import json
import time

import numpy as np
import pytest

pytest.importorskip("onnx", reason="onnx (dev extra) builds the test policy")
pytest.importorskip("mcap", reason="mcap (deploy extra) records the session")

from websockets.sync.client import connect  # noqa: E402

from sonic_deploy.control.controller import Controller, ControllerConfig, Mode  # noqa: E402
from sonic_deploy.control.safety import SafetyConfig, tilt_deg  # noqa: E402
from sonic_deploy.policy.runner import PolicyRunner  # noqa: E402
from sonic_deploy.policy.testing import default_contract, write_tracking_policy  # noqa: E402
from sonic_deploy.recording import SessionReader, SessionRecorder, replay  # noqa: E402
from sonic_deploy.robots.g1 import G1  # noqa: E402
from sonic_deploy.robots.mujoco_robot import MujocoRobot  # noqa: E402
from sonic_deploy.inputs.vr_calibration import default_vr_reference  # noqa: E402
from sonic_deploy.inputs.vr_teleop import TeleopConfig, TeleopInput  # noqa: E402
from sonic_deploy.teleop.server import StreamServer  # noqa: E402
from sonic_deploy.teleop.session import read_session, session_from_clip, write_session  # noqa: E402
from sonic_deploy.utils.rotations import quat_conjugate, quat_mul  # noqa: E402

DT = 0.02
DROPOUT = (3.0, 3.8)  # s of session time with nothing sent
INPUT_TIMEOUT = 1.0


def _angle(a, b):
    return 2 * np.arccos(np.clip(np.abs(np.sum(a * b, axis=-1)), 0, 1))


def expected_reference(clip, times):
    """The clip's VR targets as calibration should map them: ref_i + R0^T (p_i(t) - p_i(0)), and
    (q_yaw0^-1 q_i(t)) (q_yaw0^-1 q_i(0))^-1 q_ref_i, with R0 the head's heading at the first frame."""
    ref = default_vr_reference()
    i0, i1, w = clip.frame_at(times)
    p = (1 - w[:, None, None]) * clip.vr_pos[i0] + w[:, None, None] * clip.vr_pos[i1]
    q0, q1 = clip.vr_quat[i0], clip.vr_quat[i1]
    q1 = np.where(np.sum(q0 * q1, -1, keepdims=True) < 0, -q1, q1)
    q = (1 - w[:, None, None]) * q0 + w[:, None, None] * q1
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    hq = clip.vr_quat[0, 0].astype(np.float64)
    yaw = np.arctan2(2 * (hq[0] * hq[3] + hq[1] * hq[2]), 1 - 2 * (hq[2] ** 2 + hq[3] ** 2))
    c, s = np.cos(yaw), np.sin(yaw)
    r0 = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    pos = ref.pos + (p - clip.vr_pos[0]) @ r0
    qy = np.broadcast_to([np.cos(yaw / 2), 0, 0, -np.sin(yaw / 2)], q.shape)
    off = quat_mul(quat_conjugate(quat_mul(qy[0], clip.vr_quat[0].astype(np.float64))), ref.quat)
    quat = quat_mul(quat_mul(qy, q), np.broadcast_to(off, q.shape))
    return pos, quat


@pytest.fixture(scope="module")
def arm_waves():
    from sonic_deploy.motion.synth import synthesize

    return synthesize("arm_waves")


def test_vr_session_drives_sim2sim_through_websocket(tmp_path, arm_waves):
    clip = arm_waves
    session = write_session(tmp_path / "vr_session.jsonl", session_from_clip(clip, scale=1.35, yaw=0.7,
                                                                           offset=(0.4, -1.2), rate=1 / DT))
    msgs = read_session(session)
    assert msgs[0]["frame"] == "webxr" and msgs[0]["head"]["p"][1] > 1.5  # y up, a 1.35x operator's head height

    policy = write_tracking_policy(tmp_path / "teleop.onnx", default_contract(encoder="teleop", hold_gains=True))
    tcfg = TeleopConfig(smoothing_tau=0.02, hold_time=0.2, ease_time=0.4, resume_time=0.3)
    teleop = TeleopInput(tcfg)
    runner = PolicyRunner(policy, G1, available=teleop.provides)
    ctrl = Controller(G1, runner, teleop, ControllerConfig(
        auto=True, damping_duration=0.1, ramp_duration=0.5, hold_duration=0.1,
        safety=SafetyConfig(input_timeout=INPUT_TIMEOUT)))
    robot = MujocoRobot(G1, float32_io=True)
    robot.clock = lambda: robot.tick_ms / 1000.0
    sent_at, arrived_at = {}, {}
    teleop.listeners.append(lambda s, now: arrived_at.setdefault(round(s.t / DT), time.perf_counter()))
    rec_path = tmp_path / "teleop_session.mcap"
    n_session = len(msgs)
    n_total = n_session + int((INPUT_TIMEOUT + 0.3) / DT)  # then the operator leaves
    heights, tilts, status, rtt = [], [], [], []
    with StreamServer(port=0, teleop=teleop, clock=robot.clock) as srv, connect(srv.ws_url) as ws, \
            SessionRecorder(rec_path, ctrl, info={"session": str(session)}) as rec:
        teleop.listeners.append(rec.record_pose)
        for k in range(n_total):
            now = robot.tick_ms / 1000.0
            if k < n_session and not (DROPOUT[0] <= k * DT < DROPOUT[1]):
                sent_at[k] = t0 = time.perf_counter()
                ws.send(json.dumps({**msgs[k], "ack": k}))
                assert json.loads(ws.recv(timeout=5)) == {"type": "ack", "ack": k}
                rtt.append(time.perf_counter() - t0)
            state = robot.read_state()
            cmd = rec.step(state, now)
            robot.write_command(cmd)
            robot.advance()
            heights.append(robot.data.qpos[2])
            tilts.append(tilt_deg(robot.data.qpos[3:7]))
            status.append(teleop.status(now))
    t = np.arange(n_total) * DT
    t_end = (n_session - 1) * DT

    # calibration happened on the first pose; the operator was 1.35x the G1
    assert teleop.calibration is not None and teleop.calibration.s_head == pytest.approx(1 / 1.35, rel=1e-6)
    # dropout: held, eased, back to live; no fault until the operator left for longer than the watchdog timeout
    st = dict(zip(np.round(t, 2), status))
    assert st[3.1] == "live" or st[3.1] == "holding"
    assert st[3.3] == "easing" and st[3.7] == "safe" and st[4.0] == "live"
    faults = [(f.cause, f.time) for f in ctrl.faults]
    assert len(faults) == 1 and faults[0][0] == "input_stale", faults
    assert t_end + INPUT_TIMEOUT < faults[0][1] <= t_end + INPUT_TIMEOUT + 2 * DT + 1e-9
    assert ctrl.mode == Mode.ESTOP and cmd.kp.max() == 0.0  # damping
    active_t = [tt for tt, m in ctrl.transitions if m == "active"][0]
    # the robot stayed up while the policy ran (hold + balance path of an untrained policy, see the docstring)
    live = (t >= active_t) & (t <= faults[0][1])
    assert np.min(np.asarray(heights)[live]) > 0.6 and np.max(np.asarray(tilts)[live]) < 15.0

    # the reference the controller received equals the recorded poses after calibration
    r = SessionReader(rec_path)
    got_pos, got_quat, steps = [], [], []
    for m in r["input"]:
        fr = m.get("frames")
        if fr is None:
            continue
        yq = np.asarray(fr["root_quat"][0])
        yaw = 2 * np.arctan2(yq[3], yq[0])
        c, s = np.cos(yaw), np.sin(yaw)
        rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
        got_pos.append(np.asarray(fr["vr_pos"]) @ rot)
        got_quat.append(quat_mul(np.broadcast_to(quat_conjugate(yq), (3, 4)), np.asarray(fr["vr_quat"])))
        steps.append(m["step"])
    steps = np.asarray(steps)
    got_pos, got_quat = np.asarray(got_pos), np.asarray(got_quat)
    exp_pos, exp_quat = expected_reference(clip, steps * DT)
    st_arr = np.asarray(status)[steps]
    resumed = (steps * DT >= DROPOUT[1]) & (steps * DT < DROPOUT[1] + tcfg.resume_time)
    fresh = np.array([k in sent_at for k in steps])  # a sample arrived in this step
    cmp = fresh & (st_arr == "live") & ~resumed
    assert cmp.sum() > 150
    lag = teleop._smoother.lag(DT)
    vmax = np.abs(np.diff(clip.vr_pos, axis=0)).max() * clip.fps * np.sqrt(3)
    wmax = _angle(clip.vr_quat[1:], clip.vr_quat[:-1]).max() * clip.fps
    pos_err = np.linalg.norm(got_pos - exp_pos, axis=-1)[cmp].max()
    ang_err = _angle(got_quat, exp_quat)[cmp].max()
    print(f"\nreference vs calibrated session: max pos err {pos_err * 1e3:.2f} mm (bound {(vmax * lag) * 1e3 + 1:.2f}), "
          f"max ang err {np.degrees(ang_err):.2f} deg (bound {np.degrees(wmax * lag + 1e-2):.2f}); "
          f"smoother lag {lag * 1e3:.1f} ms")
    assert pos_err <= vmax * lag + 1e-3
    assert ang_err <= wmax * lag + 1e-2
    # during the dropout the reference reached the safe pose (the default standing reference)
    safe = (steps * DT > DROPOUT[0] + tcfg.hold_time + tcfg.ease_time) & (steps * DT < DROPOUT[1])
    ref = default_vr_reference()
    assert safe.sum() >= 9
    np.testing.assert_allclose(got_pos[safe], np.broadcast_to(ref.pos, got_pos[safe].shape), atol=1e-9)

    # WebSocket -> teleop input latency (client send to the sample being in the input), and ack round trip
    one_way = np.array([arrived_at[k] - sent_at[k] for k in sent_at if k in arrived_at]) * 1e3
    print(f"websocket -> input latency p50 {np.percentile(one_way, 50):.3f} ms, p99 {np.percentile(one_way, 99):.3f} ms; "
          f"ack round trip p50 {np.percentile(rtt, 50) * 1e3:.3f} ms, p99 {np.percentile(rtt, 99) * 1e3:.3f} ms")
    assert len(one_way) == len(sent_at) and np.percentile(one_way, 50) < 20.0

    # and the recording replays through the controller's step function
    res = replay(rec_path)
    assert res.ok(1e-6), res
