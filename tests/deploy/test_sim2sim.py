"""Sim-to-sim: in-process run vs the same run through the DDS bridge (lock-step, loopback); the CLI."""

import json
import subprocess
import sys

import pytest

pytest.importorskip("onnx", reason="onnx (dev extra) builds the test policy")

from sonic_deploy.policy.testing import write_tracking_policy  # noqa: E402
from sonic_deploy.sim2sim import Sim2SimConfig, run_inprocess, run_through_dds  # noqa: E402

# Tolerances between the two runs: both quantise state and command to float32 as the wire does, so they
# should agree to rounding; these bounds leave room for platform differences, not for a different run.
TOL_MPJPE_MM = 1.0
TOL_JOINT_RAD = 1e-3


@pytest.fixture(scope="module")
def clip_path(tmp_path_factory):
    from sonic_deploy.motion.synth import synthesize_all

    out = tmp_path_factory.mktemp("clips")
    return synthesize_all(out, ["squat"])[0]


@pytest.fixture(scope="module")
def policy_path(tmp_path_factory):
    return write_tracking_policy(tmp_path_factory.mktemp("pol") / "policy.onnx")


def test_dds_lockstep_equals_inprocess(clip_path, policy_path, dds_cfg):
    cfg = Sim2SimConfig(duration=4.0, domain_id=dds_cfg.domain_id)  # active from 2.52 s (field configuration)
    a, _ = run_inprocess(policy_path, clip_path, cfg)
    cfg.through_dds = True
    b, _ = run_through_dds(policy_path, clip_path, cfg)
    assert a.completed and b.completed and a.ok and b.ok
    assert not a.fell and not b.fell
    assert [m for _, m in a.transitions] == [m for _, m in b.transitions] == ["damping", "ramp", "active"]
    assert [round(t, 6) for t, _ in a.transitions] == [round(t, 6) for t, _ in b.transitions]
    assert a.active_s == pytest.approx(b.active_s) and a.active_s > 1.0
    assert abs(a.mpjpe_global_mm - b.mpjpe_global_mm) < TOL_MPJPE_MM
    assert abs(a.mpjpe_root_mm - b.mpjpe_root_mm) < TOL_MPJPE_MM
    assert abs(a.joint_error_rad - b.joint_error_rad) < TOL_JOINT_RAD
    assert a.mpjpe_root_mm < 60.0 and a.joint_error_rad < 0.05  # it actually tracks the squat
    steps = int(round(4.0 / 0.02))
    assert b.dds["commands_sent"] == steps == b.dds["bridge_commands_received"]
    assert b.dds["states_bad_crc"] == 0 and b.dds["bridge_commands_bad_crc"] == 0
    assert b.dds["states_received"] >= steps


def test_cli_sim2sim_report_and_plot(clip_path, policy_path, tmp_path):
    report, plot = tmp_path / "r.json", tmp_path / "p.png"
    res = subprocess.run([sys.executable, "-m", "sonic_deploy.cli.deploy", "sim2sim", "--policy", str(policy_path),
                          "--motion", str(clip_path), "--duration", "2.5", "--report", str(report), "--plot", str(plot)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads(report.read_text())
    assert data["completed"] and not data["fell"] and data["faults"] == []
    assert plot.stat().st_size > 10_000
    assert "MPJPE" in res.stdout


def test_cli_refuses_bad_policy_with_exit_code(clip_path, tmp_path):
    bad = tmp_path / "bad.onnx"
    write_tracking_policy(bad, meta_override={"control_dt": 0.01})
    res = subprocess.run([sys.executable, "-m", "sonic_deploy.cli.deploy", "sim2sim", "--policy", str(bad),
                          "--motion", str(clip_path), "--duration", "1"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "control_dt" in res.stdout


def test_cli_help():
    for args in ([], ["sim2sim"], ["bridge"], ["inspect"]):
        res = subprocess.run([sys.executable, "-m", "sonic_deploy.cli.deploy", *args, "--help"], capture_output=True,
                             text=True, timeout=30)
        assert res.returncode == 0 and "usage: sonic-deploy" in res.stdout


def test_runtime_never_imports_torch():
    """The runtime's entry points load neither torch nor sonic_train (each module on its own:
    tests/foundation/test_imports.py; how fast they import is a benchmark's question, not a test's)."""
    code = ("import sys;"
            "import sonic_deploy.sim2sim, sonic_deploy.robots.g1_dds, sonic_deploy.bridge, sonic_deploy.cli.deploy;"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'sonic_train')];"
            "print(bad); assert not bad, bad")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
