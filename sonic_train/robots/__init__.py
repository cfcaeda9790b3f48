"""Robots known to training (re-exported from the torch-free runtime package)."""
