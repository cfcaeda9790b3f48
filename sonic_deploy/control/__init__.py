"""The 50 Hz controller: state machine, safety (limits, watchdogs, NaN guard), fixed-rate loop."""

from sonic_deploy.control.controller import Controller, ControllerConfig, Mode
from sonic_deploy.control.loop import LoopStats, RateLoop
from sonic_deploy.control.safety import Fault, SafetyConfig

__all__ = ["Controller", "ControllerConfig", "Fault", "LoopStats", "Mode", "RateLoop", "SafetyConfig"]
