"""The ROS 2 package's logic without ROS: parameter validation, message mapping, launch arguments and file,
and the runtime the node wraps (driven here against in-process MuJoCo)."""

import ast
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from sonic_deploy.ros2 import launch_args, messages
from sonic_deploy.ros2.params import NAMES, ParamError, load_params_file, validate_params

PKG = Path(__file__).resolve().parents[2] / "ros2_ws" / "src" / "sonic_deploy"
CONFIG = PKG / "config" / "g1.yaml"


def write_cfg(tmp_path, **changes):
    doc = yaml.safe_load(CONFIG.read_text())
    params = doc["sonic_deploy"]["ros__parameters"]
    for dotted, v in changes.items():
        d = params
        *head, last = dotted.split(".")
        for h in head:
            d = d.setdefault(h, {})
        d[last] = v
    path = tmp_path / "g1.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_shipped_config_is_valid_and_covers_every_parameter():
    p = load_params_file(CONFIG, overrides={"policy": "p.onnx", "motion": "clips/"})
    assert p["robot"] == "sim" and p["teleop.server.host"] == "127.0.0.1" and p["safety.input_timeout"] == 0.5
    from sonic_deploy.ros2.params import flatten

    assert set(flatten(yaml.safe_load(CONFIG.read_text())["sonic_deploy"]["ros__parameters"])) == set(NAMES)
    cc = p.controller_config()
    assert cc.safety.input_timeout == 0.5 and cc.ramp_duration == 2.0
    tc = p.teleop_config()
    assert tc.operator_height is None and tc.hold_time + tc.ease_time <= 0.5


@pytest.mark.parametrize("change, field", [
    ({"robot": "hardware"}, "robot"),
    ({"input": "joystick"}, "input"),
    ({"safety.input_timeout": -1.0}, "safety.input_timeout"),
    ({"safety.input_timeout": "fast"}, "safety.input_timeout"),
    ({"teleop.hold_time": True}, "teleop.hold_time"),
    ({"teleop.server.port": 70000}, "teleop.server.port"),
    ({"teleop.server.host": "0.0.0.0"}, "teleop.server.host"),
    ({"teleop.operator_height": 4.0}, "teleop.operator_height"),
    ({"teleop.smoothing": 0.1}, "teleop.smoothing"),
    ({"control_rate": 100.0}, "control_rate"),
    ({"motion": ""}, "motion"),
    ({"input": "teleop", "teleop.ease_time": 1.0}, "teleop.ease_time"),
    ({"robot": "real", "controller.auto": True}, "controller.auto"),
    ({"policy": ""}, "policy"),
    ({"robot": "real", "thermal.enabled": False}, "thermal.enabled"),
    ({"dds.uint8_kind": "octet"}, "dds.uint8_kind"),
    ({"dds.peers": "10.0.0.0/24"}, "dds.peers"),
])
def test_bad_yaml_rejected_with_the_field_named(tmp_path, change, field):
    base = {"policy": "p.onnx", "motion": "clips/"}
    base.update(change)
    path = write_cfg(tmp_path, **base)
    with pytest.raises(ParamError, match=rf"parameter '{field}'") as e:
        load_params_file(path)
    assert e.value.name == field and str(path) in str(e.value)


