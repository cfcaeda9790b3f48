"""The node itself, where rclpy imports (a ROS 2 install); skipped, visibly, elsewhere."""

import subprocess
import sys
from pathlib import Path

import pytest

rclpy = pytest.importorskip("rclpy", reason="rclpy is not installed here (no ROS 2): the node's logic is tested "
                                            "through plain functions in tests/ros2/test_ros2_plain.py")

NODE = Path(__file__).resolve().parents[2] / "ros2_ws" / "src" / "sonic_deploy" / "scripts" / "sonic_deploy_node"


def test_node_rejects_bad_parameters_with_the_field_named(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("sonic_deploy:\n  ros__parameters:\n    robot: mars\n    policy: p.onnx\n")
    res = subprocess.run([sys.executable, str(NODE), "--ros-args", "--params-file", str(cfg)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "parameter 'robot'" in res.stderr


def test_node_imports_and_declares_every_parameter():
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("sonic_deploy_node", str(NODE))
    spec = importlib.util.spec_from_loader("sonic_deploy_node", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    assert hasattr(mod, "SonicDeployNode") and callable(mod.main)
