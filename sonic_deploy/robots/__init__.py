"""Robot specs and the MuJoCo scene built from them."""

from sonic_deploy.robots.g1 import G1, RobotSpec, make_g1_spec

__all__ = ["G1", "RobotSpec", "make_g1_spec"]
