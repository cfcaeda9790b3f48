"""``sonic-deploy bridge``: a MuJoCo G1 that speaks the robot's DDS protocol (``rt/lowstate``, ``rt/lowcmd``)."""

from sonic_deploy.bridge.server import BridgeConfig, MujocoBridge

__all__ = ["BridgeConfig", "MujocoBridge"]
