"""Checkpoint monitor: evaluates new checkpoints of a running experiment (``sonic-monitor``)."""

from sonic_train.monitor.checkpoint_evaluator import CheckpointEvaluator, find_wandb_run  # noqa: F401
