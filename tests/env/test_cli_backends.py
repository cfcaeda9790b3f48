"""Backend selection: an unknown or uninstalled backend is a one-line error that says how to get it."""

from __future__ import annotations

import pytest

from sonic_train.cli.train import config_dir, main
from sonic_train.envs.factory import BackendUnavailable, make_backend
from sonic_train.robots.g1 import G1


def test_unknown_and_uninstalled_backends():
    with pytest.raises(BackendUnavailable, match="unknown simulator backend.*isaaclab.*mujoco"):
        make_backend({"backend": "gazebo"}, 2, G1)
    try:
        import isaaclab.envs  # noqa: F401
    except ImportError:
        with pytest.raises(BackendUnavailable, match="not installed here; install"):
            make_backend({"backend": "isaaclab"}, 2, G1)


def test_sonic_train_cli_reports_backend_error(tmp_path, synthetic_motions):
    with pytest.raises(SystemExit) as exc:
        main(["+exp=manager/universal_token/all_modes/sonic_smoke", "sim=isaaclab", f"experiment_dir={tmp_path}",
              f"+motions={synthetic_motions}"])
    msg = str(exc.value)
    assert msg.startswith("sonic-train: sim=isaaclab") and "\n" not in msg


def test_unknown_sim_name_is_one_line(capsys):
    assert main(["sim=gazebo"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sonic-train: sim=gazebo: unknown simulator backend") and "\n" not in err
    assert "mujoco" in err and "isaaclab" in err


def test_help_and_config_dir(capsys):
    assert (config_dir() / "base.yaml").is_file()
    assert main(["--help"]) == 0
    assert "sonic-train" in capsys.readouterr().out
