"""Tests of the Isaac Lab backend, run inside .venv-isaaclab (Python 3.12, isaaclab 3) on the CPU.

The main 3.11 suite ignores this folder (pyproject addopts) and runs it through tests/isaaclab/. Isaac Lab keeps
one simulation per process: every fixture here closes its backend before the next one is built.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("WARP_CACHE_PATH", str(Path(__file__).resolve().parents[2] / ".cache" / "warp"))

pytest.importorskip("isaaclab", reason="tests/isaaclab_env runs in the Isaac Lab environment (.venv-isaaclab)")

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture()
def isaaclab_backend():
    """Factory: ``make(**kw)`` builds an IsaacLabBackend (or ``make(builder=fn)`` takes ``fn()``'s); closed at
    teardown, and before the next one is made (one simulation at a time)."""
    from sonic_train.envs.isaaclab.backend import IsaacLabBackend

    made = []

    def make(builder=None, **kw):
        while made:
            made.pop().close()
        b = builder() if builder is not None else IsaacLabBackend(**kw)
        made.append(b)
        return b

    yield make
    while made:
        made.pop().close()
