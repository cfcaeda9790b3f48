"""ROS 2 (Fast DDS, the wheels' rmw_fastrtps) and our Cyclone DDS on one domain: the cause of the
``ddsi_xt_type_init_impl with invalid type object`` lines and the setting that ends them.

When a Cyclone 0.11+ endpoint meets a Fast DDS one on a topic, Cyclone fetches Fast DDS's type object to check
assignability; Fast DDS writes collection element flags with both XTypes "try construct" bits 0 (every ROS type with
a sequence: Int32MultiArray, JointState, DiagnosticArray...), which Cyclone rejects with those lines unless
``Compatibility/AllowInvalidTryConstruct`` is on; ``DdsConfig`` turns it on for Cyclone 11. Domains kept apart (ROS 2
on its own ROS_DOMAIN_ID, sonic_deploy/ros2/env.py) avoid the meeting altogether; this test puts both on one domain.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NEEDLE = "with invalid type object"

ROS_PUBLISHER = """
import sys, time, rclpy
from std_msgs.msg import Int32MultiArray
rclpy.init()
node = rclpy.create_node("sonic_shared_domain_probe")
pub = node.create_publisher(Int32MultiArray, "tokens", 10)
t_end = time.time() + float(sys.argv[1])
while time.time() < t_end:
    pub.publish(Int32MultiArray(data=[1, 2, 3]))
    rclpy.spin_once(node, timeout_sec=0.05)
"""

CYCLONE_READER = """
import sys, time
from dataclasses import dataclass, replace
import cyclonedds.idl as cidl, cyclonedds.idl.types as types
from sonic_deploy.dds.channel import DdsConfig, RawReader, participant

@dataclass
class Tokens(cidl.IdlStruct, typename="std_msgs.msg.dds_.Int32MultiArray_"):
    data: types.sequence[types.int32]

cfg = replace(DdsConfig.for_network("lo", int(sys.argv[1])), accept_fastdds_types=sys.argv[2] == "1")
reader = RawReader(participant(cfg), "rt/tokens", Tokens)
time.sleep(float(sys.argv[3]))
print("done", flush=True)
"""


def _ros_env(domain: int):
    from sonic_deploy.ros2.env import ros_environment

    env = ros_environment()
    env.update(ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
    return env


@pytest.fixture(scope="module")
def ros_python():
    try:
        env = _ros_env(0)
    except Exception as exc:  # noqa: BLE001 - sonic_deploy.ros2 is optional here
        pytest.skip(f"no ROS 2 environment: {exc}")
    r = subprocess.run([sys.executable, "-c", "import rclpy, std_msgs.msg"], env=env, capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        pytest.skip(f"rclpy does not import (scripts/install.sh installs the ROS 2 wheels on x86_64): {r.stderr[-300:]}")
    return sys.executable


def test_cyclone_accepts_fastdds_type_objects_on_a_shared_domain(ros_python, dds_cfg):
    domain = dds_cfg.domain_id
    ros = subprocess.Popen([ros_python, "-c", ROS_PUBLISHER, "40"], env=_ros_env(domain), cwd=str(ROOT),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3.0)
        env = dict(os.environ)
        env.pop("CYCLONEDDS_URI", None)
        readers = {flag: subprocess.Popen([sys.executable, "-c", CYCLONE_READER, str(domain), flag, "8"], env=env,
                                          cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for flag in ("0", "1")}
        out = {flag: p.communicate(timeout=120) for flag, p in readers.items()}
    finally:
        ros.terminate()
        ros.communicate(timeout=30)
    for flag, p in readers.items():
        assert p.returncode == 0 and "done" in out[flag][0], out[flag][1][-2000:]
    without, with_setting = (out["0"][0] + out["0"][1]), (out["1"][0] + out["1"][1])
    assert NEEDLE in without, "the Fast DDS type object no longer trips Cyclone: revisit the setting"
    assert NEEDLE not in with_setting, with_setting[-2000:]
