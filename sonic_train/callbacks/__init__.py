"""Training callbacks: the protocol, checkpoints, W&B and TensorBoard logging."""

from sonic_train.callbacks.base import Callback, CallbackList
from sonic_train.callbacks.model_save import (
    CheckpointError,
    ModelSaveCallback,
    latest_checkpoint,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from sonic_train.callbacks.tensorboard_cb import TensorboardCallback
from sonic_train.callbacks.wandb_cb import WandbCallback

__all__ = ["Callback", "CallbackList", "CheckpointError", "ModelSaveCallback", "TensorboardCallback",
           "WandbCallback", "latest_checkpoint", "load_checkpoint", "read_checkpoint", "save_checkpoint"]
