"""The node's topic mappings without ROS: motion frames on ~/motion/frames (std_msgs/String JSON) into the same
MotionStreamInput as the WebSocket path, the publisher CLI, token indices on ~/tokens_in, the thermal entry of
/diagnostics."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from sonic_deploy.motion import find_clip_files, load_clip
from sonic_deploy.ros2 import messages
from sonic_deploy.ros2.params import load_params_file
from sonic_deploy.inputs.motion_stream import MotionStreamInput, clip_message
from sonic_deploy.teleop.clip_sender import clip_frames

PKG = Path(__file__).resolve().parents[2] / "ros2_ws" / "src" / "sonic_deploy"
CONFIG = PKG / "config" / "g1.yaml"


def _clip(synthetic_motions):
    return load_clip(find_clip_files(synthetic_motions)[0])


def _all_frames(clip):  # no pacing: a clock that never advances, a sleep that does nothing
    return list(clip_frames([clip], rate=None, lead=1e9, sleep=lambda s: None, clock=lambda: 0.0))


def test_motion_frame_round_trip(synthetic_motions):
    clip = _clip(synthetic_motions)
    frame = clip_message(clip, 0.37)
    frame["t"] = 1.25
    text = messages.motion_frame_to_string(frame)
    back = messages.motion_frame_from_string(text)
    assert back["type"] == "motion" and back["t"] == 1.25 and set(back) == set(frame)
    for k in frame:
        if k not in ("type", "t"):
            np.testing.assert_allclose(back[k], frame[k], rtol=0, atol=0)
    # numpy arrays serialize the same as lists
    arr = {k: (np.asarray(v) if k not in ("type", "t") else v) for k, v in frame.items()}
    assert json.loads(messages.motion_frame_to_string(arr)) == json.loads(text)
    for bad, field in (("not json", "JSON"), ("[1, 2]", "object"), ('{"type": "tokens"}', "type")):
        with pytest.raises(ValueError, match=field):
            messages.motion_frame_from_string(bad)


def _check_stream_matches_clip(stream, clip):
    stream.start(None, 0.0)  # lead = the stream's length: policy time 0 is the clip's first frame
    times = np.linspace(0.0, clip.duration, 23)
    ref = stream.frames(times)
    want = np.array([clip_message(clip, t)["joint_pos"] for t in times])
    np.testing.assert_allclose(ref.joint_pos, want, atol=1e-5)
    wantq = np.array([clip_message(clip, t)["root_quat"] for t in times])
    np.testing.assert_allclose(np.abs(np.sum(ref.root_quat * wantq, -1)), 1.0, atol=1e-5)  # no yaw re-base (no state)
    r0 = np.asarray(clip_message(clip, 0.0)["root_pos"])
    np.testing.assert_allclose(ref.root_pos[:, 2], [clip_message(clip, t)["root_pos"][2] for t in times], atol=1e-5)
    np.testing.assert_allclose(ref.root_pos[0, :2], [0.0, 0.0], atol=1e-6)  # re-based onto the robot's origin
    assert r0.shape == (3,)


def test_frames_through_the_mapping_reach_the_stream_input(synthetic_motions):
    clip = _clip(synthetic_motions)
    frames = _all_frames(clip)
    assert len(frames) == clip.num_frames and frames[1]["t"] == pytest.approx(1.0 / clip.fps)  # the clip's fps
    stream = MotionStreamInput(lead=frames[-1]["t"])
    for f in frames:
        stream.push_message(messages.motion_frame_from_string(messages.motion_frame_to_string(f)), 0.0)
    assert stream.received == len(frames)
    _check_stream_matches_clip(stream, clip)


def test_runtime_stream_input_takes_motion_frames(tmp_path, synthetic_motions):
    pytest.importorskip("onnx", reason="onnx (dev extra) builds the test policy")
    from sonic_deploy.policy.testing import write_tracking_policy
    from sonic_deploy.ros2.runtime import DeployRuntime

    policy = write_tracking_policy(tmp_path / "p.onnx")
    params = load_params_file(CONFIG, overrides={"policy": str(policy), "input": "stream"})
    rt = DeployRuntime(params, robot=object(), clock=lambda: 3.0)
    assert isinstance(rt.reference, MotionStreamInput) and rt.controller.reference is rt.motion_stream
    clip = _clip(synthetic_motions)
    frames = _all_frames(clip)
    for f in frames:
        rt.motion_frame(messages.motion_frame_to_string(f))  # what the node's ~/motion/frames callback does
    assert rt.motion_stream.received == len(frames) and rt.motion_stream.stamp(3.0) == 3.0
    with pytest.raises(ValueError, match="joint_pos"):
        rt.motion_frame('{"type": "motion", "t": 99.0}')
    with pytest.raises(ValueError, match="input:=tokens"):
        rt.tokens_in([1, 2])
    rt.motion_stream.lead = frames[-1]["t"]
    _check_stream_matches_clip(rt.motion_stream, clip)


def test_publisher_without_rclpy(monkeypatch, capsys, synthetic_motions):
    monkeypatch.setitem(sys.modules, "rclpy", None)  # import rclpy raises ImportError
    from sonic_deploy.ros2 import publish_motion

    assert publish_motion.main([str(synthetic_motions)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "rclpy" in err and err.startswith(publish_motion.PROG)
    clip = _clip(synthetic_motions)
    sent = []
    n = publish_motion.publish_frames(_all_frames(clip), sent.append)
    assert n == clip.num_frames == len(sent) and json.loads(sent[0])["type"] == "motion"
    a = publish_motion.parse_args([str(synthetic_motions)])
    assert a.topic == "/sonic_deploy/motion/frames" and a.rate is None


def test_publisher_module_imports_without_rclpy():
    import subprocess

    code = ("import sys; sys.modules['rclpy'] = None; import sonic_deploy.ros2.publish_motion as m; "
            "assert 'torch' not in sys.modules and 'sonic_train' not in sys.modules; print(m.DEFAULT_TOPIC)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "/sonic_deploy/motion/frames"


def test_token_mapping():
    np.testing.assert_array_equal(messages.token_indices_from_array([3, 1, 4], 3), [3, 1, 4])
    assert messages.token_indices_from_array(np.array([7], np.int32)).dtype == np.int64
    with pytest.raises(ValueError, match="expected 2 token indices"):
        messages.token_indices_from_array([1, 2, 3], 2)
    with pytest.raises(ValueError, match="integers"):
        messages.token_indices_from_array([1.5, 2.0])


def test_runtime_token_input(tmp_path):
    pytest.importorskip("onnx", reason="onnx (dev extra) builds the test policy")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "field"))
    try:
        from _token_artifacts import write_token_policy
    finally:
        sys.path.pop(0)
    from sonic_deploy.inputs.token_stream import TokenFormatError, TokenStreamInput
    from sonic_deploy.policy.tokens import TokenPolicy
    from sonic_deploy.ros2.runtime import DeployRuntime

    main, _dec = write_token_policy(tmp_path / "tok.onnx")
    now = [10.0]
    params = load_params_file(CONFIG, overrides={"policy": str(main), "input": "tokens"})
    rt = DeployRuntime(params, robot=object(), clock=lambda: now[0])
    assert isinstance(rt.policy, TokenPolicy) and isinstance(rt.reference, TokenStreamInput)
    np.testing.assert_array_equal(rt.token_input.tokens_at(10.0), [62, 62])  # standing tokens before any arrive
    rt.tokens_in([7, 100])  # what the node's ~/tokens_in callback does with Int32MultiArray.data
    assert rt.token_input.received == 1 and rt.token_input.stamp(10.0) == 10.0
    np.testing.assert_array_equal(rt.token_input.tokens_at(10.0), [7, 100])
    with pytest.raises(ValueError, match="expected 2 token indices"):
        rt.tokens_in([1, 2, 3])
    with pytest.raises(TokenFormatError):
        rt.tokens_in([1, 125])  # out of the codebook (5 * 5 * 5)
    with pytest.raises(ValueError, match="input:=stream"):
        rt.motion_frame("{}")


def test_thermal_diagnostics():
    from sonic_deploy.control.controller import Controller, ControllerConfig
    from sonic_deploy.control.thermal import ThermalConfig
    from sonic_deploy.robots.g1 import G1

    assert messages.thermal_diagnostics(None) is None
    ok = messages.thermal_diagnostics({"max_temperature": 41.0, "hottest_joint": "left_knee_joint",
                                       "warning_joints": [], "derate": {}})
    assert ok["level"] == messages.OK and ok["message"] == "ok" and ("max_temperature", "41.0") in ok["values"]
    ctl = Controller(G1, None, None, ControllerConfig(thermal=ThermalConfig(warn=70.0, limit=90.0)))
    temps = np.full(29, 40.0)
    temps[3] = 78.0
    ctl.thermal.update(temps, None, 0.0)
    temps[3] = 60.0
    ctl.thermal.update(temps, None, 0.1)  # peak stays 78
    temps[5] = 75.0
    ctl.thermal.update(temps, None, 0.2)
    d = {e["name"]: e for e in messages.diagnostics(ctl, 0.2)}
    th = d["sonic_deploy: thermal"]
    v = dict(th["values"])
    assert th["level"] == messages.WARN and G1.joint_names[5] in th["message"]
    assert v["hottest_joint"] == G1.joint_names[5] and v["max_temperature"] == "75.0"
    assert v["warning_joints"] == G1.joint_names[5]
    assert v[f"peak.{G1.joint_names[3]}"] == "78.0" and v[f"peak.{G1.joint_names[0]}"] == "40.0"
    assert "min_derate_scale" in v
    # without thermal monitoring (thermal=None; on by default) there is no thermal entry
    assert all(e["name"] != "sonic_deploy: thermal"
               for e in messages.diagnostics(Controller(G1, cfg=ControllerConfig(thermal=None)), 0.0))
    # the node's parameters switch it on
    p = load_params_file(CONFIG, overrides={"policy": "p.onnx", "motion": "m/", "thermal.enabled": True,
                                            "thermal.warn": 65.0})
    assert p.controller_config().thermal.warn == 65.0
    assert load_params_file(CONFIG, overrides={"policy": "p.onnx", "motion": "m/"}).controller_config().thermal is not None
    off = load_params_file(CONFIG, overrides={"policy": "p.onnx", "motion": "m/", "thermal.enabled": False})
    assert off.controller_config().thermal is None  # sim only: the real robot refuses it (test_ros2_plain)
