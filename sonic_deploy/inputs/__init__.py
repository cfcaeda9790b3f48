"""Reference inputs for the encoders: motion-library player, and plug points for teleop / SMPL streams."""

from sonic_deploy.inputs.base import ReferenceFrames, ReferenceSource, StreamNotConnected
from sonic_deploy.inputs.motion_player import MotionPlayer
from sonic_deploy.inputs.streams import SmplStream, TeleopStream

__all__ = ["MotionPlayer", "ReferenceFrames", "ReferenceSource", "SmplStream", "StreamNotConnected", "TeleopStream"]
