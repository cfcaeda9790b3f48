"""sonic_train: universal-token policy, PPO trainer, environments, evaluation and ONNX export (torch)."""

__version__ = "0.1.0"
