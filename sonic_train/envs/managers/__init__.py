"""One manager per MDP concern; each prints a table of its active terms at start-up."""

from sonic_train.envs.managers.command_manager import MotionCommand  # noqa: F401
from sonic_train.envs.managers.curriculum_manager import CurriculumManager  # noqa: F401
from sonic_train.envs.managers.event_manager import EventManager  # noqa: F401
from sonic_train.envs.managers.observation_manager import ObservationManager  # noqa: F401
from sonic_train.envs.managers.reward_manager import RewardManager  # noqa: F401
from sonic_train.envs.managers.termination_manager import TerminationManager  # noqa: F401
