"""CPU MuJoCo simulator backend."""

from sonic_train.envs.mujoco.backend import MujocoBackend  # noqa: F401
