"""PPO trainer, rollout storage, schedules and the training loop."""

from sonic_train.trainer.ppo import PPOTrainer
from sonic_train.trainer.ppo_aux import AuxLossPPOTrainer
from sonic_train.trainer.runner import Runner
from sonic_train.trainer.schedules import Schedule, ScheduleManager, set_by_path
from sonic_train.trainer.storage import RolloutStorage, compute_gae

__all__ = ["AuxLossPPOTrainer", "PPOTrainer", "RolloutStorage", "Runner", "Schedule", "ScheduleManager",
           "compute_gae", "set_by_path"]
