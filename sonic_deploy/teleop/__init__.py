"""VR 3-point teleoperation: calibration, scaling, smoothing and dropout handling for the teleop encoder's input,
fed by a WebSocket server (with a WebXR page for Quest, PICO and Vision Pro browsers), a ROS 2 topic or a recorded
session; and the motion-stream input that lets a planner drive the robot with reference frames."""

from sonic_deploy.teleop.calibration import Calibration, VrReference, default_vr_reference
from sonic_deploy.teleop.filters import ExpSmoother
from sonic_deploy.teleop.input import TeleopConfig, TeleopInput
from sonic_deploy.teleop.poses import PoseFormatError, PoseSample, parse_pose_message

__all__ = ["Calibration", "ExpSmoother", "PoseFormatError", "PoseSample", "TeleopConfig", "TeleopInput", "VrReference",
           "default_vr_reference", "parse_pose_message"]
