"""A tiny trained run (smoke preset, 2 iterations, 4 envs) shared by the evaluation/export/monitor tests."""

from __future__ import annotations

import pytest
import torch
from hydra import compose, initialize_config_dir

from sonic_train.cli.train import config_dir

SMOKE = "+exp=manager/universal_token/all_modes/sonic_smoke"


def compose_cfg(name: str, overrides: list[str]):
    with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
        return compose(name, overrides=overrides)


@pytest.fixture(scope="session")
def compose_config():
    """compose(config_name, overrides) -> the composed Hydra config of configs/."""
    return compose_cfg


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, synthetic_motions):
    """(run folder, [checkpoints]) of a 2-iteration smoke training on the synthetic motions."""
    from sonic_train.cli.train import run

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("tiny_run")
    cfg = compose_cfg("base", [SMOKE, "num_envs=4", "algo.config.num_learning_iterations=2",
                               "algo.config.num_steps_per_env=8", f"experiment_dir={out}",
                               f"+motions={synthetic_motions}", "callbacks=[model_save]",
                               "callbacks.model_save.save_interval=1", "sim.num_threads=2"])
    run(cfg)
    ckpts = sorted(out.glob("model_*.pt"))
    assert [p.name for p in ckpts] == ["model_1.pt", "model_2.pt"]
    return out, ckpts
