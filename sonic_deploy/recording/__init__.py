"""Session recording: every deployment step (state, command, reference input, action, faults, operator events)
to an MCAP file readable without ROS, and a replay that runs the recording back through the controller."""

from sonic_deploy.recording.mcap_log import SessionReader, SessionRecorder
from sonic_deploy.recording.replay import ReplayResult, replay

__all__ = ["ReplayResult", "SessionReader", "SessionRecorder", "replay"]
