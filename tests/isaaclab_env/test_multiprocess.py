"""Multi-process training on the Isaac Lab backend: torchrun, one env per rank (gloo on CPU here; NCCL and one
GPU per rank on a server, the same command with device=cuda)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sonic_train.callbacks.model_save import read_checkpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_ranks_train_on_isaaclab(tmp_path, synthetic_motions):
    exp = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1", HYDRA_FULL_ERROR="1")
    env.pop("PYTHONPATH", None)
    torchrun = Path(sys.executable).parent / "torchrun"
    cmd = [str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "sonic_train.cli.train",
           "+exp=manager/universal_token/all_modes/sonic_smoke", "sim=isaaclab", "num_envs=2",
           f"+motions={synthetic_motions}", "algo.config.num_learning_iterations=2", "algo.config.save_interval=1",
           f"experiment_dir={exp}"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert out.count("experiment ") >= 1 and (exp / "model_2.pt").is_file(), out[-2000:]
    assert read_checkpoint(exp / "model_2.pt")["iteration"] == 2