def test_params_file_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sonic_deploy: [1, 2\n")
    with pytest.raises(ParamError, match="valid YAML"):
        load_params_file(bad)
    bad.write_text("other_node:\n  ros__parameters: {}\n")
    with pytest.raises(ParamError, match="section named"):
        load_params_file(bad)
    wild = tmp_path / "wild.yaml"
    wild.write_text("/**:\n  ros__parameters:\n    policy: p.onnx\n    input: smpl\n")
    assert load_params_file(wild)["input"] == "smpl"
    assert validate_params({"teleop": {"hold_time": 0.1}, "policy": "x", "motion": "m"})["teleop.hold_time"] == 0.1


def test_launch_arguments():
    a = launch_args.validate_arguments({"robot": "real", "input": "teleop", "policy": "p.onnx"})
    assert a["network_interface"] == "lo" and a["config"] == ""
    with pytest.raises(ValueError, match="launch argument 'robot'"):
        launch_args.validate_arguments({"robot": "mars"})
    with pytest.raises(ValueError, match="launch argument 'domain_id'"):
        launch_args.validate_arguments({"domain_id": "x"})
    with pytest.raises(ValueError, match="launch argument 'polcy'"):
        launch_args.validate_arguments({"polcy": "p"})
    sim = {"robot": "sim", "network_interface": "lo", "domain_id": "7", "policy": "p.onnx", "motion": ""}
    assert launch_args.bridge_command(sim) == ["sonic-deploy", "bridge", "--interface", "lo", "--domain", "7",
                                               "--uint8-kind", "byte"]
    assert launch_args.bridge_command({**sim, "robot": "real"}) is None
    o = launch_args.parameter_overrides(sim)
    assert o == {"robot": "sim", "input": "motion", "network_interface": "lo", "domain_id": 7, "policy": "p.onnx",
                 "dds.uint8_kind": "byte", "controller.auto": True}
    # the overrides are valid node parameters
    validate_params({**o, "motion": "clips/"})
    net = {**sim, "network_interface": "enp3s0", "peers": "192.168.123.161", "uint8_kind": "uint8"}
    assert launch_args.bridge_command(net)[-4:] == ["--uint8-kind", "uint8", "--peers", "192.168.123.161"]
    o = launch_args.parameter_overrides(net)
    assert (o["dds.peers"], o["dds.uint8_kind"]) == ("192.168.123.161", "uint8")
    with pytest.raises(ValueError, match="launch argument 'uint8_kind'"):
        launch_args.validate_arguments({"uint8_kind": "char"})


def test_dds_config_from_parameters():
    """Multicast discovery on the named card plus unicast to the named peers only; loopback: unicast 127.0.0.1."""
    base = {"policy": "p.onnx", "motion": "clips/"}
    real = validate_params({**base, "network_interface": "enp3s0", "domain_id": 0,
                            "dds": {"peers": "192.168.123.161, 10.0.0.2", "uint8_kind": "uint8"}}).dds_config()
    assert (real.interface, real.multicast, real.peers, real.uint8_kind, real.domain_id) == (
        "enp3s0", True, ("192.168.123.161", "10.0.0.2"), "uint8", 0)
    assert "127.0.0.1" not in real.xml()
    lo = validate_params({**base, "domain_id": 9}).dds_config()
    assert (lo.interface, lo.multicast, lo.peers, lo.uint8_kind, lo.domain_id) == ("lo", False, ("127.0.0.1",), "byte", 9)


def test_bridge_command_matches_the_cli():
    from sonic_deploy.cli.deploy import _parser

    cmd = launch_args.bridge_command({"robot": "sim", "network_interface": "lo", "domain_id": "3", "peers": "10.0.0.2",
                                      "uint8_kind": "uint8"})
    ns = _parser().parse_args(cmd[1:])
    assert (ns.interface, ns.domain, ns.peers, ns.uint8_kind, ns.lockstep) == ("lo", 3, "10.0.0.2", "uint8", False)


def test_launch_file_syntax_and_declared_arguments():
    src = (PKG / "launch" / "g1.launch.py").read_text()
    tree = ast.parse(src)
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "generate_launch_description" in funcs
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert {"DeclareLaunchArgument", "ExecuteProcess", "ARGUMENTS", "bridge_command", "parameter_overrides"} <= imported
    assert set(launch_args.ARGUMENTS) == {"robot", "input", "policy", "motion", "network_interface", "config", "domain_id",
                                          "peers", "uint8_kind"}


def test_launch_file_with_stub_launch_modules(monkeypatch, tmp_path):
    """Import the launch file against stand-in `launch` modules and run its setup for robot:=sim and real."""
    import sys
    import types

    made = []

    class Rec:
        def __init__(self, *a, **k):
            self.args, self.kwargs = a, k
            made.append(self)

    class LaunchConfiguration:
        values = {}

        def __init__(self, name):
            self.name = name

        def perform(self, context):
            return self.values.get(self.name, launch_args.ARGUMENTS[self.name][0])

    mods = {"launch": {"LaunchDescription": lambda items: list(items)},
            "launch.actions": {"DeclareLaunchArgument": type("D", (Rec,), {}), "ExecuteProcess": type("E", (Rec,), {}),
                               "OpaqueFunction": type("O", (Rec,), {})},
            "launch.substitutions": {"LaunchConfiguration": LaunchConfiguration},
            "launch_ros": {}, "launch_ros.actions": {"Node": type("N", (Rec,), {})},
            "ament_index_python": {}, "ament_index_python.packages": {"get_package_share_directory": lambda n: str(PKG)}}
    for name, attrs in mods.items():
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        monkeypatch.setitem(sys.modules, name, m)
    import importlib.util

    spec = importlib.util.spec_from_file_location("g1_launch", PKG / "launch" / "g1.launch.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ld = mod.generate_launch_description()
    declared = {d.args[0]: d.kwargs for d in ld if type(d).__name__ == "D"}
    assert set(declared) == set(launch_args.ARGUMENTS)
    assert declared["robot"]["choices"] == ["sim", "real"] and declared["input"]["choices"] == ["motion", "teleop", "smpl", "stream", "tokens"]
    setup = next(d for d in ld if type(d).__name__ == "O").kwargs["function"]
    LaunchConfiguration.values = {"robot": "sim", "policy": "p.onnx", "motion": "clips/"}
    actions = setup(None)
    assert [type(a).__name__ for a in actions] == ["E", "N"]
    assert actions[0].kwargs["cmd"][:2] == ["sonic-deploy", "bridge"]
    node = actions[1].kwargs
    assert node["executable"] == "sonic_deploy_node" and node["parameters"][0] == str(PKG / "config" / "g1.yaml")
    assert node["parameters"][1]["policy"] == "p.onnx" and node["parameters"][1]["controller.auto"] is True
    LaunchConfiguration.values = {"robot": "real", "input": "teleop", "network_interface": "eth0"}
    actions = setup(None)
    assert [type(a).__name__ for a in actions] == ["N"]
    assert actions[0].kwargs["parameters"][1]["network_interface"] == "eth0"


def test_package_layout():
    import xml.etree.ElementTree as ET

    root = ET.parse(PKG / "package.xml").getroot()
    assert root.get("format") == "3" and root.findtext("name") == "sonic_deploy"
    assert root.find("export/build_type").text == "ament_cmake"
    deps = {e.text for e in root.findall("exec_depend")}
    assert {"rclpy", "sensor_msgs", "std_srvs", "geometry_msgs", "diagnostic_msgs", "std_msgs", "launch_ros"} <= deps
    cm = (PKG / "CMakeLists.txt").read_text()
    assert "install(DIRECTORY launch config DESTINATION share/${PROJECT_NAME})" in cm
    assert "install(PROGRAMS scripts/sonic_deploy_node DESTINATION lib/${PROJECT_NAME})" in cm
    assert "ament_python_install_package" not in cm and not (PKG / "sonic_deploy").exists()  # no shadowing module
    node = PKG / "scripts" / "sonic_deploy_node"
    ast.parse(node.read_text())
    assert node.stat().st_mode & 0o111


def test_message_mapping():
    from types import SimpleNamespace

    from sonic_deploy.robots.g1 import G1

    s = SimpleNamespace(q=np.arange(29.0), dq=np.ones(29), tau=np.zeros(29))
    js = messages.joint_state(G1, s)
    assert js["name"][0] == "left_hip_pitch_joint" and js["position"][3] == 3.0 and len(js["effort"]) == 29
    assert messages.token_list(np.array([[3, 1, 4]])) == [3, 1, 4] and messages.token_list(None) == []
    # PoseArray order head, left, right; ROS quaternions x, y, z, w
    poses = [((0.1, 0.0, 1.6), (0, 0, 0, 1)), ((0.3, 0.2, 1.0), (0, 0, 0.7071068, 0.7071068)), ((0.3, -0.2, 1.0), (0, 0, 0, 2))]
    smp = messages.pose_array_to_sample(poses, "operator", 5.0)
    assert smp.frame == "robot" and smp.t == 5.0
    np.testing.assert_allclose(smp.quat[1], [0.7071068, 0, 0, 0.7071068], atol=1e-6)
    np.testing.assert_allclose(smp.quat[2], [1, 0, 0, 0])
    assert messages.pose_array_to_sample(poses, "webxr").frame == "webxr"
    with pytest.raises(ValueError, match="header.frame_id"):
        messages.pose_array_to_sample(poses, "map")
    with pytest.raises(ValueError, match="3 poses"):
        messages.pose_array_to_sample(poses[:2])
    c = messages.parse_motion_command(json.dumps({"action": "play", "clip": "squat", "speed": 0.5}))
    assert (c.action, c.clip, c.speed) == ("play", "squat", 0.5)
    assert messages.parse_motion_command('{"speed": 2}').action == "speed"
    for bad, field in (('{"action": "jump"}', "action"), ('{"action": "play"}', "clip"),
                       ('{"action": "play", "clip": "a", "speed": 9}', "speed"), ('{"clip": "a", "fps": 3}', "fps")):
        with pytest.raises(ValueError, match=field):
            messages.parse_motion_command(bad)


def test_runtime_services_diagnostics_and_motion_commands(tmp_path, synthetic_motions):
    pytest.importorskip("onnx", reason="onnx (dev extra) builds the test policy")
    from sonic_deploy.control.controller import Mode
    from sonic_deploy.policy.testing import write_tracking_policy
    from sonic_deploy.robots.g1 import G1
    from sonic_deploy.robots.mujoco_robot import MujocoRobot
    from sonic_deploy.ros2.runtime import DeployRuntime

    policy = write_tracking_policy(tmp_path / "p.onnx")
    params = load_params_file(CONFIG, overrides={"policy": str(policy), "motion": str(synthetic_motions),
                                                 "controller.ramp_duration": 0.5, "recording.enabled": True,
                                                 "recording.directory": str(tmp_path / "rec")})
    robot = MujocoRobot(G1)
    clock = lambda: robot.tick_ms / 1000.0  # noqa: E731
    robot.clock = clock
    rt = DeployRuntime(params, robot=robot, clock=clock)

    def run(seconds):
        for _ in range(int(round(seconds / 0.02))):
            rt.step()
            robot.advance()

    run(0.1)
    assert rt.controller.mode == Mode.PASSIVE and rt.joint_state()["name"][0] == "left_hip_pitch_joint"
    # each service succeeds only when the transition happened; the message says the mode
    assert rt.service("stop") == (False, "passive: the policy is not running, nothing to stop")
    assert rt.service("start") == (True, "ramp: moving to and holding the default pose")
    assert rt.controller.mode == Mode.RAMP
    ok, text = rt.service("start")  # the ramp (0.5 s) has not finished: the pose is not held yet
    assert not ok and text.startswith("ramp: ") and "call start again" in text and rt.controller.mode == Mode.RAMP
    run(0.7)
    assert rt.service("start") == (True, "active: policy running")
    assert rt.service("start") == (False, "active: already running the policy")
    run(0.5)
    assert rt.controller.mode == Mode.ACTIVE and len(rt.tokens()) == 4
    d = {e["name"]: e for e in rt.diagnostics()}
    assert d["sonic_deploy: controller"]["message"] == "active" and d["sonic_deploy: controller"]["level"] == messages.OK
    assert dict(d["sonic_deploy: input"]["values"])["clip"] == sorted(rt.clips)[0]
    name = sorted(rt.clips)[0]
    ok, text = rt.motion_command(messages.parse_motion_command(json.dumps({"action": "play", "clip": name})))
    assert ok, text
    run(0.3)
    ok, _ = rt.motion_command(messages.parse_motion_command('{"action": "pause"}'))
    run(0.02)
    t_paused = rt.reference.clip_time(rt.reference._t_last)
    run(0.3)
    assert rt.reference.clip_time(rt.reference._t_last) == pytest.approx(t_paused)  # time stands still
    rt.motion_command(messages.parse_motion_command('{"action": "resume", "speed": 2.0}'))
    run(0.1)
    assert rt.reference.clip_time(rt.reference._t_last) == pytest.approx(t_paused + 2 * 0.1, abs=0.041)
    assert rt.service("stop") == (True, "ramp: moving to and holding the default pose")
    assert rt.service("estop") == (True, "estop: latched damping (start or damping clears it)")
    assert rt.controller.mode == Mode.ESTOP and rt.service("estop") == (False, "estop: already latched (damping)")
    run(0.04)
    d = rt.diagnostics()[0]
    assert d["level"] == messages.ERROR and "estop" in d["message"]
    assert rt.service("damping") == (True, "damping") and rt.controller.mode == Mode.DAMPING
    assert rt.service("damping") == (False, "damping: already damping")
    assert rt.service("calibrate") == (False, "no teleop input (input is motion)") and rt.service("fly")[0] is False
    commands = []
    robot.write_command = commands.append
    rt.shutdown()
    assert len(commands) == 5 and all(not c.kp.any() and c.kd.all() for c in commands)  # ends damped
    rt.shutdown()
    from sonic_deploy.recording import SessionReader

    rec = SessionReader(next((tmp_path / "rec").glob("*.mcap")))
    assert [e["event"] for e in rec["event"]][:4] == ["request", "request", "request", "estop"]
    assert rec["fault"][0]["cause"] == "estop"


def test_runtime_keyboard_and_remote_reach_the_controller(tmp_path, synthetic_motions):
    """The keyboard (read when stdin is a terminal) and the wireless remote's bindings act in the node's runtime."""
    import io
    import time

    pytest.importorskip("onnx", reason="onnx (dev extra) builds the test policy")
    from sonic_deploy.control.controller import Mode
    from sonic_deploy.control.remote import encode_remote
    from sonic_deploy.policy.testing import write_tracking_policy
    from sonic_deploy.robots.g1 import G1
    from sonic_deploy.robots.mujoco_robot import MujocoRobot
    from sonic_deploy.ros2.runtime import DeployRuntime

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    params = load_params_file(CONFIG, overrides={"policy": str(write_tracking_policy(tmp_path / "p.onnx")),
                                                 "motion": str(synthetic_motions)})
    robot = MujocoRobot(G1)
    robot.clock = lambda: 0.0  # noqa: E731 - a fixed clock: the state is never stale
    rt = DeployRuntime(params, robot=robot, clock=lambda: 0.0)
    rt.start_loop(stdin=io.StringIO("s"))  # not a terminal: no keyboard
    assert rt.keyboard is None
    rt.shutdown()
    rt = DeployRuntime(params, robot=robot, clock=lambda: 0.0)
    rt.start_loop(stdin=Terminal("s"))  # 's': start
    try:
        assert rt.keyboard is not None
        t_end = time.monotonic() + 5
        while rt.controller.mode != Mode.RAMP and time.monotonic() < t_end:
            time.sleep(0.02)
        assert rt.controller.mode == Mode.RAMP and ("start", "keyboard") in [a[1:] for a in rt.controller.operator_log]
        state = robot.read_state()
        state.wireless_remote = encode_remote(("L2", "B"))  # the e-stop binding, as the robot's LowState_ carries it
        robot.read_state = lambda: state  # noqa: E731
        while rt.controller.mode != Mode.ESTOP and time.monotonic() < t_end:
            time.sleep(0.02)
        assert rt.controller.mode == Mode.ESTOP and rt.controller.fault.cause == "remote_estop"
    finally:
        rt.shutdown()
