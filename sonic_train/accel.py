"""Hugging Face Accelerate (DDP) around the policy-and-value wrapper; rank-aware helpers.

Launch with ``accelerate launch --multi_gpu ...`` (or ``--cpu`` with gloo); a plain ``python`` run is
a single process and everything here degrades to no-ops.
"""

from __future__ import annotations

from typing import Any


def make_accelerator(cpu: bool | None = None, find_unused_parameters: bool = False) -> Any:
    """An ``Accelerator`` whose DDP wrapper suits the trainer.

    ``find_unused_parameters`` must be true when a forward leaves some parameters out of the loss (plain
    PPO with a g1_kin decoder); the aux trainer uses every parameter.
    """
    from accelerate import Accelerator, DistributedDataParallelKwargs

    kwargs = DistributedDataParallelKwargs(find_unused_parameters=find_unused_parameters)
    return Accelerator(cpu=bool(cpu) if cpu is not None else False, kwargs_handlers=[kwargs])


def is_main_process(accelerator: Any = None) -> bool:
    return accelerator is None or accelerator.is_main_process


def process_index(accelerator: Any = None) -> int:
    return 0 if accelerator is None else int(accelerator.process_index)


def rank_seed(seed: int, accelerator: Any = None) -> int:
    """Different environment/rollout seed per rank (same model init comes from DDP's broadcast)."""
    return int(seed) + 1000 * process_index(accelerator)
