"""The 50 Hz controller: state machine, safety (limits, watchdogs, NaN guard), motor thermal protection, the
wireless remote and keyboard as operator inputs, and the fixed-rate loop."""

from sonic_deploy.control.controller import Controller, ControllerConfig, Mode
from sonic_deploy.control.loop import LoopStats, RateLoop
from sonic_deploy.control.operator import KeyboardReader, OperatorQueue
from sonic_deploy.control.remote import RemoteBindings, RemoteWatcher, encode_remote
from sonic_deploy.control.safety import Fault, SafetyConfig
from sonic_deploy.control.thermal import ThermalConfig, ThermalMonitor

__all__ = ["Controller", "ControllerConfig", "Fault", "KeyboardReader", "LoopStats", "Mode", "OperatorQueue",
           "RateLoop", "RemoteBindings", "RemoteWatcher", "SafetyConfig", "ThermalConfig", "ThermalMonitor",
           "encode_remote"]
