"""ros2 launch sonic_deploy g1.launch.py robot:=sim|real input:=motion|teleop|smpl|stream|tokens policy:=path.onnx motion:=path
network_interface:=lo config:=<params.yaml> domain_id:=0

robot:=sim also starts the MuJoCo DDS bridge (`sonic-deploy bridge`) on the same interface and domain.
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from sonic_deploy.ros2.launch_args import ARGUMENTS, bridge_command, parameter_overrides


def _setup(context, *args, **kwargs):
    values = {name: LaunchConfiguration(name).perform(context) for name in ARGUMENTS}
    config = values.pop("config") or str(Path(get_package_share_directory("sonic_deploy")) / "config" / "g1.yaml")
    actions = []
    bridge = bridge_command(values)
    if bridge is not None:
        actions.append(ExecuteProcess(cmd=bridge, name="sonic_bridge", output="screen"))
    actions.append(Node(package="sonic_deploy", executable="sonic_deploy_node", name="sonic_deploy", output="screen",
                        parameters=[config, parameter_overrides(values)]))
    return actions


def generate_launch_description():
    declared = [DeclareLaunchArgument(name, default_value=default, description=doc,
                                      **({"choices": list(choices)} if choices else {}))
                for name, (default, choices, doc) in ARGUMENTS.items()]
    return LaunchDescription(declared + [OpaqueFunction(function=_setup)])
