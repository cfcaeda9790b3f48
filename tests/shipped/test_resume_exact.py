"""A training run stopped at a checkpoint and resumed in a new process state continues bit for bit.

Run A trains 4 iterations in one go (checkpoints at 2 and 4); run B starts with another seed, resumes from A's
iteration-2 checkpoint and trains to 4. With domain randomisation on (friction, mass, gains, joint offsets,
pushes) and 4 envs whose episodes end and restart inside the run, B's iteration-4 checkpoint must equal A's:
weights, optimizer, per-env MuJoCo state, clip/time state and the environment's random generators.
"""

from __future__ import annotations

import torch

from sonic_train.callbacks.model_save import read_checkpoint
from sonic_train.cli.train import main

SMOKE = "+exp=manager/universal_token/all_modes/sonic_smoke"


def _overrides(exp, motions, seed: int) -> list[str]:
    return [SMOKE, f"experiment_dir={exp}", f"+motions={motions}", f"seed={seed}", "num_envs=4",
            "algo.config.num_learning_iterations=4", "algo.config.save_interval=2", "algo.config.num_steps_per_env=8",
            "algo.config.num_learning_epochs=1", "algo.config.num_mini_batches=2", "manager_env.events.level=4",
            "manager_env.config.episode_length_s=0.2", "callbacks=[im_resample,model_save]"]


def _flat(x, prefix=""):
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _flat(v, f"{prefix}/{k}")
    elif isinstance(x, (list, tuple)):
        for k, v in enumerate(x):
            yield from _flat(v, f"{prefix}/{k}")
    else:
        yield prefix, x


def _equal(a, b) -> bool:
    if torch.is_tensor(a):
        return torch.is_tensor(b) and a.shape == b.shape and torch.equal(a, b)
    return a == b


def test_resume_is_bit_exact(tmp_path, synthetic_motions):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(_overrides(a, synthetic_motions, seed=3)) == 0
    assert main(_overrides(b, synthetic_motions, seed=11) + [f"+resume={a / 'model_2.pt'}"]) == 0
    ca, cb = read_checkpoint(a / "model_4.pt"), read_checkpoint(b / "model_4.pt")
    assert cb["iteration"] == ca["iteration"] == 4
    fa, fb = dict(_flat(ca["runner"])), dict(_flat(cb["runner"]))
    assert fa.keys() == fb.keys()
    differ = [k for k in fa if not _equal(fa[k], fb[k])]
    assert not differ, differ[:10]
    snap = ca["runner"]["env_exact"]
    # the run did restart episodes and randomise models, and moved the weights from iteration 2
    assert int(snap["common_step_counter"]) == 32 and len(snap["backend"]["own_models"]) > 0
    c2 = read_checkpoint(a / "model_2.pt")["runner"]["trainer"]["model"]
    assert any(not torch.equal(c2[k], v) for k, v in ca["runner"]["trainer"]["model"].items())
    assert torch.equal(ca["rng"]["torch"], cb["rng"]["torch"])
