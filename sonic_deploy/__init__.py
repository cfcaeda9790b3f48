"""sonic_deploy: the torch-free runtime (robot spec, MuJoCo scene, motion library, controller, robot I/O)."""

__version__ = "0.1.0"
