"""sonic-monitor: three checkpoints (one corrupt) -> two evaluated, one recorded as failed; a restart redoes nothing."""

from __future__ import annotations

import json
import shutil

from omegaconf import OmegaConf

from sonic_train.monitor import CheckpointEvaluator, find_wandb_run


def _cfg(exp, **kw):
    base = {"experiment_dir": str(exp), "single_pass": True, "num_eval_envs": 3, "num_render_videos": 0,
            "eval_args": ["++max_episode_s=0.4"], "scan_interval": 0.1, "eval_timeout_s": 300,
            "wandb": {"enabled": True, "mode": "offline"}}
    base.update(kw)
    return OmegaConf.create(base)


def test_monitor_three_checkpoints_one_corrupt(tiny_run, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    run_dir, ckpts = tiny_run
    exp = tmp_path / "exp"
    exp.mkdir()
    for name in ("config.yaml", "meta.yaml"):
        shutil.copy(run_dir / name, exp / name)
    shutil.copy(ckpts[0], exp / "model_10.pt")
    shutil.copy(ckpts[1], exp / "model_20.pt")
    (exp / "model_30.pt").write_bytes(b"PK\x03\x04 this is not a checkpoint" * 50)

    mon = CheckpointEvaluator(_cfg(exp))
    assert [p.name for p in mon.pending()] == ["model_10.pt", "model_20.pt", "model_30.pt"]
    ledger = mon.run()
    cks = ledger["checkpoints"]
    assert set(cks) == {"model_10.pt", "model_20.pt", "model_30.pt"}
    for name, it in (("model_10.pt", 10), ("model_20.pt", 20)):
        e = cks[name]
        assert e["status"] == "done" and e["iteration"] == it
        metrics = json.loads(open(e["metrics_file"]).read())
        assert metrics["aggregate"]["num_motions"] == 6
        assert 0 < e["aggregate"]["mpjpe_g_mm"] < 2000 and 0 <= e["aggregate"]["success_rate"] <= 1
        assert e["wandb"].startswith("logged to run")
    bad = cks["model_30.pt"]
    assert bad["status"] == "failed" and bad["returncode"] != 0
    assert "model_30.pt" in bad["stderr_tail"] and "corrupt" in bad["stderr_tail"]
    assert len(mon.launched) == 3
    # the ledger on disk is the same, complete JSON
    assert json.loads((exp / "eval" / "ledger.json").read_text())["checkpoints"].keys() == cks.keys()
    assert find_wandb_run(exp)["id"]  # the W&B run the monitor logged to can be found again

    again = CheckpointEvaluator(_cfg(exp))
    assert again.pending() == []
    again.run()
    assert again.launched == []
    assert json.loads((exp / "eval" / "ledger.json").read_text())["checkpoints"] == cks

    # a new checkpoint appears: only that one is evaluated; eval_frequency=2 skips every other one
    shutil.copy(ckpts[1], exp / "model_40.pt")
    shutil.copy(ckpts[1], exp / "model_50.pt")
    third = CheckpointEvaluator(_cfg(exp, eval_frequency=2, wandb={"enabled": False}))
    assert [p.name for p in third.pending()] == ["model_50.pt"]  # index 4 of 10,20,30,40,50
    third.run()
    assert len(third.launched) == 1 and third.ledger["checkpoints"]["model_50.pt"]["status"] == "done"
