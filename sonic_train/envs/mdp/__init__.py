"""MDP terms written once over the backend-neutral :class:`RobotState` and the motion command."""

from sonic_train.envs.mdp.state import ReferenceFrame, RobotState  # noqa: F401
