"""The robot's DDS version against ours: the MuJoCo bridge on cyclonedds 0.10.2 (``.venv-dds010``, the version
Unitree's SDK pins) driven by the controller on the project's cyclonedds 11.0.1, through the real G1 DDS class.

Before the IDL described Unitree's one-byte fields as TK_BYTE (``sonic_deploy/dds/idl.py``), the 0.10.2 process
crashed (exit 139) in the type-lookup exchange on TK_UINT8. The test needs ``scripts/install_dds010.sh``; where
that environment is missing it is skipped with the reason. Loopback multicast is not needed: both sides use the
unicast peer list of :class:`~sonic_deploy.dds.channel.DdsConfig`.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from sonic_deploy.control.controller import Controller, ControllerConfig, Mode
from sonic_deploy.robots.g1 import G1
from sonic_deploy.robots.g1_dds import G1DdsRobot

ROOT = Path(__file__).resolve().parents[2]
PY010 = Path(os.environ.get("SONIC_DDS010_PYTHON", ROOT / ".venv-dds010" / "bin" / "python"))


def _dds010_version() -> str | None:
    if not PY010.exists():
        return None
    r = subprocess.run([str(PY010), "-c", "import importlib.metadata as m, sonic_deploy; print(m.version('cyclonedds'))"],
                       capture_output=True, text=True, timeout=60)
    return r.stdout.strip() if r.returncode == 0 else None


def test_bridge_on_cyclonedds_0_10_2_driven_from_11(dds_cfg):
    version = _dds010_version()
    if version != "0.10.2":
        pytest.skip(f"no cyclonedds 0.10.2 environment at {PY010} (found {version!r}): run scripts/install_dds010.sh "
                    "(needs Debian's cyclonedds-dev 0.10.2)")
    import importlib.metadata as md

    assert md.version("cyclonedds").startswith("11."), "the driver side is meant to run the project's cyclonedds 11"
    record = os.path.join(tempfile.mkdtemp(prefix="sonic_dds010_"), "traj.npz")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([str(PY010), "-m", "sonic_deploy.bridge", "--domain", str(dds_cfg.domain_id), "--lockstep",
                             "--idle-timeout", "3", "--record", record, "--quiet"], env=env, cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        robot = G1DdsRobot(dds_cfg, lockstep=True)
        assert robot.wait_connected(20.0), f"no LowState_ from the 0.10.2 bridge (exit {proc.poll()})"
        ctrl = Controller(G1, cfg=ControllerConfig(auto=True, damping_duration=0.1, ramp_duration=0.5))
        state = robot.read_state()
        for _ in range(75):  # 1.5 s: damping -> ramp -> hold the default pose
            now = state.tick / 1000.0
            state.timestamp = now
            robot.write_command(ctrl.step(state, now))
            state = robot.wait_state(state.tick, 3.0)
            assert state is not None, f"the 0.10.2 bridge stopped answering (exit {proc.poll()})"
    finally:
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, f"0.10.2 bridge exit {proc.returncode}: {err[-2000:]}"
    assert not ctrl.faults, ctrl.faults
    assert ctrl.mode == Mode.RAMP
    assert robot.stats.states_bad_crc == 0 and robot.stats.states_received >= 75
    rec = np.load(record)
    assert int(rec["commands_received"]) >= 75 and int(rec["commands_bad_crc"]) == 0
    assert rec["qpos"][-1][2] > 0.6  # standing on the held default pose
    np.testing.assert_allclose(state.q, G1.default_joint_pos, atol=0.15)
