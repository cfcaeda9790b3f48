"""Motion frames over the WebSocket transport: the clip sender, the server, the consuming input, and the
controller tracking a clip streamed that way in in-process MuJoCo."""

import subprocess
import sys

import numpy as np
import pytest

from sonic_deploy.inputs.motion_player import MotionPlayer
from sonic_deploy.motion import load_clip
from sonic_deploy.inputs.motion_stream import MotionStreamInput
from sonic_deploy.teleop.server import StreamServer
from sonic_deploy.utils.rotations import quat_from_yaw, quat_slerp


def test_stream_motion_cli_to_input_matches_the_player(synthetic_motions):
    path = synthetic_motions / "squat.npz"
    clip = load_clip(path)
    inp = MotionStreamInput(lead=0.5, blend_time=0.0)
    with StreamServer(port=0, motion=inp) as srv:
        res = subprocess.run([sys.executable, "-m", "sonic_deploy.teleop.clip_sender", str(path), "--url", srv.ws_url,
                              "--lead", "100", "--rate", "50"], capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
    n = int(clip.duration * 50) + 1
    assert inp.received == n and srv.stats.errors == 0
    assert {"joint_pos", "joint_vel", "root_quat", "smpl_joints", "vr"} <= inp.provides
    inp.start(None, 0.0)
    inp._offset = 0.0  # compare from the clip's start
    player = MotionPlayer(clip, blend_time=0.0, loop=False)
    player.start(None, 0.0)
    times = np.arange(0.0, clip.duration, 0.1) + 0.013
    a, b = inp.frames(times), player.frames(times)
    np.testing.assert_allclose(a.joint_pos, b.joint_pos, atol=1e-5)
    np.testing.assert_allclose(a.joint_vel, b.joint_vel, atol=1e-4)
    np.testing.assert_allclose(np.abs(np.sum(a.root_quat * b.root_quat, -1)), 1.0, atol=1e-6)
    np.testing.assert_allclose(a.smpl_joints - a.root_pos[:, None], b.smpl_joints - b.root_pos[:, None], atol=1e-5)


def test_stream_interpolates_orientations_by_slerp():
    """Between two samples 120 degrees of yaw apart the stream's pelvis and VR orientations are the slerp of the
    samples (training's and the motion player's interpolation), not their normalised lerp."""
    q0, q1 = quat_from_yaw(0.0), quat_from_yaw(np.radians(120.0))
    inp = MotionStreamInput(lead=1.0, blend_time=0.0)
    for t, q in ((0.0, q0), (1.0, q1)):
        inp.push_message({"t": t, "joint_pos": [0.0] * 29, "joint_vel": [0.0] * 29, "root_pos": [0.0, 0.0, 0.8],
                          "root_quat": q.tolist(), "vr_pos": np.zeros((3, 3)).tolist(),
                          "vr_quat": np.stack([q] * 3).tolist()}, t)
    inp.start(None, 1.0)  # stream time = policy time + (1.0 - lead) = policy time
    w = np.array([0.1, 0.25, 0.5, 0.75, 0.9])
    fr = inp.frames(w)
    want = quat_slerp(np.broadcast_to(q0, (5, 4)), np.broadcast_to(q1, (5, 4)), w[:, None])
    np.testing.assert_allclose(fr.root_quat, want, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(fr.root_quat, axis=-1), 1.0, atol=1e-6)
    nlerp = (1 - w[:, None]) * q0 + w[:, None] * q1
    nlerp /= np.linalg.norm(nlerp, axis=-1, keepdims=True)
    off_midpoint = w != 0.5  # slerp and nlerp meet at the midpoint
    assert np.abs(fr.root_quat - nlerp).max(-1)[off_midpoint].min() > 5e-3
    vr = inp.frames(np.array([0.25])).vr_quat
    np.testing.assert_allclose(vr, np.broadcast_to(want[1], (3, 4)), atol=1e-6)


def test_bad_motion_frame_named():
    inp = MotionStreamInput()
    with pytest.raises(ValueError, match="field 'joint_vel'"):
        inp.push_message({"t": 0, "joint_pos": [0] * 29, "root_pos": [0, 0, 0], "root_quat": [1, 0, 0, 0]}, 0.0)
    with pytest.raises(ValueError, match="field 'joint_pos'"):
        inp.push_message({"t": 0, "joint_pos": [0] * 28, "joint_vel": [0] * 29, "root_pos": [0, 0, 0],
                          "root_quat": [1, 0, 0, 0]}, 0.0)


def test_streamed_clip_drives_sim2sim(tmp_path, synthetic_motions):
    pytest.importorskip("onnx", reason="onnx (dev extra) builds the test policy")
    from sonic_deploy.control.controller import Controller, ControllerConfig, Mode
    from sonic_deploy.policy.runner import PolicyRunner
    from sonic_deploy.policy.testing import write_tracking_policy
    from sonic_deploy.robots.g1 import G1
    from sonic_deploy.robots.mujoco_robot import MujocoRobot
    from sonic_deploy.inputs.motion_stream import clip_message

    clip = load_clip(synthetic_motions / "squat.npz")
    inp = MotionStreamInput(lead=0.3, blend_time=0.5)
    policy = write_tracking_policy(tmp_path / "p.onnx")
    ctrl = Controller(G1, PolicyRunner(policy, G1, available=inp.provides), inp,
                      ControllerConfig(auto=True, damping_duration=0.1, ramp_duration=0.5, hold_duration=0.1))
    robot = MujocoRobot(G1)
    robot.clock = lambda: robot.tick_ms / 1000.0
    from websockets.sync.client import connect

    import json

    with StreamServer(port=0, motion=inp, clock=robot.clock) as srv, connect(srv.ws_url) as ws:
        errs = []
        for k in range(200):  # 4 s; the sender runs 0.3 s ahead
            now = robot.tick_ms / 1000.0
            msg = clip_message(clip, min(now + 0.3, clip.duration))
            msg["t"] = now + 0.3
            msg["ack"] = k
            ws.send(json.dumps(msg))
            ws.recv(timeout=5)
            cmd = ctrl.step(robot.read_state(), now)
            robot.write_command(cmd)
            robot.advance()
            if ctrl.mode == Mode.ACTIVE and now - ctrl.active_since > 0.6:
                i0, i1, w = clip.frame_at(np.array([min(now - ctrl.active_since + 0.7, clip.duration)]))
                errs.append(np.abs(robot.data.qpos[7:] - clip.joint_pos[i0[0]]).mean())
    assert ctrl.faults == [] and ctrl.mode == Mode.ACTIVE and robot.data.qpos[2] > 0.5
    assert len(errs) > 100 and np.mean(errs) < 0.1
