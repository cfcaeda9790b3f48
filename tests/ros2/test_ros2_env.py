"""The ROS 2 environment helper (sonic_deploy.ros2.env): what rclpy needs from the PyPI wheels, and the domain rule."""

import os
import subprocess
import sys

import pytest

from sonic_deploy.ros2 import env as rosenv


def test_sourced_ros_install_is_left_alone():
    base = {"ROS_DISTRO": "jazzy", "LD_LIBRARY_PATH": "/opt/ros/jazzy/lib", "RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp"}
    assert rosenv.ros_environment(base) == base
    assert rosenv.missing(base) == []


def test_domains_apart():
    assert rosenv.ros_environment({"ROS_DISTRO": "jazzy"}, unitree_domain=0)["ROS_DOMAIN_ID"] == str(rosenv.DEFAULT_ROS_DOMAIN)
    assert rosenv.ros_environment({"ROS_DISTRO": "j", "ROS_DOMAIN_ID": "0"}, unitree_domain=0)["ROS_DOMAIN_ID"] != "0"
    assert rosenv.ros_environment({"ROS_DISTRO": "j", "ROS_DOMAIN_ID": "3"}, unitree_domain=0)["ROS_DOMAIN_ID"] == "3"
    d = rosenv.DEFAULT_ROS_DOMAIN
    assert rosenv.ros_environment({"ROS_DISTRO": "j"}, unitree_domain=d)["ROS_DOMAIN_ID"] == str(d + 1)
    assert "ROS_DOMAIN_ID" not in rosenv.ros_environment({"ROS_DISTRO": "j"})


def test_wheels_environment():
    dirs = rosenv.wheel_library_dirs()
    if not dirs:
        if os.environ.get("CI") == "true":
            pytest.fail("the ROS 2 wheels are not installed under CI (scripts/install.sh installs them)", pytrace=False)
        pytest.skip("the ROS 2 wheels are not installed here (bash scripts/install.sh installs them on x86_64)")
    assert dirs[0] == os.path.join(sys.prefix, "lib") and os.path.exists(os.path.join(dirs[0], "librcl.so"))
    assert any(d.endswith("ros_rcl.libs") for d in dirs)
    env = rosenv.ros_environment({"LD_LIBRARY_PATH": "/usr/local/cuda/lib64", "RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp"})
    parts = env["LD_LIBRARY_PATH"].split(os.pathsep)
    assert parts[:len(dirs)] == dirs and parts[-1] == "/usr/local/cuda/lib64"  # the user's paths stay, after ours
    assert env["RMW_IMPLEMENTATION"] == "rmw_fastrtps_cpp" and env[rosenv.GUARD] == "1"
    assert rosenv.missing(env) == [] and rosenv.missing({}) == ["LD_LIBRARY_PATH", "RMW_IMPLEMENTATION"]
    # the printed exports set up a shell: rclpy starts there with the wheels' middleware
    out = subprocess.run([sys.executable, "-m", "sonic_deploy.ros2.env", "0"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "export RMW_IMPLEMENTATION=rmw_fastrtps_cpp" in out.stdout
    assert f"export ROS_DOMAIN_ID={rosenv.DEFAULT_ROS_DOMAIN}" in out.stdout or os.environ.get("ROS_DOMAIN_ID")
    script = out.stdout + f"\n{sys.executable} -c 'import rclpy, os; rclpy.init(); n = rclpy.create_node(\"env_check\"); " \
        "print(\"rmw\", rclpy.get_rmw_implementation_identifier())'"
    bare = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), rosenv.GUARD: "1",
            "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    res = subprocess.run(["bash", "-c", script], env=bare, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "rmw rmw_fastrtps_cpp" in res.stdout, res.stdout + res.stderr
