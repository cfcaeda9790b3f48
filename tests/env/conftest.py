"""Environment tests: torch on one thread (the MuJoCo backend owns the cores)."""

import torch

torch.set_num_threads(1)
