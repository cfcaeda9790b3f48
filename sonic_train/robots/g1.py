"""The G1 spec as training sees it. The tables live in ``sonic_deploy.robots.g1`` (torch-free, one source)."""

from sonic_deploy.robots.g1 import G1, RobotSpec, make_g1_spec, tracking_gains  # noqa: F401
