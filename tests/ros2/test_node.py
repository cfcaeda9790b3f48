"""The node as a process, with a real rclpy client: bad parameters, and every input topic reaching the controller's
reference input (observed in the node's own /diagnostics). No robot is needed for these: the node answers topics
and services before the first rt/lowstate arrives. Under CI a missing rclpy fails (tests/ros2/_live.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from _live import POLICY, UNITREE_DOMAIN, Client, Proc, launch, node_env, publish_until, require_rclpy, wait_for

rclpy = require_rclpy()


def _args(**kw) -> dict:
    return {"robot": "sim", "network_interface": "lo", "domain_id": str(UNITREE_DOMAIN), "policy": str(POLICY), **kw}


@pytest.mark.parametrize("extra, name", [
    ({"robot": "mars"}, "robot"),
    ({"safety.input_timeout": "fast"}, "safety.input_timeout"),
    ({"teleop.smoothing": 0.1}, "teleop.smoothing"),
    ({"dds.uint8_kind": "char"}, "dds.uint8_kind"),
    ({"policy": "/nonexistent/policy.onnx"}, "file"),
])
def test_bad_parameter_exits_2_naming_it(tmp_path, synthetic_motions, extra, name):
    cmd = launch(tmp_path, _args(motion=str(synthetic_motions)), extra)
    res = subprocess.run(cmd, env=node_env(), capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)
    out = res.stdout + res.stderr
    assert res.returncode == 2, out
    assert f"'{name}'" in res.stderr and "Traceback" not in out, out
    assert len([ln for ln in res.stderr.splitlines() if ln.startswith("sonic_deploy:")]) == 1


def test_launch_overrides_as_a_file_are_what_the_node_runs(tmp_path, synthetic_motions):
    """The node under the launch file's parameters declares them with those values (ros2 param get would show)."""
    cmd = launch(tmp_path, _args(motion=str(synthetic_motions), input="stream"))
    node = Proc(cmd, node_env())
    client = Client(rclpy)
    try:
        from rcl_interfaces.srv import GetParameters

        cli = client.node.create_client(GetParameters, "/sonic_deploy/get_parameters")
        assert cli.wait_for_service(timeout_sec=60), node.output
        fut = cli.call_async(GetParameters.Request(names=["input", "domain_id", "controller.auto", "thermal.enabled",
                                                          "dds.uint8_kind"]))
        assert wait_for(fut.done, 10)
        v = fut.result().values
        assert (v[0].string_value, v[1].integer_value, v[2].bool_value, v[3].bool_value, v[4].string_value) == (
            "stream", UNITREE_DOMAIN, True, True, "byte")
    finally:
        client.close()
        assert node.interrupt() == 0, node.output


def _start(tmp_path, arguments, extra=None):
    node = Proc(launch(tmp_path, arguments, extra), node_env())
    client = Client(rclpy)
    if not wait_for(lambda: "sonic_deploy: input" in client.diag, 60):
        client.close()
        node.interrupt()
        pytest.fail(f"no /diagnostics from the node:\n{node.output}")
    return node, client


def _input(client) -> dict:
    return client.diag["sonic_deploy: input"]["values"]


def test_motion_frames_reach_the_stream_input(tmp_path, synthetic_motions):
    from std_msgs.msg import String

    from sonic_deploy.motion import load_clip
    from sonic_deploy.ros2 import messages
    from sonic_deploy.inputs.motion_stream import clip_message

    node, client = _start(tmp_path, _args(input="stream"))
    try:
        assert _input(client)["input"] == "stream" and _input(client)["received"] == "0"
        pub = client.publisher(String, "/sonic_deploy/motion/frames")
        assert client.wait_subscribers(pub), node.output
        clip = load_clip(synthetic_motions / "step_in_place.npz")
        sent = []

        def frame():
            sent.append(len(sent))
            return String(data=messages.motion_frame_to_string(clip_message(clip, 0.02 * len(sent))))

        assert publish_until(pub, frame, lambda: int(_input(client)["received"]) >= 15), (_input(client), node.output)
        assert int(_input(client)["received"]) <= len(sent) and client.diag["sonic_deploy: input"]["message"] == "stream: live"
        bad = lambda: String(data='{"type": "motion", "t": 99.0}')  # noqa: E731 - logged and dropped
        assert publish_until(pub, bad, lambda: "field 'joint_pos': missing" in node.output, 5), node.output
    finally:
        client.close()
        assert node.interrupt() == 0, node.output


