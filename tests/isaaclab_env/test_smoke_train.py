"""``sonic-train`` with ``sim=isaaclab`` (the same Hydra experiment as on MuJoCo): 2 PPO iterations write a
checkpoint; ``sonic-export`` exports it to ONNX and ``sonic-deploy sim2sim`` runs that artifact on MuJoCo."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from sonic_train.callbacks.model_save import read_checkpoint
from sonic_train.cli.train import main as train_main

SMOKE = "+exp=manager/universal_token/all_modes/sonic_smoke"
ROOT = Path(__file__).resolve().parents[2]


def test_two_ppo_iterations_on_isaaclab_then_export_and_sim2sim(tmp_path, synthetic_motions):
    exp = tmp_path / "smoke_isaaclab"
    assert train_main([SMOKE, "sim=isaaclab", "num_envs=4", f"experiment_dir={exp}", f"+motions={synthetic_motions}",
                       "algo.config.num_learning_iterations=2", "algo.config.save_interval=1", "seed=1"]) == 0
    meta = yaml.safe_load((exp / "meta.yaml").read_text())
    assert meta["sim"] == "isaaclab"
    ckpt = read_checkpoint(exp / "model_2.pt")
    assert ckpt["iteration"] == 2

    from sonic_train.cli.export import main as export_main

    onnx = tmp_path / "policy.onnx"
    assert export_main([f"+checkpoint={exp / 'model_2.pt'}", f"+out={onnx}"]) == 0
    assert onnx.is_file()

    # deploy runs in the deploy environment (the main .venv, mujoco 4) where it exists, else here
    report = tmp_path / "sim2sim.json"
    args = ["sim2sim", "--policy", str(onnx), "--motion", str(synthetic_motions / "squat.npz"), "--duration", "2",
            "--report", str(report)]
    main_py = ROOT / ".venv" / "bin" / "python"
    if main_py.exists():
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        proc = subprocess.run([str(main_py), "-m", "sonic_deploy.cli.deploy", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    else:
        from sonic_deploy.cli.deploy import main as deploy_main

        assert deploy_main(args) == 0
    rep = json.loads(report.read_text())
    assert rep["completed"] and rep["duration_s"] == 2.0
