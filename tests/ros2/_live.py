"""The node as a user starts it, for the live tests: the package's parameter file plus exactly the overrides
``g1.launch.py`` passes (a second parameter file, as launch_ros writes one), the bridge from ``bridge_command``, and
an rclpy client in the test process. ROS 2 and Unitree DDS get their own domains per test run, traffic stays on
loopback (``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``; the bridge on ``lo``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from sonic_deploy.ros2 import launch_args
from sonic_deploy.ros2.env import ros_environment

PKG = Path(__file__).resolve().parents[2] / "ros2_ws" / "src" / "sonic_deploy"
CONFIG = PKG / "config" / "g1.yaml"
NODE = PKG / "scripts" / "sonic_deploy_node"
POLICY = Path(__file__).resolve().parents[2] / "policies" / "g1_sonic_smoke" / "policy.onnx"
ROS_DOMAIN = 20 + os.getpid() % 70  # this run's ROS 2 domain (Fast DDS: 0..101)
UNITREE_DOMAIN = 100 + os.getpid() % 60  # this run's rt/lowstate, rt/lowcmd domain; modules use +0..+9


def require_rclpy():
    """rclpy, or a visible skip; under CI (CI=true) a missing rclpy is a failure: CI installs the ROS 2 wheels."""
    try:
        import rclpy
    except ImportError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"rclpy does not import under CI ({exc}): scripts/install.sh installs the ROS 2 wheels",
                        pytrace=False)
        pytest.skip(f"rclpy is not installed ({exc}): bash scripts/install.sh installs the ROS 2 wheels on x86_64",
                    allow_module_level=True)
    return rclpy


def node_env() -> dict:
    env = ros_environment(unitree_domain=UNITREE_DOMAIN)
    env.update(ROS_DOMAIN_ID=str(ROS_DOMAIN), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST", PYTHONUNBUFFERED="1")
    return env


def launch(tmp_path: Path, arguments: dict, extra: dict | None = None) -> list[str]:
    """The node's command line for launch ``arguments``: the package's g1.yaml, then the launch overrides (plus
    ``extra`` parameters a test needs, in a file of their own after them)."""
    files = [CONFIG]
    for i, params in enumerate((launch_args.parameter_overrides(arguments), extra or {})):
        if params:
            f = tmp_path / f"params_{i}.yaml"
            f.write_text(yaml.safe_dump({"/**": {"ros__parameters": params}}))
            files.append(f)
    cmd = [sys.executable, str(NODE), "--ros-args"]
    for f in files:
        cmd += ["--params-file", str(f)]
    return cmd


def bridge(arguments: dict, *extra: str) -> list[str]:
    """``bridge_command(arguments)`` with the venv's ``sonic-deploy`` (what the launch file starts) and ``extra``."""
    cmd = launch_args.bridge_command(arguments)
    return [str(Path(sys.executable).with_name(cmd[0]))] + cmd[1:] + list(extra)


class Proc:
    """A child process whose output is collected on a thread."""

    def __init__(self, cmd: list[str], env: dict):
        self.cmd = cmd
        self.p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[str] = []
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def interrupt(self, timeout: float = 20.0) -> int:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        try:
            return self.p.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(10)
        self._t.join(5)


class Client:
    """An rclpy client on the test's ROS 2 domain, spinning on its own thread: the latest /diagnostics entries,
    /joint_states arrival times, ~/tokens, and Trigger calls."""

    def __init__(self, rclpy, name: str = "sonic_test_client"):
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import JointState
        from std_msgs.msg import Int32MultiArray

        os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
        self.rclpy = rclpy
        self.ctx = rclpy.Context()
        rclpy.init(context=self.ctx, domain_id=ROS_DOMAIN)
        self.node = rclpy.create_node(name, context=self.ctx)
        be = QoSProfile(reliability=ReliabilityPolicy.BEST_EFFORT, history=HistoryPolicy.KEEP_LAST, depth=50)
        self.joint_times: list[float] = []
        self.joint_states: list = []
        self.diag: dict[str, dict] = {}
        self.diag_count = 0
        self.tokens: list[list[int]] = []
        self._clients: dict = {}
        self.node.create_subscription(JointState, "/joint_states", self._on_js, be)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diag, be)
        self.node.create_subscription(Int32MultiArray, "/sonic_deploy/tokens", lambda m: self.tokens.append(list(m.data)), be)
        self.executor = SingleThreadedExecutor(context=self.ctx)
        self.executor.add_node(self.node)
        self._spin = threading.Thread(target=self._run, daemon=True)
        self._stop = False
        self._spin.start()

    def _run(self):
        while not self._stop and self.ctx.ok():
            self.executor.spin_once(timeout_sec=0.05)

    def _on_js(self, m):
        self.joint_times.append(time.monotonic())
        self.joint_states.append(m)

    def _on_diag(self, arr):
        self.diag_count += 1
        for s in arr.status:
            self.diag[s.name] = {"level": s.level[0] if isinstance(s.level, bytes) else int(s.level),
                                 "message": s.message, "values": {kv.key: kv.value for kv in s.values}}

    def publisher(self, msg_type, topic: str, reliable: bool = False):
        from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

        rel = ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT
        return self.node.create_publisher(msg_type, topic, QoSProfile(reliability=rel, history=HistoryPolicy.KEEP_LAST,
                                                                      depth=10))

    def wait_subscribers(self, pub, timeout: float = 15.0) -> bool:
        return wait_for(lambda: pub.get_subscription_count() > 0, timeout)

    def call(self, service: str, timeout: float = 10.0):
        """A Trigger call. One client per service, kept: a client made just before its call may miss the reply
        (the service's reply writer has not matched the new client's reader yet)."""
        from std_srvs.srv import Trigger

        cli = self._clients.get(service)
        if cli is None:
            cli = self._clients[service] = self.node.create_client(Trigger, f"/sonic_deploy/{service}")
            assert cli.wait_for_service(timeout_sec=timeout), f"service /sonic_deploy/{service} not found"
            time.sleep(0.5)  # discovery of the reply direction
        fut = cli.call_async(Trigger.Request())
        assert wait_for(fut.done, timeout), f"/sonic_deploy/{service} did not answer"
        return fut.result()

    def values(self, name: str) -> dict:
        """The values of the last /diagnostics entry ``name``."""
        return self.diag[name]["values"]

    def mode(self) -> str | None:
        c = self.diag.get("sonic_deploy: controller")
        return None if c is None else c["values"].get("mode")

    def wait_mode(self, mode: str, timeout: float) -> bool:
        return wait_for(lambda: self.mode() == mode, timeout)

    def close(self):
        self._stop = True
        self._spin.join(5)
        self.executor.shutdown()
        self.node.destroy_node()
        self.rclpy.try_shutdown(context=self.ctx)


def publish_until(pub, make, cond, timeout: float = 10.0, rate: float = 50.0) -> bool:
    """Publish ``make()`` at ``rate`` Hz (a stream, as a sender runs one) until ``cond()`` or the timeout."""
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if cond():
            return True
        pub.publish(make())
        time.sleep(1.0 / rate)
    return bool(cond())


def failure(sim, what: str) -> str:
    """An assertion message with the tail of the node's and the bridge's output."""
    return f"{what}\n--- node ---\n{sim.node.output[-3000:]}\n--- bridge ---\n{sim.bridge.output[-1500:]}"


def wait_for(cond, timeout: float, step: float = 0.02) -> bool:
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())