def test_teleop_poses_and_calibrate_reach_the_teleop_input(tmp_path):
    from geometry_msgs.msg import Pose, PoseArray

    from sonic_deploy.policy.testing import default_contract, write_tracking_policy

    policy = write_tracking_policy(tmp_path / "teleop.onnx", default_contract(encoder="teleop"))
    node, client = _start(tmp_path, _args(input="teleop", policy=str(policy)),
                          {"teleop.server.enabled": False, "teleop.auto_calibrate": False})
    try:
        assert wait_for(lambda: "sonic_deploy: teleop input" in client.diag, 10)
        tele = lambda: client.diag["sonic_deploy: teleop input"]["values"]  # noqa: E731
        assert tele()["received"] == "0" and tele()["calibrated"] == "false"
        res = client.call("calibrate")
        assert res.success and "calibration pending" in res.message
        pub = client.publisher(PoseArray, "/sonic_deploy/teleop/poses")
        assert client.wait_subscribers(pub), node.output

        def poses():
            arr = PoseArray()
            arr.header.frame_id = "operator"
            for x, y, z in ((0.05, 0.0, 1.65), (0.3, 0.2, 1.05), (0.3, -0.2, 1.05)):
                p = Pose()
                p.position.x, p.position.y, p.position.z = x, y, z
                p.orientation.w = 1.0
                arr.poses.append(p)
            return arr

        assert publish_until(pub, poses, lambda: int(tele()["received"]) >= 5 and tele()["calibrated"] == "true"), (
            tele(), node.output)
    finally:
        client.close()
        assert node.interrupt() == 0, node.output


def test_smpl_joints_reach_the_smpl_input(tmp_path, synthetic_motions):
    from std_msgs.msg import Float32MultiArray

    from sonic_deploy.policy.testing import default_contract, write_tracking_policy

    policy = write_tracking_policy(tmp_path / "smpl.onnx", default_contract(encoder="smpl"))
    node, client = _start(tmp_path, _args(input="smpl", policy=str(policy)))
    try:
        assert _input(client)["received"] == "0" and client.diag["sonic_deploy: input"]["message"] == "smpl: waiting for data"
        pub = client.publisher(Float32MultiArray, "/sonic_deploy/smpl/joints")
        assert client.wait_subscribers(pub), node.output
        joints = np.zeros((24, 3), np.float32)
        joints[:, 2] = 0.9
        joints[1, 1], joints[2, 1] = 0.1, -0.1  # hips: the operator faces +x
        msg = lambda: Float32MultiArray(data=joints.reshape(-1).tolist())  # noqa: E731
        assert publish_until(pub, msg, lambda: int(_input(client)["received"]) >= 5), (_input(client), node.output)
        publish_until(pub, lambda: Float32MultiArray(data=[0.0] * 70), lambda: "24 x 3 floats" in node.output, 5)
        assert client.diag["sonic_deploy: input"]["message"] == "smpl: live"
        assert wait_for(lambda: "expected F x 24 x 3 floats" in node.output, 5), node.output
    finally:
        client.close()
        assert node.interrupt() == 0, node.output


def test_motion_command_is_refused_without_a_motion_input(tmp_path):
    from std_msgs.msg import String

    node, client = _start(tmp_path, _args(input="stream"))
    try:
        pub = client.publisher(String, "/sonic_deploy/motion/command", reliable=True)
        assert client.wait_subscribers(pub), node.output
        pub.publish(String(data=json.dumps({"action": "pause"})))
        assert wait_for(lambda: "motion commands need input:=motion" in node.output, 10), node.output
    finally:
        client.close()
        assert node.interrupt() == 0, node.output


def test_node_sets_up_its_own_ros_environment(tmp_path, synthetic_motions):
    """Started without the wheels' library path (as under sudo) and with another install's middleware named, the node
    script re-executes itself with sonic_deploy.ros2.env's environment: rclpy starts and the node gets as far as
    checking its parameters."""
    env = node_env()
    env.pop("LD_LIBRARY_PATH", None)
    env["RMW_IMPLEMENTATION"] = "rmw_cyclonedds_cpp"
    plain = subprocess.run([sys.executable, "-c", "import rclpy"], env=env, capture_output=True, text=True, timeout=60)
    assert plain.returncode != 0  # what the helper repairs
    cmd = launch(tmp_path, _args(motion=str(synthetic_motions)), {"teleop.server.port": 70000})
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)
    assert res.returncode == 2 and "parameter 'teleop.server.port'" in res.stderr, res.stdout + res.stderr


def test_a_bad_field_configuration_exits_2(tmp_path, synthetic_motions):
    field = tmp_path / "field.yaml"
    field.write_text("remote:\n  estop: [L2, Z]\n")
    cmd = launch(tmp_path, _args(motion=str(synthetic_motions)), {"field_config": str(field)})
    res = subprocess.run(cmd, env=node_env(), capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)
    assert res.returncode == 2 and "remote.estop" in res.stderr and "Traceback" not in res.stderr, res.stderr
